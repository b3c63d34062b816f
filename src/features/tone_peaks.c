/* tone_peaks.c - how far each bin of a window's long-term spectrum rises above its neighbours: a new tone or harmonic set shows as peaks. */
#include "features/tone_peaks.h"

#include <stdlib.h>
#include <string.h>

#include "features/logmel.h"

/* Below any bin power of 16-bit audio; keeps the log finite on digital silence. */
#define TP_FLOOR 1e-12f

static int check(const struct tone_peaks_config *c, struct auscult_err *err)
{
	if (c->n_bins < 2 || c->n_bins > 65536)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "tone_peaks: n_bins %u is out of range [2, 65536]", c->n_bins);
	if (c->n_frames < 1 || c->n_frames > 65536)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "tone_peaks: n_frames %u is out of range [1, 65536]",
				    c->n_frames);
	if (c->near < 1 || c->far < c->near || c->far >= c->n_bins)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "tone_peaks: neighbours %u..%u bins away: need 1 <= near <= far "
				    "< n_bins %u",
				    c->near, c->far, c->n_bins);
	return AUSCULT_OK;
}

uint32_t tone_peaks_dim(const struct tone_peaks_config *cfg)
{
	return check(cfg, NULL) == AUSCULT_OK ? cfg->n_bins : 0;
}

int tone_peaks_init(struct tone_peaks *tp, const struct tone_peaks_config *cfg,
		    struct auscult_err *err)
{
	memset(tp, 0, sizeof(*tp));
	int rc = check(cfg, err);
	if (rc != AUSCULT_OK)
		return rc;
	tp->cfg = *cfg;
	tp->mean = malloc(cfg->n_bins * sizeof(double));
	tp->cum = malloc((cfg->n_bins + 1) * sizeof(double));
	tp->db = malloc(cfg->n_bins * sizeof(float));
	if (!tp->mean || !tp->cum || !tp->db) {
		tone_peaks_free(tp);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "tone_peaks: out of memory");
	}
	return AUSCULT_OK;
}

/* Sum of cum's values over bins [lo, hi] clipped to [0, n): adds to *sum and *n_in. */
static void add_range(const double *cum, int64_t lo, int64_t hi, int64_t n, double *sum,
		      uint32_t *n_in)
{
	if (lo < 0)
		lo = 0;
	if (hi > n - 1)
		hi = n - 1;
	if (hi < lo)
		return;
	*sum += cum[hi + 1] - cum[lo];
	*n_in += (uint32_t)(hi - lo + 1);
}

void tone_peaks_compute(struct tone_peaks *tp, const float *ring, uint32_t cap, uint32_t row_len,
			uint64_t count, float *out)
{
	const struct tone_peaks_config *c = &tp->cfg;
	uint32_t nb = c->n_bins, have = count < c->n_frames ? (uint32_t)count : c->n_frames;
	if (have == 0) {
		memset(out, 0, nb * sizeof(float));
		return;
	}
	memset(tp->mean, 0, nb * sizeof(double));
	for (uint64_t f = count - have; f < count; f++) {
		const float *row = ring + (size_t)(f % cap) * row_len;
		for (uint32_t k = 0; k < nb; k++)
			tp->mean[k] += row[k];
	}
	tp->cum[0] = 0.0;
	for (uint32_t k = 0; k < nb; k++) {
		tp->db[k] = logmel_db((float)(tp->mean[k] / have) + TP_FLOOR);
		tp->cum[k + 1] = tp->cum[k] + tp->db[k];
	}
	int64_t n = nb, near = c->near, far = c->far;
	for (int64_t k = 0; k < n; k++) {
		double sum = 0.0;
		uint32_t n_in = 0;
		add_range(tp->cum, k - far, k - near, n, &sum, &n_in);
		add_range(tp->cum, k + near, k + far, n, &sum, &n_in);
		out[k] = n_in ? tp->db[k] - (float)(sum / n_in) : 0.0f;
	}
}

double tone_peaks_flops(const struct tone_peaks_config *cfg)
{
	/* the frames' sum, then per bin a log, a running sum and the neighbours' mean */
	return (double)cfg->n_bins * (cfg->n_frames + 12.0);
}

void tone_peaks_free(struct tone_peaks *tp)
{
	if (!tp)
		return;
	free(tp->mean);
	free(tp->cum);
	free(tp->db);
	memset(tp, 0, sizeof(*tp));
}
