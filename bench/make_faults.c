/* make_faults.c - seeded synthetic machine faults mixed into real recordings, and the AUC table that scores them. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_source.h"
#include "train/metrics.h"

/*
 * Two subcommands, used by bench/eval_detector.sh:
 *
 *   make_faults synth --seed N --out DIR SOURCE.wav...
 *     For every source recording, every fault family and every level, writes
 *     DIR/fault_<family>_<level>_<source stem>.wav: the source plus the family's fault signal at
 *     the level's fault-to-recording RMS ratio, the mix rescaled to the source's RMS (loudness
 *     gives nothing away). A fault's pattern depends on (seed, family, source) only, so the
 *     three levels of one source hold the same fault at three gains.
 *
 *   make_faults report --name NAME SCORES.tsv
 *     Reads "path<TAB>score..." lines (what `auscult score` prints), labels each file by its name
 *     (normal_*, anomaly_*, fault_<family>_<level>_*) and prints ROC AUC and pAUC (max FPR 0.1)
 *     of every family and level against all the normals, the tuning and report groups, the
 *     stationary and transient kinds, each level, overall, and the real anomaly's rank among
 *     the normals; then one "summary" line for the script's comparison table.
 */

#define RATE_HZ 16000
#define PI 3.14159265358979323846

enum kind { STATIONARY, TRANSIENT };
enum group { TUNING, REPORT };

struct family {
	const char *name;
	enum kind kind;
	enum group group; /* tuning: features may be chosen on it; report: never looked at while
			     choosing, so it shows whether a choice generalises */
	const char *what;
};

/* Keep the order: a fault's seed mixes in the family index. */
static const struct family FAMILIES[] = {
	{ "harmonics", STATIONARY, TUNING, "a new harmonic set (f0 200-1200 Hz, 3-6 partials)" },
	{ "bearing", STATIONARY, TUNING,
	  "periodic resonant impacts (8-40 /s exciting a 2.5-6.5 kHz resonance)" },
	{ "knock", TRANSIENT, TUNING, "3-8 knocks (150-1200 Hz resonance, 10-40 ms decay)" },
	{ "hiss", STATIONARY, REPORT, "a leak's hiss (band noise centred 3-7 kHz)" },
	{ "whine", STATIONARY, REPORT, "one tone 1.5-6 kHz with a slow frequency wobble" },
	{ "rub", STATIONARY, REPORT,
	  "band noise (300-1500 Hz) amplitude-modulated at a rotation rate (15-50 Hz)" },
	{ "cavitation", TRANSIENT, REPORT, "4-12 crackling high-pass noise bursts (20-120 ms)" },
};
#define N_FAMILIES (sizeof(FAMILIES) / sizeof(FAMILIES[0]))

/* Fault RMS relative to the recording's RMS, dB: l1 is the hardest. */
static const struct {
	const char *name;
	double db;
} LEVELS[] = { { "l1", -26.0 }, { "l2", -20.0 }, { "l3", -14.0 } };
#define N_LEVELS (sizeof(LEVELS) / sizeof(LEVELS[0]))

/* ---- deterministic randomness ---- */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	/* splitmix64: a good stream from any seed, the same on every machine */
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_unit(r);
}

static double rng_gauss(struct rng *r)
{
	double u = rng_unit(r), v = rng_unit(r);
	return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * PI * v);
}

/* ---- filters ---- */

/* RBJ biquad, direct form I. */
struct biquad {
	double b0, b1, b2, a1, a2, x1, x2, y1, y2;
};

static void biquad_set(struct biquad *q, int highpass, int bandpass, double f_hz, double qual)
{
	double w = 2.0 * PI * f_hz / RATE_HZ, alpha = sin(w) / (2.0 * qual), c = cos(w);
	double a0 = 1.0 + alpha;
	memset(q, 0, sizeof(*q));
	if (bandpass) {
		q->b0 = alpha / a0;
		q->b2 = -alpha / a0;
	} else if (highpass) {
		q->b0 = q->b2 = (1.0 + c) / 2.0 / a0;
		q->b1 = -(1.0 + c) / a0;
	}
	q->a1 = -2.0 * c / a0;
	q->a2 = (1.0 - alpha) / a0;
}

static double biquad_run(struct biquad *q, double x)
{
	double y = q->b0 * x + q->b1 * q->x1 + q->b2 * q->x2 - q->a1 * q->y1 - q->a2 * q->y2;
	q->x2 = q->x1;
	q->x1 = x;
	q->y2 = q->y1;
	q->y1 = y;
	return y;
}

