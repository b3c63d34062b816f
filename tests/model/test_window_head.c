/* test_window_head.c - the window head's blocks pooled over a window, its score and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/window_head.h"

#define RATE_HZ 16000u
#define N_SAMPLES (4 * RATE_HZ)

/* A tone that fades in and out over noise: band levels and spreads that differ by band. */
static float *test_signal(void)
{
	float *x = malloc(N_SAMPLES * sizeof(float));
	assert_non_null(x);
	uint32_t r = 7;
	for (size_t i = 0; i < N_SAMPLES; i++) {
		r = r * 1664525u + 1013904223u;
		double t = (double)i / RATE_HZ;
		double noise = ((double)(r >> 8) / 16777216.0 - 0.5) * 0.05;
		x[i] = (float)(noise + 0.3 * (0.6 + 0.4 * sin(2.0 * M_PI * 3.0 * t)) *
					       sin(2.0 * M_PI * 1500.0 * t));
	}
	return x;
}

static void baseline_features(struct feature_params *f)
{
	feature_params_defaults(f); /* 16 kHz, hop 512: blocks of 4 short frames */
}

/*
 * The features of a window of W blocks equal band_stats' own mean and spread over the same
 * 4 W short frames at once: the pooling of block moments is exact (to float rounding).
 */
static void test_pooled_equals_whole_window(void **state)
{
	(void)state;
	enum { W = 16 };
	struct feature_params f;
	baseline_features(&f);
	struct model_window_head h;
	window_head_config_defaults(&h, NULL, &f);
	struct window_head w;
	struct auscult_err err;
	assert_int_equal(window_head_init(&w, &h, &f, W, 128, 0, &err), AUSCULT_OK);
	const uint32_t kept = window_head_kept_bands(WINDOW_HEAD_N_BANDS);
	assert_int_equal(kept, WINDOW_HEAD_N_BANDS - 1); /* 0-7.5 kHz of 16 bands at 16 kHz */
	assert_int_equal(h.n_kept, kept);
	assert_int_equal(w.dim, 2 * kept);
	assert_true(isnan(window_head_score(&w))); /* no statistics, no blocks */

	struct band_stats_config bc;
	band_stats_config_defaults(&bc);
	bc.fine_n_fft = 0;
	bc.n_mod = 0;
	bc.window_frames = 4 * W;
	struct band_stats whole;
	assert_int_equal(band_stats_init(&whole, &bc, &err), AUSCULT_OK);
	float *x = test_signal();
	float *out = malloc(band_stats_max_windows(&whole, N_SAMPLES) * whole.dim * sizeof(float));
	assert_non_null(out);
	size_t n_whole = band_stats_process(&whole, x, N_SAMPLES, out);
	assert_true(n_whole >= 3);

	/* after every 4 W-th block the ring holds exactly the frames of one whole window */
	size_t checked = 0;
	for (size_t i = 0; i < N_SAMPLES; i += 128) {
		uint32_t got = window_head_push(&w, x + i, 128);
		assert_true(got <= 1);
		if (got == 0 || w.n_blocks % W != 0)
			continue;
		const float *v = window_head_features(&w);
		const float *want = out + (w.n_blocks / W - 1) * whole.dim;
		for (uint32_t k = 0; k < kept; k++) { /* the kept bands' means, then spreads */
			assert_float_equal(v[k], want[k], 2e-3);
			assert_float_equal(v[kept + k], want[WINDOW_HEAD_N_BANDS + k], 2e-3);
		}
		checked++;
	}
	assert_int_equal(checked, n_whole);
	/* the tone's band stands out, and it moves: level and spread above the noise bands */
	const float *v = window_head_features(&w);
	uint32_t tone_band = 1500 * 2 * WINDOW_HEAD_N_BANDS / RATE_HZ; /* 500 Hz per band */
	assert_true(v[tone_band] > v[kept - 1] + 20.0f);
	assert_true(v[kept + tone_band] > v[2 * kept - 1]);

	window_head_reset(&w);
	assert_int_equal(window_head_filled(&w), 0);
	free(out);
	free(x);
	band_stats_free(&whole);
	window_head_free(&w);
}

/* Statistics set by hand: mean m, 1/std 2, precision I; score = mean of (2 (x - m))^2. */
static void test_score_by_hand(void **state)
{
	(void)state;
	struct feature_params f;
	baseline_features(&f);
	struct model_window_head h;
	window_head_config_defaults(&h, NULL, &f);
	float mean[2 * WINDOW_HEAD_N_BANDS], inv_std[2 * WINDOW_HEAD_N_BANDS];
	float precision[4 * WINDOW_HEAD_N_BANDS * WINDOW_HEAD_N_BANDS];
	memset(precision, 0, sizeof(precision));
	for (uint32_t i = 0; i < h.dim; i++) {
		mean[i] = (float)i;
		inv_std[i] = 2.0f;
		precision[i * h.dim + i] = 1.0f;
	}
	h.mean = mean;
	h.inv_std = inv_std;
	h.precision = precision;
	struct window_head w;
	struct auscult_err err;
	assert_int_equal(window_head_init(&w, &h, &f, 8, 4096, 0, &err), AUSCULT_OK);
	float *x = test_signal();
	window_head_push(&w, x, 4096);
	assert_int_equal(window_head_filled(&w), 7); /* blocks end at 640 + 512 k, k = 0..6 */
	float s = window_head_score(&w);
	const float *v = window_head_features(&w);
	double want = 0.0;
	for (uint32_t i = 0; i < h.dim; i++)
		want += 4.0 * ((double)v[i] - i) * ((double)v[i] - i);
	assert_float_equal(s, want / h.dim, 1e-4 * want / h.dim);
	free(x);
	window_head_free(&w);
}

/* A head whose frames do not tile the feature hop, and bad statistics, are refused. */
static void test_errors(void **state)
{
	(void)state;
	struct feature_params f;
	baseline_features(&f);
	struct model_window_head h;
	window_head_config_defaults(&h, NULL, &f);
	struct window_head w;
	struct auscult_err err;
	h.hop = 256; /* 512 / 256 = 2 short frames a block: too few */
	assert_int_equal(window_head_init(&w, &h, &f, 8, 128, 0, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "window head: hop 256 must divide the features' hop_length "
				     "512 at least 4 times");
	window_head_free(&w);
	window_head_config_defaults(&h, NULL, &f);
	h.n_bands = 3;
	assert_int_equal(window_head_init(&w, &h, &f, 8, 128, 0, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "window head: n_kept 15 is not in [1, n_bands = 3]");
	window_head_free(&w);
	h.n_kept = 3;
	assert_int_equal(window_head_init(&w, &h, &f, 8, 128, 0, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "band_stats: n_bands 3 does not divide n_fft / 2 = 128");
	window_head_free(&w);
	window_head_config_defaults(&h, NULL, &f);
	float zero[2 * WINDOW_HEAD_N_BANDS] = { 0 };
	float p[4 * WINDOW_HEAD_N_BANDS * WINDOW_HEAD_N_BANDS] = { 0 };
	h.mean = zero;
	h.inv_std = zero; /* 1/std 0 */
	h.precision = p;
	assert_int_equal(window_head_init(&w, &h, &f, 8, 128, 0, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "stats_head: feature 0: mean 0 1/std 0 (need finite, 1/std > 0)");
	window_head_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pooled_equals_whole_window),
		cmocka_unit_test(test_score_by_hand),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
