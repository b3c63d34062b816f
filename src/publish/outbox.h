/* outbox.h - the bounded, ordered queue of MQTT messages waiting for (or in) delivery. */
#ifndef AUSCULT_OUTBOX_H
#define AUSCULT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* What a message is; decides what is dropped when the outbox is full. */
enum message_class {
	MESSAGE_SCORE = 0, /* periodic: thinned first, oldest dropped when full */
	MESSAGE_STATE = 1, /* retained: only the latest per topic is kept */
	MESSAGE_EVENT = 2, /* kept in order; dropped (oldest first) when the outbox holds nothing
			      but events and states (the publisher's spool keeps them instead) */
};

/* One queued message. Owned by the outbox; valid until it is acknowledged or dropped. */
struct outbox_msg {
	enum message_class cls;
	char *topic;   /* full topic, NUL-terminated */
	char *payload; /* payload_len bytes, then a NUL (text payloads are C strings) */
	size_t payload_len;
	uint64_t seq;      /* enqueue order, from 1 */
	bool inflight;     /* handed to the client, waiting for its acknowledgement */
	int token;         /* the client's delivery token while inflight */
	uint32_t epoch;    /* connection epoch it was sent in (stale acknowledgements differ) */
	uint64_t spool_id; /* its record in the durable spool, 0 = not spooled */
	/* Links (indices into the slot array, -1 = none): the delivery order and its class. */
	int32_t prev, next, class_prev, class_next;
};

/* What outbox_push had to drop to make room (all zero when nothing was dropped). */
struct outbox_drop {
	uint32_t scores;     /* score messages dropped (the new one or older ones) */
	uint32_t events;     /* events dropped (oldest first) */
	uint32_t states;     /* states replaced or dropped */
	bool replaced_state; /* an older queued state for the same topic was replaced (not a loss) */
	char event_topic[128]; /* topic of the last dropped event (for the log), "" if none */
	/* Spool ids of the messages that went (dropped or replaced): no longer held anywhere. */
	uint64_t spool_ids[8];
	uint32_t n_spool_ids;
};

/*
 * At most `capacity` messages (slots are preallocated by outbox_init; each message's text is one
 * malloc). Not thread-safe: the owner serialises access. Delivery order is enqueue order.
 */
struct outbox {
	size_t capacity;
	size_t count;    /* messages held (queued + inflight) */
	size_t inflight; /* of which handed to the client */
	struct outbox_msg *slots;
	int32_t free_head;  /* free slots, chained through next */
	int32_t head, tail; /* delivery order */
	int32_t class_head[3], class_tail[3];
	size_t class_count[3];
	uint64_t next_seq;
	uint64_t dropped_scores, dropped_events, dropped_states; /* totals since init */
};

/* Allocates capacity slots (capacity >= 1). On failure returns non-zero, err set, ob zeroed. */
int outbox_init(struct outbox *ob, size_t capacity, struct auscult_err *err);

/* Frees every message and the slots; zeroes ob. NULL-safe. */
void outbox_free(struct outbox *ob);

/*
 * Appends a copy of (topic, payload) at the end. A queued (not inflight) state with the same
 * topic is removed first: only the latest state matters. When full, room is made by dropping,
 * in order: the oldest queued score; if the new message is a score and no older score is
 * queued, the new score itself; the oldest queued event; the oldest queued state. Inflight
 * messages are never dropped. *drop (may be NULL) reports what went. Returns AUSCULT_OK when
 * queued, AUSCULT_ERR_NOMEM when the copy could not be allocated or no room could be made (the
 * new message is then the one dropped, counted in *drop).
 */
int outbox_push(struct outbox *ob, const char *topic, const char *payload, enum message_class cls,
		struct outbox_drop *drop);

/* outbox_push for a message held in the durable spool as record spool_id (0: none). */
int outbox_push_spooled(struct outbox *ob, const char *topic, const char *payload,
			enum message_class cls, uint64_t spool_id, struct outbox_drop *drop);

/* outbox_push_spooled for payload_len bytes of any value (a PNG): the copy gets a NUL after
 * them, which is not part of the message. */
int outbox_push_bytes(struct outbox *ob, const char *topic, const void *payload, size_t payload_len,
		      enum message_class cls, uint64_t spool_id, struct outbox_drop *drop);

/* Counts a new message of cls on topic as dropped, in *drop and the totals, as outbox_push
 * does with one it cannot take: for a caller that decides not to push it. */
void outbox_drop_new(struct outbox *ob, enum message_class cls, const char *topic,
		     struct outbox_drop *drop);

/* The oldest message not yet inflight, or NULL. */
struct outbox_msg *outbox_next_queued(struct outbox *ob);

/* Marks m (from outbox_next_queued) as handed to the client with token in epoch. */
void outbox_mark_inflight(struct outbox *ob, struct outbox_msg *m, int token, uint32_t epoch);

/* The broker acknowledged (token, epoch): removes that message; *cls_out and *spool_id_out (each
 * may be NULL) get its class and spool id. Returns false (and changes nothing) when no inflight
 * message matches, e.g. an acknowledgement from an older connection. */
bool outbox_ack(struct outbox *ob, int token, uint32_t epoch, enum message_class *cls_out,
		uint64_t *spool_id_out);

/* Delivery of (token, epoch) failed: the message goes back to queued, in its place. Returns false
 * when none matches. */
bool outbox_nack(struct outbox *ob, int token, uint32_t epoch);

/* The connection is gone: every inflight message goes back to queued, to be sent again. */
void outbox_requeue_inflight(struct outbox *ob);

/* Whether a new event or state can be pushed now without dropping another event or state:
 * there is a free slot, or a queued score to make room with. */
bool outbox_takes_without_loss(const struct outbox *ob);

/* Whether a state message for topic is held (queued or inflight). */
bool outbox_holds_state(const struct outbox *ob, const char *topic);

/* Messages of a class held (queued + inflight). */
size_t outbox_count_class(const struct outbox *ob, enum message_class cls);

/* Of those, the ones with no record in the durable spool (spool_id 0): held in memory only. */
size_t outbox_count_unspooled(const struct outbox *ob, enum message_class cls);

#endif
