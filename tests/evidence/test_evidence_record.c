/* test_evidence_record.c - evidence record round trips, and one fixture per way a record can be
 * bad, each naming the file and the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/evidence_record.h"

#define FIXTURE_DIR AUSCULT_FIXTURES "/evidence"

static void sample_record(struct evidence_record *r, struct evidence_window *w, size_t n_w)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->monitor, sizeof(r->monitor), "pump1");
	snprintf(r->event_id, sizeof(r->event_id), "pump1-1764921605123");
	snprintf(r->audio_file, sizeof(r->audio_file), "20261205T080005Z-pump1-1764921605123.flac");
	snprintf(r->image_file, sizeof(r->image_file), "20261205T080005Z-pump1-1764921605123.png");
	r->audio_start_ms = 1764921595123;
	r->sample_rate = 16000;
	r->n_samples = 16000u * 21u;
	r->start_ms = 1764921605123;
	r->end_ms = 1764921611123;
	r->peak = 3.14159274f;
	r->mean = 1.0f / 3.0f;
	r->threshold = 1.2345678f;
	r->n_bands = 2;
	r->bands[0] = (struct detector_band){ 17, 656.25f, 781.25f, 0.6f };
	r->bands[1] = (struct detector_band){ 3, 93.75f, 156.25f, 0.1f };
	r->parts.v[DETECTOR_PART_NETWORK] = 5.66f;
	r->parts.v[DETECTOR_PART_WINDOW_HEAD] = NAN;
	r->parts.v[DETECTOR_PART_RISE] = 16.38f;
	r->parts_seen = (1u << DETECTOR_PART_NETWORK) | (1u << DETECTOR_PART_RISE);
	r->parts.rise[DETECTOR_RISE_ENVELOPE] = 0.0f;
	r->parts.rise[DETECTOR_RISE_TONES] = 12.25f;
	r->parts.rise[DETECTOR_RISE_IMPULSES] = 4.13f;
	r->parts.rise[DETECTOR_RISE_BURSTS] = 2.5f;
	r->rise_seen = 15u;
	r->parts.at[DETECTOR_RISE_ENVELOPE] = (struct detector_rise_at){ 3.90625f, 500.0f,
									 1000.0f };
	r->parts.at[DETECTOR_RISE_TONES] = (struct detector_rise_at){ 3140.625f, NAN, NAN };
	r->parts.at[DETECTOR_RISE_IMPULSES] = (struct detector_rise_at){ NAN, NAN, NAN };
	r->parts.at[DETECTOR_RISE_BURSTS] = (struct detector_rise_at){ NAN, 703.125f, 734.375f };
	for (size_t i = 0; i < n_w; i++)
		w[i] = (struct evidence_window){ 0.5 + 0.1 * (double)i, 0.7f * (float)i,
						 0.3f + 0.11f * (float)i, (uint8_t)(i % 3) };
	r->windows = w;
	r->n_windows = n_w;
}

static void temp_path(char *dir, char *path, size_t cap, const char *name)
{
	strcpy(dir, "/tmp/auscult_evidence_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, cap, "%s/%s", dir, name);
}

static void round_trip(void **state)
{
	(void)state;
	struct evidence_window w[50];
	struct evidence_record r, back;
	sample_record(&r, w, 50);
	w[7].raw = NAN; /* an idle window: no scores */
	w[7].smoothed = -NAN;
	char dir[64], path[128];
	temp_path(dir, path, sizeof(path), "a.txt");
	struct auscult_err err = { "" };
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_OK);
	assert_int_equal(evidence_record_read(path, &back, &err), AUSCULT_OK);
	assert_string_equal(back.monitor, r.monitor);
	assert_string_equal(back.event_id, r.event_id);
	assert_string_equal(back.audio_file, r.audio_file);
	assert_string_equal(back.image_file, r.image_file);
	assert_true(back.audio_start_ms == r.audio_start_ms);
	assert_int_equal(back.sample_rate, r.sample_rate);
	assert_true(back.n_samples == r.n_samples);
	assert_true(back.start_ms == r.start_ms && back.end_ms == r.end_ms);
	/* 9 significant digits bring a float back bit for bit. */
	assert_memory_equal(&back.peak, &r.peak, sizeof(float));
	assert_memory_equal(&back.mean, &r.mean, sizeof(float));
	assert_memory_equal(&back.threshold, &r.threshold, sizeof(float));
	assert_int_equal(back.n_bands, 2);
	assert_memory_equal(back.bands, r.bands, 2 * sizeof(r.bands[0]));
	/* the parts the event has, bit for bit; the one it lacks stays NaN */
	assert_int_equal(back.parts_seen, r.parts_seen);
	assert_memory_equal(&back.parts.v[DETECTOR_PART_NETWORK], &r.parts.v[DETECTOR_PART_NETWORK],
			    sizeof(float));
	assert_memory_equal(&back.parts.v[DETECTOR_PART_RISE], &r.parts.v[DETECTOR_PART_RISE],
			    sizeof(float));
	assert_true(isnan(back.parts.v[DETECTOR_PART_WINDOW_HEAD]));
	/* and the rise heads, bit for bit */
	assert_int_equal(back.rise_seen, r.rise_seen);
	assert_memory_equal(back.parts.rise, r.parts.rise, sizeof(r.parts.rise));
	assert_memory_equal(&back.parts.at[DETECTOR_RISE_ENVELOPE],
			    &r.parts.at[DETECTOR_RISE_ENVELOPE], sizeof(r.parts.at[0]));
	assert_true(back.parts.at[DETECTOR_RISE_TONES].hz == 3140.625f);
	assert_true(isnan(back.parts.at[DETECTOR_RISE_TONES].band_hi_hz));
	assert_true(isnan(back.parts.at[DETECTOR_RISE_IMPULSES].hz));
	assert_memory_equal(&back.parts.at[DETECTOR_RISE_BURSTS], &r.parts.at[DETECTOR_RISE_BURSTS],
			    sizeof(r.parts.at[0]));
	assert_int_equal(back.n_windows, 50);
	assert_true(isnan(back.windows[7].raw) && isnan(back.windows[7].smoothed));
	w[7].raw = back.windows[7].raw = 0.0f;
	w[7].smoothed = back.windows[7].smoothed = 0.0f;
	for (size_t i = 0; i < 50; i++) {
		assert_memory_equal(&back.windows[i].t_s, &w[i].t_s, sizeof(double));
		assert_memory_equal(&back.windows[i].raw, &w[i].raw, sizeof(float));
		assert_memory_equal(&back.windows[i].smoothed, &w[i].smoothed, sizeof(float));
		assert_int_equal(back.windows[i].state, w[i].state);
	}
	evidence_record_free(&back);
	evidence_record_free(&back); /* safe twice */
	evidence_record_free(NULL);

	/* No image and no windows: both optional. Rewriting replaces the file whole. */
	r.image_file[0] = '\0';
	r.n_windows = 0;
	r.windows = NULL;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_OK);
	assert_int_equal(evidence_record_read(path, &back, &err), AUSCULT_OK);
	assert_string_equal(back.image_file, "");
	assert_int_equal(back.n_windows, 0);
	assert_null(back.windows);
	evidence_record_free(&back);

	/* Only the record is left in the folder: no temporary file. */
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void good_fixture_reads(void **state)
{
	(void)state;
	struct evidence_record r;
	struct auscult_err err = { "" };
	assert_int_equal(evidence_record_read(FIXTURE_DIR "/good.txt", &r, &err), AUSCULT_OK);
	assert_string_equal(r.monitor, "pump1");
	assert_int_equal(r.n_bands, 2);
	assert_int_equal(r.bands[1].band, 40);
	assert_int_equal(r.n_windows, 3);
	assert_int_equal(r.windows[2].state, 2);
	assert_true(r.windows[2].smoothed == 2.5f);
	/* a version-1 record (written before events named their parts) has none */
	assert_int_equal(r.parts_seen, 0);
	evidence_record_free(&r);
	/* version 2: the parts */
	assert_int_equal(evidence_record_read(FIXTURE_DIR "/good_v2.txt", &r, &err), AUSCULT_OK);
	assert_int_equal(r.parts_seen, (1u << DETECTOR_PART_NETWORK) | (1u << DETECTOR_PART_RISE));
	assert_true(r.parts.v[DETECTOR_PART_NETWORK] == 1.5f);
	assert_true(r.parts.v[DETECTOR_PART_RISE] == 0.75f);
	assert_true(isnan(r.parts.v[DETECTOR_PART_WINDOW_HEAD]));
	assert_int_equal(r.n_windows, 3);
	assert_int_equal(r.rise_seen, 0); /* version 2: no rise heads */
	evidence_record_free(&r);
	/* version 3: the rise part by head */
	assert_int_equal(evidence_record_read(FIXTURE_DIR "/good_v3.txt", &r, &err), AUSCULT_OK);
	assert_int_equal(r.rise_seen, (1u << DETECTOR_RISE_TONES) | (1u << DETECTOR_RISE_IMPULSES));
	assert_true(r.parts.rise[DETECTOR_RISE_TONES] == 0.5f);
	assert_true(r.parts.rise[DETECTOR_RISE_IMPULSES] == 0.25f);
	assert_true(isnan(r.parts.rise[DETECTOR_RISE_ENVELOPE]));
	/* where: a tone at 3156.25 Hz, impacts 23.4 times a second, no band for either */
	assert_true(r.parts.at[DETECTOR_RISE_TONES].hz == 3156.25f);
	assert_true(r.parts.at[DETECTOR_RISE_IMPULSES].hz == 23.4375f);
	assert_true(isnan(r.parts.at[DETECTOR_RISE_TONES].band_lo_hz));
	assert_true(isnan(r.parts.at[DETECTOR_RISE_ENVELOPE].hz));
	assert_int_equal(r.n_windows, 3);
	evidence_record_free(&r);
}

