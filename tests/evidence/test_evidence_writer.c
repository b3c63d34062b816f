/* test_evidence_writer.c - the writer thread end to end: the span's samples in the FLAC, the
 * picture and the record, the max_s cut, and a folder it cannot write (counted, never fatal, in
 * the status from the attach until the next complete record). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <limits.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evidence_test_util.h"
#include "evidence/evidence_record.h"
#include "evidence/evidence_writer.h"

#define RATE 16000u
#define BASE_MS 1700000000000LL

/* Sample i of the test signal: a 16-bit value, so the FLAC must hold it exactly. */
static float sample(uint64_t i)
{
	return (float)((int)((i * 7919u) % 20000u) - 10000) / 32768.0f;
}

static void push(struct evidence_tap *t, uint64_t *next, uint64_t n)
{
	float x[1000];
	while (n > 0) {
		size_t k = n < 1000 ? (size_t)n : 1000;
		for (size_t i = 0; i < k; i++)
			x[i] = sample(*next + i);
		evidence_tap_push(t, x, k);
		*next += k;
		n -= k;
	}
}

/* A window at stream second s (every 0.5 s), with an event of type (-1: none). */
static const char *window(struct evidence_tap *t, double s, int type, double start_s, double end_s)
{
	struct pipeline_window w;
	memset(&w, 0, sizeof(w));
	w.stream_s = s;
	w.time_ms = BASE_MS + (int64_t)(s * 1000);
	w.raw = w.smoothed = 1.0f + (float)s;
	w.det.state = type == DETECTOR_EVENT_START ? DETECTOR_ANOMALY : DETECTOR_NORMAL;
	if (type < 0)
		return evidence_tap_window(t, &w, NULL);
	w.det.has_event = 1;
	w.det.event.type = (enum detector_event_type)type;
	w.det.event.start_ms = BASE_MS + (int64_t)(start_s * 1000);
	w.det.event.end_ms = BASE_MS + (int64_t)(end_s * 1000);
	w.det.event.peak = 3.0f;
	w.det.event.mean = 2.0f;
	w.det.event.threshold = 1.5f;
	char id[64];
	snprintf(id, sizeof(id), "pump-%lld", (long long)w.det.event.start_ms);
	return evidence_tap_window(t, &w, id);
}

static struct evidence_writer *make_writer(const char *where, double max_s)
{
	struct evidence_settings s = { .enabled = true,
				       .dir = (char *)(uintptr_t)where,
				       .pre_roll_s = 1.0,
				       .post_roll_s = 0.5,
				       .max_s = max_s,
				       .max_mb = 100,
				       .max_files = 10 };
	struct evidence_writer *w = NULL;
	struct auscult_err err;
	assert_int_equal(evidence_writer_create(&w, &s, &err), AUSCULT_OK);
	return w;
}

static struct evidence_tap *attach(struct evidence_writer *w)
{
	struct evidence_tap_config c = {
		.monitor = "pump", .rate_hz = RATE, .latency_s = 1.0, .lossless = true
	};
	struct evidence_tap *t = NULL;
	struct auscult_err err;
	assert_int_equal(evidence_writer_attach(w, &c, &t, &err), AUSCULT_OK);
	return t;
}

/* An anomaly from 3.0 s to 5.0 s confirmed at 4.0 s: the span is 2.0 s to 5.5 s (max_s 60) or
 * 2.0 s to 3.0 s (max_s 1). Returns the base name. */
static void one_anomaly(struct evidence_tap *t, char *base, size_t cap)
{
	uint64_t next = 0;
	for (int k = 1; k <= 16; k++) {
		push(t, &next, RATE / 2);
		double s = k * 0.5;
		const char *b = "";
		if (s == 4.0)
			b = window(t, s, DETECTOR_EVENT_START, 3.0, -1);
		else if (s == 6.0)
			b = window(t, s, DETECTOR_EVENT_END, 3.0, 5.0);
		else
			window(t, s, -1, 0, 0);
		if (b[0])
			snprintf(base, cap, "%s", b);
	}
	evidence_tap_close(t);
}

static void check_flac(const char *path, uint64_t first, uint64_t n)
{
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		fail_msg("%s: %s", path, sf_strerror(NULL));
	assert_int_equal(info.samplerate, RATE);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
	assert_int_equal((uint64_t)info.frames, n);
	float *x = malloc((size_t)n * sizeof(float));
	assert_non_null(x);
	assert_int_equal(sf_readf_float(sf, x, (sf_count_t)n), (sf_count_t)n);
	sf_close(sf);
	for (uint64_t i = 0; i < n; i++)
		if (x[i] != sample(first + i))
			fail_msg("sample %llu: %g, expected %g", (unsigned long long)i,
				 (double)x[i], (double)sample(first + i));
	free(x);
}

