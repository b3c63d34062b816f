/* rfft.c - radix-2 double FFT of a real frame via an N/2 complex transform, returning the power spectrum. */
#include "features/rfft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int rfft_init(struct rfft *f, uint32_t n, struct auscult_err *err)
{
	memset(f, 0, sizeof(*f));
	if (n < 4 || n > (1u << 20) || (n & (n - 1)) != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rfft: size %u is not a power of two in [4, 1048576]", n);
	f->n = n;
	f->m = n / 2;
	uint32_t m = f->m;
	f->bitrev = malloc(m * sizeof(*f->bitrev));
	f->tw_re = malloc(m * sizeof(*f->tw_re));
	f->tw_im = malloc(m * sizeof(*f->tw_im));
	f->split_re = malloc((m / 2 + 1) * sizeof(*f->split_re));
	f->split_im = malloc((m / 2 + 1) * sizeof(*f->split_im));
	f->z_re = malloc(m * sizeof(*f->z_re));
	f->z_im = malloc(m * sizeof(*f->z_im));
	if (!f->bitrev || !f->tw_re || !f->tw_im || !f->split_re || !f->split_im || !f->z_re ||
	    !f->z_im) {
		rfft_free(f);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "rfft: out of memory for a %u-point plan",
				    n);
	}
	uint32_t bits = 0;
	while ((1u << bits) < m)
		bits++;
	for (uint32_t i = 0; i < m; i++) {
		uint32_t r = 0;
		for (uint32_t b = 0; b < bits; b++)
			r |= ((i >> b) & 1u) << (bits - 1 - b);
		f->bitrev[i] = r;
	}
	/* Twiddles laid out per stage so each butterfly loop reads them contiguously. */
	uint32_t off = 0;
	for (uint32_t len = 2; len <= m; len *= 2) {
		for (uint32_t j = 0; j < len / 2; j++) {
			double a = -2.0 * M_PI * j / len;
			f->tw_re[off + j] = cos(a);
			f->tw_im[off + j] = sin(a);
		}
		off += len / 2;
	}
	for (uint32_t k = 0; k <= m / 2; k++) {
		double a = -2.0 * M_PI * k / n;
		f->split_re[k] = cos(a);
		f->split_im[k] = sin(a);
	}
	return AUSCULT_OK;
}

void rfft_power(struct rfft *f, const float *x, const double *w, double *power_out)
{
	const uint32_t m = f->m;
	double *restrict zr = f->z_re;
	double *restrict zi = f->z_im;

	/* z[t] = x[2t] w[2t] + i x[2t+1] w[2t+1], stored in bit-reversed order (DIT input). */
	for (uint32_t t = 0; t < m; t++) {
		uint32_t r = f->bitrev[t];
		zr[r] = (double)x[2 * t] * w[2 * t];
		zi[r] = (double)x[2 * t + 1] * w[2 * t + 1];
	}
	/* Stage of length 2: twiddle 1. */
	for (uint32_t i = 0; i < m; i += 2) {
		double ar = zr[i], ai = zi[i], br = zr[i + 1], bi = zi[i + 1];
		zr[i] = ar + br;
		zi[i] = ai + bi;
		zr[i + 1] = ar - br;
		zi[i + 1] = ai - bi;
	}
	uint32_t off = 1;
	for (uint32_t len = 4; len <= m; len *= 2) {
		const uint32_t half = len / 2;
		const double *restrict wr = f->tw_re + off;
		const double *restrict wi = f->tw_im + off;
		for (uint32_t i = 0; i < m; i += len) {
			double *restrict ar = zr + i, *restrict ai = zi + i;
			double *restrict br = zr + i + half, *restrict bi = zi + i + half;
			for (uint32_t j = 0; j < half; j++) {
				double tr = br[j] * wr[j] - bi[j] * wi[j];
				double ti = br[j] * wi[j] + bi[j] * wr[j];
				br[j] = ar[j] - tr;
				bi[j] = ai[j] - ti;
				ar[j] += tr;
				ai[j] += ti;
			}
		}
		off += half;
	}
	/*
	 * Split: with E = (Z[k] + conj Z[m-k]) / 2 and O = -i (Z[k] - conj Z[m-k]) / 2,
	 * X[k] = E + exp(-2 pi i k / n) O and X[m-k] = conj(E - exp(-2 pi i k / n) O).
	 */
	power_out[0] = (zr[0] + zi[0]) * (zr[0] + zi[0]);
	power_out[m] = (zr[0] - zi[0]) * (zr[0] - zi[0]);
	for (uint32_t k = 1; k <= m / 2; k++) {
		double pr = zr[k], pi = zi[k], qr = zr[m - k], qi = -zi[m - k]; /* q = conj Z[m-k] */
		double er = 0.5 * (pr + qr), ei = 0.5 * (pi + qi);
		double dr = 0.5 * (pr - qr), di = 0.5 * (pi - qi);
		double orr = di, oi = -dr; /* O = -i d */
		double cr = f->split_re[k], ci = f->split_im[k];
		double tr = cr * orr - ci * oi, ti = cr * oi + ci * orr;
		double xr = er + tr, xi = ei + ti;
		power_out[k] = xr * xr + xi * xi;
		double yr = er - tr, yi = ei - ti; /* conj of X[m-k]: same magnitude */
		power_out[m - k] = yr * yr + yi * yi;
	}
}

void rfft_free(struct rfft *f)
{
	if (!f)
		return;
	free(f->bitrev);
	free(f->tw_re);
	free(f->tw_im);
	free(f->split_re);
	free(f->split_im);
	free(f->z_re);
	free(f->z_im);
	memset(f, 0, sizeof(*f));
}
