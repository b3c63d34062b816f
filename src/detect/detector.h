/* detector.h - threshold and hysteresis over smoothed scores, idle and fault; anomaly events. */
#ifndef AUSCULT_DETECTOR_H
#define AUSCULT_DETECTOR_H

#include <stdint.h>

#include "common/status.h"

enum detector_state {
	DETECTOR_STARTING = 0, /* no window scored yet */
	DETECTOR_NORMAL,
	DETECTOR_ANOMALY,
	DETECTOR_IDLE,  /* the gate judged the window idle: the machine is off (or settling) */
	DETECTOR_FAULT, /* set by the caller: the audio stopped coming */
	DETECTOR_STATE_COUNT
};

/* "starting", "normal", "anomaly", "idle", "fault": the MQTT state payloads. */
const char *detector_state_name(enum detector_state s);

struct detector_config {
	float threshold;        /* smoothed score above which a window is anomalous, > 0 */
	uint32_t anomaly_after; /* consecutive windows above to enter anomaly, >= 1 */
	uint32_t normal_after;  /* consecutive windows at or below to return to normal, >= 1 */
	uint32_t n_mels;        /* bands in the window band-error arrays */
	float fmin_hz, fmax_hz; /* the mel filter bank's range, to name bands in Hz */
};

#define DETECTOR_TOP_BANDS 5

/* A mel band that contributed to an anomaly's reconstruction error. */
struct detector_band {
	uint32_t band; /* mel band index, 0 = lowest */
	float hz_low;  /* the band's triangular filter edges, Hz */
	float hz_high;
	float share; /* this band's part of the summed error over the anomaly, 0..1 */
};

/*
 * The terms a window's raw score sums (pipeline.h): the network's reconstruction error (over its
 * training median when the model has a window head), the window head's ln(1 + head / median),
 * and what the rise heads add. An anomaly's means of them say which part of the detector heard
 * it: a burst or a broadband change (the network), a band's level or steadiness (the window
 * head), a modulation or a tone (the rise heads).
 */
enum detector_part { DETECTOR_PART_NETWORK, DETECTOR_PART_WINDOW_HEAD, DETECTOR_PART_RISE };
#define DETECTOR_N_PARTS 3

/*
 * The rise part split by the rise head that added it (model/rise_heads.h): the envelope spectra
 * of the bands (a modulation: a rub, an imbalance, slow impacts), the tonal peaks (a whine, a new
 * harmonic set), the impulse envelope (impacts: a bearing, cavitation) and the bursts (a knock,
 * a crack: a narrow band loud for a frame or two).
 */
enum detector_rise_head {
	DETECTOR_RISE_ENVELOPE,
	DETECTOR_RISE_TONES,
	DETECTOR_RISE_IMPULSES,
	DETECTOR_RISE_BURSTS
};
#define DETECTOR_N_RISE_HEADS 4

/*
 * Where in its features a rise head heard most, the kind of sound it was, for a person to match
 * with the machine: a tone's frequency; for the envelope and the impulses how many times a
 * second the level rose and fell (a bearing's impacts a second, a rub's rotation rate), and for
 * the envelope in which band. NaN: none.
 */
struct detector_rise_at {
	float hz;         /* tones: the tone, Hz; envelope, impulses: the rate, Hz */
	float band_lo_hz; /* envelope: the band whose level rose and fell; bursts: the band that
			     rang; Hz; NaN otherwise */
	float band_hi_hz;
};

/* One window's parts; NaN: the model has no such part (or it is not fitted yet). */
struct detector_parts {
	float v[DETECTOR_N_PARTS];
	float rise[DETECTOR_N_RISE_HEADS];                 /* what each rise head adds; they sum to
					      v[DETECTOR_PART_RISE]; NaN: no such head */
	struct detector_rise_at at[DETECTOR_N_RISE_HEADS]; /* where each head's largest rise
							      lay, in the evaluation of rise[] */
};

/* A part's name in payloads and outputs: "network", "window_head", "rise". */
const char *detector_part_name(enum detector_part k);

/* A rise head's name in payloads and outputs: "envelope", "tones", "impulses", "bursts". */
const char *detector_rise_head_name(enum detector_rise_head h);

/* The parts, then the rise heads: what the detector averages over an anomaly. */
#define DETECTOR_N_TERMS (DETECTOR_N_PARTS + DETECTOR_N_RISE_HEADS)

/* Term k (0 .. DETECTOR_N_TERMS - 1) of a window's parts: v[k], then rise[k - DETECTOR_N_PARTS]. */
float detector_parts_term(const struct detector_parts *parts, int k);

/* Term k's name: detector_part_name's, then detector_rise_head_name's. */
const char *detector_term_name(int k);

enum detector_event_type { DETECTOR_EVENT_START = 0, DETECTOR_EVENT_END };