/* Adds a decaying sinusoid (one impact on a resonance) starting at sample t0. */
static void add_ring(double *out, size_t n, size_t t0, double amp, double f_hz, double tau_s)
{
	size_t len = (size_t)(tau_s * RATE_HZ * 7.0); /* to -60 dB */
	double w = 2.0 * PI * f_hz / RATE_HZ, decay = exp(-1.0 / (tau_s * RATE_HZ));
	double a = amp;
	for (size_t i = 0; i < len && t0 + i < n; i++, a *= decay)
		out[t0 + i] += a * sin(w * (double)i);
}

/* ---- the fault families (any scale: the mixer sets the level) ---- */

static void gen_harmonics(struct rng *r, double *out, size_t n)
{
	double f0 = rng_range(r, 200.0, 1200.0);
	int k_max = 3 + (int)(rng_unit(r) * 4.0);
	double drift_hz = rng_range(r, 0.1, 0.5), drift = rng_range(r, 0.001, 0.003);
	for (int k = 1; k <= k_max && k * f0 < 7500.0; k++) {
		double amp = pow(k, -0.7) * rng_range(r, 0.6, 1.0), ph = rng_range(r, 0, 2 * PI);
		double phase = ph;
		for (size_t i = 0; i < n; i++) {
			double f = k * f0 *
				   (1.0 + drift * sin(2 * PI * drift_hz * (double)i / RATE_HZ));
			phase += 2.0 * PI * f / RATE_HZ;
			out[i] += amp * sin(phase);
		}
	}
}

static void gen_bearing(struct rng *r, double *out, size_t n)
{
	double rate_hz = rng_range(r, 8.0, 40.0), fc = rng_range(r, 2500.0, 6500.0);
	double tau = rng_range(r, 0.001, 0.003);
	double t = rng_range(r, 0.0, 1.0 / rate_hz);
	while (t * RATE_HZ < (double)n) {
		add_ring(out, n, (size_t)(t * RATE_HZ), rng_range(r, 0.7, 1.3), fc, tau);
		t += (1.0 + 0.02 * rng_gauss(r)) / rate_hz;
	}
}

static void gen_knock(struct rng *r, double *out, size_t n)
{
	int count = 3 + (int)(rng_unit(r) * 6.0);
	for (int k = 0; k < count; k++) {
		size_t t0 = (size_t)(rng_unit(r) * (double)(n - RATE_HZ / 10));
		double fc = rng_range(r, 150.0, 1200.0), tau = rng_range(r, 0.010, 0.040);
		add_ring(out, n, t0, rng_range(r, 0.5, 1.0), fc, tau);
		/* the contact click: a few broadband samples */
		for (size_t i = 0; i < 16 && t0 + i < n; i++)
			out[t0 + i] += 0.3 * rng_gauss(r) * (1.0 - (double)i / 16.0);
	}
}

static void gen_hiss(struct rng *r, double *out, size_t n)
{
	struct biquad a, b;
	double fc = rng_range(r, 3000.0, 7000.0), q = rng_range(r, 2.0, 4.0);
	biquad_set(&a, 0, 1, fc, q);
	biquad_set(&b, 0, 1, fc, q);
	for (size_t i = 0; i < n; i++)
		out[i] += biquad_run(&b, biquad_run(&a, rng_gauss(r)));
}

static void gen_whine(struct rng *r, double *out, size_t n)
{
	double f = rng_range(r, 1500.0, 6000.0), depth = rng_range(r, 0.002, 0.01);
	double rate_hz = rng_range(r, 0.5, 4.0), phase = rng_range(r, 0, 2 * PI);
	for (size_t i = 0; i < n; i++) {
		phase += 2.0 * PI * f *
			 (1.0 + depth * sin(2 * PI * rate_hz * (double)i / RATE_HZ)) / RATE_HZ;
		out[i] += sin(phase);
	}
}

static void gen_rub(struct rng *r, double *out, size_t n)
{
	struct biquad a;
	double fc = rng_range(r, 300.0, 1500.0), rot_hz = rng_range(r, 15.0, 50.0);
	double depth = rng_range(r, 0.6, 0.95), ph = rng_range(r, 0, 2 * PI);
	biquad_set(&a, 0, 1, fc, 1.5);
	for (size_t i = 0; i < n; i++) {
		double env = 1.0 + depth * sin(2 * PI * rot_hz * (double)i / RATE_HZ + ph);
		out[i] += env * biquad_run(&a, rng_gauss(r));
	}
}

static void gen_cavitation(struct rng *r, double *out, size_t n)
{
	struct biquad hp;
	int count = 4 + (int)(rng_unit(r) * 9.0);
	biquad_set(&hp, 1, 0, 2000.0, 0.707);
	for (int k = 0; k < count; k++) {
		size_t len = (size_t)(rng_range(r, 0.020, 0.120) * RATE_HZ);
		size_t t0 = (size_t)(rng_unit(r) * (double)(n - len));
		for (size_t i = 0; i < len; i++) {
			double env = sin(PI * (double)i / (double)len);
			double crackle = rng_unit(r) < 0.05 ? 4.0 : 1.0; /* collapsing bubbles */
			out[t0 + i] += env * crackle * biquad_run(&hp, rng_gauss(r));
		}
	}
}