static void writes_the_span(void **state)
{
	(void)state;
	struct evidence_writer *w = make_writer(dir, 60.0);
	struct evidence_tap *t = attach(w);
	char base[EVIDENCE_BASE_MAX] = "";
	one_anomaly(t, base, sizeof(base));
	assert_string_equal(base, "20231114T221323Z-pump-1700000003000");
	assert_true(evidence_writer_wait_idle(w, 10000));
	char path[PATH_MAX + 256];
	snprintf(path, sizeof(path), "%s/pump/%s.flac", dir, base);
	check_flac(path, 2 * RATE, (uint64_t)(3.5 * RATE));
	snprintf(path, sizeof(path), "%s/pump/%s.png", dir, base);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/pump/%s.flac.tmp", dir, base);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/pump/%s.txt", dir, base);
	struct evidence_record r;
	struct auscult_err err;
	if (evidence_record_read(path, &r, &err) != AUSCULT_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(r.event_id, "pump-1700000003000");
	assert_int_equal(r.n_samples, (uint64_t)(3.5 * RATE));
	assert_int_equal(r.audio_start_ms, BASE_MS + 2000);
	assert_int_equal(r.start_ms, BASE_MS + 3000);
	assert_int_equal(r.end_ms, BASE_MS + 5000);
	/* Windows at 2.0 .. 5.5 s, times from the file's first sample. */
	assert_int_equal(r.n_windows, 8);
	assert_float_equal(r.windows[0].t_s, 0.0, 1e-9);
	assert_float_equal(r.windows[7].t_s, 3.5, 1e-9);
	evidence_record_free(&r);
	struct evidence_writer_status st;
	evidence_writer_get_status(w, &st);
	assert_int_equal(st.events, 1);
	assert_int_equal(st.errors, 0);
	unsigned char *png = NULL;
	size_t len = 0;
	char monitor[64];
	assert_true(evidence_writer_take_image(w, monitor, sizeof(monitor), &png, &len));
	assert_string_equal(monitor, "pump");
	assert_true(len > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
	free(png);
	assert_false(evidence_writer_take_image(w, monitor, sizeof(monitor), &png, &len));
	evidence_writer_detach(w, t);
	evidence_writer_destroy(w);
}

static void cut_at_max_s(void **state)
{
	(void)state;
	struct evidence_writer *w = make_writer(dir, 1.0);
	struct evidence_tap *t = attach(w);
	char base[EVIDENCE_BASE_MAX] = "";
	one_anomaly(t, base, sizeof(base));
	assert_true(evidence_writer_wait_idle(w, 10000));
	char path[PATH_MAX + 256];
	snprintf(path, sizeof(path), "%s/pump/%s.flac", dir, base);
	check_flac(path, 2 * RATE, RATE);
	evidence_writer_detach(w, t);
	evidence_writer_destroy(w);
}

/* A folder that cannot be made: counted and named in the status, the end names no files, and
 * the producer goes on (never waits for a capture that failed). */
static void unwritable_folder(void **state)
{
	(void)state;
	char where[PATH_MAX + 32];
	snprintf(where, sizeof(where), "%s/file", dir);
	FILE *f = fopen(where, "w"); /* a file where the folder should be: even root fails */
	assert_non_null(f);
	fclose(f);
	snprintf(where, sizeof(where), "%s/file/evidence", dir);
	int64_t before_ms = (int64_t)time(NULL) * 1000 - 1000;
	struct evidence_writer *w = make_writer(where, 60.0);
	struct evidence_tap *t = attach(w);
	/* Known at once: the attach makes and checks the monitor's folder. */
	struct evidence_writer_status st;
	evidence_writer_get_status(w, &st);
	assert_true(st.failing);
	assert_int_equal(st.fault_errors, 1);
	assert_true(st.fault_since_ms >= before_ms);
	int64_t since_ms = st.fault_since_ms;
	assert_non_null(strstr(st.last_error, "file/evidence/pump: cannot create the folder"));
	uint64_t next = 0;
	push(t, &next, 4 * RATE);
	const char *b = window(t, 4.0, DETECTOR_EVENT_START, 3.0, -1);
	assert_true(b[0] != '\0');
	/* The writer takes the start and fails at once. */
	for (int i = 0; i < 500 && atomic_load(&t->failed) != 1; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&t->failed), 1);
	push(t, &next, 10 * RATE);
	assert_string_equal(window(t, 14.0, DETECTOR_EVENT_END, 3.0, 13.0), "");
	evidence_tap_close(t);
	assert_true(evidence_writer_wait_idle(w, 10000));
	evidence_writer_get_status(w, &st);
	assert_int_equal(st.events, 0);
	assert_true(st.errors >= 2);
	/* One run of faults: it began at the attach. */
	assert_true(st.failing);
	assert_int_equal(st.fault_errors, st.errors);
	assert_int_equal(st.fault_since_ms, since_ms);
	assert_non_null(strstr(st.last_error, "file/evidence/pump: cannot create the folder"));
	evidence_writer_detach(w, t);
	evidence_writer_destroy(w);
}

