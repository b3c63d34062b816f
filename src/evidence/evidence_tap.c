/* evidence_tap.c - the pre-roll ring and the window/event queue between a monitor and the writer. */
#include "evidence/evidence_tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest ring: a latency or pre-roll beyond this is a configuration the bounds already refuse. */
#define TAP_RING_MAX_S 900.0

_Static_assert((EVIDENCE_TAP_MSGS & (EVIDENCE_TAP_MSGS - 1)) == 0, "a power of two");

int evidence_tap_init(struct evidence_tap *t, const struct evidence_tap_config *cfg,
		      struct auscult_err *err)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->monitor, sizeof(t->monitor), "%s", cfg->monitor ? cfg->monitor : "");
	double ring_s = cfg->pre_roll_s + cfg->latency_s + EVIDENCE_TAP_SLACK_S;
	if (cfg->rate_hz == 0 || !(cfg->pre_roll_s >= 0.0) || !(cfg->post_roll_s >= 0.0) ||
	    !(cfg->max_s > 0.0) || !(cfg->latency_s >= 0.0) || !(ring_s <= TAP_RING_MAX_S))
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"%s: evidence: a ring of %.1f s at %u Hz is out of range (0, %.0f]",
			t->monitor, ring_s, cfg->rate_hz, TAP_RING_MAX_S);
	t->rate_hz = cfg->rate_hz;
	t->pre_roll = (uint64_t)llround(cfg->pre_roll_s * cfg->rate_hz);
	t->post_roll = (uint64_t)llround(cfg->post_roll_s * cfg->rate_hz);
	t->max_len = (uint64_t)llround(cfg->max_s * cfg->rate_hz);
	t->lossless = cfg->lossless;
	t->capacity = (uint64_t)ceil(ring_s * cfg->rate_hz);
	/* The producer publishes its position after each chunk; a reader counts the chunk being
	 * written as gone already (see evidence_tap_read). */
	t->chunk_max = t->capacity / 8 > 0 ? t->capacity / 8 : 1;
	t->lag = (uint64_t)llround(cfg->latency_s * cfg->rate_hz);
	if (t->lag > t->capacity / 2)
		t->lag = t->capacity / 2;
	t->ring = calloc((size_t)t->capacity, sizeof(float));
	t->msgs = calloc(EVIDENCE_TAP_MSGS, sizeof(*t->msgs));
	if (!t->ring || !t->msgs) {
		evidence_tap_free(t);
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "%s: evidence: out of memory for a %.1f s ring", cfg->monitor,
				    ring_s);
	}
	atomic_init(&t->written, 0);
	atomic_init(&t->msg_head, 0);
	atomic_init(&t->msg_tail, 0);
	atomic_init(&t->msgs_dropped, 0);
	atomic_init(&t->hold_from, UINT64_MAX);
	atomic_init(&t->begun, 0);
	atomic_init(&t->waits, 0);
	atomic_init(&t->closed, false);
	atomic_init(&t->failed, 0);
	t->abandoned = UINT64_MAX;
	return AUSCULT_OK;
}

void evidence_tap_free(struct evidence_tap *t)
{
	if (!t)
		return;
	free(t->ring);
	free(t->msgs);
	t->ring = NULL;
	t->msgs = NULL;
}

/* The first sample a lossless producer must not overwrite yet. */
static uint64_t held_sample(const struct evidence_tap *t)
{
	uint64_t hold = atomic_load_explicit(&t->hold_from, memory_order_acquire);
	/* BEGINs still in the queue: the consumer has not claimed their spans yet; the oldest of
	 * them starts first (a writer behind can have several waiting). */
	uint32_t begun = atomic_load_explicit(&t->begun, memory_order_acquire);
	if (t->capture > begun) {
		uint64_t oldest = t->spans[(begun + 1) % EVIDENCE_TAP_MSGS];
		if (oldest < hold)
			hold = oldest;
	}
	return hold;
}

/* A lossless producer's wait for room; bounded, so a stuck disk cannot stop the monitor. */
static void wait_for_room(struct evidence_tap *t, uint64_t w, uint64_t chunk)
{
	int waited_ms = 0;
	for (;;) {
		uint64_t hold = held_sample(t);
		/* Room when the chunk and the one after it stay clear of the held sample. */
		if (hold == UINT64_MAX || hold == t->abandoned ||
		    w + chunk + t->chunk_max <= hold + t->capacity)
			break;
		if (waited_ms >= EVIDENCE_TAP_WAIT_MS) {
			t->abandoned = hold;
			break;
		}
		if (waited_ms == 0)
			atomic_fetch_add_explicit(&t->waits, 1, memory_order_relaxed);
		if (t->wake)
			t->wake(t->wake_ctx);
		struct timespec ts = { 0, 1000000L };
		nanosleep(&ts, NULL);
		waited_ms++;
	}
}

