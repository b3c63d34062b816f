/* test_features_file.c - whole-file features through audio_source: parity, resampling, vector count, bad files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/features_file.h"
#include "features_test_util.h"

#define VEC AUSCULT_SHARED_DIR "/vectors/"
#define FIX AUSCULT_FIXTURES "/features/"

/* The file path (audio_source reading, block streaming) gives the reference within 0.002 dB (float32 kissfft). */
static void check_file(const char *name)
{
	char wav[512], ref_path[512];
	snprintf(wav, sizeof(wav), VEC "%s.wav", name);
	snprintf(ref_path, sizeof(ref_path), VEC "%s.logmel.f32", name);
	struct feature_params p;
	struct auscult_err err;
	float *frames;
	size_t n_frames, n_ref, first_bad = 0;
	double max_diff;
	feature_params_defaults(&p);
	if (features_from_file(wav, &p, &frames, &n_frames, &err) != AUSCULT_OK)
		fail_msg("%s", err.msg);
	float *ref = util_read_f32(ref_path, &n_ref);
	assert_non_null(ref);
	assert_int_equal(n_frames * 128, n_ref);
	size_t bad = util_parity(frames, ref, n_ref, 0.002, &max_diff, &first_bad);
	if (bad)
		fail_msg("%s: %zu values off, first at frame %zu band %zu", name, bad,
			 first_bad / 128, first_bad % 128);
	free(ref);
	free(frames);
}

static void test_parity_through_files(void **state)
{
	(void)state;
	check_file("pump_normal"); /* 160000 samples: many read blocks */
	check_file("short");       /* 700 samples: one partial block, both reflections */
	check_file("chirp");
	check_file("silence");
}

/* A 22.05 kHz stereo 1 kHz sine: averaged and resampled to 16 kHz, its energy lands in band 42
 * (the band of 1 kHz, see test_logmel) in every frame away from the edges. */
static void test_resampled_stereo_sine(void **state)
{
	(void)state;
	struct feature_params p;
	struct auscult_err err;
	float *frames;
	size_t n_frames;
	feature_params_defaults(&p);
	if (features_from_file(FIX "sine1k_22050_stereo.wav", &p, &frames, &n_frames, &err) !=
	    AUSCULT_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(n_frames, 1 + 8000 / 512); /* 0.5 s at 16 kHz */
	for (size_t t = 2; t + 2 < n_frames; t++) {
		const float *f = frames + t * 128;
		int best = 0;
		for (int m = 1; m < 128; m++)
			if (f[m] > f[best])
				best = m;
		assert_int_equal(best, 42);
		/* amplitude 0.5 like test_logmel's sine: the same 28.03 dB within resampling error */
		assert_true(fabsf(f[42] - 28.03f) < 0.05f);
	}
	free(frames);
}

static void test_vector_count(void **state)
{
	(void)state;
	struct feature_params p;
	feature_params_defaults(&p);
	assert_int_equal(features_vector_count(313, &p), 309); /* a 10-s clip */
	assert_int_equal(features_vector_count(5, &p), 1);
	assert_int_equal(features_vector_count(4, &p), 0);
	assert_int_equal(features_vector_count(0, &p), 0);
	p.n_stack = 1;
	assert_int_equal(features_vector_count(2, &p), 2);
}

static void expect_failure(const char *path, const char *want_substring)
{
	struct feature_params p;
	struct auscult_err err;
	float *frames = (float *)&err; /* must be reset to NULL */
	size_t n_frames = 99;
	feature_params_defaults(&p);
	auscult_err_clear(&err);
	assert_int_not_equal(features_from_file(path, &p, &frames, &n_frames, &err), AUSCULT_OK);
	assert_null(frames);
	assert_int_equal(n_frames, 0);
	if (!strstr(err.msg, path) || !strstr(err.msg, want_substring))
		fail_msg("message '%s' should name %s and say '%s'", err.msg, path, want_substring);
}

/* Bad files fail with the audio layer's message, which names the file. */
static void test_bad_files(void **state)
{
	(void)state;
	expect_failure(FIX "missing.wav", "cannot open");
	expect_failure(FIX "not_audio.wav", "not an audio file");
	expect_failure(FIX "empty.wav", "empty file");
	expect_failure(FIX, "directory");
}

/* Bad parameters are refused before the file is touched. */
static void test_bad_params(void **state)
{
	(void)state;
	struct feature_params p;
	struct auscult_err err;
	float *frames;
	size_t n_frames;
	feature_params_defaults(&p);
	p.n_mels = 0;
	assert_int_equal(features_from_file(VEC "short.wav", &p, &frames, &n_frames, &err),
			 AUSCULT_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "n_mels: 0 is out of range [1, 512]");
	assert_null(frames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parity_through_files),
		cmocka_unit_test(test_resampled_stereo_sine),
		cmocka_unit_test(test_vector_count),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_bad_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
