/* payloads.h - the JSON and text payloads auscultd publishes: score, state and anomaly event. */
#ifndef AUSCULT_PAYLOADS_H
#define AUSCULT_PAYLOADS_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "detect/detector.h"

/* Room for any payload below (the largest event, with five bands, four rise heads, a 64-byte
 * name, long numbers and its evidence files, is 1,649 bytes: tests/publish/test_payloads.c). */
#define PAYLOAD_MAX_BYTES 2048

/* A fault text in a score payload is cut to this many bytes (at a UTF-8 character boundary),
 * so that the payload, escaped, always fits PAYLOAD_MAX_BYTES. */
#define PAYLOAD_FAULT_MAX 200

/* The evidence writer as a score payload reports it. */
enum payload_evidence_state {
	PAYLOAD_EVIDENCE_OFF,   /* evidence.enabled false (or the writer did not start) */
	PAYLOAD_EVIDENCE_OK,    /* on, and its last attempt succeeded (or none failed yet) */
	PAYLOAD_EVIDENCE_FAULT, /* its last attempt failed */
};

struct payload_evidence {
	enum payload_evidence_state state;
	const char *fault; /* FAULT: the last fault's text (cut to PAYLOAD_FAULT_MAX bytes) */
	uint64_t errors;   /* FAULT: faults in the current run */
	int64_t since_ms;  /* FAULT: unix ms of the current run's first fault */
};

/*
 * Score message, e.g. {"time":"2024-05-01T12:00:00.500Z","monitor":"pump1","raw":0.81,
 * "smoothed":0.79,"threshold":1.2,"state":"normal","evidence":"ok"}, where "evidence" is "ok",
 * "off" (evidence NULL too) or {"fault":"<text>","errors":N,"since":ISO8601}. Writes into buf
 * (cap bytes, NUL-terminated). Returns AUSCULT_OK with *len (may be NULL) = strlen(buf), or
 * AUSCULT_ERR_NOMEM when it does not fit. Never allocates; any thread.
 */
int payload_score(char *buf, size_t cap, size_t *len, int64_t time_ms, const char *monitor,
		  float raw, float smoothed, float threshold, enum detector_state state,
		  const struct payload_evidence *evidence, struct auscult_err *err);

/* State message: the plain state name ("normal", "anomaly", "idle", "fault", "starting"). */
const char *payload_state(enum detector_state state);

/*
 * Event message: {"id":"<monitor>-<unix ms of start>","type":"start"|"end","monitor",
 * "start":ISO8601,"end":ISO8601|null,"duration_s","peak","mean","threshold",
 * "bands":[{"band","hz_low","hz_high","share"}, ... up to 5, largest share first],
 * "parts":{"network","window_head","rise"}, "rise_heads":{"envelope","tones","impulses","bursts"},
 * "rise_at":{..}} (the parts the model has, each its mean over the anomaly's windows, the rise
 * part split by the head that added it, and where each head heard most in the window it added
 * most: payload_rise_at_field; no "parts", "rise_heads" or "rise_at" when the event has none).
 * Same buffer rules as payload_score.
 */
int payload_event(char *buf, size_t cap, size_t *len, const char *monitor,
		  const struct detector_event *ev, struct auscult_err *err);

/*
 * "rise_at":{"envelope":{"rate_hz","band_hz":[lo,hi]},"tones":{"hz"},"impulses":{"rate_hz"},
 * "bursts":{"band_hz":[lo,hi]}}: where the rise heads in the mask heads (bit h:
 * detect/detector.h's head h) heard most, those of them with a place (parts->at[h].hz or its
 * band finite); none: no field. Part of an event (after
 * "rise_heads"), and of `auscult score --windows --json`'s windows.
 */
struct json_writer;
void payload_rise_at_field(struct json_writer *w, const struct detector_parts *parts,
			   uint32_t heads);

/*
 * As payload_event, with "evidence":{"audio":"<base>.flac","image":"<base>.png",
 * "record":"<base>.txt"} after "bands", where base is evidence_base ("<monitor>/<file base>",
 * relative to evidence.dir); evidence_base NULL or "": "evidence":null (none kept). Only end
 * events carry the field.
 */
int payload_event_evidence(char *buf, size_t cap, size_t *len, const char *monitor,
			   const struct detector_event *ev, const char *evidence_base,
			   struct auscult_err *err);

/* The event id into buf: "<monitor>-<start unix ms>" (truncated to cap - 1). */
void payload_event_id(char *buf, size_t cap, const char *monitor, int64_t start_ms);

#endif