void evidence_tap_push(struct evidence_tap *t, const float *x, size_t n)
{
	uint64_t w = atomic_load_explicit(&t->written, memory_order_relaxed);
	while (n > 0) {
		uint64_t chunk = n < t->chunk_max ? n : t->chunk_max;
		if (t->lossless)
			wait_for_room(t, w, chunk);
		uint64_t at = w % t->capacity;
		uint64_t first = t->capacity - at < chunk ? t->capacity - at : chunk;
		memcpy(t->ring + at, x, (size_t)first * sizeof(float));
		if (first < chunk)
			memcpy(t->ring, x + first, (size_t)(chunk - first) * sizeof(float));
		w += chunk;
		x += chunk;
		n -= (size_t)chunk;
		atomic_store_explicit(&t->written, w, memory_order_release);
	}
}

void evidence_tap_close(struct evidence_tap *t)
{
	atomic_store_explicit(&t->closed, true, memory_order_release);
	if (t->wake)
		t->wake(t->wake_ctx);
}

void evidence_tap_restart(struct evidence_tap *t)
{
	t->stream_base = atomic_load_explicit(&t->written, memory_order_relaxed);
}

/* Slots only an END may take: the capture it closes was announced, and its files named in the
 * event, so it must reach the writer even when windows have filled the queue (a writer stalled
 * by a hung card for minutes). One capture is open at a time; a few spare. */
#define EVIDENCE_TAP_END_RESERVE 4u

static bool queue(struct evidence_tap *t, const struct evidence_msg *m)
{
	uint32_t head = atomic_load_explicit(&t->msg_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&t->msg_tail, memory_order_acquire);
	uint32_t room = m->kind == EVIDENCE_MSG_END ? EVIDENCE_TAP_MSGS
						    : EVIDENCE_TAP_MSGS - EVIDENCE_TAP_END_RESERVE;
	if (head - tail >= room) {
		atomic_fetch_add_explicit(&t->msgs_dropped, 1, memory_order_relaxed);
		return false;
	}
	t->msgs[head & (EVIDENCE_TAP_MSGS - 1)] = *m;
	atomic_store_explicit(&t->msg_head, head + 1, memory_order_release);
	return true;
}

bool evidence_tap_take(struct evidence_tap *t, struct evidence_msg *out)
{
	uint32_t tail = atomic_load_explicit(&t->msg_tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&t->msg_head, memory_order_acquire);
	if (tail == head)
		return false;
	*out = t->msgs[tail & (EVIDENCE_TAP_MSGS - 1)];
	if (out->kind == EVIDENCE_MSG_BEGIN) {
		/* Claim the span before the producer may overwrite it (lossless). */
		uint64_t hold = atomic_load_explicit(&t->hold_from, memory_order_relaxed);
		if (out->sample < hold)
			atomic_store_explicit(&t->hold_from, out->sample, memory_order_release);
		atomic_store_explicit(&t->begun, out->capture, memory_order_release);
	}
	atomic_store_explicit(&t->msg_tail, tail + 1, memory_order_release);
	return true;
}

/* The oldest sample a reader can trust when the producer has published w. */
static uint64_t oldest_valid(const struct evidence_tap *t, uint64_t w)
{
	return w + t->chunk_max > t->capacity ? w + t->chunk_max - t->capacity : 0;
}

size_t evidence_tap_read(struct evidence_tap *t, uint64_t from, float *out, size_t n, bool *lost)
{
	*lost = false;
	uint64_t w = atomic_load_explicit(&t->written, memory_order_acquire);
	if (from < oldest_valid(t, w)) {
		*lost = true;
		return 0;
	}
	if (from >= w)
		return 0;
	if (w - from < n)
		n = (size_t)(w - from);
	uint64_t at = from % t->capacity;
	uint64_t first = t->capacity - at < n ? t->capacity - at : n;
	memcpy(out, t->ring + at, (size_t)first * sizeof(float));
	if (first < n)
		memcpy(out + first, t->ring, (size_t)(n - first) * sizeof(float));
	/* The producer may have wrapped onto these slots during the copy. */
	uint64_t w2 = atomic_load_explicit(&t->written, memory_order_acquire);
	if (from < oldest_valid(t, w2)) {
		*lost = true;
		return 0;
	}
	return n;
}

