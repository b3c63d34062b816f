/* test_json_writer.c - the JSON builder: escaping, numbers, nesting, streams, layout, misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_writer.h"

static void builds_nested_payload(void **state)
{
	(void)state;
	char buf[512];
	struct json_writer w;
	json_writer_init(&w, buf, sizeof(buf));
	json_object_open(&w);
	json_field_string(&w, "id", "pump-1700000000123-7");
	json_field_string(&w, "type", "start");
	json_field_time_ms(&w, "start", 1700000000123LL);
	json_key(&w, "end");
	json_null(&w);
	json_field_double(&w, "peak", 2.5);
	json_field_int(&w, "n", -42);
	json_field_uint(&w, "u", 18446744073709551615ull);
	json_field_bool(&w, "ok", true);
	json_key(&w, "bands");
	json_array_open(&w);
	for (int i = 0; i < 2; i++) {
		json_object_open(&w);
		json_field_int(&w, "band", i);
		json_field_double(&w, "share", 0.25 * (i + 1));
		json_object_close(&w);
	}
	json_array_close(&w);
	json_key(&w, "empty");
	json_array_open(&w);
	json_array_close(&w);
	json_object_close(&w);
	size_t len = 0;
	struct auscult_err err;
	assert_int_equal(json_writer_finish(&w, &len, &err), AUSCULT_OK);
	const char *want = "{\"id\":\"pump-1700000000123-7\",\"type\":\"start\","
			   "\"start\":\"2023-11-14T22:13:20.123Z\",\"end\":null,\"peak\":2.5,"
			   "\"n\":-42,\"u\":18446744073709551615,\"ok\":true,"
			   "\"bands\":[{\"band\":0,\"share\":0.25},{\"band\":1,\"share\":0.5}],"
			   "\"empty\":[]}";
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
}

static void escapes_strings(void **state)
{
	(void)state;
	char buf[256];
	struct json_writer w;
	json_writer_init(&w, buf, sizeof(buf));
	json_array_open(&w);
	json_string(&w, "q\"b\\s/\n\r\t\b\f\x01\x1f");
	json_string(&w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x8a"); /* valid UTF-8 passes */
	json_string(&w, "bad\xff"
			"x\xc3");        /* invalid bytes -> U+FFFD */
	json_string(&w, "\xed\xa0\x80"); /* a surrogate is invalid */
	json_string(&w, "\xc0\xaf");     /* overlong '/' is invalid */
	json_string(&w, NULL);
	json_array_close(&w);
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
	assert_string_equal(buf, "[\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\","
				 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x8a\","
				 "\"bad\\ufffdx\\ufffd\","
				 "\"\\ufffd\\ufffd\\ufffd\","
				 "\"\\ufffd\\ufffd\",null]");
}

static void numbers_are_finite_and_round_trip(void **state)
{
	(void)state;
	char buf[256];
	struct json_writer w;
	json_writer_init(&w, buf, sizeof(buf));
	json_array_open(&w);
	json_double(&w, NAN);
	json_double(&w, INFINITY);
	json_double(&w, -INFINITY);
	json_double(&w, 0.0);
	json_double(&w, 1e-7);
	json_double(&w, 123456.789);
	json_double_digits(&w, 3.14159265, 3);
	json_double(&w, (double)0.1f);
	json_array_close(&w);
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
	assert_string_equal(buf, "[null,null,null,0,1e-07,123456.789,3.14,0.1000000015]");
	/* A float written with 10 digits reads back to the same float (tolerance: exact). */
	float f = 0.123456789f;
	json_writer_init(&w, buf, sizeof(buf));
	json_double(&w, f);
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
	assert_true(strtof(buf, NULL) == f);
}

