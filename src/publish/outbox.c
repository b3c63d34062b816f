/* outbox.c - the bounded, ordered queue of MQTT messages waiting for (or in) delivery. */
#include "publish/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE (-1)

int outbox_init(struct outbox *ob, size_t capacity, struct auscult_err *err)
{
	memset(ob, 0, sizeof(*ob));
	if (capacity < 1 || capacity > (size_t)INT32_MAX)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "outbox: capacity %zu is out of range [1, %d]", capacity,
				    INT32_MAX);
	ob->slots = calloc(capacity, sizeof(*ob->slots));
	if (!ob->slots)
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "outbox: cannot allocate %zu message slots; lower "
				    "mqtt.offline_buffer",
				    capacity);
	ob->capacity = capacity;
	for (size_t i = 0; i < capacity; i++)
		ob->slots[i].next = i + 1 < capacity ? (int32_t)(i + 1) : NONE;
	ob->free_head = 0;
	ob->head = ob->tail = NONE;
	for (int c = 0; c < 3; c++)
		ob->class_head[c] = ob->class_tail[c] = NONE;
	ob->next_seq = 1;
	return AUSCULT_OK;
}

void outbox_free(struct outbox *ob)
{
	if (!ob)
		return;
	if (ob->slots) {
		for (int32_t i = ob->head; i != NONE; i = ob->slots[i].next)
			free(ob->slots[i].topic); /* payload shares the topic's allocation */
		free(ob->slots);
	}
	memset(ob, 0, sizeof(*ob));
}

/* Unlinks slot i from both lists, frees its text and returns it to the free list. */
static void remove_slot(struct outbox *ob, int32_t i)
{
	struct outbox_msg *m = &ob->slots[i];
	int c = (int)m->cls;
	if (m->prev != NONE)
		ob->slots[m->prev].next = m->next;
	else
		ob->head = m->next;
	if (m->next != NONE)
		ob->slots[m->next].prev = m->prev;
	else
		ob->tail = m->prev;
	if (m->class_prev != NONE)
		ob->slots[m->class_prev].class_next = m->class_next;
	else
		ob->class_head[c] = m->class_next;
	if (m->class_next != NONE)
		ob->slots[m->class_next].class_prev = m->class_prev;
	else
		ob->class_tail[c] = m->class_prev;
	if (m->inflight)
		ob->inflight--;
	ob->count--;
	ob->class_count[c]--;
	free(m->topic);
	memset(m, 0, sizeof(*m));
	m->next = ob->free_head;
	ob->free_head = i;
}

/* The oldest message of class c that is not inflight, or NONE. */
static int32_t oldest_queued(const struct outbox *ob, enum message_class c)
{
	for (int32_t i = ob->class_head[c]; i != NONE; i = ob->slots[i].class_next)
		if (!ob->slots[i].inflight)
			return i;
	return NONE;
}

static void note_spool_id(const struct outbox_msg *m, struct outbox_drop *drop)
{
	if (m->spool_id && drop->n_spool_ids < sizeof(drop->spool_ids) / sizeof(drop->spool_ids[0]))
		drop->spool_ids[drop->n_spool_ids++] = m->spool_id;
}

static void note_drop(struct outbox *ob, int32_t i, struct outbox_drop *drop)
{
	struct outbox_msg *m = &ob->slots[i];
	note_spool_id(m, drop);
	switch (m->cls) {
	case MESSAGE_SCORE:
		ob->dropped_scores++;
		drop->scores++;
		break;
	case MESSAGE_EVENT:
		ob->dropped_events++;
		drop->events++;
		snprintf(drop->event_topic, sizeof(drop->event_topic), "%s", m->topic);
		break;
	case MESSAGE_STATE:
		ob->dropped_states++;
		drop->states++;
		break;
	}
}

void outbox_drop_new(struct outbox *ob, enum message_class cls, const char *topic,
		     struct outbox_drop *drop)
{
	if (cls == MESSAGE_SCORE) {
		ob->dropped_scores++;
		drop->scores++;
	} else if (cls == MESSAGE_EVENT) {
		ob->dropped_events++;
		drop->events++;
		snprintf(drop->event_topic, sizeof(drop->event_topic), "%s", topic);
	} else {
		ob->dropped_states++;
		drop->states++;
	}
}

/* Frees one slot for a new message of class cls; returns false if the new one must go. */
static bool make_room(struct outbox *ob, enum message_class cls, struct outbox_drop *drop)
{
	int32_t victim = oldest_queued(ob, MESSAGE_SCORE);
	if (victim == NONE && cls == MESSAGE_SCORE)
		return false;
	if (victim == NONE)
		victim = oldest_queued(ob, MESSAGE_EVENT);
	if (victim == NONE)
		victim = oldest_queued(ob, MESSAGE_STATE);
	if (victim == NONE)
		return false; /* everything is inflight */
	note_drop(ob, victim, drop);
	remove_slot(ob, victim);
	return true;
}

int outbox_push(struct outbox *ob, const char *topic, const char *payload, enum message_class cls,
		struct outbox_drop *drop)
{
	return outbox_push_spooled(ob, topic, payload, cls, 0, drop);
}

int outbox_push_spooled(struct outbox *ob, const char *topic, const char *payload,
			enum message_class cls, uint64_t spool_id, struct outbox_drop *drop)
{
	return outbox_push_bytes(ob, topic, payload, strlen(payload), cls, spool_id, drop);
}

