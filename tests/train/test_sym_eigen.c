/* test_sym_eigen.c - the Jacobi eigen-decomposition: known eigenpairs, a random matrix rebuilt, its order, signs and errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train/sym_eigen.h"

static void near(double got, double want, double tol, const char *what, uint32_t i, uint32_t j)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s (%u, %u): got %.17g, want %.17g (tolerance %g)", what, i, j, got, want,
			 tol);
}

/* Uniform in [-1, 1), from a fixed LCG, so a failure reproduces. */
static double lcg_uniform(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return (double)(*state >> 8) / 8388608.0 - 1.0;
}

/* Each column's largest-magnitude component is positive (ties are not expected here). */
static void assert_sign_convention(const double *v, uint32_t n)
{
	for (uint32_t j = 0; j < n; j++) {
		double big = 0.0;
		for (uint32_t k = 0; k < n; k++)
			if (fabs(v[(size_t)k * n + j]) > fabs(big))
				big = v[(size_t)k * n + j];
		if (!(big > 0.0))
			fail_msg("eigenvector %u: its largest component %g is not positive", j,
				 big);
	}
}

/* A diagonal matrix is its own decomposition: its diagonal sorted descending, and unit vectors
 * (a permutation matrix) in the same order. */
static void test_diagonal(void **state)
{
	(void)state;
	enum { N = 5 };
	static const double diag[N] = { 3.0, -1.0, 7.0, 0.5, 0.0 };
	static const uint32_t where[N] = { 2, 0, 3, 4, 1 }; /* the row of values[j]'s 1 */
	double a[N * N] = { 0 }, values[N], vectors[N * N];
	for (uint32_t i = 0; i < N; i++)
		a[i * N + i] = diag[i];
	struct auscult_err err;
	assert_int_equal(sym_eigen(a, N, values, vectors, &err), AUSCULT_OK);
	static const double want[N] = { 7.0, 3.0, 0.5, 0.0, -1.0 };
	for (uint32_t j = 0; j < N; j++) {
		near(values[j], want[j], 0.0, "value", j, j);
		for (uint32_t k = 0; k < N; k++)
			near(vectors[k * N + j], k == where[j] ? 1.0 : 0.0, 0.0, "vector", k, j);
	}
}

/*
 * A = 5 u u^T + 1 w w^T with u = (3, 4) / 5 and w = (4, -3) / 5: A = [2.44 1.92; 1.92 3.56],
 * eigenvalues 5 and 1 with those vectors (w signed so its largest component, 4/5, is positive).
 * Only the lower triangle is read: garbage above the diagonal changes nothing.
 */
static void test_two_by_two(void **state)
{
	(void)state;
	double a[4] = { 2.44, 999.0, 1.92, 3.56 }, values[2], vectors[4];
	struct auscult_err err;
	assert_int_equal(sym_eigen(a, 2, values, vectors, &err), AUSCULT_OK);
	near(values[0], 5.0, 1e-12, "value", 0, 0);
	near(values[1], 1.0, 1e-12, "value", 1, 1);
	near(vectors[0], 0.6, 1e-12, "vector", 0, 0);
	near(vectors[2], 0.8, 1e-12, "vector", 1, 0);
	near(vectors[1], 0.8, 1e-12, "vector", 0, 1);
	near(vectors[3], -0.6, 1e-12, "vector", 1, 1);

	/* -A: eigenvalues -1 and -5, so the order turns round (vectors w, then u), each again
	 * signed by its largest component. */
	double b[4] = { -2.44, 0.0, -1.92, -3.56 };
	assert_int_equal(sym_eigen(b, 2, values, vectors, &err), AUSCULT_OK);
	near(values[0], -1.0, 1e-12, "value", 0, 0);
	near(values[1], -5.0, 1e-12, "value", 1, 1);
	near(vectors[0], 0.8, 1e-12, "vector", 0, 0);
	near(vectors[2], -0.6, 1e-12, "vector", 1, 0);
	near(vectors[1], 0.6, 1e-12, "vector", 0, 1);
	near(vectors[3], 0.8, 1e-12, "vector", 1, 1);

	/* 1 x 1: the element itself, vector 1. */
	double c = -2.5, v1, w1;
	assert_int_equal(sym_eigen(&c, 1, &v1, &w1, &err), AUSCULT_OK);
	near(v1, -2.5, 0.0, "value", 0, 0);
	near(w1, 1.0, 0.0, "vector", 0, 0);
}

