/* test_feature_extractor.c - the streaming front end: parity with every reference vector, chunking, framings. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/feature_extractor.h"
#include "features_test_util.h"

#define VEC_DIR AUSCULT_SHARED_DIR "/vectors"
#define PARITY_TOL_DB 0.002

/* Pushes y in chunks of `chunk` (0: whole), then finishes; returns n_frames x n_mels dB. */
static float *extract(struct feature_extractor *fx, const float *y, size_t n, size_t chunk,
		      size_t *n_frames)
{
	uint32_t n_mels = fx->params.n_mels;
	size_t cap = feature_extractor_max_frames(fx, n) + feature_extractor_max_frames(fx, 0);
	float *out = malloc((cap + 1) * n_mels * sizeof(*out));
	assert_non_null(out);
	size_t count = 0, pos = 0;
	feature_extractor_reset(fx);
	while (pos < n) {
		size_t len = chunk == 0 || n - pos < chunk ? n - pos : chunk;
		size_t got = feature_extractor_push(fx, y + pos, len, out + count * n_mels);
		assert_true(got <= feature_extractor_max_frames(fx, len));
		count += got;
		pos += len;
	}
	size_t tail = feature_extractor_finish(fx, out + count * n_mels);
	assert_true(tail <= feature_extractor_max_frames(fx, 0));
	count += tail;
	*n_frames = count;
	return out;
}

/* Every NAME.wav in the vectors folder against NAME.logmel.f32, with the README's rule. */
static void test_parity_with_every_vector(void **state)
{
	(void)state;
	struct feature_params p;
	struct feature_extractor fx;
	struct auscult_err err;
	feature_params_defaults(&p);
	assert_int_equal(feature_extractor_init(&fx, &p, FRAMING_CENTRED, &err), AUSCULT_OK);
	DIR *d = opendir(VEC_DIR);
	assert_non_null(d);
	struct dirent *de;
	int n_files = 0;
	size_t total_bad = 0;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".wav") != 0)
			continue;
		char wav[512], ref_path[512];
		snprintf(wav, sizeof(wav), "%s/%s", VEC_DIR, de->d_name);
		snprintf(ref_path, sizeof(ref_path), "%s/%.*s.logmel.f32", VEC_DIR, (int)(len - 4),
			 de->d_name);
		size_t n, n_ref, n_frames, first_bad = 0;
		float *y = util_read_wav(wav, &n);
		float *ref = util_read_f32(ref_path, &n_ref);
		if (!y || !ref)
			fail_msg("cannot read %s or %s", wav, ref_path);
		float *got = extract(&fx, y, n, 0, &n_frames);
		assert_int_equal(n_frames, 1 + n / 512);
		assert_int_equal(n_frames * 128, n_ref);
		double max_diff;
		size_t bad = util_parity(got, ref, n_ref, PARITY_TOL_DB, &max_diff, &first_bad);
		print_message("%-20s %5zu frames, max |diff| %.2e dB where ref > -60 dB, %zu bad\n",
			      de->d_name, n_frames, max_diff, bad);
		if (bad) {
			print_error("%s: %zu values off; first frame %zu band %zu: %.6f dB, "
				    "reference %.6f dB\n",
				    de->d_name, bad, first_bad / 128, first_bad % 128,
				    (double)got[first_bad], (double)ref[first_bad]);
			total_bad += bad;
		}
		free(got);
		free(ref);
		free(y);
		n_files++;
	}
	closedir(d);
	assert_int_equal(total_bad, 0);
	assert_true(n_files >= 6); /* pump_normal, sine1k, chirp, noise, silence, short */
	feature_extractor_free(&fx);
}

/* Chunk sizes 1, 7, 512, 1000 and whole give identical frames in both framings: chunking must
 * not change a single bit, since the same samples reach the same arithmetic. */
static void test_chunked_equals_whole(void **state)
{
	(void)state;
	static const size_t chunks[] = { 1, 7, 512, 1000 };
	size_t n;
	float *y = util_read_wav(VEC_DIR "/pump_normal.wav", &n);
	assert_non_null(y);
	for (int framing = 0; framing < 2; framing++) {
		struct feature_params p;
		struct feature_extractor fx;
		feature_params_defaults(&p);
		assert_int_equal(feature_extractor_init(&fx, &p, (enum framing)framing, NULL),
				 AUSCULT_OK);
		size_t n_whole;
		float *whole = extract(&fx, y, n, 0, &n_whole);
		for (size_t ci = 0; ci < 4; ci++) {
			size_t n_chunked;
			float *chunked = extract(&fx, y, n, chunks[ci], &n_chunked);
			assert_int_equal(n_chunked, n_whole);
			if (memcmp(chunked, whole, n_whole * 128 * sizeof(float)) != 0)
				fail_msg("framing %d: chunks of %zu differ from the whole", framing,
					 chunks[ci]);
			free(chunked);
		}
		free(whole);
		feature_extractor_free(&fx);
	}
	free(y);
}

/* Streaming frame k = centred frame k + 1 for the baseline; streaming emits N / 512 - 1 frames
 * of a 10 s clip's 313 (none of the two edge frames). */
static void test_streaming_equals_centred_interior(void **state)
{
	(void)state;
	size_t n;
	float *y = util_read_wav(VEC_DIR "/pump_normal.wav", &n);
	assert_non_null(y);
	struct feature_params p;
	struct feature_extractor cen, str;
	feature_params_defaults(&p);
	assert_int_equal(feature_extractor_init(&cen, &p, FRAMING_CENTRED, NULL), AUSCULT_OK);
	assert_int_equal(feature_extractor_init(&str, &p, FRAMING_STREAMING, NULL), AUSCULT_OK);
	size_t n_cen, n_str;
	float *fc = extract(&cen, y, n, 4096, &n_cen);
	float *fs = extract(&str, y, n, 4096, &n_str);
	assert_int_equal(n, 160000);
	assert_int_equal(n_cen, 313);
	assert_int_equal(n_str, 311); /* frames 1..311: frame 312 would need the end pad */
	assert_memory_equal(fs, fc + 128, n_str * 128 * sizeof(float));
	free(fc);
	free(fs);
	free(y);
	feature_extractor_free(&cen);
	feature_extractor_free(&str);
}

