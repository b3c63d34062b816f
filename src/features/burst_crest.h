/* burst_crest.h - how far each band's loudest frame of a window rises over the band's mean: a knock or crack shows in the one or two frames it lasts. */
#ifndef AUSCULT_BURST_CREST_H
#define AUSCULT_BURST_CREST_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * A knock rings one narrow resonance for a few tens of milliseconds: averaged over a 2-s window
 * it is lost under the machine, and a 64-ms log-mel frame spreads it over a wide band. In the
 * front end's own frames, though, the narrow band it rings holds far more power in that frame
 * than in the window's others. This stage takes the power spectra of the last n_frames frames
 * (the front end's, feature_extractor_keep_power), sums them into bands of band_bins bins
 * (bins 1..n_bins), and gives each band its crest: 10 log10 of its largest frame's power over
 * its mean power, dB, 0 (a steady band) to 10 log10 n_frames (all in one frame). A ratio, so
 * the recording's level and tilt leave it alone, and a steady sound added to a band lowers it:
 * only what comes and goes raises it.
 * Each frame is summed into bands once, when a compute first sees it, into a ring of the last
 * n_frames frames' bands: windows that overlap (the rise heads' 2-s windows every second) do
 * not sum a frame twice, and a window's largest and mean band power are contiguous loops.
 * Pure stage: init allocates, compute does not and cannot fail. One thread at a time.
 */

struct burst_crest_config {
	uint32_t n_bins;    /* bins 1..n_bins of each frame's spectrum, >= 1 */
	uint32_t band_bins; /* bins per band, >= 1, divides n_bins */
	uint32_t n_frames;  /* frames in a window, >= 1 */
};

struct burst_crest {
	struct burst_crest_config cfg;
	uint32_t n_bands;
	float *bands;      /* n_frames x n_bands: the last frames' band power, frame f at row
			      f % n_frames */
	uint64_t banded;   /* frames summed into bands so far (those of the power ring's count) */
	float *peak, *sum; /* n_bands: the window's largest and summed band power */
};

/* Features per window: n_bins / band_bins; 0 when cfg is invalid. */
uint32_t burst_crest_dim(const struct burst_crest_config *cfg);

/* Checks cfg and allocates. AUSCULT_OK, AUSCULT_ERR_INVALID naming the field, or
 * AUSCULT_ERR_NOMEM; burst_crest_free is safe after a failure. */
int burst_crest_init(struct burst_crest *bc, const struct burst_crest_config *cfg,
		     struct auscult_err *err);

/*
 * The crests of the window that ends at the newest frame of a power ring: cap rows of row_len
 * floats (row_len >= n_bins, row j holding bins 1..), count frames pushed so far, frame f in row
 * f % cap (cap >= n_frames). A window with fewer frames so far uses those it has; none, or a
 * band without power: 0. A count below the last compute's means a new stream (the ring was
 * reset): the bands start again. Writes n_bins / band_bins floats, dB. Never allocates, never
 * fails.
 */
void burst_crest_compute(struct burst_crest *bc, const float *ring, uint32_t cap, uint32_t row_len,
			 uint64_t count, float *out);

/* Forgets the frames banded: the power ring starts a new stream. */
void burst_crest_reset(struct burst_crest *bc);

/* FLOPs of one compute, for cost tables. */
double burst_crest_flops(const struct burst_crest_config *cfg);

/* Frees everything. NULL-safe, safe after a failed init. */
void burst_crest_free(struct burst_crest *bc);

#endif
