/* test_payloads.c - exact score/state/event payload text, the score's evidence health, escaping,
 * null end, and overflow. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "publish/payloads.h"

/* 2024-05-01T12:00:00.500Z */
#define T_MS 1714564800500LL

static void test_score(void **state)
{
	(void)state;
	char buf[PAYLOAD_MAX_BYTES];
	size_t len = 0;
	const struct payload_evidence ok = { .state = PAYLOAD_EVIDENCE_OK };
	assert_int_equal(payload_score(buf, sizeof(buf), &len, T_MS, "pump1", 0.5f, 1.25f, 2.0f,
				       DETECTOR_NORMAL, &ok, NULL),
			 AUSCULT_OK);
	assert_string_equal(buf,
			    "{\"time\":\"2024-05-01T12:00:00.500Z\",\"monitor\":\"pump1\","
			    "\"raw\":0.5,\"smoothed\":1.25,\"threshold\":2,\"state\":\"normal\","
			    "\"evidence\":\"ok\"}");
	assert_int_equal(len, strlen(buf));
}

/* "evidence": "off" when disabled (or no status given), the fault object while failing. */
static void test_score_evidence(void **state)
{
	(void)state;
	char buf[PAYLOAD_MAX_BYTES];
	const struct payload_evidence off = { .state = PAYLOAD_EVIDENCE_OFF };
	assert_int_equal(payload_score(buf, sizeof(buf), NULL, T_MS, "pump1", 0.5f, 1.25f, 2.0f,
				       DETECTOR_ANOMALY, &off, NULL),
			 AUSCULT_OK);
	assert_non_null(strstr(buf, ",\"state\":\"anomaly\",\"evidence\":\"off\"}"));
	assert_int_equal(payload_score(buf, sizeof(buf), NULL, T_MS, "pump1", 0.5f, 1.25f, 2.0f,
				       DETECTOR_ANOMALY, NULL, NULL),
			 AUSCULT_OK);
	assert_non_null(strstr(buf, ",\"evidence\":\"off\"}"));
	const struct payload_evidence bad = {
		.state = PAYLOAD_EVIDENCE_FAULT,
		.fault = "/ev/pump: cannot create the folder: Read-only \"file\" system",
		.errors = 3,
		.since_ms = T_MS - 500,
	};
	assert_int_equal(payload_score(buf, sizeof(buf), NULL, T_MS, "pump1", 0.5f, 1.25f, 2.0f,
				       DETECTOR_NORMAL, &bad, NULL),
			 AUSCULT_OK);
	assert_string_equal(
		buf, "{\"time\":\"2024-05-01T12:00:00.500Z\",\"monitor\":\"pump1\","
		     "\"raw\":0.5,\"smoothed\":1.25,\"threshold\":2,\"state\":\"normal\","
		     "\"evidence\":{\"fault\":\"/ev/pump: cannot create the folder: Read-only "
		     "\\\"file\\\" system\",\"errors\":3,\"since\":\"2024-05-01T12:00:00.000Z\"}}");
}

/* A long fault text is cut to PAYLOAD_FAULT_MAX bytes between characters (a 2-byte 'é' is never
 * split), and the worst case - a 64-byte name and a text that escapes to 6 bytes a byte - fits. */