static void (*const GENERATORS[N_FAMILIES])(struct rng *, double *, size_t) = {
	gen_harmonics, gen_bearing, gen_knock, gen_hiss, gen_whine, gen_rub, gen_cavitation,
};

/* ---- audio in and out ---- */

static int read_audio(const char *path, float **samples, size_t *n)
{
	struct audio_source_config cfg;
	struct audio_source *src = NULL;
	struct auscult_err err;
	size_t cap = 0, got = 0;
	float *buf = NULL;
	audio_source_config_defaults(&cfg);
	cfg.path = path;
	cfg.output_rate_hz = RATE_HZ;
	if (audio_source_open(&src, &cfg, &err) != AUSCULT_OK) {
		fprintf(stderr, "make_faults: %s\n", err.msg);
		return -1;
	}
	*n = 0;
	for (;;) {
		if (*n + 4096 > cap) {
			cap = cap ? cap * 2 : 1 << 18;
			float *grown = realloc(buf, cap * sizeof(float));
			if (!grown)
				goto fail;
			buf = grown;
		}
		int st = audio_source_read(src, buf + *n, cap - *n, &got, 1000, &err);
		if (st == AUSCULT_ERR_EOF)
			break;
		if (st != AUSCULT_OK) {
			fprintf(stderr, "make_faults: %s\n", err.msg);
			goto fail;
		}
		*n += got;
	}
	audio_source_close(src);
	*samples = buf;
	return 0;
fail:
	audio_source_close(src);
	free(buf);
	return -1;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* 16-bit mono PCM WAV; samples in [-1, 1) (saturated). */
static int write_wav(const char *path, const double *x, size_t n)
{
	unsigned char hdr[44] =
		"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\0\0\0\0\0\0\0\0\x02\0\x10\0"
		"data";
	put_u32(hdr + 4, (uint32_t)(36 + 2 * n));
	put_u32(hdr + 24, RATE_HZ);
	put_u32(hdr + 28, 2 * RATE_HZ);
	put_u32(hdr + 40, (uint32_t)(2 * n));
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "make_faults: %s: cannot write (%s)\n", path, strerror(errno));
		return -1;
	}
	fwrite(hdr, 1, sizeof(hdr), f);
	for (size_t i = 0; i < n; i++) {
		double v = round(x[i] * 32768.0);
		int16_t s = (int16_t)(v > 32767.0 ? 32767 : v < -32768.0 ? -32768 : v);
		unsigned char b[2] = { (unsigned char)(s & 0xff),
				       (unsigned char)((uint16_t)s >> 8) };
		fwrite(b, 1, 2, f);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "make_faults: %s: write failed (%s)\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static double rms(const double *x, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i] * x[i];
	return sqrt(s / (double)(n ? n : 1));
}

static const char *stem_of(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(buf, size, "%s", base);
	char *dot = strrchr(buf, '.');
	if (dot)
		*dot = '\0';
	return buf;
}

