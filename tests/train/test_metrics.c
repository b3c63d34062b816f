/* test_metrics.c - AUC, pAUC, ROC and confusion counts against hand-computed sklearn values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "train/metrics.h"

/* Every expected value below is an exact fraction; 1e-12 only absorbs double rounding. */
#define TOL 1e-12

/*
 * The worked case used by several tests: 4 anomalies, 5 normals, one tie across the classes.
 *   anomalies: 0.9 0.7 0.5 0.2      normals: 0.8 0.5 0.4 0.3 0.1
 * Distinct scores from the top, with cumulative (false, true) positives after each:
 *   0.9 a -> (0,1)   0.8 n -> (1,1)   0.7 a -> (1,2)   0.5 a+n -> (2,3)
 *   0.4 n -> (3,3)   0.3 n -> (4,3)   0.2 a -> (4,4)   0.1 n   -> (5,4)
 * So sklearn's roc_curve (drop_intermediate=False) is, as (fpr = fp/5, tpr = tp/4):
 *   (0,0) (0,.25) (.2,.25) (.2,.5) (.4,.75) (.6,.75) (.8,.75) (.8,1) (1,1)
 * AUC by Mann-Whitney: normals below each anomaly, ties 1/2: 0.9 -> 5, 0.7 -> 4, 0.5 -> 3.5,
 *   0.2 -> 1; 13.5 / 20 = 0.675. Trapezoids agree: .05 + .125 + .15 + .15 + .2 = .675.
 * pAUC, max_fpr 0.1: searchsorted(fpr, .1, right) = 2, interpolate on (0,.25)-(.2,.25): .25.
 *   area = .1 * .25 = .025; min = .5 * .1^2 = .005, max = .1;
 *   0.5 * (1 + (.025 - .005) / (.1 - .005)) = 0.5 * (1 + 4/19) = 23/38.
 * pAUC, max_fpr 0.3: stop = 4, interpolate on the tie's diagonal (.2,.5)-(.4,.75): tpr .625.
 *   area = .2*.25 + .1*(.5+.625)/2 = .05 + .05625 = .10625; min = .045, max = .3;
 *   0.5 * (1 + .06125 / .255) = 0.5 * (1 + 49/204) = 253/408.
 * pAUC, max_fpr 0.5: stop = 5, interpolate on (.4,.75)-(.6,.75): .75.
 *   area = .05 + .2*(.5+.75)/2 + .1*.75 = .05 + .125 + .075 = .25; min = .125, max = .5;
 *   0.5 * (1 + .125 / .375) = 2/3.
 */
static const double case_scores[] = { 0.9, 0.7, 0.5, 0.2, 0.8, 0.5, 0.4, 0.3, 0.1 };
static const int case_labels[] = { 1, 1, 1, 1, 0, 0, 0, 0, 0 };
#define CASE_N (sizeof(case_scores) / sizeof(case_scores[0]))

static void auc_worked_case(void **state)
{
	(void)state;
	assert_true(fabs(metrics_auc(case_scores, case_labels, CASE_N) - 0.675) < TOL);
}

static void pauc_worked_case(void **state)
{
	(void)state;
	assert_true(fabs(metrics_pauc(case_scores, case_labels, CASE_N, 0.1) - 23.0 / 38.0) < TOL);
	assert_true(fabs(metrics_pauc(case_scores, case_labels, CASE_N, 0.3) - 253.0 / 408.0) <
		    TOL);
	assert_true(fabs(metrics_pauc(case_scores, case_labels, CASE_N, 0.5) - 2.0 / 3.0) < TOL);
	/* sklearn returns the plain AUC for max_fpr == 1. */
	assert_true(fabs(metrics_pauc(case_scores, case_labels, CASE_N, 1.0) - 0.675) < TOL);
}

static void roc_worked_case(void **state)
{
	(void)state;
	static const double want_fpr[] = { 0, 0, .2, .2, .4, .6, .8, .8, 1 };
	static const double want_tpr[] = { 0, .25, .25, .5, .75, .75, .75, 1, 1 };
	double fpr[CASE_N + 1], tpr[CASE_N + 1];
	size_t count = metrics_roc(case_scores, case_labels, CASE_N, fpr, tpr);
	assert_int_equal(count, 9);
	for (size_t i = 0; i < count; i++) {
		assert_true(fabs(fpr[i] - want_fpr[i]) < TOL);
		assert_true(fabs(tpr[i] - want_tpr[i]) < TOL);
	}
}

static void all_tied_is_chance(void **state)
{
	(void)state;
	/* One group: the ROC is the diagonal (0,0)-(1,1). AUC 1/2; the partial area under the
	 * diagonal equals min_area, so the standardised pAUC is exactly 1/2 too. */
	const double s[] = { 3, 3, 3, 3, 3 };
	const int l[] = { 1, 0, 0, 1, 0 };
	assert_true(fabs(metrics_auc(s, l, 5) - 0.5) < TOL);
	assert_true(fabs(metrics_pauc(s, l, 5, 0.1) - 0.5) < TOL);
	assert_true(fabs(metrics_pauc(s, l, 5, 0.5) - 0.5) < TOL);
	double fpr[6], tpr[6];
	assert_int_equal(metrics_roc(s, l, 5, fpr, tpr), 2);
	assert_true(fpr[1] == 1.0 && tpr[1] == 1.0);
}

