/* subspace_fit.h - the principal subspace of normal windows' features: their mean and leading covariance directions. */
#ifndef AUSCULT_SUBSPACE_FIT_H
#define AUSCULT_SUBSPACE_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * Fits n feature vectors x (n x dim floats, row-major; only rows with keep[i] set when keep is
 * not NULL): mean (dim) and the rank unit eigenvectors of their covariance with the largest
 * eigenvalues (basis: dim x rank, row-major; train/sym_eigen.h signs them). Accumulates in
 * double. Returns AUSCULT_OK; AUSCULT_ERR_INVALID when fewer than 2 rows are kept, rank is not
 * in [1, dim - 1] or a value is not finite; AUSCULT_ERR_NOMEM.
 */
int subspace_fit(const float *x, size_t n, const unsigned char *keep, uint32_t dim, uint32_t rank,
		 float *mean, float *basis, struct auscult_err *err);

#endif
