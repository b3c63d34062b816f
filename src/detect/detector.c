/* detector.c - the normal/anomaly/idle/fault state machine and the anomaly events it emits. */
#include "detect/detector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/logmel.h"

static void anomaly_clear(struct detector *d);

static const char *const state_names[DETECTOR_STATE_COUNT] = {
	[DETECTOR_STARTING] = "starting", [DETECTOR_NORMAL] = "normal",
	[DETECTOR_ANOMALY] = "anomaly",   [DETECTOR_IDLE] = "idle",
	[DETECTOR_FAULT] = "fault",
};

const char *detector_state_name(enum detector_state s)
{
	if ((int)s < 0 || s >= DETECTOR_STATE_COUNT)
		return "unknown";
	return state_names[s];
}

const char *detector_part_name(enum detector_part k)
{
	static const char *const names[DETECTOR_N_PARTS] = {
		[DETECTOR_PART_NETWORK] = "network",
		[DETECTOR_PART_WINDOW_HEAD] = "window_head",
		[DETECTOR_PART_RISE] = "rise",
	};
	if ((int)k < 0 || k >= DETECTOR_N_PARTS)
		return "unknown";
	return names[k];
}

const char *detector_rise_head_name(enum detector_rise_head h)
{
	static const char *const names[DETECTOR_N_RISE_HEADS] = {
		[DETECTOR_RISE_ENVELOPE] = "envelope",
		[DETECTOR_RISE_TONES] = "tones",
		[DETECTOR_RISE_IMPULSES] = "impulses",
		[DETECTOR_RISE_BURSTS] = "bursts",
	};
	if ((int)h < 0 || h >= DETECTOR_N_RISE_HEADS)
		return "unknown";
	return names[h];
}

float detector_parts_term(const struct detector_parts *parts, int k)
{
	return k < DETECTOR_N_PARTS ? parts->v[k] : parts->rise[k - DETECTOR_N_PARTS];
}

const char *detector_term_name(int k)
{
	return k < DETECTOR_N_PARTS
		       ? detector_part_name((enum detector_part)k)
		       : detector_rise_head_name((enum detector_rise_head)(k - DETECTOR_N_PARTS));
}

void detector_config_defaults(struct detector_config *cfg)
{
	cfg->threshold = 1.0f;
	cfg->anomaly_after = 3;
	cfg->normal_after = 5;
	cfg->n_mels = 128;
	cfg->fmin_hz = 0.0f;
	cfg->fmax_hz = 8000.0f;
}

int detector_init(struct detector *d, const struct detector_config *cfg, struct auscult_err *err)
{
	memset(d, 0, sizeof(*d));
	if (!(cfg->threshold > 0.0f) || !isfinite(cfg->threshold))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "detector: threshold %g is out of range (0, inf)",
				    (double)cfg->threshold);
	if (cfg->anomaly_after < 1 || cfg->normal_after < 1)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "detector: anomaly_after %u and normal_after %u must be >= 1",
				    cfg->anomaly_after, cfg->normal_after);
	if (cfg->n_mels < 1 || cfg->n_mels > 4096)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "detector: %u bands is out of range [1, 4096]", cfg->n_mels);
	if (!(cfg->fmin_hz >= 0.0f) || !(cfg->fmax_hz > cfg->fmin_hz))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "detector: band range %g-%g Hz is empty", (double)cfg->fmin_hz,
				    (double)cfg->fmax_hz);
	d->cfg = *cfg;
	d->bands = calloc(cfg->n_mels, sizeof(*d->bands));
	d->pend_bands = calloc(cfg->n_mels, sizeof(*d->pend_bands));
	d->band_lo_hz = calloc(cfg->n_mels, sizeof(*d->band_lo_hz));
	d->band_hi_hz = calloc(cfg->n_mels, sizeof(*d->band_hi_hz));
	if (!d->bands || !d->pend_bands || !d->band_lo_hz || !d->band_hi_hz) {
		detector_free(d);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "detector: out of memory for %u bands",
				    cfg->n_mels);
	}
	/* Band b's triangle spans mel points b .. b + 2 of the filter bank. */
	for (uint32_t b = 0; b < cfg->n_mels; b++) {
		d->band_lo_hz[b] = (float)logmel_band_edge_hz(b, cfg->n_mels, cfg->fmin_hz,
							      cfg->fmax_hz);
		d->band_hi_hz[b] = (float)logmel_band_edge_hz(b + 2, cfg->n_mels, cfg->fmin_hz,
							      cfg->fmax_hz);
	}
	anomaly_clear(d);
	d->state = DETECTOR_STARTING;
	return AUSCULT_OK;
}

