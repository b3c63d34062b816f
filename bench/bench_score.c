/* bench_score.c - clip scoring speed and MFLOP of each recipe (WAV -> log-mel -> autoencoder -> score; a window head through the pipeline). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "features/features_file.h"
#include "model/autoencoder.h"
#include "model/model.h"
#include "model/model_file.h"
#include "model/rise_heads.h"
#include "model/window_head.h"
#include "pipeline/clip_replay.h"
#include "pipeline/pipeline.h"
#include "train/model_info.h"
#include "train/trainer_recipe.h"

#define ROUNDS 5
#define MAX_FILES 256
#define MAX_BATCH 512 /* a 10-s clip has 309 vectors: one call */

/* Thread CPU time is what the bench reports first: wall time on a shared machine measures the
 * neighbours. */
static double clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static float uniform(float scale)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return scale * (2.0f * (float)(rng >> 40) / 16777216.0f - 1.0f);
}

/* Stacked frames set in mask. */
static uint32_t frames_in(uint32_t mask, uint32_t n_stack)
{
	uint32_t n = 0;
	for (uint32_t f = 0; f < n_stack; f++)
		n += (mask >> f) & 1u;
	return n;
}

/*
 * A model of a named `auscult train` recipe's shape (train_options_recipe) with seeded random
 * (Glorot-uniform) weights, standardisation and band weights when the recipe has them: the cost
 * of scoring does not depend on what the weights learnt.
 */
