/* bench_detector.c - window-statistics heads (band_stats + stats_head) and their sums with autoencoder scores, on eval_detector.sh's clips. */
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio_source.h"
#include "features/band_stats.h"
#include "features/features_file.h"
#include "model/stats_head.h"

/*
 * Usage: bench_detector --train LIST --clips DIR --out DIR [--window-frames N] [--bands N]
 *                       [--frame N_FFT HOP] [--fine N_FFT HOP] [--mod MIN_HZ MAX_HZ N]
 *                       [--only HEAD,...] [--ae NAME TEST.tsv TRAIN.tsv MFLOP MS]...
 *
 * Computes band_stats vectors of 2-s windows for the training recordings (LIST: one path a line)
 * and for every clip in DIR, fits one stats_head per feature part and reduction on the training
 * windows, and writes OUT/head_<name>.tsv ("path<TAB>score", what make_faults report reads) and
 * OUT/head_<name>.cost ("MFLOP ms_per_clip") for each head and for each sum of a head with an
 * autoencoder's scores (--ae: its scores of the same clips and, from models that did not train
 * on them, of the training recordings, as `auscult score` printed them; its MFLOP and its CPU ms
 * per 10-s clip), and OUT/head_<name>.train.tsv, each head's held-out training scores. --window-frames sets
 * the window (250 short frames = 2 s, the daemon's; 1249 = a whole 10-s clip), --bands the
 * linear bands, --frame the short frames, --fine the long-term spectrum's FFT and hop, --mod the
 * modulation frequencies; --only fits only the heads named (the full-covariance heads of a
 * 4096-point spectrum take minutes). A sum's ms adds its parts' (each counts its own WAV
 * decoding: an upper bound).
 *
 * A clip's head score is the mean of its windows' scores. Sums are of z-scores: each
 * score's log standardised by the mean and std of the same score over the TRAINING recordings
 * (a head's from fits that left each recording out; an autoencoder's from the folds of
 * eval_detector.sh, models trained without them), so neither head's scale decides and no
 * held-out clip is used to calibrate. A score a model gives its own training recordings is far
 * smaller than a new normal's, and would inflate that part's z on every clip.
 */

#define MAX_AE 8 /* eval_detector.sh passes one per recipe */
#define MAX_CLIPS 2048
#define BLOCK 8192

struct part {
	const char *name;
	uint32_t offset, dim;
	double mflop; /* per 10-s clip, this part's front end */
};

struct clipset {
	size_t n;
	char **paths;
	float *vectors;   /* n x windows x dim */
	uint32_t windows; /* per clip (the same for every 10-s clip) */
};

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Streams one file through bs; writes up to max_windows vectors. Returns windows, or -1. */
static int file_windows(struct band_stats *bs, const char *path, float *out, uint32_t max_windows)
{
	static float block[BLOCK];
	static float scratch[64 * 4096];
	struct audio_source_config cfg;
	struct audio_source *src = NULL;
	struct auscult_err err;
	audio_source_config_defaults(&cfg);
	cfg.path = path;
	cfg.output_rate_hz = bs->cfg.sample_rate_hz;
	if (audio_source_open(&src, &cfg, &err) != AUSCULT_OK) {
		fprintf(stderr, "bench_detector: %s\n", err.msg);
		return -1;
	}
	band_stats_reset(bs);
	uint32_t got_windows = 0;
	for (;;) {
		size_t got = 0;
		int st = audio_source_read(src, block, BLOCK, &got, 1000, &err);
		if (st == AUSCULT_ERR_EOF)
			break;
		if (st != AUSCULT_OK) {
			fprintf(stderr, "bench_detector: %s\n", err.msg);
			audio_source_close(src);
			return -1;
		}
		size_t w = band_stats_process(bs, block, got, scratch);
		for (size_t i = 0; i < w && got_windows < max_windows; i++)
			memcpy(out + (size_t)(got_windows++) * bs->dim, scratch + i * bs->dim,
			       bs->dim * sizeof(float));
	}
	audio_source_close(src);
	return (int)got_windows;
}

/* Within-window contrasts: recordings differ from each other far more than a weak fault changes
 * one, so compare each value with its own neighbours. peak: fine dB minus the mean of bins
 * 3..12 away on both sides; prom: modulation dB minus the band's mean over frequencies. */
