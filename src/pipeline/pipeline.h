/* pipeline.h - the one scoring pipeline: samples in; window scores, states and events out. */
#ifndef AUSCULT_PIPELINE_H
#define AUSCULT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "detect/detector.h"
#include "detect/gate.h"
#include "detect/smoother.h"
#include "model/model.h"

/*
 * One pipeline serves auscultd's monitors (src/daemon/monitor.c) and the tools (`auscult score
 * --windows`, `auscult threshold`), so a recording replayed offline gets exactly the windows,
 * scores, states and events the daemon publishes for it.
 *
 * Samples at the model's rate go through the streaming feature extractor; each stacked vector is
 * scored once by the autoencoder, batched: vectors are held until the one that completes the next
 * window (at most PIPELINE_BATCH_MAX_VECTORS), which is when anyone looks at them. The gate
 * (detect/gate.h) judges every vector by the quietest hop of samples it covers: vectors below
 * silence_dbfs, and those of the first settle_s after the machine starts again, do not enter a
 * window's score. A window with fewer than half of its vectors counted is idle: the smoother
 * forgets its history (smoothing restarts from the first counted window) and the detector goes
 * idle. Otherwise the window's raw score (mean over counted vectors) is smoothed and fed to the
 * detector (threshold with hysteresis). Every window is handed to the caller's callback.
 *
 * A model with a window head (model.h) also streams the samples through it; each window's score
 * is then the autoencoder's over its median on the training windows plus ln(1 + the head's over
 * its median on held-out training windows). The head sees every sample of the window (the gate only decides idleness).
 *
 * The settle time works on both sides of a stop: windows are held settle_s (rounded up to whole
 * hops) before they are smoothed and decided, and when a window is idle the held ones, the
 * machine's last settle_s of running down or fading out, become idle too. So the daemon's
 * windows, states and events come settle_s after their audio (their times are their own);
 * settle_s 0 decides every window at once.
 */

/* Bounds of struct pipeline_settings; the config loader's option table uses these. */
#define PIPELINE_WINDOW_S_MIN 0.2
#define PIPELINE_WINDOW_S_MAX 60.0
#define PIPELINE_HOP_S_MAX 60.0 /* and at most window_s; the lower bound, 0, is open */
#define PIPELINE_SMOOTHING_WINDOWS_MAX 1000
#define PIPELINE_HYSTERESIS_MAX 10000
#define PIPELINE_SILENCE_DBFS_MIN -200.0
/* The machine-off level a monitor starts with (dBFS): the gate's. */
#define PIPELINE_SILENCE_DBFS_DEFAULT GATE_SILENCE_DBFS_DEFAULT
#define PIPELINE_STR_(x) #x
#define PIPELINE_STR(x) PIPELINE_STR_(x)
#define PIPELINE_SILENCE_DBFS_DEFAULT_TEXT PIPELINE_STR(PIPELINE_SILENCE_DBFS_DEFAULT)
#define PIPELINE_SILENCE_DBFS_MAX 0.0
#define PIPELINE_SETTLE_S_MAX 600.0

/*
 * Vectors scored in one autoencoder call at most. One call streams the model's weights (about
 * 1 MB for the baseline) through the cache once; scoring 3 vectors per 100 ms read cost ~60 us a
 * vector with the weights evicted in between, 16 at a time ~20 us. 16 is the default hop (0.5 s).
 */
#define PIPELINE_BATCH_MAX_VECTORS 16

/* How a monitor scores and decides: YAML keys of a monitor, owned here (defaults, bounds). */
struct pipeline_settings {
	double window_s;              /* scoring window, default 2.0 s, [0.2, 60] */
	double hop_s;                 /* between window scores, default 0.5 s, (0, window_s] */
	enum smoother_kind smoothing; /* default SMOOTHER_EMA */
	uint32_t smoothing_windows;   /* default 4, [1, 1000] */
	bool threshold_set;           /* false: use the model's threshold */
	double threshold;             /* override when threshold_set, > 0 */
	uint32_t anomaly_after; /* windows above the threshold to enter anomaly, 3, [1, 10000] */
	uint32_t normal_after;  /* windows at or below to return to normal, 5, [1, 10000] */
	double silence_dbfs;    /* vectors quieter than this are the machine off, default -70,
					 [-200, 0]; -INFINITY: no gate */
	double settle_s;        /* ignored after the machine starts, default 3 s, [0, 600] */
};

/* The defaults above. */
void pipeline_settings_defaults(struct pipeline_settings *ps);

/*
 * Checks every field against the bounds above (hop_s also against window_s). Returns AUSCULT_OK,
 * or AUSCULT_ERR_INVALID with err saying why and *field (if field is not NULL) set to the
 * offending YAML key ("hop_s", "smoothing.windows", ...). The one place settings are validated.
 */
int pipeline_settings_validate(const struct pipeline_settings *ps, const char **field,
			       struct auscult_err *err);

