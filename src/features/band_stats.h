/* band_stats.h - window-level spectral statistics (long-term spectrum, band level and spread, envelope modulation) for stationary faults. */
#ifndef AUSCULT_BAND_STATS_H
#define AUSCULT_BAND_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * Log-mel frames of 64 ms with a frame-by-frame score blur a weak tone into a wide band and hide
 * a small steady change in their frame-to-frame variance. This stage summarises a whole window
 * (seconds) instead, so a small steady change adds up over every frame of it:
 *
 *   fine:   the long-term power spectrum, dB, bins 1..fine_n_fft/2 (a weak tone or harmonic set
 *           stands out of the averaged floor by the processing gain of the average);
 *   mean:   each linear band's mean log energy over the window's short frames, dB;
 *   spread: each band's standard deviation of log energy over the window, dB;
 *   mod:    each band's envelope (modulation) spectrum: the dB envelope at the short-frame rate,
 *           Hann-weighted over the window, at n_mod frequencies from mod_min_hz to mod_max_hz,
 *           as 10 log10 |X|^2 (periodic impacts on a resonance, a rub at the rotation rate).
 *
 * The vector of one window is [fine | mean | spread | mod (band-major)], band_stats_dim floats.
 * Streaming: pushes of any size, O(hop) work per short frame, no allocation after init.
 */

struct band_stats_config {
	uint32_t sample_rate_hz; /* input rate */
	uint32_t n_fft;          /* short frame (envelope) FFT size, power of two */
	uint32_t hop;            /* short frame hop, samples: sets the envelope rate; above
				    n_fft the samples between frames are not analysed */
	uint32_t n_bands;        /* linear bands over 0..rate/2; divides n_fft / 2 */
	uint32_t fine_n_fft;     /* long-term spectrum FFT size, power of two; 0 = no fine part */
	uint32_t fine_hop;       /* its hop, samples */
	uint32_t n_mod;          /* modulation frequencies; 0 = no modulation part */
	float mod_min_hz;        /* lowest modulation frequency, Hz */
	float mod_max_hz;        /* highest, Hz; below the envelope's Nyquist rate / hop / 2 */
	uint32_t window_frames;  /* short frames per window (window length = this * hop) */
	uint32_t history_frames; /* 0, or keep every band's dB of the last this many short frames
				    (band_stats_history), for envelope spectra over any window */
	int history_only;        /* 1: no window vectors (process counts the windows, writes
				    nothing): the short frames feed only the history, and without
				    one are not analysed at all */
};

struct kiss_fftr_state;

struct band_stats {
	struct band_stats_config cfg;
	uint32_t dim, n_fine; /* vector length; fine bins (fine_n_fft / 2 or 0) */
	struct kiss_fftr_state *fft, *fine_fft;
	float *hann, *fine_hann;       /* analysis windows */
	float *buf, *fine_buf;         /* the samples of the frame being filled */
	uint32_t fill, fine_fill;      /* samples in buf / fine_buf */
	uint32_t skip;                 /* samples to pass over before the next short frame (a
					  hop longer than n_fft leaves gaps between frames) */
	float *frame;                  /* max(n_fft, fine_n_fft) windowed frame scratch */
	void *spec;                    /* kiss_fft_cpx bins scratch */
	double *fine_power;            /* n_fine: sum of power this window */
	uint32_t fine_frames;          /* fine frames summed this window */
	double *band_sum, *band_sumsq; /* n_bands: sums of dB energy this window */
	double *band_ref;              /* n_bands: previous window's mean dB (envelope offset) */
	float *band_db;                /* n_bands: this frame's band energies, then their dB */
	int have_ref;                  /* band_ref is set (0 until the first frame of a signal) */
	double *mod_re, *mod_im;       /* n_bands x n_mod sums of the weighted envelope x phasor */
	double *rot_re, *rot_im;       /* n_mod: one frame's phasor rotation */
	double *ph_re, *ph_im;         /* n_mod: the current phasor */
	float *time_hann;              /* window_frames weights of the envelope */
	uint32_t frames;               /* short frames in the current window */
	float *history;                /* history_frames x n_bands dB, a ring; NULL without */
	uint64_t history_count;        /* short frames since the last reset */
};

/* 16 kHz; 256-point frames every 128 samples (125 Hz envelope); 16 bands; 1024-point fine
 * spectrum every 512; modulation 2..62 Hz in 31 steps; 2-s windows (250 frames); no history;
 * window vectors. */
void band_stats_config_defaults(struct band_stats_config *cfg);

/* Floats in one window's vector for cfg (0 when cfg is invalid). */
uint32_t band_stats_dim(const struct band_stats_config *cfg);

/*
 * Checks cfg and allocates everything. AUSCULT_OK, or AUSCULT_ERR_INVALID naming the field, or
 * AUSCULT_ERR_NOMEM; band_stats_free is safe after a failure. The struct belongs to its caller.
 */
int band_stats_init(struct band_stats *bs, const struct band_stats_config *cfg,
		    struct auscult_err *err);

/* Most windows a push of n_samples can complete (size out with it * dim floats). */
size_t band_stats_max_windows(const struct band_stats *bs, size_t n_samples);

/*
 * Pushes samples; writes each window completed by them (dim floats) to out (nothing with
 * history_only: out may then be NULL), returns how many. Never allocates, never fails, never
 * logs. One thread at a time per struct.
 */
size_t band_stats_process(struct band_stats *bs, const float *samples, size_t n_samples,
			  float *out);

/* The history ring (history_frames x n_bands dB, frame f at row f % history_frames) and the
 * short frames since the last reset (*count; the newest is row (count - 1) % history_frames).
 * NULL without a history. */
const float *band_stats_history(const struct band_stats *bs, uint64_t *count);

/* Starts a new signal: forgets pushed samples, the partial window, the envelope offset and the
 * history. */
void band_stats_reset(struct band_stats *bs);

/* Frees everything. NULL-safe, safe after a failed init. */
void band_stats_free(struct band_stats *bs);

/* Offsets of the parts in a vector (the length of each follows from cfg). */
uint32_t band_stats_offset_mean(const struct band_stats *bs);
uint32_t band_stats_offset_spread(const struct band_stats *bs);
uint32_t band_stats_offset_mod(const struct band_stats *bs);

/* FLOPs spent per second of input by process (FFTs as 2.5 N log2 N), for cost tables. */
double band_stats_flops_per_s(const struct band_stats_config *cfg);

#endif
