/* logmel.c - window, kissfft real FFT power, sparse Slaney mel filter bank and a fast exact-enough dB. */
#include "features/logmel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void logmel_config_defaults(struct logmel_config *cfg)
{
	cfg->sample_rate_hz = 16000;
	cfg->n_fft = 1024;
	cfg->n_mels = 128;
	cfg->fmin_hz = 0.0f;
	cfg->fmax_hz = 8000.0f;
}

void logmel_config_from_params(struct logmel_config *cfg, const struct feature_params *p)
{
	cfg->sample_rate_hz = p->sample_rate_hz;
	cfg->n_fft = p->n_fft;
	cfg->n_mels = p->n_mels;
	cfg->fmin_hz = p->fmin_hz;
	cfg->fmax_hz = p->fmax_hz;
}

/* Slaney's mel scale (librosa htk=False): linear below 1 kHz, logarithmic above. */
#define SLANEY_F_SP_HZ (200.0 / 3.0)
#define SLANEY_MIN_LOG_HZ 1000.0
#define SLANEY_MIN_LOG_MEL (SLANEY_MIN_LOG_HZ / SLANEY_F_SP_HZ)

static double slaney_logstep(void)
{
	return log(6.4) / 27.0;
}

static double hz_to_mel(double hz)
{
	if (hz >= SLANEY_MIN_LOG_HZ)
		return SLANEY_MIN_LOG_MEL + log(hz / SLANEY_MIN_LOG_HZ) / slaney_logstep();
	return hz / SLANEY_F_SP_HZ;
}

static double mel_to_hz(double mel)
{
	if (mel >= SLANEY_MIN_LOG_MEL)
		return SLANEY_MIN_LOG_HZ * exp(slaney_logstep() * (mel - SLANEY_MIN_LOG_MEL));
	return SLANEY_F_SP_HZ * mel;
}

double logmel_band_edge_hz(uint32_t i, uint32_t n_mels, double fmin_hz, double fmax_hz)
{
	double mel_lo = hz_to_mel(fmin_hz), mel_hi = hz_to_mel(fmax_hz);
	return mel_to_hz(mel_lo + i * ((mel_hi - mel_lo) / (n_mels + 1)));
}

/* Weight of FFT bin frequency f_hz in band m, given the n_mels + 2 band edges (librosa's mel()). */
static double band_weight(const double *edges_hz, uint32_t m, double f_hz)
{
	double lower = (f_hz - edges_hz[m]) / (edges_hz[m + 1] - edges_hz[m]);
	double upper = (edges_hz[m + 2] - f_hz) / (edges_hz[m + 2] - edges_hz[m + 1]);
	double w = lower < upper ? lower : upper;
	if (!(w > 0.0))
		return 0.0;
	return w * 2.0 / (edges_hz[m + 2] - edges_hz[m]); /* Slaney area normalisation */
}

static int build_filterbank(struct logmel *lm, const struct logmel_config *cfg,
			    struct auscult_err *err)
{
	int rc = AUSCULT_ERR_NOMEM;
	double *edges_hz = malloc(((size_t)cfg->n_mels + 2) * sizeof(*edges_hz));
	double bin_hz = (double)cfg->sample_rate_hz / cfg->n_fft;

	if (!edges_hz)
		goto fail;
	for (uint32_t i = 0; i < cfg->n_mels + 2; i++)
		edges_hz[i] = logmel_band_edge_hz(i, cfg->n_mels, cfg->fmin_hz, cfg->fmax_hz);