static void test_rejects_bad_params(void **state)
{
	(void)state;
	struct feature_params p;
	struct feature_extractor fx;
	struct auscult_err err;
	feature_params_defaults(&p);
	p.n_fft = 1000;
	assert_int_equal(feature_extractor_init(&fx, &p, FRAMING_CENTRED, &err),
			 AUSCULT_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "n_fft: 1000 is not a power of two in [64, 16384]");
	feature_extractor_free(&fx);
	feature_params_defaults(&p);
	assert_int_equal(feature_extractor_init(&fx, &p, (enum framing)3, &err),
			 AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "framer: framing 3 is neither centred (0) nor streaming (1)");
	feature_extractor_free(&fx);
	feature_extractor_free(NULL);
}

/* Each rejected parameter of feature_params_validate, with its message. */
static void test_params_validate(void **state)
{
	(void)state;
	struct {
		void (*mutate)(struct feature_params *p);
		const char *msg;
	} cases[6];
	struct feature_params p;
	struct auscult_err err;

	feature_params_defaults(&p);
	assert_int_equal(feature_params_validate(&p, &err), AUSCULT_OK);
	assert_int_equal(feature_params_vector_dim(&p), 640);
	(void)cases;

#define REJECTS(field, value, text)                                                           \
	do {                                                                                  \
		feature_params_defaults(&p);                                                  \
		p.field = value;                                                              \
		assert_int_equal(feature_params_validate(&p, &err), AUSCULT_ERR_UNSUPPORTED); \
		assert_string_equal(err.msg, text);                                           \
	} while (0)
	REJECTS(sample_rate_hz, 4000, "sample_rate_hz: 4000 is out of range [8000, 192000]");
	REJECTS(sample_rate_hz, 200000, "sample_rate_hz: 200000 is out of range [8000, 192000]");
	REJECTS(n_fft, 1000, "n_fft: 1000 is not a power of two in [64, 16384]");
	REJECTS(n_fft, 32, "n_fft: 32 is not a power of two in [64, 16384]");
	REJECTS(n_fft, 32768, "n_fft: 32768 is not a power of two in [64, 16384]");
	REJECTS(hop_length, 0, "hop_length: 0 is out of range [1, n_fft=1024]");
	REJECTS(hop_length, 1025, "hop_length: 1025 is out of range [1, n_fft=1024]");
	REJECTS(n_mels, 0, "n_mels: 0 is out of range [1, 512]");
	REJECTS(n_mels, 513, "n_mels: 513 is out of range [1, 512]");
	REJECTS(fmin_hz, -1.0f,
		"fmin_hz/fmax_hz: -1..8000 Hz is not within 0..8000 Hz with fmin < fmax");
	REJECTS(fmin_hz, 8000.0f,
		"fmin_hz/fmax_hz: 8000..8000 Hz is not within 0..8000 Hz with fmin < fmax");
	REJECTS(fmax_hz, 8001.0f,
		"fmin_hz/fmax_hz: 0..8001 Hz is not within 0..8000 Hz with fmin < fmax");
	REJECTS(fmax_hz, NAN,
		"fmin_hz/fmax_hz: 0..nan Hz is not within 0..8000 Hz with fmin < fmax");
	REJECTS(n_stack, 0, "n_stack: 0 is out of range [1, 32]");
	REJECTS(n_stack, 33, "n_stack: 33 is out of range [1, 32]");
#undef REJECTS
}

/* Non-baseline parameters run end to end and keep the chunking guarantee (hop not dividing
 * the pad, 8 kHz, 64 mels). */
static void test_other_params_chunked(void **state)
{
	(void)state;
	struct feature_params p;
	struct feature_extractor fx;
	feature_params_defaults(&p);
	p.sample_rate_hz = 8000;
	p.n_fft = 256;
	p.hop_length = 100;
	p.n_mels = 64;
	p.fmax_hz = 4000.0f;
	float *y = malloc(9001 * sizeof(*y));
	assert_non_null(y);
	util_noise(y, 9001, 0.25f, 5);
	for (int framing = 0; framing < 2; framing++) {
		assert_int_equal(feature_extractor_init(&fx, &p, (enum framing)framing, NULL),
				 AUSCULT_OK);
		size_t n_whole, n_chunked;
		float *whole = extract(&fx, y, 9001, 0, &n_whole);
		float *chunked = extract(&fx, y, 9001, 77, &n_chunked);
		assert_int_equal(n_whole,
				 framing == 0 ? 1 + 9001 / 100 : (9001 - 128) / 100 - 2 + 1);
		assert_int_equal(n_chunked, n_whole);
		assert_memory_equal(chunked, whole, n_whole * 64 * sizeof(float));
		/* white noise: every band well above the floor */
		for (size_t i = 0; i < n_whole * 64; i++)
			assert_true(whole[i] > -60.0f && whole[i] < 60.0f);
		free(whole);
		free(chunked);
		feature_extractor_free(&fx);
	}
	free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parity_with_every_vector),
		cmocka_unit_test(test_chunked_equals_whole),
		cmocka_unit_test(test_streaming_equals_centred_interior),
		cmocka_unit_test(test_rejects_bad_params),
		cmocka_unit_test(test_params_validate),
		cmocka_unit_test(test_other_params_chunked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
