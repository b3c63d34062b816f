/* learner.h - a new machine's model from its own sound: collect clips, train, refit to windows, save. */
#ifndef AUSCULT_LEARNER_H
#define AUSCULT_LEARNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "features/feature_params.h"
#include "pipeline/pipeline.h"
#include "train/trainer_recipe.h"

/* Clips learning needs at least: two to train on (training fits a gamma to its clips' scores),
 * one held out to fit the threshold to windows on. */
#define LEARNER_MIN_CLIPS 3

/* The learning mode's choices; learner_config_defaults gives the daemon's. */
struct learner_config {
	const char *model_path; /* the model to write (atomically) */
	const char *dir;        /* folder the clips are kept in (created if missing); bounded:
				    it never holds more than the clips asked for */
	double minutes;         /* normal sound to collect, > 0 (rounded up to whole clips, at
				    least LEARNER_MIN_CLIPS) */
	double clip_s;          /* clip length, seconds (CLIP_WRITER_DEFAULT_S) */
	double gate_s;          /* the silence gate looks at blocks this long (1 s) */
	struct pipeline_settings scoring; /* the monitor's scoring: the threshold is fitted to its
					     smoothed windows, and a block quieter than its
					     silence_dbfs is the machine off: it is skipped and the
					     clip in progress discarded */
	double holdout_share;       /* share of the clips, the newest, kept out of training to fit
				    the threshold on (0.2; at least one clip) */
	struct train_options train; /* the recipe and its front end (train_options_defaults); its
				       window_fit and window_quantile fit the threshold */
};

/* The daemon's learning: 10-s clips, 1-s gate at -70 dBFS, 2-s windows every 0.5 s fitted as
 * the default recipe says (as the shipped model's threshold), the newest 20% of the clips held
 * out, default features and recipe. model_path, dir and minutes are left for the caller. */
void learner_config_defaults(struct learner_config *c);

struct learner;

/*
 * Creates dir if needed, removes a partial clip a stopped run left there and counts the whole
 * ones: they count towards the minutes (a restart resumes). On failure *out is NULL and err
 * names the folder or the bad setting. Any thread; the learner is then used by one thread.
 */
int learner_create(struct learner **out, const struct learner_config *cfg, struct auscult_err *err);

/* Frees; a clip in progress is discarded. NULL-safe. */
void learner_destroy(struct learner *l);

/*
 * Feeds n samples at train.features.sample_rate_hz, x[0] being at unix time t_ms (names the clips).
 * Blocks of gate_s are judged whole: a quiet one is dropped with the clip in progress (a clip is
 * contiguous running sound); a loud one goes into the current clip. Samples once enough clips
 * are kept are ignored. *completed (may be NULL): clips finished during the call. Returns
 * AUSCULT_OK or AUSCULT_ERR_IO (a clip could not be written; err names it).
 */
int learner_push(struct learner *l, const float *x, size_t n, int64_t t_ms, uint32_t *completed,
		 struct auscult_err *err);

/* The audio stops being contiguous (the source was reopened): the clip in progress and the
 * pending block are dropped. */
void learner_break(struct learner *l);

/* Clips kept so far (those found at creation included), and the clips asked for. */
uint32_t learner_clips(const struct learner *l);
uint32_t learner_clips_needed(const struct learner *l);

/* Seconds of silent blocks skipped since creation. */
double learner_skipped_s(const struct learner *l);

/* Share of the audio collected, the clip in progress included: 0 to 1. */
double learner_collected_share(const struct learner *l);

/* Called after each training epoch; returning true stops the training (within a batch). */
typedef bool (*learner_epoch_fn)(void *ctx, uint32_t epoch, uint32_t epochs);

/* What training gave, for the log. */
struct learner_result {
	uint32_t train_clips, holdout_clips;
	uint64_t train_vectors;
	uint32_t epochs;
	float val_loss;
	size_t windows;       /* held-out windows the threshold is fitted to */
	float threshold;      /* the refitted threshold */
	size_t windows_above; /* held-out windows above it */
	double seconds;       /* training and refit, wall time */
};

/*
 * Trains a model on every clip in dir but the newest holdout_share (at least one), fits the
 * threshold to the held-out clips' window scores as the recipe says (train.window_fit at
 * train.window_quantile), and writes the model to model_path atomically (model_save). on_epoch
 * (may be NULL) is called on this thread after each epoch, and again (epoch == epochs) between
 * the fitting steps that follow; when it returns true the training stops:
 * AUSCULT_ERR_INTERRUPTED, nothing written. Needs LEARNER_MIN_CLIPS clips
 * (AUSCULT_ERR_INVALID). Other failures: the file, training or the fit (err says which). Minutes
 * of CPU on a small device: call it from a thread that may block.
 */
int learner_train(struct learner *l, learner_epoch_fn on_epoch, void *ctx,
		  struct learner_result *result, struct auscult_err *err);

#endif
