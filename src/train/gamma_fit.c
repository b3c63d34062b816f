/* gamma_fit.c - digamma, trigamma, incomplete gamma and its inverse, gamma MLE. */
#include "train/gamma_fit.h"

#include <float.h>
#include <math.h>

double gamma_digamma(double x)
{
	if (!(x > 0.0) || !isfinite(x))
		return NAN;
	double acc = 0.0;
	/* psi(x) = psi(x + 1) - 1/x: climb until the asymptotic series is accurate. */
	while (x < 10.0) {
		acc -= 1.0 / x;
		x += 1.0;
	}
	double r = 1.0 / (x * x);
	/* ln x - 1/(2x) - sum B_2n / (2n x^2n) */
	double series =
		r * (1.0 / 12 -
		     r * (1.0 / 120 -
			  r * (1.0 / 252 - r * (1.0 / 240 - r * (1.0 / 132 - r * 691.0 / 32760)))));
	return acc + log(x) - 0.5 / x - series;
}

double gamma_trigamma(double x)
{
	if (!(x > 0.0) || !isfinite(x))
		return NAN;
	double acc = 0.0;
	while (x < 10.0) {
		acc += 1.0 / (x * x);
		x += 1.0;
	}
	double r = 1.0 / (x * x);
	/* 1/x + 1/(2x^2) + sum B_2n / x^(2n+1) */
	double series = (1.0 / 6 - r * (1.0 / 30 -
					r * (1.0 / 42 -
					     r * (1.0 / 30 - r * (5.0 / 66 - r * 691.0 / 2730))))) /
			x;
	return acc + 1.0 / x + 0.5 * r + r * series;
}

static double p_series(double a, double x)
{
	double term = 1.0 / a, sum = term;
	for (int n = 1; n < 10000; n++) {
		term *= x / (a + n);
		sum += term;
		if (fabs(term) < fabs(sum) * 1e-16)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Q(a, x) = 1 - P(a, x) by the continued fraction (modified Lentz), for x >= a + 1. */
static double q_fraction(double a, double x)
{
	const double tiny = 1e-300;
	double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
	for (int i = 1; i < 10000; i++) {
		double an = -i * (i - a);
		b += 2.0;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		double delta = d * c;
		h *= delta;
		if (fabs(delta - 1.0) < 1e-16)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

double gamma_p(double a, double x)
{
	if (!(a > 0.0) || !(x >= 0.0) || !isfinite(a))
		return NAN;
	if (x == 0.0)
		return 0.0;
	if (isinf(x))
		return 1.0;
	if (x < a + 1.0)
		return p_series(a, x);
	return 1.0 - q_fraction(a, x);
}

double gamma_quantile(double k, double theta, double q)
{
	if (!(k > 0.0) || !(theta > 0.0) || !(q > 0.0 && q < 1.0) || !isfinite(k) ||
	    !isfinite(theta))
		return NAN;
	/*
	 * Works on u = ln x: small shapes put low quantiles at 1e-80 and below, where a bracket in
	 * x would need hundreds of bisections. Bracket [lo, hi] with P(e^lo) < q <= P(e^hi), then
	 * Newton (dP/du = pdf(x) x) that falls back to bisection when it leaves the bracket.
	 */
	double hi = log(k > 1.0 ? k : 1.0);
	while (gamma_p(k, exp(hi)) < q) {
		hi += 1.0;
		if (hi > 700.0)
			return NAN;
	}
	double lo = hi - 1.0;
	while (gamma_p(k, exp(lo)) >= q) {
		hi = lo;
		lo -= lo > -8.0 ? 1.0 : -lo; /* doubles the distance once far below 1 */
		if (lo < -700.0)
			return NAN;
	}
	/* Start: the small-x law P ~ x^k / Gamma(k + 1) for small k, Wilson-Hilferty otherwise. */
	double u;
	if (k < 1.0) {
		u = (log(q) + lgamma(k + 1.0)) / k;
	} else {
		double pp = q < 0.5 ? q : 1.0 - q;
		double t = sqrt(-2.0 * log(pp));
		/* Abramowitz-Stegun 26.2.23 normal quantile: a starting point only. */
		double z = t -
			   (2.515517 + 0.802853 * t + 0.010328 * t * t) /
				   (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
		if (q < 0.5)
			z = -z;
		double c = 1.0 / (9.0 * k);
		double w = 1.0 - c + z * sqrt(c);
		u = w > 0.0 ? log(k * w * w * w) : lo;
	}
	if (!(u > lo && u < hi))
		u = 0.5 * (lo + hi);
	for (int i = 0; i < 300; i++) {
		double x = exp(u);
		double f = gamma_p(k, x) - q;
		if (f < 0.0)
			lo = u;
		else
			hi = u;
		double slope = exp(k * u - x - lgamma(k)); /* pdf(x) x, computed in logs */
		double next = slope > 0.0 ? u - f / slope : NAN;
		if (!(next > lo && next < hi))
			next = 0.5 * (lo + hi);
		if (fabs(next - u) <= 1e-15 * (1.0 + fabs(u)) ||
		    hi - lo <= 1e-15 * (1.0 + fabs(u))) {
			u = next;
			break;
		}
		u = next;
	}
	return exp(u) * theta;
}

int gamma_fit_mle(const double *x, size_t n, double *shape, double *scale, struct auscult_err *err)
{
	if (n < 2)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "gamma fit: %zu clip score(s); at least 2 are needed (train on "
				    "2 or more files)",
				    n);
	double sum = 0.0, sum_log = 0.0;
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] > 0.0) || !isfinite(x[i]))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "gamma fit: clip score %zu is %g; scores must be finite "
					    "and > 0",
					    i, x[i]);
		sum += x[i];
		sum_log += log(x[i]);
	}
	double mean = sum / (double)n;
	double s = log(mean) - sum_log / (double)n;
	/* Jensen: s >= 0, equality only when all samples are equal (k would be infinite). */
	if (!(s > 1e-12))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "gamma fit: all %zu clip scores are equal (%g); the training "
				    "files give no spread to fit a threshold to",
				    n, mean);
	double k = (3.0 - s + sqrt((s - 3.0) * (s - 3.0) + 24.0 * s)) / (12.0 * s);
	for (int i = 0; i < 100; i++) {
		double f = log(k) - gamma_digamma(k) - s;
		double fp = 1.0 / k - gamma_trigamma(k);
		double next = k - f / fp;
		if (!(next > 0.0))
			next = k / 2.0; /* stay in the domain; f is monotone, so this recovers */
		if (fabs(next - k) <= 1e-13 * k) {
			k = next;
			break;
		}
		k = next;
	}
	*shape = k;
	*scale = mean / k;
	return AUSCULT_OK;
}
