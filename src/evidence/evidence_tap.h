/* evidence_tap.h - a monitor's side of the evidence: a pre-roll ring of its audio and the
 * windows and anomaly events that tell the writer thread what to keep. */
#ifndef AUSCULT_EVIDENCE_TAP_H
#define AUSCULT_EVIDENCE_TAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "detect/detector.h"
#include "evidence/evidence_record.h"
#include "pipeline/pipeline.h"

/*
 * One producer (the monitor thread) and one consumer (the evidence writer's thread). The
 * producer copies every sample into a ring sized at init (pre_roll_s plus the time the detector
 * takes to confirm an anomaly, plus slack) and hands windows and anomaly starts and ends to the
 * consumer through a small queue. Neither side locks or allocates after init; positions are
 * free-running sample counters ("stream samples" since init), so the consumer can tell when the
 * ring overwrote samples it had not read yet.
 */

#define EVIDENCE_TAP_MSGS 512 /* windows and events in flight to the writer */
/* A base name and its longest extension (".flac") fit a record's file name. */
#define EVIDENCE_BASE_MAX (EVIDENCE_RECORD_NAME_MAX - 8)

/* Seconds of slack in the ring beyond pre-roll and detection latency: reads of up to half a
 * second and a writer that wakes every 100 ms. */
#define EVIDENCE_TAP_SLACK_S 3.0

enum evidence_msg_kind { EVIDENCE_MSG_WINDOW, EVIDENCE_MSG_BEGIN, EVIDENCE_MSG_END };

/* One item of the queue. */
struct evidence_msg {
	enum evidence_msg_kind kind;
	uint32_t capture; /* BEGIN/END: the capture's number on this tap (from 1) */
	uint64_t sample;  /* WINDOW: the window's last sample; BEGIN: the span's first;
			     END: one past the span's last */
	uint64_t mark;    /* BEGIN: the anomaly's first sample; END: one past its last */
	int64_t time_ms;  /* WINDOW: its time; BEGIN: the anomaly's start; END: its end */
	float raw, smoothed;
	uint8_t state;                /* enum detector_state after the window */
	struct detector_event ev;     /* BEGIN/END: the event */
	char base[EVIDENCE_BASE_MAX]; /* BEGIN: "<UTC start>-<event id>" */
};

struct evidence_tap_config {
	const char *monitor; /* copied (at most EVIDENCE_RECORD_NAME_MAX - 1 bytes) */
	uint32_t rate_hz;    /* of the samples pushed */
	double pre_roll_s;   /* kept before the anomaly's start */
	double post_roll_s;  /* kept after its end */
	double max_s;        /* the span's length at most */
	double latency_s;    /* audio pushed after a start before the monitor learns of it */
	bool lossless;       /* push waits (bounded) rather than overwrite unread samples: for
				   inputs read faster than real time (files), never for devices */
};

struct evidence_tap {
	char monitor[EVIDENCE_RECORD_NAME_MAX];
	uint32_t rate_hz;
	uint64_t pre_roll, post_roll, max_len; /* in samples */
	bool lossless;
	float *ring;
	uint64_t capacity;  /* samples in ring */
	uint64_t chunk_max; /* samples the producer writes before it publishes them, at most */
	uint64_t lag; /* the writer stays this far behind the producer until a span's end is known,
			 so that an END (which comes up to latency_s late) never finds it past */

	_Atomic uint64_t written; /* samples ever pushed (producer) */
	struct evidence_msg *msgs;
	_Atomic uint32_t msg_head; /* messages ever queued (producer) */
	_Atomic uint32_t msg_tail; /* messages ever taken (consumer) */
	_Atomic uint64_t msgs_dropped;
	/* lossless: the first sample the consumer still needs; UINT64_MAX none (consumer) */
	_Atomic uint64_t hold_from;
	_Atomic uint32_t begun;  /* the last capture whose BEGIN the consumer took (consumer) */
	_Atomic uint64_t waits;  /* lossless pushes that had to wait for the consumer */
	atomic_bool closed;      /* the producer pushes no more (its input ended) */
	_Atomic uint32_t failed; /* the last capture whose files could not be made (consumer) */

