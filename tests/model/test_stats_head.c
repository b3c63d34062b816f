/* test_stats_head.c - the window-statistics head: fit, diagonal, top-share, rise-only and full-covariance scores, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/stats_head.h"

static void near(double got, double want, double tol, const char *what)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.9g, want %.9g (tolerance %g)", what, got, want, tol);
}

static void init_ok(struct stats_head *h, uint32_t dim, float top, float shrinkage)
{
	struct stats_head_config cfg;
	struct auscult_err err = { { 0 } };
	stats_head_config_defaults(&cfg);
	cfg.dim = dim;
	cfg.top_fraction = top;
	cfg.shrinkage = shrinkage;
	cfg.std_floor_rel = 0.0f;
	if (stats_head_init(h, &cfg, &err) != AUSCULT_OK)
		fail_msg("stats_head_init: %s", err.msg);
}

/* One feature, windows 0 and 2: mean 1, unbiased std sqrt(2); x = 1 + 3 sqrt(2) is z = 3. */
static void test_diagonal_by_hand(void **state)
{
	(void)state;
	struct stats_head h;
	struct auscult_err err;
	init_ok(&h, 1, 1.0f, -1.0f);
	stats_head_add(&h, (const float[]){ 0.0f });
	stats_head_add(&h, (const float[]){ 2.0f });
	assert_int_equal(stats_head_fit(&h, &err), AUSCULT_OK);
	near(h.mean[0], 1.0, 1e-6, "mean");
	near(1.0 / h.inv_std[0], sqrt(2.0), 1e-6, "std");
	near(stats_head_score(&h, (const float[]){ (float)(1.0 + 3.0 * sqrt(2.0)) }), 9.0, 1e-4,
	     "z^2 at z = 3");
	near(stats_head_score(&h, (const float[]){ 1.0f }), 0.0, 1e-9, "score at the mean");
	stats_head_free(&h);
}

/* Means 0, stds 1 set directly: the top share averages the largest z^2, whatever their order. */
static void test_top_share_matches_sorting(void **state)
{
	(void)state;
	enum { D = 97 };
	float mean[D], std[D], x[D];
	double z2[D];
	unsigned seed = 12345;
	for (int i = 0; i < D; i++) {
		mean[i] = 0.0f;
		std[i] = 1.0f;
		seed = seed * 1103515245u + 12345u;
		x[i] = (float)((seed >> 8) % 2001) / 100.0f - 10.0f;
		z2[i] = (double)x[i] * x[i];
	}
	/* descending z^2, by insertion (the reference the quickselect must match) */
	for (int i = 1; i < D; i++)
		for (int j = i; j > 0 && z2[j] > z2[j - 1]; j--) {
			double t = z2[j];
			z2[j] = z2[j - 1];
			z2[j - 1] = t;
		}
	const float shares[] = { 1.0f / D, 0.05f, 0.3f, 0.5f, 0.99f, 1.0f };
	for (size_t s = 0; s < sizeof(shares) / sizeof(shares[0]); s++) {
		struct stats_head h;
		struct auscult_err err;
		init_ok(&h, D, shares[s], -1.0f);
		assert_int_equal(stats_head_set(&h, mean, std, &err), AUSCULT_OK);
		uint32_t k = h.k;
		double want = 0.0;
		for (uint32_t i = 0; i < k; i++)
			want += z2[i];
		want /= k;
		near(stats_head_score(&h, x), want, 1e-4 * want, "mean of the largest z^2");
		/* scoring twice gives the same (the scratch is rebuilt each time) */
		near(stats_head_score(&h, x), want, 1e-4 * want, "second score");
		stats_head_free(&h);
	}
}

/*
 * Two features that move together (x2 = x1 + a little noise). The full model's score is
 * z^T P z / 2 with P the inverse of [[1, r'], [r', 1]], r' = (1 - a) r: a point along the shared
 * direction scores far less than one across it, which the diagonal model cannot tell apart.
 */
