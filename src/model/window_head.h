/* window_head.h - the window-statistics head at run time: band energies streamed in blocks, pooled over a window, scored. */
#ifndef AUSCULT_WINDOW_HEAD_H
#define AUSCULT_WINDOW_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "features/band_stats.h"
#include "model/model.h"
#include "model/spectrum_head.h"
#include "model/stats_head.h"

/*
 * Samples stream through band_stats in blocks of one feature hop (hop_length / head.hop short
 * frames, 4 at the defaults): each block gives its bands' mean and spread of dB energy. A ring
 * keeps the last window_blocks of them; a window's features are the pooled mean and spread over
 * its blocks (exact: the pooled second moment is the mean of spread^2 + mean^2), so windows of
 * any hop cost O(window_blocks x bands) each and the audio is analysed once.
 *
 * The same code fits the head (model/stats_head.h, full covariance) in training and scores it in
 * the pipeline, so both see identical features. Pure stage: init allocates, push and score do
 * not, cannot fail, never log. One thread at a time.
 */

/* The defaults of a new head: 256-point short frames every 128 samples, 16 linear bands of
 * which it keeps those below the rate converter's pass band (window_head_shape_defaults),
 * correlation shrunk 3% toward the identity, std floor 10% of the median std. */
#define WINDOW_HEAD_N_FFT 256u
#define WINDOW_HEAD_HOP 128u
#define WINDOW_HEAD_N_BANDS 16u
#define WINDOW_HEAD_SHRINKAGE 0.03f
#define WINDOW_HEAD_STD_FLOOR_REL 0.1f

struct window_head {
	struct band_stats bs;
	struct stats_head sh;      /* BANDS */
	struct spectrum_head spec; /* SPECTRUM */
	enum window_head_kind kind;
	uint32_t dim;           /* the head's features: BANDS 2 x n_kept (the kept bands' means,
				   then their spreads), SPECTRUM its bands */
	uint32_t band_dim;      /* 2 x n_kept: a block vector of the ring */
	uint32_t window_blocks; /* blocks pooled into a window */
	float *ring;            /* window_blocks x band_dim block vectors (BANDS only) */
	uint32_t next;          /* ring slot the next block goes to */
	uint64_t n_blocks;      /* blocks since the last reset */
	float *block_out;       /* band_stats output of one push (max_windows x bs.dim: every
				   band's mean, then every band's spread; BANDS only: a SPECTRUM
				   head's band_stats only counts blocks and keeps the history) */
	size_t block_cap;       /* blocks block_out holds */
	float *features;        /* band_dim: the pooled window (BANDS) */
	int scoring;            /* stats_head restored from a model: window_head_score works */
};

/* What a recipe chooses of a head: its short frames and bands. A hop above n_fft leaves gaps
 * between the frames (band_stats.h): the head then analyses n_fft of every hop samples. */
struct window_head_shape {
	uint32_t n_fft;   /* short frame FFT size, power of two */
	uint32_t hop;     /* short frame hop, samples; divides the features' hop_length 4+ times */
	uint32_t n_bands; /* linear bands over 0..rate/2; divides n_fft / 2 */
	uint32_t n_kept;  /* the lowest bands kept as features, 1..n_bands */
	enum window_head_kind kind; /* what scores the window: BANDS scores the short frames'
				       bands; SPECTRUM the front end's mean spectrum (the short
				       frames then serve the rise heads' envelopes only) */
};

/* The defaults above: 256-point frames every 128 samples, 16 bands; kept, the 15 below the rate
 * converter's pass band (audio/rate_converter.h: the top band, 7.5-8 kHz at 16 kHz, straddles
 * its edge, so a 48-kHz microphone would deliver it 1.65 dB weaker than a 16-kHz one). */
void window_head_shape_defaults(struct window_head_shape *s);

/* How many of n_bands linear bands over 0..rate/2 lie below the rate converter's pass band
 * (at least 1): the head's n_kept for that many bands. */
uint32_t window_head_kept_bands(uint32_t n_bands);

/* A head of shape s (NULL: the defaults above) over features f and no fitted statistics (dim
 * set, arrays NULL, medians 1). A SPECTRUM head's bands: SPECTRUM_HEAD_BAND_HZ wide (at least
 * one bin), as many as lie below the rate converter's pass band. */
void window_head_config_defaults(struct model_window_head *h, const struct window_head_shape *s,
				 const struct feature_params *f);

/* Front-end spectrum bins 1..this a head of kind SPECTRUM reads from the power ring
 * (feature_extractor_keep_power); 0 for BANDS. */
uint32_t window_head_spectrum_bins(const struct model_window_head *h);

/*
 * Sets up the stage for head h (shape; when h->mean is set its fitted statistics too, for
 * scoring) over windows of window_blocks feature hops, at the features' rate; max_push is the
 * most samples one window_head_push gets; history_frames > 0 keeps every band's dB of that many
 * last short frames (window_head_history, for the rise heads' envelopes). AUSCULT_OK,
 * AUSCULT_ERR_INVALID naming the field, AUSCULT_ERR_NOMEM. window_head_free is safe after a
 * failure.
 */
int window_head_init(struct window_head *w, const struct model_window_head *h,
		     const struct feature_params *f, uint32_t window_blocks, size_t max_push,
		     uint32_t history_frames, struct auscult_err *err);

/* The short frames' band dB ring (rows of n_bands, band_stats_history) and the frames since the
 * last reset in *count; NULL without a history. */
const float *window_head_history(const struct window_head *w, uint64_t *count);

/* Pushes at most max_push samples; returns the blocks completed by them. Never allocates. */
uint32_t window_head_push(struct window_head *w, const float *x, size_t n);

/* Blocks in the ring (at most window_blocks). */
uint32_t window_head_filled(const struct window_head *w);

/* A SPECTRUM head's window: the front end's power ring (cap rows of row_len bins, count frames
 * so far; feature_extractor_power), whose last window_blocks frames window_head_features then
 * pools. Call once per window before window_head_features; a BANDS head ignores it. */
void window_head_take_spectrum(struct window_head *w, const float *ring, uint32_t cap,
			       uint32_t row_len, uint64_t count);

/* The window's features (dim floats, owned by w; valid until the next call): BANDS, the pooled
 * features of the last window_head_filled blocks (zeros before the first block); SPECTRUM, the
 * band dB of the spectrum window_head_take_spectrum took. */
const float *window_head_features(struct window_head *w);

/* The fitted head's score of the current window (BANDS: mean z^T P z over dim; SPECTRUM:
 * spectrum_head_score), NaN before the first block or when w was not set up for scoring. */
float window_head_score(struct window_head *w);

/* Forgets the audio so far (a new, non-contiguous signal). */
void window_head_reset(struct window_head *w);

/* Frees everything. NULL-safe, safe after a failed init. */
void window_head_free(struct window_head *w);

/* FLOPs per second of audio for the head's front end and one score of a window_s window per
 * hop_s (for `auscult info` and cost tables). */
double window_head_flops_per_s(const struct model_window_head *h, const struct feature_params *f,
			       double window_s, double hop_s);

#endif