static int synth(uint64_t seed, const char *out_dir, char **sources, int n_sources)
{
	int rc = -1;
	float *in = NULL;
	double *x = NULL, *fault = NULL, *mix = NULL;
	for (int s = 0; s < n_sources; s++) {
		size_t n;
		if (read_audio(sources[s], &in, &n) != 0)
			goto done;
		x = malloc(n * sizeof(double));
		fault = malloc(n * sizeof(double));
		mix = malloc(n * sizeof(double));
		if (!x || !fault || !mix || n < RATE_HZ) {
			fprintf(stderr, "make_faults: %s: %s\n", sources[s],
				n < RATE_HZ ? "shorter than 1 s" : "out of memory");
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			x[i] = in[i];
		double x_rms = rms(x, n);
		char stem[256];
		stem_of(sources[s], stem, sizeof(stem));
		for (size_t f = 0; f < N_FAMILIES; f++) {
			struct rng r = { seed * 0x100000001B3ull + (uint64_t)f * 7919u +
					 (uint64_t)s * 104729u };
			memset(fault, 0, n * sizeof(double));
			GENERATORS[f](&r, fault, n);
			double f_rms = rms(fault, n);
			for (size_t l = 0; l < N_LEVELS; l++) {
				double gain = x_rms * pow(10.0, LEVELS[l].db / 20.0) / f_rms;
				for (size_t i = 0; i < n; i++)
					mix[i] = x[i] + gain * fault[i];
				double back = x_rms / rms(mix, n);
				for (size_t i = 0; i < n; i++)
					mix[i] *= back;
				char path[1024];
				snprintf(path, sizeof(path), "%s/fault_%s_%s_%s.wav", out_dir,
					 FAMILIES[f].name, LEVELS[l].name, stem);
				if (write_wav(path, mix, n) != 0)
					goto done;
			}
		}
		free(in);
		free(x);
		free(fault);
		free(mix);
		in = NULL;
		x = fault = mix = NULL;
	}
	rc = 0;
done:
	free(in);
	free(x);
	free(fault);
	free(mix);
	return rc;
}

/* ---- the report ---- */

enum { LABEL_NORMAL = -1, LABEL_REAL = -2 };

struct scored {
	char name[256];
	double score;
	int family; /* index into FAMILIES, or LABEL_NORMAL / LABEL_REAL */
	int level;
};

static int label_of(const char *base, int *family, int *level)
{
	if (strncmp(base, "normal_", 7) == 0) {
		*family = LABEL_NORMAL;
		return 0;
	}
	if (strncmp(base, "anomaly_", 8) == 0) {
		*family = LABEL_REAL;
		return 0;
	}
	if (strncmp(base, "fault_", 6) != 0)
		return -1;
	for (size_t f = 0; f < N_FAMILIES; f++) {
		size_t len = strlen(FAMILIES[f].name);
		if (strncmp(base + 6, FAMILIES[f].name, len) != 0 || base[6 + len] != '_')
			continue;
		for (size_t l = 0; l < N_LEVELS; l++) {
			size_t ll = strlen(LEVELS[l].name);
			if (strncmp(base + 7 + len, LEVELS[l].name, ll) == 0 &&
			    base[7 + len + ll] == '_') {
				*family = (int)f;
				*level = (int)l;
				return 0;
			}
		}
	}
	return -1;
}

/* Which faults a row of the table pools. */
struct selection {
	int family; /* -1: any */
	int level;  /* -1: any */
	int group;  /* -1: any */
	int kind;   /* -1: any */
};

static int selected(const struct scored *c, const struct selection *s)
{
	if (c->family < 0)
		return 0;
	const struct family *f = &FAMILIES[c->family];
	return (s->family < 0 || s->family == c->family) &&
	       (s->level < 0 || s->level == c->level) &&
	       (s->group < 0 || s->group == (int)f->group) &&
	       (s->kind < 0 || s->kind == (int)f->kind);
}

/* AUC and pAUC of the selected faults against every normal. */
static void auc_of(const struct scored *c, size_t n, const struct selection *s, double *scores,
		   int *labels, double *auc, double *pauc)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].family == LABEL_NORMAL || selected(&c[i], s)) {
			scores[m] = c[i].score;
			labels[m++] = c[i].family != LABEL_NORMAL;
		}
	}
	*auc = metrics_auc(scores, labels, m);
	*pauc = metrics_pauc(scores, labels, m, 0.1);
}

static void print_row(const char *label, const char *tag, const struct scored *c, size_t n,
		      struct selection s, double *scores, int *labels)
{
	double auc[N_LEVELS + 1], pauc[N_LEVELS + 1];
	for (size_t l = 0; l <= N_LEVELS; l++) {
		s.level = l < N_LEVELS ? (int)l : -1;
		auc_of(c, n, &s, scores, labels, &auc[l], &pauc[l]);
	}
	printf("  %-11s %-10s", label, tag);
	for (size_t l = 0; l <= N_LEVELS; l++)
		printf(" %5.3f", auc[l]);
	printf("  ");
	for (size_t l = 0; l <= N_LEVELS; l++)
		printf(" %5.3f", pauc[l]);
	printf("\n");
}

/* Reads "path<TAB>score..." lines into *out (n_out entries, malloc'd), each labelled by its name.
 * 0, or -1 with the file, line and fix on stderr. */
static int load_scored(const char *path, struct scored **out, size_t *n_out)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "make_faults: %s: cannot open (%s)\n", path, strerror(errno));
		return -1;
	}
	size_t n = 0, cap = 0, line_no = 0;
	struct scored *c = NULL;
	char line[2048];
	while (fgets(line, sizeof(line), f)) {
		line_no++;
		char *tab = strchr(line, '\t');
		if (!tab) {
			fprintf(stderr, "make_faults: %s:%zu: expected path<TAB>score\n", path,
				line_no);
			goto fail;
		}
		*tab = '\0';
		const char *base = strrchr(line, '/');
		base = base ? base + 1 : line;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			struct scored *grown = realloc(c, cap * sizeof(*c));
			if (!grown) {
				fprintf(stderr, "make_faults: %s: out of memory\n", path);
				goto fail;
			}
			c = grown;
		}
		struct scored *e = &c[n];
		size_t len = strlen(base) < sizeof(e->name) - 1 ? strlen(base)
								: sizeof(e->name) - 1;
		memcpy(e->name, base, len);
		e->name[len] = '\0';
		char *end;
		e->score = strtod(tab + 1, &end);
		if (end == tab + 1 || label_of(base, &e->family, &e->level) != 0) {
			fprintf(stderr,
				"make_faults: %s:%zu: %s: need a score and a name normal_*, "
				"anomaly_* or fault_<family>_<level>_*\n",
				path, line_no, base);
			goto fail;
		}
		n++;
	}
	fclose(f);
	*out = c;
	*n_out = n;
	return 0;
