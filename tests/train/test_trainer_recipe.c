/* test_trainer_recipe.c - the named recipes of `auscult train` and the default they give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "train/trainer_recipe.h"

/* Bits 0, 1, 3, 4 and bit 2 of the five stacked frames. */
#define FRAMES_0134 0x1bu
#define FRAME_2 0x04u

static void test_idnn16_spec_burst_is_the_default(void **state)
{
	(void)state;
	struct train_options d, named;
	struct auscult_err err = { { 0 } };
	train_options_defaults(&d);
	memset(&named, 0xa5, sizeof(named));
	assert_int_equal(train_options_recipe(&named, "idnn16-spec-burst", &err), AUSCULT_OK);
	assert_memory_equal(&d, &named, sizeof(d));
	assert_string_equal(TRAIN_RECIPE_DEFAULT, "idnn16-spec-burst");

	/* The shipped model's options (models/README.md): a change here changes its bytes. */
	assert_true(d.standardize);
	assert_int_equal(d.input_frames, FRAMES_0134);
	assert_int_equal(d.target_frames, FRAME_2);
	assert_true(d.band_weights);
	assert_int_equal(d.aggregation, CLIP_AGG_TOP_MEAN);
	assert_true(d.top_fraction == 0.2f);
	assert_int_equal(d.trainer.n_hidden, 1);
	assert_int_equal(d.trainer.hidden[0], 16);
	assert_int_equal(d.trainer.epochs, 100);
	assert_int_equal(d.trainer.batch_size, 512);
	assert_true(d.quantile == 0.9f);
	assert_true(d.window_fit == THRESHOLD_FIT_TAIL && d.window_quantile == 0.9999);
	/* a window head of 64-point frames every 256 samples, the lowest 15 of 16 bands */
	assert_true(d.window_head);
	assert_int_equal(d.head_shape.n_fft, 64);
	assert_int_equal(d.head_shape.hop, 256);
	assert_int_equal(d.head_shape.n_bands, 16);
	assert_int_equal(d.head_shape.n_kept, 15);
	/* scoring the window's mean spectrum (the short frames feed the rise heads) */
	assert_int_equal(d.head_shape.kind, WINDOW_HEAD_SPECTRUM);
	/* and the rise heads with the bursts head */
	assert_true(d.rise_heads);
	assert_true(d.bursts);
	/* idnn16-spec-rise, the default before, is the same without the bursts head, and
	 * idnn16-fast-rise, the one before that, with the band head as well */
	struct train_options before;
	memset(&before, 0x5a, sizeof(before));
	assert_int_equal(train_options_recipe(&before, "idnn16-spec-rise", &err), AUSCULT_OK);
	assert_false(before.bursts);
	before.bursts = true;
	assert_memory_equal(&d, &before, sizeof(d));
	memset(&before, 0x5a, sizeof(before));
	assert_int_equal(train_options_recipe(&before, "idnn16-fast-rise", &err), AUSCULT_OK);
	assert_int_equal(before.head_shape.kind, WINDOW_HEAD_BANDS);
	before.head_shape.kind = WINDOW_HEAD_SPECTRUM;
	before.bursts = true;
	assert_memory_equal(&d, &before, sizeof(d));
	/* on the DCASE baseline's front end with frames 1024 samples apart */
	struct feature_params fp;
	feature_params_defaults(&fp);
	fp.hop_length = 1024;
	assert_memory_equal(&d.features, &fp, sizeof(fp));
}

/* idnn16-fast is idnn16 on frames 1024 samples apart, scored by a window's largest 20% instead
 * of 10% (the same 6 vectors of a 2-s window) with its threshold at a higher quantile. */
static void test_idnn16_fast_halves_the_frames(void **state)
{
	(void)state;
	struct train_options plain, fast;
	struct auscult_err err = { { 0 } };
	memset(&plain, 0, sizeof(plain));
	memset(&fast, 0, sizeof(fast));
	assert_int_equal(train_options_recipe(&plain, "idnn16", &err), AUSCULT_OK);
	assert_int_equal(train_options_recipe(&fast, "idnn16-fast", &err), AUSCULT_OK);
	assert_int_equal(plain.features.hop_length, 512);
	assert_int_equal(fast.features.hop_length, 1024);
	assert_true(plain.top_fraction == 0.1f && fast.top_fraction == 0.2f);
	assert_true(plain.window_quantile == 0.999 && fast.window_quantile == 0.99999);
	assert_int_equal(feature_params_validate(&fast.features, &err), AUSCULT_OK);
	assert_false(fast.window_head);
	fast.features.hop_length = 512;
	fast.top_fraction = 0.1f;
	fast.window_quantile = 0.999;
	/* a head added to it would take 4 gapped frames per feature hop */
	assert_int_equal(fast.head_shape.n_fft, 64);
	assert_int_equal(fast.head_shape.hop, 256);
	fast.head_shape = plain.head_shape;
	assert_memory_equal(&plain, &fast, sizeof(plain));
}

