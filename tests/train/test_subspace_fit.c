/* test_subspace_fit.c - the principal subspace of feature rows: known directions and mean recovered, the keep mask, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train/subspace_fit.h"

enum { DIM = 6, RANK = 2, HALF = 30, N = 2 * HALF };

static const double MU[DIM] = { 10.0, -5.0, 2.0, 0.5, 7.0, -3.0 };

/* Two orthonormal directions: d1 = (1, 1, 1, 1, 1, 1) / sqrt 6, d2 = (1, -1, 0, 0, 1, -1) / 2. */
static void directions(double d[2][DIM])
{
	static const double raw1[DIM] = { 1, 1, 1, 1, 1, 1 }, raw2[DIM] = { 1, -1, 0, 0, 1, -1 };
	for (int a = 0; a < DIM; a++) {
		d[0][a] = raw1[a] / sqrt(6.0);
		d[1][a] = raw2[a] / 2.0;
	}
}

/* Uniform in [-1, 1), from a fixed LCG, so a failure reproduces. */
static double lcg_uniform(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return (double)(*state >> 8) / 8388608.0 - 1.0;
}

/* N rows mean + a d1 + b d2 + noise: (a, b) = (4 cos t, 2 sin t) at N angles t evenly round
 * the circle, so a and b are uncorrelated and a has the larger spread (the covariance's
 * eigenvectors are d1 and d2 themselves), noise in +-1e-4; row i + HALF is row i's offset
 * negated, so the rows' mean is MU exactly (before float rounding). */
static float *make_rows(void)
{
	double d[2][DIM];
	directions(d);
	float *x = malloc((size_t)N * DIM * sizeof(float));
	assert_non_null(x);
	uint32_t seed = 99;
	for (int i = 0; i < HALF; i++) {
		double theta = 2.0 * M_PI * i / N, a = 4.0 * cos(theta), b = 2.0 * sin(theta);
		for (int k = 0; k < DIM; k++) {
			double off = a * d[0][k] + b * d[1][k] + 1e-4 * lcg_uniform(&seed);
			x[(size_t)i * DIM + k] = (float)(MU[k] + off);
			x[(size_t)(i + HALF) * DIM + k] = (float)(MU[k] - off);
		}
	}
	return x;
}

static void test_recovers_directions_and_mean(void **state)
{
	(void)state;
	float *x = make_rows();
	float mean[DIM], basis[DIM * RANK];
	struct auscult_err err;
	assert_int_equal(subspace_fit(x, N, NULL, DIM, RANK, mean, basis, &err), AUSCULT_OK);
	for (int a = 0; a < DIM; a++)
		if (!(fabs(mean[a] - MU[a]) <= 1e-5))
			fail_msg("mean[%d]: got %.9g, want %g", a, (double)mean[a], MU[a]);
	/* the basis columns are orthonormal */
	for (int p = 0; p < RANK; p++)
		for (int q = 0; q < RANK; q++) {
			double dot = 0.0;
			for (int a = 0; a < DIM; a++)
				dot += (double)basis[a * RANK + p] * basis[a * RANK + q];
			if (!(fabs(dot - (p == q)) <= 1e-5))
				fail_msg("basis columns %d . %d = %.9g", p, q, dot);
		}
	/* each direction lies in their span: its projection onto the basis has norm 1 */
	double d[2][DIM];
	directions(d);
	for (int k = 0; k < 2; k++) {
		double norm2 = 0.0;
		for (int q = 0; q < RANK; q++) {
			double c = 0.0;
			for (int a = 0; a < DIM; a++)
				c += d[k][a] * basis[a * RANK + q];
			norm2 += c * c;
		}
		if (!(fabs(sqrt(norm2) - 1.0) <= 1e-5))
			fail_msg("direction %d: its projection has norm %.9g, want 1", k,
				 sqrt(norm2));
	}
	/* a direction outside the span projects to nothing: e.g. (0, 0, 1, -1, 0, 0) / sqrt 2 */
	for (int q = 0; q < RANK; q++) {
		double c = (basis[2 * RANK + q] - basis[3 * RANK + q]) / sqrt(2.0);
		if (!(fabs(c) <= 1e-4))
			fail_msg("an orthogonal direction has coordinate %.9g on column %d", c, q);
	}
	/* a has the larger spread, so d1 comes first, signed so its largest component is
	 * positive: all of d1's are equal, so column 0 is +d1; column 1 is d2 up to its sign
	 * (its four largest components tie) */
	for (int a = 0; a < DIM; a++)
		if (!(fabs(basis[a * RANK] - d[0][a]) <= 1e-4))
			fail_msg("basis[%d][0]: got %.9g, want %.9g", a, (double)basis[a * RANK],
				 d[0][a]);
	double sign = basis[1] < 0.0f ? -1.0 : 1.0;
	for (int a = 0; a < DIM; a++)
		if (!(fabs(basis[a * RANK + 1] - sign * d[1][a]) <= 1e-4))
			fail_msg("basis[%d][1]: got %.9g, want %.9g", a,
				 (double)basis[a * RANK + 1], sign * d[1][a]);
	free(x);
}

