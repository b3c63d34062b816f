/* head_fit.h - fits a model's window head on normal recordings and rescales its threshold. */
#ifndef AUSCULT_HEAD_FIT_H
#define AUSCULT_HEAD_FIT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"
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
 *     (pipeline_clip_score, pipeline/clip_replay.h) at the model's quantile (`auscult
 *     threshold --windows` refits it to the daemon's smoothed windows); a recording without a
 *     whole window is left out of it, with a warning.
 * Returns AUSCULT_OK, or the failing status with err naming the recording or the fault; m keeps
 * no head then. Not for real-time threads (it reads files).
 */
int head_fit(struct model *m, const struct pipeline_settings *ps,
	     const struct window_head_shape *shape, char *const *paths, size_t n_paths,
	     struct auscult_err *err);

/*
 * Step 3 above on its own, for a model whose window scores changed (rise heads added): the
 * gamma of the recordings' clip scores through the pipeline, the threshold at the model's
 * quantile. A recording without a whole window is left out, with a warning naming it when
 * name_short (head_fit names them; a refit after it need not say so again). AUSCULT_OK, or the
 * failing status with err naming the recording or the fault.
 */
int head_fit_threshold(struct model *m, char *const *paths, size_t n_paths, bool name_short,
		       struct auscult_err *err);

#endif
