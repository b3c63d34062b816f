/* test_burst_crest.c - bursts' crests: one loud frame in a band, steady sound ignored and lowering it, the ring's window, a knock through the front end, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/burst_crest.h"
#include "features/feature_extractor.h"
#include "features_test_util.h"

#define PI 3.14159265358979323846

static void init_ok(struct burst_crest *bc, const struct burst_crest_config *cfg)
{
	struct auscult_err err = { { 0 } };
	if (burst_crest_init(bc, cfg, &err) != AUSCULT_OK)
		fail_msg("burst_crest_init: %s", err.msg);
}

/* Eight frames of 16 bins in bands of 2: band 5 holds 8 times its power in one frame, so its
 * mean is 15/8 and its crest 10 log10(8 / (15 / 8)) = 6.30 dB; a steady band 0 dB, whatever its
 * level; a steady sound added to band 5 lowers its crest; no frame, or no power: 0. */
static void test_one_loud_frame(void **state)
{
	(void)state;
	struct burst_crest_config c = { 16, 2, 8 };
	assert_int_equal(burst_crest_dim(&c), 8);
	struct burst_crest bc;
	init_ok(&bc, &c);
	float ring[8 * 16], out[8];
	for (uint32_t f = 0; f < 8; f++)
		for (uint32_t k = 0; k < 16; k++)
			ring[f * 16 + k] = k < 2 ? 0.0f : (float)(1 + k) * 0.5f;
	ring[3 * 16 + 10] = 11.5f * 8.0f - 6.0f; /* bin 11 (band 5) of frame 3: 8 x its band */
	burst_crest_compute(&bc, ring, 8, 16, 8, out);
	assert_float_equal(out[5], 10.0 * log10(8.0 / (15.0 / 8.0)), 1e-4);
	assert_float_equal(out[0], 0.0, 0.0); /* no power */
	for (uint32_t b = 1; b < 8; b++)
		if (b != 5)
			assert_float_equal(out[b], 0.0, 1e-5);
	float before = out[5];
	for (uint32_t f = 0; f < 8; f++)
		ring[f * 16 + 10] += 100.0f;
	burst_crest_compute(&bc, ring, 8, 16, 0, out); /* a new stream: frames pushed again */
	burst_crest_compute(&bc, ring, 8, 16, 8, out);
	assert_true(out[5] > 0.0f && out[5] < before);
	burst_crest_compute(&bc, ring, 8, 16, 0, out);
	for (uint32_t b = 0; b < 8; b++)
		assert_float_equal(out[b], 0.0, 0.0);
	burst_crest_free(&bc);
}

/* The window is the last n_frames frames of the ring (cap rows, frame f in row f % cap, rows
 * wider than the bins), each frame banded once: a burst that left the window no longer counts,
 * a window with fewer frames so far uses those it has, frames skipped by a long gap are not
 * banded, and a count below the last starts a new stream. */