static void pending_clear(struct detector *d)
{
	d->pend_sum = 0.0;
	d->pend_peak = -INFINITY;
	d->pend_count = 0;
	memset(d->pend_bands, 0, d->cfg.n_mels * sizeof(*d->pend_bands));
	memset(d->pend_parts, 0, sizeof(d->pend_parts));
	memset(d->pend_part_count, 0, sizeof(d->pend_part_count));
	memset(d->pend_rise_best, 0, sizeof(d->pend_rise_best)); /* a term must exceed 0 */
}

static void pending_add(struct detector *d, float smoothed, const float *band_errors,
			const struct detector_parts *parts)
{
	d->pend_sum += smoothed;
	if (smoothed > d->pend_peak)
		d->pend_peak = smoothed;
	d->pend_count++;
	if (band_errors)
		for (uint32_t b = 0; b < d->cfg.n_mels; b++)
			d->pend_bands[b] += band_errors[b];
	if (!parts)
		return;
	for (int k = 0; k < DETECTOR_N_TERMS; k++) {
		float v = detector_parts_term(parts, k);
		if (isfinite(v)) {
			d->pend_parts[k] += v;
			d->pend_part_count[k]++;
		}
	}
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++)
		if (parts->rise[h] > d->pend_rise_best[h]) { /* false for NaN */
			d->pend_rise_best[h] = parts->rise[h];
			d->pend_rise_at[h] = parts->at[h];
		}
}

/* The pending run joins the anomaly's statistics. */
static void pending_commit(struct detector *d)
{
	d->sum += d->pend_sum;
	if (d->pend_peak > d->peak)
		d->peak = d->pend_peak;
	d->count += d->pend_count;
	for (uint32_t b = 0; b < d->cfg.n_mels; b++)
		d->bands[b] += d->pend_bands[b];
	for (int k = 0; k < DETECTOR_N_TERMS; k++) {
		d->parts[k] += d->pend_parts[k];
		d->part_count[k] += d->pend_part_count[k];
	}
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++)
		if (d->pend_rise_best[h] > d->rise_best[h]) {
			d->rise_best[h] = d->pend_rise_best[h];
			d->rise_at[h] = d->pend_rise_at[h];
		}
	pending_clear(d);
}

const char *detector_end_cause_name(enum detector_end_cause c)
{
	static const char *const names[DETECTOR_END_CAUSES] = {
		[DETECTOR_END_NORMAL] = "normal",
		[DETECTOR_END_IDLE] = "idle",
		[DETECTOR_END_FAULT] = "fault",
		[DETECTOR_END_STOPPED] = "stopped",
	};
	return c > DETECTOR_END_NONE && c < DETECTOR_END_CAUSES ? names[c] : NULL;
}

/* An END event when cause is not NONE (ending at end_ms), else a START. */
static void fill_event(const struct detector *d, enum detector_end_cause cause, int64_t end_ms,
		       int64_t now_ms, struct detector_event *ev)
{
	enum detector_event_type type = cause == DETECTOR_END_NONE ? DETECTOR_EVENT_START
								   : DETECTOR_EVENT_END;
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->ended_by = cause;
	ev->start_ms = d->start_ms;
	ev->end_ms = type == DETECTOR_EVENT_END ? end_ms : -1;
	ev->duration_s = (double)((type == DETECTOR_EVENT_END ? end_ms : now_ms) - d->start_ms) /
			 1000.0;
	if (ev->duration_s < 0.0)
		ev->duration_s = 0.0;
	ev->peak = d->count ? d->peak : 0.0f;
	ev->mean = d->count ? (float)(d->sum / (double)d->count) : 0.0f;
	ev->threshold = d->cfg.threshold;
	for (int k = 0; k < DETECTOR_N_TERMS; k++) {
		if (!d->part_count[k])
			continue;
		float mean = (float)(d->parts[k] / (double)d->part_count[k]);
		if (k < DETECTOR_N_PARTS) {
			ev->parts.v[k] = mean;
			ev->parts_seen |= 1u << k;
		} else {
			ev->parts.rise[k - DETECTOR_N_PARTS] = mean;
			ev->rise_seen |= 1u << (k - DETECTOR_N_PARTS);
		}
	}
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++)
		ev->parts.at[h] = d->rise_best[h] > 0.0f
					  ? d->rise_at[h]
					  : (struct detector_rise_at){ NAN, NAN, NAN };

	double total = 0.0;
	for (uint32_t b = 0; b < d->cfg.n_mels; b++)
		total += d->bands[b] > 0.0 ? d->bands[b] : 0.0;
	if (!(total > 0.0))
		return;
	/* Top-k by repeated selection: k is 5 and this runs once per event, not per window. */
	uint32_t picked[DETECTOR_TOP_BANDS];
	uint32_t k = d->cfg.n_mels < DETECTOR_TOP_BANDS ? d->cfg.n_mels : DETECTOR_TOP_BANDS;
	for (uint32_t i = 0; i < k; i++) {
		int best = -1;
		for (uint32_t b = 0; b < d->cfg.n_mels; b++) {
			int taken = 0;
			for (uint32_t j = 0; j < i; j++)
				taken |= picked[j] == b;
			if (taken || !(d->bands[b] > 0.0))
				continue;
			if (best < 0 || d->bands[b] > d->bands[best])
				best = (int)b;
		}
		if (best < 0)
			break;
		picked[i] = (uint32_t)best;
		ev->bands[i].band = (uint32_t)best;
		ev->bands[i].hz_low = d->band_lo_hz[best];
		ev->bands[i].hz_high = d->band_hi_hz[best];
		ev->bands[i].share = (float)(d->bands[best] / total);
		ev->n_bands = i + 1;
	}
}

