/* test_spectrum_head.c - the spectrum head: band dB from the power ring, the residual off the subspace, the score and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/spectrum_head.h"

/* ---- features: the band dB of the mean power spectrum of the window's frames ---- */

/* 5 bands of 4 bins (20 bins: one 16-bin block and a 4-bin tail), rows of 22 bins, 8 rows. */
enum { BAND_BINS = 4, N_BANDS = 5, ROW_LEN = 22, CAP = 8 };

static struct spectrum_head_config ring_config(uint32_t n_frames)
{
	return (struct spectrum_head_config){ BAND_BINS, N_BANDS, n_frames, 2, 0.4f };
}

/* A ring whose rows are all NaN: a row read that should not be shows. */
static float *nan_ring(void)
{
	float *ring = malloc((size_t)CAP * ROW_LEN * sizeof(float));
	assert_non_null(ring);
	for (size_t i = 0; i < (size_t)CAP * ROW_LEN; i++)
		ring[i] = NAN;
	return ring;
}

/* Frame f's power in bin k (row index k, bin k + 1): distinct by frame and by bin. */
static double frame_power(uint64_t f, uint32_t k)
{
	return 1e-3 * (double)(1 + f) * (1.0 + 0.5 * k);
}

/* Writes frames 0..count-1 in turn, as the front end does: frame f in row f % CAP. */
static void push_frames(float *ring, uint64_t count)
{
	for (uint64_t f = 0; f < count; f++)
		for (uint32_t k = 0; k < ROW_LEN; k++)
			ring[(f % CAP) * ROW_LEN + k] = (float)frame_power(f, k);
}

/* What the features should be: 10 log10 of each band's mean power over frames first..count-1. */
static void expect_bands(const float *got, uint64_t first, uint64_t count, const char *what)
{
	for (uint32_t b = 0; b < N_BANDS; b++) {
		double sum = 0.0;
		for (uint64_t f = first; f < count; f++)
			for (uint32_t i = 0; i < BAND_BINS; i++)
				sum += frame_power(f, b * BAND_BINS + i);
		double want = 10.0 * log10(sum / (double)((count - first) * BAND_BINS) + 1e-12);
		if (!(fabs(got[b] - want) <= 1e-3))
			fail_msg("%s: band %u: got %.6f dB, want %.6f dB", what, b, (double)got[b],
				 want);
	}
}

/* A constant power p in every bin makes every band 10 log10(p) dB. */
static void test_constant_power(void **state)
{
	(void)state;
	struct spectrum_head sh;
	struct spectrum_head_config cfg = ring_config(3);
	struct auscult_err err;
	assert_int_equal(spectrum_head_init(&sh, &cfg, &err), AUSCULT_OK);
	assert_int_equal(spectrum_head_bins(&cfg), N_BANDS * BAND_BINS);
	float *ring = nan_ring();
	static const float powers[] = { 0.01f, 3.7f, 1e-6f, 250.0f };
	for (size_t i = 0; i < sizeof(powers) / sizeof(powers[0]); i++) {
		for (size_t k = 0; k < (size_t)CAP * ROW_LEN; k++)
			ring[k] = powers[i];
		const float *v = spectrum_head_features(&sh, ring, CAP, ROW_LEN, 5);
		assert_ptr_equal(v, sh.features);
		double want = 10.0 * log10((double)powers[i]);
		for (uint32_t b = 0; b < N_BANDS; b++)
			if (!(fabs(v[b] - want) <= 1e-3))
				fail_msg("power %g: band %u: got %.6f dB, want %.6f dB",
					 (double)powers[i], b, (double)v[b], want);
	}
	/* silence is floored (-120 dB), not -inf */
	for (size_t k = 0; k < (size_t)CAP * ROW_LEN; k++)
		ring[k] = 0.0f;
	const float *v = spectrum_head_features(&sh, ring, CAP, ROW_LEN, 5);
	for (uint32_t b = 0; b < N_BANDS; b++)
		assert_true(fabs(v[b] + 120.0f) <= 1e-3f);
	free(ring);
	spectrum_head_free(&sh);
}