/* The folder becomes writable: the next complete record ends the run of faults (the total
 * stays). */
static void recovers_after_a_write(void **state)
{
	(void)state;
	char blocker[PATH_MAX + 32], where[PATH_MAX + 64];
	snprintf(blocker, sizeof(blocker), "%s/file", dir);
	FILE *f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(where, sizeof(where), "%s/evidence", blocker);
	struct evidence_writer *w = make_writer(where, 60.0);
	struct evidence_tap *t = attach(w);
	struct evidence_writer_status st;
	evidence_writer_get_status(w, &st);
	assert_true(st.failing);
	assert_int_equal(unlink(blocker), 0);
	char base[EVIDENCE_BASE_MAX] = "";
	one_anomaly(t, base, sizeof(base));
	assert_true(evidence_writer_wait_idle(w, 10000));
	evidence_writer_get_status(w, &st);
	assert_int_equal(st.events, 1);
	assert_int_equal(st.errors, 1);
	assert_false(st.failing);
	assert_int_equal(st.fault_errors, 0);
	assert_int_equal(st.fault_since_ms, 0);
	evidence_writer_detach(w, t);
	evidence_writer_destroy(w);
}

/* A picture that cannot be written keeps the fault, though the sound and the record were: the
 * status said the evidence works again, and the log named a .png that is not there. */
static void a_failed_picture_stays_a_fault(void **state)
{
	(void)state;
	char first[PATH_MAX + 32], where[PATH_MAX + 64], blocker[PATH_MAX + 32];
	char base[EVIDENCE_BASE_MAX] = "", path[PATH_MAX + 64 + EVIDENCE_BASE_MAX + 16];
	/* The event's base name (its time and monitor), from a first run elsewhere. */
	snprintf(first, sizeof(first), "%s/first", dir);
	struct evidence_writer *w = make_writer(first, 60.0);
	struct evidence_tap *t = attach(w);
	one_anomaly(t, base, sizeof(base));
	assert_true(evidence_writer_wait_idle(w, 10000));
	evidence_writer_detach(w, t);
	evidence_writer_destroy(w);

	/* A failing folder, then one where only the picture's name is taken (by a folder). */
	snprintf(blocker, sizeof(blocker), "%s/file", dir);
	FILE *f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(where, sizeof(where), "%s/evidence", blocker);
	w = make_writer(where, 60.0);
	t = attach(w);
	struct evidence_writer_status st;
	evidence_writer_get_status(w, &st);
	assert_true(st.failing);
	assert_int_equal(unlink(blocker), 0);
	assert_int_equal(mkdir(blocker, 0755), 0);
	assert_int_equal(mkdir(where, 0755), 0);
	snprintf(path, sizeof(path), "%s/pump", where);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/pump/%s.png", where, base);
	assert_int_equal(mkdir(path, 0755), 0);
	char again[EVIDENCE_BASE_MAX] = "";
	one_anomaly(t, again, sizeof(again));
	assert_string_equal(again, base);
	assert_true(evidence_writer_wait_idle(w, 10000));
	evidence_writer_get_status(w, &st);
	assert_true(st.failing);
	assert_true(st.errors >= 2);
	snprintf(path, sizeof(path), "%s/pump/%s.txt", where, base);
	assert_int_equal(access(path, F_OK), 0); /* the record was written */
	evidence_writer_detach(w, t);
	evidence_writer_destroy(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_the_span, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(cut_at_max_s, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(unwritable_folder, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(a_failed_picture_stays_a_fault, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(recovers_after_a_write, scratch_setup,
						scratch_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
