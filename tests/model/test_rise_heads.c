/* test_rise_heads.c - the rise heads' steady median: a brief sound is not a steady fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/rise_heads.h"

/* A normal's brief sound, near the end of normal 62, lies in the 2-s windows of two evaluations
 * a second apart: the window adds nothing for it. */
static void test_brief_sound_adds_nothing(void **state)
{
	(void)state;
	struct rise_heads rh;
	memset(&rh, 0, sizeof(rh));
	for (int i = 0; i < 8; i++)
		assert_true(rise_heads_steady(&rh, 0.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 6.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 7.0f) == 0.0f);
	for (unsigned i = 0; i < RISE_HEADS_STEADY; i++)
		assert_true(rise_heads_steady(&rh, 0.0f) == 0.0f);
}

/* A steady fault is heard in every evaluation: from the third on, the window adds the median of
 * the last five (the middle one, whatever the order). */
static void test_steady_fault_counts(void **state)
{
	(void)state;
	struct rise_heads rh;
	memset(&rh, 0, sizeof(rh));
	for (int i = 0; i < 8; i++)
		rise_heads_steady(&rh, 0.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 9.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 4.0f) == 4.0f); /* 0 0 5 9 4 */
	assert_true(rise_heads_steady(&rh, 6.0f) == 5.0f); /* 0 5 9 4 6 */
	assert_true(rise_heads_steady(&rh, 8.0f) == 6.0f); /* 5 9 4 6 8 */
}

/* After a restart (the machine switched on again) the gates before it count as 0: a fault must
 * be heard three times anew. */
static void test_restart_forgets(void **state)
{
	(void)state;
	struct rise_heads rh;
	memset(&rh, 0, sizeof(rh));
	for (int i = 0; i < 8; i++)
		rise_heads_steady(&rh, 5.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 5.0f);
	rise_heads_restart(&rh);
	assert_true(rise_heads_steady(&rh, 5.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 5.0f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brief_sound_adds_nothing),
		cmocka_unit_test(test_steady_fault_counts),
		cmocka_unit_test(test_restart_forgets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
