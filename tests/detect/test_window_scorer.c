/* test_window_scorer.c - hand-computed windows, hops, levels, band means, and drift recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "detect/window_scorer.h"

static void init_or_fail(struct window_scorer *ws, uint32_t w, uint32_t h, uint32_t n_mels,
			 uint32_t resum)
{
	struct window_scorer_config cfg;
	struct auscult_err err = { { 0 } };
	window_scorer_config_defaults(&cfg);
	cfg.window_vectors = w;
	cfg.hop_vectors = h;
	cfg.n_mels = n_mels;
	cfg.resum_every = resum;
	assert_int_equal(window_scorer_init(ws, &cfg, &err), AUSCULT_OK);
}

/* W 4, H 2: the first window after 4 vectors, then one every 2, each the mean of the last 4. */
static void test_window_hop_means(void **state)
{
	(void)state;
	struct window_scorer ws;
	struct window_score out;
	init_or_fail(&ws, 4, 2, 2, 0);
	float expect[8] = { 0 };
	int emitted[8] = { 0 };
	expect[3] = 2.5f; /* (1+2+3+4)/4 */
	expect[5] = 4.5f; /* (3+4+5+6)/4 */
	expect[7] = 6.5f; /* (5+6+7+8)/4 */
	emitted[3] = emitted[5] = emitted[7] = 1;
	for (int i = 0; i < 8; i++) {
		float s = (float)(i + 1);
		float bands[2] = { s, 2.0f * s };
		int got = window_scorer_push(&ws, s, bands, 0.01, 1, &out);
		assert_int_equal(got, emitted[i]);
		if (!got)
			continue;
		assert_float_equal(out.score, expect[i], 1e-6);
		assert_float_equal(out.band_errors[0], expect[i], 1e-6);
		assert_float_equal(out.band_errors[1], 2.0f * expect[i], 1e-6);
		/* mean square 0.01 everywhere: RMS 0.1 = -20 dBFS */
		assert_float_equal(out.rms_dbfs, -20.0f, 1e-4);
		assert_int_equal(out.last_vector, (uint64_t)i);
	}
	assert_int_equal(out.index, 2);
	window_scorer_free(&ws);
}

/* The level is the RMS over the window's vectors; silence gives -inf, not NaN. */
static void test_level(void **state)
{
	(void)state;
	struct window_scorer ws;
	struct window_score out;
	init_or_fail(&ws, 2, 1, 1, 0);
	assert_int_equal(window_scorer_push(&ws, 1.0f, NULL, 0.0, 1, &out), 0);
	assert_int_equal(window_scorer_push(&ws, 1.0f, NULL, 0.0, 1, &out), 1);
	assert_true(isinf(out.rms_dbfs) && out.rms_dbfs < 0);
	assert_int_equal(window_scorer_push(&ws, 1.0f, NULL, 0.5, 1, &out), 1);
	/* mean square (0 + 0.5) / 2 = 0.25: RMS 0.5 = -6.0206 dBFS */
	assert_float_equal(out.rms_dbfs, -6.0206f, 1e-3);
	assert_float_equal(out.band_errors[0], 0.0f, 0.0);
	window_scorer_free(&ws);
}

/* W = H = 1: every vector is its own window. */
/* Vectors the gate did not count: out of the score and band means, in the level; the window says
 * how many counted; none counted gives a NaN score. */
static void test_counted(void **state)
{
	(void)state;
	struct window_scorer ws;
	struct window_score out;
	init_or_fail(&ws, 3, 1, 1, 0);
	window_scorer_push(&ws, 2.0f, &(float){ 4.0f }, 1.0, 1, &out);
	window_scorer_push(&ws, 100.0f, &(float){ 100.0f }, 0.0, 0, &out);
	assert_int_equal(window_scorer_push(&ws, 4.0f, &(float){ 8.0f }, 0.5, 1, &out), 1);
	assert_int_equal(out.n_counted, 2);
	assert_float_equal(out.score, 3.0f, 1e-6);
	assert_float_equal(out.band_errors[0], 6.0f, 1e-6);
	/* level over all three: mean square 0.5 -> -3.0103 dBFS */
	assert_float_equal(out.rms_dbfs, -3.0103f, 1e-3);
	window_scorer_push(&ws, 9.0f, NULL, 0.0, 0, &out);
	window_scorer_push(&ws, 9.0f, NULL, 0.0, 0, &out);
	assert_int_equal(out.n_counted, 1);
	assert_float_equal(out.score, 4.0f, 1e-6);
	window_scorer_push(&ws, 9.0f, NULL, 0.0, 0, &out);
	assert_int_equal(out.n_counted, 0);
	assert_true(isnan(out.score));
	window_scorer_free(&ws);
}

static void test_w1(void **state)
{
	(void)state;
	struct window_scorer ws;
	struct window_score out;
	init_or_fail(&ws, 1, 1, 1, 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(window_scorer_push(&ws, (float)i * 0.5f, NULL, 1.0, 1, &out), 1);
		assert_float_equal(out.score, (float)i * 0.5f, 1e-7);
		assert_float_equal(out.rms_dbfs, 0.0f, 1e-6);
	}
	window_scorer_free(&ws);
}

