/* sym_eigen.h - eigenvalues and eigenvectors of a small symmetric matrix (cyclic Jacobi), for the principal directions of normal windows. */
#ifndef AUSCULT_SYM_EIGEN_H
#define AUSCULT_SYM_EIGEN_H

#include <stdint.h>

#include "common/status.h"

/* The largest matrix sym_eigen takes: a head's features (model.h bounds them far lower). */
#define SYM_EIGEN_MAX_N 1024u

/*
 * Diagonalises the symmetric n x n matrix a (row-major; only its lower triangle is read; it is
 * overwritten) by cyclic Jacobi rotations until the off-diagonal mass is below 1e-24 of the
 * matrix's (entries about 1e-12 of its norm), at most 100 sweeps (a few suffice: the
 * convergence is quadratic). Writes the
 * eigenvalues in descending order to values (n) and the unit eigenvectors to vectors (n x n,
 * row-major: column j holds the eigenvector of values[j]), each signed so that its largest
 * component is positive (the first of equal ones), so that one matrix gives the same vectors
 * on every run of a build.
 * Deterministic; O(n^3) per sweep, about 1 ms for n = 60. Returns AUSCULT_OK;
 * AUSCULT_ERR_INVALID when n is 0 or above SYM_EIGEN_MAX_N or a value is not finite;
 * AUSCULT_ERR_NOMEM.
 */
int sym_eigen(double *a, uint32_t n, double *values, double *vectors, struct auscult_err *err);

#endif
