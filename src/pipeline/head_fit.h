/* head_fit.h - fits a model's window head on normal recordings, and its clip threshold once every head is in. */
#ifndef AUSCULT_HEAD_FIT_H
#define AUSCULT_HEAD_FIT_H

#include <stddef.h>
#include <stdint.h>

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
 *     ps, the median autoencoder and head score over the windows that count.
 * The clip threshold, which the head's scores change, is the caller's to refit once every head
 * is fitted (head_fit_threshold; rise heads come after this one, pipeline/rise_fit.h).
 * Returns AUSCULT_OK, or the failing status with err naming the recording or the fault: a fault
 * of the fit names the window head, a recording's (a read error) names the recording; m keeps
 * no head then. Not for real-time threads (it reads files).
 */
int head_fit(struct model *m, const struct pipeline_settings *ps,
	     const struct window_head_shape *shape, char *const *paths, size_t n_paths,
	     struct auscult_err *err);

/* The fewest windows a fit sees with the recordings of one fold held out (window i comes from
 * recording rec[i], in fold rec[i] % folds); n when folds <= 1 (one fit on everything). */
size_t head_fit_fewest(const uint32_t *rec, size_t n, size_t folds);

/*
 * Fails with AUSCULT_ERR_INVALID for a head whose fit has fewer windows than it needs, in the
 * user's terms: how many windows of ps the n_paths recordings gave, how few the folds leave
 * (folds > 1), how many it needs and what to do. prefix begins the message ("rise heads"),
 * who_needs says the need ("the rise heads need").
 */
int head_fit_too_few(struct auscult_err *err, const char *prefix, const char *who_needs,
		     const struct pipeline_settings *ps, size_t n_windows, size_t n_paths,
		     size_t folds, size_t fewest, size_t need);

/*
 * The clip threshold of a model whose heads are fitted: a gamma fitted, as `auscult train` does,
 * to each recording's clip score through the pipeline (pipeline_clip_score,
 * pipeline/clip_replay.h), at the model's quantile (`auscult threshold --windows` refits it to
 * the daemon's smoothed windows). A recording without a whole window is left out, with a
 * warning naming it. AUSCULT_OK, or the failing status with err naming the recording or the
 * fault.
 */
int head_fit_threshold(struct model *m, char *const *paths, size_t n_paths,
		       struct auscult_err *err);

#endif