/*
 * A NaN or a huge score that has left the window must leave no trace: the periodic exact
 * recomputation flushes it (a pure add/subtract sum would stay NaN, or lose the small values
 * next to 1e30, for ever).
 */
static void test_resum_flushes(void **state)
{
	(void)state;
	struct window_scorer ws;
	struct window_score out;
	init_or_fail(&ws, 3, 1, 1, 0);
	float bad = NAN;
	window_scorer_push(&ws, bad, &bad, 1.0, 1, &out);
	window_scorer_push(&ws, 1e30f, NULL, 1.0, 1, &out);
	for (int i = 0; i < 10; i++)
		window_scorer_push(&ws, 0.25f, &(float){ 0.25f }, 1.0, 1, &out);
	assert_float_equal(out.score, 0.25f, 1e-7);
	assert_float_equal(out.band_errors[0], 0.25f, 1e-7);
	window_scorer_free(&ws);
}

/* A long run with a sliding sum matches the direct mean within 1e-6 relative. */
static void test_long_run_matches_direct(void **state)
{
	(void)state;
	struct window_scorer ws;
	struct window_score out;
	enum { W = 7, N = 200000 };
	init_or_fail(&ws, W, 3, 1, 0);
	float hist[W] = { 0 };
	uint32_t x = 12345u;
	int checked = 0;
	for (int i = 0; i < N; i++) {
		x = x * 1664525u + 1013904223u;
		float s = (float)(x >> 8) / (float)(1u << 24) * ((i & 1) ? 1000.0f : 0.001f);
		hist[i % W] = s;
		if (window_scorer_push(&ws, s, &s, 0.1, 1, &out)) {
			double direct = 0.0;
			for (int k = 0; k < W; k++)
				direct += hist[k];
			direct /= W;
			assert_true(fabs(out.score - direct) <= 1e-6 * direct + 1e-9);
			assert_true(fabs(out.band_errors[0] - direct) <= 1e-6 * direct + 1e-9);
			checked++;
		}
	}
	assert_int_equal(checked, 1 + (N - W) / 3);
	window_scorer_free(&ws);
}

static void test_reset(void **state)
{
	(void)state;
	struct window_scorer ws;
	struct window_score out;
	init_or_fail(&ws, 2, 2, 1, 0);
	window_scorer_push(&ws, 100.0f, NULL, 1.0, 1, &out);
	window_scorer_reset(&ws);
	assert_int_equal(window_scorer_push(&ws, 1.0f, NULL, 1.0, 1, &out), 0);
	assert_int_equal(window_scorer_push(&ws, 3.0f, NULL, 1.0, 1, &out), 1);
	assert_float_equal(out.score, 2.0f, 1e-7);
	assert_int_equal(out.index, 0);
	window_scorer_free(&ws);
}

/* until_window predicts exactly when the next window comes: before the first window, after it,
 * across a reset, for every shape from w == h to h == 1. */
static void test_until_window(void **state)
{
	(void)state;
	static const uint32_t shapes[][2] = { { 1, 1 }, { 4, 1 }, { 4, 2 }, { 5, 5 }, { 9, 4 } };
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct window_scorer ws;
		struct window_score out;
		init_or_fail(&ws, shapes[s][0], shapes[s][1], 1, 0);
		for (int round = 0; round < 2; round++) {
			assert_int_equal(window_scorer_until_window(&ws), shapes[s][0]);
			for (int windows = 0; windows < 6; windows++) {
				uint32_t left = window_scorer_until_window(&ws);
				assert_true(left >= 1);
				for (uint32_t i = 1; i < left; i++) {
					assert_int_equal(window_scorer_push(&ws, 1.0f, NULL, 1.0, 1,
									    &out),
							 0);
					assert_int_equal(window_scorer_until_window(&ws), left - i);
				}
				assert_int_equal(window_scorer_push(&ws, 1.0f, NULL, 1.0, 1, &out),
						 1);
				assert_int_equal(window_scorer_until_window(&ws), shapes[s][1]);
			}
			window_scorer_reset(&ws);
		}
		window_scorer_free(&ws);
	}
}

static void test_bad_config(void **state)
{
	(void)state;
	struct window_scorer ws;
	struct window_scorer_config cfg;
	struct auscult_err err = { { 0 } };
	window_scorer_config_defaults(&cfg);
	cfg.window_vectors = 4;
	cfg.hop_vectors = 5;
	assert_int_equal(window_scorer_init(&ws, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "window scorer: hop of 5 vectors is out of range [1, 4]");
	window_scorer_free(&ws);
	cfg.hop_vectors = 1;
	cfg.window_vectors = 0;
	assert_int_equal(window_scorer_init(&ws, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "window scorer: window of 0 vectors is out of range [1, 1000000]");
	window_scorer_free(&ws);
	window_scorer_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_hop_means),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_counted),
		cmocka_unit_test(test_w1),
		cmocka_unit_test(test_resum_flushes),
		cmocka_unit_test(test_long_run_matches_direct),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_until_window),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
