/* test_spool.c - the durable spool: append, acknowledge, replay order, torn and corrupt records,
 * the size cap, reopening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish/spool.h"

static char dir[] = "/tmp/test_spool_XXXXXX";
static char path[sizeof(dir) + 32];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_spool_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_FILE_NAME);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct spool *open_ok(size_t max_bytes, struct spool_open_report *rep)
{
	struct spool *s = NULL;
	struct auscult_err err;
	int rc = spool_open(&s, dir, max_bytes, rep, &err);
	if (rc)
		fail_msg("spool_open: %s", err.msg);
	return s;
}

static uint64_t put(struct spool *s, enum message_class cls, const char *topic, const char *pl)
{
	uint64_t id = 0;
	struct auscult_err err;
	assert_int_equal(spool_append(s, cls, topic, pl, &id, NULL, &err), AUSCULT_OK);
	assert_true(id > 0);
	return id;
}

/* Live payloads in order, joined by ','. */
static void live(const struct spool *s, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < spool_count(s); i++) {
		const struct spool_record *r = spool_record_at(s, i);
		if (!r->done)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "",
						r->payload);
	}
}

static off_t file_size(void)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void append_ack_reopen_in_order(void **state)
{
	(void)state;
	struct spool *s = open_ok(1 << 20, NULL);
	uint64_t a = put(s, MESSAGE_EVENT, "auscult/pump/event", "e1");
	put(s, MESSAGE_STATE, "auscult/pump/state", "anomaly");
	uint64_t c = put(s, MESSAGE_EVENT, "auscult/pump/event", "e2");
	put(s, MESSAGE_EVENT, "auscult/pump/event", "e3");
	assert_int_equal(spool_done(s, a, NULL), AUSCULT_OK);
	assert_int_equal(spool_done(s, c, NULL), AUSCULT_OK);
	assert_int_equal(spool_done(s, 999, NULL), AUSCULT_OK); /* unknown: ignored */
	assert_int_equal(spool_live(s), 2);
	spool_close(s); /* as kill -9 would leave it: nothing more is written at close */

	struct spool_open_report rep;
	s = open_ok(1 << 20, &rep);
	char buf[256];
	live(s, buf, sizeof(buf));
	assert_string_equal(buf, "anomaly,e3");
	assert_int_equal(rep.replayed, 2);
	assert_int_equal(rep.corrupt_records, 0);
	const struct spool_record *r = spool_record_at(s, 1);
	assert_string_equal(r->topic, "auscult/pump/event");
	assert_int_equal(r->cls, MESSAGE_EVENT);
	/* New ids continue after the replayed ones: order holds across restarts. */
	uint64_t d = put(s, MESSAGE_EVENT, "auscult/pump/event", "e4");
	assert_true(d > r->id);
	spool_close(s);
	s = open_ok(1 << 20, NULL);
	live(s, buf, sizeof(buf));
	assert_string_equal(buf, "anomaly,e3,e4");
	spool_close(s);
}

/* What a publisher whose outbox is full reads back: the oldest live record from an id on. */
static void next_live_from_an_id(void **state)
{
	(void)state;
	struct spool *s = open_ok(1 << 20, NULL);
	uint64_t a = put(s, MESSAGE_EVENT, "auscult/pump/event", "e1");
	uint64_t b = put(s, MESSAGE_STATE, "auscult/pump/state", "anomaly");
	uint64_t c = put(s, MESSAGE_EVENT, "auscult/pump/event", "e2");
	uint64_t d = put(s, MESSAGE_EVENT, "auscult/pump/event", "e3");
	assert_int_equal(spool_done(s, c, NULL), AUSCULT_OK);
	assert_string_equal(spool_next_live(s, a)->payload, "e1");
	assert_string_equal(spool_next_live(s, b)->payload, "anomaly");
	assert_string_equal(spool_next_live(s, c)->payload, "e3"); /* c is done */
	assert_null(spool_next_live(s, d + 1));
	assert_int_equal(spool_live_events_from(s, a), 2);
	assert_int_equal(spool_live_events_from(s, b), 1);
	assert_int_equal(spool_live_events_from(s, 0), 0); /* 0: nothing waits */
	assert_null(spool_next_live(NULL, 1));
	assert_int_equal(spool_done(NULL, a, NULL), AUSCULT_OK);
	spool_close(s);
}

static void all_acknowledged_compacts_to_empty(void **state)
{
	(void)state;
	struct spool *s = open_ok(1 << 20, NULL);
	uint64_t ids[10];
	for (int i = 0; i < 10; i++)
		ids[i] = put(s, MESSAGE_EVENT, "t/event", "payload");
	assert_true(file_size() > 0);
	for (int i = 0; i < 10; i++)
		spool_done(s, ids[i], NULL);
	assert_int_equal(file_size(), 0);
	assert_int_equal(spool_file_bytes(s), 0);
	spool_close(s);
	s = open_ok(1 << 20, NULL);
	assert_int_equal(spool_live(s), 0);
	spool_close(s);
}

static void only_latest_state_per_topic_is_replayed(void **state)
{
	(void)state;
	struct spool *s = open_ok(1 << 20, NULL);
	put(s, MESSAGE_STATE, "a/state", "normal");
	put(s, MESSAGE_STATE, "b/state", "idle");
	put(s, MESSAGE_STATE, "a/state", "anomaly");
	spool_close(s);
	struct spool_open_report rep;
	s = open_ok(1 << 20, &rep);
	char buf[256];
	live(s, buf, sizeof(buf));
	assert_string_equal(buf, "idle,anomaly");
	assert_int_equal(rep.superseded, 1);
	spool_close(s);
}

