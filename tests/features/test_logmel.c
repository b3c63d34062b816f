/* test_logmel.c - logmel: filter bank vs librosa's, fast dB accuracy, sine band, silence floor. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/logmel.h"
#include "features_test_util.h"

#define VEC AUSCULT_SHARED_DIR "/vectors/"

/* Against librosa's float64 bank stored as float32: relative 1e-5 (float rounding of our own
 * double computation is 6e-8; the margin covers libm differences in exp/log), and the same
 * nonzero pattern. */
static void test_filterbank_matches_reference(void **state)
{
	(void)state;
	struct logmel lm;
	struct logmel_config cfg;
	size_t n_ref;
	logmel_config_defaults(&cfg);
	assert_int_equal(logmel_init(&lm, &cfg, NULL), AUSCULT_OK);
	float *ref = util_read_f32(VEC "melfb_sr16000_nfft1024_nmels128.f32", &n_ref);
	assert_non_null(ref);
	assert_int_equal(n_ref, 128 * 513);
	float *fb = malloc(n_ref * sizeof(*fb));
	assert_non_null(fb);
	logmel_filterbank_dense(&lm, fb);
	double max_rel = 0.0;
	for (size_t i = 0; i < n_ref; i++) {
		if ((ref[i] == 0.0f) != (fb[i] == 0.0f))
			fail_msg("band %zu bin %zu: zero pattern differs (ours %g, reference %g)",
				 i / 513, i % 513, (double)fb[i], (double)ref[i]);
		if (ref[i] != 0.0f) {
			double rel = fabs((double)fb[i] - ref[i]) / fabs((double)ref[i]);
			if (rel > max_rel)
				max_rel = rel;
		}
	}
	print_message("filter bank: max relative difference %.3g\n", max_rel);
	assert_true(max_rel < 1e-5);
	/* Sparse storage: each triangle spans only a few bins (about 2 x 513 weights in all). */
	assert_true(lm.n_weights < 1200);
	free(fb);
	free(ref);
	logmel_free(&lm);
}

/* logmel_db vs double log10 over the whole range logmel can meet, from the floor up. */
static void test_fast_db_accuracy(void **state)
{
	(void)state;
	double max_err = 0.0;
	for (double x = 2.220446049250313e-16; x < 1e12; x *= 1.0009765625) {
		float xf = (float)x;
		double want = 10.0 * log10((double)xf);
		double err = fabs((double)logmel_db(xf) - want);
		/* relative to the magnitude: float rounding of the exponent term near -156 dB */
		double tol = 2e-6 + 1e-7 * fabs(want);
		if (err > tol)
			fail_msg("logmel_db(%g) = %.9g, want %.9g", (double)xf,
				 (double)logmel_db(xf), want);
		if (err > max_err)
			max_err = err;
	}
	print_message("fast dB: max abs error %.3g dB\n", max_err);
	assert_true(max_err < 2e-5);
}

/* A 1 kHz sine's loudest band is the one whose triangle peaks nearest 1 kHz, and its level is
 * what the filter bank predicts from the sine's power spectrum peak. */
static void test_sine_peaks_in_its_band(void **state)
{
	(void)state;
	struct logmel lm;
	struct logmel_config cfg;
	float frame[1024], db[128];
	logmel_config_defaults(&cfg);
	assert_int_equal(logmel_init(&lm, &cfg, NULL), AUSCULT_OK);
	for (int n = 0; n < 1024; n++)
		frame[n] = 0.5f * (float)sin(2.0 * M_PI * 1000.0 * n / 16000.0);
	logmel_process(&lm, frame, db);
	int best = 0;
	for (int m = 1; m < 128; m++)
		if (db[m] > db[best])
			best = m;
	/* The band of 1 kHz: Slaney mel of 1000 Hz is 15; centres are i * mel(8 kHz) / 129,
	 * mel(8 kHz) = 15 + ln 8 / (ln 6.4 / 27) = 45.245..., so centre index 15 / 0.35074 =
	 * 42.77: the triangle of band 42 (centre index 43 counting the lower edge) peaks there. */
	double mel_max = 15.0 + log(8.0) / (log(6.4) / 27.0);
	int want = (int)lround(15.0 / (mel_max / 129.0)) - 1;
	assert_int_equal(want, 42);
	assert_int_equal(best, want);
	/* 1 kHz is bin 64 exactly; a Hann-windowed sine of amplitude A has |X[64]| = A N / 4 and
	 * |X[63]| = |X[65]| = A N / 8 (the periodic Hann's three-bin main lobe). */
	float fb[128 * 513];
	logmel_filterbank_dense(&lm, fb);
	double a = 0.5, p64 = pow(a * 1024 / 4, 2), p63 = pow(a * 1024 / 8, 2);
	double mel = fb[42 * 513 + 63] * p63 + fb[42 * 513 + 64] * p64 + fb[42 * 513 + 65] * p63;
	double want_db = 10.0 * log10(mel);
	print_message("1 kHz sine: band %d at %.4f dB, predicted %.4f dB\n", best, (double)db[best],
		      want_db);
	assert_true(fabs(db[best] - want_db) < 1e-3);
	/* Bands far from 1 kHz see only float rounding: more than 100 dB below the peak. */
	assert_true(db[0] < db[best] - 100.0f);
	assert_true(db[127] < db[best] - 100.0f);
	logmel_free(&lm);
}

