/* rfft.h - real FFT power spectrum of a windowed frame through kissfft (Debian's libkissfft, float). */
#ifndef AUSCULT_RFFT_H
#define AUSCULT_RFFT_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* kissfft's plan; only rfft.c sees its definition (kiss_fft.h), so users need not its flags. */
struct kiss_fft_state;

/*
 * kissfft is float only in Debian: the window product is formed in double and rounded once to
 * float, the complex transform of n / 2 points and the split of the real spectrum from it run
 * in float, and the power is summed in double from the float bins.
 * Against float64 references the float32 transform costs about 0.001 dB on bands 60 dB or more
 * under a frame's peak (the parity bar of ../shared/vectors is 0.002 dB); strong bands stay
 * within 0.0002 dB.
 */
struct rfft {
	uint32_t n;                 /* real transform size: even, 4..1048576 */
	struct kiss_fft_state *cfg; /* kissfft's complex plan for n / 2 points */
	float *frame;               /* n: the windowed frame, as n / 2 complex: kissfft's input */
	float *bins;                /* n: kissfft's output, n / 2 re/im pairs */
	float *twiddles;            /* 2 (n / 4 + 1): cos, then sin, of the real split's twiddles */
	size_t heap_bytes;          /* what init allocated: plan, frame, bins and twiddles */
};

/* Plans a transform of n points (even, 4..1048576). AUSCULT_ERR_INVALID / _NOMEM. */
int rfft_init(struct rfft *f, uint32_t n, struct auscult_err *err);

/*
 * power_out[k] = |sum_t x[t] w[t] exp(-2 pi i k t / n)|^2 for k = 0..n/2 (float transform, see
 * above). x and w have n samples. Never allocates, never fails. One thread at a time per struct.
 */
void rfft_power(struct rfft *f, const float *x, const double *w, double *power_out);

/* Bytes on the heap held by the plan (for memory reports). */
size_t rfft_heap_bytes(const struct rfft *f);

/* Frees the plan. NULL-safe, safe after a failed init. */
void rfft_free(struct rfft *f);

#endif
