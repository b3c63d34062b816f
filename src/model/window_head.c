/* window_head.c - the window-statistics head at run time: band energies streamed in blocks, pooled over a window, scored. */
#include "model/window_head.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/rate_converter.h"

void window_head_shape_defaults(struct window_head_shape *s)
{
	s->n_fft = WINDOW_HEAD_N_FFT;
	s->hop = WINDOW_HEAD_HOP;
	s->n_bands = WINDOW_HEAD_N_BANDS;
	s->n_kept = window_head_kept_bands(s->n_bands);
	s->kind = WINDOW_HEAD_BANDS;
}

uint32_t window_head_kept_bands(uint32_t n_bands)
{
	uint32_t kept = (uint32_t)(n_bands * RATE_CONVERTER_PASSBAND);
	return kept ? kept : 1;
}

void window_head_config_defaults(struct model_window_head *h, const struct window_head_shape *s,
				 const struct feature_params *f)
{
	struct window_head_shape d;
	if (!s) {
		window_head_shape_defaults(&d);
		s = &d;
	}
	memset(h, 0, sizeof(*h));
	h->n_fft = s->n_fft;
	h->hop = s->hop;
	h->n_bands = s->n_bands;
	h->n_kept = s->n_kept;
	h->shrinkage = WINDOW_HEAD_SHRINKAGE;
	h->std_floor_rel = WINDOW_HEAD_STD_FLOOR_REL;
	h->ae_median = 1.0f;
	h->head_median = 1.0f;
	h->dim = 2 * h->n_kept;
	h->kind = s->kind;
	if (h->kind == WINDOW_HEAD_SPECTRUM) {
		uint32_t bins = f->n_fft / 2;
		double bin_hz = (double)f->sample_rate_hz / (double)f->n_fft;
		long band_bins = lround(SPECTRUM_HEAD_BAND_HZ / bin_hz);
		h->spec_band_bins = band_bins < 1 ? 1u : (uint32_t)band_bins;
		/* to the short frames' kept bands' top: 7.5 kHz at 16 kHz, below where a rate
		 * converter's or a recorder's anti-alias filter rolls off */
		h->dim = (bins / h->spec_band_bins) * h->n_kept / h->n_bands;
		if (h->dim < 2)
			h->dim = 2;
		h->spec_rank = SPECTRUM_HEAD_RANK < h->dim ? SPECTRUM_HEAD_RANK : h->dim - 1;
		h->spec_top_fraction = SPECTRUM_HEAD_TOP_FRACTION;
		h->std_floor_rel = SPECTRUM_HEAD_STD_FLOOR_REL;
		h->shrinkage = 0.0f;
	}
}

uint32_t window_head_spectrum_bins(const struct model_window_head *h)
{
	return h->kind == WINDOW_HEAD_SPECTRUM ? h->spec_band_bins * h->dim : 0;
}

/* band_stats for a head: blocks of one feature hop, no fine spectrum, no modulation. */
static void band_config(const struct model_window_head *h, const struct feature_params *f,
			struct band_stats_config *bc)
{
	band_stats_config_defaults(bc);
	bc->sample_rate_hz = f->sample_rate_hz;
	bc->n_fft = h->n_fft;
	bc->hop = h->hop;
	bc->n_bands = h->n_bands;
	bc->fine_n_fft = 0;
	bc->n_mod = 0;
	bc->window_frames = h->hop ? f->hop_length / h->hop : 0;
}

int window_head_init(struct window_head *w, const struct model_window_head *h,
		     const struct feature_params *f, uint32_t window_blocks, size_t max_push,
		     uint32_t history_frames, struct auscult_err *err)
{
	memset(w, 0, sizeof(*w));
	if (window_blocks == 0 || max_push == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "window head: window_blocks %u and max_push %zu must be > 0",
				    window_blocks, max_push);
	if (h->hop == 0 || f->hop_length % h->hop != 0 || f->hop_length / h->hop < 4)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "window head: hop %u must divide the features' hop_length %u at "
				    "least 4 times",
				    h->hop, f->hop_length);
	struct band_stats_config bc;
	band_config(h, f, &bc);
	bc.history_frames = history_frames;
	/* a SPECTRUM head scores the front end's spectrum: its short frames feed only the rise
	 * heads' history, and the blocks' band statistics are read by nobody */
	bc.history_only = h->kind == WINDOW_HEAD_SPECTRUM;
	if (h->n_kept == 0 || h->n_kept > h->n_bands)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "window head: n_kept %u is not in [1, n_bands = %u]", h->n_kept,
				    h->n_bands);
	int rc = band_stats_init(&w->bs, &bc, err);
	if (rc)
		return rc;
	w->kind = h->kind;
	w->band_dim = 2 * h->n_kept;
	w->dim = h->kind == WINDOW_HEAD_SPECTRUM ? h->dim : w->band_dim;
	w->window_blocks = window_blocks;
	if (h->kind == WINDOW_HEAD_SPECTRUM) {
		struct spectrum_head_config sc = {
			.band_bins = h->spec_band_bins,
			.n_bands = h->dim,
			.n_frames = window_blocks,
			.rank = h->spec_rank,
			.top_fraction = h->spec_top_fraction,
		};
		if ((rc = spectrum_head_init(&w->spec, &sc, err)) != AUSCULT_OK) {
			window_head_free(w);
			return rc;
		}
		if (h->mean && h->inv_std && h->basis) {
			spectrum_head_restore(&w->spec, h->mean, h->inv_std, h->basis);
			w->scoring = 1;
		}
		return AUSCULT_OK;
	}
	w->block_cap = ((bc.n_fft + max_push) / bc.hop + 1) / bc.window_frames + 1;
	w->ring = calloc((size_t)window_blocks * w->band_dim, sizeof(float));
	w->block_out = malloc(w->block_cap * w->bs.dim * sizeof(float));
	w->features = calloc(w->band_dim, sizeof(float));
	if (!w->ring || !w->block_out || !w->features) {
		window_head_free(w);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "window head: out of memory");
	}
	if (h->mean) {
		struct stats_head_config sc;
		stats_head_config_defaults(&sc);
		sc.dim = w->dim;
		sc.shrinkage = h->shrinkage;
		sc.std_floor_rel = h->std_floor_rel;
		if ((rc = stats_head_init(&w->sh, &sc, err)) != AUSCULT_OK ||
		    (rc = stats_head_restore(&w->sh, h->mean, h->inv_std, h->precision, err)) !=
			    AUSCULT_OK) {
			window_head_free(w);
			return rc;
		}
		w->scoring = 1;
	}
	return AUSCULT_OK;
}