#define PEAK_NEAR 3
#define PEAK_FAR 12
static void derive(const struct band_stats *bs, const float *v, float *d)
{
	uint32_t nf = bs->n_fine, nb = bs->cfg.n_bands, nm = bs->cfg.n_mod;
	for (uint32_t k = 0; k < nf; k++) {
		double s = 0;
		int c = 0;
		for (int o = PEAK_NEAR; o <= PEAK_FAR; o++) {
			if ((int)k - o >= 0) {
				s += v[k - o];
				c++;
			}
			if (k + o < nf) {
				s += v[k + o];
				c++;
			}
		}
		d[k] = v[k] - (float)(s / c);
	}
	const float *mod = v + band_stats_offset_mod(bs);
	for (uint32_t b = 0; b < nb; b++) {
		double s = 0;
		for (uint32_t m = 0; m < nm; m++)
			s += mod[b * nm + m];
		for (uint32_t m = 0; m < nm; m++)
			d[nf + b * nm + m] = mod[b * nm + m] - (float)(s / nm);
	}
}

/*
 * Window statistics of the autoencoder's own log-mel frames (no transform of their own): the
 * 128 mel bands pooled in groups of MEL_POOL, each group's mean and std of dB over the window's
 * frames. What a second head costs when it reuses the front end the daemon already runs.
 */
#define MEL_POOL 4
#define MEL_GROUPS (128 / MEL_POOL)

static uint32_t derived_dim(const struct band_stats *bs)
{
	return bs->n_fine + bs->cfg.n_bands * bs->cfg.n_mod + 2 * MEL_GROUPS;
}

/* Appends each window's log-mel statistics at out + w * wide (the window's mel frames are those
 * its short frames span). */
static int mel_stats(const struct band_stats *bs, const char *path, uint32_t windows, float *out,
		     uint32_t wide)
{
	struct feature_params fp;
	struct auscult_err err;
	float *frames = NULL;
	size_t n_frames = 0;
	feature_params_defaults(&fp);
	if (features_from_file(path, &fp, &frames, &n_frames, &err) != AUSCULT_OK) {
		fprintf(stderr, "bench_detector: %s\n", err.msg);
		return -1;
	}
	size_t per = (size_t)bs->cfg.window_frames * bs->cfg.hop / fp.hop_length;
	for (uint32_t w = 0; w < windows; w++) {
		float *o = out + (size_t)w * wide;
		for (uint32_t g = 0; g < MEL_GROUPS; g++) {
			double s = 0, ss = 0;
			size_t c = 0;
			for (size_t t = w * per; t < (w + 1) * per && t < n_frames; t++)
				for (uint32_t k = 0; k < MEL_POOL; k++) {
					double v = frames[t * fp.n_mels + g * MEL_POOL + k];
					s += v;
					ss += v * v;
					c++;
				}
			double m = c ? s / c : 0.0, var = c ? ss / c - m * m : 0.0;
			o[g] = (float)m;
			o[MEL_GROUPS + g] = (float)sqrt(var > 0 ? var : 0);
		}
	}
	free(frames);
	return 0;
}

static int load_set(struct band_stats *bs, struct clipset *set, uint32_t windows, double *ms)
{
	set->windows = windows;
	set->vectors = calloc(set->n * windows * (size_t)bs->dim, sizeof(float));
	if (!set->vectors)
		return -1;
	double t0 = cpu_ms();
	for (size_t i = 0; i < set->n; i++) {
		int w = file_windows(bs, set->paths[i],
				     set->vectors + i * windows * (size_t)bs->dim, windows);
		if (w < (int)windows) {
			if (w >= 0)
				fprintf(stderr,
					"bench_detector: %s: %d windows, expected %u (10-s clips)\n",
					set->paths[i], w, windows);
			return -1;
		}
	}
	if (ms)
		*ms = (cpu_ms() - t0) / (double)set->n;
	/* widen each vector by its derived contrasts: [band_stats | peak | prom] */
	uint32_t dd = derived_dim(bs), wide = bs->dim + dd;
	float *w = calloc(set->n * windows * (size_t)wide, sizeof(float));
	if (!w)
		return -1;
	for (size_t i = 0; i < set->n * windows; i++) {
		memcpy(w + i * wide, set->vectors + i * bs->dim, bs->dim * sizeof(float));
		derive(bs, set->vectors + i * bs->dim, w + i * wide + bs->dim);
	}
	for (size_t i = 0; i < set->n; i++)
		if (mel_stats(bs, set->paths[i], windows,
			      w + i * windows * wide + wide - 2 * MEL_GROUPS, wide) != 0) {
			free(w);
			return -1;
		}
	free(set->vectors);
	set->vectors = w;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *dir, struct clipset *set)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "bench_detector: %s: cannot open folder\n", dir);
		return -1;
	}
	set->paths = calloc(MAX_CLIPS, sizeof(char *));
	struct dirent *e;
	while (set->paths && (e = readdir(d)) && set->n < MAX_CLIPS) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".wav") != 0)
			continue;
		size_t size = strlen(dir) + len + 2;
		set->paths[set->n] = malloc(size);
		if (set->paths[set->n])
			snprintf(set->paths[set->n++], size, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (!set->paths || set->n == 0)
		return -1;
	qsort(set->paths, set->n, sizeof(char *), cmp_str);
	return 0;
}

