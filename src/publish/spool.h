/* spool.h - the durable event spool: an append-only log of messages the broker has not acknowledged. */
#ifndef AUSCULT_SPOOL_H
#define AUSCULT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "publish/outbox.h" /* enum message_class */

/*
 * The file <dir>/events.spool is a sequence of records, each
 *   magic "ASPL" (4 bytes) | body length (u32 LE) | CRC-32 of the body (u32 LE) | body
 * with body = kind (1: put, 2: done) | id (u64 LE) | for put: class (u8) | topic length (u16 LE) |
 * topic | payload. A put is written and fdatasync'ed before spool_append returns; a done record
 * is only written (a lost one costs a duplicate, which at-least-once delivery allows). When every
 * put is done the file is truncated to nothing; spool_open rewrites it with the live records
 * only. A record whose magic, length or CRC is wrong (a write torn by a power cut, a garbled
 * sector) is skipped, counted and logged, and the scan resumes at the next magic.
 * Not thread-safe: the owner serialises access.
 */
struct spool;

/* One message held in the spool (owned by it). */
struct spool_record {
	uint64_t id; /* spool order, from 1; not the event's own id */
	enum message_class cls;
	char *topic;   /* NUL-terminated */
	char *payload; /* NUL-terminated */
	bool done;     /* acknowledged or dropped: no longer held */
};

/* What spool_open found on disk. */
struct spool_open_report {
	size_t replayed;        /* live records, in order */
	size_t corrupt_records; /* bad regions skipped (each logged) */
	size_t corrupt_bytes;   /* bytes in them */
	size_t superseded;      /* older states replaced by a later one for the same topic */
};

/*
 * Opens (creating dir and the file when missing, mode 0700/0600) the spool in dir, holding at most
 * max_bytes on disk. Reads every intact record; corrupt ones are skipped with a warning, never
 * fatal. Then rewrites the file with only the live records. *report (may be NULL) says what was
 * found. On failure *out is NULL and err names the path and the fix.
 */
int spool_open(struct spool **out, const char *dir, size_t max_bytes,
	       struct spool_open_report *report, struct auscult_err *err);

/* Closes the file and frees everything; the file stays as it is. NULL-safe. */
void spool_close(struct spool *s);

/* Records held (live and done-but-not-yet-compacted); spool_record_at(s, i) for i < count, in
 * append order. Live ones have done == false. */
size_t spool_count(const struct spool *s);
const struct spool_record *spool_record_at(const struct spool *s, size_t i);

/* Live records (not done). */
size_t spool_live(const struct spool *s);

/* The oldest live record whose id is id or more, or NULL. The pointer is valid until the next
 * spool_append or spool_done (which may compact). */
const struct spool_record *spool_next_live(const struct spool *s, uint64_t id);

/* Live events whose id is id or more; 0 when id is 0. */
size_t spool_live_events_from(const struct spool *s, uint64_t id);

/* What spool_append dropped to stay within max_bytes. */
struct spool_drop {
	uint32_t events; /* oldest live events dropped */
	uint32_t states; /* oldest live states dropped */
};

/*
 * Appends (topic, payload) of class cls (events and states; scores do not belong here) and
 * fdatasyncs it; *id_out gets its id. When the file would exceed max_bytes it is first compacted,
 * then the oldest live events (then states) are dropped until the new record fits; *drop (may be
 * NULL) counts them. Returns AUSCULT_OK, or AUSCULT_ERR_IO (err: the path and errno's text; the
 * file is left as before) or AUSCULT_ERR_NOMEM.
 */
int spool_append(struct spool *s, enum message_class cls, const char *topic, const char *payload,
		 uint64_t *id_out, struct spool_drop *drop, struct auscult_err *err);

/* Message id was acknowledged by the broker (or dropped from memory): it is no longer held.
 * Unknown or already done ids, and a NULL s, are ignored. Truncates the file when nothing is left. Returns
 * AUSCULT_OK or AUSCULT_ERR_IO (err set; the message is still marked done in memory). */
int spool_done(struct spool *s, uint64_t id, struct auscult_err *err);

/* Bytes the file holds now. */
size_t spool_file_bytes(const struct spool *s);

/* Totals since open: live records dropped to respect max_bytes. */
uint64_t spool_dropped_events(const struct spool *s);
uint64_t spool_dropped_states(const struct spool *s);

/* The spool file's name inside its folder. */
#define SPOOL_FILE_NAME "events.spool"

#endif
