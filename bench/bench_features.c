/* bench_features.c - front-end speed: file -> log-mel frames over the 75 real 10-s recordings, one core. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/clock.h"
#include "features/features_file.h"

#define TRAIN_DIR AUSCULT_SHARED_DIR "/data/dcase2020_id00/train"
#define ROUNDS 5
#define MAX_FILES 256

/*
 * CPU time of this (single-threaded) process: on a machine shared with other work, wall time
 * also counts the time slices the others take; CPU time counts only ours (their cache traffic
 * still shows).
 */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sink that only keeps a checksum, so the work cannot be optimised away and output costs 0. */
static int count_sink(void *ctx, const float *frames, size_t n_frames, struct auscult_err *err)
{
	(void)err;
	double *acc = ctx;
	acc[0] += (double)n_frames;
	acc[1] += frames[0];
	return AUSCULT_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char *files[MAX_FILES];
	size_t n_files = 0;
	DIR *d = opendir(TRAIN_DIR);
	if (!d) {
		fprintf(stderr, "bench_features: %s: cannot open the recordings folder\n",
			TRAIN_DIR);
		return 1;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n_files < MAX_FILES) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".wav") != 0)
			continue;
		size_t sz = strlen(TRAIN_DIR) + len + 2;
		files[n_files] = malloc(sz);
		if (!files[n_files])
			return 1;
		snprintf(files[n_files], sz, "%s/%s", TRAIN_DIR, de->d_name);
		n_files++;
	}
	closedir(d);
	qsort(files, n_files, sizeof(files[0]), cmp_str);
	if (n_files == 0) {
		fprintf(stderr, "bench_features: no .wav in %s\n", TRAIN_DIR);
		return 1;
	}

	struct feature_params p;
	feature_params_defaults(&p);
	double round_s[ROUNDS], round_cpu_s[ROUNDS], audio_s = 0.0, acc[2] = { 0, 0 };
	struct auscult_err err;
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = clock_mono_s(), c0 = cpu_s();
		audio_s = 0.0;
		for (size_t i = 0; i < n_files; i++) {
			size_t n_samples;
			if (features_stream_file(files[i], &p, FRAMING_CENTRED, count_sink, acc,
						 &n_samples, &err) != AUSCULT_OK) {
				fprintf(stderr, "bench_features: %s\n", err.msg);
				return 1;
			}
			audio_s += (double)n_samples / p.sample_rate_hz;
		}
		round_s[r] = clock_mono_s() - t0;
		round_cpu_s[r] = cpu_s() - c0;
	}
	qsort(round_s, ROUNDS, sizeof(double), cmp_double);
	qsort(round_cpu_s, ROUNDS, sizeof(double), cmp_double);
	double med = round_s[ROUNDS / 2];

	/* The DSP alone on samples already in memory: how much of the total is file reading. */
	struct feature_extractor fx;
	if (feature_extractor_init(&fx, &p, FRAMING_CENTRED, &err) != AUSCULT_OK) {
		fprintf(stderr, "bench_features: %s\n", err.msg);
		return 1;
	}
	size_t n_sig = 160000;
	float *sig = malloc(n_sig * sizeof(*sig));
	float *out = malloc(feature_extractor_max_frames(&fx, n_sig) * p.n_mels * sizeof(*out));
	if (!sig || !out)
		return 1;
	for (size_t i = 0; i < n_sig; i++)
		sig[i] = (float)((i * 2654435761u) % 65536) / 32768.0f - 1.0f;
	double dsp[ROUNDS], dsp_cpu[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = clock_mono_s(), c0 = cpu_s();
		for (size_t i = 0; i < n_files; i++) {
			feature_extractor_reset(&fx);
			size_t n = feature_extractor_push(&fx, sig, n_sig, out);
			n += feature_extractor_finish(&fx, out + n * p.n_mels);
			acc[0] += (double)n;
		}
		dsp[r] = clock_mono_s() - t0;
		dsp_cpu[r] = cpu_s() - c0;
	}
	qsort(dsp, ROUNDS, sizeof(double), cmp_double);
	qsort(dsp_cpu, ROUNDS, sizeof(double), cmp_double);
	size_t heap = feature_extractor_heap_bytes(&fx) +
		      FEATURES_FILE_BLOCK_SAMPLES * sizeof(float) +
		      feature_extractor_max_frames(&fx, FEATURES_FILE_BLOCK_SAMPLES) * p.n_mels *
			      sizeof(float);
	feature_extractor_free(&fx);

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double clip_s = audio_s / n_files;
	printf("bench_features: %zu files, %.1f s of audio per round, %d rounds (checksum %.0f)\n",
	       n_files, audio_s, ROUNDS, acc[0]);
	printf("file->features: median %.3f ms per round, %.4f ms per %.0f-s clip, %.0fx real "
	       "time (best round %.0fx)\n",
	       med * 1e3, med / n_files * 1e3, clip_s, audio_s / med, audio_s / round_s[0]);
	printf("features only (samples in memory): %.4f ms per 10-s clip, %.0fx real time\n",
	       dsp[ROUNDS / 2] / n_files * 1e3, n_files * 10.0 / dsp[ROUNDS / 2]);
	printf("CPU time (not the others' time slices): file->features median %.4f ms per clip, "
	       "%.0fx real time; features only %.4f ms, %.0fx\n",
	       round_cpu_s[ROUNDS / 2] / n_files * 1e3, audio_s / round_cpu_s[ROUNDS / 2],
	       dsp_cpu[ROUNDS / 2] / n_files * 1e3, n_files * 10.0 / dsp_cpu[ROUNDS / 2]);
	printf("memory: front-end heap %zu bytes (extractor + read block + frame block; audio layer "
	       "not counted), peak RSS %ld KiB\n",
	       heap, ru.ru_maxrss);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(sig);
	free(out);
	return 0;
}