struct bad_case {
	const char *file;
	int status;
	const char *where; /* "file:line:" the message must contain */
	const char *says;  /* and this */
};

static const struct bad_case bad_cases[] = {
	{ "wrong_magic.txt", AUSCULT_ERR_FORMAT, "wrong_magic.txt:1:", "not an auscult evidence" },
	{ "wrong_version.txt", AUSCULT_ERR_VERSION, "wrong_version.txt:1:", "version 4" },
	{ "bad_part.txt", AUSCULT_ERR_FORMAT,
	  "bad_part.txt:19:", "NAME network, window_head or rise" },
	{ "repeated_part.txt", AUSCULT_ERR_FORMAT, "repeated_part.txt:19:", "not named before" },
	{ "missing_parts.txt", AUSCULT_ERR_FORMAT,
	  "missing_parts.txt:17:", "expected 'parts VALUE', found 'windows'" },
	{ "bad_rise_head.txt", AUSCULT_ERR_FORMAT,
	  "bad_rise_head.txt:22:", "NAME envelope, tones, impulses or bursts" },
	{ "repeated_rise_head.txt", AUSCULT_ERR_FORMAT,
	  "repeated_rise_head.txt:22:", "not named before" },
	{ "rise_head_without_place.txt", AUSCULT_ERR_FORMAT,
	  "rise_head_without_place.txt:22:", "'NAME VALUE HZ BAND_LO BAND_HI'" },
	{ "missing_rise_heads.txt", AUSCULT_ERR_FORMAT,
	  "missing_rise_heads.txt:20:", "expected 'rise_heads VALUE', found 'windows'" },
	{ "missing_field.txt", AUSCULT_ERR_FORMAT, "missing_field.txt:3:", "expected 'event_id" },
	{ "bad_number.txt", AUSCULT_ERR_FORMAT, "bad_number.txt:7:", "'16k' is not an integer" },
	{ "out_of_range.txt", AUSCULT_ERR_FORMAT, "out_of_range.txt:7:", "in range" },
	{ "end_before_start.txt", AUSCULT_ERR_FORMAT, "end_before_start.txt:10:", "in range" },
	{ "not_finite.txt", AUSCULT_ERR_FORMAT, "not_finite.txt:11:", "finite" },
	{ "too_many_bands.txt", AUSCULT_ERR_FORMAT, "too_many_bands.txt:14:", "'6'" },
	{ "bad_band.txt", AUSCULT_ERR_FORMAT, "bad_band.txt:15:", "SHARE in [0, 1]" },
	{ "path_in_name.txt", AUSCULT_ERR_FORMAT, "path_in_name.txt:4:", "no spaces or '/'" },
	{ "windows_out_of_order.txt", AUSCULT_ERR_FORMAT,
	  "windows_out_of_order.txt:20:", "time order" },
	{ "bad_state.txt", AUSCULT_ERR_FORMAT, "bad_state.txt:19:", "STATE 0..4" },
	{ "missing_window.txt", AUSCULT_ERR_FORMAT,
	  "missing_window.txt:20:", "expected 'window VALUE', found 'end'" },
	{ "truncated.txt", AUSCULT_ERR_TRUNCATED, "truncated.txt:19:", "incomplete" },
	{ "no_final_newline.txt", AUSCULT_ERR_TRUNCATED, "no_final_newline.txt:21:", "incomplete" },
	{ "text_after_end.txt", AUSCULT_ERR_FORMAT, "text_after_end.txt:22:", "after 'end'" },
	{ "line_too_long.txt", AUSCULT_ERR_FORMAT, "line_too_long.txt:2:", "longer than" },
};

