/* smoother.h - smooths the window scores: exponential moving average, running median, or none. */
#ifndef AUSCULT_SMOOTHER_H
#define AUSCULT_SMOOTHER_H

#include <stdint.h>

#include "common/status.h"

enum smoother_kind {
	SMOOTHER_NONE = 0,
	SMOOTHER_EMA,    /* y += alpha (x - y), alpha = 2 / (N + 1): the usual "N-period" EMA */
	SMOOTHER_MEDIAN, /* median of the last N inputs (mean of the middle two when N is even) */
};

struct smoother_config {
	enum smoother_kind kind;
	uint32_t n_windows; /* N, 1..1000 */
};

struct smoother {
	enum smoother_kind kind;
	uint32_t n;
	double alpha;
	double ema;
	int primed;      /* EMA: ema holds a value */
	float *ring;     /* MEDIAN: the last n inputs in arrival order */
	float *sorted;   /* MEDIAN: the same values, ascending */
	uint32_t head;   /* MEDIAN: slot of the oldest input once full */
	uint32_t filled; /* MEDIAN: inputs held, <= n */
};

/* EMA over 4 windows. */
void smoother_config_defaults(struct smoother_config *cfg);

/*
 * Checks cfg and allocates (median: two rings of N floats). Returns AUSCULT_OK, or
 * AUSCULT_ERR_INVALID / AUSCULT_ERR_NOMEM with err set; smoother_free is safe either way.
 */
int smoother_init(struct smoother *s, const struct smoother_config *cfg, struct auscult_err *err);

/*
 * Feeds one window score and returns the smoothed value. The first value passes through (EMA
 * starts at it; the median is taken over the values seen so far). A NaN input is treated as
 * +inf so the sorted ring stays ordered. Never allocates, never fails.
 */
float smoother_process(struct smoother *s, float x);

/* Forgets the history. */
void smoother_reset(struct smoother *s);

/* Frees the rings. NULL-safe; safe on a zeroed or failed-init smoother. */
void smoother_free(struct smoother *s);

#endif
