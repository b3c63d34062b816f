/* sym_eigen.c - eigenvalues and eigenvectors of a small symmetric matrix (cyclic Jacobi), for the principal directions of normal windows. */
#include "train/sym_eigen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SWEEPS_MAX 100
#define OFF_TOLERANCE 1e-24

/* Sum of squares of the strictly lower triangle, and of the whole (symmetric) matrix. */
static void masses(const double *a, uint32_t n, double *off, double *all)
{
	double o = 0.0, d = 0.0;
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < i; j++)
			o += a[(size_t)i * n + j] * a[(size_t)i * n + j];
		d += a[(size_t)i * n + i] * a[(size_t)i * n + i];
	}
	*off = o;
	*all = d + 2.0 * o;
}

/* Zeroes a[p][q] (p < q) by a rotation of rows and columns p and q (Golub & Van Loan, the
 * symmetric Schur decomposition), applied to a and accumulated into v's columns. */
static void rotate(double *a, double *v, uint32_t n, uint32_t p, uint32_t q)
{
	double apq = a[(size_t)p * n + q];
	if (apq == 0.0)
		return;
	double tau = (a[(size_t)q * n + q] - a[(size_t)p * n + p]) / (2.0 * apq);
	double t = (tau >= 0.0 ? 1.0 : -1.0) / (fabs(tau) + sqrt(1.0 + tau * tau));
	double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
	for (uint32_t k = 0; k < n; k++) { /* columns p and q */
		double akp = a[(size_t)k * n + p], akq = a[(size_t)k * n + q];
		a[(size_t)k * n + p] = c * akp - s * akq;
		a[(size_t)k * n + q] = s * akp + c * akq;
	}
	for (uint32_t k = 0; k < n; k++) { /* rows p and q */
		double apk = a[(size_t)p * n + k], aqk = a[(size_t)q * n + k];
		a[(size_t)p * n + k] = c * apk - s * aqk;
		a[(size_t)q * n + k] = s * apk + c * aqk;
	}
	for (uint32_t k = 0; k < n; k++) {
		double vkp = v[(size_t)k * n + p], vkq = v[(size_t)k * n + q];
		v[(size_t)k * n + p] = c * vkp - s * vkq;
		v[(size_t)k * n + q] = s * vkp + c * vkq;
	}
}

int sym_eigen(double *a, uint32_t n, double *values, double *vectors, struct auscult_err *err)
{
	if (n == 0 || n > SYM_EIGEN_MAX_N)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "eigen-decomposition: size %u is not in [1, %u]", n,
				    SYM_EIGEN_MAX_N);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j <= i; j++) {
			if (!isfinite(a[(size_t)i * n + j]))
				return auscult_fail(err, AUSCULT_ERR_INVALID,
						    "eigen-decomposition: element (%u, %u) is not "
						    "finite",
						    i, j);
			a[(size_t)j * n + i] = a[(size_t)i * n + j];
		}
	double *v = calloc((size_t)n * n, sizeof(double));
	uint32_t *order = malloc(n * sizeof(uint32_t));
	if (!v || !order) {
		free(v);
		free(order);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "eigen-decomposition: out of memory");
	}
	for (uint32_t i = 0; i < n; i++)
		v[(size_t)i * n + i] = 1.0;
	for (int sweep = 0; sweep < SWEEPS_MAX; sweep++) {
		double off, all;
		masses(a, n, &off, &all);
		if (off <= OFF_TOLERANCE * all)
			break;
		for (uint32_t p = 0; p + 1 < n; p++)
			for (uint32_t q = p + 1; q < n; q++)
				rotate(a, v, n, p, q);
	}
	/* descending eigenvalues (a stable insertion sort: equal values keep their order) */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = i;
		double d = a[(size_t)i * n + i];
		while (j > 0 && a[(size_t)order[j - 1] * n + order[j - 1]] < d) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (uint32_t j = 0; j < n; j++) {
		uint32_t src = order[j];
		values[j] = a[(size_t)src * n + src];
		double big = 0.0;
		for (uint32_t k = 0; k < n; k++)
			if (fabs(v[(size_t)k * n + src]) > fabs(big))
				big = v[(size_t)k * n + src];
		double sign = big < 0.0 ? -1.0 : 1.0;
		for (uint32_t k = 0; k < n; k++)
			vectors[(size_t)k * n + j] = sign * v[(size_t)k * n + src];
	}
	free(v);
	free(order);
	return AUSCULT_OK;
}