static int read_list(const char *file, struct clipset *set)
{
	FILE *f = fopen(file, "r");
	char line[4096];
	if (!f) {
		fprintf(stderr, "bench_detector: %s: cannot open\n", file);
		return -1;
	}
	set->paths = calloc(MAX_CLIPS, sizeof(char *));
	while (set->paths && set->n < MAX_CLIPS && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			set->paths[set->n++] = strdup(line);
	}
	fclose(f);
	return set->paths && set->n ? 0 : -1;
}

/* Scores of path (basename match) from an `auscult score` TSV; NAN where missing. */
static int read_scores(const char *file, const struct clipset *set, double *out)
{
	FILE *f = fopen(file, "r");
	char line[4096];
	if (!f) {
		fprintf(stderr, "bench_detector: %s: cannot open\n", file);
		return -1;
	}
	for (size_t i = 0; i < set->n; i++)
		out[i] = NAN;
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		const char *base = strrchr(line, '/');
		base = base ? base + 1 : line;
		for (size_t i = 0; i < set->n; i++) {
			const char *b = strrchr(set->paths[i], '/');
			if (strcmp(b ? b + 1 : set->paths[i], base) == 0)
				out[i] = strtod(tab + 1, NULL);
		}
	}
	fclose(f);
	for (size_t i = 0; i < set->n; i++)
		if (isnan(out[i])) {
			fprintf(stderr, "bench_detector: %s: no score for %s\n", file,
				set->paths[i]);
			return -1;
		}
	return 0;
}

/* Mean and std of log(x) over n values. */
static void log_moments(const double *x, size_t n, double *mean, double *std)
{
	double s = 0, ss = 0;
	for (size_t i = 0; i < n; i++) {
		double l = log(x[i] > 1e-30 ? x[i] : 1e-30);
		s += l;
		ss += l * l;
	}
	*mean = s / (double)n;
	double var = ss / (double)n - *mean * *mean;
	*std = sqrt(var > 1e-12 ? var : 1e-12);
}

static double zlog(double x, double mean, double std)
{
	return (log(x > 1e-30 ? x : 1e-30) - mean) / std;
}

/* OUT/head_<name><suffix>: "path<TAB>score" lines of set. 0 or -1. */
static int write_scores(const char *dir, const char *name, const char *suffix,
			const struct clipset *set, const double *scores)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/head_%s%s", dir, name, suffix);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	for (size_t i = 0; i < set->n; i++)
		fprintf(f, "%s\t%.6g\n", set->paths[i], scores[i]);
	return fclose(f) == 0 ? 0 : -1;
}

/* OUT/head_<name>.train.tsv: each training recording's score from a fit that left it out, the
 * scores a combination calibrates on (what a held-out normal scores). */
static int write_train(const char *dir, const char *name, const struct clipset *train,
		       const double *scores)
{
	return write_scores(dir, name, ".train.tsv", train, scores);
}