static void one_tie_between_classes(void **state)
{
	(void)state;
	/* One anomaly and one normal with the same score: half a win, AUC 1/2. */
	const double s[] = { 0.25, 0.25 };
	const int l[] = { 0, 1 };
	assert_true(fabs(metrics_auc(s, l, 2) - 0.5) < TOL);
	/* Two normals, one anomaly tied with the upper normal: wins 1 (over .1) + .5 = 1.5 / 2. */
	const double s3[] = { 0.6, 0.6, 0.1 };
	const int l3[] = { 1, 0, 0 };
	assert_true(fabs(metrics_auc(s3, l3, 3) - 0.75) < TOL);
	/* ROC (0,0) (.5,1) (1,1). max_fpr .1: tpr at .1 on the first segment = .2;
	 * area = .1 * .2 / 2 = .01, min .005, max .1 -> 0.5 * (1 + .005/.095) = 10/19.
	 * max_fpr .5: area .25, min .125, max .5 -> 0.5 * (1 + .125/.375) = 2/3. */
	assert_true(fabs(metrics_pauc(s3, l3, 3, 0.1) - 10.0 / 19.0) < TOL);
	assert_true(fabs(metrics_pauc(s3, l3, 3, 0.5) - 2.0 / 3.0) < TOL);
}

static void perfect_and_inverted(void **state)
{
	(void)state;
	const double s[] = { 0.1, 0.2, 0.3, 0.8, 0.9 };
	const int perfect[] = { 0, 0, 0, 1, 1 };
	const int inverted[] = { 1, 1, 1, 0, 0 };
	assert_true(fabs(metrics_auc(s, perfect, 5) - 1.0) < TOL);
	assert_true(fabs(metrics_pauc(s, perfect, 5, 0.1) - 1.0) < TOL);
	assert_true(fabs(metrics_auc(s, inverted, 5) - 0.0) < TOL);
	/* Inverted: tpr stays 0 up to max_fpr, area 0 -> 0.5 * (1 - .005/.095) = 9/19 (not 0:
	 * McClish's standardisation maps "as bad as chance-at-worst" there, as sklearn does). */
	assert_true(fabs(metrics_pauc(s, inverted, 5, 0.1) - 9.0 / 19.0) < TOL);
}

/*
 * The bootstrap interval: separated classes stay at 1 in every draw; two classes from one
 * distribution give an interval around 0.5 that holds the AUC; the same inputs give the same
 * interval; more files narrow it; a missing class, a NaN score or too few draws give none.
 */
static void auc_interval(void **state)
{
	(void)state;
	double s[200], lo, hi;
	int l[200];
	for (int i = 0; i < 200; i++) {
		l[i] = i % 2;
		s[i] = l[i] ? 1000.0 + i : (double)i;
	}
	assert_int_equal(metrics_auc_interval(s, l, 20, 1000, 0.95, &lo, &hi), 0);
	assert_true(lo == 1.0 && hi == 1.0);
	/* one distribution: a fixed pseudo-random sequence for both classes */
	uint32_t x = 12345; /* xorshift32: a linear congruence's low bits would follow the labels */
	for (int i = 0; i < 200; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s[i] = (double)x;
	}
	double auc = metrics_auc(s, l, 200);
	assert_int_equal(metrics_auc_interval(s, l, 200, 2000, 0.95, &lo, &hi), 0);
	assert_true(lo < auc && auc < hi);
	assert_true(lo < 0.5 && 0.5 < hi);
	assert_true(hi - lo > 0.1 && hi - lo < 0.3); /* about 4 standard errors of 0.04 */
	double lo2, hi2;
	assert_int_equal(metrics_auc_interval(s, l, 200, 2000, 0.95, &lo2, &hi2), 0);
	assert_true(lo2 == lo && hi2 == hi);
	double lo_small, hi_small;
	assert_int_equal(metrics_auc_interval(s, l, 40, 2000, 0.95, &lo_small, &hi_small), 0);
	assert_true(hi_small - lo_small > hi - lo);
	/* none */
	const int normals[] = { 0, 0, 0 };
	assert_int_equal(metrics_auc_interval(s, normals, 3, 1000, 0.95, &lo, &hi), -1);
	assert_true(isnan(lo) && isnan(hi));
	assert_int_equal(metrics_auc_interval(s, l, 200, 99, 0.95, &lo, &hi), -1);
	assert_int_equal(metrics_auc_interval(s, l, 200, 1000, 1.0, &lo, &hi), -1);
	s[3] = NAN;
	assert_int_equal(metrics_auc_interval(s, l, 200, 1000, 0.95, &lo, &hi), -1);
}