/* The ring wrapped (count > cap): the last n_frames frames, wherever they sit; fewer frames than
 * n_frames: those there are; n_frames beyond the ring: the cap frames it holds; none: zeros. */
static void test_window_of_frames(void **state)
{
	(void)state;
	struct spectrum_head sh;
	struct spectrum_head_config cfg = ring_config(3);
	struct auscult_err err;
	assert_int_equal(spectrum_head_init(&sh, &cfg, &err), AUSCULT_OK);
	float *ring = nan_ring();

	/* before any frame: zeros, whatever the ring holds */
	const float *v = spectrum_head_features(&sh, ring, CAP, ROW_LEN, 0);
	for (uint32_t b = 0; b < N_BANDS; b++)
		assert_true(v[b] == 0.0f);

	/* 2 of 3 frames so far: their mean (the NaN rows 2..7 are not read) */
	push_frames(ring, 2);
	expect_bands(spectrum_head_features(&sh, ring, CAP, ROW_LEN, 2), 0, 2, "2 frames");
	push_frames(ring, 1);
	expect_bands(spectrum_head_features(&sh, ring, CAP, ROW_LEN, 1), 0, 1, "1 frame");

	/* 13 frames through a ring of 8: frames 10, 11, 12 in rows 2, 3, 4 */
	push_frames(ring, 13);
	expect_bands(spectrum_head_features(&sh, ring, CAP, ROW_LEN, 13), 10, 13, "wrapped");
	/* 17 frames: frames 14, 15, 16 in rows 6, 7, 0 (the window itself wraps) */
	push_frames(ring, 17);
	expect_bands(spectrum_head_features(&sh, ring, CAP, ROW_LEN, 17), 14, 17,
		     "window across the wrap");

	/* zeros again when asked before any frame */
	v = spectrum_head_features(&sh, ring, CAP, ROW_LEN, 0);
	for (uint32_t b = 0; b < N_BANDS; b++)
		assert_true(v[b] == 0.0f);
	spectrum_head_free(&sh);

	/* a window of 10 frames from a ring of 8: the 8 it holds */
	cfg = ring_config(10);
	assert_int_equal(spectrum_head_init(&sh, &cfg, &err), AUSCULT_OK);
	expect_bands(spectrum_head_features(&sh, ring, CAP, ROW_LEN, 17), 9, 17, "cap frames");
	spectrum_head_free(&sh);
	free(ring);
}

/* ---- the residual and the score ---- */

/* 8 bands, rank 2: u1 = (1, 1, 1, 1, 0, 0, 0, 0) / 2, u2 = (0, 0, 0, 0, 1, 1, 1, 0) / sqrt 3;
 * band 7 lies outside both. */
enum { NB = 8, RK = 2 };

struct subspace {
	float mean[NB], inv_std[NB], basis[NB * RK];
};

static void make_subspace(struct subspace *s)
{
	static const float inv_std[NB] = { 1.0f, 0.8f, 1.25f, 2.0f, 0.5f, 1.5f, 0.75f, 0.5f };
	for (int b = 0; b < NB; b++) {
		s->mean[b] = -40.0f + 3.0f * (float)b;
		s->inv_std[b] = inv_std[b];
		s->basis[b * RK + 0] = b < 4 ? 0.5f : 0.0f;
		s->basis[b * RK + 1] = b >= 4 && b < 7 ? (float)(1.0 / sqrt(3.0)) : 0.0f;
	}
}

/* The score from first principles, in double: r = d - B B^T d, z = r inv_std, the mean of the
 * top_n largest z^2. */
static double reference_score(const struct subspace *s, const float *x, uint32_t top_n)
{
	double d[NB], z2[NB], coef[RK] = { 0 };
	for (int b = 0; b < NB; b++)
		d[b] = (double)x[b] - s->mean[b];
	for (int q = 0; q < RK; q++)
		for (int b = 0; b < NB; b++)
			coef[q] += (double)s->basis[b * RK + q] * d[b];
	for (int b = 0; b < NB; b++) {
		double r = d[b];
		for (int q = 0; q < RK; q++)
			r -= (double)s->basis[b * RK + q] * coef[q];
		z2[b] = r * s->inv_std[b] * r * s->inv_std[b];
	}
	/* selection: the largest top_n by repeated maximum */
	double sum = 0.0;
	for (uint32_t t = 0; t < top_n; t++) {
		int best = 0;
		for (int b = 1; b < NB; b++)
			if (z2[b] > z2[best])
				best = b;
		sum += z2[best];
		z2[best] = -1.0;
	}
	return sum / top_n;
}

