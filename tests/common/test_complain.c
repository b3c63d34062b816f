/* test_complain.c - rate-limited complaints, driven by an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/complain.h"

static void first_failure_then_backoff_then_clear(void **state)
{
	(void)state;
	struct complaint c;
	complaint_init(&c, 10.0, 40.0);
	uint64_t sup = 99;
	assert_true(complaint_failed(&c, 100.0, &sup)); /* first: logged */
	assert_int_equal(sup, 0);
	assert_false(complaint_failed(&c, 101.0, &sup));
	assert_false(complaint_failed(&c, 109.9, &sup));
	assert_true(complaint_failed(&c, 110.0, &sup)); /* after 10 s */
	assert_int_equal(sup, 2);
	assert_false(complaint_failed(&c, 129.0, &sup)); /* now 20 s */
	assert_true(complaint_failed(&c, 130.0, &sup));
	assert_int_equal(sup, 1);
	assert_false(complaint_failed(&c, 169.0, &sup)); /* 40 s */
	assert_true(complaint_failed(&c, 170.0, &sup));
	assert_false(complaint_failed(&c, 209.0, &sup)); /* capped at 40 s */
	assert_true(complaint_failed(&c, 210.0, &sup));

	uint64_t failures = 0;
	assert_true(complaint_cleared(&c, &failures));
	assert_int_equal(failures, 10);
	assert_false(complaint_cleared(&c, &failures)); /* once only */

	/* A new condition starts from the beginning: logged at once, 10 s back-off again. */
	assert_true(complaint_failed(&c, 300.0, &sup));
	assert_false(complaint_failed(&c, 305.0, &sup));
	assert_true(complaint_failed(&c, 310.0, &sup));
}

static void clear_without_failure_says_nothing(void **state)
{
	(void)state;
	struct complaint c;
	complaint_init(&c, 0.0, -1.0); /* clamped to 1 s .. 1 s */
	assert_false(complaint_cleared(&c, NULL));
	assert_true(complaint_failed(&c, 0.0, NULL));
	assert_false(complaint_failed(&c, 0.5, NULL));
	assert_true(complaint_failed(&c, 1.0, NULL));
	assert_true(complaint_failed(&c, 2.0, NULL)); /* max == min: stays 1 s */
}

static void logging_wrappers_follow_the_same_rules(void **state)
{
	(void)state;
	struct complaint c;
	complaint_init(&c, 5.0, 5.0);
	log_set_level(LOG_LEVEL_ERROR); /* keep the test output quiet */
	complain(&c, 1.0, LOG_LEVEL_WARN, "broker %s down", "x");
	assert_true(c.active);
	assert_int_equal(c.failures, 1);
	complain(&c, 2.0, LOG_LEVEL_WARN, "broker %s down", "x");
	assert_int_equal(c.suppressed, 1);
	complain_clear(&c, LOG_LEVEL_INFO, "broker back");
	assert_false(c.active);
	log_set_level(LOG_LEVEL_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_failure_then_backoff_then_clear),
		cmocka_unit_test(clear_without_failure_says_nothing),
		cmocka_unit_test(logging_wrappers_follow_the_same_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
