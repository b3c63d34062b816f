/* test_impulse_envelope.c - the high-frequency level of contiguous blocks: exact energies, any push size, impacts heard between the window head's frames, reset, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/envelope_spectrum.h"
#include "features/impulse_envelope.h"

#define PI 3.14159265358979323846

static void init_ok(struct impulse_envelope *ie, uint32_t block, uint32_t cap)
{
	struct auscult_err err = { { 0 } };
	if (impulse_envelope_init(ie, block, cap, &err) != AUSCULT_OK)
		fail_msg("impulse_envelope_init: %s", err.msg);
}

/* The block's energy of x[t] - 2 x[t-1] + x[t-2], samples before the first being 0. */
static double reference_db(const float *x, size_t from, size_t n)
{
	double e = 0.0;
	for (size_t t = from; t < from + n; t++) {
		double x1 = t >= 1 ? x[t - 1] : 0.0, x2 = t >= 2 ? x[t - 2] : 0.0;
		double d = x[t] - 2.0 * x1 + x2;
		e += d * d;
	}
	return 10.0 * log10(e + 1e-12);
}

/* Each block's dB is its second differences' energy, and pushes of any size (1, 7, 128, all
 * at once) give the same ring. */
static void test_energies_any_push_size(void **state)
{
	(void)state;
	enum { BLOCK = 32, N = 32 * 20 + 5 };
	float x[N];
	uint64_t s = 12345;
	for (size_t t = 0; t < N; t++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		x[t] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5) +
		       0.3f * (float)sin(2.0 * PI * 0.01 * (double)t);
	}
	const size_t sizes[] = { 1, 7, 128, N };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct impulse_envelope ie;
		init_ok(&ie, BLOCK, 64);
		for (size_t t = 0; t < N; t += sizes[k])
			impulse_envelope_push(&ie, x + t, t + sizes[k] <= N ? sizes[k] : N - t);
		uint64_t count;
		const float *ring = impulse_envelope_ring(&ie, &count);
		assert_int_equal(count, N / BLOCK);
		for (uint64_t b = 0; b < count; b++)
			assert_float_equal(ring[b], reference_db(x, b * BLOCK, BLOCK), 1e-4);
		impulse_envelope_free(&ie);
	}
}

/* A slow sine, loud as it is, weighs little against a click a hundred times weaker in energy:
 * the second difference is a high-pass. */
static void test_high_pass(void **state)
{
	(void)state;
	enum { BLOCK = 128, N = 128 * 8 };
	float x[N];
	for (size_t t = 0; t < N; t++)
		x[t] = (float)sin(2.0 * PI * 100.0 / 16000.0 * (double)t);
	x[4 * BLOCK + 10] += 0.1f;
	struct impulse_envelope ie;
	init_ok(&ie, BLOCK, 8);
	impulse_envelope_push(&ie, x, N);
	uint64_t count;
	const float *ring = impulse_envelope_ring(&ie, &count);
	assert_int_equal(count, 8);
	/* the click's block stands 10 dB or more above its neighbours */
	assert_true(ring[4] > ring[3] + 10.0f);
	assert_true(ring[4] > ring[5] + 10.0f);
	impulse_envelope_free(&ie);
}

/* Impacts 25 times a second, each 1 ms long: the blocks' envelope spectrum has lines at 25 Hz
 * and its multiples, where the frames' rate (125 Hz for 128-sample blocks at 16 kHz) puts
 * them, far above the bins between. */
static void test_periodic_impacts_show_their_rate(void **state)
{
	(void)state;
	enum { RATE = 16000, BLOCK = 128, SECONDS = 2, N = RATE * SECONDS, FRAMES = N / BLOCK };
	float *x = calloc(N, sizeof(float));
	assert_non_null(x);
	uint64_t s = 99;
	for (size_t t = 0; t < N; t++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		x[t] = 0.01f * (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
	}
	for (size_t t0 = 100; t0 + 16 < N; t0 += RATE / 25)
		for (size_t i = 0; i < 16; i++)
			x[t0 + i] += 0.2f * (float)(sin(2.0 * PI * 4000.0 / RATE * (double)i) *
						    exp(-(double)i / 4.0));
	struct impulse_envelope ie;
	init_ok(&ie, BLOCK, FRAMES);
	impulse_envelope_push(&ie, x, N);
	uint64_t count;
	const float *ring = impulse_envelope_ring(&ie, &count);
	assert_int_equal(count, FRAMES);
	struct envelope_spectrum_config ec = { 1, FRAMES, 256, 1, 127 };
	struct envelope_spectrum es;
	struct auscult_err err = { { 0 } };
	assert_int_equal(envelope_spectrum_init(&es, &ec, &err), AUSCULT_OK);
	float out[127];
	envelope_spectrum_compute(&es, ring, FRAMES, 1, count, out);
	/* out[j] is bin j + 1, k x 125 / 256 Hz: 25 Hz is bin 51.2, 50 Hz bin 102.4 */
	uint32_t best = 0;
	for (uint32_t j = 1; j < 127; j++)
		if (out[j] > out[best])
			best = j;
	assert_true((best + 1 >= 50 && best + 1 <= 53) || (best + 1 >= 101 && best + 1 <= 104));
	float line = fmaxf(out[50], out[51]);
	for (uint32_t j = 20; j < 40; j++) /* 10-19 Hz: no line */
		assert_true(line > out[j] + 10.0f);
	envelope_spectrum_free(&es);
	impulse_envelope_free(&ie);
	free(x);
}

/* A reset forgets the partial block, the ring's count and the last samples. */
static void test_reset(void **state)
{
	(void)state;
	float x[40];
	for (size_t t = 0; t < 40; t++)
		x[t] = (float)t * 0.01f;
	struct impulse_envelope a, b;
	init_ok(&a, 16, 4);
	init_ok(&b, 16, 4);
	impulse_envelope_push(&a, x, 21);
	impulse_envelope_reset(&a);
	impulse_envelope_push(&a, x, 40);
	impulse_envelope_push(&b, x, 40);
	uint64_t ca, cb;
	const float *ra = impulse_envelope_ring(&a, &ca), *rb = impulse_envelope_ring(&b, &cb);
	assert_int_equal(ca, 2);
	assert_int_equal(cb, 2);
	assert_memory_equal(ra, rb, 2 * sizeof(float));
	impulse_envelope_free(&a);
	impulse_envelope_free(&b);
	impulse_envelope_free(NULL);
}

static void test_errors(void **state)
{
	(void)state;
	struct impulse_envelope ie;
	struct auscult_err err = { { 0 } };
	assert_int_equal(impulse_envelope_init(&ie, 1, 4, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "block 1"));
	assert_int_equal(impulse_envelope_init(&ie, 16, 0, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "cap 0"));
	impulse_envelope_free(&ie);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_energies_any_push_size),
		cmocka_unit_test(test_high_pass),
		cmocka_unit_test(test_periodic_impacts_show_their_rate),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
