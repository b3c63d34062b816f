/* test_threshold_fit.c - a gamma's quantile, and the quantile of the scores' exponential tail. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "train/gamma_fit.h"
#include "train/threshold_fit.h"

/* 200 scores: a light bulk around 1 and, every twentieth, a peak (a part of the score that is
 * rarely on), the kind of tail the gamma of all of them does not follow. */
#define N 200
static void scores_with_peaks(double *x)
{
	for (int i = 0; i < N; i++)
		x[i] = 1.0 + 0.1 * sin(0.7 * i) + (i % 20 == 7 ? 1.0 + 0.05 * i : 0.0);
}

static void test_gamma(void **state)
{
	(void)state;
	double x[N], k, theta;
	struct threshold_fit fit;
	struct auscult_err err = { { 0 } };
	scores_with_peaks(x);
	assert_int_equal(threshold_fit(x, N, THRESHOLD_FIT_GAMMA, 0.999, &fit, &err), AUSCULT_OK);
	assert_int_equal(gamma_fit_mle(x, N, &k, &theta, &err), AUSCULT_OK);
	assert_true(fit.gamma_shape == k && fit.gamma_scale == theta);
	assert_true(fit.threshold == gamma_quantile(k, theta, 0.999));
	/* the premise of the tail fit: the gamma's quantile lies among the peaks */
	assert_true(fit.above > 0);
	assert_false(threshold_from_tail((float)fit.threshold, (float)k, (float)theta, 0.999f));
}

/* The tail: the largest 10 of 200 (5%) over the 11th; by hand, u + mean excess * ln(0.05 / (1 - q)). */
static void test_tail(void **state)
{
	(void)state;
	double x[N];
	struct threshold_fit fit;
	struct auscult_err err = { { 0 } };
	scores_with_peaks(x);
	assert_int_equal(threshold_fit(x, N, THRESHOLD_FIT_TAIL, 0.999, &fit, &err), AUSCULT_OK);
	/* the peaks are 1 + 0.05 i (+ the bulk) at i = 7, 27, ..., 187: the 10 largest scores */
	double sorted[N];
	for (int i = 0; i < N; i++)
		sorted[i] = x[i];
	for (int i = 0; i < 11; i++) /* partial selection sort, largest first */
		for (int j = i + 1; j < N; j++)
			if (sorted[j] > sorted[i]) {
				double t = sorted[i];
				sorted[i] = sorted[j];
				sorted[j] = t;
			}
	double u = sorted[10], excess = 0;
	for (int i = 0; i < 10; i++)
		excess += sorted[i] - u;
	assert_int_equal(fit.tail_count, 10);
	assert_true(fit.tail_start == u);
	assert_true(fabs(fit.tail_mean - excess / 10) < 1e-12);
	assert_true(fabs(fit.threshold - (u + excess / 10 * log(0.05 / 0.001))) < 1e-9);
	assert_int_equal(fit.above, 0);
	/* the gamma of all is still fitted and kept beside it */
	assert_true(fit.gamma_shape > 0 && fit.gamma_scale > 0);
	/* as a model file keeps it (floats, no method field), it reads as a tail fit */
	assert_true(threshold_from_tail((float)fit.threshold, (float)fit.gamma_shape,
					(float)fit.gamma_scale, 0.999f));
}

/* Few scores: the tail keeps THRESHOLD_TAIL_MIN of them; under its quantile's start, the start. */
static void test_tail_small(void **state)
{
	(void)state;
	double x[N];
	struct threshold_fit fit;
	struct auscult_err err = { { 0 } };
	scores_with_peaks(x);
	assert_int_equal(threshold_fit(x, 40, THRESHOLD_FIT_TAIL, 0.99, &fit, &err), AUSCULT_OK);
	assert_int_equal(fit.tail_count, THRESHOLD_TAIL_MIN);
	assert_int_equal(threshold_fit(x, 40, THRESHOLD_FIT_TAIL, 0.5, &fit, &err), AUSCULT_OK);
	assert_true(fit.threshold == fit.tail_start);
}

static void test_errors(void **state)
{
	(void)state;
	double x[N];
	struct threshold_fit fit;
	struct auscult_err err = { { 0 } };
	enum threshold_fit_method method;
	scores_with_peaks(x);
	assert_int_equal(threshold_fit(x, N, THRESHOLD_FIT_TAIL, 1.0, &fit, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "threshold quantile 1 is not in (0, 1)");
	assert_int_equal(threshold_fit(x, 10, THRESHOLD_FIT_TAIL, 0.99, &fit, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "tail fit: 10 scores; at least 11 are needed (fit to more "
				     "recordings, or use the gamma)");
	double flat[20];
	for (int i = 0; i < 20; i++)
		flat[i] = i < 5 ? 0.5 + 0.1 * i : 2.0;
	assert_int_equal(threshold_fit(flat, 20, THRESHOLD_FIT_TAIL, 0.99, &fit, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "tail fit: the largest 10 scores are all 2; they give no tail "
				     "to fit a threshold to");
	/* the gamma fit's own errors, for both methods */
	assert_int_equal(threshold_fit(x, 1, THRESHOLD_FIT_GAMMA, 0.99, &fit, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "gamma fit: 1 clip score(s); at least 2 are needed (train on 2 "
			    "or more files)");
	assert_int_equal(threshold_fit_method_parse("tail", &method, &err), AUSCULT_OK);
	assert_int_equal(method, THRESHOLD_FIT_TAIL);
	assert_string_equal(threshold_fit_method_name(method), "tail");
	assert_int_equal(threshold_fit_method_parse("gamma", &method, &err), AUSCULT_OK);
	assert_int_equal(method, THRESHOLD_FIT_GAMMA);
	assert_int_equal(threshold_fit_method_parse("pareto", &method, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "'pareto' is not a threshold fit (gamma or tail)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gamma),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_tail_small),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