static void test_score_fault_bounded(void **state)
{
	(void)state;
	char buf[PAYLOAD_MAX_BYTES], text[600];
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	/* 'é' (C3 A9) across the cut: bytes PAYLOAD_FAULT_MAX - 1 and PAYLOAD_FAULT_MAX. */
	text[PAYLOAD_FAULT_MAX - 1] = (char)0xC3;
	text[PAYLOAD_FAULT_MAX] = (char)0xA9;
	struct payload_evidence bad = {
		.state = PAYLOAD_EVIDENCE_FAULT, .fault = text, .errors = UINT64_MAX, .since_ms = 0
	};
	assert_int_equal(payload_score(buf, sizeof(buf), NULL, T_MS, "pump1", 0.5f, 1.25f, 2.0f,
				       DETECTOR_NORMAL, &bad, NULL),
			 AUSCULT_OK);
	const char *f = strstr(buf, "\"fault\":\"");
	assert_non_null(f);
	f += strlen("\"fault\":\"");
	const char *q = strchr(f, '"');
	assert_non_null(q);
	assert_int_equal(q - f, PAYLOAD_FAULT_MAX - 1); /* the 'a's before the 'é' */
	assert_null(strstr(buf, "\\ufffd"));
	char name[65];
	memset(name, '\n', 64); /* escapes to 2 bytes each */
	name[64] = '\0';
	memset(text, 1, sizeof(text) - 1); /* control bytes escape to \u0001: 6 bytes each */
	bad.since_ms = 253402300799999LL;  /* 9999-12-31T23:59:59.999Z */
	size_t len = 0;
	assert_int_equal(payload_score(buf, sizeof(buf), &len, T_MS, name, -1.234567891e30f,
				       1.234567891e-12f, 3.4e38f, DETECTOR_STARTING, &bad, NULL),
			 AUSCULT_OK);
	assert_true(len < PAYLOAD_MAX_BYTES);
	printf("largest score payload: %zu bytes of %d\n", len, PAYLOAD_MAX_BYTES);
}

/* A name that needs escaping stays valid JSON (the config forbids such names; be safe anyway). */
static void test_escaping(void **state)
{
	(void)state;
	char buf[PAYLOAD_MAX_BYTES];
	assert_int_equal(payload_score(buf, sizeof(buf), NULL, 0, "a\"b\\c\n", 0.0f, 0.0f, 1.0f,
				       DETECTOR_IDLE, NULL, NULL),
			 AUSCULT_OK);
	assert_string_equal(buf,
			    "{\"time\":\"1970-01-01T00:00:00.000Z\",\"monitor\":\"a\\\"b\\\\c\\n\","
			    "\"raw\":0,\"smoothed\":0,\"threshold\":1,\"state\":\"idle\","
			    "\"evidence\":\"off\"}");
}

static void test_state(void **state)
{
	(void)state;
	assert_string_equal(payload_state(DETECTOR_ANOMALY), "anomaly");
	assert_string_equal(payload_state(DETECTOR_FAULT), "fault");
	assert_string_equal(payload_state(DETECTOR_NORMAL), "normal");
}

static void make_event(struct detector_event *ev, enum detector_event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->start_ms = T_MS;
	ev->end_ms = type == DETECTOR_EVENT_END ? T_MS + 15250 : -1;
	ev->duration_s = type == DETECTOR_EVENT_END ? 15.25 : 1.5;
	ev->peak = 4.5f;
	ev->mean = 3.25f;
	ev->threshold = 1.5f;
	ev->ended_by = type == DETECTOR_EVENT_END ? DETECTOR_END_NORMAL : DETECTOR_END_NONE;
	ev->n_bands = 2;
	ev->bands[0] = (struct detector_band){ 100, 4000.0f, 4250.5f, 0.75f };
	ev->bands[1] = (struct detector_band){ 3, 46.875f, 93.75f, 0.125f };
}

