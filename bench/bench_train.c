/* bench_train.c - seconds per training epoch of the baseline network, on one and two threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/clock.h"
#include "features/feature_params.h"
#include "train/dataset.h"
#include "train/trainer.h"

/* What the issue measured for the same recipe and data in torch on one thread. */
#define TORCH_1THREAD_S 0.29

#define MAX_EPOCHS 1000

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * usage: bench_train [EPOCHS [DATA_DIR [THREADS]]]
 * Loads normals 00..54 of DATA_DIR (default: the shared DCASE id 00 set; 55 x 309 = 16,995
 * vectors, 15,295 after the baseline's 10% validation split), then times EPOCHS (default 4,
 * at most 1000) epochs of the baseline recipe with 1 and with 2 OpenBLAS threads (THREADS: only
 * that many). The first epoch is reported apart (page faults, thread start-up); the figures are
 * the median and the mean of the others, the median being the one to quote on a shared machine.
 */
int main(int argc, char **argv)
{
	int epochs = argc > 1 ? atoi(argv[1]) : 4;
	const char *dir = argc > 2 && argv[2][0] ? argv[2]
						 : AUSCULT_SHARED_DIR "/data/dcase2020_id00/train";
	int only_threads = argc > 3 ? atoi(argv[3]) : 0;
	if (epochs < 2 || epochs > MAX_EPOCHS) {
		fprintf(stderr, "bench_train: EPOCHS %d is out of range [2, %d]\n", epochs,
			MAX_EPOCHS);
		return 2;
	}
	if (argc > 3 && (only_threads < 1 || only_threads > 256)) {
		fprintf(stderr, "bench_train: THREADS %s is out of range [1, 256]\n", argv[3]);
		return 2;
	}
	static double secs[MAX_EPOCHS];
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct auscult_err err = { { 0 } };
	char path[4096];
	for (int i = 0; i <= 54; i++) {
		snprintf(path, sizeof(path), "%s/normal_id_00_%08d.wav", dir, i);
		if (dataset_add_path(&ds, path, &err)) {
			fprintf(stderr, "bench_train: %s\n", err.msg);
			return 1;
		}
	}
	struct feature_params fp;
	feature_params_defaults(&fp);
	double load_start_s = clock_mono_s();
	if (dataset_load(&ds, &fp, NULL, NULL, &err)) {
		fprintf(stderr, "bench_train: %s\n", err.msg);
		dataset_free(&ds);
		return 1;
	}
	double load_s = clock_mono_s() - load_start_s;
	printf("features: %u files, %llu vectors in %.2f s\n", ds.n_files,
	       (unsigned long long)ds.n_vectors, load_s);

	uint32_t *cols = malloc(ds.dim * sizeof(uint32_t));
	if (!cols) {
		dataset_free(&ds);
		return 1;
	}
	for (uint32_t j = 0; j < ds.dim; j++)
		cols[j] = j;
	struct trainer_data data = { .rows = ds.vectors,
				     .n_rows = ds.n_vectors,
				     .row_dim = ds.dim,
				     .n_in = ds.dim,
				     .in_cols = cols,
				     .n_out = ds.dim,
				     .out_cols = cols };
	int status = 0;
	int lo = only_threads ? only_threads : 1, hi = only_threads ? only_threads : 2;
	for (int threads = lo; threads <= hi; threads++) {
		struct trainer_config cfg;
		trainer_config_defaults(&cfg);
		cfg.threads = threads;
		cfg.seed = 1;
		struct trainer *t = NULL;
		if (trainer_create(&t, &cfg, &data, &err)) {
			fprintf(stderr, "bench_train: %s\n", err.msg);
			status = 1;
			break;
		}
		double rest = 0;
		struct trainer_epoch_stats st = { 0 };
		for (int e = 0; e < epochs; e++) {
			trainer_run_epoch(t, NULL, &st);
			secs[e] = st.seconds;
			if (e > 0)
				rest += st.seconds;
		}
		int n = epochs - 1;
		qsort(secs + 1, (size_t)n, sizeof(secs[0]), cmp_double);
		double median = n % 2 ? secs[1 + n / 2] : 0.5 * (secs[n / 2] + secs[1 + n / 2]);
		printf("threads %d: %llu training vectors, epoch 1 %.3f s, then %.3f s per epoch "
		       "(median of %d, mean %.3f; validation included), loss %.3f, val %.3f\n",
		       threads, (unsigned long long)trainer_train_rows(t), secs[0], median, n,
		       rest / n, (double)st.train_loss, (double)st.val_loss);
		if (threads == 1)
			printf("threads 1: %.3f s against torch's %.2f s per epoch on one thread: "
			       "%.2fx (%s)\n",
			       median, TORCH_1THREAD_S, TORCH_1THREAD_S / median,
			       median < TORCH_1THREAD_S ? "faster" : "slower");
		trainer_destroy(t);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS: %.1f MB (the vectors alone: %.1f MB)\n", (double)ru.ru_maxrss / 1024.0,
	       (double)ds.n_vectors * ds.dim * sizeof(float) / 1e6);
	free(cols);
	dataset_free(&ds);
	return status;
}