static void test_silence_is_the_floor(void **state)
{
	(void)state;
	struct logmel lm;
	struct logmel_config cfg;
	float frame[1024] = { 0 }, db[128];
	logmel_config_defaults(&cfg);
	assert_int_equal(logmel_init(&lm, &cfg, NULL), AUSCULT_OK);
	logmel_process(&lm, frame, db);
	double floor_db = 10.0 * log10(2.220446049250313e-16); /* -156.5356 dB */
	for (int m = 0; m < 128; m++)
		assert_true(fabs(db[m] - floor_db) < 1e-4);
	logmel_free(&lm);
}

/* A non-baseline configuration still builds and makes sense: 8 kHz, 512-point, 40 mels. */
static void test_other_parameters(void **state)
{
	(void)state;
	struct logmel lm;
	struct logmel_config cfg = { .sample_rate_hz = 8000,
				     .n_fft = 512,
				     .n_mels = 40,
				     .fmin_hz = 50.0f,
				     .fmax_hz = 4000.0f };
	float frame[512], db[40];
	assert_int_equal(logmel_init(&lm, &cfg, NULL), AUSCULT_OK);
	assert_int_equal(lm.n_bins, 257);
	for (uint32_t m = 0; m < 40; m++) {
		assert_true(lm.band_n_bins[m] > 0);
		/* bands move up monotonically */
		if (m > 0)
			assert_true(lm.band_first_bin[m] >= lm.band_first_bin[m - 1]);
	}
	/* nothing below fmin: the first band starts above bin 50 Hz / 15.625 Hz = 3.2 */
	assert_true(lm.band_first_bin[0] >= 4);
	for (int n = 0; n < 512; n++)
		frame[n] = (float)sin(2.0 * M_PI * 2000.0 * n / 8000.0);
	logmel_process(&lm, frame, db);
	int best = 0;
	for (int m = 1; m < 40; m++)
		if (db[m] > db[best])
			best = m;
	/* bin of 2 kHz is 128: the loudest band must contain it */
	assert_true(lm.band_first_bin[best] <= 128 &&
		    lm.band_first_bin[best] + lm.band_n_bins[best] > 128);
	logmel_free(&lm);
}

static void test_rejects_bad_config(void **state)
{
	(void)state;
	struct logmel lm;
	struct auscult_err err;
	struct logmel_config cfg;
	logmel_config_defaults(&cfg);
	cfg.n_fft = 1023;
	assert_int_equal(logmel_init(&lm, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "logmel: n_fft 1023 is not a power of two in [4, 1048576]");
	logmel_free(&lm);
	logmel_config_defaults(&cfg);
	cfg.n_mels = 0;
	assert_int_equal(logmel_init(&lm, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "logmel: n_mels 0 is out of range [1, 4096]");
	logmel_config_defaults(&cfg);
	cfg.fmax_hz = 9000.0f;
	assert_int_equal(logmel_init(&lm, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(
		err.msg,
		"logmel: fmin_hz/fmax_hz 0..9000 Hz is not within 0..8000 Hz with fmin < fmax");
	logmel_config_defaults(&cfg);
	cfg.sample_rate_hz = 0;
	assert_int_equal(logmel_init(&lm, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "logmel: sample_rate_hz must be > 0");
	logmel_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filterbank_matches_reference),
		cmocka_unit_test(test_fast_db_accuracy),
		cmocka_unit_test(test_sine_peaks_in_its_band),
		cmocka_unit_test(test_silence_is_the_floor),
		cmocka_unit_test(test_other_parameters),
		cmocka_unit_test(test_rejects_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