	void (*wake)(void *ctx); /* called after a BEGIN or END is queued; may be NULL */
	void *wake_ctx;

	/* The producer's own bookkeeping. */
	uint64_t stream_base; /* `written` at the pipeline's last restart */
	uint32_t capture;     /* the capture under way (0: none) or the last one */
	bool capturing;
	uint64_t span_start;
	/* Each capture's span start by its number (mod EVIDENCE_TAP_MSGS: no more BEGINs than that
	 * can wait in the queue), so that the oldest one the writer has not claimed is held, not
	 * only the newest. */
	uint64_t spans[EVIDENCE_TAP_MSGS];
	char base[EVIDENCE_BASE_MAX]; /* the capture under way or the last one */
	uint64_t abandoned;           /* lossless: a hold waited out once is not waited for again */
};

/*
 * Allocates the ring and the queue. Returns AUSCULT_OK, or AUSCULT_ERR_INVALID / NOMEM with err
 * naming the monitor. Before either thread uses the tap.
 */
int evidence_tap_init(struct evidence_tap *t, const struct evidence_tap_config *cfg,
		      struct auscult_err *err);

/* Frees what init allocated. NULL-safe; safe after a failed init. */
void evidence_tap_free(struct evidence_tap *t);

/*
 * Producer: copies n samples into the ring. Never allocates or locks; a lossless tap may wait
 * up to EVIDENCE_TAP_WAIT_MS for the writer to read samples it would otherwise overwrite (once
 * per position the writer holds: a writer stuck on the disk costs the monitor one wait, then
 * loses samples, which it notices).
 */
void evidence_tap_push(struct evidence_tap *t, const float *x, size_t n);

#define EVIDENCE_TAP_WAIT_MS 2000

/* Producer: no more audio will come (the input ended): captures end with what there is. */
void evidence_tap_close(struct evidence_tap *t);

/* Producer: the pipeline restarted (its stream_s counts from 0 again at this sample). */
void evidence_tap_restart(struct evidence_tap *t);

/*
 * Producer: one window from the pipeline. Queues it, and on an anomaly start queues a BEGIN for
 * the span from pre_roll_s before it; on an end an END at post_roll_s after it (capped at max_s).
 * event_id (payload_event_id of the window's event; NULL without one) names the capture.
 * Returns the base name of the capture the window's event belongs to ("" when it has none).
 */
const char *evidence_tap_window(struct evidence_tap *t, const struct pipeline_window *w,
				const char *event_id);

/*
 * Producer: the audio stopped (fault) and ended the anomaly without a window: the span ends with
 * the audio pushed so far. Returns the capture's base name ("" when none is under way).
 */
const char *evidence_tap_cut(struct evidence_tap *t, const struct detector_event *ev);

/* The sample position a stream time maps to: the window's sample minus the time between. */
uint64_t evidence_tap_sample_at(const struct evidence_tap *t, uint64_t window_sample,
				int64_t window_ms, int64_t at_ms);

/* Consumer: takes the oldest queued message. Returns false when there is none. */
bool evidence_tap_take(struct evidence_tap *t, struct evidence_msg *out);

/*
 * Consumer: copies the samples [from, from + n) out of the ring. Returns the number copied:
 * fewer than n when not all were pushed yet, or 0 with *lost set when the ring has overwritten
 * `from` already.
 */
size_t evidence_tap_read(struct evidence_tap *t, uint64_t from, float *out, size_t n, bool *lost);

/* The base name "<YYYYmmddTHHMMSSZ of start_ms, UTC>-<event_id>" into buf. */
void evidence_base_name(char *buf, size_t cap, int64_t start_ms, const char *event_id);

#endif
