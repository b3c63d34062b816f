/* spsc_ring.c - lock-free single-producer/single-consumer float frame ring. */
#include "audio/spsc_ring.h"

#include <stdlib.h>
#include <string.h>

/* 2^26 frames is 23 minutes of 48 kHz: far past any sane capture buffer. */
#define SPSC_RING_MAX_FRAMES ((size_t)1 << 26)

int spsc_ring_init(struct spsc_ring *r, size_t min_frames, size_t frame_len,
		   struct auscult_err *err)
{
	memset(r, 0, sizeof(*r));
	if (min_frames == 0 || frame_len == 0 || frame_len > 64)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "ring: %zu frames of %zu floats: "
				    "expected at least 1 frame of 1..64 floats",
				    min_frames, frame_len);
	if (min_frames > SPSC_RING_MAX_FRAMES)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "ring: %zu frames is more than the limit of %zu", min_frames,
				    SPSC_RING_MAX_FRAMES);
	size_t cap = 2;
	while (cap < min_frames)
		cap <<= 1;
	r->buf = calloc(cap * frame_len, sizeof(float));
	if (!r->buf)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "ring: out of memory for %zu frames",
				    cap);
	r->capacity_frames = cap;
	r->mask = cap - 1;
	r->frame_len = frame_len;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->overruns, 0);
	atomic_init(&r->writes, 0);
	return AUSCULT_OK;
}

/* Where todo frames from ring position pos lie in buf: a run from its slot towards the end of
 * buf, and the rest (often none) from the start of buf. */
struct ring_span {
	float *first;
	size_t first_floats;
	size_t rest_floats;
};

static struct ring_span ring_span_of(const struct spsc_ring *r, size_t pos, size_t todo)
{
	size_t at = pos & r->mask;
	size_t first = r->capacity_frames - at;
	if (first > todo)
		first = todo;
	struct ring_span sp = { r->buf + at * r->frame_len, first * r->frame_len,
				(todo - first) * r->frame_len };
	return sp;
}

size_t spsc_ring_write(struct spsc_ring *r, const float *src, size_t n)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	/* acquire: the reader's copies out of these slots are done before we overwrite them. */
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t space = r->capacity_frames - (head - tail);
	size_t todo = n < space ? n : space;

	atomic_fetch_add_explicit(&r->writes, 1, memory_order_relaxed);
	if (todo < n)
		atomic_fetch_add_explicit(&r->overruns, n - todo, memory_order_relaxed);
	if (todo == 0)
		return 0;
	struct ring_span sp = ring_span_of(r, head, todo);
	memcpy(sp.first, src, sp.first_floats * sizeof(float));
	if (sp.rest_floats > 0)
		memcpy(r->buf, src + sp.first_floats, sp.rest_floats * sizeof(float));
	/* release: the frames are in place before the reader can see the new head. */
	atomic_store_explicit(&r->head, head + todo, memory_order_release);
	return todo;
}

size_t spsc_ring_read(struct spsc_ring *r, float *dst, size_t n)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t avail = head - tail;
	size_t todo = n < avail ? n : avail;

	if (todo == 0)
		return 0;
	struct ring_span sp = ring_span_of(r, tail, todo);
	memcpy(dst, sp.first, sp.first_floats * sizeof(float));
	if (sp.rest_floats > 0)
		memcpy(dst + sp.first_floats, r->buf, sp.rest_floats * sizeof(float));
	atomic_store_explicit(&r->tail, tail + todo, memory_order_release);
	return todo;
}

size_t spsc_ring_readable(const struct spsc_ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	return head - tail;
}

size_t spsc_ring_writable(const struct spsc_ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	return r->capacity_frames - (head - tail);
}

size_t spsc_ring_overruns(const struct spsc_ring *r)
{
	return atomic_load_explicit(&r->overruns, memory_order_relaxed);
}

size_t spsc_ring_writes(const struct spsc_ring *r)
{
	return atomic_load_explicit(&r->writes, memory_order_relaxed);
}

void spsc_ring_free(struct spsc_ring *r)
{
	if (!r)
		return;
	free(r->buf);
	r->buf = NULL;
	r->capacity_frames = 0;
}