/* Why an anomaly ended (an END event's ended_by). */
enum detector_end_cause {
	DETECTOR_END_NONE = 0, /* a START event */
	DETECTOR_END_NORMAL,   /* the score stayed at or below the threshold for normal_after */
	DETECTOR_END_IDLE,     /* the machine stopped (the gate) */
	DETECTOR_END_FAULT,    /* the audio stopped: device gone, input stalled */
	DETECTOR_END_STOPPED, /* the monitor stopped listening: a stop, a reload, its input's end */
	DETECTOR_END_CAUSES
};

/* An end cause's name in payloads: "normal", "idle", "fault", "stopped"; NULL for NONE. */
const char *detector_end_cause_name(enum detector_end_cause c);

struct detector_event {
	enum detector_event_type type;
	int64_t start_ms;  /* time of the first window above the threshold, unix ms */
	int64_t end_ms;    /* END: time of the first window of the closing run below (or of the
			       silence/fault that cut it short); START: -1 */
	double duration_s; /* END: end - start; START: from start to the window that confirmed it */
	float peak;        /* largest smoothed score over the anomaly so far */
	float mean;        /* mean smoothed score over the anomaly so far */
	float threshold;
	enum detector_end_cause ended_by; /* END: why; START: DETECTOR_END_NONE */
	uint32_t n_bands;                 /* entries in bands, <= DETECTOR_TOP_BANDS */
	struct detector_band bands[DETECTOR_TOP_BANDS]; /* largest share first */
	struct detector_parts parts; /* each part's mean raw score over the anomaly's windows */
	uint32_t parts_seen;         /* bit k: parts.v[k] holds a mean (the model has part k) */
	uint32_t rise_seen;          /* bit h: parts.rise[h] holds a mean (the model has head h) */
	/* parts.at[h]: where head h heard most in the anomaly's window where it added most; NaN
	 * when it added nothing in any */
};

/* What one update produced. */
struct detector_output {
	int state_changed; /* state differs from the one before this update */
	enum detector_state previous;
	enum detector_state state;
	int has_event; /* one event at most per update */
	struct detector_event event;
};

struct detector {
	struct detector_config cfg;
	enum detector_state state;
	uint32_t run;         /* consecutive windows on the far side of the threshold */
	int64_t run_start_ms; /* time of the run's first window */
	int64_t start_ms;     /* the current anomaly's start */
	/* Statistics of the anomaly so far (committed) and of the current run (pending): the run
	 * becomes part of the anomaly when it confirms it (onset) or is broken (a dip below). */
	double sum, pend_sum;
	float peak, pend_peak;
	uint64_t count, pend_count;
	double *bands, *pend_bands; /* n_mels summed band errors */
	/* summed parts, then summed rise heads (DETECTOR_N_TERMS) */
	double parts[DETECTOR_N_TERMS], pend_parts[DETECTOR_N_TERMS];
	uint64_t part_count[DETECTOR_N_TERMS], pend_part_count[DETECTOR_N_TERMS];
	/* each rise head's largest term over the anomaly (and the run), and where it heard it */
	float rise_best[DETECTOR_N_RISE_HEADS], pend_rise_best[DETECTOR_N_RISE_HEADS];
	struct detector_rise_at rise_at[DETECTOR_N_RISE_HEADS], pend_rise_at[DETECTOR_N_RISE_HEADS];
	float *band_lo_hz, *band_hi_hz; /* n_mels filter edges */
};

/* Threshold 1, anomaly after 3, normal after 5, 128 mels over 0-8000 Hz. */
void detector_config_defaults(struct detector_config *cfg);

/*
 * Checks cfg and allocates the band accumulators. Returns AUSCULT_OK, or AUSCULT_ERR_INVALID /
 * AUSCULT_ERR_NOMEM with err set; detector_free is safe either way.
 */
int detector_init(struct detector *d, const struct detector_config *cfg, struct auscult_err *err);

/*
 * Feeds one window: its time (unix ms), smoothed score, whether the gate found it idle (the
 * machine off or settling: the score is then ignored and an anomaly in progress ends), n_mels
 * mean band errors (NULL: none) and the parts of its raw score (NULL: none). Fills *out. Never
 * allocates, never fails.
 */
void detector_update(struct detector *d, int64_t time_ms, float smoothed, int idle,
		     const float *band_errors, const struct detector_parts *parts,
		     struct detector_output *out);

/*
 * The audio stopped (device gone, stalled): ends an anomaly in progress (END event at time_ms)
 * and enters FAULT. The next detector_update leaves FAULT. Fills *out.
 */
void detector_set_fault(struct detector *d, int64_t time_ms, struct detector_output *out);

/*
 * The monitor stops listening (a stop, a reload, the end of its input): ends an anomaly in
 * progress (END event at time_ms, ended_by STOPPED), so that no start is left without its end,
 * and goes back to STARTING with no history, like detector_reset. Fills *out.
 */
void detector_stop(struct detector *d, int64_t time_ms, struct detector_output *out);

/* The current state. */
enum detector_state detector_get_state(const struct detector *d);

/* Back to STARTING with no history. */
void detector_reset(struct detector *d);

/* Frees. NULL-safe; safe on a zeroed or failed-init detector. */
void detector_free(struct detector *d);

#endif