static void test_full_covariance(void **state)
{
	(void)state;
	struct stats_head full, diag;
	struct auscult_err err;
	const float a = 0.1f;
	init_ok(&full, 2, 1.0f, a);
	init_ok(&diag, 2, 1.0f, -1.0f);
	double s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0;
	unsigned seed = 7;
	const int n = 400;
	for (int i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		float x1 = (float)((seed >> 8) % 1000) / 100.0f;
		seed = seed * 1103515245u + 12345u;
		float x2 = x1 + (float)((seed >> 8) % 100) / 100.0f;
		float x[2] = { x1, x2 };
		stats_head_add(&full, x);
		stats_head_add(&diag, x);
		s1 += x1;
		s2 += x2;
		s11 += (double)x1 * x1;
		s22 += (double)x2 * x2;
		s12 += (double)x1 * x2;
	}
	assert_int_equal(stats_head_fit(&full, &err), AUSCULT_OK);
	assert_int_equal(stats_head_fit(&diag, &err), AUSCULT_OK);
	double m1 = s1 / n, m2 = s2 / n;
	double v1 = (s11 - n * m1 * m1) / (n - 1), v2 = (s22 - n * m2 * m2) / (n - 1);
	double r = (s12 - n * m1 * m2) / (n - 1) / sqrt(v1 * v2), rs = (1.0 - a) * r;
	assert_true(r > 0.99);
	/* along the shared direction: z = (2, 2); across it: z = (2, -2) */
	float along[2] = { (float)(m1 + 2 * sqrt(v1)), (float)(m2 + 2 * sqrt(v2)) };
	float across[2] = { (float)(m1 + 2 * sqrt(v1)), (float)(m2 - 2 * sqrt(v2)) };
	double want_along = (4 + 4 - 2 * rs * 4) / (1 - rs * rs) / 2;
	double want_across = (4 + 4 + 2 * rs * 4) / (1 - rs * rs) / 2;
	near(stats_head_score(&full, along), want_along, 1e-3 * want_along, "full, along");
	near(stats_head_score(&full, across), want_across, 1e-3 * want_across, "full, across");
	assert_true(stats_head_score(&full, across) > 10.0f * stats_head_score(&full, along));
	near(stats_head_score(&diag, along), stats_head_score(&diag, across), 1e-3,
	     "diagonal cannot tell them apart");
	stats_head_free(&full);
	stats_head_free(&diag);
}

/* A feature that never moved in training does not make the score infinite: the std floor. */
static void test_std_floor(void **state)
{
	(void)state;
	struct stats_head_config cfg;
	struct stats_head h;
	struct auscult_err err;
	stats_head_config_defaults(&cfg);
	cfg.dim = 3;
	assert_int_equal(stats_head_init(&h, &cfg, &err), AUSCULT_OK);
	stats_head_add(&h, (const float[]){ 0.0f, 0.0f, 5.0f });
	stats_head_add(&h, (const float[]){ 2.0f, 4.0f, 5.0f });
	assert_int_equal(stats_head_fit(&h, &err), AUSCULT_OK);
	/* stds sqrt(2), 2 sqrt(2), 0: median sqrt(2), floor 0.1 sqrt(2) */
	near(1.0 / h.inv_std[2], 0.1 * sqrt(2.0), 1e-6, "floored std");
	float s = stats_head_score(&h, (const float[]){ 1.0f, 2.0f, 6.0f });
	assert_true(isfinite(s));
	near(s, (1.0 / (0.02)) / 3.0, 1e-3, "score with the floor");
	stats_head_free(&h);
}

static void expect_init_error(uint32_t dim, float top, float shrinkage, const char *text)
{
	struct stats_head_config cfg;
	struct stats_head h;
	struct auscult_err err = { { 0 } };
	stats_head_config_defaults(&cfg);
	cfg.dim = dim;
	cfg.top_fraction = top;
	cfg.shrinkage = shrinkage;
	assert_int_equal(stats_head_init(&h, &cfg, &err), AUSCULT_ERR_INVALID);
	if (!strstr(err.msg, text))
		fail_msg("error '%s' does not say '%s'", err.msg, text);
	stats_head_free(&h);
}

static void test_errors(void **state)
{
	(void)state;
	expect_init_error(0, 1.0f, -1.0f, "dim is 0");
	expect_init_error(4, 0.0f, -1.0f, "top_fraction 0 is out of range (0, 1]");
	expect_init_error(4, 1.5f, -1.0f, "top_fraction 1.5 is out of range");
	expect_init_error(4, NAN, -1.0f, "top_fraction nan");
	expect_init_error(4, 1.0f, 2.0f, "shrinkage 2: need <= 1");

	struct stats_head h;
	struct auscult_err err = { { 0 } };
	init_ok(&h, 2, 1.0f, -1.0f);
	assert_int_equal(stats_head_fit(&h, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "0 windows are too few to fit (need 2 or more)"));
	stats_head_add(&h, (const float[]){ 1.0f, 2.0f });
	assert_int_equal(stats_head_fit(&h, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "1 windows are too few"));
	assert_int_equal(stats_head_set(&h, (const float[]){ 0.0f, NAN },
					(const float[]){ 1.0f, 1.0f }, &err),
			 AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "feature 1: mean nan"));
	assert_int_equal(stats_head_set(&h, (const float[]){ 0.0f, 0.0f },
					(const float[]){ -1.0f, 1.0f }, &err),
			 AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "feature 0: mean 0 std -1"));
	stats_head_free(&h);

	/* a full model with no shrinkage of perfectly correlated features is singular */
	init_ok(&h, 2, 1.0f, 0.0f);
	stats_head_add(&h, (const float[]){ 0.0f, 0.0f });
	stats_head_add(&h, (const float[]){ 1.0f, 1.0f });
	stats_head_add(&h, (const float[]){ 3.0f, 3.0f });
	assert_int_equal(stats_head_fit(&h, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "singular at feature 1: raise shrinkage"));
	stats_head_free(&h);
	stats_head_free(NULL);
}

