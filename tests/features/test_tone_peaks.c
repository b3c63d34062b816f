/* test_tone_peaks.c - tonal peaks: a tone's rise over its neighbours, level and tilt ignored, the front end's power ring, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/feature_extractor.h"
#include "features/tone_peaks.h"

#define PI 3.14159265358979323846

static void init_ok(struct tone_peaks *tp, const struct tone_peaks_config *cfg)
{
	struct auscult_err err = { { 0 } };
	if (tone_peaks_init(tp, cfg, &err) != AUSCULT_OK)
		fail_msg("tone_peaks_init: %s", err.msg);
}

/* A flat spectrum with one bin 100 times stronger rises 20 dB above its neighbours; a sloped
 * spectrum (a tilt, 0.1 dB a bin) and a 30-dB louder recording give no peaks. */
static void test_peak_over_neighbours(void **state)
{
	(void)state;
	struct tone_peaks_config c = { 64, 4, 3, 12 };
	struct tone_peaks tp;
	init_ok(&tp, &c);
	float ring[4 * 64], out[64];
	for (uint32_t f = 0; f < 4; f++)
		for (uint32_t k = 0; k < 64; k++)
			ring[f * 64 + k] = k == 30 ? 100.0f : 1.0f;
	tone_peaks_compute(&tp, ring, 4, 64, 4, out);
	assert_float_equal(out[30], 20.0, 1e-3);
	assert_float_equal(out[10], 0.0, 1e-3);
	/* a neighbour 3 bins away sees the tone among its 20 neighbours: 1/20 of 20 dB down */
	assert_float_equal(out[33], -20.0 / 20.0, 1e-3);
	/* bins 1 and 2 away are not compared: next to the tone, nothing changes */
	assert_float_equal(out[31], 0.0, 1e-3);
	for (uint32_t f = 0; f < 4; f++)
		for (uint32_t k = 0; k < 64; k++)
			ring[f * 64 + k] = 1000.0f * powf(10.0f, 0.01f * (float)k);
	tone_peaks_compute(&tp, ring, 4, 64, 4, out);
	for (uint32_t k = 12; k < 52; k++)
		assert_float_equal(out[k], 0.0, 1e-3);
	/* no frame yet: zeros */
	tone_peaks_compute(&tp, ring, 4, 64, 0, out);
	for (uint32_t k = 0; k < 64; k++)
		assert_float_equal(out[k], 0.0, 0.0);
	tone_peaks_free(&tp);
}

/* The window is the last n_frames frames of the ring: older ones do not count. */
static void test_window_of_the_ring(void **state)
{
	(void)state;
	struct tone_peaks_config c = { 32, 2, 1, 4 };
	struct tone_peaks tp;
	init_ok(&tp, &c);
	float ring[3 * 40], out[32]; /* row_len 40 > n_bins: the extra bins are not read */
	for (uint32_t i = 0; i < 3 * 40; i++)
		ring[i] = 1.0f;
	/* frame 4 (row 1) has the tone; frames 5 and 6 (rows 2, 0) do not */
	ring[1 * 40 + 10] = 1000.0f;
	tone_peaks_compute(&tp, ring, 3, 40, 6, out); /* frames 4, 5: mean 500.5 at bin 10 */
	assert_float_equal(out[10], 10.0 * log10(500.5), 1e-3);
	tone_peaks_compute(&tp, ring, 3, 40, 7, out); /* frames 5, 6: no tone */
	assert_float_equal(out[10], 0.0, 1e-3);
	tone_peaks_free(&tp);
}

/* The front end keeps its frames' power: a 1-kHz tone peaks at bin 64 of 1024 points at 16 kHz
 * (row 63, as rows start at bin 1). */
static void test_front_end_power_ring(void **state)
{
	(void)state;
	struct feature_params p;
	feature_params_defaults(&p);
	p.hop_length = 1024;
	struct feature_extractor fx;
	struct auscult_err err = { { 0 } };
	assert_int_equal(feature_extractor_init(&fx, &p, FRAMING_STREAMING, &err), AUSCULT_OK);
	uint64_t count;
	assert_null(feature_extractor_power(&fx, &count));
	assert_int_equal(feature_extractor_keep_power(&fx, 480, 31, &err), AUSCULT_OK);
	size_t n = 3 * 16000;
	float *x = malloc(n * sizeof(float));
	float *mel = malloc(feature_extractor_max_frames(&fx, n) * p.n_mels * sizeof(float));
	assert_non_null(x);
	assert_non_null(mel);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(0.1 * sin(2 * PI * 1000.0 * i / 16000.0) +
			       1e-3 * sin(2 * PI * 3333.0 * i / 16000.0 + 0.3 * i));
	size_t frames = feature_extractor_push(&fx, x, n, mel);
	const float *ring = feature_extractor_power(&fx, &count);
	assert_non_null(ring);
	assert_int_equal(count, frames);
	struct tone_peaks_config c = { 480, 31, 3, 12 };
	struct tone_peaks tp;
	init_ok(&tp, &c);
	float out[480];
	tone_peaks_compute(&tp, ring, 31, 480, count, out);
	uint32_t best = 0;
	for (uint32_t k = 1; k < 480; k++)
		if (out[k] > out[best])
			best = k;
	assert_int_equal(best + 1, 64);
	assert_true(out[best] > 30.0f);
	feature_extractor_reset(&fx);
	feature_extractor_power(&fx, &count);
	assert_int_equal(count, 0);
	assert_int_equal(feature_extractor_keep_power(&fx, 513, 31, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "bins"));
	free(x);
	free(mel);
	tone_peaks_free(&tp);
	feature_extractor_free(&fx);
}

static void test_errors(void **state)
{
	(void)state;
	struct tone_peaks tp;
	struct auscult_err err = { { 0 } };
	struct tone_peaks_config c = { 1, 4, 1, 1 };
	assert_int_equal(tone_peaks_init(&tp, &c, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "n_bins 1"));
	c = (struct tone_peaks_config){ 64, 0, 3, 12 };
	assert_int_equal(tone_peaks_init(&tp, &c, &err), AUSCULT_ERR_INVALID);
	c = (struct tone_peaks_config){ 64, 4, 0, 12 };
	assert_int_equal(tone_peaks_init(&tp, &c, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "near"));
	c = (struct tone_peaks_config){ 64, 4, 13, 12 };
	assert_int_equal(tone_peaks_init(&tp, &c, &err), AUSCULT_ERR_INVALID);
	c = (struct tone_peaks_config){ 64, 4, 3, 64 };
	assert_int_equal(tone_peaks_init(&tp, &c, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(tone_peaks_dim(&c), 0);
	tone_peaks_free(&tp);
	tone_peaks_free(NULL);
	c = (struct tone_peaks_config){ 480, 31, 3, 12 };
	assert_int_equal(tone_peaks_dim(&c), 480);
	assert_true(tone_peaks_flops(&c) > 480 * 31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peak_over_neighbours),
		cmocka_unit_test(test_window_of_the_ring),
		cmocka_unit_test(test_front_end_power_ring),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
