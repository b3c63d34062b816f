/* test_detector.c - hysteresis, anomaly events and their statistics, idle, fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "detect/detector.h"

static void init_det(struct detector *d, uint32_t anomaly_after, uint32_t normal_after)
{
	struct detector_config cfg;
	detector_config_defaults(&cfg);
	cfg.threshold = 1.0f;
	cfg.anomaly_after = anomaly_after;
	cfg.normal_after = normal_after;
	cfg.n_mels = 4;
	cfg.fmin_hz = 0.0f;
	cfg.fmax_hz = 8000.0f;
	assert_int_equal(detector_init(d, &cfg, NULL), AUSCULT_OK);
}

/*
 * Windows at t = 1..11 s (smoothed scores), threshold 1, anomaly after 3, normal after 2:
 *   0.5 | 2 2 0.5 (run of 2: not enough) | 2 3 4 -> START at t7, begun at t5
 *   0.5 (dip) 2 (the dip was part of it) 0.5 0.5 -> END at t11, ended at t10
 * Anomaly windows t5..t9: scores 2 3 4 0.5 2: peak 4, mean 11.5 / 5 = 2.3; duration 5 s.
 */
static void test_hysteresis_events(void **state)
{
	(void)state;
	struct detector d;
	struct detector_output out;
	init_det(&d, 3, 2);
	assert_int_equal(detector_get_state(&d), DETECTOR_STARTING);
	const float sc[] = { 0.5f, 2, 2, 0.5f, 2, 3, 4, 0.5f, 2, 0.5f, 0.5f };
	const float bands[4] = { 1.0f, 0.0f, 0.0f, 3.0f };
	for (int i = 0; i < 11; i++) {
		int64_t t = (int64_t)(i + 1) * 1000;
		detector_update(&d, t, sc[i], 0, bands, NULL, &out);
		if (i == 0) {
			assert_true(out.state_changed);
			assert_int_equal(out.previous, DETECTOR_STARTING);
			assert_int_equal(out.state, DETECTOR_NORMAL);
		} else if (i == 6) {
			assert_true(out.state_changed);
			assert_int_equal(out.state, DETECTOR_ANOMALY);
			assert_true(out.has_event);
			assert_int_equal(out.event.type, DETECTOR_EVENT_START);
			assert_int_equal(out.event.start_ms, 5000);
			assert_int_equal(out.event.end_ms, -1);
			assert_int_equal(out.event.ended_by, DETECTOR_END_NONE);
			assert_float_equal(out.event.duration_s, 2.0, 1e-9);
			assert_float_equal(out.event.peak, 4.0f, 1e-6);
			assert_float_equal(out.event.mean, 3.0f, 1e-6);
		} else if (i == 10) {
			assert_true(out.state_changed);
			assert_int_equal(out.state, DETECTOR_NORMAL);
			assert_true(out.has_event);
			assert_int_equal(out.event.type, DETECTOR_EVENT_END);
			assert_int_equal(out.event.start_ms, 5000);
			assert_int_equal(out.event.end_ms, 10000);
			assert_int_equal(out.event.ended_by, DETECTOR_END_NORMAL);
			assert_float_equal(out.event.duration_s, 5.0, 1e-9);
			assert_float_equal(out.event.peak, 4.0f, 1e-6);
			assert_float_equal(out.event.mean, 2.3f, 1e-6);
			assert_float_equal(out.event.threshold, 1.0f, 0.0);
			/* Band 3 carries 3/4 of the error, band 0 the rest; empty bands are not named. */
			assert_int_equal(out.event.n_bands, 2);
			assert_int_equal(out.event.bands[0].band, 3);
			assert_float_equal(out.event.bands[0].share, 0.75f, 1e-6);
			assert_int_equal(out.event.bands[1].band, 0);
			assert_float_equal(out.event.bands[1].share, 0.25f, 1e-6);
			/* 4 Slaney mel bands over 0-8 kHz: band 0 starts at 0 Hz, band 3 ends at 8 kHz */
			assert_float_equal(out.event.bands[1].hz_low, 0.0f, 1e-3);
			assert_float_equal(out.event.bands[0].hz_high, 8000.0f, 0.5);
			assert_true(out.event.bands[0].hz_low < out.event.bands[0].hz_high);
		} else {
			assert_false(out.state_changed);
			assert_false(out.has_event);
		}
	}
	detector_free(&d);
}

/* Exactly at the threshold is not above it. */
static void test_threshold_is_strict(void **state)
{
	(void)state;
	struct detector d;
	struct detector_output out;
	init_det(&d, 1, 1);
	detector_update(&d, 0, 1.0f, 0, NULL, NULL, &out);
	assert_int_equal(out.state, DETECTOR_NORMAL);
	detector_update(&d, 1, 1.0001f, 0, NULL, NULL, &out);
	assert_int_equal(out.state, DETECTOR_ANOMALY);
	assert_true(out.has_event);
	assert_int_equal(out.event.n_bands, 0); /* no band errors given */
	detector_free(&d);
}

