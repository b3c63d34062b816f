/* test_outbox.c - the offline queue: order, what is dropped when full, acknowledgements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "publish/outbox.h"

static void push_n(struct outbox *ob, const char *topic, enum message_class cls, int n)
{
	char payload[16];
	snprintf(payload, sizeof(payload), "%d", n);
	outbox_push(ob, topic, payload, cls, NULL);
}

/* Payloads in delivery order, joined by ',' (e.g. "1,2,3"). */
static void order(struct outbox *ob, char *out, size_t cap)
{
	out[0] = '\0';
	size_t len = 0;
	for (int32_t i = ob->head; i != -1; i = ob->slots[i].next)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "",
					ob->slots[i].payload);
}

static void keeps_order_and_copies(void **state)
{
	(void)state;
	struct outbox ob;
	assert_int_equal(outbox_init(&ob, 100, NULL), AUSCULT_OK);
	char topic[16] = "a/event";
	for (int i = 1; i <= 5; i++)
		push_n(&ob, topic, MESSAGE_EVENT, i);
	strcpy(topic, "CLOBBERED"); /* the outbox owns copies */
	char buf[256];
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "1,2,3,4,5");
	struct outbox_msg *m = outbox_next_queued(&ob);
	assert_string_equal(m->topic, "a/event");
	assert_int_equal(m->payload_len, 1);
	assert_int_equal(m->seq, 1);
	outbox_free(&ob);
	outbox_free(&ob); /* idempotent */
	outbox_free(NULL);
}

static void state_keeps_only_latest_per_topic(void **state)
{
	(void)state;
	struct outbox ob;
	assert_int_equal(outbox_init(&ob, 10, NULL), AUSCULT_OK);
	struct outbox_drop d;
	outbox_push(&ob, "pump/state", "normal", MESSAGE_STATE, &d);
	outbox_push(&ob, "fan/state", "idle", MESSAGE_STATE, &d);
	outbox_push(&ob, "pump/event", "e1", MESSAGE_EVENT, &d);
	assert_int_equal(outbox_push(&ob, "pump/state", "anomaly", MESSAGE_STATE, &d), AUSCULT_OK);
	assert_true(d.replaced_state);
	assert_int_equal(d.states, 0); /* replaced, not lost */
	char buf[256];
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "idle,e1,anomaly");
	assert_int_equal(outbox_count_class(&ob, MESSAGE_STATE), 2);

	/* An inflight state is not replaced: it is already on its way. */
	struct outbox_msg *m = outbox_next_queued(&ob);
	assert_string_equal(m->payload, "idle");
	outbox_mark_inflight(&ob, m, 7, 1);
	outbox_push(&ob, "fan/state", "normal", MESSAGE_STATE, &d);
	assert_false(d.replaced_state);
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "idle,e1,anomaly,normal");
	outbox_free(&ob);
}

/* Events the spool could not take (spool id 0) are counted apart: they are lost at a stop. */
static void counts_events_held_in_memory_only(void **state)
{
	(void)state;
	struct outbox ob;
	assert_int_equal(outbox_init(&ob, 10, NULL), AUSCULT_OK);
	struct outbox_drop d;
	outbox_push_spooled(&ob, "p/event", "e1", MESSAGE_EVENT, 11, &d);
	outbox_push(&ob, "p/event", "e2", MESSAGE_EVENT, &d); /* the disk was full */
	outbox_push(&ob, "p/score", "s", MESSAGE_SCORE, &d);
	outbox_push_spooled(&ob, "p/event", "e3", MESSAGE_EVENT, 12, &d);
	outbox_push(&ob, "p/event", "e4", MESSAGE_EVENT, &d);
	assert_int_equal(outbox_count_class(&ob, MESSAGE_EVENT), 4);
	assert_int_equal(outbox_count_unspooled(&ob, MESSAGE_EVENT), 2);
	assert_int_equal(outbox_count_unspooled(&ob, MESSAGE_SCORE), 1);
	assert_int_equal(outbox_count_unspooled(&ob, (enum message_class)7), 0);
	outbox_free(&ob);
}

static void full_drops_scores_then_oldest_events(void **state)
{
	(void)state;
	struct outbox ob;
	assert_int_equal(outbox_init(&ob, 5, NULL), AUSCULT_OK);
	struct outbox_drop d;
	push_n(&ob, "e", MESSAGE_EVENT, 1);
	push_n(&ob, "s", MESSAGE_SCORE, 101);
	push_n(&ob, "e", MESSAGE_EVENT, 2);
	push_n(&ob, "s", MESSAGE_SCORE, 102);
	push_n(&ob, "s", MESSAGE_SCORE, 103);
	/* Full: a new event evicts the oldest score. */
	assert_int_equal(outbox_push(&ob, "e", "3", MESSAGE_EVENT, &d), AUSCULT_OK);
	assert_int_equal(d.scores, 1);
	assert_int_equal(d.events, 0);
	char buf[256];
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "1,2,102,103,3");
	/* A new score evicts the oldest score too (fresh scores matter more). */
	assert_int_equal(outbox_push(&ob, "s", "104", MESSAGE_SCORE, &d), AUSCULT_OK);
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "1,2,103,3,104");
	push_n(&ob, "e", MESSAGE_EVENT, 4);
	push_n(&ob, "e", MESSAGE_EVENT, 5);
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "1,2,3,4,5");
	/* All events: a score has no room and is the one dropped. */
	assert_int_equal(outbox_push(&ob, "s", "105", MESSAGE_SCORE, &d), AUSCULT_ERR_NOMEM);
	assert_int_equal(d.scores, 1);
	/* All events: a new event pushes out the oldest one. */
	assert_int_equal(outbox_push(&ob, "pump/event", "6", MESSAGE_EVENT, &d), AUSCULT_OK);
	assert_int_equal(d.events, 1);
	assert_string_equal(d.event_topic, "e");
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "2,3,4,5,6");
	assert_int_equal(ob.dropped_scores, 5);
	assert_int_equal(ob.dropped_events, 1);
	assert_int_equal(ob.count, 5);
	outbox_free(&ob);
}

