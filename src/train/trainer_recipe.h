/* trainer_recipe.h - the whole training recipe: dataset -> network -> folded model + threshold. */
#ifndef AUSCULT_TRAINER_RECIPE_H
#define AUSCULT_TRAINER_RECIPE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"
#include "features/feature_params.h"
#include "train/dataset.h"
#include "model/model.h"
#include "model/window_head.h"
#include "train/trainer.h"
#include "train/threshold_fit.h"

/* Everything `auscult train` can change. Defaults: TRAIN_RECIPE_DEFAULT (see train_options_recipe). */
struct train_options {
	struct feature_params features; /* the log-mel front end the model is trained on */
	struct trainer_config trainer;
	bool standardize;       /* per-dimension training mean/std into input_mean/input_std */
	uint32_t input_frames;  /* frame mask of the network input; 0 = all n_stack frames */
	uint32_t target_frames; /* frame mask of the reconstruction target; 0 = all */
	bool band_weights;      /* weight each band by 1 / its mean squared error on the data */
	enum clip_aggregation aggregation;
	float top_fraction; /* for CLIP_AGG_TOP_MEAN, in (0, 1] */
	float quantile;     /* threshold level of the fitted gamma, in (0, 1); 0.9 */
	/* How a threshold fitted to the daemon's smoothed windows (the learning mode,
	 * scripts/train-shipped-model) is placed, and at what quantile: set by how heavy the
	 * recipe's window-score tail is (train/threshold_fit.h). */
	enum threshold_fit_method window_fit;
	double window_quantile;
	bool window_head; /* add a window-statistics head (pipeline/head_fit.h) after training */
	struct window_head_shape head_shape; /* that head's kind, short frames and bands */
	bool rise_heads; /* then the rise heads (pipeline/rise_fit.h); needs window_head */
	bool bursts;     /* and among them the bursts head (model/rise_heads.h) */
};

/* The recipe train_options_defaults gives: what `auscult train` and the learning mode use. */
#define TRAIN_RECIPE_DEFAULT "idnn16-spec-burst"

/* Fills o with the default recipe, TRAIN_RECIPE_DEFAULT (threshold quantile 0.9, seed 0). */
void train_options_defaults(struct train_options *o);

/*
 * Fills o with a named recipe:
 * - "idnn16": the middle of five stacked frames predicted from the other four (0,1,3,4 -> 2),
 *   standardised inputs, per-band error weights, scores from the largest 10% of the vectors'
 *   errors (top:0.1), one hidden layer of 16 (dense 512-16-128), on the baseline's front end.
 * - "idnn16-fast": idnn16 on log-mel frames every 1024 samples (64 ms) instead of 512, scored
 *   by the largest 20% of the vectors' errors: half the front end's and the network's work for
 *   the same ranking.
 * - "idnn16-fast-stats": idnn16-fast plus the window-statistics head on 64-point frames every
 *   256 samples (model/window_head.h).
 * - "dcase2020": the DCASE 2020 Task 2 baseline (feature_params_defaults, trainer_config_defaults:
 *   640-128x4-8-128x4-640 on all five frames, no standardisation, no band weights, mean
 *   aggregation).
 * - "idnn16-fast-rise": idnn16-fast-stats plus the rise heads (model/rise_heads.h): envelope
 *   spectra and tonal peaks of each window, gated into its score (pipeline/rise_fit.h); its
 *   daemon threshold is fitted to the windows' tail (train/threshold_fit.h).
 * - "idnn16-spec-rise": idnn16-fast-rise with the window head's spectrum kind
 *   (model/spectrum_head.h) in place of its band Gaussian.
 * - "idnn16-spec-burst": idnn16-spec-rise with the rise heads' bursts head (each window's
 *   narrow bands' crest over the front end's frames: knocks, cracks). The default and the
 *   shipped model's recipe (models/README.md).
 * - "idnn16-stats": idnn16 plus the window-statistics head (model/window_head.h): each window's
 *   score sums the network's and the head's (pipeline.h). train_model leaves the head to the
 *   caller (pipeline/head_fit.h: it replays the recordings through the pipeline).
 * All train 100 epochs with Adam (lr 0.001), batch 512, the last 10% held out. Returns
 * AUSCULT_ERR_INVALID (o untouched) for any other name, with a message listing the names.
 */
int train_options_recipe(struct train_options *o, const char *name, struct auscult_err *err);

/* The recipe names train_options_recipe knows, comma-separated, for messages and --help. */
extern const char train_recipe_names[];

/*
 * Parses a frame list like "0,1,3,4" into a mask over n_stack frames. AUSCULT_ERR_INVALID with a
 * message naming the option (name) and the bad element.
 */
int train_parse_frames(const char *name, const char *text, uint32_t n_stack, uint32_t *mask,
		       struct auscult_err *err);

/* Parses "mean" or "top:F" (0 < F <= 1) into o->aggregation / o->top_fraction. */
int train_parse_aggregate(struct train_options *o, const char *text, struct auscult_err *err);

/* Called after each epoch with its figures (for progress display); may be NULL. */
typedef void (*train_epoch_fn)(void *ctx, const struct trainer_epoch_stats *stats, uint32_t epochs);

/* The figures of the last run, for the tool's summary. */
struct train_result {
	uint32_t epochs_run;
	float train_loss, val_loss;
	uint64_t train_rows, val_rows;
	float *clip_scores; /* n_files training clip scores (owned; free() it), file order */
	uint32_t n_clip_scores;
};

/*
 * Trains on the loaded dataset ds and fills m (zeroed by the caller) with a complete model that
 * passes model_validate: the features, frame masks, standardisation, folded layers, band weights,
 * aggregation, the gamma threshold fitted to every training file's clip score, and the training
 * info. stop (may be NULL) is polled between batches: when set, returns AUSCULT_ERR_INTERRUPTED
 * with m freed. result (may be NULL) receives the figures. On failure m is freed and err says why.
 */
int train_model(struct model *m, const struct dataset *ds, const struct train_options *o,
		train_epoch_fn on_epoch, void *ctx, const volatile sig_atomic_t *stop,
		struct train_result *result, struct auscult_err *err);

#endif