/* An idle window during an anomaly ends it at once; sound returning is normal. */
static void test_idle(void **state)
{
	(void)state;
	struct detector d;
	struct detector_output out;
	init_det(&d, 1, 5);
	detector_update(&d, 1000, 5.0f, 0, NULL, NULL, &out);
	assert_int_equal(out.state, DETECTOR_ANOMALY);
	assert_int_equal(out.previous, DETECTOR_STARTING);
	detector_update(&d, 1500, 5.0f, 1, NULL, NULL, &out);
	assert_int_equal(out.state, DETECTOR_IDLE);
	assert_true(out.has_event);
	assert_int_equal(out.event.type, DETECTOR_EVENT_END);
	assert_int_equal(out.event.end_ms, 1500);
	assert_int_equal(out.event.ended_by, DETECTOR_END_IDLE);
	assert_float_equal(out.event.duration_s, 0.5, 1e-9);
	detector_update(&d, 2000, 0.2f, 1, NULL, NULL, &out);
	assert_false(out.state_changed);
	detector_update(&d, 2500, 0.2f, 0, NULL, NULL, &out);
	assert_true(out.state_changed);
	assert_int_equal(out.state, DETECTOR_NORMAL);
	assert_false(out.has_event);
	detector_free(&d);
}

static void test_fault(void **state)
{
	(void)state;
	struct detector d;
	struct detector_output out;
	init_det(&d, 2, 2);
	detector_update(&d, 1000, 5.0f, 0, NULL, NULL, &out);
	detector_update(&d, 2000, 5.0f, 0, NULL, NULL, &out);
	assert_int_equal(out.state, DETECTOR_ANOMALY);
	detector_set_fault(&d, 4000, &out);
	assert_int_equal(out.state, DETECTOR_FAULT);
	assert_true(out.has_event);
	assert_int_equal(out.event.type, DETECTOR_EVENT_END);
	assert_int_equal(out.event.start_ms, 1000);
	assert_int_equal(out.event.ended_by, DETECTOR_END_FAULT);
	assert_float_equal(out.event.duration_s, 3.0, 1e-9);
	detector_set_fault(&d, 5000, &out);
	assert_false(out.state_changed);
	assert_false(out.has_event);
	/* Back with a high score: normal first, the run must build up again */
	detector_update(&d, 6000, 5.0f, 0, NULL, NULL, &out);
	assert_int_equal(out.previous, DETECTOR_FAULT);
	assert_int_equal(out.state, DETECTOR_NORMAL);
	detector_update(&d, 7000, 5.0f, 0, NULL, NULL, &out);
	assert_int_equal(out.state, DETECTOR_ANOMALY);
	assert_int_equal(out.event.start_ms, 6000);
	detector_free(&d);
}

/* A monitor that stops listening ends its anomaly (no start without its end) and starts over;
 * in any other state it ends nothing. */
static void test_stop(void **state)
{
	(void)state;
	struct detector d;
	struct detector_output out;
	init_det(&d, 2, 2);
	detector_stop(&d, 500, &out);
	assert_false(out.has_event);
	assert_int_equal(out.state, DETECTOR_STARTING);
	detector_update(&d, 1000, 5.0f, 0, NULL, NULL, &out);
	detector_update(&d, 2000, 5.0f, 0, NULL, NULL, &out);
	assert_int_equal(out.state, DETECTOR_ANOMALY);
	detector_stop(&d, 2500, &out);
	assert_true(out.has_event);
	assert_true(out.state_changed);
	assert_int_equal(out.previous, DETECTOR_ANOMALY);
	assert_int_equal(out.state, DETECTOR_STARTING);
	assert_int_equal(out.event.type, DETECTOR_EVENT_END);
	assert_int_equal(out.event.ended_by, DETECTOR_END_STOPPED);
	assert_int_equal(out.event.start_ms, 1000);
	assert_int_equal(out.event.end_ms, 2500);
	assert_float_equal(out.event.peak, 5.0f, 1e-6);
	assert_string_equal(detector_end_cause_name(DETECTOR_END_STOPPED), "stopped");
	assert_null(detector_end_cause_name(DETECTOR_END_NONE));
	assert_null(detector_end_cause_name(DETECTOR_END_CAUSES));
	/* Listening again: a high score builds its run up from nothing. */
	detector_update(&d, 3000, 5.0f, 0, NULL, NULL, &out);
	assert_int_equal(out.state, DETECTOR_NORMAL);
	assert_false(out.has_event);
	detector_free(&d);
}

