/* test_framer.c - framer: numpy reflect padding, frame counts, streaming alignment, chunk independence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/framer.h"
#include "features_test_util.h"

/*
 * numpy.pad(y, pad, mode="reflect") written the way numpy builds it: repeated chunks, each the
 * mirror image of what is already there about the current edge (excluding the edge). An
 * independent reference for the framer's closed-form index mapping. Returns n + 2 pad samples.
 */
static float *numpy_reflect_pad(const float *y, size_t n, size_t pad)
{
	size_t len = n + 2 * pad;
	float *p = malloc(len * sizeof(*p));
	assert_non_null(p);
	memcpy(p + pad, y, n * sizeof(*y));
	if (n == 1) { /* numpy falls back to edge mode for a single sample */
		for (size_t i = 0; i < len; i++)
			p[i] = y[0];
		return p;
	}
	size_t left = pad, right = pad;
	while (left > 0 || right > 0) {
		size_t old_length = len - right - left - 1;
		if (left > 0) {
			size_t chunk = old_length < left ? old_length : left;
			for (size_t i = 0; i < chunk; i++)
				p[left - chunk + i] = p[left + chunk - i];
			left -= chunk;
		}
		if (right > 0) {
			size_t chunk = old_length < right ? old_length : right;
			for (size_t i = 0; i < chunk; i++)
				p[len - right + i] = p[len - right - 2 - i];
			right -= chunk;
		}
	}
	return p;
}

/* Runs a framer over y in chunks of `chunk` samples (0: all at once); returns the frames. */
static float *run_framer(struct framer *fr, const float *y, size_t n, size_t chunk,
			 size_t *n_frames)
{
	size_t cap = 16, count = 0;
	float *frames = malloc(cap * fr->n_fft * sizeof(*frames));
	float *frame = malloc(fr->n_fft * sizeof(*frame));
	assert_non_null(frames);
	assert_non_null(frame);
	framer_reset(fr);
	size_t pos = 0;
	for (;;) {
		size_t len = chunk == 0 ? n - pos : (n - pos < chunk ? n - pos : chunk);
		size_t off = 0;
		int got, more = 1;
		while (more) {
			off += framer_push(fr, y + pos + off, len - off, frame, &got);
			more = got;
			if (got) {
				if (count == cap) {
					cap *= 2;
					frames = realloc(frames, cap * fr->n_fft * sizeof(*frames));
					assert_non_null(frames);
				}
				memcpy(frames + count * fr->n_fft, frame,
				       fr->n_fft * sizeof(*frame));
				count++;
			}
		}
		assert_int_equal(off, len);
		pos += len;
		if (pos == n)
			break;
	}
	while (framer_finish(fr, frame)) {
		if (count == cap) {
			cap *= 2;
			frames = realloc(frames, cap * fr->n_fft * sizeof(*frames));
			assert_non_null(frames);
		}
		memcpy(frames + count * fr->n_fft, frame, fr->n_fft * sizeof(*frame));
		count++;
	}
	free(frame);
	*n_frames = count;
	return frames;
}

/* Centred frames equal slices of numpy's reflect-padded signal, for lengths around every edge
 * case (one sample, shorter than the pad, exactly the pad, one frame, many frames). Frames are
 * copies of input samples, so equality is exact here. */
static void check_centred(uint32_t n_fft, uint32_t hop)
{
	static const size_t lengths[] = {
		1,   2,   3,   5,   17,  31,  32,   33,   63,   64,   65,
		100, 300, 511, 512, 513, 700, 1023, 1024, 1025, 1536, 5000
	};
	struct framer fr;
	struct framer_config cfg = { .n_fft = n_fft,
				     .hop_length = hop,
				     .framing = FRAMING_CENTRED };
	struct auscult_err err;
	assert_int_equal(framer_init(&fr, &cfg, &err), AUSCULT_OK);
	for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
		size_t n = lengths[li];
		float *y = malloc(n * sizeof(*y));
		assert_non_null(y);
		for (size_t i = 0; i < n; i++)
			y[i] = (float)i + 1.0f; /* distinct values reveal any wrong index */
		float *padded = numpy_reflect_pad(y, n, n_fft / 2);
		size_t n_frames;
		float *frames = run_framer(&fr, y, n, 0, &n_frames);
		assert_int_equal(n_frames, 1 + n / hop);
		assert_int_equal(framer_frame_count(&fr, n), 1 + n / hop);
		for (size_t t = 0; t < n_frames; t++)
			if (memcmp(frames + t * n_fft, padded + t * hop, n_fft * sizeof(float)) !=
			    0)
				fail_msg("n_fft %u hop %u, %zu samples: frame %zu differs from numpy "
					 "reflect padding",
					 n_fft, hop, n, t);
		free(frames);
		free(padded);
		free(y);
	}
	framer_free(&fr);
}