static void torn_tail_is_skipped(void **state)
{
	(void)state;
	struct spool *s = open_ok(1 << 20, NULL);
	put(s, MESSAGE_EVENT, "t/event", "e1");
	put(s, MESSAGE_EVENT, "t/event", "e2");
	off_t whole = file_size();
	put(s, MESSAGE_EVENT, "t/event", "e3-torn");
	spool_close(s);
	/* A power cut in the middle of the last write. */
	assert_int_equal(truncate(path, whole + 10), 0);
	struct spool_open_report rep;
	s = open_ok(1 << 20, &rep);
	char buf[256];
	live(s, buf, sizeof(buf));
	assert_string_equal(buf, "e1,e2");
	assert_int_equal(rep.corrupt_records, 1);
	assert_int_equal(rep.corrupt_bytes, 10);
	/* The file was rewritten: the next append does not land behind the torn bytes. */
	assert_int_equal(file_size(), whole);
	put(s, MESSAGE_EVENT, "t/event", "e4");
	spool_close(s);
	s = open_ok(1 << 20, &rep);
	live(s, buf, sizeof(buf));
	assert_string_equal(buf, "e1,e2,e4");
	assert_int_equal(rep.corrupt_records, 0);
	spool_close(s);
}

static void corrupt_record_in_the_middle_is_skipped(void **state)
{
	(void)state;
	struct spool *s = open_ok(1 << 20, NULL);
	put(s, MESSAGE_EVENT, "t/event", "e1");
	off_t second = file_size();
	put(s, MESSAGE_EVENT, "t/event", "e2");
	off_t third = file_size();
	put(s, MESSAGE_EVENT, "t/event", "e3");
	put(s, MESSAGE_EVENT, "t/event", "e4");
	spool_close(s);
	/* Garble one payload byte of e2 (its CRC no longer matches) and the length of e3. */
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, third - 1), 1);
	assert_int_equal(pwrite(fd, "\xff\xff\xff\x7f", 4, third + 4), 4);
	close(fd);
	(void)second;
	struct spool_open_report rep;
	s = open_ok(1 << 20, &rep);
	char buf[256];
	live(s, buf, sizeof(buf));
	assert_string_equal(buf, "e1,e4");
	assert_int_equal(rep.corrupt_records, 2);
	spool_close(s);
}

static void garbage_file_never_fails(void **state)
{
	(void)state;
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int i = 0; i < 5000; i++)
		fputc((i * 7919) & 0xff, f);
	fputs("ASPL", f); /* a magic with nothing after it */
	fclose(f);
	struct spool_open_report rep;
	struct spool *s = open_ok(1 << 20, &rep);
	assert_int_equal(spool_live(s), 0);
	assert_true(rep.corrupt_records >= 1);
	assert_int_equal(rep.corrupt_bytes, 5004);
	spool_close(s);
}

static void size_cap_drops_oldest_events(void **state)
{
	(void)state;
	char payload[200];
	memset(payload, 'p', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = '\0';
	/* A record here is 12 + 12 + 7 + 199 = 230 bytes: 10 fit in 2300. */
	struct spool *s = open_ok(2300, NULL);
	put(s, MESSAGE_STATE, "t/state", "anomaly");
	uint64_t first = 0;
	struct spool_drop drop, total = { 0 };
	for (int i = 0; i < 30; i++) {
		char pl[256];
		snprintf(pl, sizeof(pl), "%02d%s", i, payload);
		uint64_t id;
		assert_int_equal(spool_append(s, MESSAGE_EVENT, "t/event", pl, &id, &drop, NULL),
				 AUSCULT_OK);
		if (!first)
			first = id;
		total.events += drop.events;
		total.states += drop.states;
		assert_true(spool_file_bytes(s) <= 2300);
	}
	assert_int_equal(total.states, 0); /* events go first */
	assert_int_equal(total.events, spool_dropped_events(s));
	assert_true(total.events >= 20);
	/* What is left: the state, then the newest events, in order. */
	const struct spool_record *r = NULL;
	size_t n_live = 0;
	int last = -1;
	for (size_t i = 0; i < spool_count(s); i++) {
		r = spool_record_at(s, i);
		if (r->done)
			continue;
		n_live++;
		if (r->cls == MESSAGE_EVENT) {
			int k = atoi(r->payload);
			assert_true(k > last);
			last = k;
		}
	}
	assert_int_equal(last, 29);
	assert_int_equal(n_live + total.events, 31);
	spool_close(s);
	struct spool_open_report rep;
	s = open_ok(2300, &rep);
	assert_int_equal(rep.replayed, n_live);
	spool_close(s);
}

static void scores_and_bad_folders_are_refused(void **state)
{
	(void)state;
	struct spool *s = open_ok(1 << 20, NULL);
	uint64_t id;
	struct auscult_err err;
	assert_int_equal(spool_append(s, MESSAGE_SCORE, "t/score", "1", &id, NULL, &err),
			 AUSCULT_ERR_INVALID);
	spool_close(s);
	struct spool *t = NULL;
	assert_int_not_equal(spool_open(&t, "/proc/version/x", 1 << 20, NULL, &err), AUSCULT_OK);
	assert_null(t);
	assert_non_null(strstr(err.msg, "mqtt.spool_dir"));
	spool_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(append_ack_reopen_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(next_live_from_an_id, setup, teardown),
		cmocka_unit_test_setup_teardown(all_acknowledged_compacts_to_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(only_latest_state_per_topic_is_replayed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(torn_tail_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_record_in_the_middle_is_skipped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(garbage_file_never_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(size_cap_drops_oldest_events, setup, teardown),
		cmocka_unit_test_setup_teardown(scores_and_bad_folders_are_refused, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