static void test_top_five(void **state)
{
	(void)state;
	struct detector d;
	struct detector_output out;
	struct detector_config cfg;
	detector_config_defaults(&cfg);
	cfg.anomaly_after = 1;
	assert_int_equal(cfg.n_mels, 128);
	assert_int_equal(detector_init(&d, &cfg, NULL), AUSCULT_OK);
	float bands[128];
	for (int b = 0; b < 128; b++)
		bands[b] = 1.0f;
	bands[100] = 101.0f;
	bands[7] = 51.0f;
	bands[64] = 21.0f;
	bands[3] = 11.0f;
	bands[127] = 6.0f;
	double total = 0.0;
	for (int b = 0; b < 128; b++)
		total += bands[b];
	detector_update(&d, 0, 9.0f, 0, bands, NULL, &out);
	assert_int_equal(out.event.n_bands, 5);
	const uint32_t order[5] = { 100, 7, 64, 3, 127 };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(out.event.bands[i].band, order[i]);
		assert_float_equal(out.event.bands[i].share, bands[order[i]] / total, 1e-6);
	}
	/* Band edges rise with the index and stay inside 0..8000 Hz */
	assert_true(out.event.bands[4].hz_high <= 8000.5f);
	assert_true(out.event.bands[3].hz_low < out.event.bands[1].hz_low);
	assert_true(out.event.bands[1].hz_low < out.event.bands[2].hz_low);
	detector_free(&d);
}

/*
 * The parts of the raw score, and the rise part's split by head: each is averaged over the
 * anomaly's windows (as its mean is), the closing normal run left out, and a part a window lacks
 * (NaN: the model has none) is neither counted nor reported. Same run as test_hysteresis_events: anomaly windows t5..t9.
 */
static void test_parts(void **state)
{
	(void)state;
	struct detector d;
	struct detector_output out;
	init_det(&d, 3, 2);
	const float sc[] = { 0.5f, 2, 2, 0.5f, 2, 3, 4, 0.5f, 2, 0.5f, 0.5f };
	for (int i = 0; i < 11; i++) {
		/* network i, rise 10 i (envelope 4 i, tones 6 i, no impulse head), no window head */
		struct detector_parts parts = {
			.v = { (float)i, NAN, 10.0f * (float)i },
			.rise = { 4.0f * (float)i, 6.0f * (float)i, NAN, NAN },
			/* the tone heard at 100 i Hz */
			.at = { { 2.0f, 500.0f, 1000.0f },
				{ 100.0f * (float)i, NAN, NAN },
				{ NAN, NAN, NAN },
				{ NAN, NAN, NAN } },
		};
		detector_update(&d, (int64_t)(i + 1) * 1000, sc[i], 0, NULL, &parts, &out);
		if (i == 6) { /* START: windows t5..t7, i = 4..6 */
			assert_int_equal(out.event.parts_seen,
					 1u << DETECTOR_PART_NETWORK | 1u << DETECTOR_PART_RISE);
			assert_float_equal(out.event.parts.v[DETECTOR_PART_NETWORK], 5.0f, 1e-6);
			assert_float_equal(out.event.parts.v[DETECTOR_PART_RISE], 50.0f, 1e-5);
			/* where: the window of the largest tones term so far, i = 6 */
			assert_true(out.event.parts.at[DETECTOR_RISE_TONES].hz == 600.0f);
		}
	}
	/* END: windows t5..t9, i = 4..8 */
	assert_int_equal(out.event.type, DETECTOR_EVENT_END);
	assert_float_equal(out.event.parts.v[DETECTOR_PART_NETWORK], 6.0f, 1e-6);
	assert_float_equal(out.event.parts.v[DETECTOR_PART_RISE], 60.0f, 1e-5);
	assert_false(out.event.parts_seen & 1u << DETECTOR_PART_WINDOW_HEAD);
	assert_int_equal(out.event.rise_seen,
			 1u << DETECTOR_RISE_ENVELOPE | 1u << DETECTOR_RISE_TONES);
	assert_float_equal(out.event.parts.rise[DETECTOR_RISE_ENVELOPE], 24.0f, 1e-5);
	assert_float_equal(out.event.parts.rise[DETECTOR_RISE_TONES], 36.0f, 1e-5);
	/* the closing normal run (i = 9, 10) left out: i = 8; the envelope's band kept; the
	 * impulses never added anything: nowhere */
	assert_true(out.event.parts.at[DETECTOR_RISE_TONES].hz == 800.0f);
	assert_true(out.event.parts.at[DETECTOR_RISE_ENVELOPE].band_lo_hz == 500.0f);
	assert_true(isnan(out.event.parts.at[DETECTOR_RISE_IMPULSES].hz));
	/* without parts (NULL), an event has none */
	for (int i = 0; i < 3; i++)
		detector_update(&d, 20000 + i * 1000, 5.0f, 0, NULL, NULL, &out);
	assert_true(out.has_event);
	assert_int_equal(out.event.parts_seen, 0);
	assert_int_equal(out.event.rise_seen, 0);
	detector_free(&d);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct detector d;
	struct detector_config cfg;
	struct auscult_err err = { { 0 } };
	detector_config_defaults(&cfg);
	cfg.threshold = -1.0f;
	assert_int_equal(detector_init(&d, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "detector: threshold -1 is out of range (0, inf)");
	detector_free(&d);
	detector_config_defaults(&cfg);
	cfg.normal_after = 0;
	assert_int_equal(detector_init(&d, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "detector: anomaly_after 3 and normal_after 0 must be >= 1");
	detector_free(&d);
	assert_string_equal(detector_state_name(DETECTOR_IDLE), "idle");
	assert_string_equal(detector_state_name(DETECTOR_STATE_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hysteresis_events),
		cmocka_unit_test(test_threshold_is_strict),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_top_five),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
