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
	/* exp(-i pi (k / half + 1/2)) in float, as kiss_fftr's split has them: the cosines at
	 * twiddles[k], the sines at twiddles[half / 2 + 1 + k] */
	const uint32_t n_tw = half / 2 + 1;
	for (uint32_t k = 0; k < n_tw; k++) {
		double phase = ((double)k * (1.0 / half) + 0.5) * -3.14159265358979323846264338327;
		f->twiddles[k] = (float)cos(phase);
		f->twiddles[n_tw + k] = (float)sin(phase);
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
	 * spectrum done here four bins at a time and squared in double on the spot: with
	 * A = Z[k], B = conj Z[h - k], s = A + B, t = W_k (A - B), X[k] = (s + t) / 2 and
	 * X[h - k] = conj (s - t) / 2. kiss_fftr's scalar split and a second pass to square it
	 * were a fifth of the front end's time. The float operations and twiddles are those of
	 * Debian's amd64 kiss_fftr, in its order, so the power is the same to the bit there
	 * (elsewhere, to float rounding); the halving, exact in float, is left to the square.
	 */
	kiss_fft(f->cfg, (const kiss_fft_cpx *)(const void *)frame,
		 (kiss_fft_cpx *)(void *)f->bins);
	const float *restrict z = f->bins;
	const uint32_t h = n / 2, n_tw = h / 2 + 1;
	const float *restrict tw_re = f->twiddles, *restrict tw_im = f->twiddles + n_tw;
	const double dc = (double)(z[0] + z[1]), ny = (double)(z[0] - z[1]);
	power_out[0] = dc * dc;
	power_out[h] = ny * ny;
	uint32_t k = 1;
	for (; k + 4 <= h / 2 + 1; k += 4) {
		v4sf a0, a1, b0, b1, wr, wi;
		memcpy(&a0, z + 2 * k, sizeof(a0));
		memcpy(&a1, z + 2 * k + 4, sizeof(a1));
		memcpy(&b0, z + 2 * (h - k - 3), sizeof(b0));
		memcpy(&b1, z + 2 * (h - k - 3) + 4, sizeof(b1));
		memcpy(&wr, tw_re + k, sizeof(wr));
		memcpy(&wi, tw_im + k, sizeof(wi));
		/* bins k..k+3 and their partners h-k..h-k-3, real and imaginary parts apart */
		const v4sf ar = __builtin_shufflevector(a0, a1, 0, 2, 4, 6);
		const v4sf ai = __builtin_shufflevector(a0, a1, 1, 3, 5, 7);
		const v4sf br = __builtin_shufflevector(b0, b1, 6, 4, 2, 0);
		const v4sf bi = __builtin_shufflevector(b0, b1, 7, 5, 3, 1);
		const v4sf s_r = ar + br, s_i = ai - bi, d_r = ar - br, d_i = ai + bi;
		const v4sf t_i = d_i * wr + d_r * wi;
		const v4df p_r = __builtin_convertvector((s_r + d_r * wr) - d_i * wi, v4df);
		const v4df p_i = __builtin_convertvector(t_i + s_i, v4df);
		const v4df m_r = __builtin_convertvector((s_r + d_i * wi) - d_r * wr, v4df);
		const v4df m_i = __builtin_convertvector((bi - ai) + t_i, v4df);
		const v4df p = 0.25 * (p_r * p_r + p_i * p_i), m = 0.25 * (m_r * m_r + m_i * m_i);
		memcpy(power_out + k, &p, sizeof(p));
		for (int j = 0; j < 4; j++)
			power_out[h - k - (uint32_t)j] = m[j];
	}
	for (; k <= h / 2; k++) {
		const float ar = z[2 * k], ai = z[2 * k + 1];
		const float br = z[2 * (h - k)], bi = z[2 * (h - k) + 1];
		const float s_r = ar + br, s_i = ai - bi, d_r = ar - br, d_i = ai + bi;
		const float wr = tw_re[k], wi = tw_im[k];
		const float t_i = d_i * wr + d_r * wi;
		const double p_r = (s_r + d_r * wr) - d_i * wi, p_i = t_i + s_i;
		const double m_r = (s_r + d_i * wi) - d_r * wr, m_i = (bi - ai) + t_i;
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
