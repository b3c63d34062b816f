/* test_band_stats.c - window statistics: layout, a tone in the right bin and band, modulation at the right rate, streaming, history only, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/band_stats.h"

#define PI 3.14159265358979323846
#define RATE 16000

static void init_ok(struct band_stats *bs, const struct band_stats_config *cfg)
{
	struct auscult_err err = { { 0 } };
	if (band_stats_init(bs, cfg, &err) != AUSCULT_OK)
		fail_msg("band_stats_init: %s", err.msg);
}

/* Seconds of a signal: a tone of f_hz, amplitude-modulated at mod_hz (depth 0: none), plus a
 * little deterministic noise so that no band is digital silence. */
static float *signal(double seconds, double f_hz, double mod_hz, double depth, size_t *n)
{
	*n = (size_t)(seconds * RATE);
	float *x = malloc(*n * sizeof(float));
	assert_non_null(x);
	unsigned seed = 99;
	for (size_t i = 0; i < *n; i++) {
		double t = (double)i / RATE;
		seed = seed * 1103515245u + 12345u;
		double noise = ((double)((seed >> 8) % 2001) / 1000.0 - 1.0) * 1e-3;
		x[i] = (float)(0.5 * (1.0 + depth * sin(2 * PI * mod_hz * t)) *
				       sin(2 * PI * f_hz * t) +
			       noise);
	}
	return x;
}

/* The defaults without the fine spectrum and the modulation: the bands alone, windows of
 * window_frames. */
static void bands_only(struct band_stats_config *cfg, uint32_t window_frames)
{
	band_stats_config_defaults(cfg);
	cfg->n_mod = 0;
	cfg->fine_n_fft = 0;
	cfg->window_frames = window_frames;
}

