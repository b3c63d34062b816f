/* bench_score.c - end-to-end clip scoring speed (WAV -> log-mel -> autoencoder -> clip score). */
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
#include "train/model_info.h"

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

/* The DCASE baseline's shape with seeded random (Glorot-uniform) weights. */
static int random_baseline(struct model *m)
{
	static const uint32_t widths[] = { 640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640 };
	memset(m, 0, sizeof(*m));
	feature_params_defaults(&m->features);
	m->input_frames = m->target_frames = 0x1f;
	m->aggregation = CLIP_AGG_MEAN;
	m->n_layers = 10;
	m->layers = calloc(10, sizeof(*m->layers));
	if (!m->layers)
		return -1;
	for (int i = 0; i < 10; i++) {
		struct dense_layer *l = &m->layers[i];
		l->n_in = widths[i];
		l->n_out = widths[i + 1];
		l->activation = i == 9 ? ACTIVATION_LINEAR : ACTIVATION_RELU;
		l->weights = malloc((size_t)l->n_in * l->n_out * sizeof(float));
		l->bias = calloc(l->n_out, sizeof(float));
		if (!l->weights || !l->bias)
			return -1;
		float scale = sqrtf(6.0f / (float)(l->n_in + l->n_out));
		for (size_t j = 0; j < (size_t)l->n_in * l->n_out; j++)
			l->weights[j] = uniform(scale);
	}
	m->threshold = (struct model_threshold){ 2.0f, 1.0f, 0.9f, 1.0f };
	m->training.val_loss = NAN;
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

int main(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: bench_score [MODEL]\n");
		return 2;
	}
	autoencoder_set_blas_threads(1);
	struct model m;
	struct auscult_err err;
	if (argc == 2) {
		if (model_load(&m, argv[1], &err) != AUSCULT_OK) {
			fprintf(stderr, "bench_score: %s\n", err.msg);
			return 1;
		}
	} else if (random_baseline(&m) != 0) {
		fprintf(stderr, "bench_score: out of memory\n");
		return 1;
	}
	char arch[256];
	model_architecture(&m, arch, sizeof(arch));

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

	struct autoencoder ae;
	if (autoencoder_init(&ae, &m, MAX_BATCH, &err) != AUSCULT_OK) {
		fprintf(stderr, "bench_score: %s\n", err.msg);
		return 1;
	}
	const struct feature_params *p = &m.features;
	const size_t n_runs = ROUNDS * n_files;
	double *total_ms = malloc(n_runs * sizeof(double));
	double *wall_ms = malloc(n_runs * sizeof(double));
	double *feat_ms = malloc(n_runs * sizeof(double));
	double *infer_ms = malloc(n_runs * sizeof(double));
	float *scores = malloc(MAX_BATCH * sizeof(float));
	if (!total_ms || !wall_ms || !feat_ms || !infer_ms || !scores) {
		fprintf(stderr, "bench_score: out of memory\n");
		return 1;
	}
	double audio_s = 0, checksum = 0;
	size_t run = 0, vectors_scored = 0;
	for (int round = 0; round < ROUNDS; round++) {
		for (size_t f = 0; f < n_files; f++, run++) {
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
			/* Long files go through in MAX_BATCH pieces; the mean of their means is not
			 * the clip's mean, so scores are kept and aggregated once. */
			float *all = malloc((n_vec ? n_vec : 1) * sizeof(float));
			if (!all) {
				fprintf(stderr, "bench_score: out of memory\n");
				return 1;
			}
			for (size_t done = 0; done < n_vec; done += MAX_BATCH) {
				size_t n = n_vec - done < MAX_BATCH ? n_vec - done : MAX_BATCH;
				autoencoder_score(&ae, frames + done * p->n_mels, p->n_mels, n,
						  all + done, NULL);
			}
			float clip = model_clip_score(&m, all, n_vec);
			double t2 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
			checksum += clip;
			vectors_scored += n_vec;
			if (round == 0)
				audio_s += (double)(n_frames - 1) * p->hop_length /
					   p->sample_rate_hz;
			total_ms[run] = t2 - t0;
			wall_ms[run] = clock_ms(CLOCK_MONOTONIC) - w0;
			feat_ms[run] = t1 - t0;
			infer_ms[run] = t2 - t1;
			free(all);
			free(frames);
		}
	}

	/* The streaming daemon scores one vector per hop: its cost per call. */
	float *one = calloc(640 * 5, sizeof(float));
	double single_us = NAN, batched_us = NAN;
	if (one && feature_params_vector_dim(p) <= 640 * 5) {
		for (int i = 0; i < 640 * 5; i++)
			one[i] = uniform(40.0f) - 40.0f;
		const int reps = 2000;
		double t0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
		for (int i = 0; i < reps; i++)
			autoencoder_score(&ae, one, p->n_mels, 1, scores, NULL);
		single_us = (clock_ms(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e3 / reps;
		double sum_infer = 0;
		for (size_t i = 0; i < n_runs; i++)
			sum_infer += infer_ms[i];
		batched_us = sum_infer * 1e3 / (double)(vectors_scored ? vectors_scored : 1);
	}

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double clip_s = audio_s / (double)n_files;
	double med = median(total_ms, n_runs);
	printf("model:            %s (%s, %llu parameters)\n",
	       argc == 2 ? argv[1] : "random baseline", arch,
	       (unsigned long long)model_param_count(&m));
	printf("recordings:       %zu (%.1f s of audio each), %d rounds, 1 BLAS thread\n", n_files,
	       clip_s, ROUNDS);
	printf("per clip (CPU):   median %.3f ms (features %.3f ms, inference %.3f ms)\n", med,
	       median(feat_ms, n_runs), median(infer_ms, n_runs));
	printf("per clip (wall):  median %.3f ms (higher when other processes share the core)\n",
	       median(wall_ms, n_runs));
	printf("speed:            %.0fx real time (CPU time)\n", clip_s * 1e3 / med);
	printf("one vector:       %.1f us per call (batched: %.2f us per vector)\n", single_us,
	       batched_us);
	printf("peak RSS:         %.1f MB\n", ru.ru_maxrss / 1024.0);
	printf("checksum:         %.6g (mean clip score)\n", checksum / (double)n_runs);

	free(one);
	free(total_ms);
	free(wall_ms);
	free(feat_ms);
	free(infer_ms);
	free(scores);
	for (size_t i = 0; i < n_files; i++)
		free(paths[i]);
	autoencoder_free(&ae);
	model_free(&m);
	return 0;
}