uint32_t window_head_push(struct window_head *w, const float *x, size_t n)
{
	size_t got = band_stats_process(&w->bs, x, n, w->block_out);
	if (w->kind == WINDOW_HEAD_SPECTRUM) { /* no ring: only the count is read */
		w->n_blocks += got;
		return (uint32_t)got;
	}
	uint32_t kept = w->band_dim / 2, mean = band_stats_offset_mean(&w->bs),
		 spread = band_stats_offset_spread(&w->bs);
	for (size_t b = 0; b < got; b++) {
		const float *block = w->block_out + b * w->bs.dim;
		float *slot = w->ring + (size_t)w->next * w->band_dim;
		memcpy(slot, block + mean, kept * sizeof(float));
		memcpy(slot + kept, block + spread, kept * sizeof(float));
		w->next = w->next + 1 == w->window_blocks ? 0 : w->next + 1;
		w->n_blocks++;
	}
	return (uint32_t)got;
}

const float *window_head_history(const struct window_head *w, uint64_t *count)
{
	return band_stats_history(&w->bs, count);
}

uint32_t window_head_filled(const struct window_head *w)
{
	return w->n_blocks < w->window_blocks ? (uint32_t)w->n_blocks : w->window_blocks;
}

void window_head_take_spectrum(struct window_head *w, const float *ring, uint32_t cap,
			       uint32_t row_len, uint64_t count)
{
	if (w->kind == WINDOW_HEAD_SPECTRUM)
		spectrum_head_features(&w->spec, ring, cap, row_len, count);
}

const float *window_head_features(struct window_head *w)
{
	if (w->kind == WINDOW_HEAD_SPECTRUM)
		return w->spec.features;
	uint32_t nb = w->band_dim / 2, n = window_head_filled(w);
	for (uint32_t b = 0; b < nb; b++) {
		double s = 0.0, s2 = 0.0;
		/* the ring holds exactly the last n blocks; their order does not matter */
		for (uint32_t i = 0; i < n; i++) {
			const float *v = w->ring + (size_t)i * w->band_dim;
			double m = v[b], sd = v[nb + b];
			s += m;
			s2 += sd * sd + m * m;
		}
		double mean = n ? s / n : 0.0, var = n ? s2 / n - mean * mean : 0.0;
		w->features[b] = (float)mean;
		w->features[nb + b] = (float)sqrt(var > 0.0 ? var : 0.0);
	}
	return w->features;
}

float window_head_score(struct window_head *w)
{
	if (!w->scoring || w->n_blocks == 0)
		return NAN;
	if (w->kind == WINDOW_HEAD_SPECTRUM)
		return spectrum_head_score(&w->spec);
	return stats_head_score(&w->sh, window_head_features(w));
}

void window_head_reset(struct window_head *w)
{
	band_stats_reset(&w->bs);
	w->next = 0;
	w->n_blocks = 0;
}

void window_head_free(struct window_head *w)
{
	if (!w)
		return;
	band_stats_free(&w->bs);
	stats_head_free(&w->sh);
	spectrum_head_free(&w->spec);
	free(w->ring);
	free(w->block_out);
	free(w->features);
	memset(w, 0, sizeof(*w));
}

double window_head_flops_per_s(const struct model_window_head *h, const struct feature_params *f,
			       double window_s, double hop_s)
{
	struct band_stats_config bc;
	band_config(h, f, &bc);
	if (h->kind == WINDOW_HEAD_SPECTRUM) {
		/* the short frames still run (the rise heads' envelopes); the window's frames
		 * count */
		struct spectrum_head_config sc = {
			.band_bins = h->spec_band_bins,
			.n_bands = h->dim,
			.n_frames = feature_params_vectors_in(f, window_s),
			.rank = h->spec_rank,
			.top_fraction = h->spec_top_fraction,
		};
		return band_stats_flops_per_s(&bc) + spectrum_head_flops_per_s(&sc, hop_s);
	}
	double d = h->dim;
	/* one score per hop: z, then d^2 MACs (the pooling, 4 per value per block, is left out) */
	double per_window = 0.0;
	if (hop_s > 0.0)
		per_window = (3.0 * d + 2.0 * d * d) / hop_s;
	return band_stats_flops_per_s(&bc) + per_window;
}