fail:
	fclose(f);
	free(c);
	return -1;
}

static int report(const char *name, const char *path)
{
	size_t n = 0;
	struct scored *c = NULL;
	int rc = -1;
	double *scores = NULL;
	int *labels = NULL;
	if (load_scored(path, &c, &n) != 0)
		return -1;
	scores = malloc((n + 1) * sizeof(double));
	labels = malloc((n + 1) * sizeof(int));
	if (!scores || !labels)
		goto done;

	size_t n_normal = 0, rank = 0;
	double real = NAN;
	for (size_t i = 0; i < n; i++) {
		n_normal += c[i].family == LABEL_NORMAL;
		if (c[i].family == LABEL_REAL)
			real = c[i].score;
	}
	if (n_normal == 0) {
		fprintf(stderr, "make_faults: %s: no normal_* recordings to compare with\n", path);
		goto done;
	}
	printf("%s: AUC / pAUC (max FPR 0.1) of each family against the %zu normals\n", name,
	       n_normal);
	printf("  %-11s %-10s", "family", "group");
	for (size_t l = 0; l < N_LEVELS; l++)
		printf(" %5s", LEVELS[l].name);
	printf(" %5s  ", "all");
	for (size_t l = 0; l < N_LEVELS; l++)
		printf(" %5s", LEVELS[l].name);
	printf(" %5s\n", "all");
	for (size_t fam = 0; fam < N_FAMILIES; fam++) {
		char tag[32];
		snprintf(tag, sizeof(tag), "%s/%s",
			 FAMILIES[fam].group == TUNING ? "tune" : "report",
			 FAMILIES[fam].kind == STATIONARY ? "stat" : "trans");
		print_row(FAMILIES[fam].name, tag, c, n, (struct selection){ (int)fam, -1, -1, -1 },
			  scores, labels);
	}
	print_row("TUNING", "pooled", c, n, (struct selection){ -1, -1, TUNING, -1 }, scores,
		  labels);
	print_row("REPORT", "pooled", c, n, (struct selection){ -1, -1, REPORT, -1 }, scores,
		  labels);
	print_row("stationary", "pooled", c, n, (struct selection){ -1, -1, -1, STATIONARY },
		  scores, labels);
	print_row("transient", "pooled", c, n, (struct selection){ -1, -1, -1, TRANSIENT }, scores,
		  labels);
	print_row("OVERALL", "pooled", c, n, (struct selection){ -1, -1, -1, -1 }, scores, labels);
	if (!isnan(real)) {
		rank = 1;
		for (size_t i = 0; i < n; i++)
			rank += c[i].family == LABEL_NORMAL && c[i].score >= real;
		printf("  real anomaly: rank %zu of %zu (1 = most anomalous)\n", rank,
		       n_normal + 1);
	}

	/* One line for the comparison: overall, hardest level, tuning, report, stationary l1. */
	double a_all, p_all, a_hard, p_hard, a_tune, p_tune, a_rep, p_rep, a_st1, p_st1;
	auc_of(c, n, &(struct selection){ -1, -1, -1, -1 }, scores, labels, &a_all, &p_all);
	auc_of(c, n, &(struct selection){ -1, 0, -1, -1 }, scores, labels, &a_hard, &p_hard);
	auc_of(c, n, &(struct selection){ -1, -1, TUNING, -1 }, scores, labels, &a_tune, &p_tune);
	auc_of(c, n, &(struct selection){ -1, -1, REPORT, -1 }, scores, labels, &a_rep, &p_rep);
	auc_of(c, n, &(struct selection){ -1, 0, -1, STATIONARY }, scores, labels, &a_st1, &p_st1);
	printf("summary\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%zu/%zu\n", name, a_all, p_all,
	       a_hard, a_tune, a_rep, a_st1, rank, n_normal + 1);
	rc = 0;
done:
	free(c);
	free(scores);
	free(labels);
	return rc;
}

/* ---- the ceiling ---- */

/*
 * The most any of the candidates could give: for each family and level, the best AUC among the
 * score files, as if each fault were scored by the candidate that hears it best (an oracle that
 * knows the fault). A pooled row is the mean of its cells' best weighted by their clips: the
 * pooled AUC of that oracle, since every candidate ranks its faults against the same normals.
 * When even it stays under a target, no choice or combination among these candidates is known
 * to reach it: the features themselves must hear more.
 */
