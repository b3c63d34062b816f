/* tone_peaks.h - how far each bin of a window's long-term spectrum rises above its neighbours: a new tone or harmonic set shows as peaks. */
#ifndef AUSCULT_TONE_PEAKS_H
#define AUSCULT_TONE_PEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * A weak new tone (a whine, a gear's new harmonic set) adds little to any mel band, and
 * recordings of one machine differ in level and tilt by more than it does. Averaged over a
 * window's frames, though, a tone stands out of its neighbouring bins by the processing gain of
 * the average, and a bin's rise above its own neighbours does not move with the recording's
 * level or tilt. This stage takes the power spectra of the last n_frames frames (the front
 * end's, feature_extractor_keep_power), averages them, and gives each bin k in 1..n_bins its dB
 * minus the mean dB of the bins near..far away on either side (those within 1..n_bins).
 * Pure stage: init allocates, compute does not and cannot fail. One thread at a time.
 */

struct tone_peaks_config {
	uint32_t n_bins;   /* bins 1..n_bins of each frame's spectrum, >= 2 */
	uint32_t n_frames; /* frames in a window, >= 1 */
	uint32_t near;     /* nearest neighbour compared, >= 1 bin away (a tone's own leakage
			      reaches the bins next to it) */
	uint32_t far;      /* farthest, near <= far < n_bins */
};

struct tone_peaks {
	struct tone_peaks_config cfg;
	double *cum; /* n_bins + 1: running sums of the dB, for the neighbours' means */
	float *db;   /* n_bins */
};

/* Features per window: n_bins; 0 when cfg is invalid. */
uint32_t tone_peaks_dim(const struct tone_peaks_config *cfg);

/* Checks cfg and allocates. AUSCULT_OK, AUSCULT_ERR_INVALID naming the field, or
 * AUSCULT_ERR_NOMEM; tone_peaks_free is safe after a failure. */
int tone_peaks_init(struct tone_peaks *tp, const struct tone_peaks_config *cfg,
		    struct auscult_err *err);

/*
 * The peaks of the window that ends at the newest frame of a power ring: cap rows of row_len
 * floats (row_len >= n_bins, row j holding bins 1..), count frames pushed so far, frame f in
 * row f % cap (cap >= n_frames). A window with fewer frames so far uses those it has (none:
 * zeros). Writes n_bins floats, dB. Never allocates, never fails.
 */
void tone_peaks_compute(struct tone_peaks *tp, const float *ring, uint32_t cap, uint32_t row_len,
			uint64_t count, float *out);

/* The same from the window's frames already summed bin by bin (sums: n_bins floats or more,
 * the last have frames' powers added frame by frame in time order, as tone_peaks_compute adds
 * them: the same bits; have 0: zeros), e.g. a spectrum head's (model/spectrum_head.h) sums of
 * the same frames. Never allocates, never fails. */
void tone_peaks_compute_summed(struct tone_peaks *tp, const float *sums, uint32_t have, float *out);

/* FLOPs of one compute, for cost tables. */
double tone_peaks_flops(const struct tone_peaks_config *cfg);

/* Frees everything. NULL-safe, safe after a failed init. */
void tone_peaks_free(struct tone_peaks *tp);

#endif