/* One finished window, as the callback sees it. Pointers are valid during the callback only. */
struct pipeline_window {
	uint64_t index;  /* windows since the pipeline's creation or restart */
	int64_t time_ms; /* unix ms: the caller's wall clock, or stream time (see push) */
	double stream_s; /* end of the window's audio, seconds since the (re)start */
	float raw;       /* the window's score: the autoencoder's (mean, or top share, over
				     the counted vectors), or with a window head the sum
				     ae_raw / ae_median + ln(1 + head_raw / head_median), plus
				     rise_raw with rise heads; NaN: none */
	float ae_raw;    /* the autoencoder's part of raw */
	float head_raw;  /* the window head's score (model/window_head.h); NaN: no head,
				     or a head not fitted yet */
	const float *head_features;  /* the head's pooled features (head->dim); NULL: no head */
	float rise_raw;              /* what the rise heads added to raw (model/rise_heads.h);
				       NaN: none, or not fitted yet */
	const float *rise_features;  /* the rise heads' features, envelope then tones; NULL:
				       none */
	struct detector_parts parts; /* the terms raw sums (detect/detector.h) */
	float smoothed;              /* what the detector compared; NaN when idle */
	float rms_dbfs;              /* the window's level over all its vectors */
	uint32_t n_counted;          /* vectors that counted, of window_vectors */
	bool idle;                   /* fewer than half counted: machine off or settling */
	const float *band_errors;    /* n_mels mean band errors over the counted vectors */
	struct detector_output det;  /* state and event from this window */
};

/* Called for every window from inside pipeline_push (same thread). */
typedef void (*pipeline_window_fn)(void *ctx, const struct pipeline_window *w);

struct pipeline_config {
	const struct model *model; /* borrowed; must outlive the pipeline */
	struct pipeline_settings settings;
	pipeline_window_fn on_window; /* may be NULL */
	void *ctx;                    /* passed to on_window */
};

struct pipeline;

/* Seconds of audio one model input spans (its stacked frames): a window holds at least one. */
double pipeline_input_s(const struct feature_params *fp);

/*
 * Validates cfg->settings (and that window_s holds one input of the model) and sets up every
 * stage (all allocation happens here). Returns
 * AUSCULT_OK, or the failing status with err set (*out NULL). The stream time base is 0 until
 * pipeline_restart. A resource owner used by one thread at a time.
 */
int pipeline_create(struct pipeline **out, const struct pipeline_config *cfg,
		    struct auscult_err *err);

/*
 * Pushes n mono samples at the model's rate (any n). Windows completed by them go to the
 * callback. Their time is now_ms when now_ms >= 0 (live audio: the wall clock of the read), else
 * stream time: the base given to pipeline_restart plus the position of the window's last sample.
 * Never allocates, never logs, never fails.
 */
void pipeline_push(struct pipeline *p, const float *x, size_t n, int64_t now_ms);

/* Samples to push before the next window completes (>= 1), so a paced reader can wake once per
 * window. */
size_t pipeline_samples_to_next_window(const struct pipeline *p);

/* Decides and hands out the windows still held (end of input). pipeline_restart,
 * pipeline_set_fault, pipeline_stop and pipeline_replay_file do it themselves. */
void pipeline_flush(struct pipeline *p);

/*
 * Forgets the audio so far (after a reopen or a loop: the next samples are not contiguous) and
 * starts stream time at base_ms. The detector's state is kept.
 */
void pipeline_restart(struct pipeline *p, int64_t base_ms);

/* Stream time (unix ms) just after the last sample pushed since pipeline_restart: its base plus
 * the audio pushed. A caller that restarts a stream read faster than real time starts the next
 * one here if the wall clock is behind, so the times the detector sees never go back. */
int64_t pipeline_stream_end_ms(const struct pipeline *p);

/* The audio stopped (device gone, stalled): the detector enters FAULT; its output in *out. */
void pipeline_set_fault(struct pipeline *p, int64_t time_ms, struct detector_output *out);

/* The monitor stops listening (a stop, a reload, the input's end): the windows still held are
 * decided, then an anomaly in progress ends at time_ms (detector_stop); the output in *out. */
void pipeline_stop(struct pipeline *p, int64_t time_ms, struct detector_output *out);

/* The detector's state. */
enum detector_state pipeline_state(const struct pipeline *p);

/* The threshold the detector compares smoothed scores with (override or the model's). */
float pipeline_threshold(const struct pipeline *p);

/* Window and hop in vectors, as the settings' seconds came out for this model. */
uint32_t pipeline_window_vectors(const struct pipeline *p);
uint32_t pipeline_hop_vectors(const struct pipeline *p);

/* Whether pipeline_replay_file logs what the file reader noticed (a truncated file: the part
 * that is there is replayed). A caller replaying a file it has read before says it once. */
enum pipeline_replay_notes { PIPELINE_REPLAY_WARN, PIPELINE_REPLAY_QUIET };

/*
 * Replays an audio file through p as the daemon reads a file source (converted to the model's
 * rate, channel AUDIO_CHANNEL_AVERAGE or one channel index, not paced): pipeline_restart(p, 0)
 * first, stream time, windows to the callback. Returns AUSCULT_OK at the file's end, or the
 * failing status with err naming the file. Not for real-time threads (it opens the file).
 */
int pipeline_replay_file(struct pipeline *p, const char *path, int channel,
			 enum pipeline_replay_notes notes, struct auscult_err *err);

/* Frees everything. NULL-safe. */
void pipeline_destroy(struct pipeline *p);

#endif
