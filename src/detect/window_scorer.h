/* window_scorer.h - sliding-window mean of per-vector anomaly scores, band errors and level. */
#ifndef AUSCULT_WINDOW_SCORER_H
#define AUSCULT_WINDOW_SCORER_H

#include <stdint.h>

#include "common/status.h"

/*
 * A window covers the last window_vectors model vectors and advances by hop_vectors. Every vector
 * is scored once upstream; the scorer only keeps sliding sums, so a hop costs the same whatever
 * the overlap.
 */
struct window_scorer_config {
	uint32_t window_vectors; /* W: vectors per window, >= 1 */
	uint32_t hop_vectors;    /* H: vectors between window scores, 1..W */
	uint32_t n_mels;         /* bands in each vector's band-error array, >= 1 */
	uint32_t resum_every;    /* pushes between exact recomputations of the sums (0: W) */
};

/* One finished window. Pointers stay valid until the next push. */
struct window_score {
	uint64_t index;           /* windows emitted before this one */
	uint64_t last_vector;     /* index (since init/reset) of the window's newest vector */
	float score;              /* mean of the counted vectors' scores; NaN when none counts */
	uint32_t n_counted;       /* vectors the gate let into the score, <= window_vectors */
	float rms_dbfs;           /* window RMS level, dBFS (full scale = 1.0); -inf for silence */
	const float *band_errors; /* n_mels: mean per-band error over the counted vectors */
};

struct window_scorer {
	uint32_t w, h, n_mels, resum_every;
	float *scores;    /* ring of the last W vector scores (0 for vectors not counted) */
	uint8_t *counted; /* ring: 1 when the vector counts towards the score */
	float *bands;     /* ring of the last W band-error arrays, W x n_mels */
	double *levels;   /* ring of the last W vector mean squares (sample units^2) */
	double *band_sum; /* n_mels sliding sums */
	float *band_mean; /* n_mels: the last window's means (what band_errors points to) */
	double score_sum;
	double level_sum;
	uint32_t n_counted; /* counted vectors in the ring */
	uint32_t head;      /* ring slot the next vector goes to */
	uint32_t filled;    /* vectors in the ring, <= W */
	uint32_t since_hop; /* vectors since the last window was emitted */
	uint32_t since_resum;
	uint64_t n_vectors; /* vectors pushed since init/reset */
	uint64_t n_windows;
};

/* W 63, H 16 (about 2 s and 0.5 s at the baseline's 32 ms per vector), 128 mels, resum at W. */
void window_scorer_config_defaults(struct window_scorer_config *cfg);

/*
 * Checks cfg and allocates the rings. Returns AUSCULT_OK, or AUSCULT_ERR_INVALID /
 * AUSCULT_ERR_NOMEM with err set; on failure ws holds nothing (window_scorer_free is safe).
 */
int window_scorer_init(struct window_scorer *ws, const struct window_scorer_config *cfg,
		       struct auscult_err *err);

/*
 * Adds one vector: its score, its n_mels band errors (NULL: zeros), the mean square of the
 * samples it brought in (for the level) and whether it counts (the gate's verdict: a vector of a
 * machine that is off or still settling has its level counted but not its score). Returns 1 and
 * fills *out when this vector completes a window (the first after W vectors, then every H), else
 * 0. Never allocates, never fails.
 */
int window_scorer_push(struct window_scorer *ws, float vector_score, const float *band_errors,
		       double mean_square, int counted, struct window_score *out);

/*
 * Vectors still to push before the next window completes (>= 1): a caller may hold vectors back
 * and score them in one batch up to there without delaying any window.
 */
uint32_t window_scorer_until_window(const struct window_scorer *ws);

/* Forgets every vector (after a gap in the audio). */
void window_scorer_reset(struct window_scorer *ws);

/* Frees the rings. NULL-safe; safe on a zeroed or failed-init scorer. */
void window_scorer_free(struct window_scorer *ws);

#endif
