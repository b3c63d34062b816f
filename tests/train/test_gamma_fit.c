/* test_gamma_fit.c - digamma, incomplete gamma, gamma quantiles and the MLE fit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "train/gamma_fit.h"
#include "train/trainer_kernels.h"

#define PI 3.14159265358979323846

static void near(double got, double want, double rel_tol, const char *what)
{
	if (!(fabs(got - want) <= rel_tol * fabs(want)))
		fail_msg("%s: got %.17g, want %.17g (relative tolerance %g)", what, got, want,
			 rel_tol);
}

/* Known closed forms: psi(1) = -Euler gamma, psi(1/2) = -gamma - 2 ln 2, psi(n) = H(n-1) - gamma,
 * psi(1/4) = -gamma - pi/2 - 3 ln 2. */
static void test_digamma(void **state)
{
	(void)state;
	const double euler = 0.57721566490153286061;
	near(gamma_digamma(1.0), -euler, 1e-13, "psi(1)");
	near(gamma_digamma(0.5), -euler - 2.0 * log(2.0), 1e-13, "psi(0.5)");
	near(gamma_digamma(0.25), -euler - PI / 2.0 - 3.0 * log(2.0), 1e-13, "psi(0.25)");
	near(gamma_digamma(2.0), 1.0 - euler, 1e-13, "psi(2)");
	double h9 = 0.0;
	for (int k = 1; k <= 9; k++)
		h9 += 1.0 / k;
	near(gamma_digamma(10.0), h9 - euler, 1e-13, "psi(10)");
	near(gamma_digamma(1000.5), 6.907755320648796, 1e-13, "psi(1000.5)");
	near(gamma_digamma(1e-3), -1000.5755719318103, 1e-12, "psi(0.001)");
	assert_true(isnan(gamma_digamma(0.0)));
	assert_true(isnan(gamma_digamma(-1.0)));
	/* psi'(1) = pi^2 / 6, psi'(1/2) = pi^2 / 2 */
	near(gamma_trigamma(1.0), PI * PI / 6.0, 1e-13, "trigamma(1)");
	near(gamma_trigamma(0.5), PI * PI / 2.0, 1e-13, "trigamma(0.5)");
	near(gamma_trigamma(50.0), 0.020201333226697125, 1e-12, "trigamma(50)");
}

/* P(1, x) = 1 - e^-x, P(1/2, x) = erf(sqrt x), P(3, x) = 1 - e^-x (1 + x + x^2/2). */
static void test_incomplete_gamma(void **state)
{
	(void)state;
	const double xs[] = { 1e-6, 0.01, 0.3, 1.0, 2.5, 7.0, 20.0, 45.0 };
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		double x = xs[i];
		near(gamma_p(1.0, x), -expm1(-x), 1e-12, "P(1,x)");
		near(gamma_p(0.5, x), erf(sqrt(x)), 1e-12, "P(0.5,x)");
		/* Below x = 0.3 the closed form itself loses digits to cancellation. */
		if (x >= 0.01)
			near(gamma_p(3.0, x), 1.0 - exp(-x) * (1.0 + x + x * x / 2.0),
			     x >= 0.3 ? 1e-12 : 1e-8, "P(3,x)");
	}
	assert_true(gamma_p(2.0, 0.0) == 0.0);
	assert_true(isnan(gamma_p(0.0, 1.0)));
	assert_true(isnan(gamma_p(1.0, -1.0)));
}

/*
 * Quantiles: exponential (k = 1): -ln(1 - q); k = 1/2 is chi-square(1)/2: the 0.9 point of
 * chi-square(1) is 2.705543454095404; k = 10 is chi-square(20)/2: its 0.9 point is
 * 28.411980584305635 and its 0.99 point 37.56623478662507; the median of gamma(2) solves
 * 1 - e^-x (1 + x) = 1/2: 1.6783469900166608.
 */