static void test_event(void **state)
{
	(void)state;
	char buf[PAYLOAD_MAX_BYTES];
	struct detector_event ev;
	make_event(&ev, DETECTOR_EVENT_START);
	assert_int_equal(payload_event(buf, sizeof(buf), NULL, "pump1", &ev, NULL), AUSCULT_OK);
	assert_string_equal(
		buf, "{\"id\":\"pump1-1714564800500\",\"type\":\"start\",\"monitor\":\"pump1\","
		     "\"start\":\"2024-05-01T12:00:00.500Z\",\"end\":null,\"duration_s\":1.5,"
		     "\"peak\":4.5,\"mean\":3.25,\"threshold\":1.5,\"ended_by\":null,\"bands\":["
		     "{\"band\":100,\"hz_low\":4000,\"hz_high\":4250.5,\"share\":0.75},"
		     "{\"band\":3,\"hz_low\":46.875,\"hz_high\":93.75,\"share\":0.125}]}");
	make_event(&ev, DETECTOR_EVENT_END);
	ev.n_bands = 0;
	assert_int_equal(payload_event(buf, sizeof(buf), NULL, "pump1", &ev, NULL), AUSCULT_OK);
	assert_string_equal(
		buf, "{\"id\":\"pump1-1714564800500\",\"type\":\"end\",\"monitor\":\"pump1\","
		     "\"start\":\"2024-05-01T12:00:00.500Z\",\"end\":\"2024-05-01T12:00:15.750Z\","
		     "\"duration_s\":15.25,\"peak\":4.5,\"mean\":3.25,\"threshold\":1.5,"
		     "\"ended_by\":\"normal\",\"bands\":[],\"evidence\":null}");
	/* Each cause by its name. */
	static const char *const causes[] = { [DETECTOR_END_IDLE] = "\"ended_by\":\"idle\"",
					      [DETECTOR_END_FAULT] = "\"ended_by\":\"fault\"",
					      [DETECTOR_END_STOPPED] = "\"ended_by\":\"stopped\"" };
	for (int c = DETECTOR_END_IDLE; c <= DETECTOR_END_STOPPED; c++) {
		ev.ended_by = (enum detector_end_cause)c;
		assert_int_equal(payload_event(buf, sizeof(buf), NULL, "pump1", &ev, NULL),
				 AUSCULT_OK);
		assert_non_null(strstr(buf, causes[c]));
	}
	ev.ended_by = DETECTOR_END_NORMAL;
	/* With evidence: the three files, relative to evidence.dir. */
	assert_int_equal(payload_event_evidence(buf, sizeof(buf), NULL, "pump1", &ev,
						"pump1/20240501T120000Z-pump1-1714564800500", NULL),
			 AUSCULT_OK);
	assert_non_null(strstr(buf,
			       ",\"bands\":[],\"evidence\":{"
			       "\"audio\":\"pump1/20240501T120000Z-pump1-1714564800500.flac\","
			       "\"image\":\"pump1/20240501T120000Z-pump1-1714564800500.png\","
			       "\"record\":\"pump1/20240501T120000Z-pump1-1714564800500.txt\"}}"));
	/* The parts the event has, after the bands: here the network and the rise heads. */
	ev.parts = (struct detector_parts){
		.v = { 1.25f, 0.5f, 9.875f },
		.rise = { 0.0f, 9.875f, 0.0f, 0.0f },
		.at = { { NAN, NAN, NAN },
			{ 3156.25f, NAN, NAN },
			{ NAN, NAN, NAN },
			{ NAN, NAN, NAN } },
	};
	ev.parts_seen = 1u << DETECTOR_PART_NETWORK | 1u << DETECTOR_PART_RISE;
	assert_int_equal(payload_event_evidence(buf, sizeof(buf), NULL, "pump1", &ev, NULL, NULL),
			 AUSCULT_OK);
	assert_non_null(strstr(buf, ",\"bands\":[],\"parts\":{\"network\":1.25,\"rise\":9.875},"
				    "\"evidence\":null}"));
	/* ... and the rise part by head after them, the heads the event has: a tone heard it */
	ev.rise_seen = 1u << DETECTOR_RISE_ENVELOPE | 1u << DETECTOR_RISE_TONES;
	assert_int_equal(payload_event_evidence(buf, sizeof(buf), NULL, "pump1", &ev, NULL, NULL),
			 AUSCULT_OK);
	assert_non_null(strstr(buf, "\"parts\":{\"network\":1.25,\"rise\":9.875},"
				    "\"rise_heads\":{\"envelope\":0,\"tones\":9.875},"
				    "\"rise_at\":{\"tones\":{\"hz\":3156}},\"evidence\":null}"));
	/* an envelope's rate and band, an impulse rate */
	ev.rise_seen = 7u;
	ev.parts.at[DETECTOR_RISE_ENVELOPE] = (struct detector_rise_at){ 12.20703125f, 2500, 3000 };
	ev.parts.at[DETECTOR_RISE_IMPULSES] = (struct detector_rise_at){ 23.4375f, NAN, NAN };
	assert_int_equal(payload_event_evidence(buf, sizeof(buf), NULL, "pump1", &ev, NULL, NULL),
			 AUSCULT_OK);
	assert_non_null(
		strstr(buf, "\"rise_at\":{\"envelope\":{\"rate_hz\":12.21,\"band_hz\":[2500,3000]},"
			    "\"tones\":{\"hz\":3156},\"impulses\":{\"rate_hz\":23.44}},"));
	/* a burst's band, and no rate */
	ev.rise_seen = 1u << DETECTOR_RISE_BURSTS;
	ev.parts.rise[DETECTOR_RISE_BURSTS] = 3.5f;
	ev.parts.at[DETECTOR_RISE_BURSTS] = (struct detector_rise_at){ NAN, 703.125f, 734.375f };
	assert_int_equal(payload_event_evidence(buf, sizeof(buf), NULL, "pump1", &ev, NULL, NULL),
			 AUSCULT_OK);
	assert_non_null(strstr(buf, "\"rise_heads\":{\"bursts\":3.5},"
				    "\"rise_at\":{\"bursts\":{\"band_hz\":[703.1,734.4]}},"));
}

