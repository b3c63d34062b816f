/* envelope_spectrum.h - each band's envelope (modulation) spectrum over a window of short frames: periodic impacts and rubs show as peaks. */
#ifndef AUSCULT_ENVELOPE_SPECTRUM_H
#define AUSCULT_ENVELOPE_SPECTRUM_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * A bearing's impacts ring a resonance some tens of times a second; a rub swells and fades at
 * the rotation rate. Neither moves a band's mean level by much, but both make the band's dB
 * envelope periodic, which its spectrum shows as peaks. This stage takes the band dB of the
 * last n_frames short frames (band_stats' history ring), takes each band's first differences
 * (a step of the level, a valve opening, is then one impulse and not a 1/f slope that would pass
 * for a slow modulation; a sinusoid of f Hz is weighted by 2 sin(pi f / frame rate)), removes
 * their mean, weights them with a Hann window, and transforms each band with an n_fft-point
 * real FFT; the dB power at bins bin_lo..bin_hi (bin k is k x frame rate / n_fft Hz) are the
 * features, band after band.
 * Pure stage: init allocates, compute does not and cannot fail. One thread at a time.
 */

struct envelope_spectrum_config {
	uint32_t n_bands;  /* bands transformed: the first n_bands of each history row, >= 1 */
	uint32_t n_frames; /* short frames in a window, >= 4 */
	uint32_t n_fft;    /* power of two, n_frames <= n_fft <= 65536 */
	uint32_t bin_lo;   /* lowest bin kept, >= 1 (DC carries the removed mean) */
	uint32_t bin_hi;   /* highest bin kept, bin_lo <= bin_hi < n_fft / 2 */
};

struct kiss_fftr_state;

struct envelope_spectrum {
	struct envelope_spectrum_config cfg;
	struct kiss_fftr_state *fft;
	float *hann;  /* n_frames weights */
	float *bands; /* n_bands x n_frames: the window's envelopes, band after band */
	float *frame; /* n_fft: one band's weighted envelope, zero-padded */
	void *spec;   /* n_fft / 2 + 1 kiss_fft_cpx */
	float norm;   /* 1 / (sum of the weights)^2: a sinusoid of amplitude a shows as a^2 / 4 */
};

/* Features per window: n_bands x (bin_hi - bin_lo + 1); 0 when cfg is invalid. */
uint32_t envelope_spectrum_dim(const struct envelope_spectrum_config *cfg);

/* Checks cfg and allocates. AUSCULT_OK, AUSCULT_ERR_INVALID naming the field, or
 * AUSCULT_ERR_NOMEM; envelope_spectrum_free is safe after a failure. */
int envelope_spectrum_init(struct envelope_spectrum *es, const struct envelope_spectrum_config *cfg,
			   struct auscult_err *err);

/*
 * The spectra of the window that ends at the newest frame of a history ring: cap rows of row_len
 * floats (row_len >= n_bands), count frames pushed so far, frame f in row f % cap (cap >=
 * n_frames). A window with fewer than n_frames frames so far uses those it has. Writes dim
 * floats, dB, band after band. Never allocates, never fails.
 */
void envelope_spectrum_compute(struct envelope_spectrum *es, const float *history, uint32_t cap,
			       uint32_t row_len, uint64_t count, float *out);

/* FLOPs of one compute (FFTs as 2.5 N log2 N), for cost tables. */
double envelope_spectrum_flops(const struct envelope_spectrum_config *cfg);

/* Frees everything. NULL-safe, safe after a failed init. */
void envelope_spectrum_free(struct envelope_spectrum *es);

#endif
