/* spectrum_head.c - the window head's spectrum kind: a window's mean spectrum in narrow bands, scored by what lies outside the normal windows' principal subspace. */
#include "model/spectrum_head.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/logmel.h"
#include "features/ring_sum.h"

/* The mean power floor before the dB (the tone head's): silence gives -120 dB, not -inf. */
#define SPECTRUM_HEAD_FLOOR 1e-12f

uint32_t spectrum_head_top_n(uint32_t n_bands, float top_fraction)
{
	long top = lroundf((float)n_bands * top_fraction);
	return top < 1 ? 1u : top > (long)n_bands ? n_bands : (uint32_t)top;
}

uint32_t spectrum_head_bins(const struct spectrum_head_config *cfg)
{
	return cfg->band_bins * cfg->n_bands;
}

int spectrum_head_init(struct spectrum_head *sh, const struct spectrum_head_config *cfg,
		       struct auscult_err *err)
{
	memset(sh, 0, sizeof(*sh));
	if (cfg->band_bins < 1 || cfg->band_bins > 65536)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "spectrum head: band_bins %u is not in [1, 65536]",
				    cfg->band_bins);
	if (cfg->n_bands < 2 || cfg->n_bands > SPECTRUM_HEAD_MAX_BANDS)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "spectrum head: n_bands %u is not in [2, %u]", cfg->n_bands,
				    SPECTRUM_HEAD_MAX_BANDS);
	if (cfg->rank < 1 || cfg->rank >= cfg->n_bands)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "spectrum head: rank %u is not in [1, n_bands - 1 = %u]",
				    cfg->rank, cfg->n_bands - 1);
	if (cfg->n_frames < 1)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "spectrum head: n_frames is 0");
	if (!(cfg->top_fraction > 0.0f && cfg->top_fraction <= 1.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "spectrum head: top_fraction %g is not in (0, 1]",
				    (double)cfg->top_fraction);
	sh->cfg = *cfg;
	sh->top_n = spectrum_head_top_n(cfg->n_bands, cfg->top_fraction);
	sh->features = calloc(cfg->n_bands, sizeof(float));
	sh->coef = calloc(cfg->rank, sizeof(float));
	sh->resid = calloc(cfg->n_bands, sizeof(float));
	sh->top = calloc(sh->top_n, sizeof(float));
	sh->bin_sums = calloc(spectrum_head_bins(cfg), sizeof(float));
	if (!sh->features || !sh->coef || !sh->resid || !sh->top || !sh->bin_sums) {
		spectrum_head_free(sh);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "spectrum head: out of memory");
	}
	return AUSCULT_OK;
}

void spectrum_head_restore(struct spectrum_head *sh, const float *mean, const float *inv_std,
			   const float *basis)
{
	sh->mean = mean;
	sh->inv_std = inv_std;
	sh->basis = basis;
}

const float *spectrum_head_features(struct spectrum_head *sh, const float *ring, uint32_t cap,
				    uint32_t row_len, uint64_t count)
{
	const struct spectrum_head_config *c = &sh->cfg;
	uint32_t have = count < c->n_frames ? (uint32_t)count : c->n_frames;
	if (have > cap)
		have = cap;
	if (have == 0 || row_len < spectrum_head_bins(c)) {
		memset(sh->features, 0, c->n_bands * sizeof(float));
		return sh->features;
	}
	/* the window's frames summed bin by bin, then each band's bins */
	ring_sum_rows(ring, cap, row_len, count, have, spectrum_head_bins(c), sh->bin_sums);
	for (uint32_t b = 0; b < c->n_bands; b++) {
		const float *bins = sh->bin_sums + (size_t)b * c->band_bins;
		float s = 0.0f;
		for (uint32_t i = 0; i < c->band_bins; i++)
			s += bins[i];
		sh->features[b] = s;
	}
	const float scale = 1.0f / ((float)have * (float)c->band_bins);
	for (uint32_t b = 0; b < c->n_bands; b++)
		sh->features[b] = sh->features[b] * scale + SPECTRUM_HEAD_FLOOR;
	logmel_db_array(sh->features, c->n_bands);
	return sh->features;
}

void spectrum_head_residual(const float *x, const float *mean, const float *basis, uint32_t n_bands,
			    uint32_t rank, float *coef, float *r)
{
	for (uint32_t b = 0; b < n_bands; b++)
		r[b] = x[b] - mean[b];
	for (uint32_t q = 0; q < rank; q++)
		coef[q] = 0.0f;
	for (uint32_t b = 0; b < n_bands; b++) {
		const float *row = basis + (size_t)b * rank;
		for (uint32_t q = 0; q < rank; q++)
			coef[q] += row[q] * r[b];
	}
	/* each direction taken off in turn, not their sum at once: the order the score has
	 * always used, so that a model's scores keep their bits */
	for (uint32_t b = 0; b < n_bands; b++) {
		const float *row = basis + (size_t)b * rank;
		for (uint32_t q = 0; q < rank; q++)
			r[b] -= row[q] * coef[q];
	}
}

float spectrum_head_residual_score(const float *r, const float *inv_std, uint32_t n_bands,
				   uint32_t top_n, float *top)
{
	/* the largest top_n, kept in descending order in top */
	uint32_t n_top = 0;
	for (uint32_t b = 0; b < n_bands; b++) {
		float z = r[b] * inv_std[b];
		z *= z;
		if (n_top == top_n && !(z > top[n_top - 1]))
			continue;
		uint32_t i = n_top < top_n ? n_top++ : n_top - 1;
		while (i > 0 && top[i - 1] < z) {
			top[i] = top[i - 1];
			i--;
		}
		top[i] = z;
	}
	double s = 0.0;
	for (uint32_t i = 0; i < n_top; i++)
		s += top[i];
	return n_top ? (float)(s / (double)n_top) : 0.0f;
}

float spectrum_head_score(struct spectrum_head *sh)
{
	const struct spectrum_head_config *c = &sh->cfg;
	if (!sh->mean)
		return NAN;
	spectrum_head_residual(sh->features, sh->mean, sh->basis, c->n_bands, c->rank, sh->coef,
			       sh->resid);
	return spectrum_head_residual_score(sh->resid, sh->inv_std, c->n_bands, sh->top_n, sh->top);
}

double spectrum_head_flops_per_s(const struct spectrum_head_config *cfg, double hop_s)
{
	if (!(hop_s > 0.0))
		return 0.0;
	double bins = spectrum_head_bins(cfg), d = cfg->n_bands, k = cfg->rank;
	/* the frames' band sums, the dB, the projection and back, the squares */
	double per_window = (double)cfg->n_frames * bins + 4.0 * d + 4.0 * d * k + 3.0 * d;
	return per_window / hop_s;
}

void spectrum_head_free(struct spectrum_head *sh)
{
	if (!sh)
		return;
	free(sh->features);
	free(sh->coef);
	free(sh->resid);
	free(sh->top);
	free(sh->bin_sums);
	memset(sh, 0, sizeof(*sh));
}
