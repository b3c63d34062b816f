/* burst_crest.c - each band's loudest frame over its mean power across a window of front-end spectra. */
#include "features/burst_crest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint32_t burst_crest_dim(const struct burst_crest_config *cfg)
{
	if (cfg->n_bins < 1 || cfg->band_bins < 1 || cfg->n_bins % cfg->band_bins != 0 ||
	    cfg->n_frames < 1)
		return 0;
	return cfg->n_bins / cfg->band_bins;
}

int burst_crest_init(struct burst_crest *bc, const struct burst_crest_config *cfg,
		     struct auscult_err *err)
{
	memset(bc, 0, sizeof(*bc));
	if (burst_crest_dim(cfg) == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "burst_crest: %u bins in bands of %u over %u frames: need whole "
				    "bands and at least one frame",
				    cfg->n_bins, cfg->band_bins, cfg->n_frames);
	bc->cfg = *cfg;
	bc->n_bands = burst_crest_dim(cfg);
	bc->bands = malloc((size_t)cfg->n_frames * bc->n_bands * sizeof(float));
	bc->peak = malloc(bc->n_bands * sizeof(float));
	bc->sum = malloc(bc->n_bands * sizeof(float));
	if (!bc->bands || !bc->peak || !bc->sum) {
		burst_crest_free(bc);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "burst_crest: out of memory");
	}
	return AUSCULT_OK;
}

/* Sums the frames the ring holds that are not in bands yet (at most a window's). */
static void band_new_frames(struct burst_crest *bc, const float *ring, uint32_t cap,
			    uint32_t row_len, uint64_t count)
{
	const uint32_t n_bands = bc->n_bands, width = bc->cfg.band_bins, n = bc->cfg.n_frames;
	if (count < bc->banded)
		bc->banded = 0; /* a new stream */
	uint64_t f = count - bc->banded > n ? count - n : bc->banded;
	for (; f < count; f++) {
		const float *row = ring + (size_t)(f % cap) * row_len;
		float *band = bc->bands + (size_t)(f % n) * n_bands;
		for (uint32_t b = 0; b < n_bands; b++) {
			float p = 0.0f;
			for (uint32_t i = 0; i < width; i++)
				p += row[b * width + i];
			band[b] = p;
		}
	}
	bc->banded = count;
}

void burst_crest_compute(struct burst_crest *bc, const float *ring, uint32_t cap, uint32_t row_len,
			 uint64_t count, float *out)
{
	const uint32_t n_bands = bc->n_bands, n = bc->cfg.n_frames;
	const uint32_t have = count < n ? (uint32_t)count : n;
	band_new_frames(bc, ring, cap, row_len, count);
	float *restrict peak = bc->peak, *restrict sum = bc->sum;
	memset(peak, 0, n_bands * sizeof(float));
	memset(sum, 0, n_bands * sizeof(float));
	/* in time order, so that the sums do not depend on where the ring wraps */
	for (uint64_t f = count - have; f < count; f++) {
		const float *restrict band = bc->bands + (size_t)(f % n) * n_bands;
		for (uint32_t b = 0; b < n_bands; b++) {
			sum[b] += band[b];
			peak[b] = band[b] > peak[b] ? band[b] : peak[b];
		}
	}
	for (uint32_t b = 0; b < n_bands; b++) {
		float mean = have ? sum[b] / (float)have : 0.0f;
		out[b] = mean > 0.0f ? 10.0f * log10f(peak[b] / mean) : 0.0f;
	}
}

void burst_crest_reset(struct burst_crest *bc)
{
	bc->banded = 0;
}

double burst_crest_flops(const struct burst_crest_config *cfg)
{
	uint32_t n_bands = burst_crest_dim(cfg);
	/* each frame: its bins summed into bands (once; a window's frames are all new at worst),
	 * each band added and compared; each band's ratio and logarithm (about 20) */
	return (double)cfg->n_frames * ((double)cfg->n_bins + 2.0 * n_bands) + 22.0 * n_bands;
}

void burst_crest_free(struct burst_crest *bc)
{
	if (!bc)
		return;
	free(bc->bands);
	free(bc->peak);
	free(bc->sum);
	memset(bc, 0, sizeof(*bc));
}