static void bad_fixtures_name_file_and_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, c->file);
		struct evidence_record r;
		struct auscult_err err = { "" };
		int rc = evidence_record_read(path, &r, &err);
		print_message("%s -> %d %s\n", c->file, rc, err.msg);
		assert_int_equal(rc, c->status);
		assert_non_null(strstr(err.msg, c->where));
		assert_non_null(strstr(err.msg, c->says));
		evidence_record_free(&r);
		assert_null(r.windows);
	}
}

static void not_a_record_file(void **state)
{
	(void)state;
	char dir[64], path[128];
	temp_path(dir, path, sizeof(path), "empty.txt");
	struct evidence_record r;
	struct auscult_err err = { "" };
	/* Missing, a folder, empty. */
	assert_int_equal(evidence_record_read(path, &r, &err), AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, "empty.txt: cannot open"));
	assert_int_equal(evidence_record_read(dir, &r, &err), AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, "a directory"));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(evidence_record_read(path, &r, &err), AUSCULT_ERR_TRUNCATED);
	assert_non_null(strstr(err.msg, "empty.txt:1:"));
	evidence_record_free(&r);
	unlink(path);
	rmdir(dir);
}

static void write_refuses_bad_records(void **state)
{
	(void)state;
	struct evidence_window w[3];
	struct evidence_record r;
	struct auscult_err err = { "" };
	char dir[64], path[128];
	temp_path(dir, path, sizeof(path), "r.txt");

	sample_record(&r, w, 3);
	snprintf(r.audio_file, sizeof(r.audio_file), "../x.flac");
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "audio_file"));

	sample_record(&r, w, 3);
	snprintf(r.monitor, sizeof(r.monitor), "pump one");
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "monitor"));

	sample_record(&r, w, 3);
	w[2].t_s = w[1].t_s;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "window 2 is not after window 1"));

	sample_record(&r, w, 3);
	w[1].smoothed = INFINITY;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "window 1"));

	sample_record(&r, w, 3);
	r.end_ms = r.start_ms - 1;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);

	sample_record(&r, w, 3);
	r.parts.v[DETECTOR_PART_RISE] = NAN;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "part rise must be finite"));

	sample_record(&r, w, 3);
	r.parts_seen = 1u << DETECTOR_N_PARTS;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);

	/* the rise heads likewise: finite, and only those that exist */
	sample_record(&r, w, 3);
	r.parts.rise[DETECTOR_RISE_TONES] = INFINITY;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "rise head tones must be finite"));
	sample_record(&r, w, 3);
	r.parts.at[DETECTOR_RISE_ENVELOPE].band_hi_hz = -INFINITY;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);
	sample_record(&r, w, 3);
	r.rise_seen = 1u << DETECTOR_N_RISE_HEADS;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);

	sample_record(&r, w, 3);
	r.sample_rate = 0;
	assert_int_equal(evidence_record_write(path, &r, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(access(path, F_OK), -1); /* nothing was written */

	/* An unwritable place: the folder does not exist. */
	sample_record(&r, w, 3);
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/no/such/r.txt", dir);
	assert_int_equal(evidence_record_write(missing, &r, &err), AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, missing));
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(good_fixture_reads),
		cmocka_unit_test(bad_fixtures_name_file_and_line),
		cmocka_unit_test(not_a_record_file),
		cmocka_unit_test(write_refuses_bad_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
