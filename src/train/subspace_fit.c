/* subspace_fit.c - the principal subspace of normal windows' features: their mean and leading covariance directions. */
#include "train/subspace_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/sym_eigen.h"

int subspace_fit(const float *x, size_t n, const unsigned char *keep, uint32_t dim, uint32_t rank,
		 float *mean, float *basis, struct auscult_err *err)
{
	if (dim < 2 || dim > SYM_EIGEN_MAX_N || rank < 1 || rank >= dim)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "subspace: rank %u of %u features; need 1 <= rank < features <= "
				    "%u",
				    rank, dim, SYM_EIGEN_MAX_N);
	size_t used = 0;
	for (size_t i = 0; i < n; i++)
		used += !keep || keep[i];
	if (used < 2)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "subspace: %zu windows; need at least 2", used);
	double *mu = calloc(dim, sizeof(double));
	double *cov = calloc((size_t)dim * dim, sizeof(double));
	double *values = malloc(dim * sizeof(double));
	double *vectors = malloc((size_t)dim * dim * sizeof(double));
	double *centred = malloc(dim * sizeof(double));
	int rc = AUSCULT_OK;
	if (!mu || !cov || !values || !vectors || !centred) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "subspace: out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if (keep && !keep[i])
			continue;
		const float *row = x + i * dim;
		for (uint32_t a = 0; a < dim; a++) {
			if (!isfinite(row[a])) {
				rc = auscult_fail(err, AUSCULT_ERR_INVALID,
						  "subspace: window %zu, feature %u is not finite",
						  i, a);
				goto done;
			}
			mu[a] += row[a];
		}
	}
	for (uint32_t a = 0; a < dim; a++)
		mu[a] /= (double)used;
	for (size_t i = 0; i < n; i++) {
		if (keep && !keep[i])
			continue;
		const float *row = x + i * dim;
		for (uint32_t a = 0; a < dim; a++)
			centred[a] = row[a] - mu[a];
		for (uint32_t a = 0; a < dim; a++) { /* the lower triangle */
			double *c = cov + (size_t)a * dim;
			for (uint32_t b = 0; b <= a; b++)
				c[b] += centred[a] * centred[b];
		}
	}
	for (size_t k = 0; k < (size_t)dim * dim; k++)
		cov[k] /= (double)(used - 1);
	if ((rc = sym_eigen(cov, dim, values, vectors, err)) != AUSCULT_OK)
		goto done;
	for (uint32_t a = 0; a < dim; a++) {
		mean[a] = (float)mu[a];
		for (uint32_t q = 0; q < rank; q++)
			basis[(size_t)a * rank + q] = (float)vectors[(size_t)a * dim + q];
	}
done:
	free(mu);
	free(cov);
	free(values);
	free(vectors);
	free(centred);
	return rc;
}
