/* head_fit.h - fits a model's window head on normal recordings and rescales its threshold. */
#ifndef AUSCULT_HEAD_FIT_H
#define AUSCULT_HEAD_FIT_H

#include <stddef.h>

#include "common/status.h"
#include "model/autoencoder.h"
#include "model/model.h"
#include "model/window_head.h"
#include "pipeline/pipeline.h"

/*
 * Adds a window head (model/window_head.h) of the given shape (NULL: the defaults) to a trained
 * model m that has none, fitted on the windows of ps (window_s, hop_s: the daemon's) of each
 * recording in paths:
 *  1. the head's Gaussian on every window of every recording;
 *  2. the medians that weigh the two parts: the recordings replayed through the pipeline with
 *     ps, the median autoencoder and head score over the windows that count;
 *  3. the threshold: a gamma fitted, as `auscult train` does, to each recording's clip score
 *     (pipeline_clip_score) at the model's quantile (`auscult threshold --windows` refits it
 *     to the daemon's smoothed windows).
 * Returns AUSCULT_OK, or the failing status with err naming the recording or the fault; m keeps
 * no head then. Not for real-time threads (it reads files).
 */
int head_fit(struct model *m, const struct pipeline_settings *ps,
	     const struct window_head_shape *shape, char *const *paths, size_t n_paths,
	     struct auscult_err *err);

/* The settings a clip score is replayed with: the daemon's defaults (2-s windows every 0.5 s)
 * with no gate and no settling, so every window of a clip counts, as every vector does in the
 * clip scorer. */
void pipeline_clip_settings(struct pipeline_settings *ps);

/*
 * The clip score of one recording, as every tool prints and fits it. A model with a window head:
 * the mean of the window scores (pipeline_window.raw) of the windows that are not idle, replayed
 * through the pipeline with pipeline_clip_settings (ae unused, may be NULL). Without one: the
 * clip scorer's (model/clip_scorer.h, with ae set up for m). AUSCULT_ERR_INVALID when the
 * recording is too short. Reads the file.
 */
int pipeline_clip_score(const struct model *m, struct autoencoder *ae, const char *path,
			float *score, struct auscult_err *err);

#endif
