/* clip_scorer.h - one score per audio file, for the score and eval tools, trainer, benchmarks. */
#ifndef AUSCULT_CLIP_SCORER_H
#define AUSCULT_CLIP_SCORER_H

#include <stddef.h>

#include "common/status.h"
#include "model/autoencoder.h"
#include "model/model.h"

/*
 * Scores one audio file with the model: features_from_file with the model's feature params,
 * autoencoder over all its vectors, clip score by the model's aggregation. Optionally returns
 * per-band mean errors (n_mels) for explanations.
 *
 * ae must have been initialised by the caller with autoencoder_init(ae, m, max_batch, ...); the
 * file's vectors are scored max_batch at a time. band_errors (may be NULL) receives n_mels values:
 * each band's unweighted squared error averaged over every vector of the clip. The features and
 * per-vector scores of the clip are allocated for the call and freed before it returns.
 * Returns AUSCULT_OK with a finite *clip_score, or the failing status with err naming the file
 * and the fault (unreadable, not audio, too short for one vector, non-finite score).
 * Thread-safe when each thread uses its own ae.
 */
int clip_score_file(const struct model *m, struct autoencoder *ae, const char *path,
		    float *clip_score, float *band_errors, struct auscult_err *err);

/*
 * A list of audio file paths, in the order given (each directory's files sorted): what the tools
 * score and, through dataset_add_path, what training learns from.
 */
struct clip_list {
	char **paths; /* count owned strings */
	size_t count;
	size_t capacity;
};

/*
 * Adds path to the list: a regular file (or anything not a directory) as is, so that a bad file
 * is reported by whoever opens it; a directory: every entry under it, recursively, named like
 * audio (.wav .flac .ogg .oga .aif .aiff .au, any case; dangling symlinks too), hidden entries
 * skipped, sorted by path. Returns AUSCULT_OK; AUSCULT_ERR_IO if path does not exist or a directory cannot be
 * read; AUSCULT_ERR_INVALID if a directory holds no audio file; AUSCULT_ERR_NOMEM. The message
 * names the path. On failure the list keeps what it held before the call.
 */
int clip_list_add(struct clip_list *l, const char *path, struct auscult_err *err);

/* Frees the paths and zeroes the list. NULL-safe; safe on a zeroed list. */
void clip_list_free(struct clip_list *l);

#endif