uint64_t evidence_tap_sample_at(const struct evidence_tap *t, uint64_t window_sample,
				int64_t window_ms, int64_t at_ms)
{
	double back = (double)(window_ms - at_ms) * t->rate_hz / 1000.0;
	double s = (double)window_sample - back;
	return s <= 0.0 ? 0 : (uint64_t)llround(s);
}

void evidence_base_name(char *buf, size_t cap, int64_t start_ms, const char *event_id)
{
	time_t secs = (time_t)(start_ms >= 0 ? start_ms / 1000 : (start_ms - 999) / 1000);
	struct tm tm;
	char when[32] = "19700101T000000Z";
	if (gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, cap, "%s-%s", when, event_id);
}

const char *evidence_tap_window(struct evidence_tap *t, const struct pipeline_window *w,
				const char *event_id)
{
	uint64_t ws = t->stream_base + (uint64_t)llround(w->stream_s * t->rate_hz);
	struct evidence_msg m;
	memset(&m, 0, sizeof(m));
	m.kind = EVIDENCE_MSG_WINDOW;
	m.sample = ws;
	m.time_ms = w->time_ms;
	m.raw = w->raw;
	m.smoothed = w->smoothed;
	m.state = (uint8_t)w->det.state;
	queue(t, &m);
	if (!w->det.has_event || !event_id)
		return "";
	const struct detector_event *ev = &w->det.event;
	m.ev = *ev;
	if (ev->type == DETECTOR_EVENT_START) {
		uint64_t start = evidence_tap_sample_at(t, ws, w->time_ms, ev->start_ms);
		uint64_t span = start > t->pre_roll ? start - t->pre_roll : 0;
		uint64_t oldest =
			oldest_valid(t, atomic_load_explicit(&t->written, memory_order_relaxed));
		if (span < oldest) /* pre-roll longer than the ring holds: what there is */
			span = oldest;
		t->capture++;
		t->capturing = true;
		t->span_start = span;
		t->spans[t->capture % EVIDENCE_TAP_MSGS] = span;
		evidence_base_name(t->base, sizeof(t->base), ev->start_ms, event_id);
		m.kind = EVIDENCE_MSG_BEGIN;
		m.capture = t->capture;
		m.sample = span;
		m.mark = start;
		m.time_ms = ev->start_ms;
		snprintf(m.base, sizeof(m.base), "%s", t->base);
	} else {
		if (!t->capturing)
			return "";
		uint64_t end = evidence_tap_sample_at(t, ws, w->time_ms, ev->end_ms);
		uint64_t stop = end + t->post_roll;
		if (stop > t->span_start + t->max_len)
			stop = t->span_start + t->max_len;
		t->capturing = false;
		if (atomic_load_explicit(&t->failed, memory_order_acquire) == t->capture)
			t->base[0] = '\0'; /* the writer could not make its files: name none */
		m.kind = EVIDENCE_MSG_END;
		m.capture = t->capture;
		m.sample = stop;
		m.mark = end;
		m.time_ms = ev->end_ms;
	}
	if (!queue(t, &m) && m.kind == EVIDENCE_MSG_BEGIN) {
		/* The writer never hears of this capture: nothing to hold, no files to name. */
		t->capture--;
		t->capturing = false;
		t->base[0] = '\0';
		return "";
	}
	if (t->wake)
		t->wake(t->wake_ctx);
	return t->base;
}

const char *evidence_tap_cut(struct evidence_tap *t, const struct detector_event *ev)
{
	if (!t->capturing || ev->type != DETECTOR_EVENT_END)
		return "";
	struct evidence_msg m;
	memset(&m, 0, sizeof(m));
	m.kind = EVIDENCE_MSG_END;
	m.capture = t->capture;
	m.sample = atomic_load_explicit(&t->written, memory_order_relaxed);
	m.mark = m.sample;
	m.time_ms = ev->end_ms;
	m.ev = *ev;
	t->capturing = false;
	if (atomic_load_explicit(&t->failed, memory_order_acquire) == t->capture)
		t->base[0] = '\0';
	queue(t, &m);
	if (t->wake)
		t->wake(t->wake_ctx);
	return t->base;
}