/* A random symmetric 20 x 20: V diag(values) V^T rebuilds A to 1e-9, V^T V = I, the values
 * descend, each vector is signed by the convention, and a second run gives the same bits. */
static void test_random_twenty(void **state)
{
	(void)state;
	enum { N = 20 };
	double *a = malloc(N * N * sizeof(double)), *work = malloc(N * N * sizeof(double));
	double *v = malloc(N * N * sizeof(double)), *v2 = malloc(N * N * sizeof(double));
	double values[N], values2[N];
	assert_non_null(a);
	assert_non_null(work);
	assert_non_null(v);
	assert_non_null(v2);
	uint32_t seed = 20240607u;
	for (uint32_t i = 0; i < N; i++)
		for (uint32_t j = 0; j <= i; j++)
			a[i * N + j] = a[j * N + i] = lcg_uniform(&seed);
	memcpy(work, a, N * N * sizeof(double));
	struct auscult_err err;
	assert_int_equal(sym_eigen(work, N, values, v, &err), AUSCULT_OK);

	for (uint32_t i = 0; i < N; i++)
		for (uint32_t j = 0; j < N; j++) {
			double rebuilt = 0.0, gram = 0.0;
			for (uint32_t k = 0; k < N; k++) {
				rebuilt += v[i * N + k] * values[k] * v[j * N + k];
				gram += v[k * N + i] * v[k * N + j];
			}
			near(rebuilt, a[i * N + j], 1e-9, "V diag V^T", i, j);
			near(gram, i == j ? 1.0 : 0.0, 1e-12, "V^T V", i, j);
		}
	for (uint32_t j = 0; j + 1 < N; j++)
		if (!(values[j] >= values[j + 1]))
			fail_msg("values[%u] %g < values[%u] %g: not descending", j, values[j],
				 j + 1, values[j + 1]);
	/* trace = sum of eigenvalues */
	double trace = 0.0, sum = 0.0;
	for (uint32_t i = 0; i < N; i++) {
		trace += a[i * N + i];
		sum += values[i];
	}
	near(sum, trace, 1e-12, "trace", 0, 0);
	assert_sign_convention(v, N);

	/* deterministic */
	memcpy(work, a, N * N * sizeof(double));
	assert_int_equal(sym_eigen(work, N, values2, v2, &err), AUSCULT_OK);
	assert_memory_equal(values, values2, sizeof(values));
	assert_memory_equal(v, v2, N * N * sizeof(double));
	free(a);
	free(work);
	free(v);
	free(v2);
}

static void test_errors(void **state)
{
	(void)state;
	double a[16] = { 0 }, values[4], vectors[16];
	struct auscult_err err;
	assert_int_equal(sym_eigen(a, 0, values, vectors, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "eigen-decomposition: size 0 is not in [1, 1024]");
	/* refused before anything is read: the buffer is far smaller than 1025^2 */
	assert_int_equal(sym_eigen(a, SYM_EIGEN_MAX_N + 1, values, vectors, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "eigen-decomposition: size 1025 is not in [1, 1024]");

	for (uint32_t i = 0; i < 4; i++)
		a[i * 4 + i] = 1.0 + i;
	a[3 * 4 + 1] = NAN;
	assert_int_equal(sym_eigen(a, 4, values, vectors, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "eigen-decomposition: element (3, 1) is not finite");
	a[3 * 4 + 1] = 0.0;
	a[2 * 4 + 2] = INFINITY;
	assert_int_equal(sym_eigen(a, 4, values, vectors, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "eigen-decomposition: element (2, 2) is not finite");
	/* NULL err is allowed */
	assert_int_equal(sym_eigen(a, 0, values, vectors, NULL), AUSCULT_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagonal),
		cmocka_unit_test(test_two_by_two),
		cmocka_unit_test(test_random_twenty),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