static void missing_class_is_nan(void **state)
{
	(void)state;
	const double s[] = { 0.1, 0.2, 0.3 };
	const int normals[] = { 0, 0, 0 };
	const int anomalies[] = { 1, 1, 1 };
	assert_true(isnan(metrics_auc(s, normals, 3)));
	assert_true(isnan(metrics_auc(s, anomalies, 3)));
	assert_true(isnan(metrics_pauc(s, normals, 3, 0.1)));
	assert_true(isnan(metrics_auc(NULL, NULL, 0)));
	double fpr[4], tpr[4];
	assert_int_equal(metrics_roc(s, anomalies, 3, fpr, tpr), 0);
	/* A NaN score or a max_fpr outside (0, 1] is undefined too. */
	const double with_nan[] = { 0.1, NAN, 0.3 };
	const int mixed[] = { 0, 1, 1 };
	assert_true(isnan(metrics_auc(with_nan, mixed, 3)));
	assert_true(isnan(metrics_pauc(case_scores, case_labels, CASE_N, 0.0)));
	assert_true(isnan(metrics_pauc(case_scores, case_labels, CASE_N, 1.5)));
}

static void confusion_at_threshold(void **state)
{
	(void)state;
	struct confusion c;
	/* score > 0.5 flags 0.9 (a), 0.8 (n), 0.7 (a); the tied 0.5s are not above it. */
	metrics_confusion(case_scores, case_labels, CASE_N, 0.5, &c);
	assert_int_equal(c.tp, 2);
	assert_int_equal(c.fp, 1);
	assert_int_equal(c.fn, 2);
	assert_int_equal(c.tn, 4);
	assert_true(fabs(c.precision - 2.0 / 3.0) < TOL);
	assert_true(fabs(c.recall - 0.5) < TOL);
	assert_true(fabs(c.f1 - 4.0 / 7.0) < TOL); /* 2 * (2/3 * 1/2) / (2/3 + 1/2) */
	/* Nothing flagged: precision, recall and F1 are 0, as sklearn's zero_division default. */
	metrics_confusion(case_scores, case_labels, CASE_N, 10.0, &c);
	assert_int_equal(c.tp + c.fp, 0);
	assert_int_equal(c.tn, 5);
	assert_int_equal(c.fn, 4);
	assert_true(c.precision == 0.0 && c.recall == 0.0 && c.f1 == 0.0);
}

/* Deterministic pseudo-random numbers (xorshift) so the check is reproducible. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void auc_matches_pairwise_count(void **state)
{
	(void)state;
	/* Random scores on a coarse grid (many ties) against the O(n^2) definition of the AUC, and
	 * the pAUC against the ROC points integrated the sklearn way (trapezoids to the point
	 * interpolated at max_fpr). */
	enum { N = 300 };
	double s[N], fpr[N + 1], tpr[N + 1];
	int l[N];
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < N; i++) {
			l[i] = (int)(rng_next() % 3 == 0);
			s[i] = (double)(rng_next() % 40) + (l[i] ? 3.0 : 0.0);
		}
		double wins = 0;
		size_t np = 0, nn = 0;
		for (int i = 0; i < N; i++) {
			if (l[i])
				np++;
			else
				nn++;
			for (int j = 0; j < N; j++)
				if (l[i] && !l[j])
					wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
		}
		double auc = metrics_auc(s, l, N);
		assert_true(fabs(auc - wins / ((double)np * (double)nn)) < 1e-12);

		size_t count = metrics_roc(s, l, N, fpr, tpr);
		assert_true(count >= 2 && count <= N + 1);
		double whole = 0;
		for (size_t k = 1; k < count; k++)
			whole += (fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1]) / 2;
		assert_true(fabs(whole - auc) < 1e-12);

		const double max_fpr = 0.1;
		size_t stop = 0;
		while (stop < count && fpr[stop] <= max_fpr)
			stop++;
		double area = 0;
		for (size_t k = 1; k < stop; k++)
			area += (fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1]) / 2;
		double t_at = tpr[stop - 1] + (max_fpr - fpr[stop - 1]) *
						      (tpr[stop] - tpr[stop - 1]) /
						      (fpr[stop] - fpr[stop - 1]);
		area += (max_fpr - fpr[stop - 1]) * (tpr[stop - 1] + t_at) / 2;
		double want = 0.5 * (1 + (area - 0.005) / (0.1 - 0.005));
		assert_true(fabs(metrics_pauc(s, l, N, max_fpr) - want) < 1e-12);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(auc_worked_case),
		cmocka_unit_test(pauc_worked_case),
		cmocka_unit_test(roc_worked_case),
		cmocka_unit_test(all_tied_is_chance),
		cmocka_unit_test(one_tie_between_classes),
		cmocka_unit_test(perfect_and_inverted),
		cmocka_unit_test(missing_class_is_nan),
		cmocka_unit_test(auc_interval),
		cmocka_unit_test(confusion_at_threshold),
		cmocka_unit_test(auc_matches_pairwise_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
