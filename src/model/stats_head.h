/* stats_head.h - a diagonal Gaussian of window-level features fitted on normal windows: score = how far a window lies from them. */
#ifndef AUSCULT_STATS_HEAD_H
#define AUSCULT_STATS_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * A second scoring head beside the autoencoder: each feature's mean and standard deviation over
 * the normal windows it was fitted on, and a window's score from its per-feature z-scores
 * z_i = (x_i - mean_i) / std_i:
 *   top_fraction = 1: the mean of z^2 (the Mahalanobis distance with a diagonal covariance,
 *                     divided by the dimension);
 *   top_fraction < 1: the mean of the largest ceil(top_fraction * dim) z^2: a fault that moves
 *                     a few features (one tone, one resonance band) is not averaged away by the
 *                     hundreds it leaves alone.
 *   rise_only:       the largest k z themselves instead of z^2, so that only a feature above
 *                     its normal range counts. A fault adds to what the machine makes (energy,
 *                     a tone, periodic impacts in a band's envelope); a normal window whose
 *                     modulation or level happens to dip is not one, yet z^2 scores the dip
 *                     like a rise. On the envelope spectra, bearing impacts reach AUC 0.94
 *                     this way against 0.76 with the mean z^2 (bench/eval_detector.sh, seed 1).
 * shrinkage >= 0 (full covariance): score = z^T P z / dim, P the inverse of the features'
 *                     correlation matrix shrunk toward the identity, (1 - shrinkage) C +
 *                     shrinkage I. Recordings of one machine differ from each other in ways that
 *                     move many features together (background level, spectral tilt); the full
 *                     model discounts those directions and keeps a fault's pattern, which the
 *                     diagonal model drowns in them. top_fraction is ignored then.
 * The std has a floor (std_floor_rel times the median std) so that a feature that never moved
 * in training cannot make any change infinite.
 */

struct stats_head_config {
	uint32_t dim;        /* features per window */
	float top_fraction;  /* (0, 1]: share of the largest z^2 averaged into the score */
	uint32_t top_count;  /* > 0: average exactly this many (at most dim) instead */
	int rise_only;       /* diagonal model: average the largest z, not z^2 (see above) */
	float std_floor_rel; /* >= 0: std floor relative to the median feature std */
	float shrinkage;     /* < 0: diagonal model; [0, 1]: full covariance, shrunk (see above) */
};

struct stats_head {
	struct stats_head_config cfg;
	double *sum, *sumsq; /* dim: sums over the fitted windows */
	uint64_t n_windows;  /* windows added */
	float *mean;         /* dim: fitted means (valid after stats_head_fit) */
	float *inv_std;      /* dim: 1 / fitted (floored) std */
	float *z2;           /* dim: scratch of one window's z^2 (or z: full model, rise_only) */
	double *cross;       /* full: dim x dim sums of x x^T over the fitted windows */
	float *precision;    /* full: dim x dim inverse shrunk correlation (after the fit) */
	uint32_t k;          /* values averaged: ceil(top_fraction * dim) */
	uint32_t top;        /* diagonal: the feature with the largest z (rise_only) or z^2 in the
				last score */
};

/* dim 0 (set it), top_fraction 1, top_count 0, rise_only 0, std_floor_rel 0.1, shrinkage -1 (diagonal). */
void stats_head_config_defaults(struct stats_head_config *cfg);

/* Checks cfg and allocates. AUSCULT_OK, AUSCULT_ERR_INVALID naming the field, or
 * AUSCULT_ERR_NOMEM; stats_head_free is safe after a failure. */
int stats_head_init(struct stats_head *h, const struct stats_head_config *cfg,
		    struct auscult_err *err);

/* Adds one normal window (dim floats) to the fit. Never allocates, never fails. */
void stats_head_add(struct stats_head *h, const float *x);

/*
 * Fixes mean and std (and the full model's precision) from the windows added so far.
 * AUSCULT_ERR_INVALID when fewer than 2 windows were added or a sum is not finite (err says
 * which); AUSCULT_ERR_NOMEM.
 */
int stats_head_fit(struct stats_head *h, struct auscult_err *err);

/*
 * Sets the fitted diagonal statistics directly (a model file's): dim means and stds (finite,
 * >= 0; the floor applies). AUSCULT_ERR_INVALID naming the first bad value. A full model's
 * precision is set by stats_head_fit only.
 */
int stats_head_set(struct stats_head *h, const float *mean, const float *std,
		   struct auscult_err *err);

/*
 * Sets a full model's fitted state directly (a model file's): dim means, dim inverse stds (> 0)
 * and the dim x dim precision, all finite. For a head initialised with shrinkage >= 0.
 * AUSCULT_ERR_INVALID naming the first bad value.
 */
int stats_head_restore(struct stats_head *h, const float *mean, const float *inv_std,
		       const float *precision, struct auscult_err *err);

/* The score of one window (dim floats) after a fit; a diagonal head also keeps in h->top the
 * feature of the largest z (rise_only: that rose most) or z^2. Never allocates, never fails. One thread at a time per struct (it
 * uses the scratch). */
float stats_head_score(struct stats_head *h, const float *x);

/* Frees everything. NULL-safe, safe after a failed init. */
void stats_head_free(struct stats_head *h);

#endif