/* The best so far of the candidates read, per family and level, per family, and overall. */
struct ceiling {
	double best[N_FAMILIES][N_LEVELS], fam_best[N_FAMILIES], top_all;
	const char *who[N_FAMILIES], *top_who; /* the best candidate's path */
	size_t cells[N_FAMILIES][N_LEVELS];    /* faults per family and level, as the first read */
	size_t n_normal;
	const char *first; /* the first candidate's path */
	int n_read;
};

/* Reads one candidate's score file into ce. 0, or -1 with the file and the fix on stderr. */
static int ceiling_add(struct ceiling *ce, const char *path)
{
	struct scored *c = NULL;
	size_t n = 0, normals = 0, here[N_FAMILIES][N_LEVELS] = { { 0 } };
	if (load_scored(path, &c, &n) != 0)
		return -1;
	int rc = -1;
	double *scores = malloc((n + 1) * sizeof(double));
	int *labels = malloc((n + 1) * sizeof(int));
	if (!scores || !labels) {
		fprintf(stderr, "make_faults: %s: out of memory\n", path);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		normals += c[i].family == LABEL_NORMAL;
		if (c[i].family >= 0)
			here[c[i].family][c[i].level]++;
	}
	if (normals == 0) {
		fprintf(stderr, "make_faults: %s: no normal_* recordings to compare with\n", path);
		goto done;
	}
	if (ce->n_read == 0) {
		ce->n_normal = normals;
		ce->first = path;
		memcpy(ce->cells, here, sizeof(here));
	} else if (normals != ce->n_normal || memcmp(ce->cells, here, sizeof(here)) != 0) {
		fprintf(stderr,
			"make_faults: %s: scores other clips than %s (normals or faults per family "
			"and level differ): give files of one bench run\n",
			path, ce->first);
		goto done;
	}
	double auc, pauc;
	for (size_t f = 0; f < N_FAMILIES; f++) {
		for (size_t l = 0; l < N_LEVELS; l++) {
			auc_of(c, n, &(struct selection){ (int)f, (int)l, -1, -1 }, scores, labels,
			       &auc, &pauc);
			if (ce->n_read == 0 || auc > ce->best[f][l])
				ce->best[f][l] = auc;
		}
		auc_of(c, n, &(struct selection){ (int)f, -1, -1, -1 }, scores, labels, &auc,
		       &pauc);
		if (ce->n_read == 0 || auc > ce->fam_best[f]) {
			ce->fam_best[f] = auc;
			ce->who[f] = path;
		}
	}
	auc_of(c, n, &(struct selection){ -1, -1, -1, -1 }, scores, labels, &auc, &pauc);
	if (ce->n_read == 0 || auc > ce->top_all) {
		ce->top_all = auc;
		ce->top_who = path;
	}
	ce->n_read++;
	rc = 0;
done:
	free(c);
	free(scores);
	free(labels);
	return rc;
}

static int ceiling(char **paths, int n_paths)
{
	struct ceiling ce = { .n_read = 0 };
	for (int p = 0; p < n_paths; p++)
		if (ceiling_add(&ce, paths[p]) != 0)
			return -1;
	double(*best)[N_LEVELS] = ce.best;
	size_t(*cells)[N_LEVELS] = ce.cells;

	printf("ceiling over %d candidates: each family and level's best AUC among them, as if each "
	       "fault were scored by the candidate that hears it best\n",
	       n_paths);
	printf("  %-11s %-10s", "family", "group");
	for (size_t l = 0; l < N_LEVELS; l++)
		printf(" %5s", LEVELS[l].name);
	printf(" %5s   %s\n", "all", "the best single candidate for the family");
	double sum[N_LEVELS + 1] = { 0 }, cnt[N_LEVELS + 1] = { 0 };
	for (size_t f = 0; f < N_FAMILIES; f++) {
		double fs = 0, fc = 0;
		printf("  %-11s %-10s", FAMILIES[f].name,
		       FAMILIES[f].kind == STATIONARY ? "stationary" : "transient");
		for (size_t l = 0; l < N_LEVELS; l++) {
			double w = (double)cells[f][l];
			printf(" %5.3f", best[f][l]);
			fs += w * best[f][l];
			fc += w;
			sum[l] += w * best[f][l];
			cnt[l] += w;
			sum[N_LEVELS] += w * best[f][l];
			cnt[N_LEVELS] += w;
		}
		char stem[256];
		printf(" %5.3f   %5.3f %s\n", fc > 0 ? fs / fc : NAN, ce.fam_best[f],
		       stem_of(ce.who[f], stem, sizeof(stem)));
	}
	printf("  %-11s %-10s", "OVERALL", "pooled");
	for (size_t l = 0; l <= N_LEVELS; l++)
		printf(" %5.3f", cnt[l] > 0 ? sum[l] / cnt[l] : NAN);
	char stem[256];
	printf("   the best single candidate overall: %5.3f %s\n", ce.top_all,
	       stem_of(ce.top_who, stem, sizeof(stem)));
	printf("ceiling\t%.3f\t%.3f\n", cnt[N_LEVELS] > 0 ? sum[N_LEVELS] / cnt[N_LEVELS] : NAN,
	       cnt[0] > 0 ? sum[0] / cnt[0] : NAN);
	return 0;
}

