/* rfft.c - radix-4 double FFT of a real frame via an N/2 complex transform, returning the power spectrum. */
#include "features/rfft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Two doubles per vector: SSE2 on x86-64, NEON on aarch64, plain scalar code elsewhere. The
 * operations are the same IEEE multiplies and adds as the scalar form, in the same order, so the
 * results do not depend on whether the compiler maps them to SIMD.
 */
typedef double v2d __attribute__((vector_size(16)));

static inline v2d ld2(const double *p)
{
	v2d v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void st2(double *p, v2d v)
{
	memcpy(p, &v, sizeof(v));
}

static inline v2d swap2(v2d v)
{
	return (v2d){ v[1], v[0] };
}

/*
 * Split of bin k: with E = (Z[k] + conj Z[m-k]) / 2 and O = -i (Z[k] - conj Z[m-k]) / 2,
 * X[k] = E + exp(-2 pi i k / n) O and X[m-k] = conj(E - exp(-2 pi i k / n) O).
 */
static void split_one(const struct rfft *f, uint32_t k, double *power_out)
{
	const uint32_t m = f->m;
	const double *zr = f->z_re, *zi = f->z_im;
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

static uint32_t log2_u32(uint32_t v)
{
	uint32_t b = 0;
	while ((1u << b) < v)
		b++;
	return b;
}

/* Twiddles of every pass after the first, in pass order (see the layout in rfft.h). */
static size_t twiddle_count(uint32_t m)
{
	size_t count = 0;
	uint32_t len = 4;
	while (len * 4 <= m) {
		count += 6 * (size_t)len; /* quarter = len: w, w^2, w^3 as re, im */
		len *= 4;
	}
	if (len < m)
		count += (size_t)m; /* final radix-2 pass: m / 2 twiddles as re, im */
	return count;
}

int rfft_init(struct rfft *f, uint32_t n, struct auscult_err *err)
{
	memset(f, 0, sizeof(*f));
	if (n < 4 || n > (1u << 20) || (n & (n - 1)) != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rfft: size %u is not a power of two in [4, 1048576]", n);
	f->n = n;
	f->m = n / 2;
	uint32_t m = f->m;
	uint32_t n_rev = m >= 4 ? m / 4 : 1;
	size_t n_tw = twiddle_count(m);
	f->bitrev = malloc(n_rev * sizeof(*f->bitrev));
	f->tw = malloc((n_tw + 1) * sizeof(*f->tw)); /* + 1: never a zero-size malloc */
	f->split_re = malloc((m / 2 + 1) * sizeof(*f->split_re));
	f->split_im = malloc((m / 2 + 1) * sizeof(*f->split_im));
	f->z_re = malloc(m * sizeof(*f->z_re));
	f->z_im = malloc(m * sizeof(*f->z_im));
	if (!f->bitrev || !f->tw || !f->split_re || !f->split_im || !f->z_re || !f->z_im) {
		rfft_free(f);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "rfft: out of memory for a %u-point plan",
				    n);
	}
	/* The first pass reads its four inputs at r + {0, 1, 2, 3} m/4, r = bit reverse of g. */
	uint32_t bits = m >= 4 ? log2_u32(m) - 2 : 0;
	for (uint32_t g = 0; g < n_rev; g++) {
		uint32_t r = 0;
		for (uint32_t b = 0; b < bits; b++)
			r |= ((g >> b) & 1u) << (bits - 1 - b);
		f->bitrev[g] = r;
	}
	/* Twiddles laid out per pass, each power as its own run, so the butterflies load pairs. */
	double *tw = f->tw;
	uint32_t len = 4;
	while (len * 4 <= m) {
		for (uint32_t p = 1; p <= 3; p++) {
			for (uint32_t j = 0; j < len; j++) {
				double a = -2.0 * M_PI * (double)(p * j) / (4.0 * len);
				tw[(2 * p - 2) * len + j] = cos(a);
				tw[(2 * p - 1) * len + j] = sin(a);
			}
		}
		tw += 6 * (size_t)len;
		len *= 4;
	}
	if (len < m) {
		for (uint32_t j = 0; j < m / 2; j++) {
			double a = -2.0 * M_PI * j / m;
			tw[j] = cos(a);
			tw[m / 2 + j] = sin(a);
		}
	}
	for (uint32_t k = 0; k <= m / 2; k++) {
		double a = -2.0 * M_PI * k / n;
		f->split_re[k] = cos(a);
		f->split_im[k] = sin(a);
	}
	return AUSCULT_OK;
}

/*
 * First pass, fused with the bit-reversal and the window: 4-point DFTs of
 * z[r + p m/4], p = 0..3, where z[t] = x[2t] w[2t] + i x[2t+1] w[2t+1], written to 4g..4g+3.
 */
static void first_pass(const struct rfft *f, const float *restrict x, const double *restrict w,
		       double *restrict zr, double *restrict zi)
{
	const uint32_t m = f->m, h = f->m / 2; /* h: offset of z[t + m/4] in x */
	const v2d conj = { 1.0, -1.0 };
	/* One complex per vector here: (re, im) is the natural order of x and w. */
	for (uint32_t g = 0; g < m / 4; g++) {
		const uint32_t t = 2 * f->bitrev[g];
		v2d a0 = (v2d){ x[t], x[t + 1] } * ld2(w + t);
		v2d a1 = (v2d){ x[t + h], x[t + h + 1] } * ld2(w + t + h);
		v2d a2 = (v2d){ x[t + 2 * h], x[t + 2 * h + 1] } * ld2(w + t + 2 * h);
		v2d a3 = (v2d){ x[t + 3 * h], x[t + 3 * h + 1] } * ld2(w + t + 3 * h);
		v2d t0 = a0 + a2, t1 = a0 - a2, t2 = a1 + a3;
		v2d t3 = conj * swap2(a1 - a3); /* -i (a1 - a3) */
		v2d y0 = t0 + t2, y1 = t1 + t3, y2 = t0 - t2, y3 = t1 - t3;
		zr[4 * g] = y0[0];
		zi[4 * g] = y0[1];
		zr[4 * g + 1] = y1[0];
		zi[4 * g + 1] = y1[1];
		zr[4 * g + 2] = y2[0];
		zi[4 * g + 2] = y2[1];
		zr[4 * g + 3] = y3[0];
		zi[4 * g + 3] = y3[1];
	}
}

/*
 * Radix-4 decimation-in-time pass: combines four sub-transforms of length q (q even) into one of
 * 4q, in every block of 4q. In bit-reversed order the blocks hold the sub-transforms of the
 * samples = 0, 2, 1, 3 mod 4 (of the pass's stride), hence a, c, b, d below.
 */
static void radix4_pass(double *restrict zr, double *restrict zi, uint32_t m, uint32_t q,
			const double *restrict tw)
{
	const double *w1r = tw, *w1i = tw + q, *w2r = tw + 2 * q, *w2i = tw + 3 * q;
	const double *w3r = tw + 4 * q, *w3i = tw + 5 * q;
	for (uint32_t i = 0; i < m; i += 4 * q) {
		double *r0 = zr + i, *r1 = r0 + q, *r2 = r1 + q, *r3 = r2 + q;
		double *i0 = zi + i, *i1 = i0 + q, *i2 = i1 + q, *i3 = i2 + q;
		for (uint32_t j = 0; j < q; j += 2) {
			v2d ar = ld2(r0 + j), ai = ld2(i0 + j);
			v2d cr = ld2(r1 + j), ci = ld2(i1 + j); /* samples = 2 mod 4: times w^2 */
			v2d br = ld2(r2 + j), bi = ld2(i2 + j); /* = 1 mod 4: times w */
			v2d dr = ld2(r3 + j), di = ld2(i3 + j); /* = 3 mod 4: times w^3 */
			v2d xr = ld2(w1r + j), xi = ld2(w1i + j);
			v2d b1r = br * xr - bi * xi, b1i = br * xi + bi * xr;
			xr = ld2(w2r + j);
			xi = ld2(w2i + j);
			v2d b2r = cr * xr - ci * xi, b2i = cr * xi + ci * xr;
			xr = ld2(w3r + j);
			xi = ld2(w3i + j);
			v2d b3r = dr * xr - di * xi, b3i = dr * xi + di * xr;
			v2d t0r = ar + b2r, t0i = ai + b2i, t1r = ar - b2r, t1i = ai - b2i;
			v2d t2r = b1r + b3r, t2i = b1i + b3i, t3r = b1r - b3r, t3i = b1i - b3i;
			st2(r0 + j, t0r + t2r);
			st2(i0 + j, t0i + t2i);
			st2(r1 + j, t1r + t3i);
			st2(i1 + j, t1i - t3r);
			st2(r2 + j, t0r - t2r);
			st2(i2 + j, t0i - t2i);
			st2(r3 + j, t1r - t3i);
			st2(i3 + j, t1i + t3r);
		}
	}
}

/* Final radix-2 pass when log2(m) is odd: the two halves of length m/2 (m/2 even). */
static void radix2_last_pass(double *restrict zr, double *restrict zi, uint32_t m,
			     const double *restrict tw)
{
	const uint32_t h = m / 2;
	const double *wr = tw, *wi = tw + h;
	for (uint32_t j = 0; j < h; j += 2) {
		v2d ar = ld2(zr + j), ai = ld2(zi + j), br = ld2(zr + h + j), bi = ld2(zi + h + j);
		v2d xr = ld2(wr + j), xi = ld2(wi + j);
		v2d tr = br * xr - bi * xi, ti = br * xi + bi * xr;
		st2(zr + j, ar + tr);
		st2(zi + j, ai + ti);
		st2(zr + h + j, ar - tr);
		st2(zi + h + j, ai - ti);
	}
}

void rfft_power(struct rfft *f, const float *x, const double *w, double *power_out)
{
	const uint32_t m = f->m;
	double *restrict zr = f->z_re;
	double *restrict zi = f->z_im;

	if (m == 2) {
		zr[0] = (double)x[0] * w[0] + (double)x[2] * w[2];
		zi[0] = (double)x[1] * w[1] + (double)x[3] * w[3];
		zr[1] = (double)x[0] * w[0] - (double)x[2] * w[2];
		zi[1] = (double)x[1] * w[1] - (double)x[3] * w[3];
	} else {
		first_pass(f, x, w, zr, zi);
		const double *tw = f->tw;
		uint32_t q = 4;
		while (q * 4 <= m) {
			radix4_pass(zr, zi, m, q, tw);
			tw += 6 * (size_t)q;
			q *= 4;
		}
		if (q < m)
			radix2_last_pass(zr, zi, m, tw);
	}
	/* Split into the real transform's bins (see split_one). */
	power_out[0] = (zr[0] + zi[0]) * (zr[0] + zi[0]);
	power_out[m] = (zr[0] - zi[0]) * (zr[0] - zi[0]);
	if (m == 2) {
		split_one(f, 1, power_out);
		return;
	}
	/*
	 * Bins k, k + 1 and their mirrors m - k, m - k - 1 together (reversed loads and stores). The
	 * last pair reaches k + 1 = m/2, whose mirror is itself: like the one-bin form it writes the
	 * mirror value last.
	 */
	const double *restrict sr = f->split_re, *restrict si = f->split_im;
	const v2d half = { 0.5, 0.5 };
	for (uint32_t k = 1; k < m / 2; k += 2) {
		v2d pr = ld2(zr + k), pi = ld2(zi + k);
		v2d qr = swap2(ld2(zr + m - k - 1)), qi = -swap2(ld2(zi + m - k - 1));
		v2d er = half * (pr + qr), ei = half * (pi + qi);
		v2d dr = half * (pr - qr), di = half * (pi - qi);
		v2d orr = di, oi = -dr;
		v2d cr = ld2(sr + k), ci = ld2(si + k);
		v2d tr = cr * orr - ci * oi, ti = cr * oi + ci * orr;
		v2d xr = er + tr, xi = ei + ti, yr = er - tr, yi = ei - ti;
		st2(power_out + k, xr * xr + xi * xi);
		st2(power_out + m - k - 1, swap2(yr * yr + yi * yi));
	}
}

void rfft_free(struct rfft *f)
{
	if (!f)
		return;
	free(f->bitrev);
	free(f->tw);
	free(f->split_re);
	free(f->split_im);
	free(f->z_re);
	free(f->z_im);
	memset(f, 0, sizeof(*f));
}