static void floats_are_shortest_round_trip(void **state)
{
	(void)state;
	char buf[256];
	struct json_writer w;
	json_writer_init(&w, buf, sizeof(buf));
	json_array_open(&w);
	json_float(&w, 0.1f);
	json_float(&w, 1.873f);
	json_float(&w, 2.41f);
	json_float(&w, -0.0f);
	json_float(&w, NAN);
	json_float(&w, 16777216.0f);
	json_array_close(&w);
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
	assert_string_equal(buf, "[0.1,1.873,2.41,-0,null,16777216]");
	/* Any finite float reads back exactly (10000 pseudo-random bit patterns). */
	uint32_t x = 12345u;
	for (int i = 0; i < 10000; i++) {
		x = x * 1664525u + 1013904223u;
		float f;
		memcpy(&f, &x, sizeof(f));
		if (!isfinite(f))
			continue;
		json_writer_init(&w, buf, sizeof(buf));
		json_float(&w, f);
		assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
		if (strtof(buf, NULL) != f)
			fail_msg("%s does not read back as %.9g", buf, (double)f);
	}
}

static void times_are_utc_milliseconds(void **state)
{
	(void)state;
	char buf[64];
	struct json_writer w;
	json_writer_init(&w, buf, sizeof(buf));
	json_time_ms(&w, 0);
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
	assert_string_equal(buf, "\"1970-01-01T00:00:00.000Z\"");
	json_writer_init(&w, buf, sizeof(buf));
	json_time_ms(&w, -1); /* floor, not truncation */
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
	assert_string_equal(buf, "\"1969-12-31T23:59:59.999Z\"");
}

static void overflow_is_reported_with_size(void **state)
{
	(void)state;
	char buf[16];
	memset(buf, 'Z', sizeof(buf));
	struct json_writer w;
	json_writer_init(&w, buf, sizeof(buf));
	json_object_open(&w);
	json_field_string(&w, "monitor", "compressor-hall-2");
	json_object_close(&w);
	struct auscult_err err;
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_NOMEM);
	assert_string_equal(err.msg, "JSON payload needs 32 bytes but the buffer holds 16; "
				     "enlarge the buffer");
	assert_int_equal(strlen(buf), 15); /* truncated but terminated, never past the end */
	/* Exactly fitting works: 31 characters + NUL. */
	char exact[32];
	json_writer_init(&w, exact, sizeof(exact));
	json_object_open(&w);
	json_field_string(&w, "monitor", "compressor-hall-2");
	json_object_close(&w);
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_OK);
	assert_string_equal(exact, "{\"monitor\":\"compressor-hall-2\"}");
}

static void misuse_is_named(void **state)
{
	(void)state;
	char buf[64];
	struct json_writer w;
	struct auscult_err err;

	json_writer_init(&w, buf, sizeof(buf));
	json_object_open(&w);
	json_int(&w, 1);
	json_object_close(&w);
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "JSON writer misuse: a value inside an object without a key");

	json_writer_init(&w, buf, sizeof(buf));
	json_array_open(&w);
	json_object_close(&w);
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "JSON writer misuse: an object closed that is not open");

	json_writer_init(&w, buf, sizeof(buf));
	json_object_open(&w);
	json_key(&w, "a");
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "JSON writer misuse: 1 container(s) left open");

	json_writer_init(&w, buf, sizeof(buf));
	json_int(&w, 1);
	json_int(&w, 2);
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(
		err.msg, "JSON writer misuse: a second value after the complete top-level value");

	json_writer_init(&w, buf, sizeof(buf));
	for (int i = 0; i < JSON_WRITER_MAX_DEPTH + 1; i++)
		json_array_open(&w);
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "JSON writer misuse: nesting deeper than JSON_WRITER_MAX_DEPTH");

	json_writer_init(&w, buf, sizeof(buf));
	json_key(&w, "k");
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "JSON writer misuse: a key outside an object");
}

/* The same calls give the same bytes into a buffer and into a stream. */
static void write_sample(struct json_writer *w)
{
	json_object_open(w);
	json_field_string(w, "file", "a \"b\"\n\xff.wav");
	json_field_double(w, "score", 2.5);
	json_key(w, "ids");
	json_array_open(w);
	json_uint(w, 0);
	json_null(w);
	json_array_close(w);
	json_object_close(w);
}

