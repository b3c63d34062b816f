/* test_ring_sum.c - a window's frames summed from a ring of spectra: the same bits for the tonal peaks whether they sum the ring or take a spectrum head's sums. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "features/ring_sum.h"
#include "features/tone_peaks.h"

enum { CAP = 7, ROW_LEN = 45, BINS = 37 }; /* BINS: two blocks of 16 and a tail of 5 */

/* A ring whose every value differs and whose sums round in float. */
static void fill(float *ring)
{
	for (uint32_t r = 0; r < CAP; r++)
		for (uint32_t k = 0; k < ROW_LEN; k++)
			ring[r * ROW_LEN + k] = 1e-3f * (float)(1 + (r * 131 + k * 17) % 97) +
						(float)(k % 3) * 0.1f;
}

/* The sum of the last have rows, frame by frame in time order, as the header says. */
static void test_sums_in_time_order(void **state)
{
	(void)state;
	float ring[CAP * ROW_LEN], out[BINS];
	fill(ring);
	const uint64_t counts[] = { 3, 7, 9, 20 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		uint64_t count = counts[c];
		uint32_t have = count < 5 ? (uint32_t)count : 5;
		ring_sum_rows(ring, CAP, ROW_LEN, count, have, BINS, out);
		for (uint32_t k = 0; k < BINS; k++) {
			float a = 0.0f;
			for (uint32_t t = 0; t < have; t++)
				a += ring[((count - have + t) % CAP) * ROW_LEN + k];
			assert_memory_equal(&a, &out[k], sizeof(float));
		}
	}
	/* nothing summed: zeros */
	ring_sum_rows(ring, CAP, ROW_LEN, 0, 0, BINS, out);
	for (uint32_t k = 0; k < BINS; k++)
		assert_true(out[k] == 0.0f);
}

/* The tonal peaks from the ring and from its sums agree to the bit, with a wrapped ring too. */
static void test_tone_peaks_summed_is_the_same(void **state)
{
	(void)state;
	float ring[CAP * ROW_LEN], sums[ROW_LEN], direct[BINS], summed[BINS];
	fill(ring);
	struct tone_peaks tp;
	struct tone_peaks_config cfg = { .n_bins = BINS, .n_frames = 5, .near = 2, .far = 6 };
	struct auscult_err err;
	assert_int_equal(tone_peaks_init(&tp, &cfg, &err), AUSCULT_OK);
	const uint64_t counts[] = { 0, 2, 5, 7, 12, 33 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		uint64_t count = counts[c];
		uint32_t have = count < cfg.n_frames ? (uint32_t)count : cfg.n_frames;
		tone_peaks_compute(&tp, ring, CAP, ROW_LEN, count, direct);
		/* a spectrum head sums more bins than the tones read */
		ring_sum_rows(ring, CAP, ROW_LEN, count, have, ROW_LEN, sums);
		tone_peaks_compute_summed(&tp, sums, have, summed);
		assert_memory_equal(direct, summed, sizeof(direct));
		if (count)
			assert_true(isfinite(direct[0]) && direct[BINS / 2] != 0.0f);
	}
	tone_peaks_free(&tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums_in_time_order),
		cmocka_unit_test(test_tone_peaks_summed_is_the_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
