/* test_smoother.c - EMA and running median against hand-computed sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "detect/smoother.h"

static void run_case(enum smoother_kind kind, uint32_t n, const float *in, const float *expect,
		     int count)
{
	struct smoother s;
	struct smoother_config cfg = { kind, n };
	struct auscult_err err = { { 0 } };
	assert_int_equal(smoother_init(&s, &cfg, &err), AUSCULT_OK);
	for (int i = 0; i < count; i++)
		assert_float_equal(smoother_process(&s, in[i]), expect[i], 1e-6);
	smoother_free(&s);
}

/* N 3: alpha = 2 / 4 = 0.5. 0 -> 0; 4 -> 2; 4 -> 3; 0 -> 1.5 */
static void test_ema(void **state)
{
	(void)state;
	const float in[] = { 0, 4, 4, 0 };
	const float ex[] = { 0, 2, 3, 1.5f };
	run_case(SMOOTHER_EMA, 3, in, ex, 4);
	/* N 1: alpha 1, no smoothing */
	const float ex1[] = { 0, 4, 4, 0 };
	run_case(SMOOTHER_EMA, 1, in, ex1, 4);
}

/* N 3, odd: medians of {5}, {5,1}, {5,1,3}, {1,3,9}, {3,9,7}. */
static void test_median_odd(void **state)
{
	(void)state;
	const float in[] = { 5, 1, 3, 9, 7 };
	const float ex[] = { 5, 3, 3, 3, 7 };
	run_case(SMOOTHER_MEDIAN, 3, in, ex, 5);
}

/* N 4, even: the mean of the middle two; then the oldest (1) leaves. */
static void test_median_even(void **state)
{
	(void)state;
	const float in[] = { 1, 2, 3, 4, 10, 10 };
	const float ex[] = { 1, 1.5f, 2, 2.5f, 3.5f, 7 };
	run_case(SMOOTHER_MEDIAN, 4, in, ex, 6);
}

/* Duplicates leave one copy at a time. */
static void test_median_duplicates(void **state)
{
	(void)state;
	const float in[] = { 2, 2, 1, 1, 1 };
	const float ex[] = { 2, 2, 1.5f, 1, 1 };
	run_case(SMOOTHER_MEDIAN, 2, in, ex, 5);
}

static void test_none_and_reset(void **state)
{
	(void)state;
	const float in[] = { 3, -1, 8 };
	run_case(SMOOTHER_NONE, 5, in, in, 3);

	struct smoother s;
	struct smoother_config cfg = { SMOOTHER_EMA, 3 };
	assert_int_equal(smoother_init(&s, &cfg, NULL), AUSCULT_OK);
	smoother_process(&s, 100.0f);
	smoother_reset(&s);
	assert_float_equal(smoother_process(&s, 2.0f), 2.0f, 0.0);
	smoother_free(&s);
}

/* A NaN counts as +inf in the median and does not corrupt the order of later values. */
static void test_nan(void **state)
{
	(void)state;
	struct smoother s;
	struct smoother_config cfg = { SMOOTHER_MEDIAN, 3 };
	assert_int_equal(smoother_init(&s, &cfg, NULL), AUSCULT_OK);
	smoother_process(&s, NAN);
	smoother_process(&s, 1.0f);
	assert_true(isinf(smoother_process(&s, 2.0f)) == 0);
	assert_float_equal(smoother_process(&s, 3.0f), 2.0f, 0.0);
	smoother_free(&s);

	cfg.kind = SMOOTHER_EMA;
	assert_int_equal(smoother_init(&s, &cfg, NULL), AUSCULT_OK);
	smoother_process(&s, NAN);
	assert_float_equal(smoother_process(&s, 1.0f), 1.0f, 0.0);
	smoother_free(&s);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct smoother s;
	struct smoother_config cfg = { SMOOTHER_MEDIAN, 0 };
	struct auscult_err err = { { 0 } };
	assert_int_equal(smoother_init(&s, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "smoother: 0 windows is out of range [1, 1000]");
	smoother_free(&s);
	smoother_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ema),
		cmocka_unit_test(test_median_odd),
		cmocka_unit_test(test_median_even),
		cmocka_unit_test(test_median_duplicates),
		cmocka_unit_test(test_none_and_reset),
		cmocka_unit_test(test_nan),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
