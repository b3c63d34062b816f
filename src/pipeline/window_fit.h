/* window_fit.h - the scores a threshold is fitted to: recordings replayed through the pipeline. */
#ifndef AUSCULT_WINDOW_FIT_H
#define AUSCULT_WINDOW_FIT_H

#include <stddef.h>

#include "common/status.h"
#include "model/model.h"
#include "pipeline/pipeline.h"

/*
 * Replays each of the n_paths recordings through a pipeline of model m with settings ps (as
 * auscultd would score them) and returns in *scores (malloc'd, the caller frees) the smoothed
 * score of every window that is not idle: exactly what the daemon's detector compares with the
 * threshold. Every recording must give at least one window: a shorter or silent one is an error
 * that names it (a fit on a silently shorter list would mislead). On failure *scores is NULL and
 * err says why. Any thread; reads files.
 */
int window_fit_scores(const struct model *m, const struct pipeline_settings *ps, char *const *paths,
		      size_t n_paths, double **scores, size_t *n_scores, struct auscult_err *err);

#endif