static void test_window_of_the_ring(void **state)
{
	(void)state;
	struct burst_crest_config c = { 4, 4, 3 };
	struct burst_crest bc;
	init_ok(&bc, &c);
	float ring[3 * 6], out[1];
	for (uint32_t i = 0; i < 18; i++)
		ring[i] = 1.0f;
	ring[1 * 6 + 2] = 9.0f;                       /* frame 1: band power 12 against 4 */
	burst_crest_compute(&bc, ring, 3, 6, 2, out); /* frames 0, 1 */
	assert_float_equal(out[0], 10.0 * log10(12.0 / 8.0), 1e-5);
	burst_crest_compute(&bc, ring, 3, 6, 3, out); /* frames 0..2 */
	assert_float_equal(out[0], 10.0 * log10(12.0 / (20.0 / 3.0)), 1e-5);
	ring[0 * 6 + 0] = 3.0f;                       /* frame 3, in row 0: 6 */
	burst_crest_compute(&bc, ring, 3, 6, 4, out); /* frames 1..3: 12, 4, 6 */
	assert_float_equal(out[0], 10.0 * log10(12.0 / (22.0 / 3.0)), 1e-5);
	ring[1 * 6 + 2] = 1.0f;                       /* frame 4, in row 1: 4 */
	burst_crest_compute(&bc, ring, 3, 6, 5, out); /* frames 2..4: 4, 6, 4 */
	assert_float_equal(out[0], 10.0 * log10(6.0 / (14.0 / 3.0)), 1e-5);
	ring[0 * 6 + 0] = 1.0f;                        /* frames 18..20 all 4 */
	burst_crest_compute(&bc, ring, 3, 6, 21, out); /* after a gap: only the window's */
	assert_float_equal(out[0], 0.0, 1e-6);
	ring[2 * 6 + 1] = 13.0f;                      /* a new stream: frame 2, in row 2: 16 */
	burst_crest_compute(&bc, ring, 3, 6, 3, out); /* frames 0..2: 4, 4, 16 */
	assert_float_equal(out[0], 10.0 * log10(16.0 / 8.0), 1e-5);
	burst_crest_free(&bc);
}

/* A knock through the front end: a 700-Hz ring of 20 ms in steady noise rises far in the band
 * nearest 700 Hz (band 22: bins 45-46 of 1024 points at 16 kHz, rows from bin 1), the noise's
 * other bands stay near their own crest. */
static void test_knock_through_the_front_end(void **state)
{
	(void)state;
	size_t n = 2 * 16000;
	float *x = malloc(n * sizeof(float));
	assert_non_null(x);
	util_noise(x, n, 0.025f, 12345u);
	for (size_t i = 0; i < 2000; i++) /* at 1.2 s */
		x[19200 + i] += (float)(0.05 * exp(-(double)i / 320.0) *
					sin(2 * PI * 700.0 * (double)i / 16000.0));
	struct feature_extractor fx;
	uint64_t count;
	const float *ring = util_front_end_power(&fx, x, n, 480, 31, &count);
	assert_non_null(ring);
	struct burst_crest_config c = { 480, 2, 31 };
	struct burst_crest bc;
	init_ok(&bc, &c);
	float out[240];
	burst_crest_compute(&bc, ring, 31, 480, count, out);
	uint32_t best = 0;
	float others = 0.0f;
	for (uint32_t b = 0; b < 240; b++)
		best = out[b] > out[best] ? b : best;
	for (uint32_t b = 0; b < 240; b++)
		others = b < best - 2 || b > best + 2 ? fmaxf(others, out[b]) : others;
	assert_int_equal(best, 22); /* bins 45-46: 703-719 Hz, the nearest to 700 Hz */
	assert_true(out[best] > 10.0f);
	assert_true(others < out[best] - 4.0f);
	free(x);
	burst_crest_free(&bc);
	feature_extractor_free(&fx);
}

static void test_errors(void **state)
{
	(void)state;
	struct burst_crest bc;
	struct auscult_err err = { { 0 } };
	struct burst_crest_config c = { 15, 2, 4 };
	assert_int_equal(burst_crest_dim(&c), 0);
	assert_int_equal(burst_crest_init(&bc, &c, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "15 bins in bands of 2"));
	c = (struct burst_crest_config){ 16, 0, 4 };
	assert_int_equal(burst_crest_init(&bc, &c, &err), AUSCULT_ERR_INVALID);
	c = (struct burst_crest_config){ 16, 2, 0 };
	assert_int_equal(burst_crest_init(&bc, &c, &err), AUSCULT_ERR_INVALID);
	c = (struct burst_crest_config){ 0, 1, 4 };
	assert_int_equal(burst_crest_init(&bc, &c, &err), AUSCULT_ERR_INVALID);
	burst_crest_free(&bc); /* safe after a failure */
	burst_crest_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_loud_frame),
		cmocka_unit_test(test_window_of_the_ring),
		cmocka_unit_test(test_knock_through_the_front_end),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