static void streams_to_a_file(void **state)
{
	(void)state;
	char buf[256];
	struct json_writer w;
	json_writer_init(&w, buf, sizeof(buf));
	write_sample(&w);
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);

	char *text = NULL;
	size_t text_len = 0;
	FILE *f = open_memstream(&text, &text_len);
	assert_non_null(f);
	json_writer_init_file(&w, f);
	write_sample(&w);
	size_t len = 0;
	assert_int_equal(json_writer_finish(&w, &len, NULL), AUSCULT_OK);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, buf);
	assert_int_equal(len, strlen(buf));
	free(text);

	/* Misuse is still found; a missing stream is misuse too. */
	struct auscult_err err;
	f = open_memstream(&text, &text_len);
	assert_non_null(f);
	json_writer_init_file(&w, f);
	json_array_open(&w);
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "JSON writer misuse: 1 container(s) left open");
	fclose(f);
	free(text);
	json_writer_init_file(&w, NULL);
	json_null(&w);
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "JSON writer misuse: no output stream");
}

static void stream_write_failure_is_reported(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();              /* no /dev/full on this system */
	setvbuf(f, NULL, _IONBF, 0); /* every write reaches the device and fails at once */
	struct json_writer w;
	struct auscult_err err;
	json_writer_init_file(&w, f);
	write_sample(&w);
	assert_int_equal(json_writer_finish(&w, NULL, &err), AUSCULT_ERR_IO);
	assert_string_equal(err.msg, "writing the JSON output failed: No space left on device");
	fclose(f);
}

/* The layout `auscult eval --json` prints: spaced items, some starting indented lines. */
static void spaced_layout_with_line_breaks(void **state)
{
	(void)state;
	char buf[512];
	struct json_writer w;
	json_writer_init(&w, buf, sizeof(buf));
	json_writer_spaced(&w);
	json_object_open(&w);
	json_field_string(&w, "model", "m.am");
	json_field_uint(&w, "files_failed", 0);
	json_line_break(&w, 1);
	json_key(&w, "machines");
	json_array_open(&w);
	for (int i = 0; i < 2; i++) {
		json_line_break(&w, 2);
		json_object_open(&w);
		json_field_int(&w, "id", i);
		json_field_double_digits(&w, "auc", 0.123456789012 * (i + 1), 9);
		json_object_close(&w);
	}
	json_line_break(&w, 1);
	json_array_close(&w);
	json_line_break(&w, 1);
	json_key(&w, "empty");
	json_array_open(&w);
	json_array_close(&w);
	json_object_close(&w);
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
	assert_string_equal(buf, "{\"model\": \"m.am\", \"files_failed\": 0,\n"
				 " \"machines\": [\n"
				 "  {\"id\": 0, \"auc\": 0.123456789},\n"
				 "  {\"id\": 1, \"auc\": 0.246913578}\n"
				 " ],\n"
				 " \"empty\": []}");

	/* Line breaks alone (compact otherwise): an array of items one per line. */
	json_writer_init(&w, buf, sizeof(buf));
	json_array_open(&w);
	json_line_break(&w, 2);
	json_int(&w, 1);
	json_line_break(&w, 2);
	json_int(&w, 2);
	json_line_break(&w, 0);
	json_array_close(&w);
	assert_int_equal(json_writer_finish(&w, NULL, NULL), AUSCULT_OK);
	assert_string_equal(buf, "[\n  1,\n  2\n]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builds_nested_payload),
		cmocka_unit_test(escapes_strings),
		cmocka_unit_test(numbers_are_finite_and_round_trip),
		cmocka_unit_test(floats_are_shortest_round_trip),
		cmocka_unit_test(times_are_utc_milliseconds),
		cmocka_unit_test(overflow_is_reported_with_size),
		cmocka_unit_test(misuse_is_named),
		cmocka_unit_test(streams_to_a_file),
		cmocka_unit_test(stream_write_failure_is_reported),
		cmocka_unit_test(spaced_layout_with_line_breaks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