/*
 * Rise only: the mean of the k largest z, signed. A window that dips far below its normal range
 * scores low (z^2 would score it like a rise); one that rises scores its rises. The feature of
 * the largest z is kept (where it rose most).
 */
static void test_rise_only(void **state)
{
	(void)state;
	struct stats_head_config cfg;
	struct auscult_err err = { { 0 } };
	stats_head_config_defaults(&cfg);
	assert_int_equal(cfg.rise_only, 0);
	cfg.dim = 4;
	cfg.top_fraction = 0.5f; /* k = 2 */
	cfg.rise_only = 1;
	cfg.std_floor_rel = 0.0f;
	struct stats_head h, sq;
	assert_int_equal(stats_head_init(&h, &cfg, &err), AUSCULT_OK);
	cfg.rise_only = 0;
	assert_int_equal(stats_head_init(&sq, &cfg, &err), AUSCULT_OK);
	const float mean[4] = { 0.0f, 0.0f, 0.0f, 0.0f }, std[4] = { 1.0f, 2.0f, 1.0f, 1.0f };
	assert_int_equal(stats_head_set(&h, mean, std, &err), AUSCULT_OK);
	assert_int_equal(stats_head_set(&sq, mean, std, &err), AUSCULT_OK);

	const float dip[4] = { -5.0f, -6.0f, 0.5f, -1.0f }; /* z = -5, -3, 0.5, -1 */
	near(stats_head_score(&h, dip), (0.5 - 1.0) / 2.0, 1e-6, "a dip: the two largest z");
	assert_int_equal(h.top, 2); /* where it rose most: feature 2, z 0.5 */
	near(stats_head_score(&sq, dip), (25.0 + 9.0) / 2.0, 1e-4, "z^2 scores the dip");
	const float rise[4] = { 4.0f, 2.0f, -3.0f, 0.0f }; /* z = 4, 1, -3, 0 */
	near(stats_head_score(&h, rise), (4.0 + 1.0) / 2.0, 1e-6, "a rise: its z");
	assert_int_equal(h.top, 0);
	const float std_rise[4] = { 1.0f, 7.0f, 0.0f, 0.0f }; /* z = 1, 3.5: per std, not level */
	stats_head_score(&h, std_rise);
	assert_int_equal(h.top, 1);
	stats_head_free(&h);
	stats_head_free(&sq);
}

/* top_count overrides the share: exactly that many largest z, here the largest alone (a share
 * of 1/dim could round to two), at most dim. */
static void test_top_count(void **state)
{
	(void)state;
	struct stats_head_config cfg;
	struct auscult_err err = { { 0 } };
	stats_head_config_defaults(&cfg);
	assert_int_equal(cfg.top_count, 0);
	cfg.dim = 240;
	cfg.top_fraction = 1.0f / 240.0f;
	cfg.rise_only = 1;
	cfg.std_floor_rel = 0.0f;
	cfg.top_count = 1;
	struct stats_head h;
	assert_int_equal(stats_head_init(&h, &cfg, &err), AUSCULT_OK);
	assert_int_equal(h.k, 1);
	float mean[240], std[240], x[240];
	for (int i = 0; i < 240; i++) {
		mean[i] = 0.0f;
		std[i] = 1.0f;
		x[i] = i == 17 ? 6.0f : i == 90 ? 5.0f : 0.0f;
	}
	assert_int_equal(stats_head_set(&h, mean, std, &err), AUSCULT_OK);
	near(stats_head_score(&h, x), 6.0, 1e-6, "the largest z alone");
	assert_int_equal(h.top, 17);
	stats_head_free(&h);
	cfg.top_count = 500;
	assert_int_equal(stats_head_init(&h, &cfg, &err), AUSCULT_OK);
	assert_int_equal(h.k, 240);
	stats_head_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagonal_by_hand),
		cmocka_unit_test(test_top_share_matches_sorting),
		cmocka_unit_test(test_full_covariance),
		cmocka_unit_test(test_std_floor),
		cmocka_unit_test(test_rise_only),
		cmocka_unit_test(test_top_count),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