static int write_out(const char *dir, const char *name, const struct clipset *set,
		     const double *scores, double mflop, double ms)
{
	if (write_scores(dir, name, ".tsv", set, scores) != 0)
		return -1;
	char path[4096];
	snprintf(path, sizeof(path), "%s/head_%s.cost", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	if (ms >= 0)
		fprintf(f, "%.1f %.2f\n", mflop, ms);
	else
		fprintf(f, "%.1f -\n", mflop);
	return fclose(f) == 0 ? 0 : -1;
}

/* Clip scores (mean of window scores) of one head on a set: the clip's windows' mean score. */
static void head_scores(struct stats_head *h, const struct part *p, const struct clipset *set,
			uint32_t dim, float *tmp, double *out, double *window_out)
{
	for (size_t i = 0; i < set->n; i++) {
		double s = 0;
		for (uint32_t w = 0; w < set->windows; w++) {
			const float *v = set->vectors + (i * set->windows + w) * (size_t)dim;
			memcpy(tmp, v + p->offset, p->dim * sizeof(float));
			double sw = stats_head_score(h, tmp);
			if (window_out)
				window_out[i * set->windows + w] = sw;
			s += sw;
		}
		out[i] = s / set->windows;
	}
}

/*
 * Nearest-neighbour head: a window's score is its smallest mean squared standardised distance to
 * any training window of another clip (the training recordings differ among themselves more
 * than a weak fault changes one, so "like some normal recording" may beat "like the average").
 */
static void knn_scores(const struct stats_head *h, const struct part *p,
		       const struct clipset *train, const struct clipset *set, int same_set,
		       uint32_t wide, double *out)
{
	uint32_t W = set->windows;
	for (size_t i = 0; i < set->n; i++) {
		double s = 0;
		for (uint32_t w = 0; w < W; w++) {
			const float *v = set->vectors + (i * W + w) * (size_t)wide + p->offset;
			double best = INFINITY;
			for (size_t j = 0; j < train->n; j++) {
				if (same_set && j == i)
					continue;
				for (uint32_t u = 0; u < W; u++) {
					const float *t = train->vectors +
							 (j * W + u) * (size_t)wide + p->offset;
					double d = 0;
					for (uint32_t k = 0; k < p->dim && d < best * p->dim; k++) {
						double z = (v[k] - t[k]) * h->inv_std[k];
						d += z * z;
					}
					d /= p->dim;
					if (d < best)
						best = d;
				}
			}
			s += best;
		}
		out[i] = s / W;
	}
}

/* The heads tried: a feature part and a model (diagonal, top share of z^2 or of rises only,
 * full covariance, k-NN). */
static const struct head_spec {
	const char *name, *part;
	float top_fraction, shrinkage;
	int knn, rise_only;
} HEADS[] = {
	{ "fine-top", "fine", 0.02f, -1.0f, 0, 0 },
	{ "fine-full", "fine", 1.0f, 0.03f, 0, 0 },
	{ "peak-top", "peak", 0.02f, -1.0f, 0, 0 },
	{ "peak-full", "peak", 1.0f, 0.03f, 0, 0 },
	{ "mean-full", "mean", 1.0f, 0.03f, 0, 0 },
	{ "spread-full", "spread", 1.0f, 0.03f, 0, 0 },
	{ "meanspread-diag", "meanspread", 1.0f, -1.0f, 0, 0 },
	{ "meanspread-full", "meanspread", 1.0f, 0.03f, 0, 0 },
	{ "meanspread-knn", "meanspread", 1.0f, -1.0f, 1, 0 },
	{ "mod-diag", "mod", 1.0f, -1.0f, 0, 0 },
	{ "prom-diag", "prom", 1.0f, -1.0f, 0, 0 },
	{ "mel-diag", "mel", 1.0f, -1.0f, 0, 0 },
	{ "mel-full", "mel", 1.0f, 0.03f, 0, 0 },
	{ "fine-rise", "fine", 0.02f, -1.0f, 0, 1 },
	{ "peak-rise", "peak", 0.02f, -1.0f, 0, 1 },
	{ "mod-rise", "mod", 0.02f, -1.0f, 0, 1 },
	{ "prom-rise", "prom", 0.02f, -1.0f, 0, 1 },
	{ "mean-rise", "mean", 0.1f, -1.0f, 0, 1 },
};
#define N_HEADS (sizeof(HEADS) / sizeof(HEADS[0]))

/* Sums of an autoencoder's z with two heads' z, beside the pairs (chosen on tuning families). */
static const char *const TRIPLES[][2] = {
	{ "meanspread-full", "mod-diag" }, { "meanspread-full", "fine-top" },
	{ "mel-full", "mod-diag" },        { "meanspread-full", "mod-rise" },
	{ "mod-rise", "peak-rise" },
};

/*
 * Maxima of an autoencoder's z with up to three heads' z: each head sees its own kind of fault
 * (envelope spectra the periodic impacts, peaks the new tones, band means a hiss), so a fault
 * that lights one head is not averaged away by the others, as it is in a sum.
 */
#define MAX_HEADS_IN_MAX 3
static const char *const MAXES[][MAX_HEADS_IN_MAX] = {
	{ "mod-rise", "peak-rise", NULL },
	{ "mod-rise", "mean-full", NULL },
	{ "mod-rise", "peak-rise", "mean-full" },
	{ "mod-diag", "peak-rise", "prom-rise" },
};

/*
 * Gated sums, what a pipeline can add to its window score without refitting the rest: each
 * rise head's window score standardised by its windows on recordings its fit left out, and
 * only what exceeds GATE_Z counted, GATE_WEIGHT times. A normal window seldom passes the gate,
 * so the autoencoder's score (and its threshold) is left nearly as it was; a window the head
 * hears adds to it. A clip's gated part is the mean over its windows.
 */
#define GATE_Z 1.0
#define GATE_WEIGHT 2.0
static const char *const GATES[][MAX_HEADS_IN_MAX] = {
	{ "mod-rise", "peak-rise", NULL },
	{ "mod-rise", NULL, NULL },
	{ "peak-rise", NULL, NULL },
};

/* For each clip of set, the mean over its windows of max(0, z - GATE_Z), z a window score of
 * test_win standardised by the mean and std of the n_train held-out training windows. */
static void gate_scores(const double *train_win, size_t n_train, const double *test_win,
			const struct clipset *set, double *out)
{
	double s = 0, ss = 0;
	for (size_t i = 0; i < n_train; i++) {
		s += train_win[i];
		ss += train_win[i] * train_win[i];
	}
	double mean = s / (double)n_train, var = ss / (double)n_train - mean * mean;
	double sd = sqrt(var > 1e-12 ? var : 1e-12);
	for (size_t i = 0; i < set->n; i++) {
		double g = 0;
		for (uint32_t w = 0; w < set->windows; w++) {
			double z = (test_win[i * set->windows + w] - mean) / sd;
			g += z > GATE_Z ? z - GATE_Z : 0.0;
		}
		out[i] = g / set->windows;
	}
}

/* Whether name is one of the comma-separated names of list. */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* Index of the head called name in HEADS, or N_HEADS. */
static size_t head_index(const char *name)
{
	size_t hh = 0;
	while (hh < N_HEADS && strcmp(HEADS[hh].name, name) != 0)
		hh++;
	return hh;
}

/* Fits a head on the training windows of every clip but skip (skip = train->n: all of them). */
static int fit_head(struct stats_head *h, const struct head_spec *hs, const struct part *p,
		    const struct clipset *train, size_t skip, uint32_t wide,
		    struct auscult_err *err)
{
	struct stats_head_config hc;
	stats_head_config_defaults(&hc);
	hc.dim = p->dim;
	hc.top_fraction = hs->top_fraction * p->dim < 1.0f ? 1.0f / p->dim : hs->top_fraction;
	hc.shrinkage = hs->shrinkage;
	hc.rise_only = hs->rise_only;
	int st = stats_head_init(h, &hc, err);
	if (st != AUSCULT_OK)
		return st;
	for (size_t i = 0; i < train->n * train->windows; i++)
		if (i / train->windows != skip)
			stats_head_add(h, train->vectors + i * wide + p->offset);
	return stats_head_fit(h, err);
}

/*
 * Each training clip's score from a head fitted without it: in-sample scores of a full model
 * are far too small (it has fitted their noise), which would make its z-scores, and so its
 * weight in a sum, far too large.
 */
static int loo_scores(const struct head_spec *hs, const struct part *p, const struct clipset *train,
		      uint32_t wide, float *tmp, double *out, double *window_out,
		      struct auscult_err *err)
{
	struct clipset one = *train;
	one.n = 1;
	for (size_t j = 0; j < train->n; j++) {
		struct stats_head h;
		if (fit_head(&h, hs, p, train, j, wide, err) != AUSCULT_OK) {
			stats_head_free(&h);
			return -1;
		}
		one.paths = train->paths + j;
		one.vectors = train->vectors + j * train->windows * (size_t)wide;
		head_scores(&h, p, &one, wide, tmp, out + j,
			    window_out ? window_out + j * train->windows : NULL);
		stats_head_free(&h);
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median CPU ms of band_stats over 10 s of noise in memory (no decoding), 15 rounds. */
static double front_end_ms(const struct band_stats_config *cfg)
{
	enum { ROUNDS = 15 };
	struct band_stats bs;
	size_t n = 10 * (size_t)cfg->sample_rate_hz;
	float *x = malloc(n * sizeof(float));
	double t[ROUNDS];
	if (!x || band_stats_init(&bs, cfg, NULL) != AUSCULT_OK) {
		free(x);
		return NAN;
	}
	float *out = malloc(band_stats_max_windows(&bs, n) * bs.dim * sizeof(float));
	uint32_t r = 1;
	for (size_t i = 0; i < n; i++) {
		r = r * 1664525u + 1013904223u;
		x[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
	}
	for (int k = 0; out && k < ROUNDS; k++) {
		band_stats_reset(&bs);
		double t0 = cpu_ms();
		band_stats_process(&bs, x, n, out);
		t[k] = cpu_ms() - t0;
	}
	qsort(t, ROUNDS, sizeof(double), cmp_double);
	double ms = out ? t[ROUNDS / 2] : NAN;
	free(out);
	free(x);
	band_stats_free(&bs);
	return ms;
}

static void clipset_free(struct clipset *set)
{
	for (size_t i = 0; set->paths && i < set->n; i++)
		free(set->paths[i]);
	free(set->paths);
	free(set->vectors);
}

static int uses_short(const char *part)
{
	return strcmp(part, "fine") != 0 && strcmp(part, "peak") != 0 && strcmp(part, "mel") != 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_detector --train LIST --clips DIR --out DIR [--window-frames N]"
		" [--bands N] [--frame N_FFT HOP] [--fine N_FFT HOP] [--mod MIN_HZ MAX_HZ N]"
		" [--only HEAD,...]"
		" [--ae NAME TEST.tsv TRAIN.tsv MFLOP MS]...\n");
}

int main(int argc, char **argv)
{
	const char *train_list = NULL, *clip_dir = NULL, *out_dir = NULL;
	const char *ae_name[MAX_AE], *ae_test[MAX_AE], *ae_train[MAX_AE];
	double ae_mflop[MAX_AE], ae_ms[MAX_AE];
	int n_ae = 0;
	const char *only = NULL; /* comma-separated head names: fit only these */
	struct band_stats_config cfg;
	band_stats_config_defaults(&cfg);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--train") == 0 && i + 1 < argc)
			train_list = argv[++i];
		else if (strcmp(argv[i], "--clips") == 0 && i + 1 < argc)
			clip_dir = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out_dir = argv[++i];
		else if (strcmp(argv[i], "--window-frames") == 0 && i + 1 < argc)
			cfg.window_frames = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--bands") == 0 && i + 1 < argc)
			cfg.n_bands = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--frame") == 0 && i + 2 < argc) {
			cfg.n_fft = (uint32_t)strtoul(argv[++i], NULL, 10);
			cfg.hop = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(argv[i], "--fine") == 0 && i + 2 < argc) {
			cfg.fine_n_fft = (uint32_t)strtoul(argv[++i], NULL, 10);
			cfg.fine_hop = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--mod") == 0 && i + 3 < argc) {
			cfg.mod_min_hz = strtof(argv[++i], NULL);
			cfg.mod_max_hz = strtof(argv[++i], NULL);
			cfg.n_mod = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--ae") == 0 && n_ae == MAX_AE) {
			fprintf(stderr, "bench_detector: at most %d --ae\n", MAX_AE);
			return 2;
		} else if (strcmp(argv[i], "--ae") == 0 && i + 5 < argc) {
			ae_name[n_ae] = argv[i + 1];
			ae_test[n_ae] = argv[i + 2];
			ae_train[n_ae] = argv[i + 3];
			ae_mflop[n_ae] = atof(argv[i + 4]);
			ae_ms[n_ae++] = atof(argv[i + 5]);
			i += 5;
		} else {
			usage();
			return 2;
		}
	}
	if (!train_list || !clip_dir || !out_dir) {
		usage();
		return 2;
	}

	struct band_stats bs;
	struct auscult_err err;
	if (band_stats_init(&bs, &cfg, &err) != AUSCULT_OK) {
		fprintf(stderr, "bench_detector: %s\n", err.msg);
		return 1;
	}
	/* whole windows in a 10-s clip (1249 short frames at the defaults) */
	uint32_t windows = (uint32_t)((10 * cfg.sample_rate_hz - cfg.n_fft) / cfg.hop + 1) /
			   cfg.window_frames;
	if (windows == 0) {
		fprintf(stderr, "bench_detector: --window-frames %u is longer than a 10-s clip\n",
			cfg.window_frames);
		return 2;
	}
	struct clipset train = { 0 }, test = { 0 };
	double front_ms = 0;
	if (read_list(train_list, &train) != 0 || list_dir(clip_dir, &test) != 0 ||
	    load_set(&bs, &train, windows, NULL) != 0 ||
	    load_set(&bs, &test, windows, &front_ms) != 0)
		return 1;
	uint32_t wide = bs.dim + derived_dim(&bs);

	/* Each part's front-end cost: the whole minus the configs without it. */
	struct band_stats_config no_fine = cfg, no_mod = cfg;
	no_fine.fine_n_fft = 0;
	no_mod.n_mod = 0;
	double all_mf = band_stats_flops_per_s(&cfg) * 10 / 1e6;
	double fine_mf = all_mf - band_stats_flops_per_s(&no_fine) * 10 / 1e6;
	double mod_mf = all_mf - band_stats_flops_per_s(&no_mod) * 10 / 1e6;
	double short_mf = all_mf - fine_mf - mod_mf;
	const struct part parts[] = {
		{ "fine", 0, bs.n_fine, fine_mf },
		{ "mean", band_stats_offset_mean(&bs), cfg.n_bands, short_mf },
		{ "spread", band_stats_offset_spread(&bs), cfg.n_bands, short_mf },
		{ "meanspread", band_stats_offset_mean(&bs), 2 * cfg.n_bands, short_mf },
		{ "mod", band_stats_offset_mod(&bs), cfg.n_bands * cfg.n_mod, short_mf + mod_mf },
		{ "peak", bs.dim, bs.n_fine, fine_mf },
		{ "prom", bs.dim + bs.n_fine, cfg.n_bands * cfg.n_mod, short_mf + mod_mf },
		/* on the autoencoder's log-mel frames: 2 FLOP per value per frame, 313 frames */
		{ "mel", wide - 2 * MEL_GROUPS, 2 * MEL_GROUPS, 313.0 * 128 * 4 / 1e6 },
	};
	printf("bench_detector: band_stats %u features per %.1f-s window (fine %u, band mean %u,"
	       " spread %u, modulation %u), %u windows per clip; %zu training clips, %zu clips;"
	       " front end %.1f MFLOP per 10-s clip (fine spectrum %.1f, bands %.1f, modulation"
	       " %.1f), %.2f ms CPU per clip for all of it (WAV decoding included)\n",
	       bs.dim, cfg.window_frames * (double)cfg.hop / cfg.sample_rate_hz, bs.n_fine,
	       cfg.n_bands, cfg.n_bands, cfg.n_bands * cfg.n_mod, windows, train.n, test.n, all_mf,
	       fine_mf, short_mf, mod_mf, front_ms);

	struct band_stats_config bands_only = cfg;
	bands_only.fine_n_fft = 0;
	bands_only.n_mod = 0;
	printf("bench_detector: band_stats alone on 10 s in memory (median of 15, CPU): %.3f ms all"
	       " parts, %.3f ms band mean and spread only\n",
	       front_end_ms(&cfg), front_end_ms(&bands_only));

	double *tr = malloc(train.n * sizeof(double)), *te = malloc(test.n * sizeof(double));
	double *ae_tr = malloc(train.n * sizeof(double)), *comb = malloc(test.n * sizeof(double));
	double *zh = malloc(N_HEADS * test.n * sizeof(double));
	double *za = malloc((size_t)(n_ae ? n_ae : 1) * test.n * sizeof(double));
	double *ae_raw = malloc((size_t)(n_ae ? n_ae : 1) * test.n * sizeof(double));
	double *gated = calloc(N_HEADS * test.n, sizeof(double));
	double *tr_win = malloc(train.n * train.windows * sizeof(double));
	double *te_win = malloc(test.n * test.windows * sizeof(double));
	double head_mf[N_HEADS], head_ms[N_HEADS];
	float *tmp = malloc(wide * sizeof(float));
	if (!tr || !te || !ae_tr || !comb || !zh || !za || !ae_raw || !gated || !tr_win ||
	    !te_win || !tmp)
		return 1;
	for (int a = 0; a < n_ae; a++) {
		double m, sd;
		if (read_scores(ae_test[a], &test, za + a * test.n) != 0 ||
		    read_scores(ae_train[a], &train, ae_tr) != 0)
			return 1;
		memcpy(ae_raw + a * test.n, za + a * test.n, test.n * sizeof(double));
		log_moments(ae_tr, train.n, &m, &sd);
		for (size_t i = 0; i < test.n; i++)
			za[a * test.n + i] = zlog(za[a * test.n + i], m, sd);
	}
	bool fitted[N_HEADS];
	for (size_t hh = 0; hh < N_HEADS; hh++) {
		const struct head_spec *hs = &HEADS[hh];
		fitted[hh] = !only || listed(only, hs->name);
		if (!fitted[hh])
			continue;
		const struct part *p = NULL;
		for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
			if (strcmp(parts[k].name, hs->part) == 0)
				p = &parts[k];
		struct stats_head h;
		if (fit_head(&h, hs, p, &train, train.n, wide, &err) != AUSCULT_OK)
			goto head_fail;
		double t0 = cpu_ms();
		if (hs->knn)
			knn_scores(&h, p, &train, &test, 0, wide, te);
		else
			head_scores(&h, p, &test, wide, tmp, te, te_win);
		head_ms[hh] = front_ms + (cpu_ms() - t0) / (double)test.n;
		if (hs->knn)
			knn_scores(&h, p, &train, &train, 1, wide, tr);
		else if (loo_scores(hs, p, &train, wide, tmp, tr, tr_win, &err) != 0)
			goto head_fail;
		if (hs->rise_only)
			gate_scores(tr_win, train.n * train.windows, te_win, &test,
				    gated + hh * test.n);
		/* the head's own work per window: z (3 per feature), then d or d^2 MACs, or one
		 * distance per training window for k-NN */
		double per_window = hs->knn              ? 3.0 * p->dim * train.n * windows
				    : hs->shrinkage >= 0 ? 3.0 * p->dim + 2.0 * p->dim * p->dim
							 : 5.0 * p->dim;
		head_mf[hh] = p->mflop + per_window * windows *
						 (10.0 * cfg.sample_rate_hz /
						  (windows * cfg.window_frames * (double)cfg.hop)) /
						 1e6;
		stats_head_free(&h);
		if (write_out(out_dir, hs->name, &test, te, head_mf[hh], head_ms[hh]) != 0 ||
		    write_train(out_dir, hs->name, &train, tr) != 0)
			return 1;
		double m, sd;
		log_moments(tr, train.n, &m, &sd);
		for (size_t i = 0; i < test.n; i++)
			zh[hh * test.n + i] = zlog(te[i], m, sd);
		continue;
	head_fail:
		fprintf(stderr, "bench_detector: %s: %s\n", hs->name, err.msg);
		stats_head_free(&h);
		return 1;
	}

	/* Sums of z-scores: an autoencoder with each head, and with the chosen pairs of heads. */
	size_t n_sums = 0;
	for (int a = 0; a < n_ae; a++) {
		for (size_t hh = 0; hh < N_HEADS; hh++) {
			char name[256];
			if (!fitted[hh])
				continue;
			for (size_t i = 0; i < test.n; i++)
				comb[i] = za[a * test.n + i] + zh[hh * test.n + i];
			snprintf(name, sizeof(name), "%s+%s", ae_name[a], HEADS[hh].name);
			if (write_out(out_dir, name, &test, comb, ae_mflop[a] + head_mf[hh],
				      ae_ms[a] + head_ms[hh]) != 0)
				return 1;
			n_sums++;
		}
		for (size_t t = 0; t < sizeof(TRIPLES) / sizeof(TRIPLES[0]); t++) {
			size_t h1 = N_HEADS, h2 = N_HEADS;
			for (size_t hh = 0; hh < N_HEADS; hh++) {
				if (strcmp(HEADS[hh].name, TRIPLES[t][0]) == 0)
					h1 = hh;
				if (strcmp(HEADS[hh].name, TRIPLES[t][1]) == 0)
					h2 = hh;
			}
			if (h1 == N_HEADS || h2 == N_HEADS || !fitted[h1] || !fitted[h2])
				continue;
			char name[256];
			for (size_t i = 0; i < test.n; i++)
				comb[i] = za[a * test.n + i] + zh[h1 * test.n + i] +
					  zh[h2 * test.n + i];
			snprintf(name, sizeof(name), "%s+%s+%s", ae_name[a], TRIPLES[t][0],
				 TRIPLES[t][1]);
			/* heads that both use the short frames share them: count them once */
			double mf = ae_mflop[a] + head_mf[h1] + head_mf[h2] -
				    (uses_short(HEADS[h1].part) && uses_short(HEADS[h2].part)
					     ? short_mf
					     : 0.0);
			if (write_out(out_dir, name, &test, comb, mf,
				      ae_ms[a] + head_ms[h1] + head_ms[h2] - front_ms) != 0)
				return 1;
			n_sums++;
		}
	}
	/* Maxima of z-scores, and gated sums: an autoencoder's own clip score plus GATE_WEIGHT x
	 * each rise head's gated windows, as a pipeline would add them window by window (a clip's
	 * score is its windows' mean, so the autoencoder's part is its clip score exactly). */
	for (int gate = 0; gate <= 1; gate++) {
		const char *const(*table)[MAX_HEADS_IN_MAX] = gate ? GATES : MAXES;
		size_t n_table = gate ? sizeof(GATES) / sizeof(GATES[0])
				      : sizeof(MAXES) / sizeof(MAXES[0]);
		for (int a = 0; a < n_ae; a++) {
			for (size_t t = 0; t < n_table; t++) {
				char name[256];
				int len = snprintf(name, sizeof(name), "%s:%s",
						   gate ? "gate" : "max", ae_name[a]);
				double mf = ae_mflop[a], ms = ae_ms[a];
				int shorts = 0, known = 1;
				for (size_t i = 0; i < test.n; i++)
					comb[i] = gate ? ae_raw[a * test.n + i]
						       : za[a * test.n + i];
				for (int k = 0; k < MAX_HEADS_IN_MAX && table[t][k]; k++) {
					size_t hh = head_index(table[t][k]);
					if (hh == N_HEADS || !fitted[hh] ||
					    (gate && !HEADS[hh].rise_only)) {
						known = 0;
						break;
					}
					for (size_t i = 0; i < test.n; i++)
						comb[i] =
							gate ? comb[i] + GATE_WEIGHT *
										 gated[hh * test.n +
										       i]
							     : fmax(comb[i], zh[hh * test.n + i]);
					len += snprintf(name + len, sizeof(name) - (size_t)len,
							"+%s", table[t][k]);
					/* the front end runs once: each further head adds its own
					 * work */
					mf += head_mf[hh] - (uses_short(HEADS[hh].part) && shorts++
								     ? short_mf
								     : 0.0);
					ms += head_ms[hh] - (k > 0 ? front_ms : 0.0);
				}
				if (!known)
					continue;
				if (write_out(out_dir, name, &test, comb, mf, ms) != 0)
					return 1;
				n_sums++;
			}
		}
	}

	size_t n_fitted = 0;
	for (size_t hh = 0; hh < N_HEADS; hh++)
		n_fitted += fitted[hh];
	printf("bench_detector: wrote %zu heads and %zu sums and maxima to %s\n", n_fitted, n_sums,
	       out_dir);
	band_stats_free(&bs);
	clipset_free(&train);
	clipset_free(&test);
	free(tr);
	free(te);
	free(ae_tr);
	free(ae_raw);
	free(gated);
	free(tr_win);
	free(te_win);
	free(comb);
	free(zh);
	free(za);
	free(tmp);
	return 0;
}