/* The largest event (64-byte name, five bands, three parts and four rise heads, long numbers) fits PAYLOAD_MAX_BYTES; a small
 * buffer is refused, not sent truncated. */
static void test_sizes(void **state)
{
	(void)state;
	char buf[PAYLOAD_MAX_BYTES];
	char name[65];
	memset(name, 'x', 64);
	name[64] = '\0';
	struct detector_event ev;
	make_event(&ev, DETECTOR_EVENT_END);
	ev.n_bands = 5;
	for (int i = 0; i < 5; i++)
		ev.bands[i] = (struct detector_band){ 127, 7654.321f, 7999.999f, 0.123456789f };
	ev.peak = 1.234567891e-12f;
	ev.mean = -1.234567891e30f;
	ev.parts = (struct detector_parts){
		.v = { -1.234567891e30f, -1.234567891e30f, -1.234567891e30f },
		.rise = { -1.234567891e30f, -1.234567891e30f, -1.234567891e30f, -1.234567891e30f },
	};
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++)
		ev.parts.at[h] = (struct detector_rise_at){ -1.234567891e30f, -1.234567891e30f,
							    -1.234567891e30f };
	ev.parts_seen = 7u;
	ev.rise_seen = 15u;
	ev.duration_s = 123456789.123456789;
	size_t len = 0;
	assert_int_equal(payload_event(buf, sizeof(buf), &len, name, &ev, NULL), AUSCULT_OK);
	print_message("largest event: %zu bytes\n", len);
	assert_true(len < 1200); /* 1,125 with four rise heads */
	/* ... and with the longest evidence names (64-byte monitor in the id and the folder). */
	char base[256];
	snprintf(base, sizeof(base), "%s/20240501T120000Z-%s-1714564800500", name, name);
	assert_int_equal(payload_event_evidence(buf, sizeof(buf), &len, name, &ev, base, NULL),
			 AUSCULT_OK);
	print_message("with evidence: %zu bytes\n", len);
	assert_true(len < PAYLOAD_MAX_BYTES - 256); /* 1,649 with four rise heads */
	struct auscult_err err = { { 0 } };
	char small[40];
	assert_int_not_equal(payload_event(small, sizeof(small), NULL, name, &ev, &err),
			     AUSCULT_OK);
	assert_true(strlen(err.msg) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_score_evidence),
		cmocka_unit_test(test_score_fault_bounded),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
