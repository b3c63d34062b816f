/* rfft.h - double-precision real FFT power spectrum, for bit-for-bit-close parity with float64 references. */
#ifndef AUSCULT_RFFT_H
#define AUSCULT_RFFT_H

#include <stdint.h>

#include "common/status.h"

/*
 * Why not kissfft's float FFT: its float32 rounding error sits about 150 dB below a frame's
 * peak bin, which shows as up to 0.001 dB on leakage bands 70 dB under the peak of a sweep
 * (../shared/vectors/chirp.wav); the parity target is 0.0002 dB, and Debian ships kissfft in
 * float only. So the transform runs in double: an N/2-point complex FFT of the even/odd samples
 * packed as complex (radix-4 passes, the first fused with the window and the bit-reversal, and
 * one radix-2 pass when log2(N/2) is odd), then the usual split into the N/2 + 1 bins of the
 * real FFT.
 */
struct rfft {
	uint32_t n;        /* real transform size, a power of two >= 4 */
	uint32_t m;        /* n / 2: complex FFT size */
	uint32_t *bitrev;  /* max(m / 4, 1): bit-reversed index (log2(m) - 2 bits) of each group */
	double *tw;        /* twiddles of the passes after the first, pass after pass: a radix-4
			      pass of quarter q holds w^1, w^2, w^3 re/im as six runs of q; the
			      radix-2 pass (if any) holds m/2 re then m/2 im */
	double *split_re;  /* m / 2 + 1: exp(-2 pi i k / n) for the real split */
	double *split_im;
	double *z_re;      /* m scratch */
	double *z_im;
};

/* Plans a transform of n points (a power of two, 4..1048576). AUSCULT_ERR_INVALID / _NOMEM. */
int rfft_init(struct rfft *f, uint32_t n, struct auscult_err *err);

/*
 * power_out[k] = |sum_t x[t] w[t] exp(-2 pi i k t / n)|^2 for k = 0..n/2, computed in double.
 * x and w have n samples. Never allocates, never fails. One thread at a time per struct.
 */
void rfft_power(struct rfft *f, const float *x, const double *w, double *power_out);

/* Frees the plan. NULL-safe, safe after a failed init. */
void rfft_free(struct rfft *f);

#endif