/* What the publisher asks before it queues a spooled message (or leaves it on disk). */
static void takes_without_loss_and_holds_state(void **state)
{
	(void)state;
	struct outbox ob;
	struct auscult_err err;
	assert_int_equal(outbox_init(&ob, 3, &err), 0);
	push_n(&ob, "t/state", MESSAGE_STATE, 1);
	push_n(&ob, "t/score", MESSAGE_SCORE, 2);
	assert_true(outbox_takes_without_loss(&ob)); /* a free slot */
	push_n(&ob, "t/event", MESSAGE_EVENT, 3);
	assert_true(outbox_takes_without_loss(&ob)); /* full, but a score can go */
	outbox_mark_inflight(&ob, &ob.slots[ob.class_head[MESSAGE_SCORE]], 7, 1);
	assert_false(outbox_takes_without_loss(&ob)); /* the score is in flight */
	assert_true(outbox_holds_state(&ob, "t/state"));
	assert_false(outbox_holds_state(&ob, "u/state"));
	assert_false(outbox_holds_state(&ob, "t/event"));
	outbox_free(&ob);
}

static void inflight_is_never_dropped(void **state)
{
	(void)state;
	struct outbox ob;
	assert_int_equal(outbox_init(&ob, 2, NULL), AUSCULT_OK);
	push_n(&ob, "e", MESSAGE_EVENT, 1);
	push_n(&ob, "e", MESSAGE_EVENT, 2);
	outbox_mark_inflight(&ob, outbox_next_queued(&ob), 11, 3);
	outbox_mark_inflight(&ob, outbox_next_queued(&ob), 12, 3);
	assert_null(outbox_next_queued(&ob));
	struct outbox_drop d;
	assert_int_equal(outbox_push(&ob, "e", "3", MESSAGE_EVENT, &d), AUSCULT_ERR_NOMEM);
	assert_int_equal(d.events, 1); /* the new one */
	char buf[64];
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "1,2");
	outbox_free(&ob);
}

static void ack_nack_and_requeue(void **state)
{
	(void)state;
	struct outbox ob;
	assert_int_equal(outbox_init(&ob, 10, NULL), AUSCULT_OK);
	for (int i = 1; i <= 4; i++)
		push_n(&ob, "e", MESSAGE_EVENT, i);
	for (int t = 1; t <= 3; t++)
		outbox_mark_inflight(&ob, outbox_next_queued(&ob), 100 + t, 7);
	assert_int_equal(ob.inflight, 3);
	assert_string_equal(outbox_next_queued(&ob)->payload, "4");

	enum message_class cls = MESSAGE_SCORE;
	assert_false(outbox_ack(&ob, 101, 6, &cls, NULL)); /* stale epoch: ignored */
	assert_false(outbox_ack(&ob, 999, 7, &cls, NULL)); /* unknown token */
	assert_true(outbox_ack(&ob, 101, 7, &cls, NULL));
	assert_int_equal(cls, MESSAGE_EVENT);
	assert_false(outbox_ack(&ob, 101, 7, &cls, NULL)); /* twice: already gone */
	assert_true(outbox_nack(&ob, 103, 7));
	assert_int_equal(ob.inflight, 1);
	char buf[64];
	order(&ob, buf, sizeof(buf));
	assert_string_equal(buf, "2,3,4");
	assert_string_equal(outbox_next_queued(&ob)->payload, "3"); /* nacked goes back in place */

	/* The link drops: everything unacknowledged is sent again, from the oldest. */
	outbox_requeue_inflight(&ob);
	assert_int_equal(ob.inflight, 0);
	assert_string_equal(outbox_next_queued(&ob)->payload, "2");
	assert_false(outbox_ack(&ob, 102, 7, NULL, NULL));
	assert_int_equal(ob.count, 3);

	/* Slots are reused: fill, drain, fill again. */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; ob.count < ob.capacity; i++)
			push_n(&ob, "e", MESSAGE_EVENT, i);
		int token = 1000 * (round + 1);
		struct outbox_msg *m;
		while ((m = outbox_next_queued(&ob)) != NULL) {
			outbox_mark_inflight(&ob, m, token, 9);
			assert_true(outbox_ack(&ob, token, 9, NULL, NULL));
			token++;
		}
		assert_int_equal(ob.count, 0);
		assert_int_equal(outbox_count_class(&ob, MESSAGE_EVENT), 0);
	}
	outbox_free(&ob);
}

static void bad_capacity_is_named(void **state)
{
	(void)state;
	struct outbox ob;
	struct auscult_err err;
	assert_int_equal(outbox_init(&ob, 0, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "outbox: capacity 0 is out of range [1, 2147483647]");
	assert_null(ob.slots);
	outbox_free(&ob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_order_and_copies),
		cmocka_unit_test(state_keeps_only_latest_per_topic),
		cmocka_unit_test(counts_events_held_in_memory_only),
		cmocka_unit_test(full_drops_scores_then_oldest_events),
		cmocka_unit_test(takes_without_loss_and_holds_state),
		cmocka_unit_test(inflight_is_never_dropped),
		cmocka_unit_test(ack_nack_and_requeue),
		cmocka_unit_test(bad_capacity_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
