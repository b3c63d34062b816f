/* gamma_fit.h - maximum-likelihood gamma fit of clip scores and its quantile (the threshold). */
#ifndef AUSCULT_GAMMA_FIT_H
#define AUSCULT_GAMMA_FIT_H

#include <stddef.h>

#include "common/status.h"

/* Digamma psi(x) = d/dx ln Gamma(x), x > 0 (recurrence up to x >= 10, then the asymptotic series;
 * about 1e-14 relative). NaN for x <= 0. */
double gamma_digamma(double x);

/* Trigamma psi'(x), x > 0, same method. NaN for x <= 0. */
double gamma_trigamma(double x);

/* Regularised lower incomplete gamma P(a, x) = gamma(a, x) / Gamma(a), a > 0, x >= 0 (series
 * below a + 1, Lentz continued fraction above; about 1e-14). NaN outside the domain. */
double gamma_p(double a, double x);

/* Quantile of the gamma distribution with shape k and scale theta: the x with P(k, x/theta) = q,
 * q in (0, 1) (Newton in ln x on a bracket, bisection when Newton leaves it). NaN outside the domain. */
double gamma_quantile(double k, double theta, double q);

/*
 * Fits a two-parameter gamma (location 0) to n > 1 positive samples by maximum likelihood:
 * s = ln(mean) - mean(ln x); k solves ln k - psi(k) = s (Newton from the Minka/Thom start);
 * theta = mean / k. Returns AUSCULT_OK, or AUSCULT_ERR_INVALID when there are fewer than 2
 * samples, a sample is not finite and > 0, or all samples are equal (the message says which).
 */
int gamma_fit_mle(const double *x, size_t n, double *shape, double *scale, struct auscult_err *err);

#endif