static void test_centred_matches_numpy_reflect(void **state)
{
	(void)state;
	check_centred(1024, 512); /* the baseline */
	check_centred(64, 16);
	check_centred(64, 20); /* hop not dividing the pad */
	check_centred(64, 64);
	check_centred(64, 1);
}

/* The hand-computed case: numpy.pad([1, 2, 3], 4, "reflect") = 1 2 3 2 | 1 2 3 | 2 1 2 3. */
static void test_centred_short_by_hand(void **state)
{
	(void)state;
	struct framer fr;
	struct framer_config cfg = { .n_fft = 8, .hop_length = 2, .framing = FRAMING_CENTRED };
	const float y[3] = { 1, 2, 3 };
	const float want[2][8] = { { 1, 2, 3, 2, 1, 2, 3, 2 }, { 3, 2, 1, 2, 3, 2, 1, 2 } };
	size_t n_frames;
	assert_int_equal(framer_init(&fr, &cfg, NULL), AUSCULT_OK);
	float *frames = run_framer(&fr, y, 3, 1, &n_frames);
	assert_int_equal(n_frames, 2);
	assert_memory_equal(frames, want, sizeof(want));
	free(frames);
	framer_free(&fr);
}

static void test_empty_signal_has_no_frames(void **state)
{
	(void)state;
	struct framer fr;
	struct framer_config cfg;
	float frame[1024];
	framer_config_defaults(&cfg);
	assert_int_equal(framer_init(&fr, &cfg, NULL), AUSCULT_OK);
	assert_int_equal(framer_finish(&fr, frame), 0);
	assert_int_equal(framer_frame_count(&fr, 0), 0);
	framer_free(&fr);
}

/* Streaming frame k is centred frame t0 + k; it comes out as soon as its last sample is in. */
static void check_streaming(uint32_t n_fft, uint32_t hop)
{
	const size_t n = 7919;
	float *y = malloc(n * sizeof(*y));
	assert_non_null(y);
	util_noise(y, n, 1.0f, 7);
	struct framer cen, str;
	struct framer_config cfg = { .n_fft = n_fft,
				     .hop_length = hop,
				     .framing = FRAMING_CENTRED };
	assert_int_equal(framer_init(&cen, &cfg, NULL), AUSCULT_OK);
	cfg.framing = FRAMING_STREAMING;
	assert_int_equal(framer_init(&str, &cfg, NULL), AUSCULT_OK);
	size_t n_cen, n_str;
	float *fc = run_framer(&cen, y, n, 0, &n_cen);
	float *fs = run_framer(&str, y, n, 0, &n_str);
	size_t t0 = (n_fft / 2 + hop - 1) / hop;
	size_t last = (n - n_fft / 2) / hop; /* last centred frame inside the signal */
	assert_int_equal(n_str, last - t0 + 1);
	assert_int_equal(framer_frame_count(&str, n), n_str);
	for (size_t k = 0; k < n_str; k++)
		if (memcmp(fs + k * n_fft, fc + (t0 + k) * n_fft, n_fft * sizeof(float)) != 0)
			fail_msg("n_fft %u hop %u: streaming frame %zu != centred frame %zu", n_fft,
				 hop, k, t0 + k);
	/* No look-ahead: the first frame is out exactly when its last sample arrives. */
	float *frame = malloc(n_fft * sizeof(*frame));
	assert_non_null(frame);
	int got;
	size_t first_end = t0 * hop + n_fft / 2;
	framer_reset(&str);
	assert_int_equal(framer_push(&str, y, first_end - 1, frame, &got), first_end - 1);
	assert_int_equal(got, 0);
	assert_int_equal(framer_push(&str, y + first_end - 1, 1, frame, &got), 1);
	assert_int_equal(got, 1);
	assert_memory_equal(frame, y + first_end - n_fft, n_fft * sizeof(float));
	free(frame);
	free(fc);
	free(fs);
	free(y);
	framer_free(&cen);
	framer_free(&str);
}

