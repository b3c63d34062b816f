/* test_evidence_tap.c - the pre-roll ring (wrap, overwrite detection), spans and their cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "evidence/evidence_tap.h"

#define RATE 1000u /* one sample per millisecond keeps the arithmetic readable */

static void init_tap(struct evidence_tap *t, double pre_s, double post_s, double max_s,
		     double latency_s)
{
	struct evidence_tap_config c = { .monitor = "pump",
					 .rate_hz = RATE,
					 .pre_roll_s = pre_s,
					 .post_roll_s = post_s,
					 .max_s = max_s,
					 .latency_s = latency_s };
	struct auscult_err err;
	assert_int_equal(evidence_tap_init(t, &c, &err), AUSCULT_OK);
}

/* Pushes n samples numbered from *next (value = index). */
static void push_ramp(struct evidence_tap *t, uint64_t *next, size_t n)
{
	float x[777];
	while (n > 0) {
		size_t k = n < 777 ? n : 777;
		for (size_t i = 0; i < k; i++)
			x[i] = (float)(*next + i);
		evidence_tap_push(t, x, k);
		*next += k;
		n -= k;
	}
}

/* The ring holds pre-roll + latency + slack; reads across the wrap return the pushed values;
 * samples the producer overwrote are reported lost, never returned. */
static void ring_wraps_and_detects_overwrite(void **state)
{
	(void)state;
	struct evidence_tap t;
	init_tap(&t, 1.0, 0.5, 10.0, 0.0);
	assert_int_equal(t.capacity, (uint64_t)((1.0 + EVIDENCE_TAP_SLACK_S) * RATE));
	uint64_t next = 0;
	push_ramp(&t, &next, 10000); /* wraps 2.5 times */
	float out[500];
	bool lost = true;
	uint64_t from = next - 2000;
	assert_int_equal(evidence_tap_read(&t, from, out, 500, &lost), 500);
	assert_false(lost);
	for (size_t i = 0; i < 500; i++)
		assert_float_equal(out[i], (float)(from + i), 0.0);
	/* Not pushed yet: nothing, not lost. */
	assert_int_equal(evidence_tap_read(&t, next, out, 10, &lost), 0);
	assert_false(lost);
	/* Short read at the producer's position. */
	assert_int_equal(evidence_tap_read(&t, next - 3, out, 10, &lost), 3);
	/* Long overwritten. */
	assert_int_equal(evidence_tap_read(&t, next - t.capacity, out, 10, &lost), 0);
	assert_true(lost);
	assert_int_equal(evidence_tap_read(&t, 0, out, 10, &lost), 0);
	assert_true(lost);
	evidence_tap_free(&t);
}

static struct pipeline_window win(double stream_s, int64_t time_ms)
{
	struct pipeline_window w;
	memset(&w, 0, sizeof(w));
	w.stream_s = stream_s;
	w.time_ms = time_ms;
	w.raw = 1.0f;
	w.smoothed = 1.0f;
	w.det.state = DETECTOR_NORMAL;
	return w;
}

/* Start and end map to samples through the window's stream position; the span runs from
 * pre_roll before the start to post_roll after the end, cut at max_s. */
