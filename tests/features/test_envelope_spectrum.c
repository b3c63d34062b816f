/* test_envelope_spectrum.c - envelope spectra: a modulation at its bin, the band's mean ignored, short and ring-wrapped histories, band_stats' history, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/band_stats.h"
#include "features/envelope_spectrum.h"

#define PI 3.14159265358979323846

static void init_ok(struct envelope_spectrum *es, const struct envelope_spectrum_config *cfg)
{
	struct auscult_err err = { { 0 } };
	if (envelope_spectrum_init(es, cfg, &err) != AUSCULT_OK)
		fail_msg("envelope_spectrum_init: %s", err.msg);
}

/* 125 frames of a 62.5-Hz envelope (64-point frames every 256 samples at 16 kHz), 128-point
 * transform: bin k is k x 0.488 Hz; bins 4..61 are 2-30 Hz. */
static const struct envelope_spectrum_config CFG = { 2, 125, 128, 4, 61 };
#define FRAME_RATE 62.5

/* Fills rows 0..n-1 of a 3-wide history: band 0 a sinusoid of mod_hz (amplitude 3 dB) around
 * 50 dB, band 1 a constant 20 dB, column 2 junk the stage must not read. */
static void fill(float *h, uint32_t n, double mod_hz)
{
	for (uint32_t t = 0; t < n; t++) {
		h[t * 3 + 0] = (float)(50.0 + 3.0 * sin(2 * PI * mod_hz * t / FRAME_RATE));
		h[t * 3 + 1] = 20.0f;
		h[t * 3 + 2] = NAN;
	}
}

