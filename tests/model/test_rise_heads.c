/* test_rise_heads.c - the rise heads' steady median: a brief sound is not a steady fault; what each head added to it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/rise_heads.h"

/* Rise heads with nothing set but the model's steady count, all rise_heads_steady reads. */
static void start(struct rise_heads *rh, struct model_rise_heads *r, uint32_t steady)
{
	memset(rh, 0, sizeof(*rh));
	memset(r, 0, sizeof(*r));
	r->steady = steady;
	rh->r = r;
}

/* A normal's brief sound lies in the 2-s windows of two evaluations a second apart; the sounds
 * near the end of normal 62 in three of five (high, low, high, high): the window adds nothing for
 * either. */
static void test_brief_sound_adds_nothing(void **state)
{
	(void)state;
	struct rise_heads rh;
	struct model_rise_heads r;
	start(&rh, &r, RISE_HEADS_STEADY);
	for (int i = 0; i < 8; i++)
		assert_true(rise_heads_steady(&rh, 0.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 6.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 7.0f) == 0.0f);
	for (unsigned i = 0; i < RISE_HEADS_STEADY; i++)
		assert_true(rise_heads_steady(&rh, 0.0f) == 0.0f);
	const float normal_62[] = { 1.0f, 19.0f, 1.0f, 21.8f, 11.1f, 0.7f, 0.0f, 0.0f };
	for (size_t i = 0; i < sizeof(normal_62) / sizeof(normal_62[0]); i++)
		assert_true(rise_heads_steady(&rh, normal_62[i]) <= 1.0f);
}

/* A steady fault is heard in every evaluation: from the fourth on, the window adds the median of
 * the last seven (the middle one, whatever the order). */
static void test_steady_fault_counts(void **state)
{
	(void)state;
	assert_int_equal(RISE_HEADS_STEADY, 7);
	struct rise_heads rh;
	struct model_rise_heads r;
	start(&rh, &r, RISE_HEADS_STEADY);
	for (int i = 0; i < 8; i++)
		rise_heads_steady(&rh, 0.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 9.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 4.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 6.0f) == 4.0f);  /* 0 0 0 5 9 4 6 */
	assert_true(rise_heads_steady(&rh, 8.0f) == 5.0f);  /* 0 0 5 9 4 6 8 */
	assert_true(rise_heads_steady(&rh, 7.0f) == 6.0f);  /* 0 5 9 4 6 8 7 */
	assert_true(rise_heads_steady(&rh, 10.0f) == 7.0f); /* 5 9 4 6 8 7 10 */
}

/* After a restart (the machine switched on again) the gates before it count as 0: a fault must
 * be heard four times anew. */