static void near(double got, double want, double tol, const char *what)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.9g, want %.9g (tolerance %g)", what, got, want, tol);
}

/* Scores x both ways: spectrum_head_score on sh, and spectrum_head_residual with
 * spectrum_head_residual_score (what the fit uses); both must give the same bits. */
static float score_of(struct spectrum_head *sh, const struct subspace *s, const float *x)
{
	memcpy(sh->features, x, NB * sizeof(float));
	float score = spectrum_head_score(sh);
	float coef[RK], r[NB], top[NB];
	spectrum_head_residual(x, s->mean, s->basis, NB, RK, coef, r);
	float again = spectrum_head_residual_score(r, s->inv_std, NB, sh->top_n, top);
	if (memcmp(&score, &again, sizeof(float)) != 0)
		fail_msg("score %.9g, the fit's residual_score %.9g", (double)score, (double)again);
	return score;
}

static void test_residual_and_score(void **state)
{
	(void)state;
	struct subspace s;
	make_subspace(&s);
	struct spectrum_head sh;
	struct spectrum_head_config cfg = { 8, NB, 4, RK, 0.25f };
	struct auscult_err err;
	assert_int_equal(spectrum_head_init(&sh, &cfg, &err), AUSCULT_OK);
	assert_int_equal(sh.top_n, 2);                /* round(8 x 0.25) */
	assert_true(isnan(spectrum_head_score(&sh))); /* before restore */
	spectrum_head_restore(&sh, s.mean, s.inv_std, s.basis);

	/* inside the subspace: no residual, score ~0 */
	float x[NB];
	for (int b = 0; b < NB; b++)
		x[b] = s.mean[b] + 3.0f * s.basis[b * RK] - 2.0f * s.basis[b * RK + 1];
	float coef[RK], r[NB];
	spectrum_head_residual(x, s.mean, s.basis, NB, RK, coef, r);
	near(coef[0], 3.0, 1e-5, "coef[0]");
	near(coef[1], -2.0, 1e-5, "coef[1]");
	for (int b = 0; b < NB; b++)
		near(r[b], 0.0, 1e-5, "residual inside the subspace");
	near(score_of(&sh, &s, x), 0.0, 1e-8, "score inside the subspace");

	/* a bump of 3 dB in band 7, outside the subspace: only that residual, (3 x 0.5)^2,
	 * averaged with the next largest (0) over top_n = 2 */
	x[7] += 3.0f;
	spectrum_head_residual(x, s.mean, s.basis, NB, RK, coef, r);
	near(r[7], 3.0, 1e-5, "residual of the bump");
	near(score_of(&sh, &s, x), (3.0 * 0.5) * (3.0 * 0.5) / 2.0, 1e-4, "bump outside");

	/* a bump of 3 dB in band 1, half inside u1: r = 3 (e1 - u1 / 2) = 3 (-1/4, 3/4, -1/4,
	 * -1/4, 0, ...); z^2 = 0.5625, 3.24, 0.87890625, 2.25, 0, ...: the top 2 average 2.745 */
	for (int b = 0; b < NB; b++)
		x[b] = s.mean[b];
	x[1] += 3.0f;
	spectrum_head_residual(x, s.mean, s.basis, NB, RK, coef, r);
	near(r[0], -0.75, 1e-5, "r[0]");
	near(r[1], 2.25, 1e-5, "r[1]");
	near(r[4], 0.0, 1e-5, "r[4]");
	near(score_of(&sh, &s, x), 2.745, 1e-4, "bump partly inside");
	near(reference_score(&s, x, 2), 2.745, 1e-6, "reference");

	/* an arbitrary window against the double reference */
	uint32_t seed = 5;
	for (int b = 0; b < NB; b++) {
		seed = seed * 1664525u + 1013904223u;
		x[b] = s.mean[b] + (float)((double)(seed >> 8) / 1048576.0 - 8.0);
	}
	double want = reference_score(&s, x, 2);
	near(score_of(&sh, &s, x), want, 1e-4 * want, "arbitrary window");
	spectrum_head_free(&sh);

	/* top_n = all bands: the mean of every z^2 */
	cfg.top_fraction = 1.0f;
	assert_int_equal(spectrum_head_init(&sh, &cfg, &err), AUSCULT_OK);
	assert_int_equal(sh.top_n, NB);
	spectrum_head_restore(&sh, s.mean, s.inv_std, s.basis);
	want = reference_score(&s, x, NB);
	near(score_of(&sh, &s, x), want, 1e-4 * want, "all bands");
	spectrum_head_free(&sh);
}

