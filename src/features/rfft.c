/* rfft.c - windowed real FFT power spectrum: the window in double, the transform by kissfft in float. */
#include "features/rfft.h"

#include <stdlib.h>
#include <string.h>

#include <kiss_fftr.h>

int rfft_init(struct rfft *f, uint32_t n, struct auscult_err *err)
{
	memset(f, 0, sizeof(*f));
	if (n < 4 || n > (1u << 20) || (n & 1u) != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rfft: size %u is not an even number in [4, 1048576]", n);
	f->n = n;
	size_t cfg_bytes = 0;
	kiss_fftr_alloc((int)n, 0, NULL, &cfg_bytes); /* asks only for the plan's size */
	f->cfg = kiss_fftr_alloc((int)n, 0, NULL, NULL);
	f->frame = malloc(n * sizeof(*f->frame));
	f->bins = malloc(((size_t)n + 2) * sizeof(*f->bins));
	if (!f->cfg || !f->frame || !f->bins) {
		rfft_free(f);
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "rfft: out of memory for a %u-point plan", n);
	}
	f->heap_bytes = cfg_bytes + n * sizeof(*f->frame) + ((size_t)n + 2) * sizeof(*f->bins);
	return AUSCULT_OK;
}

size_t rfft_heap_bytes(const struct rfft *f)
{
	return f->heap_bytes;
}

/*
 * Vector types of the GCC/clang extensions (SSE2 on x86-64, NEON on aarch64): the loops below
 * convert between float and double, which GCC does not vectorise by itself at -O2.
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
	kiss_fftr(f->cfg, frame, (kiss_fft_cpx *)(void *)f->bins);
	/* Squares and sums in double, exact for float inputs: no rounding added before the mel. */
	const float *restrict b = f->bins;
	const uint32_t n_bins = n / 2 + 1;
	uint32_t k = 0;
	for (; k + 2 <= n_bins; k += 2) {
		v4sf bv; /* re, im of bins k and k + 1 */
		memcpy(&bv, b + 2 * k, sizeof(bv));
		v4df d = __builtin_convertvector(bv, v4df);
		d *= d;
		power_out[k] = d[0] + d[1];
		power_out[k + 1] = d[2] + d[3];
	}
	for (; k < n_bins; k++) {
		double re = b[2 * k], im = b[2 * k + 1];
		power_out[k] = re * re + im * im;
	}
}

void rfft_free(struct rfft *f)
{
	if (!f)
		return;
	kiss_fftr_free(f->cfg);
	free(f->frame);
	free(f->bins);
	memset(f, 0, sizeof(*f));
}
