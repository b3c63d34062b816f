/* message_queue.c - a mutex-guarded ring of fixed-size message slots. */
#include "daemon/message_queue.h"

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int message_queue_init(struct message_queue *q, size_t capacity, struct auscult_err *err)
{
	memset(q, 0, sizeof(*q));
	q->wake_fd = -1;
	if (capacity < 1 || capacity > 1000000)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "message queue: capacity %zu is out of range [1, 1000000]",
				    capacity);
	q->slots = calloc(capacity, sizeof(*q->slots));
	if (!q->slots)
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "message queue: out of memory for %zu messages", capacity);
	if (pthread_mutex_init(&q->lock, NULL) != 0) {
		free(q->slots);
		q->slots = NULL;
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "message queue: cannot create its mutex");
	}
	q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->wake_fd < 0) {
		pthread_mutex_destroy(&q->lock);
		free(q->slots);
		q->slots = NULL;
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "message queue: cannot create its eventfd");
	}
	q->capacity = capacity;
	return AUSCULT_OK;
}

static void copy_bounded(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* Removes the oldest score from the ring, closing the gap; returns 1 if there was one. */
static int evict_oldest_score(struct message_queue *q)
{
	for (size_t i = 0; i < q->count; i++) {
		size_t at = (q->head + i) % q->capacity;
		if (q->slots[at].cls != MESSAGE_SCORE)
			continue;
		/* Shift the newer messages back one slot: rare (only when full), keeps order. */
		for (size_t j = i; j + 1 < q->count; j++) {
			size_t to = (q->head + j) % q->capacity;
			size_t from = (q->head + j + 1) % q->capacity;
			q->slots[to] = q->slots[from];
		}
		q->count--;
		q->dropped[MESSAGE_SCORE]++;
		return 1;
	}
	return 0;
}

int message_queue_push(struct message_queue *q, enum message_class cls, const char *monitor,
		       const char *payload)
{
	return message_queue_push_to(q, cls, monitor, "", payload);
}

int message_queue_push_to(struct message_queue *q, enum message_class cls, const char *monitor,
			  const char *leaf, const char *payload)
{
	int queued = 1;
	pthread_mutex_lock(&q->lock);
	if (q->count == q->capacity) {
		if (cls == MESSAGE_SCORE || !evict_oldest_score(q)) {
			q->dropped[cls]++;
			pthread_mutex_unlock(&q->lock);
			return 0;
		}
		queued = 0; /* this one is in, but an older score went */
	}
	struct daemon_message *m = &q->slots[(q->head + q->count) % q->capacity];
	m->cls = cls;
	copy_bounded(m->monitor, sizeof(m->monitor), monitor);
	copy_bounded(m->leaf, sizeof(m->leaf), leaf);
	copy_bounded(m->payload, sizeof(m->payload), payload);
	q->count++;
	q->pushed++;
	if (!q->wake_pending) {
		/* Non-blocking and cannot fill up (at most 1 between clears): never waits. */
		uint64_t one = 1;
		if (write(q->wake_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			q->wake_pending = true;
	}
	pthread_mutex_unlock(&q->lock);
	return queued;
}

int message_queue_grow(struct message_queue *q, size_t capacity, struct auscult_err *err)
{
	if (capacity > 1000000)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "message queue: capacity %zu is out of range [1, 1000000]",
				    capacity);
	pthread_mutex_lock(&q->lock);
	if (capacity <= q->capacity) {
		pthread_mutex_unlock(&q->lock);
		return AUSCULT_OK;
	}
	struct daemon_message *slots = calloc(capacity, sizeof(*slots));
	if (!slots) {
		pthread_mutex_unlock(&q->lock);
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "message queue: out of memory for %zu messages", capacity);
	}
	for (size_t i = 0; i < q->count; i++)
		slots[i] = q->slots[(q->head + i) % q->capacity];
	free(q->slots);
	q->slots = slots;
	q->capacity = capacity;
	q->head = 0;
	pthread_mutex_unlock(&q->lock);
	return AUSCULT_OK;
}

int message_queue_pop(struct message_queue *q, struct daemon_message *out)
{
	pthread_mutex_lock(&q->lock);
	if (q->count == 0) {
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	*out = q->slots[q->head];
	q->head = (q->head + 1) % q->capacity;
	q->count--;
	pthread_mutex_unlock(&q->lock);
	return 1;
}

int message_queue_wake_fd(const struct message_queue *q)
{
	return q->wake_fd;
}

void message_queue_clear_wake(struct message_queue *q)
{
	pthread_mutex_lock(&q->lock);
	if (q->wake_pending) {
		uint64_t n;
		if (read(q->wake_fd, &n, sizeof(n)) < 0) {
			/* EAGAIN: nothing to clear; the flag below is what matters. */
		}
		q->wake_pending = false;
	}
	pthread_mutex_unlock(&q->lock);
}

uint64_t message_queue_dropped(struct message_queue *q, enum message_class cls)
{
	pthread_mutex_lock(&q->lock);
	uint64_t n = q->dropped[cls];
	pthread_mutex_unlock(&q->lock);
	return n;
}

void message_queue_free(struct message_queue *q)
{
	if (!q || !q->slots)
		return;
	pthread_mutex_destroy(&q->lock);
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	free(q->slots);
	memset(q, 0, sizeof(*q));
	q->wake_fd = -1;
}
