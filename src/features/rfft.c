/* rfft.c - windowed real FFT power spectrum: the window in double, the transform by kissfft in float. */
#include "features/rfft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kiss_fft.h>

int rfft_init(struct rfft *f, uint32_t n, struct auscult_err *err)
{
	memset(f, 0, sizeof(*f));
	if (n < 4 || n > (1u << 20) || (n & 1u) != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rfft: size %u is not an even number in [4, 1048576]", n);
	f->n = n;
	const uint32_t half = n / 2;
	size_t cfg_bytes = 0;
	kiss_fft_alloc((int)half, 0, NULL, &cfg_bytes); /* asks only for the plan's size */
	f->cfg = kiss_fft_alloc((int)half, 0, NULL, NULL);
	f->frame = malloc(n * sizeof(*f->frame));
	f->bins = malloc(n * sizeof(*f->bins));
	f->twiddles = malloc(((size_t)half / 2 + 1) * 2 * sizeof(*f->twiddles));
	if (!f->cfg || !f->frame || !f->bins || !f->twiddles) {
		rfft_free(f);
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "rfft: out of memory for a %u-point plan", n);
	}
	/* exp(-i pi (k / half + 1/2)): the twiddles of kiss_fftr's split, exact to double */
	for (uint32_t k = 0; k <= half / 2; k++) {
		double phase = -M_PI * ((double)k / half + 0.5);
		f->twiddles[2 * k] = cos(phase);
		f->twiddles[2 * k + 1] = sin(phase);
	}
	f->heap_bytes = cfg_bytes + n * sizeof(*f->frame) + n * sizeof(*f->bins) +
			((size_t)half / 2 + 1) * 2 * sizeof(*f->twiddles);
	return AUSCULT_OK;
}

size_t rfft_heap_bytes(const struct rfft *f)
{
	return f->heap_bytes;
}

/*
 * Vector types of the GCC/clang extensions (SSE2 on x86-64, NEON on aarch64): the window loop
 * converts between float and double, which GCC does not vectorise by itself at -O2.
 */
typedef float v4sf __attribute__((vector_size(16)));
typedef double v4df __attribute__((vector_size(32)));

void rfft_power(struct rfft *f, const float *x, const double *w, double *power_out)
{
	const uint32_t n = f->n;
	float *restrict frame = f->frame;
	/*
	 * One rounding per sample: the product of the exact-to-double window and the sample. A
	 * float window times a float sample rounds twice, and the window's rounding is the same in
	 * every frame, so it would leak as a fixed floor instead of noise.
	 */
	uint32_t t = 0;
	for (; t + 4 <= n; t += 4) {
		v4sf xv;
		v4df wv;
		memcpy(&xv, x + t, sizeof(xv));
		memcpy(&wv, w + t, sizeof(wv));
		v4sf y = __builtin_convertvector(__builtin_convertvector(xv, v4df) * wv, v4sf);
		memcpy(frame + t, &y, sizeof(y));
	}
	for (; t < n; t++)
		frame[t] = (float)((double)x[t] * w[t]);
	/*
	 * The n real samples as n / 2 complex ones z[t] = x[2t] + i x[2t+1] through kissfft's
	 * complex transform (the one kiss_fftr runs), then kiss_fftr's split into the real
	 * spectrum done here in double and squared on the spot: with A = Z[k], B = conj Z[h - k],
	 * X[k] = (A + B + W_k (A - B)) / 2 and X[h - k] = conj (A + B - W_k (A - B)) / 2. The
	 * split in float and a second pass to square it were a fifth of the front end's time.
	 */
	kiss_fft(f->cfg, (const kiss_fft_cpx *)(const void *)frame,
		 (kiss_fft_cpx *)(void *)f->bins);
	const float *restrict z = f->bins;
	const double *restrict tw = f->twiddles;
	const uint32_t h = n / 2;
	const double dc_r = z[0], dc_i = z[1];
	power_out[0] = (dc_r + dc_i) * (dc_r + dc_i);
	power_out[h] = (dc_r - dc_i) * (dc_r - dc_i);
	for (uint32_t k = 1; k <= h / 2; k++) {
		const double ar = z[2 * k], ai = z[2 * k + 1];
		const double br = z[2 * (h - k)], bi = -(double)z[2 * (h - k) + 1];
		const double s_r = ar + br, s_i = ai + bi, d_r = ar - br, d_i = ai - bi;
		const double wr = tw[2 * k], wi = tw[2 * k + 1];
		const double t_r = d_r * wr - d_i * wi, t_i = d_r * wi + d_i * wr;
		const double p_r = s_r + t_r, p_i = s_i + t_i, m_r = s_r - t_r, m_i = s_i - t_i;
		power_out[k] = 0.25 * (p_r * p_r + p_i * p_i);
		power_out[h - k] = 0.25 * (m_r * m_r + m_i * m_i);
	}
}

void rfft_free(struct rfft *f)
{
	if (!f)
		return;
	kiss_fft_free(f->cfg);
	free(f->frame);
	free(f->bins);
	free(f->twiddles);
	memset(f, 0, sizeof(*f));
}
