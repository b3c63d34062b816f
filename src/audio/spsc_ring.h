/* spsc_ring.h - a lock-free single-producer/single-consumer ring of float frames (C11 atomics). */
#ifndef AUSCULT_SPSC_RING_H
#define AUSCULT_SPSC_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* The callback must never take a lock: refuse to build where word-sized atomics are not
 * lock-free. */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && sizeof(size_t) == sizeof(long),
	       "spsc_ring needs lock-free atomics on size_t");

/*
 * One writer thread (an audio callback) and one reader thread. Neither side ever blocks,
 * allocates, locks or logs. The ring holds whole frames of frame_len floats; its capacity is a
 * power of two so the free-running indices wrap with a mask. Frames that do not fit are dropped
 * and counted (overruns), never overwriting unread data.
 */
struct spsc_ring {
	float *buf;             /* capacity_frames * frame_len floats */
	size_t capacity_frames; /* a power of two */
	size_t mask;            /* capacity_frames - 1 */
	size_t frame_len;       /* floats per frame */
	/* Padding keeps the producer's and the consumer's counters on separate cache lines without
	 * demanding 64-byte alignment of whoever embeds the ring (malloc gives 16). */
	char pad_producer[64];
	_Atomic size_t head;     /* frames ever written */
	_Atomic size_t overruns; /* frames ever dropped (wraps at 2^32 on 32-bit machines) */
	_Atomic size_t writes;   /* write calls ever made (a sign of life; wraps) */
	char pad_consumer[64];
	_Atomic size_t tail; /* frames ever read; written by the consumer only */
	char pad_end[64];
};

/*
 * Allocates a ring of at least min_frames frames (rounded up to a power of two, at least 2) of
 * frame_len floats. Call before either thread starts. Returns AUSCULT_OK, AUSCULT_ERR_INVALID
 * (zero sizes, too large) or AUSCULT_ERR_NOMEM, with a message in err.
 */
int spsc_ring_init(struct spsc_ring *r, size_t min_frames, size_t frame_len,
		   struct auscult_err *err);

/*
 * Producer: copies as many of the n frames at src as fit, drops and counts the rest.
 * Returns the frames written. Real-time safe (no locks, no allocation, no system calls).
 */
size_t spsc_ring_write(struct spsc_ring *r, const float *src, size_t n);

/* Consumer: copies up to n frames into dst; returns the frames read (0 when empty). */
size_t spsc_ring_read(struct spsc_ring *r, float *dst, size_t n);

/* Frames ready to read (consumer side; exact for the consumer, a lower bound for others). */
size_t spsc_ring_readable(const struct spsc_ring *r);

/* Frames that can be written without dropping (producer side). */
size_t spsc_ring_writable(const struct spsc_ring *r);

/*
 * Frames dropped since init, modulo 2^(bits of size_t): counters are word-sized because only
 * those are lock-free everywhere (64-bit atomics on a 32-bit ARM Pi may take a lock). Readers
 * that need a long total accumulate differences. Any thread.
 */
size_t spsc_ring_overruns(const struct spsc_ring *r);

/* spsc_ring_write calls since init (any thread, wraps): lets the reader see the producer live. */
size_t spsc_ring_writes(const struct spsc_ring *r);

/* Frees the buffer. Both threads must have stopped. NULL-safe; safe on a zeroed struct. */
void spsc_ring_free(struct spsc_ring *r);

#endif
