/* feature_params.c - defaults and validation of the front end's parameters. */
#include "features/feature_params.h"

#include <math.h>

void feature_params_defaults(struct feature_params *p)
{
	p->sample_rate_hz = 16000;
	p->n_fft = 1024;
	p->hop_length = 512;
	p->n_mels = 128;
	p->fmin_hz = 0.0f;
	p->fmax_hz = 8000.0f;
	p->n_stack = 5;
}

uint32_t feature_params_vectors_in(const struct feature_params *p, double seconds)
{
	double v = round(seconds * (double)p->sample_rate_hz / (double)p->hop_length);
	return v < 1.0 ? 1u : (uint32_t)v;
}

int feature_params_validate(const struct feature_params *p, struct auscult_err *err)
{
	if (p->sample_rate_hz < 8000 || p->sample_rate_hz > 192000)
		return auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
				    "sample_rate_hz: %u is out of range [8000, 192000]",
				    p->sample_rate_hz);
	if (p->n_fft < 64 || p->n_fft > 16384 || (p->n_fft & (p->n_fft - 1)) != 0)
		return auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
				    "n_fft: %u is not a power of two in [64, 16384]", p->n_fft);
	if (p->hop_length == 0 || p->hop_length > p->n_fft)
		return auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
				    "hop_length: %u is out of range [1, n_fft=%u]", p->hop_length,
				    p->n_fft);
	if (p->n_mels == 0 || p->n_mels > 512)
		return auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
				    "n_mels: %u is out of range [1, 512]", p->n_mels);
	/* Written as negations so that NaN fails too. */
	if (!(p->fmin_hz >= 0.0f) || !(p->fmin_hz < p->fmax_hz) ||
	    !(p->fmax_hz <= (float)p->sample_rate_hz / 2.0f))
		return auscult_fail(
			err, AUSCULT_ERR_UNSUPPORTED,
			"fmin_hz/fmax_hz: %g..%g Hz is not within 0..%g Hz with fmin < fmax",
			(double)p->fmin_hz, (double)p->fmax_hz, p->sample_rate_hz / 2.0);
	if (p->n_stack == 0 || p->n_stack > 32)
		return auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
				    "n_stack: %u is out of range [1, 32]", p->n_stack);
	return AUSCULT_OK;
}