/* Rows the keep mask leaves out change nothing: the fit equals that of the kept rows alone,
 * even when the left-out rows are wild or not finite. */
static void test_keep_mask(void **state)
{
	(void)state;
	float *x = make_rows();
	enum { N_ALL = N + 5 };
	float *all = malloc((size_t)N_ALL * DIM * sizeof(float));
	unsigned char keep[N_ALL];
	assert_non_null(all);
	/* outliers at rows 0, 7, 20, 33 and the last: big along the third feature (one a NaN) */
	size_t src = 0;
	for (size_t i = 0; i < N_ALL; i++) {
		bool out = i == 0 || i == 7 || i == 20 || i == 33 || i == N_ALL - 1;
		keep[i] = !out;
		if (out) {
			for (int a = 0; a < DIM; a++)
				all[i * DIM + a] = (float)MU[a];
			all[i * DIM + 2] = i == 20 ? NAN : 1000.0f;
		} else {
			memcpy(all + i * DIM, x + src * DIM, DIM * sizeof(float));
			src++;
		}
	}
	assert_int_equal(src, N);
	float mean_kept[DIM], basis_kept[DIM * RANK], mean[DIM], basis[DIM * RANK];
	struct auscult_err err;
	assert_int_equal(subspace_fit(x, N, NULL, DIM, RANK, mean_kept, basis_kept, &err),
			 AUSCULT_OK);
	assert_int_equal(subspace_fit(all, N_ALL, keep, DIM, RANK, mean, basis, &err), AUSCULT_OK);
	/* the same sums in the same order: the same bits */
	assert_memory_equal(mean, mean_kept, sizeof(mean));
	assert_memory_equal(basis, basis_kept, sizeof(basis));

	/* keeping them all instead: the NaN is refused; without it the outliers take over the
	 * first direction (the third feature) */
	assert_int_equal(subspace_fit(all, N_ALL, NULL, DIM, RANK, mean, basis, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "subspace: window 20, feature 2 is not finite");
	all[20 * DIM + 2] = 1000.0f;
	assert_int_equal(subspace_fit(all, N_ALL, NULL, DIM, RANK, mean, basis, &err), AUSCULT_OK);
	assert_true(fabs(basis[2 * RANK]) > 0.99);
	assert_true(fabs(mean[2] - mean_kept[2]) > 10.0);
	free(all);
	free(x);
}

static void test_errors(void **state)
{
	(void)state;
	float *x = make_rows();
	float mean[DIM], basis[DIM * DIM];
	struct auscult_err err;
	/* fewer than 2 rows, or kept rows */
	assert_int_equal(subspace_fit(x, 1, NULL, DIM, RANK, mean, basis, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "subspace: 1 windows; need at least 2");
	assert_int_equal(subspace_fit(x, 0, NULL, DIM, RANK, mean, basis, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "subspace: 0 windows; need at least 2");
	unsigned char keep[N];
	memset(keep, 0, sizeof(keep));
	keep[17] = 1;
	assert_int_equal(subspace_fit(x, N, keep, DIM, RANK, mean, basis, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "subspace: 1 windows; need at least 2");
	keep[40] = 1; /* two kept rows are enough */
	assert_int_equal(subspace_fit(x, N, keep, DIM, 1, mean, basis, &err), AUSCULT_OK);

	/* rank not in [1, dim - 1] */
	assert_int_equal(subspace_fit(x, N, NULL, DIM, DIM, mean, basis, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "subspace: rank 6 of 6 features; need 1 <= rank < features <= 1024");
	assert_int_equal(subspace_fit(x, N, NULL, DIM, DIM + 3, mean, basis, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "subspace: rank 9 of 6 features; need 1 <= rank < features <= 1024");
	assert_int_equal(subspace_fit(x, N, NULL, DIM, 0, mean, basis, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "subspace: rank 0 of 6 features; need 1 <= rank < features <= 1024");
	assert_int_equal(subspace_fit(x, N, NULL, DIM, DIM - 1, mean, basis, &err), AUSCULT_OK);

	/* a value that is not finite, named by row and feature */
	x[3 * DIM + 2] = INFINITY;
	assert_int_equal(subspace_fit(x, N, NULL, DIM, RANK, mean, basis, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "subspace: window 3, feature 2 is not finite");
	x[3 * DIM + 2] = (float)MU[2];
	x[(N - 1) * DIM + 5] = NAN;
	assert_int_equal(subspace_fit(x, N, NULL, DIM, RANK, mean, basis, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "subspace: window 59, feature 5 is not finite");
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovers_directions_and_mean),
		cmocka_unit_test(test_keep_mask),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
