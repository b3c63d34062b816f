/* payloads.c - builds the score/state/event payloads with json_writer (schema in payloads.h). */
#include "publish/payloads.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/json_writer.h"

/* src cut to at most cap - 1 bytes without splitting a UTF-8 character. */
static void cut_utf8(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap) {
		n = cap - 1;
		/* Back off the continuation bytes (10xxxxxx) of a character the cut would split. */
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The score payload's "evidence": "ok", "off" or the fault object. */
static void evidence_health(struct json_writer *w, const struct payload_evidence *ev)
{
	json_key(w, "evidence");
	if (!ev || ev->state == PAYLOAD_EVIDENCE_OFF) {
		json_string(w, "off");
		return;
	}
	if (ev->state == PAYLOAD_EVIDENCE_OK) {
		json_string(w, "ok");
		return;
	}
	char text[PAYLOAD_FAULT_MAX + 1];
	cut_utf8(text, sizeof(text), ev->fault ? ev->fault : "");
	json_object_open(w);
	json_field_string(w, "fault", text);
	json_field_uint(w, "errors", ev->errors);
	json_field_time_ms(w, "since", ev->since_ms);
	json_object_close(w);
}

int payload_score(char *buf, size_t cap, size_t *len, int64_t time_ms, const char *monitor,
		  float raw, float smoothed, float threshold, enum detector_state state,
		  const struct payload_evidence *evidence, struct auscult_err *err)
{
	struct json_writer w;
	json_writer_init(&w, buf, cap);
	json_object_open(&w);
	json_field_time_ms(&w, "time", time_ms);
	json_field_string(&w, "monitor", monitor);
	json_field_double(&w, "raw", raw);
	json_field_double(&w, "smoothed", smoothed);
	json_field_double(&w, "threshold", threshold);
	json_field_string(&w, "state", detector_state_name(state));
	evidence_health(&w, evidence);
	json_object_close(&w);
	return json_writer_finish(&w, len, err);
}

const char *payload_state(enum detector_state state)
{
	return detector_state_name(state);
}

void payload_event_id(char *buf, size_t cap, const char *monitor, int64_t start_ms)
{
	snprintf(buf, cap, "%s-%" PRId64, monitor, start_ms);
}

int payload_event(char *buf, size_t cap, size_t *len, const char *monitor,
		  const struct detector_event *ev, struct auscult_err *err)
{
	return payload_event_evidence(buf, cap, len, monitor, ev, NULL, err);
}

/* "evidence": the three files of one event, or null. */
static void evidence_field(struct json_writer *w, const char *base)
{
	static const char *const keys[] = { "audio", "image", "record" };
	static const char *const exts[] = { ".flac", ".png", ".txt" };
	json_key(w, "evidence");
	if (!base || !base[0]) {
		json_null(w);
		return;
	}
	json_object_open(w);
	for (size_t i = 0; i < 3; i++) {
		char path[PAYLOAD_MAX_BYTES / 4];
		snprintf(path, sizeof(path), "%s%s", base, exts[i]);
		json_field_string(w, keys[i], path);
	}
	json_object_close(w);
}

/* "KEY":{NAME:VALUE,..}: the event's terms first .. first + n - 1 (detect/detector.h) whose bit
 * (from bit 0 for term first) is set in seen; none: no field. */
static void terms_field(struct json_writer *w, const char *key, const struct detector_event *ev,
			int first, int n, uint32_t seen)
{
	if (!seen)
		return;
	json_key(w, key);
	json_object_open(w);
	for (int k = 0; k < n; k++) {
		if (!(seen & (1u << k)))
			continue;
		json_key(w, detector_term_name(first + k));
		json_double_digits(w, detector_parts_term(&ev->parts, first + k), 4);
	}
	json_object_close(w);
}

void payload_rise_at_field(struct json_writer *w, const struct detector_parts *parts,
			   uint32_t heads)
{
	int any = 0;
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++) {
		const struct detector_rise_at *at = &parts->at[h];
		/* the bursts head has a band and no rate */
		if (!(heads & (1u << h)) || (!isfinite(at->hz) && !isfinite(at->band_lo_hz)))
			continue;
		if (!any++) {
			json_key(w, "rise_at");
			json_object_open(w);
		}
		json_key(w, detector_rise_head_name((enum detector_rise_head)h));
		json_object_open(w);
		/* a tone's frequency; the others' how many times a second */
		if (isfinite(at->hz)) {
			json_key(w, h == DETECTOR_RISE_TONES ? "hz" : "rate_hz");
			json_double_digits(w, at->hz, 4);
		}
		if (isfinite(at->band_lo_hz) && isfinite(at->band_hi_hz)) {
			json_key(w, "band_hz");
			json_array_open(w);
			json_double_digits(w, at->band_lo_hz, 4);
			json_double_digits(w, at->band_hi_hz, 4);
			json_array_close(w);
		}
		json_object_close(w);
	}
	if (any)
		json_object_close(w);
}

int payload_event_evidence(char *buf, size_t cap, size_t *len, const char *monitor,
			   const struct detector_event *ev, const char *evidence_base,
			   struct auscult_err *err)
{
	char id[128];
	payload_event_id(id, sizeof(id), monitor, ev->start_ms);
	struct json_writer w;
	json_writer_init(&w, buf, cap);
	json_object_open(&w);
	json_field_string(&w, "id", id);
	json_field_string(&w, "type", ev->type == DETECTOR_EVENT_START ? "start" : "end");
	json_field_string(&w, "monitor", monitor);
	json_field_time_ms(&w, "start", ev->start_ms);
	json_key(&w, "end");
	if (ev->type == DETECTOR_EVENT_END)
		json_time_ms(&w, ev->end_ms);
	else
		json_null(&w);
	json_field_double(&w, "duration_s", ev->duration_s);
	json_field_double(&w, "peak", ev->peak);
	json_field_double(&w, "mean", ev->mean);
	json_field_double(&w, "threshold", ev->threshold);
	json_key(&w, "ended_by");
	json_string(&w, detector_end_cause_name(ev->ended_by)); /* null in a start */
	json_key(&w, "bands");
	json_array_open(&w);
	for (uint32_t i = 0; i < ev->n_bands && i < DETECTOR_TOP_BANDS; i++) {
		json_object_open(&w);
		json_field_uint(&w, "band", ev->bands[i].band);
		json_key(&w, "hz_low");
		json_double_digits(&w, ev->bands[i].hz_low, 6);
		json_key(&w, "hz_high");
		json_double_digits(&w, ev->bands[i].hz_high, 6);
		json_key(&w, "share");
		json_double_digits(&w, ev->bands[i].share, 4);
		json_object_close(&w);
	}
	json_array_close(&w);
	/* which part of the detector heard it, and which rise heads */
	terms_field(&w, "parts", ev, 0, DETECTOR_N_PARTS, ev->parts_seen);
	terms_field(&w, "rise_heads", ev, DETECTOR_N_PARTS, DETECTOR_N_RISE_HEADS, ev->rise_seen);
	payload_rise_at_field(&w, &ev->parts, ev->rise_seen);
	if (ev->type == DETECTOR_EVENT_END)
		evidence_field(&w, evidence_base);
	json_object_close(&w);
	return json_writer_finish(&w, len, err);
}
