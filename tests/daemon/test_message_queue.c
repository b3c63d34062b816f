/* test_message_queue.c - order, overflow policy (scores go first), and two producer threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/message_queue.h"

static void test_fifo(void **state)
{
	(void)state;
	struct message_queue q;
	struct daemon_message m;
	assert_int_equal(message_queue_init(&q, 4, NULL), AUSCULT_OK);
	assert_int_equal(message_queue_pop(&q, &m), 0);
	for (int round = 0; round < 3; round++) { /* wraps around the ring */
		assert_int_equal(message_queue_push(&q, MESSAGE_STATE, "a", "normal"), 1);
		assert_int_equal(message_queue_push(&q, MESSAGE_SCORE, "b", "{}"), 1);
		assert_int_equal(message_queue_pop(&q, &m), 1);
		assert_int_equal(m.cls, MESSAGE_STATE);
		assert_string_equal(m.monitor, "a");
		assert_string_equal(m.payload, "normal");
		assert_int_equal(message_queue_pop(&q, &m), 1);
		assert_int_equal(m.cls, MESSAGE_SCORE);
		assert_string_equal(m.monitor, "b");
	}
	message_queue_free(&q);
}

/* A reload to more monitors grows the ring; what is queued (across the wrap) keeps its order. */
static void test_grow_keeps_order(void **state)
{
	(void)state;
	struct message_queue q;
	struct daemon_message m;
	assert_int_equal(message_queue_init(&q, 3, NULL), AUSCULT_OK);
	assert_int_equal(message_queue_push(&q, MESSAGE_EVENT, "a", "1"), 1);
	assert_int_equal(message_queue_pop(&q, &m), 1);
	assert_int_equal(message_queue_push(&q, MESSAGE_EVENT, "a", "2"), 1);
	assert_int_equal(message_queue_push(&q, MESSAGE_EVENT, "a", "3"), 1);
	assert_int_equal(message_queue_push(&q, MESSAGE_EVENT, "a", "4"), 1); /* wrapped */
	assert_int_equal(message_queue_grow(&q, 2, NULL), AUSCULT_OK);        /* no shrink */
	assert_int_equal(q.capacity, 3);
	assert_int_equal(message_queue_grow(&q, 6, NULL), AUSCULT_OK);
	assert_int_equal(q.capacity, 6);
	for (int i = 5; i <= 7; i++) { /* room for three more, where 3 slots had none */
		char pl[4];
		snprintf(pl, sizeof(pl), "%d", i);
		assert_int_equal(message_queue_push(&q, MESSAGE_EVENT, "a", pl), 1);
	}
	for (int i = 2; i <= 7; i++) {
		char pl[4];
		snprintf(pl, sizeof(pl), "%d", i);
		assert_int_equal(message_queue_pop(&q, &m), 1);
		assert_string_equal(m.payload, pl);
	}
	assert_int_equal(message_queue_pop(&q, &m), 0);
	assert_int_equal(q.dropped[MESSAGE_EVENT], 0);
	message_queue_free(&q);
}

/* Full of 2 scores + 1 event: a new score is dropped; a new event evicts the oldest score. */
static void test_overflow(void **state)
{
	(void)state;
	struct message_queue q;
	struct daemon_message m;
	assert_int_equal(message_queue_init(&q, 3, NULL), AUSCULT_OK);
	message_queue_push(&q, MESSAGE_SCORE, "m", "s1");
	message_queue_push(&q, MESSAGE_EVENT, "m", "e1");
	message_queue_push(&q, MESSAGE_SCORE, "m", "s2");
	assert_int_equal(message_queue_push(&q, MESSAGE_SCORE, "m", "s3"), 0);
	assert_int_equal(message_queue_dropped(&q, MESSAGE_SCORE), 1);
	assert_int_equal(message_queue_push(&q, MESSAGE_EVENT, "m", "e2"), 0);
	assert_int_equal(message_queue_dropped(&q, MESSAGE_SCORE), 2);
	assert_int_equal(message_queue_push(&q, MESSAGE_EVENT, "m", "e3"), 0);
	/* both scores went to make room: the events remain, in order */
	const char *expect[] = { "e1", "e2", "e3" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(message_queue_pop(&q, &m), 1);
		assert_string_equal(m.payload, expect[i]);
	}
	/* Full of events: a fourth event is dropped and counted */
	message_queue_push(&q, MESSAGE_EVENT, "m", "e4");
	message_queue_push(&q, MESSAGE_EVENT, "m", "e5");
	message_queue_push(&q, MESSAGE_EVENT, "m", "e6");
	assert_int_equal(message_queue_push(&q, MESSAGE_EVENT, "m", "e7"), 0);
	assert_int_equal(message_queue_dropped(&q, MESSAGE_EVENT), 1);
	message_queue_free(&q);
}

static void test_truncates_long_strings(void **state)
{
	(void)state;
	struct message_queue q;
	struct daemon_message m;
	static char big[PAYLOAD_MAX_BYTES * 2];
	memset(big, 'y', sizeof(big) - 1);
	assert_int_equal(message_queue_init(&q, 1, NULL), AUSCULT_OK);
	message_queue_push(&q, MESSAGE_SCORE, big, big);
	assert_int_equal(message_queue_pop(&q, &m), 1);
	assert_int_equal(strlen(m.monitor), MESSAGE_MONITOR_MAX - 1);
	assert_int_equal(strlen(m.payload), PAYLOAD_MAX_BYTES - 1);
	message_queue_free(&q);
	struct auscult_err err = { { 0 } };
	assert_int_equal(message_queue_init(&q, 0, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "message queue: capacity 0 is out of range [1, 1000000]");
	message_queue_free(&q);
}

struct producer {
	struct message_queue *q;
	const char *name;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	char payload[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(payload, sizeof(payload), "%d", i);
		while (!message_queue_push(p->q, MESSAGE_EVENT, p->name, payload))
			; /* events are dropped only when the queue is full of events: retry */
	}
	return NULL;
}

/* Two threads, one consumer: each producer's messages arrive complete and in order. The
 * producers retry when full, so the drop counter also counts those retries. */
static void test_threads(void **state)
{
	(void)state;
	struct message_queue q;
	struct daemon_message m;
	assert_int_equal(message_queue_init(&q, 64, NULL), AUSCULT_OK);
	struct producer pa = { &q, "a" }, pb = { &q, "b" };
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, produce, &pa), 0);
	assert_int_equal(pthread_create(&tb, NULL, produce, &pb), 0);
	int next_a = 0, next_b = 0;
	while (next_a < 20000 || next_b < 20000) {
		if (!message_queue_pop(&q, &m))
			continue;
		int v = atoi(m.payload);
		if (strcmp(m.monitor, "a") == 0)
			assert_int_equal(v, next_a++);
		else
			assert_int_equal(v, next_b++);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(message_queue_pop(&q, &m), 0);
	message_queue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),     cmocka_unit_test(test_grow_keeps_order),
		cmocka_unit_test(test_overflow), cmocka_unit_test(test_truncates_long_strings),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