	/* First pass: each band's nonzero run, so the weights fit one exact allocation. A band's
	 * weight is zero at and outside its outer edges, so only the bins between them are tried
	 * (trying all of them cost more than a 10-s clip's mel weighting, per file scored). */
	lm->n_weights = 0;
	for (uint32_t m = 0; m < cfg->n_mels; m++) {
		uint32_t first = 0, last = 0, any = 0;
		double k_lo = fmax(floor(edges_hz[m] / bin_hz), 0.0);
		double k_hi = fmin(ceil(edges_hz[m + 2] / bin_hz), lm->n_bins - 1.0);
		for (uint32_t k = (uint32_t)k_lo; k_lo <= k_hi && k <= (uint32_t)k_hi; k++) {
			if ((float)band_weight(edges_hz, m, k * bin_hz) == 0.0f)
				continue;
			if (!any)
				first = k;
			last = k;
			any = 1;
		}
		lm->band_first_bin[m] = first;
		lm->band_n_bins[m] = any ? last - first + 1 : 0;
		lm->band_offset[m] = (uint32_t)lm->n_weights;
		lm->n_weights += lm->band_n_bins[m];
	}
	/* One spare so an all-empty bank still gets a valid pointer. */
	lm->weights = malloc((lm->n_weights + 1) * sizeof(*lm->weights));
	if (!lm->weights)
		goto fail;
	for (uint32_t m = 0; m < cfg->n_mels; m++)
		for (uint32_t i = 0; i < lm->band_n_bins[m]; i++)
			lm->weights[lm->band_offset[m] + i] =
				(float)band_weight(edges_hz, m,
						   (lm->band_first_bin[m] + i) * bin_hz);
	free(edges_hz);
	return AUSCULT_OK;
fail:
	free(edges_hz);
	return auscult_fail(err, rc, "logmel: out of memory for the mel filter bank (%u bands)",
			    cfg->n_mels);
}

int logmel_init(struct logmel *lm, const struct logmel_config *cfg, struct auscult_err *err)
{
	int rc = AUSCULT_ERR_NOMEM;

	memset(lm, 0, sizeof(*lm));
	if (cfg->n_fft < 4 || cfg->n_fft > (1u << 20) || (cfg->n_fft & (cfg->n_fft - 1)) != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "logmel: n_fft %u is not a power of two in [4, 1048576]",
				    cfg->n_fft);
	if (cfg->sample_rate_hz == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "logmel: sample_rate_hz must be > 0");
	if (cfg->n_mels == 0 || cfg->n_mels > 4096)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "logmel: n_mels %u is out of range [1, 4096]", cfg->n_mels);
	if (!(cfg->fmin_hz >= 0.0f) || !(cfg->fmin_hz < cfg->fmax_hz) ||
	    !(cfg->fmax_hz <= cfg->sample_rate_hz / 2.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "logmel: fmin_hz/fmax_hz %g..%g Hz is not within 0..%g Hz with "
				    "fmin < fmax",
				    (double)cfg->fmin_hz, (double)cfg->fmax_hz,
				    cfg->sample_rate_hz / 2.0);

	lm->n_fft = cfg->n_fft;
	lm->n_bins = cfg->n_fft / 2 + 1;
	lm->n_mels = cfg->n_mels;
	lm->window = malloc(lm->n_fft * sizeof(*lm->window));
	lm->power = malloc(lm->n_bins * sizeof(*lm->power));
	lm->band_first_bin = malloc(lm->n_mels * sizeof(*lm->band_first_bin));
	lm->band_n_bins = malloc(lm->n_mels * sizeof(*lm->band_n_bins));
	lm->band_offset = malloc(lm->n_mels * sizeof(*lm->band_offset));
	if (!lm->window || !lm->power || !lm->band_first_bin || !lm->band_n_bins ||
	    !lm->band_offset) {
		auscult_fail(err, AUSCULT_ERR_NOMEM, "logmel: out of memory (n_fft %u, %u mels)",
			     cfg->n_fft, cfg->n_mels);
		goto fail;
	}
	/* Periodic Hann (scipy get_window("hann", n, fftbins=True)), computed in double. */
	for (uint32_t n = 0; n < lm->n_fft; n++)
		lm->window[n] = 0.5 - 0.5 * cos(2.0 * M_PI * n / lm->n_fft);

	rc = build_filterbank(lm, cfg, err);
	if (rc != AUSCULT_OK)
		goto fail;
	rc = AUSCULT_ERR_NOMEM;

	rc = rfft_init(&lm->fft, lm->n_fft, err);
	if (rc != AUSCULT_OK)
		goto fail;
	return AUSCULT_OK;
fail:
	logmel_free(lm);
	return rc;
}