static uint32_t argmax(const float *x, uint32_t n)
{
	uint32_t best = 0;
	for (uint32_t i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

static void test_modulation_at_its_bin(void **state)
{
	(void)state;
	struct envelope_spectrum es;
	init_ok(&es, &CFG);
	uint32_t dim = envelope_spectrum_dim(&CFG), n_bins = 58;
	assert_int_equal(dim, 2 * n_bins);
	float h[125 * 3], *out = malloc(dim * sizeof(float));
	assert_non_null(out);
	/* 12.7 Hz = bin 26.0 (12.7 x 128 / 62.5) */
	fill(h, 125, 12.6953125);
	envelope_spectrum_compute(&es, h, 125, 3, 125, out);
	assert_int_equal(argmax(out, n_bins) + CFG.bin_lo, 26);
	/* a sinusoid of amplitude a shows as a^2 / 4, its first differences' amplitude
	 * a x 2 sin(pi f / frame rate): 3 dB at 12.7 Hz -> 3.57 -> 5.0 dB */
	double a = 3.0 * 2.0 * sin(PI * 12.6953125 / FRAME_RATE);
	assert_float_equal(out[26 - CFG.bin_lo], 10.0 * log10(a * a / 4.0), 0.05);
	/* far from it, the Hann window's sidelobes: 40 dB or more below */
	assert_true(out[50 - CFG.bin_lo] < out[26 - CFG.bin_lo] - 40.0f);
	/* the constant band: nothing but the floor, its 20 dB mean removed */
	for (uint32_t j = 0; j < n_bins; j++)
		assert_true(out[n_bins + j] < -100.0f);
	free(out);
	envelope_spectrum_free(&es);
}

/* A step of the band's level (a valve opens, a second machine starts) is no modulation: the
 * first differences make it one impulse, whose spectrum is low and flat, where the level itself
 * would have put a 1/f slope into the lowest bins, far above a real modulation's peak. */
static void test_step_is_no_modulation(void **state)
{
	(void)state;
	struct envelope_spectrum es;
	init_ok(&es, &CFG);
	uint32_t n_bins = 58;
	float h[125 * 3], *out = malloc(2 * n_bins * sizeof(float));
	float mod[58];
	assert_non_null(out);
	fill(h, 125, 12.6953125);
	envelope_spectrum_compute(&es, h, 125, 3, 125, out);
	memcpy(mod, out, sizeof(mod));
	for (uint32_t t = 0; t < 125; t++) /* band 0: 50 dB, then 56 dB from the middle on */
		h[t * 3 + 0] = t < 62 ? 50.0f : 56.0f;
	envelope_spectrum_compute(&es, h, 125, 3, 125, out);
	for (uint32_t j = 0; j < n_bins; j++)
		assert_true(out[j] < mod[26 - CFG.bin_lo] - 10.0f);
	free(out);
	envelope_spectrum_free(&es);
}

/* The ring's order: the same window read from a ring that wrapped gives the same spectra. */
static void test_ring_wrap_and_short_history(void **state)
{
	(void)state;
	struct envelope_spectrum es;
	init_ok(&es, &CFG);
	uint32_t dim = envelope_spectrum_dim(&CFG);
	float flat[125 * 3], ring[150 * 3];
	float *a = malloc(dim * sizeof(float)), *b = malloc(dim * sizeof(float));
	assert_non_null(a);
	assert_non_null(b);
	fill(flat, 125, 20.0);
	envelope_spectrum_compute(&es, flat, 125, 3, 125, a);
	/* 400 frames pushed into a 150-row ring: the last 125 are the same values */
	for (uint32_t f = 0; f < 400; f++) {
		uint32_t src = f >= 275 ? f - 275 : 0;
		memcpy(ring + (f % 150) * 3, flat + src * 3, 3 * sizeof(float));
	}
	envelope_spectrum_compute(&es, ring, 150, 3, 400, b);
	for (uint32_t i = 0; i < dim; i++)
		assert_float_equal(a[i], b[i], 1e-4);
	/* fewer frames than a window: finite, and the modulation still the highest bin */
	envelope_spectrum_compute(&es, flat, 125, 3, 60, b);
	for (uint32_t i = 0; i < dim; i++)
		assert_true(isfinite(b[i]));
	assert_int_equal(argmax(b, 58) + CFG.bin_lo, 41); /* 20 Hz = bin 40.96 */
	/* no frame at all: the floor */
	envelope_spectrum_compute(&es, flat, 125, 3, 0, b);
	for (uint32_t i = 0; i < dim; i++)
		assert_true(b[i] < -100.0f);
	free(a);
	free(b);
	envelope_spectrum_free(&es);
}

/* band_stats keeps each short frame's band dB: a tone amplitude-modulated at 10 Hz shows in
 * its band's envelope spectrum at 10 Hz. */
static void test_band_stats_history(void **state)
{
	(void)state;
	struct band_stats_config bc;
	band_stats_config_defaults(&bc);
	bc.n_fft = 64;
	bc.hop = 256;
	bc.fine_n_fft = 0;
	bc.n_mod = 0;
	bc.window_frames = 4;
	bc.history_frames = 125;
	struct band_stats bs;
	struct auscult_err err = { { 0 } };
	assert_int_equal(band_stats_init(&bs, &bc, &err), AUSCULT_OK);
	size_t n = 3 * 16000;
	float *x = malloc(n * sizeof(float)), *win = malloc(64 * 1024 * sizeof(float));
	assert_non_null(x);
	assert_non_null(win);
	for (size_t i = 0; i < n; i++) {
		double t = i / 16000.0;
		x[i] = (float)(0.3 * (1.0 + 0.8 * sin(2 * PI * 10.0 * t)) *
			       sin(2 * PI * 2250.0 * t));
	}
	for (size_t i = 0; i < n; i += 1000)
		band_stats_process(&bs, x + i, n - i < 1000 ? n - i : 1000, win);
	uint64_t count;
	const float *h = band_stats_history(&bs, &count);
	assert_non_null(h);
	assert_int_equal(count, (n - 64) / 256 + 1); /* a 64-point frame every 256 samples */
	struct envelope_spectrum es;
	struct envelope_spectrum_config ec = { 16, 125, 128, 4, 61 };
	init_ok(&es, &ec);
	float *out = malloc(envelope_spectrum_dim(&ec) * sizeof(float));
	assert_non_null(out);
	envelope_spectrum_compute(&es, h, 125, 16, count, out);
	/* 2250 Hz is in band 4 (2000-2500 Hz); 10 Hz is bin 20.5 */
	uint32_t peak = argmax(out + 4 * 58, 58) + ec.bin_lo;
	assert_true(peak == 20 || peak == 21);
	band_stats_reset(&bs);
	band_stats_history(&bs, &count);
	assert_int_equal(count, 0);
	free(out);
	free(x);
	free(win);
	envelope_spectrum_free(&es);
	band_stats_free(&bs);
	/* a history longer than the bound is refused */
	bc.history_frames = 1u << 20;
	assert_int_equal(band_stats_init(&bs, &bc, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "history_frames"));
	band_stats_free(&bs);
}

static void test_errors(void **state)
{
	(void)state;
	struct envelope_spectrum es;
	struct auscult_err err = { { 0 } };
	struct envelope_spectrum_config c = CFG;
	c.n_fft = 100;
	assert_int_equal(envelope_spectrum_init(&es, &c, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "n_fft 100"));
	assert_int_equal(envelope_spectrum_dim(&c), 0);
	c = CFG;
	c.n_fft = 64; /* shorter than the window */
	assert_int_equal(envelope_spectrum_init(&es, &c, &err), AUSCULT_ERR_INVALID);
	c = CFG;
	c.bin_lo = 0;
	assert_int_equal(envelope_spectrum_init(&es, &c, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "bin_lo"));
	c = CFG;
	c.bin_hi = 64;
	assert_int_equal(envelope_spectrum_init(&es, &c, &err), AUSCULT_ERR_INVALID);
	c = CFG;
	c.n_bands = 0;
	assert_int_equal(envelope_spectrum_init(&es, &c, &err), AUSCULT_ERR_INVALID);
	c = CFG;
	c.n_frames = 3;
	assert_int_equal(envelope_spectrum_init(&es, &c, &err), AUSCULT_ERR_INVALID);
	envelope_spectrum_free(&es);
	envelope_spectrum_free(NULL);
	assert_true(envelope_spectrum_flops(&CFG) > 2 * 2.5 * 128 * 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modulation_at_its_bin),
		cmocka_unit_test(test_step_is_no_modulation),
		cmocka_unit_test(test_ring_wrap_and_short_history),
		cmocka_unit_test(test_band_stats_history),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