int outbox_push_bytes(struct outbox *ob, const char *topic, const void *payload, size_t payload_len,
		      enum message_class cls, uint64_t spool_id, struct outbox_drop *drop)
{
	struct outbox_drop scratch;
	if (!drop)
		drop = &scratch;
	memset(drop, 0, sizeof(*drop));
	if ((int)cls < 0 || (int)cls > 2)
		cls = MESSAGE_EVENT; /* an unknown class is treated as the most precious */

	if (cls == MESSAGE_STATE) {
		for (int32_t i = ob->class_head[MESSAGE_STATE]; i != NONE;) {
			int32_t next = ob->slots[i].class_next;
			if (!ob->slots[i].inflight && strcmp(ob->slots[i].topic, topic) == 0) {
				note_spool_id(&ob->slots[i], drop);
				remove_slot(ob, i);
				drop->replaced_state = true;
			}
			i = next;
		}
	}

	size_t topic_len = strlen(topic);
	char *text = malloc(topic_len + 1 + payload_len + 1);
	if (!text || (ob->count >= ob->capacity && !make_room(ob, cls, drop))) {
		free(text);
		outbox_drop_new(ob, cls, topic, drop);
		return AUSCULT_ERR_NOMEM;
	}

	int32_t i = ob->free_head;
	struct outbox_msg *m = &ob->slots[i];
	ob->free_head = m->next;
	memcpy(text, topic, topic_len + 1);
	memcpy(text + topic_len + 1, payload, payload_len);
	text[topic_len + 1 + payload_len] = '\0'; /* text payloads stay C strings */
	m->cls = cls;
	m->topic = text;
	m->payload = text + topic_len + 1;
	m->payload_len = payload_len;
	m->seq = ob->next_seq++;
	m->inflight = false;
	m->token = 0;
	m->epoch = 0;
	m->spool_id = spool_id;
	m->next = NONE;
	m->prev = ob->tail;
	if (ob->tail != NONE)
		ob->slots[ob->tail].next = i;
	else
		ob->head = i;
	ob->tail = i;
	m->class_next = NONE;
	m->class_prev = ob->class_tail[cls];
	if (ob->class_tail[cls] != NONE)
		ob->slots[ob->class_tail[cls]].class_next = i;
	else
		ob->class_head[cls] = i;
	ob->class_tail[cls] = i;
	ob->count++;
	ob->class_count[cls]++;
	return AUSCULT_OK;
}

struct outbox_msg *outbox_next_queued(struct outbox *ob)
{
	for (int32_t i = ob->head; i != NONE; i = ob->slots[i].next)
		if (!ob->slots[i].inflight)
			return &ob->slots[i];
	return NULL;
}

void outbox_mark_inflight(struct outbox *ob, struct outbox_msg *m, int token, uint32_t epoch)
{
	if (!m->inflight)
		ob->inflight++;
	m->inflight = true;
	m->token = token;
	m->epoch = epoch;
}

/* Inflight messages sit near the head (they are sent in order), so this walk is short. */
static int32_t find_inflight(const struct outbox *ob, int token, uint32_t epoch)
{
	size_t seen = 0;
	for (int32_t i = ob->head; i != NONE && seen < ob->inflight; i = ob->slots[i].next) {
		const struct outbox_msg *m = &ob->slots[i];
		if (!m->inflight)
			continue;
		seen++;
		if (m->token == token && m->epoch == epoch)
			return i;
	}
	return NONE;
}

bool outbox_ack(struct outbox *ob, int token, uint32_t epoch, enum message_class *cls_out,
		uint64_t *spool_id_out)
{
	int32_t i = find_inflight(ob, token, epoch);
	if (i == NONE)
		return false;
	if (cls_out)
		*cls_out = ob->slots[i].cls;
	if (spool_id_out)
		*spool_id_out = ob->slots[i].spool_id;
	remove_slot(ob, i);
	return true;
}

bool outbox_nack(struct outbox *ob, int token, uint32_t epoch)
{
	int32_t i = find_inflight(ob, token, epoch);
	if (i == NONE)
		return false;
	ob->slots[i].inflight = false;
	ob->inflight--;
	return true;
}

void outbox_requeue_inflight(struct outbox *ob)
{
	for (int32_t i = ob->head; i != NONE && ob->inflight > 0; i = ob->slots[i].next) {
		if (ob->slots[i].inflight) {
			ob->slots[i].inflight = false;
			ob->inflight--;
		}
	}
}

size_t outbox_count_class(const struct outbox *ob, enum message_class cls)
{
	if ((int)cls < 0 || (int)cls > 2)
		return 0;
	return ob->class_count[cls];
}

size_t outbox_count_unspooled(const struct outbox *ob, enum message_class cls)
{
	if ((int)cls < 0 || (int)cls > 2)
		return 0;
	size_t n = 0;
	for (int32_t i = ob->class_head[cls]; i != NONE; i = ob->slots[i].class_next)
		n += ob->slots[i].spool_id == 0;
	return n;
}

bool outbox_takes_without_loss(const struct outbox *ob)
{
	return ob->count < ob->capacity || oldest_queued(ob, MESSAGE_SCORE) != NONE;
}

bool outbox_holds_state(const struct outbox *ob, const char *topic)
{
	for (int32_t i = ob->class_head[MESSAGE_STATE]; i != NONE; i = ob->slots[i].class_next)
		if (strcmp(ob->slots[i].topic, topic) == 0)
			return true;
	return false;
}
