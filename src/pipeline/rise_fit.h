/* rise_fit.h - fits a model's rise heads on normal recordings and refits its threshold. */
#ifndef AUSCULT_RISE_FIT_H
#define AUSCULT_RISE_FIT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"
#include "model/model.h"
#include "pipeline/pipeline.h"

/*
 * Adds rise heads (model/rise_heads.h, the defaults; with bursts, a bursts head too) to a trained
 * model m that has a fitted window head and no rise heads, fitted on the windows of ps (the daemon's window_s and hop_s) of each
 * recording in paths:
 *  1. each head's diagonal statistics on every counted window of every recording;
 *  2. each head's calibration: the mean and std of its scores on the windows of recordings a fit
 *     left out (5 folds by recording), what a normal it never heard scores.
 * The clip threshold, which they change, is the caller's to refit after (head_fit_threshold).
 * Returns AUSCULT_OK, or the failing status with err naming the fault: a fault of the fit names
 * the rise heads, a recording's (a read error) names the recording; m keeps no rise heads
 * then. Not for real-time threads (it reads files).
 */
int rise_fit(struct model *m, const struct pipeline_settings *ps, char *const *paths,
	     size_t n_paths, bool bursts, struct auscult_err *err);

#endif