static void test_restart_forgets(void **state)
{
	(void)state;
	struct rise_heads rh;
	struct model_rise_heads r;
	start(&rh, &r, RISE_HEADS_STEADY);
	for (int i = 0; i < 8; i++)
		rise_heads_steady(&rh, 5.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 5.0f);
	rise_heads_restart(&rh);
	assert_true(rise_heads_steady(&rh, 5.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 5.0f);
}

/* A model of format version 5, which does not record its count, keeps the median of five it was
 * calibrated with: a steady fault counts from its third evaluation. */
static void test_format_5_median_of_five(void **state)
{
	(void)state;
	struct rise_heads rh;
	struct model_rise_heads r;
	start(&rh, &r, MODEL_RISE_STEADY_V5);
	for (int i = 0; i < 8; i++)
		rise_heads_steady(&rh, 0.0f);
	assert_true(rise_heads_steady(&rh, 5.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 9.0f) == 0.0f);
	assert_true(rise_heads_steady(&rh, 4.0f) == 4.0f); /* 0 0 5 9 4 */
	assert_true(rise_heads_steady(&rh, 6.0f) == 5.0f); /* 0 5 9 4 6 */
}

/* An evaluation of given head terms (what rise_heads_gate keeps) and their sum as its gate. */
static float evaluate(struct rise_heads *rh, float envelope, float tones, float impulses)
{
	rh->terms[0] = envelope;
	rh->terms[1] = tones;
	rh->terms[2] = impulses;
	return rise_heads_steady(rh, envelope + tones + (isnan(impulses) ? 0.0f : impulses));
}

/* What the window adds splits by head as the evaluation it is the median of did: its terms
 * sum to it; one before the restart gives 0 from every head the model has. */
static void test_steady_terms_are_the_medians(void **state)
{
	(void)state;
	struct rise_heads rh;
	struct model_rise_heads r;
	start(&rh, &r, 5);
	assert_true(evaluate(&rh, 1.0f, 4.0f, 0.0f) == 0.0f); /* 0 0 0 0 5 */
	assert_true(rh.steady_terms[0] == 0.0f && rh.steady_terms[1] == 0.0f &&
		    rh.steady_terms[2] == 0.0f);
	evaluate(&rh, 0.0f, 9.0f, 0.0f);
	assert_true(evaluate(&rh, 0.0f, 0.0f, 3.0f) == 3.0f); /* 0 0 5 9 3 */
	assert_true(rh.steady_terms[0] == 0.0f && rh.steady_terms[1] == 0.0f &&
		    rh.steady_terms[2] == 3.0f);
	assert_true(evaluate(&rh, 2.0f, 4.0f, 0.0f) == 5.0f); /* 0 5 9 3 6 */
	assert_true(rh.steady_terms[0] == 1.0f && rh.steady_terms[1] == 4.0f &&
		    rh.steady_terms[2] == 0.0f);
	/* a model without an impulse head: NaN for it, also from before the restart */
	rise_heads_restart(&rh);
	float e = evaluate(&rh, 7.0f, 0.0f, NAN);
	assert_true(e == 0.0f);
	assert_true(rh.steady_terms[0] == 0.0f && rh.steady_terms[1] == 0.0f);
	assert_true(isnan(rh.steady_terms[2]));
	evaluate(&rh, 8.0f, 0.0f, NAN);
	assert_true(evaluate(&rh, 6.0f, 0.0f, NAN) == 6.0f); /* 0 0 7 8 6 */
	assert_true(rh.steady_terms[0] == 6.0f && rh.steady_terms[1] == 0.0f);
	assert_true(isnan(rh.steady_terms[2]));
}

/* The bursts head is not a steady head: its term of this evaluation adds as it is, beside the
 * steady heads' median, and is its own steady term; a model without one adds nothing (NaN). */
static void test_bursts_add_every_evaluation(void **state)
{
	(void)state;
	struct rise_heads rh;
	struct model_rise_heads r;
	start(&rh, &r, 5);
	rh.terms[RISE_BURSTS] = 3.0f;
	assert_true(evaluate(&rh, 0.0f, 9.0f, 0.0f) == 3.0f); /* median 0, a burst of 3 */
	assert_true(rh.steady_terms[RISE_BURSTS] == 3.0f);
	rh.terms[RISE_BURSTS] = 0.0f;
	assert_true(evaluate(&rh, 0.0f, 9.0f, 0.0f) == 0.0f); /* gone with the next */
	evaluate(&rh, 0.0f, 9.0f, 0.0f);
	rh.terms[RISE_BURSTS] = 1.5f;
	assert_true(evaluate(&rh, 0.0f, 9.0f, 0.0f) == 10.5f); /* 0 9 9 9 9, and 1.5 */
	assert_true(rh.steady_terms[RISE_TONES] == 9.0f && rh.steady_terms[RISE_BURSTS] == 1.5f);
	rh.terms[RISE_BURSTS] = NAN;
	assert_true(evaluate(&rh, 0.0f, 9.0f, 0.0f) == 9.0f);
	assert_true(isnan(rh.steady_terms[RISE_BURSTS]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brief_sound_adds_nothing),
		cmocka_unit_test(test_steady_fault_counts),
		cmocka_unit_test(test_restart_forgets),
		cmocka_unit_test(test_steady_terms_are_the_medians),
		cmocka_unit_test(test_bursts_add_every_evaluation),
		cmocka_unit_test(test_format_5_median_of_five),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