static void span_from_events_and_cut_at_max(void **state)
{
	(void)state;
	struct evidence_tap t;
	init_tap(&t, 2.0, 1.0, 6.0, 3.0);
	uint64_t next = 0;
	push_ramp(&t, &next, 12000);
	int64_t base_ms = 1700000000000;
	/* A window ending at stream 12 s confirms an anomaly that started at 10.5 s. */
	struct pipeline_window w = win(12.0, base_ms + 12000);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_START;
	w.det.event.start_ms = base_ms + 10500;
	const char *base = evidence_tap_window(&t, &w, "pump-1700000010500");
	assert_string_equal(base, "20231114T221330Z-pump-1700000010500");
	struct evidence_msg m;
	assert_true(evidence_tap_take(&t, &m));
	assert_int_equal(m.kind, EVIDENCE_MSG_WINDOW);
	assert_int_equal(m.sample, 12000);
	assert_true(evidence_tap_take(&t, &m));
	assert_int_equal(m.kind, EVIDENCE_MSG_BEGIN);
	assert_int_equal(m.capture, 1);
	assert_int_equal(m.mark, 10500);
	assert_int_equal(m.sample, 8500); /* 2 s of pre-roll */
	assert_string_equal(m.base, base);
	assert_false(evidence_tap_take(&t, &m));

	/* Ends at 16 s: stop at 17 s, but max_s (6 s from 8.5 s) cuts it at 14.5 s. */
	push_ramp(&t, &next, 6000);
	w = win(18.0, base_ms + 18000);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_END;
	w.det.event.start_ms = base_ms + 10500;
	w.det.event.end_ms = base_ms + 16000;
	assert_string_equal(evidence_tap_window(&t, &w, "pump-1700000010500"), base);
	assert_true(evidence_tap_take(&t, &m));
	assert_true(evidence_tap_take(&t, &m));
	assert_int_equal(m.kind, EVIDENCE_MSG_END);
	assert_int_equal(m.mark, 16000);
	assert_int_equal(m.sample, 14500);
	evidence_tap_free(&t);
}

/* A restart of the pipeline moves the stream origin: the same stream_s maps later. */
static void restart_moves_the_origin(void **state)
{
	(void)state;
	struct evidence_tap t;
	init_tap(&t, 1.0, 1.0, 10.0, 0.0);
	uint64_t next = 0;
	push_ramp(&t, &next, 3000);
	evidence_tap_restart(&t);
	push_ramp(&t, &next, 1000);
	struct pipeline_window w = win(0.5, 500);
	assert_string_equal(evidence_tap_window(&t, &w, NULL), "");
	struct evidence_msg m;
	assert_true(evidence_tap_take(&t, &m));
	assert_int_equal(m.sample, 3500);
	/* A pre-roll older than the ring keeps what there is. */
	assert_int_equal(evidence_tap_sample_at(&t, 3500, 500, -10000), 0);
	evidence_tap_free(&t);
}

/* An end without a start (evidence attached mid-anomaly) names no files. */
static void end_without_start(void **state)
{
	(void)state;
	struct evidence_tap t;
	init_tap(&t, 1.0, 1.0, 10.0, 0.0);
	struct pipeline_window w = win(1.0, 1000);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_END;
	assert_string_equal(evidence_tap_window(&t, &w, "pump-0"), "");
	evidence_tap_free(&t);
}

/* A full queue drops messages (counted; windows leave the last few slots to an END) and a
 * dropped start is no capture. */
static void full_queue_drops(void **state)
{
	(void)state;
	struct evidence_tap t;
	init_tap(&t, 1.0, 1.0, 10.0, 0.0);
	struct pipeline_window w = win(1.0, 1000);
	for (int i = 0; i < EVIDENCE_TAP_MSGS + 5; i++)
		evidence_tap_window(&t, &w, NULL);
	assert_int_equal(atomic_load(&t.msgs_dropped), 5 + 4);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_START;
	w.det.event.start_ms = 1000;
	assert_string_equal(evidence_tap_window(&t, &w, "pump-1000"), "");
	assert_int_equal(t.capture, 0);
	evidence_tap_free(&t);
}

/* The end of a capture that began gets through a queue full of windows (a writer stalled for
 * minutes): its files were named in the event, and without it the capture ran on to max_s. */
static void end_gets_through_a_full_queue(void **state)
{
	(void)state;
	struct evidence_tap t;
	init_tap(&t, 1.0, 1.0, 600.0, 0.0);
	uint64_t next = 0;
	push_ramp(&t, &next, 2000);
	struct pipeline_window w = win(2.0, 2000);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_START;
	w.det.event.start_ms = 1500;
	const char *base = evidence_tap_window(&t, &w, "pump-1500");
	assert_true(base[0] != '\0');
	w = win(2.0, 2000);
	for (int i = 0; i < EVIDENCE_TAP_MSGS; i++)
		evidence_tap_window(&t, &w, NULL);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_END;
	w.det.event.start_ms = 1500;
	w.det.event.end_ms = 2000;
	assert_string_equal(evidence_tap_window(&t, &w, "pump-1500"), base);
	struct evidence_msg m;
	int ends = 0;
	while (evidence_tap_take(&t, &m))
		ends += m.kind == EVIDENCE_MSG_END;
	assert_int_equal(ends, 1);
	evidence_tap_free(&t);
}