/* The largest top_n of the squared standardised residuals, whatever their order. */
/* The shipped head's shape (60 bands, 32 directions) with values that round: the score and
 * the fit's residual give the same bits (they once reconstructed in different orders). */
static void test_score_is_the_fits_residual(void **state)
{
	(void)state;
	enum { D = 60, K = 32 };
	struct spectrum_head_config cfg = { 8, D, 31, K, 0.05f };
	struct spectrum_head sh;
	assert_int_equal(spectrum_head_init(&sh, &cfg, NULL), AUSCULT_OK);
	static float mean[D], inv_std[D], basis[D * K], x[D];
	uint32_t seed = 12345;
	for (size_t i = 0; i < D * K; i++) {
		seed = seed * 1103515245u + 12345u;
		basis[i] = (float)((seed >> 8) % 20001) / 1e5f - 0.1f;
	}
	for (int b = 0; b < D; b++) {
		mean[b] = -50.0f + 0.37f * (float)b;
		inv_std[b] = 1.0f / (0.3f + 0.01f * (float)b);
		x[b] = mean[b] + 3.0f * sinf(0.7f * (float)b);
	}
	spectrum_head_restore(&sh, mean, inv_std, basis);
	memcpy(sh.features, x, sizeof(x));
	float score = spectrum_head_score(&sh);
	float coef[K], r[D], top[D];
	spectrum_head_residual(x, mean, basis, D, K, coef, r);
	float again = spectrum_head_residual_score(r, inv_std, D, sh.top_n, top);
	if (memcmp(&score, &again, sizeof(float)) != 0)
		fail_msg("score %.9g, the fit's residual_score %.9g", (double)score, (double)again);
	spectrum_head_free(&sh);
}

static void test_residual_score_selection(void **state)
{
	(void)state;
	const float r[5] = { 1.0f, -3.0f, 2.0f, 0.5f,
			     -2.0f }; /* z^2 = 1, 9, 4, 0.25, (-2 x 0.5)^2 = 1 */
	const float inv_std[5] = { 1.0f, 1.0f, 1.0f, 1.0f, 0.5f };
	float top[5];
	near(spectrum_head_residual_score(r, inv_std, 5, 1, top), 9.0, 1e-6, "top 1");
	near(spectrum_head_residual_score(r, inv_std, 5, 2, top), 6.5, 1e-6, "top 2");
	near(spectrum_head_residual_score(r, inv_std, 5, 3, top), 14.0 / 3.0, 1e-6, "top 3");
	near(spectrum_head_residual_score(r, inv_std, 5, 4, top), 15.0 / 4.0, 1e-6, "top 4");
	near(spectrum_head_residual_score(r, inv_std, 5, 5, top), 15.25 / 5.0, 1e-6, "top 5");
	/* in descending order in top */
	spectrum_head_residual_score(r, inv_std, 5, 5, top);
	const float sorted[5] = { 9.0f, 4.0f, 1.0f, 1.0f, 0.25f };
	for (int i = 0; i < 5; i++)
		near(top[i], sorted[i], 1e-6, "top sorted");
}