/* Recipe with_head is recipe base and a window head of n_fft-point frames every hop samples,
 * nothing else. */
static void expect_head_added(const char *base, const char *with_head, uint32_t n_fft, uint32_t hop)
{
	struct train_options plain, stats;
	struct auscult_err err = { { 0 } };
	memset(&plain, 0, sizeof(plain));
	memset(&stats, 0, sizeof(stats));
	assert_int_equal(train_options_recipe(&plain, base, &err), AUSCULT_OK);
	assert_int_equal(train_options_recipe(&stats, with_head, &err), AUSCULT_OK);
	assert_false(plain.window_head);
	assert_true(stats.window_head);
	assert_int_equal(stats.head_shape.n_fft, n_fft);
	assert_int_equal(stats.head_shape.hop, hop);
	assert_int_equal(stats.head_shape.n_bands, 16);
	assert_int_equal(stats.head_shape.n_kept, 15);
	stats.window_head = false;
	stats.window_quantile = plain.window_quantile; /* a recipe's own calibration */
	assert_memory_equal(&plain, &stats, sizeof(plain));
}

static void test_idnn16_fast_stats_adds_the_head(void **state)
{
	(void)state;
	expect_head_added("idnn16-fast", "idnn16-fast-stats", 64, 256);
}

/* idnn16-fast-rise is idnn16-fast-stats and the rise heads, with its own threshold fit. */
static void test_idnn16_fast_rise_adds_the_rise_heads(void **state)
{
	(void)state;
	struct train_options stats, rise;
	struct auscult_err err = { { 0 } };
	memset(&stats, 0, sizeof(stats));
	memset(&rise, 0, sizeof(rise));
	assert_int_equal(train_options_recipe(&stats, "idnn16-fast-stats", &err), AUSCULT_OK);
	assert_int_equal(train_options_recipe(&rise, "idnn16-fast-rise", &err), AUSCULT_OK);
	assert_false(stats.rise_heads);
	assert_true(rise.rise_heads);
	assert_true(rise.window_head); /* the rise heads' envelopes are its bands */
	assert_true(rise.window_fit == THRESHOLD_FIT_TAIL && rise.window_quantile == 0.9999);
	rise.rise_heads = false;
	rise.window_fit = stats.window_fit;
	rise.window_quantile = stats.window_quantile;
	assert_memory_equal(&stats, &rise, sizeof(stats));
}

static void test_idnn16_stats_adds_the_head(void **state)
{
	(void)state;
	expect_head_added("idnn16", "idnn16-stats", 256, 128);
}

static void test_dcase2020_is_the_baseline(void **state)
{
	(void)state;
	static const uint32_t widths[] = { 128, 128, 128, 128, 8, 128, 128, 128, 128 };
	struct train_options o;
	struct auscult_err err = { { 0 } };
	struct trainer_config base;
	trainer_config_defaults(&base);
	train_options_defaults(&o);
	assert_int_equal(train_options_recipe(&o, "dcase2020", &err), AUSCULT_OK);
	assert_memory_equal(&o.trainer, &base, sizeof(base));
	assert_int_equal(o.trainer.n_hidden, 9);
	assert_memory_equal(o.trainer.hidden, widths, sizeof(widths));
	assert_false(o.standardize);
	assert_int_equal(o.input_frames, 0);
	assert_int_equal(o.target_frames, 0);
	assert_false(o.band_weights);
	assert_int_equal(o.aggregation, CLIP_AGG_MEAN);
	assert_true(o.quantile == 0.9f);
}

static void test_unknown_recipe(void **state)
{
	(void)state;
	struct train_options o, before;
	struct auscult_err err = { { 0 } };
	train_options_defaults(&o);
	memcpy(&before, &o, sizeof(o));
	assert_int_equal(train_options_recipe(&o, "IDNN16", &err), AUSCULT_ERR_INVALID);
	assert_string_equal(
		err.msg,
		"recipe: unknown recipe \"IDNN16\"; the recipes are idnn16-spec-burst, idnn16-spec-rise, idnn16-fast-rise, idnn16-fast-stats, idnn16-fast, idnn16, idnn16-stats, dcase2020");
	assert_memory_equal(&o, &before, sizeof(o));
	assert_int_equal(train_options_recipe(&o, "", &err), AUSCULT_ERR_INVALID);
	assert_string_equal(
		err.msg,
		"recipe: unknown recipe \"\"; the recipes are idnn16-spec-burst, idnn16-spec-rise, idnn16-fast-rise, idnn16-fast-stats, idnn16-fast, idnn16, idnn16-stats, dcase2020");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idnn16_spec_burst_is_the_default),
		cmocka_unit_test(test_idnn16_fast_rise_adds_the_rise_heads),
		cmocka_unit_test(test_idnn16_fast_halves_the_frames),
		cmocka_unit_test(test_idnn16_fast_stats_adds_the_head),
		cmocka_unit_test(test_idnn16_stats_adds_the_head),
		cmocka_unit_test(test_dcase2020_is_the_baseline),
		cmocka_unit_test(test_unknown_recipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
