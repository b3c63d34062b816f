/* threshold_fit.h - a decision threshold from normal scores: a gamma's quantile, or its tail's. */
#ifndef AUSCULT_THRESHOLD_FIT_H
#define AUSCULT_THRESHOLD_FIT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"

/*
 * How the threshold is placed among the normal scores it is fitted to:
 * - THRESHOLD_FIT_GAMMA: a gamma fitted to all of them by maximum likelihood (train/gamma_fit.h),
 *   its quantile q. Right when the scores' tail is as light as the bulk says: a clip score, or a
 *   window score made of the network's and window head's errors.
 * - THRESHOLD_FIT_TAIL: peaks over threshold. The largest share THRESHOLD_TAIL_SHARE of the
 *   scores (at least THRESHOLD_TAIL_MIN), as excesses over the next largest u, are exponential
 *   with their mean excess b; the threshold is where that tail leaves 1 - q above it:
 *   u + b ln((k / n) / (1 - q)). A score that sums parts which are rarely on (the rise heads'
 *   gate adds nothing to most normal windows and much to a few) has a tail heavier than its
 *   bulk: a gamma of all the windows puts its quantile among the normal peaks (a false event on
 *   normals 55..74 on every seed, models/README.md), the tail's own slope does not.
 */
enum threshold_fit_method { THRESHOLD_FIT_GAMMA, THRESHOLD_FIT_TAIL };

#define THRESHOLD_TAIL_SHARE 0.05
#define THRESHOLD_TAIL_MIN 10u

struct threshold_fit {
	double gamma_shape, gamma_scale; /* the gamma of all the scores (both methods) */
	double tail_start, tail_mean;    /* THRESHOLD_FIT_TAIL: u and the mean excess b over it */
	size_t tail_count;               /* and k, the scores over u */
	double threshold;
	size_t above; /* scores over the threshold */
};

/*
 * Fits the n scores by method and sets fit->threshold at quantile q in (0, 1). AUSCULT_OK, or
 * AUSCULT_ERR_INVALID with a message: q outside (0, 1); the gamma fit's own (fewer than 2 scores,
 * one not finite and > 0, all equal); for the tail, fewer than THRESHOLD_TAIL_MIN + 1 scores or
 * a tail whose scores are all equal. Pure; any thread.
 */
int threshold_fit(const double *scores, size_t n, enum threshold_fit_method method, double q,
		  struct threshold_fit *fit, struct auscult_err *err);

/* "gamma" or "tail". */
const char *threshold_fit_method_name(enum threshold_fit_method method);

/* Parses "gamma" or "tail"; AUSCULT_ERR_INVALID with a message naming both otherwise. */
int threshold_fit_method_parse(const char *text, enum threshold_fit_method *method,
			       struct auscult_err *err);

/*
 * Whether a model's threshold came from the tail rather than from its gamma, read from the float
 * fields a model file keeps (the file has no field for the method): it is not the gamma's
 * quantile. The quantile was rounded to a float, which at q = 0.9999999 moves the gamma's
 * quantile by more than a float's noise, so the threshold is compared with the quantiles at the
 * floats on either side of q.
 */
bool threshold_from_tail(float threshold, float gamma_shape, float gamma_scale, float q);

#endif