static uint32_t argmax(const float *v, uint32_t n)
{
	uint32_t best = 0;
	for (uint32_t i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

static void test_layout_and_count(void **state)
{
	(void)state;
	struct band_stats_config cfg;
	struct band_stats bs;
	band_stats_config_defaults(&cfg);
	/* 512 fine bins, 16 means, 16 spreads, 16 x 31 modulation values */
	assert_int_equal(band_stats_dim(&cfg), 512 + 16 + 16 + 16 * 31);
	init_ok(&bs, &cfg);
	assert_int_equal(band_stats_offset_mean(&bs), 512);
	assert_int_equal(band_stats_offset_spread(&bs), 528);
	assert_int_equal(band_stats_offset_mod(&bs), 544);
	/* 10 s: (160000 - 256) / 128 + 1 = 1249 short frames = 4 whole 2-s windows */
	size_t n;
	float *x = signal(10.0, 1000.0, 0.0, 0.0, &n);
	float *out = malloc(band_stats_max_windows(&bs, n) * bs.dim * sizeof(float));
	assert_non_null(out);
	assert_true(band_stats_max_windows(&bs, n) >= 4);
	assert_int_equal(band_stats_process(&bs, x, n, out), 4);
	free(out);
	free(x);
	band_stats_free(&bs);

	cfg.fine_n_fft = 0;
	cfg.n_mod = 0;
	assert_int_equal(band_stats_dim(&cfg), 32);
}

/* A 3 kHz tone: the fine spectrum peaks in bin 3000 / 15.625 = 192 (index 191, bins start at
 * 1), the band means in band (48 - 1) / 8 = 5 (62.5-Hz bins 41..48), and a steady tone has
 * almost no spread and a flat, low modulation spectrum. */
static void test_tone_lands_in_its_bin_and_band(void **state)
{
	(void)state;
	struct band_stats_config cfg;
	struct band_stats bs;
	band_stats_config_defaults(&cfg);
	init_ok(&bs, &cfg);
	size_t n;
	float *x = signal(2.1, 3000.0, 0.0, 0.0, &n);
	float *out = malloc(band_stats_max_windows(&bs, n) * bs.dim * sizeof(float));
	assert_non_null(out);
	assert_int_equal(band_stats_process(&bs, x, n, out), 1);
	assert_int_equal(argmax(out, bs.n_fine), 191);
	const float *mean = out + band_stats_offset_mean(&bs);
	const float *spread = out + band_stats_offset_spread(&bs);
	assert_int_equal(argmax(mean, 16), 5);
	/* A sine of amplitude 0.5 through a periodic Hann window of 256 gives |X| = 0.5 * 256 / 4
	 * = 32 at its bin (48: 3000 Hz exactly) and 16 at each neighbour; band 5 holds bins 41..48,
	 * so 32^2 + 16^2 (bin 49 is band 6's) */
	const double want_db = 10.0 * log10(32.0 * 32.0 + 16.0 * 16.0);
	if (fabs(mean[5] - want_db) > 0.05)
		fail_msg("band 5 mean %.3f dB, want %.3f dB", (double)mean[5], want_db);
	assert_true(spread[5] < 0.05f);
	free(out);
	free(x);
	band_stats_free(&bs);
}

/* A 4 kHz tone amplitude-modulated at 20 Hz: band (64 - 1) / 8 = 7's envelope spectrum peaks at
 * 20 Hz (index (20 - 2) / 2 = 9) and stands 30 dB above the same tone unmodulated. */
static void test_modulation_at_its_rate(void **state)
{
	(void)state;
	struct band_stats_config cfg;
	struct band_stats am, steady;
	band_stats_config_defaults(&cfg);
	init_ok(&am, &cfg);
	init_ok(&steady, &cfg);
	size_t n;
	float *x = signal(2.1, 4000.0, 20.0, 0.9, &n);
	float *y = signal(2.1, 4000.0, 0.0, 0.0, &n);
	float *out_am = malloc(am.dim * 2 * sizeof(float));
	float *out_steady = malloc(am.dim * 2 * sizeof(float));
	assert_non_null(out_am);
	assert_non_null(out_steady);
	assert_int_equal(band_stats_process(&am, x, n, out_am), 1);
	assert_int_equal(band_stats_process(&steady, y, n, out_steady), 1);
	const float *mod_am = out_am + band_stats_offset_mod(&am) + 7 * 31;
	const float *mod_steady = out_steady + band_stats_offset_mod(&am) + 7 * 31;
	assert_int_equal(argmax(mod_am, 31), 9);
	if (!(mod_am[9] > mod_steady[9] + 30.0f))
		fail_msg("modulated %.1f dB vs steady %.1f dB at 20 Hz", (double)mod_am[9],
			 (double)mod_steady[9]);
	/* the modulated band's level spreads over the window, the steady one's does not */
	assert_true(out_am[band_stats_offset_spread(&am) + 7] > 3.0f);
	assert_true(out_steady[band_stats_offset_spread(&am) + 7] < 0.05f);
	free(out_am);
	free(out_steady);
	free(x);
	free(y);
	band_stats_free(&am);
	band_stats_free(&steady);
}

/* Pushes of any size give the same windows as one push; reset starts over. */
static void test_streaming_and_reset(void **state)
{
	(void)state;
	struct band_stats_config cfg;
	struct band_stats one, many;
	band_stats_config_defaults(&cfg);
	cfg.window_frames = 100;
	init_ok(&one, &cfg);
	init_ok(&many, &cfg);
	size_t n;
	float *x = signal(3.0, 1234.0, 7.0, 0.5, &n);
	size_t max = band_stats_max_windows(&one, n);
	float *a = malloc(max * one.dim * sizeof(float));
	float *b = malloc(max * one.dim * sizeof(float));
	assert_non_null(a);
	assert_non_null(b);
	size_t wa = band_stats_process(&one, x, n, a);
	assert_int_equal(wa, ((n - 256) / 128 + 1) / 100); /* 374 frames: 3 windows */
	size_t wb = 0, pos = 0, step = 1;
	while (pos < n) {
		size_t len = step < n - pos ? step : n - pos;
		assert_true(band_stats_max_windows(&many, len) >= 1);
		wb += band_stats_process(&many, x + pos, len, b + wb * many.dim);
		pos += len;
		step = step * 7 % 1013 + 1;
	}
	assert_int_equal(wb, wa);
	for (size_t i = 0; i < wa * one.dim; i++)
		if (fabsf(a[i] - b[i]) > 1e-4f)
			fail_msg("value %zu: one push %.6f, many pushes %.6f", i, (double)a[i],
				 (double)b[i]);
	/* after a reset the same signal gives the same windows again */
	band_stats_reset(&one);
	assert_int_equal(band_stats_process(&one, x, n, b), wa);
	for (size_t i = 0; i < wa * one.dim; i++)
		if (fabsf(a[i] - b[i]) > 1e-4f)
			fail_msg("value %zu after reset: %.6f, want %.6f", i, (double)b[i],
				 (double)a[i]);
	free(a);
	free(b);
	free(x);
	band_stats_free(&one);
	band_stats_free(&many);
}

/* A hop longer than the frame leaves gaps: the windows are those of the analysed stretches
 * alone, laid end to end and framed without overlap, whatever the pushes' sizes. */
static void test_gaps_between_frames(void **state)
{
	(void)state;
	struct band_stats_config cfg;
	struct band_stats gapped, dense, many;
	bands_only(&cfg, 20); /* no fine part: the long-term spectrum sees every sample */
	cfg.n_fft = 128;
	cfg.hop = 256;
	init_ok(&gapped, &cfg);
	init_ok(&many, &cfg);
	cfg.hop = 128;
	init_ok(&dense, &cfg);
	size_t n;
	float *x = signal(2.0, 2345.0, 9.0, 0.7, &n);
	size_t frames = (n - 128) / 256 + 1; /* 125 */
	float *kept = malloc(frames * 128 * sizeof(float));
	float *a = malloc(band_stats_max_windows(&gapped, n) * gapped.dim * sizeof(float));
	float *b = malloc(band_stats_max_windows(&dense, n) * dense.dim * sizeof(float));
	float *c = malloc(band_stats_max_windows(&many, n) * many.dim * sizeof(float));
	assert_non_null(kept);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	for (size_t f = 0; f < frames; f++)
		memcpy(kept + f * 128, x + f * 256, 128 * sizeof(float));
	size_t wa = band_stats_process(&gapped, x, n, a);
	assert_int_equal(wa, frames / 20);
	assert_int_equal(band_stats_process(&dense, kept, frames * 128, b), wa);
	for (size_t i = 0; i < wa * gapped.dim; i++)
		if (a[i] != b[i])
			fail_msg("value %zu: gapped %.6f, the kept stretches framed densely %.6f",
				 i, (double)a[i], (double)b[i]);
	size_t wc = 0, pos = 0, step = 1;
	while (pos < n) {
		size_t len = step < n - pos ? step : n - pos;
		wc += band_stats_process(&many, x + pos, len, c + wc * many.dim);
		pos += len;
		step = step * 5 % 509 + 1;
	}
	assert_int_equal(wc, wa);
	for (size_t i = 0; i < wa * gapped.dim; i++)
		if (a[i] != c[i])
			fail_msg("value %zu: one push %.6f, many pushes %.6f", i, (double)a[i],
				 (double)c[i]);
	free(kept);
	free(a);
	free(b);
	free(c);
	free(x);
	band_stats_free(&gapped);
	band_stats_free(&dense);
	band_stats_free(&many);
}

/* history_only: the same history and window count as the full analysis, nothing written; with
 * no history the frames are only counted. */
static void test_history_only(void **state)
{
	(void)state;
	struct band_stats_config cfg;
	struct band_stats full, only, bare;
	bands_only(&cfg, 8);
	cfg.history_frames = 50;
	init_ok(&full, &cfg);
	cfg.history_only = 1;
	init_ok(&only, &cfg);
	cfg.history_frames = 0;
	init_ok(&bare, &cfg);
	size_t n;
	float *x = signal(1.0, 1234.0, 7.0, 0.5, &n);
	float *a = malloc(band_stats_max_windows(&full, n) * full.dim * sizeof(float));
	assert_non_null(a);
	size_t wa = band_stats_process(&full, x, n, a);
	assert_int_equal(band_stats_process(&only, x, n, NULL), wa);
	assert_int_equal(band_stats_process(&bare, x, n, NULL), wa);
	uint64_t ca, cb, cc;
	const float *ha = band_stats_history(&full, &ca), *hb = band_stats_history(&only, &cb);
	assert_null(band_stats_history(&bare, &cc));
	assert_int_equal(cb, ca);
	assert_int_equal(cc, ca);
	assert_memory_equal(ha, hb, 50 * cfg.n_bands * sizeof(float));
	free(a);
	free(x);
	band_stats_free(&full);
	band_stats_free(&only);
	band_stats_free(&bare);
}

static void expect_error(void (*change)(struct band_stats_config *), const char *text)
{
	struct band_stats_config cfg;
	struct band_stats bs;
	struct auscult_err err = { { 0 } };
	band_stats_config_defaults(&cfg);
	change(&cfg);
	assert_int_equal(band_stats_dim(&cfg), 0);
	assert_int_equal(band_stats_init(&bs, &cfg, &err), AUSCULT_ERR_INVALID);
	if (!strstr(err.msg, text))
		fail_msg("error '%s' does not say '%s'", err.msg, text);
	band_stats_free(&bs);
}

static void bad_n_fft(struct band_stats_config *c)
{
	c->n_fft = 300;
}
static void bad_hop(struct band_stats_config *c)
{
	c->hop = 0;
}
static void bad_bands(struct band_stats_config *c)
{
	c->n_bands = 5;
}
static void bad_fine(struct band_stats_config *c)
{
	c->fine_n_fft = 1000;
}
static void bad_mod(struct band_stats_config *c)
{
	c->mod_max_hz = 70.0f;
}
static void bad_window(struct band_stats_config *c)
{
	c->window_frames = 2;
}
static void bad_rate(struct band_stats_config *c)
{
	c->sample_rate_hz = 0;
}

static void test_errors(void **state)
{
	(void)state;
	expect_error(bad_n_fft, "n_fft 300 is not a power of two in [4, 65536]");
	expect_error(bad_hop, "hop 0 is out of range [1, 65536]");
	expect_error(bad_bands, "n_bands 5 does not divide n_fft / 2 = 128");
	expect_error(bad_fine, "fine_n_fft 1000 / fine_hop 512: need a power of two");
	expect_error(bad_mod, "modulation 2..70 Hz: need 0 < min <= max < 62.5 Hz");
	expect_error(bad_window, "window_frames 2 is below 4");
	expect_error(bad_rate, "sample_rate_hz 0 is below 1000");
	band_stats_free(NULL);
}

/* The cost model counts the FFTs and the per-frame work: the defaults are 19.1 MFLOP / 10 s. */
static void test_flops(void **state)
{
	(void)state;
	struct band_stats_config cfg;
	band_stats_config_defaults(&cfg);
	double per_s = band_stats_flops_per_s(&cfg);
	/* short: 125 frames/s x (256 + 2.5*256*8 + 512 + 16*(4+124) + 6*31) = 125 x 8122;
	 * fine: 31.25 frames/s x (1024 + 2.5*1024*10 + 2048) = 31.25 x 28672 */
	double want = 125.0 * 8122.0 + 31.25 * 28672.0;
	if (fabs(per_s - want) > 1e-6 * want)
		fail_msg("flops per s %.1f, want %.1f", per_s, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_count),
		cmocka_unit_test(test_tone_lands_in_its_bin_and_band),
		cmocka_unit_test(test_modulation_at_its_rate),
		cmocka_unit_test(test_streaming_and_reset),
		cmocka_unit_test(test_gaps_between_frames),
		cmocka_unit_test(test_history_only),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_flops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