static int random_model(struct model *m, const char *recipe)
{
	struct train_options o;
	struct auscult_err err;
	memset(m, 0, sizeof(*m));
	if (train_options_recipe(&o, recipe, &err) != AUSCULT_OK) {
		fprintf(stderr, "bench_score: %s\n", err.msg);
		return -1;
	}
	m->features = o.features;
	const uint32_t n_stack = m->features.n_stack, n_mels = m->features.n_mels;
	const uint32_t all = (1u << n_stack) - 1u, dim = n_stack * n_mels;
	m->input_frames = o.input_frames ? o.input_frames : all;
	m->target_frames = o.target_frames ? o.target_frames : all;
	m->aggregation = o.aggregation;
	m->top_fraction = o.top_fraction;
	uint32_t widths[TRAINER_MAX_HIDDEN + 2];
	const uint32_t n_layers = o.trainer.n_hidden + 1;
	widths[0] = frames_in(m->input_frames, n_stack) * n_mels;
	for (uint32_t i = 0; i < o.trainer.n_hidden; i++)
		widths[i + 1] = o.trainer.hidden[i];
	widths[n_layers] = frames_in(m->target_frames, n_stack) * n_mels;
	m->n_layers = n_layers;
	m->layers = calloc(n_layers, sizeof(*m->layers));
	if (!m->layers)
		return -1;
	for (uint32_t i = 0; i < n_layers; i++) {
		struct dense_layer *l = &m->layers[i];
		l->n_in = widths[i];
		l->n_out = widths[i + 1];
		l->activation = i + 1 == n_layers ? ACTIVATION_LINEAR : ACTIVATION_RELU;
		l->weights = malloc((size_t)l->n_in * l->n_out * sizeof(float));
		l->bias = calloc(l->n_out, sizeof(float));
		if (!l->weights || !l->bias)
			return -1;
		float scale = sqrtf(6.0f / (float)(l->n_in + l->n_out));
		for (size_t j = 0; j < (size_t)l->n_in * l->n_out; j++)
			l->weights[j] = uniform(scale);
	}
	if (o.standardize) {
		m->input_mean = malloc(dim * sizeof(float));
		m->input_std = malloc(dim * sizeof(float));
		if (!m->input_mean || !m->input_std)
			return -1;
		for (uint32_t j = 0; j < dim; j++) {
			m->input_mean[j] = -40.0f + uniform(10.0f);
			m->input_std[j] = 5.0f + uniform(2.0f);
		}
	}
	if (o.band_weights) {
		m->band_weights = malloc(n_mels * sizeof(float));
		if (!m->band_weights)
			return -1;
		for (uint32_t b = 0; b < n_mels; b++)
			m->band_weights[b] = 1.0f + uniform(0.5f);
	}
	if (o.window_head) {
		/* the recipe's head with plausible statistics: band levels around -40 dB, unit
		 * correlation; its cost does not depend on the values */
		struct model_window_head *h = calloc(1, sizeof(*h));
		if (!h)
			return -1;
		m->head = h;
		window_head_config_defaults(h, &o.head_shape, &m->features);
		h->mean = malloc(h->dim * sizeof(float));
		h->inv_std = malloc(h->dim * sizeof(float));
		if (h->kind == WINDOW_HEAD_SPECTRUM)
			h->basis = calloc((size_t)h->dim * h->spec_rank, sizeof(float));
		else
			h->precision = calloc((size_t)h->dim * h->dim, sizeof(float));
		if (!h->mean || !h->inv_std || (!h->precision && !h->basis))
			return -1;
		for (uint32_t j = 0; j < h->dim; j++) {
			h->mean[j] = j < h->n_kept ? -40.0f + uniform(10.0f) : 3.0f + uniform(1.0f);
			h->inv_std[j] = 1.0f / (2.0f + uniform(1.0f));
			if (h->precision)
				h->precision[(size_t)j * h->dim + j] = 1.0f;
			else if (j < h->spec_rank)
				h->basis[(size_t)j * h->spec_rank + j] = 1.0f;
		}
	}
	if (o.rise_heads && m->head) {
		/* the recipe's rise heads with plausible statistics (envelope dB around -20,
		 * rises of a few dB); their cost does not depend on the values either */
		struct model_rise_heads *r = calloc(1, sizeof(*r));
		if (!r)
			return -1;
		m->rise = r;
		rise_heads_config_defaults(r, &m->features, m->head->n_kept);
		if (o.bursts)
			rise_heads_add_bursts(r);
		struct model_rise_head *parts[RISE_N_HEADS];
		rise_heads_each(r, parts);
		for (int k = 0; k < RISE_N_HEADS; k++) {
			struct model_rise_head *h = parts[k];
			if (!h->dim)
				continue;
			h->mean = malloc(h->dim * sizeof(float));
			h->inv_std = malloc(h->dim * sizeof(float));
			if (!h->mean || !h->inv_std)
				return -1;
			for (uint32_t j = 0; j < h->dim; j++) {
				h->mean[j] = (k ? 2.0f : -20.0f) + uniform(1.0f);
				h->inv_std[j] = 1.0f / (2.0f + uniform(1.0f));
			}
			h->cal_mean = 1.0f;
			h->cal_std = 0.5f;
		}
	}
	m->threshold = (struct model_threshold){ 2.0f, 1.0f, 0.9f, 1.0f };
	m->training.val_loss = NAN;
	if (model_validate(m, &err) != AUSCULT_OK) {
		fprintf(stderr, "bench_score: %s model: %s\n", recipe, err.msg);
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static size_t list_wavs(const char *dir, char **paths, size_t n, size_t max)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "bench_score: %s: cannot open folder\n", dir);
		return n;
	}
	for (struct dirent *e; (e = readdir(d)) && n < max;) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 4, ".wav") != 0)
			continue;
		size_t size = strlen(dir) + len + 2;
		paths[n] = malloc(size);
		if (!paths[n])
			break;
		snprintf(paths[n++], size, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

/* One model under test and its timings. */
struct bench_model {
	const char *name;
	struct model m;
	struct autoencoder ae;
	struct clip_replay *replay; /* a model with a window head: auscult score's clip replay */
	double *total_ms, *wall_ms, *feat_ms, *infer_ms; /* per run */
	double *pipe_ms; /* per run, a model with a window head: its clip score as auscult scores it */
	size_t vectors_scored;
	size_t frames_round0; /* frames of the first round: its front end's count */
	double checksum;
	double single_us; /* one vector per call, as a streaming caller would */
};

/*
 * Scores every file ROUNDS times with every model, the models taking turns on each file so that
 * a noisy neighbour slows them alike, and reports each one's medians and their ratios.
 */
int main(int argc, char **argv)
{
	static const char *const recipes[] = { TRAIN_RECIPE_DEFAULT, "dcase2020" };
	enum { MAX_MODELS = 8 };
	if (argc > MAX_MODELS + 1 || (argc >= 2 && argv[1][0] == '-')) {
		fprintf(stderr,
			"usage: bench_score [MODEL...]   (default: a random model of each "
			"recipe, %s and dcase2020)\n",
			TRAIN_RECIPE_DEFAULT);
		return 2;
	}
	autoencoder_set_blas_threads(1);
	struct bench_model bm[MAX_MODELS];
	memset(bm, 0, sizeof(bm));
	struct auscult_err err;
	const size_t n_models = argc >= 2 ? (size_t)argc - 1 : 2;
	for (size_t k = 0; k < n_models; k++) {
		if (argc >= 2) {
			bm[k].name = argv[k + 1];
			if (model_load(&bm[k].m, argv[k + 1], &err) != AUSCULT_OK) {
				fprintf(stderr, "bench_score: %s\n", err.msg);
				return 1;
			}
		} else {
			bm[k].name = recipes[k];
			if (random_model(&bm[k].m, recipes[k]) != 0) {
				fprintf(stderr, "bench_score: cannot make a %s model\n",
					recipes[k]);
				return 1;
			}
		}
	}

	char *paths[MAX_FILES];
	size_t n_files = list_wavs(AUSCULT_SHARED_DIR "/data/dcase2020_id00/train", paths, 0,
				   MAX_FILES);
	n_files = list_wavs(AUSCULT_SHARED_DIR "/data/dcase2020_id00/test", paths, n_files,
			    MAX_FILES);
	qsort(paths, n_files, sizeof(paths[0]), cmp_str);
	if (n_files == 0) {
		fprintf(stderr, "bench_score: no recordings found\n");
		return 1;
	}

	const size_t n_runs = ROUNDS * n_files;
	for (size_t k = 0; k < n_models; k++) {
		if (autoencoder_init(&bm[k].ae, &bm[k].m, MAX_BATCH, &err) != AUSCULT_OK) {
			fprintf(stderr, "bench_score: %s: %s\n", bm[k].name, err.msg);
			return 1;
		}
		if (bm[k].m.head &&
		    clip_replay_create(&bm[k].replay, &bm[k].m, &bm[k].ae, &err) != AUSCULT_OK) {
			fprintf(stderr, "bench_score: %s: %s\n", bm[k].name, err.msg);
			return 1;
		}
		bm[k].total_ms = malloc(n_runs * sizeof(double));
		bm[k].wall_ms = malloc(n_runs * sizeof(double));
		bm[k].feat_ms = malloc(n_runs * sizeof(double));
		bm[k].infer_ms = malloc(n_runs * sizeof(double));
		bm[k].pipe_ms = malloc(n_runs * sizeof(double));
		if (!bm[k].total_ms || !bm[k].wall_ms || !bm[k].feat_ms || !bm[k].infer_ms ||
		    !bm[k].pipe_ms) {
			fprintf(stderr, "bench_score: out of memory\n");
			return 1;
		}
	}
	double audio_s = 0;
	size_t run = 0;
	for (int round = 0; round < ROUNDS; round++) {
		for (size_t f = 0; f < n_files; f++, run++) {
			for (size_t k = 0; k < n_models; k++) {
				struct bench_model *b = &bm[k];
				const struct feature_params *p = &b->m.features;
				double w0 = clock_ms(CLOCK_MONOTONIC);
				double t0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
				float *frames;
				size_t n_frames;
				if (features_from_file(paths[f], p, &frames, &n_frames, &err) !=
				    AUSCULT_OK) {
					fprintf(stderr, "bench_score: %s\n", err.msg);
					return 1;
				}
				double t1 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
				size_t n_vec = features_vector_count(n_frames, p);
				/* Long files go through in MAX_BATCH pieces; the mean of their means
				 * is not the clip's mean, so scores are kept and aggregated once. */
				float *all = malloc((n_vec ? n_vec : 1) * sizeof(float));
				if (!all) {
					fprintf(stderr, "bench_score: out of memory\n");
					return 1;
				}
				for (size_t done = 0; done < n_vec; done += MAX_BATCH) {
					size_t n = n_vec - done < MAX_BATCH ? n_vec - done
									    : MAX_BATCH;
					autoencoder_score(&b->ae, frames + done * p->n_mels,
							  p->n_mels, n, all + done, NULL);
				}
				float clip = model_clip_score(&b->m, all, n_vec);
				double t2 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
				b->checksum += clip;
				b->vectors_scored += n_vec;
				if (round == 0) {
					b->frames_round0 += n_frames;
					if (k == 0)
						audio_s += (double)(n_frames - 1) * p->hop_length /
							   p->sample_rate_hz;
				}
				b->total_ms[run] = t2 - t0;
				b->wall_ms[run] = clock_ms(CLOCK_MONOTONIC) - w0;
				b->feat_ms[run] = t1 - t0;
				b->infer_ms[run] = t2 - t1;
				free(all);
				free(frames);
				if (b->m.head) {
					/* the head's windows come from the streaming pipeline: the
					 * whole of auscult's clip score for such a model, WAV
					 * decoding, network and head */
					float pc;
					double t3 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
					if (clip_replay_score(b->replay, paths[f], &pc, &err) !=
					    AUSCULT_OK) {
						fprintf(stderr, "bench_score: %s\n", err.msg);
						return 1;
					}
					b->pipe_ms[run] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - t3;
				}
			}
		}
	}

	/* The streaming daemon scores one vector per hop: its cost per call. */
	float *one = calloc(640 * 5, sizeof(float));
	float score;
	for (size_t k = 0; k < n_models; k++) {
		const struct feature_params *p = &bm[k].m.features;
		bm[k].single_us = NAN;
		if (!one || feature_params_vector_dim(p) > 640 * 5)
			continue;
		for (int i = 0; i < 640 * 5; i++)
			one[i] = uniform(40.0f) - 40.0f;
		const int reps = 2000;
		double t0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
		for (int i = 0; i < reps; i++)
			autoencoder_score(&bm[k].ae, one, p->n_mels, 1, &score, NULL);
		bm[k].single_us = (clock_ms(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e3 / reps;
	}

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	const double clip_s = audio_s / (double)n_files;
	printf("recordings:       %zu (%.1f s of audio each), %d rounds, 1 BLAS thread, models "
	       "taking turns on each file\n",
	       n_files, clip_s, ROUNDS);
	double med[MAX_MODELS], infer_med[MAX_MODELS];
	for (size_t k = 0; k < n_models; k++) {
		struct bench_model *b = &bm[k];
		char arch[256];
		model_architecture(&b->m, arch, sizeof(arch));
		const uint64_t params = model_param_count(&b->m);
		/* Vectors and frames of a 10-s clip, from the recordings' own counts: a model's hop
		 * sets them. The front end's FLOP per frame: a 1024-point real FFT (2.5 N log2 N),
		 * the window, power and mel weights, about 31 kFLOP (as bench/eval_detector.sh). */
		const double vectors_10s = (double)b->vectors_scored / ROUNDS * 10.0 / audio_s;
		const double front_mflop = (double)b->frames_round0 * 10.0 / audio_s * 31e3 / 1e6;
		/* A dense layer costs 2 FLOP per weight (multiply, add) for each vector. */
		const double net_mflop = 2.0 * (double)params * vectors_10s / 1e6;
		double batched_sum = 0;
		for (size_t i = 0; i < n_runs; i++)
			batched_sum += b->infer_ms[i];
		med[k] = median(b->total_ms, n_runs);
		infer_med[k] = median(b->infer_ms, n_runs);
		/* on the daemon's default windows and hop, as the clip replay scores them */
		struct pipeline_settings ps;
		pipeline_settings_defaults(&ps);
		double head_mflop = b->m.head ? window_head_flops_per_s(b->m.head, &b->m.features,
									ps.window_s, ps.hop_s) *
							10.0 / 1e6
					      : 0.0;
		if (b->m.rise)
			head_mflop += rise_heads_flops_per_s(b->m.rise, b->m.head, &b->m.features,
							     ps.window_s) *
				      10.0 / 1e6;
		printf("\n%s%s (%s, %llu parameters)\n", argc >= 2 ? "" : "recipe ", b->name, arch,
		       (unsigned long long)params);
		printf("  MFLOP per 10-s clip: %.1f (network %.1f + front end ~%.1f%s)\n",
		       net_mflop + front_mflop + head_mflop, net_mflop, front_mflop,
		       b->m.rise   ? " + window and rise heads"
		       : b->m.head ? " + window head"
				   : "");
		printf("  per clip (CPU):   median %.3f ms (features %.3f ms, inference %.3f ms)%s\n",
		       med[k], median(b->feat_ms, n_runs), infer_med[k],
		       b->m.head ? ", the network alone" : "");
		if (b->m.head) {
			/* what auscult score spends on such a model's clip: the one to compare */
			med[k] = median(b->pipe_ms, n_runs);
			printf("  window head:      median %.3f ms per clip through the pipeline "
			       "(network and heads, as auscult score does it; heads %.1f MFLOP)\n",
			       med[k], head_mflop);
		}
		printf("  per clip (wall):  median %.3f ms (higher when other processes share the "
		       "core)\n",
		       median(b->wall_ms, n_runs));
		printf("  speed:            %.0fx real time (CPU time)\n", clip_s * 1e3 / med[k]);
		printf("  one vector:       %.1f us per call (batched: %.2f us per vector)\n",
		       b->single_us,
		       batched_sum * 1e3 / (double)(b->vectors_scored ? b->vectors_scored : 1));
		printf("  checksum:         %.6g (mean clip score)\n",
		       b->checksum / (double)n_runs);
	}
	printf("\n");
	/* per clip: a model with a window head counts its pipeline time, network and head */
	for (size_t k = 1; k < n_models; k++)
		printf("%s / %s: %.2fx the CPU per clip, %.2fx the inference\n", bm[k].name,
		       bm[0].name, med[k] / med[0], infer_med[k] / infer_med[0]);
	printf("peak RSS:         %.1f MB (all models together)\n", ru.ru_maxrss / 1024.0);

	free(one);
	for (size_t k = 0; k < n_models; k++) {
		free(bm[k].total_ms);
		free(bm[k].wall_ms);
		free(bm[k].feat_ms);
		free(bm[k].infer_ms);
		free(bm[k].pipe_ms);
		clip_replay_destroy(bm[k].replay);
		autoencoder_free(&bm[k].ae);
		model_free(&bm[k].m);
	}
	for (size_t i = 0; i < n_files; i++)
		free(paths[i]);
	return 0;
}