float logmel_db(float x)
{
	/*
	 * x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1),
	 * |s| < 0.172, so five odd terms of the series leave < 1e-9 truncation error. Plain
	 * arithmetic (no table, no call) lets the band loop vectorise; log10f per band was the
	 * largest cost after the FFT.
	 */
	union {
		float f;
		uint32_t u;
	} v = { .f = x };
	int32_t e = (int32_t)(v.u - 0x3f3504f3u) >> 23; /* 0x3f3504f3 = sqrt(1/2) */
	v.u -= (uint32_t)e << 23;
	float s = (v.f - 1.0f) / (v.f + 1.0f);
	float s2 = s * s;
	float ln_m = 2.0f * s *
		     (1.0f +
		      s2 * (1.0f / 3.0f + s2 * (1.0f / 5.0f + s2 * (1.0f / 7.0f + s2 / 9.0f))));
	/* 10 log10(2) and 10 / ln 10 */
	return (float)e * 3.0102999566398120f + 4.3429448190325183f * ln_m;
}

/*
 * logmel_db on four values at once: the same float operations in the same order, so each lane is
 * bit-identical to logmel_db (GCC/clang vector extensions; SSE2 on x86-64, NEON on aarch64).
 */
typedef float v4sf __attribute__((vector_size(16)));
typedef int32_t v4si __attribute__((vector_size(16)));
typedef uint32_t v4su __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));

static inline v4sf db4(v4sf x)
{
	v4su u;
	memcpy(&u, &x, sizeof(u));
	v4si e = (v4si)(u - 0x3f3504f3u) >> 23;
	u -= (v4su)e << 23;
	v4sf v;
	memcpy(&v, &u, sizeof(v));
	v4sf s = (v - 1.0f) / (v + 1.0f);
	v4sf s2 = s * s;
	v4sf ln_m = 2.0f * s *
		    (1.0f +
		     s2 * (1.0f / 3.0f + s2 * (1.0f / 5.0f + s2 * (1.0f / 7.0f + s2 / 9.0f))));
	return __builtin_convertvector(e, v4sf) * 3.0102999566398120f + 4.3429448190325183f * ln_m;
}

void logmel_process(struct logmel *lm, const float *frame, float *mel_db_out)
{
	rfft_power(&lm->fft, frame, lm->window, lm->power);

	/* Two partial sums per band: the adds of one long run no longer wait on each other. */
	for (uint32_t m = 0; m < lm->n_mels; m++) {
		const float *wt = lm->weights + lm->band_offset[m];
		const double *p = lm->power + lm->band_first_bin[m];
		const uint32_t nb = lm->band_n_bins[m];
		v2d acc2 = { 0.0, 0.0 };
		uint32_t i = 0;
		for (; i + 2 <= nb; i += 2) {
			v2d pv;
			memcpy(&pv, p + i, sizeof(pv));
			acc2 += (v2d){ wt[i], wt[i + 1] } * pv;
		}
		double acc = acc2[0] + acc2[1];
		if (i < nb)
			acc += wt[i] * p[i];
		mel_db_out[m] = (float)(acc + LOGMEL_FLOOR);
	}
	logmel_db_array(mel_db_out, lm->n_mels);
}

void logmel_db_array(float *x, uint32_t n)
{
	uint32_t i = 0;
	for (; i + 4 <= n; i += 4) {
		v4sf v;
		memcpy(&v, x + i, sizeof(v));
		v = db4(v);
		memcpy(x + i, &v, sizeof(v));
	}
	for (; i < n; i++)
		x[i] = logmel_db(x[i]);
}

void logmel_filterbank_dense(const struct logmel *lm, float *out)
{
	memset(out, 0, (size_t)lm->n_mels * lm->n_bins * sizeof(*out));
	for (uint32_t m = 0; m < lm->n_mels; m++)
		memcpy(out + (size_t)m * lm->n_bins + lm->band_first_bin[m],
		       lm->weights + lm->band_offset[m], lm->band_n_bins[m] * sizeof(*out));
}

void logmel_free(struct logmel *lm)
{
	if (!lm)
		return;
	free(lm->window);
	free(lm->power);
	free(lm->band_first_bin);
	free(lm->band_n_bins);
	free(lm->band_offset);
	free(lm->weights);
	rfft_free(&lm->fft);
	memset(lm, 0, sizeof(*lm));
}