static void test_top_n(void **state)
{
	(void)state;
	assert_int_equal(spectrum_head_top_n(60, SPECTRUM_HEAD_TOP_FRACTION), 3); /* 3 of 60 */
	assert_int_equal(spectrum_head_top_n(10, 0.25f), 3); /* 2.5 rounds up */
	assert_int_equal(spectrum_head_top_n(10, 0.24f), 2); /* 2.4 rounds down */
	assert_int_equal(spectrum_head_top_n(7, 0.5f), 4);   /* 3.5 rounds up */
	assert_int_equal(spectrum_head_top_n(10, 0.01f), 1); /* 0.1: at least 1 */
	assert_int_equal(spectrum_head_top_n(10, 1e-9f), 1);
	assert_int_equal(spectrum_head_top_n(10, 1.0f), 10);
	assert_int_equal(spectrum_head_top_n(10, 3.0f), 10); /* at most n_bands */
	assert_int_equal(spectrum_head_top_n(2, 0.5f), 1);
	assert_int_equal(spectrum_head_top_n(1024, 1.0f), 1024);
}

static void expect_init_fails(struct spectrum_head_config cfg, const char *message)
{
	struct spectrum_head sh;
	memset(&sh, 0xa5, sizeof(sh));
	struct auscult_err err;
	assert_int_equal(spectrum_head_init(&sh, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, message);
	spectrum_head_free(&sh); /* safe after a failure */
}

static void test_init_errors(void **state)
{
	(void)state;
	const struct spectrum_head_config ok = { 8, 60, 31, 32, 0.05f };
	struct spectrum_head_config c = ok;
	struct spectrum_head sh;
	struct auscult_err err;
	assert_int_equal(spectrum_head_init(&sh, &c, &err), AUSCULT_OK);
	assert_int_equal(sh.top_n, 3);
	assert_true(isnan(spectrum_head_score(&sh)));
	spectrum_head_free(&sh);
	spectrum_head_free(&sh); /* twice is safe */
	spectrum_head_free(NULL);

	c.rank = 60;
	expect_init_fails(c, "spectrum head: rank 60 is not in [1, n_bands - 1 = 59]");
	c.rank = 61;
	expect_init_fails(c, "spectrum head: rank 61 is not in [1, n_bands - 1 = 59]");
	c.rank = 0;
	expect_init_fails(c, "spectrum head: rank 0 is not in [1, n_bands - 1 = 59]");
	c = ok;
	c.n_bands = 1;
	c.rank = 1;
	expect_init_fails(c, "spectrum head: n_bands 1 is not in [2, 1024]");
	c.n_bands = SPECTRUM_HEAD_MAX_BANDS + 1;
	expect_init_fails(c, "spectrum head: n_bands 1025 is not in [2, 1024]");
	c = ok;
	c.top_fraction = 0.0f;
	expect_init_fails(c, "spectrum head: top_fraction 0 is not in (0, 1]");
	c.top_fraction = 1.5f;
	expect_init_fails(c, "spectrum head: top_fraction 1.5 is not in (0, 1]");
	c.top_fraction = -0.25f;
	expect_init_fails(c, "spectrum head: top_fraction -0.25 is not in (0, 1]");
	c.top_fraction = NAN;
	expect_init_fails(c, "spectrum head: top_fraction nan is not in (0, 1]");
	c = ok;
	c.band_bins = 0;
	expect_init_fails(c, "spectrum head: band_bins 0 is not in [1, 65536]");
	c = ok;
	c.n_frames = 0;
	expect_init_fails(c, "spectrum head: n_frames is 0");

	/* the edges of each range are accepted */
	c = (struct spectrum_head_config){ 1, 2, 1, 1, 1.0f };
	assert_int_equal(spectrum_head_init(&sh, &c, &err), AUSCULT_OK);
	assert_int_equal(sh.top_n, 2);
	spectrum_head_free(&sh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constant_power),
		cmocka_unit_test(test_window_of_frames),
		cmocka_unit_test(test_residual_and_score),
		cmocka_unit_test(test_score_is_the_fits_residual),
		cmocka_unit_test(test_residual_score_selection),
		cmocka_unit_test(test_top_n),
		cmocka_unit_test(test_init_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