/* ---- the comparison ---- */

/*
 * Whether one candidate ranks better than another, or the difference is the benchmark's noise:
 * with 20 held-out normals each is 5% of the negatives, and a fault's clips share their source
 * recording's quirks. So the difference of two candidates' AUC on the same clips is resampled
 * by source recording (a paired bootstrap: each draw takes 20 of the sources with replacement,
 * each with its normal and the faults made from it, and recomputes both AUCs), and its 95%
 * interval printed. An interval that straddles 0 is not a difference this benchmark can show.
 */
#define COMPARE_DRAWS 2000

/* The source recording a clip was made from (a normal is its own), as an index into srcs
 * (added when new); -1 for the real anomaly, which no AUC here counts. */
static int source_of(const struct scored *c, char (*srcs)[256], size_t *n_srcs, size_t cap)
{
	if (c->family == LABEL_REAL)
		return -1;
	const char *stem = c->name;
	if (c->family >= 0) { /* fault_<family>_<level>_<source> */
		stem += 6 + strlen(FAMILIES[c->family].name) + 1 + strlen(LEVELS[c->level].name) +
			1;
	}
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", stem);
	char *dot = strrchr(buf, '.');
	if (dot)
		*dot = '\0';
	for (size_t i = 0; i < *n_srcs; i++)
		if (strcmp(srcs[i], buf) == 0)
			return (int)i;
	if (*n_srcs == cap)
		return -2;
	snprintf(srcs[*n_srcs], sizeof(srcs[0]), "%s", buf);
	return (int)(*n_srcs)++;
}

/* AUC of the selected faults against the normals (the n_normals indices in normals), each clip
 * weighted by its source's count in the draw (ties count a half). */
