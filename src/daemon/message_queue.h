/* message_queue.h - bounded hand-off of ready-made MQTT payloads from monitor threads to main. */
#ifndef AUSCULT_MESSAGE_QUEUE_H
#define AUSCULT_MESSAGE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "publish/outbox.h"
#include "publish/payloads.h"

#define MESSAGE_MONITOR_MAX 80 /* monitor names are at most 64 bytes */
#define MESSAGE_LEAF_MAX 16

/* One message: which monitor, what class, the payload text. Fixed size, so pushing never
 * allocates. */
struct daemon_message {
	enum message_class cls;
	char monitor[MESSAGE_MONITOR_MAX];
	char leaf[MESSAGE_LEAF_MAX]; /* the topic's last level; "" = the class's own (score, ...) */
	char payload[PAYLOAD_MAX_BYTES];
};

/*
 * A ring of preallocated slots behind one mutex, held only while a message is copied in or out,
 * so a monitor thread never waits on MQTT or the disk. When full, a new score is dropped; a new
 * state or event takes the place of the oldest queued score, and only if there is none is it
 * dropped. Drops are counted per class.
 */
struct message_queue {
	pthread_mutex_t lock;
	struct daemon_message *slots;
	size_t capacity;
	size_t head; /* oldest message */
	size_t count;
	uint64_t dropped[3]; /* by enum message_class */
	uint64_t pushed;
	int wake_fd;       /* eventfd, readable once a push follows message_queue_clear_wake */
	bool wake_pending; /* wake_fd has been written since the last clear */
};

/* Allocates capacity (>= 1) slots. Returns AUSCULT_OK or AUSCULT_ERR_NOMEM/INVALID (err set). */
int message_queue_init(struct message_queue *q, size_t capacity, struct auscult_err *err);

/*
 * Copies a message in. Any thread. Returns 1 when queued, 0 when it (or, for a state/event, an
 * older score) had to be dropped - see above. Strings longer than their slot are truncated;
 * payloads come from payloads.h and fit.
 */
/* Grows the ring to capacity slots (a reload with more monitors), keeping the queued messages
 * in order; a smaller capacity changes nothing. Any thread (under the lock). AUSCULT_OK, or
 * AUSCULT_ERR_NOMEM/INVALID (err set) with the queue as it was. */
int message_queue_grow(struct message_queue *q, size_t capacity, struct auscult_err *err);

/* As message_queue_push, to the topic <prefix>/<monitor>/<leaf> instead of the class's own
 * (learning progress is score-like: dropped first, QoS of scores, on its own topic). */
int message_queue_push_to(struct message_queue *q, enum message_class cls, const char *monitor,
			  const char *leaf, const char *payload);

int message_queue_push(struct message_queue *q, enum message_class cls, const char *monitor,
		       const char *payload);

/* Copies the oldest message out. Returns 1, or 0 when empty. Any thread (the main loop). */
int message_queue_pop(struct message_queue *q, struct daemon_message *out);

/*
 * A file descriptor that polls readable after a push, so the consumer can sleep in poll() until
 * there is work instead of looking every few milliseconds. Only the first push after
 * message_queue_clear_wake writes to it (one system call per batch, not per message).
 */
int message_queue_wake_fd(const struct message_queue *q);

/* Makes wake_fd unreadable again; call before draining with message_queue_pop, so that a push
 * racing with the drain leaves it readable. */
void message_queue_clear_wake(struct message_queue *q);

/* Messages dropped so far, by class (locked read). */
uint64_t message_queue_dropped(struct message_queue *q, enum message_class cls);

/* Frees the slots. NULL-safe; safe on a zeroed queue. */
void message_queue_free(struct message_queue *q);

#endif