/* Lossless: a push waits for a writer that holds samples, but a writer that never moves costs
 * one bounded wait, after which the samples are overwritten (and the reader told). */
static void lossless_waits_once_for_a_stuck_writer(void **state)
{
	(void)state;
	struct evidence_tap_config c = { .monitor = "pump",
					 .rate_hz = RATE,
					 .pre_roll_s = 1.0,
					 .post_roll_s = 1.0,
					 .max_s = 10.0,
					 .lossless = true };
	struct evidence_tap t;
	assert_int_equal(evidence_tap_init(&t, &c, NULL), AUSCULT_OK);
	uint64_t next = 0;
	push_ramp(&t, &next, 1000);
	atomic_store(&t.hold_from, 500); /* a writer that has read up to sample 500 */
	push_ramp(&t, &next, 3 * t.capacity);
	assert_int_equal(atomic_load(&t.waits), 1);
	assert_int_equal(t.abandoned, 500);
	float out[4];
	bool lost = false;
	assert_int_equal(evidence_tap_read(&t, 500, out, 4, &lost), 0);
	assert_true(lost);
	/* The writer moves on: a new hold is waited for again. */
	atomic_store(&t.hold_from, next - 10);
	atomic_store(&t.waits, 0);
	push_ramp(&t, &next, t.capacity);
	assert_int_equal(atomic_load(&t.waits), 1);
	evidence_tap_free(&t);
}

/* Lossless: with several captures queued and none taken yet (a writer behind), the push holds
 * from the oldest one's span, not the newest's: the older sound used to be overwritten. */
static void lossless_holds_the_oldest_unclaimed_span(void **state)
{
	(void)state;
	struct evidence_tap_config c = { .monitor = "pump",
					 .rate_hz = RATE,
					 .pre_roll_s = 1.0,
					 .post_roll_s = 0.5,
					 .max_s = 10.0,
					 .lossless = true };
	struct evidence_tap t;
	assert_int_equal(evidence_tap_init(&t, &c, NULL), AUSCULT_OK);
	uint64_t next = 0;
	int64_t base_ms = 1700000000000;
	push_ramp(&t, &next, 2500);
	struct pipeline_window w = win(2.5, base_ms + 2500);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_START;
	w.det.event.start_ms = base_ms + 2000; /* span from 1000 */
	assert_true(evidence_tap_window(&t, &w, "pump-1700000002000")[0] != '\0');
	push_ramp(&t, &next, 300);
	w = win(2.8, base_ms + 2800);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_END;
	w.det.event.start_ms = base_ms + 2000;
	w.det.event.end_ms = base_ms + 2700;
	evidence_tap_window(&t, &w, "pump-1700000002000");
	push_ramp(&t, &next, 200);
	w = win(3.0, base_ms + 3000);
	w.det.has_event = 1;
	w.det.event.type = DETECTOR_EVENT_START;
	w.det.event.start_ms = base_ms + 2900; /* span from 1900 */
	evidence_tap_window(&t, &w, "pump-1700000002900");
	push_ramp(&t, &next, t.capacity);
	assert_int_equal(atomic_load(&t.waits), 1);
	assert_int_equal(t.abandoned, 1000);
	evidence_tap_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_wraps_and_detects_overwrite),
		cmocka_unit_test(span_from_events_and_cut_at_max),
		cmocka_unit_test(restart_moves_the_origin),
		cmocka_unit_test(end_without_start),
		cmocka_unit_test(full_queue_drops),
		cmocka_unit_test(end_gets_through_a_full_queue),
		cmocka_unit_test(lossless_waits_once_for_a_stuck_writer),
		cmocka_unit_test(lossless_holds_the_oldest_unclaimed_span),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
