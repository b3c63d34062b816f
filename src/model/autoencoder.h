/* autoencoder.h - scoring stacked log-mel vectors by the model's reconstruction error. */
#ifndef AUSCULT_AUTOENCODER_H
#define AUSCULT_AUTOENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "model/model.h"

/* A pure stage: autoencoder_init allocates everything; autoencoder_score never allocates. The
 * fields are private to autoencoder.c. */
struct autoencoder {
	const struct model *model; /* borrowed */
	size_t max_batch;          /* most vectors per autoencoder_score call */
	uint32_t n_mels;
	uint32_t in_dim;    /* network input width (input frames x n_mels) */
	uint32_t out_dim;   /* network output width (target frames x n_mels) */
	uint32_t max_width; /* widest layer input or output */
	uint32_t n_in_frames;
	uint32_t n_target_frames;
	uint32_t in_frames[32];     /* stacked frame index of each input frame, in order */
	uint32_t target_frames[32]; /* stacked frame index of each target frame, in order */
	float *inv_std;      /* NULL, or n_stack * n_mels reciprocals of the model's input_std */
	float *band_weights; /* n_mels: the model's, or all 1 */
	float *act_a;        /* max_batch x max_width activations (ping) */
	float *act_b;        /* max_batch x max_width activations (pong) */
};

/*
 * Prepares to score with m, which must pass model_validate and outlive ae (a pointer is kept).
 * max_batch (>= 1) is the most vectors one autoencoder_score call may score; memory is about
 * 2 x max_batch x the widest layer floats. Returns AUSCULT_OK, AUSCULT_ERR_INVALID or
 * AUSCULT_ERR_NOMEM (message in err); on failure ae needs no autoencoder_free (it is harmless).
 */
int autoencoder_init(struct autoencoder *ae, const struct model *m, size_t max_batch,
		     struct auscult_err *err);

/*
 * Scores n (<= max_batch) stacked log-mel vectors of n_stack * n_mels floats; vector i starts at
 * vectors + i * stride (stride = n_mels for overlapping views into contiguous frames, or
 * n_stack * n_mels for packed vectors). Values are standardised by the model (when it has
 * input_mean/input_std), the input frames go through the network, and vector_scores[i] is the mean
 * over the out_dim target values of the band-weighted squared error between the output and the
 * standardised target frames. If band_errors is not NULL it gets n x n_mels values: each band's
 * unweighted squared error averaged over the target frames, so that the score is the mean over
 * bands of band_weight x band_error (with unit weights: the plain mean of band_errors).
 * Never allocates, logs or fails. One thread per struct autoencoder.
 */
void autoencoder_score(struct autoencoder *ae, const float *vectors, size_t stride, size_t n,
		       float *vector_scores, float *band_errors);

/* Frees what init allocated and zeroes ae. NULL-safe; safe on a zeroed struct. */
void autoencoder_free(struct autoencoder *ae);

/*
 * One clip score from n per-vector scores by the model's aggregation: the mean of all, or
 * (CLIP_AGG_TOP_MEAN) the mean of the k largest, k = ceil(top_fraction x n) clamped to [1, n].
 * May reorder scores. Returns NaN for n == 0 or when a score is NaN.
 */
float model_clip_score(const struct model *m, float *scores, size_t n);

/*
 * Sets how many threads the BLAS library (OpenBLAS) may use for every autoencoder in the
 * process. Scoring one stream is fastest on one (threads cost more than they save at these
 * sizes). Call at start-up, before scoring.
 */
void autoencoder_set_blas_threads(int n_threads);

#endif
