/* dataset.h - training data: audio files -> log-mel features -> stacked vectors in one array. */
#ifndef AUSCULT_DATASET_H
#define AUSCULT_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "features/feature_params.h"

/*
 * The files to learn from and, once loaded, every stacked vector of every file in file order:
 * vector t of a file is its log-mel frames t .. t + n_stack - 1 concatenated (frame-major).
 * Zero-initialise, fill with dataset_add_path, then dataset_load; free with dataset_free.
 */
struct dataset {
	char **paths; /* n_files owned strings, in the order they were added */
	uint32_t n_files;
	uint32_t cap_files;

	struct feature_params features; /* what dataset_load computed with */
	uint32_t dim;                   /* n_stack * n_mels floats per vector */
	uint64_t n_vectors;
	float *vectors; /* n_vectors x dim, owned */
	uint64_t *
		file_first; /* n_files + 1: file i's vectors are [file_first[i], file_first[i+1]) */
};

/*
 * Adds path, collected as clip_list_add does (clip_scorer.h): a directory gives every entry under
 * it named like audio (recursively; .wav, .flac, .ogg, .oga, .aif, .aiff or .au in any case;
 * hidden entries skipped), sorted by path; anything else is added as is, so a bad file (or a
 * dangling symlink) is reported when it is loaded. Returns AUSCULT_OK; AUSCULT_ERR_IO (path
 * missing or unreadable, errno text); AUSCULT_ERR_INVALID when a directory holds no audio file;
 * AUSCULT_ERR_NOMEM. The message names the path and says what to do. On failure ds keeps the
 * files it had.
 */
int dataset_add_path(struct dataset *ds, const char *path, struct auscult_err *err);

/* Called after each loaded file (1-based index) so a tool can show progress; may be NULL. */
typedef void (*dataset_progress_fn)(void *ctx, uint32_t done, uint32_t total, const char *path);

/*
 * Computes the features of every added file with p and stacks them into ds->vectors. A file that
 * cannot be read, is not audio or is shorter than one vector fails the load with a message naming
 * it. Returns AUSCULT_OK, AUSCULT_ERR_INVALID (no files), the failing file's status, or
 * AUSCULT_ERR_NOMEM.
 */
int dataset_load(struct dataset *ds, const struct feature_params *p, dataset_progress_fn progress,
		 void *ctx, struct auscult_err *err);

/*
 * Per-dimension mean and standard deviation over vectors [0, n_rows) (population std, floored at
 * 1e-6 dB so that a constant band cannot divide by zero), into mean/std (dim floats each).
 */
void dataset_mean_std(const struct dataset *ds, uint64_t n_rows, float *mean, float *std);

/* Frees everything and zeroes ds. NULL-safe. */
void dataset_free(struct dataset *ds);

#endif