static void test_quantile(void **state)
{
	(void)state;
	near(gamma_quantile(1.0, 1.0, 0.9), log(10.0), 1e-12, "Q(1,0.9)");
	near(gamma_quantile(1.0, 2.5, 0.5), 2.5 * log(2.0), 1e-12, "Q(1,scale 2.5,0.5)");
	near(gamma_quantile(0.5, 1.0, 0.9), 2.705543454095404 / 2.0, 1e-12, "Q(0.5,0.9)");
	near(gamma_quantile(10.0, 2.0, 0.9), 28.411980584305635, 1e-12, "Q(10,0.9) x2");
	near(gamma_quantile(10.0, 2.0, 0.99), 37.56623478662507, 1e-12, "Q(10,0.99) x2");
	near(gamma_quantile(2.0, 1.0, 0.5), 1.6783469900166608, 1e-12, "Q(2,0.5)");
	/* Round trips over a spread of shapes, including tiny and huge ones. */
	const double ks[] = { 0.05, 0.3, 1.7, 25.0, 400.0, 1e4 };
	const double qs[] = { 1e-4, 0.1, 0.5, 0.9, 0.999 };
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
		for (size_t j = 0; j < sizeof(qs) / sizeof(qs[0]); j++) {
			double x = gamma_quantile(ks[i], 1.0, qs[j]);
			near(gamma_p(ks[i], x), qs[j], 1e-9, "P(Q(q)) = q");
		}
	assert_true(isnan(gamma_quantile(1.0, 1.0, 1.0)));
	assert_true(isnan(gamma_quantile(1.0, 0.0, 0.5)));
	assert_true(isnan(gamma_quantile(-1.0, 1.0, 0.5)));
}

/* Marsaglia-Tsang gamma sampler on the trainer's PRNG (k >= 1). */
static double sample_gamma(struct trainer_rng *r, double k, double theta)
{
	double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
	for (;;) {
		double z = trainer_rng_normal(r), v = 1.0 + c * z;
		if (v <= 0.0)
			continue;
		v = v * v * v;
		double u = trainer_rng_uniform(r);
		if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
			return d * v * theta;
	}
}

/*
 * 20000 samples: the MLE's standard error for k = 3.5 is about k sqrt(2/n)... ~1%, so a 4%
 * tolerance fails only for a broken fit. Small k (0.6) through the boost x U^(1/k).
 */
static void test_fit_recovers(void **state)
{
	(void)state;
	enum { N = 20000 };
	double *x = malloc(N * sizeof(double));
	assert_non_null(x);
	struct trainer_rng rng;
	trainer_rng_seed(&rng, 12345);
	const double cases[][2] = { { 3.5, 0.02 }, { 0.6, 7.0 }, { 40.0, 1e-3 } };
	for (size_t c = 0; c < 3; c++) {
		double k = cases[c][0], theta = cases[c][1];
		for (int i = 0; i < N; i++) {
			if (k >= 1.0)
				x[i] = sample_gamma(&rng, k, theta);
			else
				x[i] = sample_gamma(&rng, k + 1.0, theta) *
				       pow(1.0 - trainer_rng_uniform(&rng), 1.0 / k);
		}
		double fk = 0, ft = 0;
		struct auscult_err err = { { 0 } };
		assert_int_equal(gamma_fit_mle(x, N, &fk, &ft, &err), AUSCULT_OK);
		near(fk, k, 0.04, "fitted shape");
		near(ft, theta, 0.04, "fitted scale");
		/* The MLE matches the sample mean exactly: k theta = mean. */
		double mean = 0;
		for (int i = 0; i < N; i++)
			mean += x[i];
		near(fk * ft, mean / N, 1e-12, "k theta = mean");
	}
	free(x);
}

/* The MLE condition ln k - psi(k) = ln(mean) - mean(ln x) holds at the fitted k. */
static void test_fit_condition(void **state)
{
	(void)state;
	const double x[] = { 0.011, 0.0135, 0.0098, 0.0152, 0.012, 0.0101, 0.0171, 0.0125 };
	double k = 0, theta = 0, mean = 0, mlog = 0;
	assert_int_equal(gamma_fit_mle(x, 8, &k, &theta, NULL), AUSCULT_OK);
	for (int i = 0; i < 8; i++) {
		mean += x[i] / 8;
		mlog += log(x[i]) / 8;
	}
	near(log(k) - gamma_digamma(k), log(mean) - mlog, 1e-10, "MLE equation");
}

static void test_fit_errors(void **state)
{
	(void)state;
	struct auscult_err err = { { 0 } };
	double k, theta;
	const double one[] = { 0.5 };
	assert_int_equal(gamma_fit_mle(one, 1, &k, &theta, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "gamma fit: 1 clip score(s); at least 2 are needed (train on 2 "
			    "or more files)");
	const double zero[] = { 0.5, 0.0, 0.2 };
	assert_int_equal(gamma_fit_mle(zero, 3, &k, &theta, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "gamma fit: clip score 1 is 0; scores must be finite and > 0");
	const double same[] = { 0.25, 0.25, 0.25 };
	assert_int_equal(gamma_fit_mle(same, 3, &k, &theta, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "gamma fit: all 3 clip scores are equal (0.25); the training "
				     "files give no spread to fit a threshold to");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digamma),       cmocka_unit_test(test_incomplete_gamma),
		cmocka_unit_test(test_quantile),      cmocka_unit_test(test_fit_recovers),
		cmocka_unit_test(test_fit_condition), cmocka_unit_test(test_fit_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