static double weighted_auc(const struct scored *c, const int *src, size_t n, const size_t *normals,
			   size_t n_normals, const struct selection *s, const double *w)
{
	double num = 0.0, den = 0.0;
	for (size_t i = 0; i < n; i++) {
		if (src[i] < 0 || !selected(&c[i], s) || w[src[i]] == 0.0)
			continue;
		for (size_t k = 0; k < n_normals; k++) {
			size_t j = normals[k];
			if (w[src[j]] == 0.0)
				continue;
			double pw = w[src[i]] * w[src[j]];
			den += pw;
			num += pw * (c[i].score > c[j].score    ? 1.0
				     : c[i].score == c[j].score ? 0.5
								: 0.0);
		}
	}
	return den > 0.0 ? num / den : NAN;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int compare(const char *path_a, const char *path_b)
{
	struct scored *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	int rc = -1;
	int *src = NULL;
	size_t *normals = NULL; /* indices of the normal clips */
	double *diffs = NULL;
	char(*srcs)[256] = NULL;
	if (load_scored(path_a, &a, &na) != 0 || load_scored(path_b, &b, &nb) != 0)
		goto done;
	if (na != nb) {
		fprintf(stderr,
			"make_faults: %s and %s score %zu and %zu clips: give files of one "
			"bench run\n",
			path_a, path_b, na, nb);
		goto done;
	}
	/* b in a's order, by clip name */
	for (size_t i = 0; i < na; i++) {
		size_t j = i;
		if (strcmp(a[i].name, b[j].name) != 0)
			for (j = 0; j < nb && strcmp(a[i].name, b[j].name) != 0; j++)
				;
		if (j == nb) {
			fprintf(stderr,
				"make_faults: %s: no score for %s of %s: give files of one "
				"bench run\n",
				path_b, a[i].name, path_a);
			goto done;
		}
		struct scored t = b[i];
		b[i] = b[j];
		b[j] = t;
	}
	src = malloc(na * sizeof(int));
	normals = malloc(na * sizeof(size_t));
	srcs = calloc(na + 1, sizeof(*srcs));
	diffs = malloc(COMPARE_DRAWS * sizeof(double));
	if (!src || !normals || !srcs || !diffs) {
		fprintf(stderr, "make_faults: compare: out of memory\n");
		goto done;
	}
	size_t n_srcs = 0, n_normals = 0;
	for (size_t i = 0; i < na; i++) {
		src[i] = source_of(&a[i], srcs, &n_srcs, na + 1);
		if (a[i].family == LABEL_NORMAL && src[i] >= 0)
			normals[n_normals++] = i;
	}
	double *w = calloc(n_srcs ? n_srcs : 1, sizeof(double));
	if (!w) {
		fprintf(stderr, "make_faults: compare: out of memory\n");
		goto done;
	}
	static const struct {
		const char *label;
		struct selection sel;
	} ROWS[] = {
		{ "overall", { -1, -1, -1, -1 } },
		{ "weakest level (l1)", { -1, 0, -1, -1 } },
		{ "report families", { -1, -1, REPORT, -1 } },
	};
	char stem_a[256], stem_b[256];
	printf("%s (A) against %s (B): AUC on the same clips, and the difference's 95%% interval "
	       "over %d draws of the %zu source recordings\n",
	       stem_of(path_a, stem_a, sizeof(stem_a)), stem_of(path_b, stem_b, sizeof(stem_b)),
	       COMPARE_DRAWS, n_srcs);
	printf("  %-20s %7s %7s %7s   %s\n", "", "A", "B", "A - B", "95% interval");
	for (size_t r = 0; r < sizeof(ROWS) / sizeof(ROWS[0]); r++) {
		for (size_t k = 0; k < n_srcs; k++)
			w[k] = 1.0;
		double auc_a = weighted_auc(a, src, na, normals, n_normals, &ROWS[r].sel, w);
		double auc_b = weighted_auc(b, src, na, normals, n_normals, &ROWS[r].sel, w);
		struct rng g = { 0x5EED0000ull + r };
		int n_valid = 0; /* a draw without a normal or a selected fault has no AUC */
		for (int d = 0; d < COMPARE_DRAWS; d++) {
			memset(w, 0, n_srcs * sizeof(double));
			for (size_t k = 0; k < n_srcs; k++)
				w[rng_next(&g) % n_srcs] += 1.0;
			double diff = weighted_auc(a, src, na, normals, n_normals, &ROWS[r].sel,
						   w) -
				      weighted_auc(b, src, na, normals, n_normals, &ROWS[r].sel, w);
			if (!isnan(diff))
				diffs[n_valid++] = diff;
		}
		printf("  %-20s %7.3f %7.3f %+7.3f", ROWS[r].label, auc_a, auc_b, auc_a - auc_b);
		if (n_valid < COMPARE_DRAWS / 2) {
			printf("   no interval: too few sources with these faults\n");
			continue;
		}
		qsort(diffs, (size_t)n_valid, sizeof(double), cmp_dbl);
		double lo = diffs[(int)(0.025 * n_valid)];
		double hi = diffs[(int)(0.975 * n_valid) - 1];
		printf("   %+.3f .. %+.3f%s\n", lo, hi,
		       lo > 0.0 || hi < 0.0 ? "" : "  (not a difference)");
	}
	free(w);
	rc = 0;
done:
	free(a);
	free(b);
	free(src);
	free(normals);
	free(srcs);
	free(diffs);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: make_faults synth --seed N --out DIR SOURCE.wav...\n"
			"       make_faults report --name NAME SCORES.tsv\n"
			"       make_faults ceiling SCORES.tsv...\n"
			"       make_faults compare A.tsv B.tsv\n"
			"       make_faults families\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "families") == 0) {
		for (size_t f = 0; f < N_FAMILIES; f++)
			printf("%-11s %-6s %-10s %s\n", FAMILIES[f].name,
			       FAMILIES[f].group == TUNING ? "tune" : "report",
			       FAMILIES[f].kind == STATIONARY ? "stationary" : "transient",
			       FAMILIES[f].what);
		for (size_t l = 0; l < N_LEVELS; l++)
			printf("level %s: fault RMS %+.0f dB re the recording's RMS\n",
			       LEVELS[l].name, LEVELS[l].db);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "report") == 0 && strcmp(argv[2], "--name") == 0)
		return report(argv[3], argv[4]) == 0 ? 0 : 1;
	if (argc == 4 && strcmp(argv[1], "compare") == 0)
		return compare(argv[2], argv[3]) == 0 ? 0 : 1;
	if (argc >= 3 && strcmp(argv[1], "ceiling") == 0)
		return ceiling(argv + 2, argc - 2) == 0 ? 0 : 1;
	if (argc >= 7 && strcmp(argv[1], "synth") == 0 && strcmp(argv[2], "--seed") == 0 &&
	    strcmp(argv[4], "--out") == 0) {
		char *end;
		errno = 0;
		unsigned long long seed = strtoull(argv[3], &end, 10);
		if (*end || errno) {
			fprintf(stderr, "make_faults: --seed %s: expected a non-negative integer\n",
				argv[3]);
			return 2;
		}
		return synth(seed, argv[5], argv + 6, argc - 6) == 0 ? 0 : 1;
	}
	usage();
	return 2;
}