static void test_streaming_equals_centred_interior(void **state)
{
	(void)state;
	check_streaming(1024, 512);
	check_streaming(64, 20);
	check_streaming(64, 64);
	check_streaming(256, 100);
}

/* Any split of the input into pushes yields the frames of pushing it whole, both framings. */
static void test_chunked_equals_whole(void **state)
{
	(void)state;
	static const size_t chunks[] = { 1, 7, 512, 1000, 4096 };
	static const size_t lengths[] = { 700, 16000, 16001, 40000 };
	static const uint32_t hops[] = { 512, 300 };
	float *y = malloc(40000 * sizeof(*y));
	assert_non_null(y);
	util_noise(y, 40000, 0.5f, 3);
	for (int framing = 0; framing < 2; framing++) {
		for (size_t hi = 0; hi < 2; hi++) {
			struct framer fr;
			struct framer_config cfg = { .n_fft = 1024,
						     .hop_length = hops[hi],
						     .framing = (enum framing)framing };
			assert_int_equal(framer_init(&fr, &cfg, NULL), AUSCULT_OK);
			for (size_t li = 0; li < 4; li++) {
				size_t n_whole;
				float *whole = run_framer(&fr, y, lengths[li], 0, &n_whole);
				for (size_t ci = 0; ci < 5; ci++) {
					size_t n_chunked;
					float *chunked = run_framer(&fr, y, lengths[li], chunks[ci],
								    &n_chunked);
					assert_int_equal(n_chunked, n_whole);
					if (memcmp(chunked, whole, n_whole * 1024 * sizeof(float)))
						fail_msg("framing %d hop %u n %zu: chunks of %zu "
							 "differ from whole",
							 framing, hops[hi], lengths[li],
							 chunks[ci]);
					free(chunked);
				}
				free(whole);
			}
			framer_free(&fr);
		}
	}
	free(y);
}

static void test_push_after_finish_is_ignored(void **state)
{
	(void)state;
	struct framer fr;
	struct framer_config cfg;
	float y[2048], frame[1024];
	int got;
	framer_config_defaults(&cfg);
	assert_int_equal(framer_init(&fr, &cfg, NULL), AUSCULT_OK);
	util_noise(y, 2048, 1.0f, 11);
	while (framer_push(&fr, y, 100, frame, &got) > 0 && got)
		;
	while (framer_finish(&fr, frame))
		;
	assert_int_equal(framer_push(&fr, y, 2048, frame, &got), 2048);
	assert_int_equal(got, 0);
	framer_free(&fr);
}

static void test_rejects_bad_config(void **state)
{
	(void)state;
	struct framer fr;
	struct auscult_err err;
	struct framer_config cfg = { .n_fft = 1024, .hop_length = 0, .framing = FRAMING_CENTRED };
	assert_int_equal(framer_init(&fr, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "framer: hop_length 0 is out of range [1, n_fft=1024]");
	framer_free(&fr);
	cfg.hop_length = 2048;
	assert_int_equal(framer_init(&fr, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "framer: hop_length 2048 is out of range [1, n_fft=1024]");
	cfg.n_fft = 1;
	cfg.hop_length = 1;
	assert_int_equal(framer_init(&fr, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "framer: n_fft 1 is not an even number in [2, 1048576]");
	cfg.n_fft = 16;
	cfg.framing = (enum framing)7;
	assert_int_equal(framer_init(&fr, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "framer: framing 7 is neither centred (0) nor streaming (1)");
	framer_free(&fr);
	framer_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_centred_matches_numpy_reflect),
		cmocka_unit_test(test_centred_short_by_hand),
		cmocka_unit_test(test_empty_signal_has_no_frames),
		cmocka_unit_test(test_streaming_equals_centred_interior),
		cmocka_unit_test(test_chunked_equals_whole),
		cmocka_unit_test(test_push_after_finish_is_ignored),
		cmocka_unit_test(test_rejects_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