static void anomaly_clear(struct detector *d)
{
	d->sum = 0.0;
	d->peak = -INFINITY;
	d->count = 0;
	memset(d->bands, 0, d->cfg.n_mels * sizeof(*d->bands));
	memset(d->parts, 0, sizeof(d->parts));
	memset(d->part_count, 0, sizeof(d->part_count));
	memset(d->rise_best, 0, sizeof(d->rise_best));
	pending_clear(d);
	d->run = 0;
}

static void output_begin(const struct detector *d, struct detector_output *out)
{
	out->state_changed = 0;
	out->previous = d->state;
	out->state = d->state;
	out->has_event = 0;
}

static void output_end(const struct detector *d, struct detector_output *out)
{
	out->state = d->state;
	out->state_changed = out->state != out->previous;
}

/* Leaves for state next (idle, fault or starting) at time_ms: an anomaly in progress ends there
 * for cause, with its end event in out. Finishes out. */
static void leave_for(struct detector *d, enum detector_state next, enum detector_end_cause cause,
		      int64_t time_ms, struct detector_output *out)
{
	if (d->state == DETECTOR_ANOMALY) {
		pending_commit(d);
		fill_event(d, cause, time_ms, time_ms, &out->event);
		out->has_event = 1;
	}
	anomaly_clear(d);
	d->state = next;
	output_end(d, out);
}

void detector_update(struct detector *d, int64_t time_ms, float smoothed, int idle,
		     const float *band_errors, const struct detector_parts *parts,
		     struct detector_output *out)
{
	output_begin(d, out);
	if (idle) {
		/* The machine stopped; if it sounded wrong, the anomaly ends here. */
		leave_for(d, DETECTOR_IDLE, DETECTOR_END_IDLE, time_ms, out);
		return;
	}
	if (d->state != DETECTOR_NORMAL && d->state != DETECTOR_ANOMALY) {
		anomaly_clear(d);
		d->state = DETECTOR_NORMAL;
	}
	int above = smoothed > d->cfg.threshold;
	if (d->state == DETECTOR_NORMAL) {
		if (!above) {
			d->run = 0;
			pending_clear(d);
		} else {
			if (d->run++ == 0)
				d->run_start_ms = time_ms;
			pending_add(d, smoothed, band_errors, parts);
			if (d->run >= d->cfg.anomaly_after) {
				d->start_ms = d->run_start_ms;
				pending_commit(d);
				d->run = 0;
				d->state = DETECTOR_ANOMALY;
				fill_event(d, DETECTOR_END_NONE, -1, time_ms, &out->event);
				out->has_event = 1;
			}
		}
	} else if (above) {
		/* A dip shorter than normal_after was part of the anomaly. */
		pending_commit(d);
		pending_add(d, smoothed, band_errors, parts);
		pending_commit(d);
		d->run = 0;
	} else {
		if (d->run++ == 0)
			d->run_start_ms = time_ms;
		pending_add(d, smoothed, band_errors, parts);
		if (d->run >= d->cfg.normal_after) {
			pending_clear(d); /* the closing run is normal sound, not the anomaly */
			fill_event(d, DETECTOR_END_NORMAL, d->run_start_ms, time_ms, &out->event);
			out->has_event = 1;
			anomaly_clear(d);
			d->state = DETECTOR_NORMAL;
		}
	}
	output_end(d, out);
}

void detector_set_fault(struct detector *d, int64_t time_ms, struct detector_output *out)
{
	output_begin(d, out);
	leave_for(d, DETECTOR_FAULT, DETECTOR_END_FAULT, time_ms, out);
}

void detector_stop(struct detector *d, int64_t time_ms, struct detector_output *out)
{
	output_begin(d, out);
	leave_for(d, DETECTOR_STARTING, DETECTOR_END_STOPPED, time_ms, out);
}

enum detector_state detector_get_state(const struct detector *d)
{
	return d->state;
}

void detector_reset(struct detector *d)
{
	anomaly_clear(d);
	d->state = DETECTOR_STARTING;
}

void detector_free(struct detector *d)
{
	if (!d)
		return;
	free(d->bands);
	free(d->pend_bands);
	free(d->band_lo_hz);
	free(d->band_hi_hz);
	memset(d, 0, sizeof(*d));
}
