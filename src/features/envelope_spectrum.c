/* envelope_spectrum.c - each band's envelope (modulation) spectrum over a window of short frames: periodic impacts and rubs show as peaks. */
#include "features/envelope_spectrum.h"

#include <kiss_fftr.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/logmel.h"

#define ES_PI 3.14159265358979323846
/* Below any envelope power a window of real audio gives; keeps the log finite on a constant. */
#define ES_FLOOR 1e-12f

static int is_pow2(uint32_t n)
{
	return n >= 4 && (n & (n - 1)) == 0;
}

static int check(const struct envelope_spectrum_config *c, struct auscult_err *err)
{
	if (c->n_bands == 0 || c->n_bands > 4096)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "envelope_spectrum: n_bands %u is out of range [1, 4096]",
				    c->n_bands);
	if (c->n_frames < 4)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "envelope_spectrum: n_frames %u is below 4", c->n_frames);
	if (!is_pow2(c->n_fft) || c->n_fft > 65536 || c->n_fft < c->n_frames)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "envelope_spectrum: n_fft %u is not a power of two in "
				    "[n_frames %u, 65536]",
				    c->n_fft, c->n_frames);
	if (c->bin_lo < 1 || c->bin_hi < c->bin_lo || c->bin_hi >= c->n_fft / 2)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "envelope_spectrum: bins %u..%u: need 1 <= bin_lo <= bin_hi < "
				    "n_fft / 2 = %u",
				    c->bin_lo, c->bin_hi, c->n_fft / 2);
	return AUSCULT_OK;
}

uint32_t envelope_spectrum_dim(const struct envelope_spectrum_config *cfg)
{
	if (check(cfg, NULL) != AUSCULT_OK)
		return 0;
	return cfg->n_bands * (cfg->bin_hi - cfg->bin_lo + 1);
}

int envelope_spectrum_init(struct envelope_spectrum *es, const struct envelope_spectrum_config *cfg,
			   struct auscult_err *err)
{
	memset(es, 0, sizeof(*es));
	int rc = check(cfg, err);
	if (rc != AUSCULT_OK)
		return rc;
	es->cfg = *cfg;
	es->fft = kiss_fftr_alloc((int)cfg->n_fft, 0, NULL, NULL);
	es->hann = malloc(cfg->n_frames * sizeof(float));
	es->bands = malloc((size_t)cfg->n_bands * cfg->n_frames * sizeof(float));
	es->frame = calloc(cfg->n_fft, sizeof(float));
	es->spec = calloc(cfg->n_fft / 2 + 1, sizeof(kiss_fft_cpx));
	if (!es->fft || !es->hann || !es->bands || !es->frame || !es->spec) {
		envelope_spectrum_free(es);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "envelope_spectrum: out of memory");
	}
	/* symmetric Hann over the window's frames: its sidelobes keep what is left of the
	 * envelope's slow drift out of the lowest bins */
	double sum = 0.0;
	for (uint32_t t = 0; t < cfg->n_frames; t++) {
		es->hann[t] = (float)(0.5 - 0.5 * cos(2.0 * ES_PI * (t + 0.5) / cfg->n_frames));
		sum += es->hann[t];
	}
	es->norm = (float)(1.0 / (sum * sum));
	return AUSCULT_OK;
}

void envelope_spectrum_compute(struct envelope_spectrum *es, const float *history, uint32_t cap,
			       uint32_t row_len, uint64_t count, float *out)
{
	const struct envelope_spectrum_config *c = &es->cfg;
	uint32_t have = count < c->n_frames ? (uint32_t)count : c->n_frames;
	uint32_t n_bins = c->bin_hi - c->bin_lo + 1;
	/* the window's frames are the last `have`, aligned to the end of the weights */
	uint64_t first = count - have;
	uint32_t lead = c->n_frames - have;
	const kiss_fft_cpx *X = es->spec;
	/* gather the ring's rows into one envelope per band: a wrapping index, not a division per
	 * value (a 64-bit modulo per value was most of this stage's time) */
	uint32_t row = (uint32_t)(first % cap);
	for (uint32_t t = 0; t < have; t++) {
		const float *r = history + (size_t)row * row_len;
		for (uint32_t b = 0; b < c->n_bands; b++)
			es->bands[(size_t)b * c->n_frames + t] = r[b];
		if (++row == cap)
			row = 0;
	}
	/* the slot before the first difference; none without frames (lead is then n_frames,
	 * possibly the whole transform) */
	memset(es->frame, 0, (have ? lead + 1 : lead) * sizeof(float));
	const float *w = es->hann + lead;
	for (uint32_t b = 0; b < c->n_bands; b++) {
		/* first differences, their mean removed: a step of the band's level becomes one
		 * impulse (a low, flat spectrum) instead of a 1/f slope over the lowest bins, while
		 * a periodic envelope stays periodic */
		const float *env = es->bands + (size_t)b * c->n_frames;
		float *f = es->frame + lead;
		const float mean = have > 1 ? (env[have - 1] - env[0]) / (float)(have - 1) : 0.0f;
		for (uint32_t t = 1; t < have; t++)
			f[t] = w[t] * (env[t] - env[t - 1] - mean);
		kiss_fftr(es->fft, es->frame, es->spec);
		float *o = out + (size_t)b * n_bins;
		for (uint32_t j = 0; j < n_bins; j++) {
			const kiss_fft_cpx *x = &X[c->bin_lo + j];
			o[j] = (x->r * x->r + x->i * x->i) * es->norm + ES_FLOOR;
		}
		logmel_db_array(o, n_bins);
	}
}

double envelope_spectrum_flops(const struct envelope_spectrum_config *cfg)
{
	double n = cfg->n_fft, bins = cfg->bin_hi - cfg->bin_lo + 1;
	/* per band: the mean, the weights, the FFT, the kept bins' power and log */
	return cfg->n_bands * (3.0 * cfg->n_frames + 2.5 * n * log2(n) + 6.0 * bins);
}

void envelope_spectrum_free(struct envelope_spectrum *es)
{
	if (!es)
		return;
	kiss_fftr_free(es->fft);
	free(es->hann);
	free(es->bands);
	free(es->frame);
	free(es->spec);
	memset(es, 0, sizeof(*es));
}
