/* smoother.c - EMA and running median (sorted ring, insertion by shifting) over window scores. */
#include "detect/smoother.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void smoother_config_defaults(struct smoother_config *cfg)
{
	cfg->kind = SMOOTHER_EMA;
	cfg->n_windows = 4;
}

int smoother_init(struct smoother *s, const struct smoother_config *cfg, struct auscult_err *err)
{
	memset(s, 0, sizeof(*s));
	if (cfg->kind != SMOOTHER_NONE && cfg->kind != SMOOTHER_EMA && cfg->kind != SMOOTHER_MEDIAN)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "smoother: unknown kind %d",
				    (int)cfg->kind);
	if (cfg->n_windows < 1 || cfg->n_windows > 1000)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "smoother: %u windows is out of range [1, 1000]",
				    cfg->n_windows);
	s->kind = cfg->kind;
	s->n = cfg->n_windows;
	s->alpha = 2.0 / ((double)s->n + 1.0);
	if (s->kind == SMOOTHER_MEDIAN) {
		s->ring = calloc(s->n, sizeof(*s->ring));
		s->sorted = calloc(s->n, sizeof(*s->sorted));
		if (!s->ring || !s->sorted) {
			smoother_free(s);
			return auscult_fail(err, AUSCULT_ERR_NOMEM,
					    "smoother: out of memory for a median of %u",
					    cfg->n_windows);
		}
	}
	return AUSCULT_OK;
}

/* Removes one occurrence of v from sorted[0..n) and returns the new count. */
static uint32_t sorted_remove(float *sorted, uint32_t n, float v)
{
	uint32_t i = 0;
	while (i < n && sorted[i] != v)
		i++;
	if (i == n) /* cannot happen: v was inserted earlier; keep the ring consistent anyway */
		i = n - 1;
	memmove(sorted + i, sorted + i + 1, (size_t)(n - i - 1) * sizeof(*sorted));
	return n - 1;
}

static uint32_t sorted_insert(float *sorted, uint32_t n, float v)
{
	uint32_t i = n;
	while (i > 0 && sorted[i - 1] > v) {
		sorted[i] = sorted[i - 1];
		i--;
	}
	sorted[i] = v;
	return n + 1;
}

float smoother_process(struct smoother *s, float x)
{
	if (isnan(x))
		x = INFINITY;
	switch (s->kind) {
	case SMOOTHER_EMA:
		if (!s->primed) {
			s->ema = x;
			s->primed = 1;
		} else {
			s->ema += s->alpha * ((double)x - s->ema);
		}
		/* inf - inf would poison the average for ever; restart from the new value instead. */
		if (isnan(s->ema))
			s->ema = x;
		return (float)s->ema;
	case SMOOTHER_MEDIAN: {
		uint32_t count = s->filled;
		if (s->filled == s->n) {
			count = sorted_remove(s->sorted, count, s->ring[s->head]);
			s->ring[s->head] = x;
			s->head = s->head + 1 == s->n ? 0 : s->head + 1;
		} else {
			s->ring[s->filled++] = x;
		}
		count = sorted_insert(s->sorted, count, x);
		if (count & 1u)
			return s->sorted[count / 2];
		return 0.5f * (s->sorted[count / 2 - 1] + s->sorted[count / 2]);
	}
	case SMOOTHER_NONE:
	default:
		return x;
	}
}

void smoother_reset(struct smoother *s)
{
	s->ema = 0.0;
	s->primed = 0;
	s->head = 0;
	s->filled = 0;
}

void smoother_free(struct smoother *s)
{
	if (!s)
		return;
	free(s->ring);
	free(s->sorted);
	memset(s, 0, sizeof(*s));
}
