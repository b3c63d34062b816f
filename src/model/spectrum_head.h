/* spectrum_head.h - the window head's spectrum kind: a window's mean spectrum in narrow bands, scored by what lies outside the normal windows' principal subspace. */
#ifndef AUSCULT_SPECTRUM_HEAD_H
#define AUSCULT_SPECTRUM_HEAD_H

#include <stdint.h>

#include "common/status.h"

/*
 * Recordings of one machine differ from each other by 2-4 dB per band (level, tilt, the speed
 * that moves its own peaks), far more than a quiet fault adds to any band, so a band-by-band
 * model of normal windows cannot see a fault that a model of the recording itself would. Those
 * differences are strongly correlated across bands, though: a few directions (the principal
 * components of normal windows' spectra) hold most of them, while a weak new tone, hiss or
 * resonance adds a narrow bump that they do not explain. This stage gives a window's mean
 * power spectrum (the front end's frames, feature_extractor_keep_power) in n_bands bands of
 * band_bins bins from bin 1, in dB; it scores it by the residual after projecting out the
 * rank principal directions of normal windows, each band's residual over its spread on
 * normal windows left out of the fit, squared, and the mean of the largest top share of them:
 * where a fault adds a bump.
 *
 * Pure stage: init allocates; features and score do not, cannot fail, never log. One thread at
 * a time.
 */

/* The defaults of a new head: 125-Hz bands (8 bins of a 1024-point spectrum at 16 kHz) up to
 * the top of the band head's kept bands (60 bands, to 7.5 kHz: below where the rate
 * converter's or a 16-kHz recorder's anti-alias filter rolls off, so a 48-kHz microphone gives
 * them what a 16-kHz one does), 32 directions projected out, the largest 5% of the squared
 * residuals averaged (3 of 60 bands); each residual spread floored at half the median spread.
 * Chosen on bench/eval_folds.sh's tuning families (models/README.md). */
#define SPECTRUM_HEAD_BAND_HZ 125.0
#define SPECTRUM_HEAD_RANK 32u
#define SPECTRUM_HEAD_TOP_FRACTION 0.05f
#define SPECTRUM_HEAD_STD_FLOOR_REL 0.5f

/* The fewest directions a fit keeps: it needs twice as many training windows in each fold
 * (pipeline/head_fit.c), and keeps fewer than SPECTRUM_HEAD_RANK when it has fewer than twice
 * that. */
#define SPECTRUM_HEAD_MIN_RANK 4u

/* The most bands a head may have (the model loader's bound too: its basis is dim x rank). */
#define SPECTRUM_HEAD_MAX_BANDS 1024u

struct spectrum_head_config {
	uint32_t band_bins; /* front-end bins per band, >= 1 */
	uint32_t n_bands;   /* bands, 2..SPECTRUM_HEAD_MAX_BANDS */
	uint32_t n_frames;  /* frames a window's mean spans, >= 1 */
	uint32_t rank;      /* directions projected out, 1..n_bands - 1 */
	float top_fraction; /* (0, 1]: share of the bands whose squared residuals are averaged */
};

struct spectrum_head {
	struct spectrum_head_config cfg;
	uint32_t top_n;       /* bands averaged: round(n_bands x top_fraction), at least 1 */
	float *features;      /* n_bands: the last window's band dB */
	float *coef;          /* rank: its coordinates in the principal directions */
	float *resid;         /* n_bands: the last residual, scratch */
	float *top;           /* top_n: the largest squared residuals, scratch */
	float *bin_sums;      /* spectrum_head_bins: the window's power per bin, scratch */
	const float *mean;    /* n_bands: fitted band means, dB (borrowed from the model) */
	const float *inv_std; /* n_bands: 1 / the residuals' floored spread */
	const float *basis;   /* n_bands x rank, row-major: the principal directions */
};

/* Bands a score averages: round(n_bands x top_fraction), at least 1. */
uint32_t spectrum_head_top_n(uint32_t n_bands, float top_fraction);

/* Highest front-end bin the bands reach (band_bins x n_bands): what the power ring must keep. */
uint32_t spectrum_head_bins(const struct spectrum_head_config *cfg);

/* Checks cfg and allocates. AUSCULT_OK, AUSCULT_ERR_INVALID naming the field, AUSCULT_ERR_NOMEM;
 * spectrum_head_free is safe after a failure. */
int spectrum_head_init(struct spectrum_head *sh, const struct spectrum_head_config *cfg,
		       struct auscult_err *err);

/* Scores against these statistics from now on (borrowed: they must outlive sh). */
void spectrum_head_restore(struct spectrum_head *sh, const float *mean, const float *inv_std,
			   const float *basis);

/*
 * The band dB of the mean of the last n_frames power rows (fewer while fewer have come) of ring
 * (the front end's power ring: cap rows of row_len values, bins 1..row_len, frame f in row f %
 * cap, count frames so far; row_len >= spectrum_head_bins, which the pipeline's power ring is
 * sized to hold). Returns sh->features (zeros before the first frame, and for a row_len too
 * short: nothing is read past a row).
 */
const float *spectrum_head_features(struct spectrum_head *sh, const float *ring, uint32_t cap,
				    uint32_t row_len, uint64_t count);

/* The residual of features x (n_bands) off the subspace: r = (x - mean) - B B^T (x - mean),
 * with coef (rank) as scratch. The fit's held-out residuals and spectrum_head_score both come
 * from here, so they round alike. */
void spectrum_head_residual(const float *x, const float *mean, const float *basis, uint32_t n_bands,
			    uint32_t rank, float *coef, float *r);

/* The mean of the largest top_n of (r[b] x inv_std[b])^2 over n_bands (top: top_n floats of
 * scratch). What the fit and the score share. */
float spectrum_head_residual_score(const float *r, const float *inv_std, uint32_t n_bands,
				   uint32_t top_n, float *top);

/* The score of the last features (spectrum_head_features): the mean of the largest top_n
 * squared standardised residuals. NaN before spectrum_head_restore. */
float spectrum_head_score(struct spectrum_head *sh);

/* FLOPs per second of audio: the band sums of each window's frames and one score per hop_s. */
double spectrum_head_flops_per_s(const struct spectrum_head_config *cfg, double hop_s);

/* NULL-safe; safe after a failed init. */
void spectrum_head_free(struct spectrum_head *sh);

#endif
