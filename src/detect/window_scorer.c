/* window_scorer.c - sliding sums over a ring of the last W vectors (scores, bands, levels). */
#include "detect/window_scorer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void window_scorer_config_defaults(struct window_scorer_config *cfg)
{
	cfg->window_vectors = 63;
	cfg->hop_vectors = 16;
	cfg->n_mels = 128;
	cfg->resum_every = 0;
}

int window_scorer_init(struct window_scorer *ws, const struct window_scorer_config *cfg,
		       struct auscult_err *err)
{
	memset(ws, 0, sizeof(*ws));
	if (cfg->window_vectors < 1 || cfg->window_vectors > 1000000)
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"window scorer: window of %u vectors is out of range [1, 1000000]",
			cfg->window_vectors);
	if (cfg->hop_vectors < 1 || cfg->hop_vectors > cfg->window_vectors)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "window scorer: hop of %u vectors is out of range [1, %u]",
				    cfg->hop_vectors, cfg->window_vectors);
	if (cfg->n_mels < 1 || cfg->n_mels > 4096)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "window scorer: %u bands is out of range [1, 4096]",
				    cfg->n_mels);
	ws->w = cfg->window_vectors;
	ws->h = cfg->hop_vectors;
	ws->n_mels = cfg->n_mels;
	ws->resum_every = cfg->resum_every ? cfg->resum_every : cfg->window_vectors;
	ws->scores = calloc(ws->w, sizeof(*ws->scores));
	ws->bands = calloc((size_t)ws->w * ws->n_mels, sizeof(*ws->bands));
	ws->levels = calloc(ws->w, sizeof(*ws->levels));
	ws->counted = calloc(ws->w, sizeof(*ws->counted));
	ws->band_sum = calloc(ws->n_mels, sizeof(*ws->band_sum));
	ws->band_mean = calloc(ws->n_mels, sizeof(*ws->band_mean));
	if (!ws->scores || !ws->bands || !ws->levels || !ws->counted || !ws->band_sum ||
	    !ws->band_mean) {
		window_scorer_free(ws);
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "window scorer: out of memory for a window of %u x %u bands",
				    cfg->window_vectors, cfg->n_mels);
	}
	return AUSCULT_OK;
}

/*
 * Adding the newest value and subtracting the oldest leaves a rounding error each time; over
 * months of hops those errors add up (and one inf or NaN would stay in the sum for ever). Summing
 * the ring afresh every resum_every pushes bounds the error and flushes such values once they
 * leave the window, at an amortised cost of one pass per resum_every vectors.
 */
static void resum(struct window_scorer *ws)
{
	double s = 0.0, l = 0.0;
	uint32_t c = 0;
	for (uint32_t i = 0; i < ws->filled; i++) {
		s += ws->scores[i];
		l += ws->levels[i];
		c += ws->counted[i];
	}
	ws->score_sum = s;
	ws->level_sum = l;
	ws->n_counted = c;
	for (uint32_t b = 0; b < ws->n_mels; b++)
		ws->band_sum[b] = 0.0;
	for (uint32_t i = 0; i < ws->filled; i++) {
		const float *row = ws->bands + (size_t)i * ws->n_mels;
		for (uint32_t b = 0; b < ws->n_mels; b++)
			ws->band_sum[b] += row[b];
	}
	ws->since_resum = 0;
}

int window_scorer_push(struct window_scorer *ws, float vector_score, const float *band_errors,
		       double mean_square, int counted, struct window_score *out)
{
	/* A vector that does not count enters the sums as zeros, so the sliding sums stay simple. */
	if (!counted) {
		vector_score = 0.0f;
		band_errors = NULL;
	}
	float *row = ws->bands + (size_t)ws->head * ws->n_mels;
	if (ws->filled == ws->w) {
		/* The slot being overwritten holds the oldest vector: take it out of the sums. */
		ws->score_sum -= ws->scores[ws->head];
		ws->level_sum -= ws->levels[ws->head];
		ws->n_counted -= ws->counted[ws->head];
		for (uint32_t b = 0; b < ws->n_mels; b++)
			ws->band_sum[b] -= row[b];
	} else {
		ws->filled++;
	}
	ws->scores[ws->head] = vector_score;
	ws->levels[ws->head] = mean_square;
	ws->counted[ws->head] = counted ? 1 : 0;
	ws->n_counted += counted ? 1u : 0u;
	ws->score_sum += vector_score;
	ws->level_sum += mean_square;
	for (uint32_t b = 0; b < ws->n_mels; b++) {
		float e = band_errors ? band_errors[b] : 0.0f;
		row[b] = e;
		ws->band_sum[b] += e;
	}
	ws->head = ws->head + 1 == ws->w ? 0 : ws->head + 1;
	ws->n_vectors++;
	if (++ws->since_resum >= ws->resum_every)
		resum(ws);

	if (ws->filled < ws->w)
		return 0;
	/* The first full window is emitted at once; after it, every h-th vector. */
	if (ws->n_windows > 0 && ++ws->since_hop < ws->h)
		return 0;
	ws->since_hop = 0;

	double inv = ws->n_counted ? 1.0 / (double)ws->n_counted : 0.0;
	for (uint32_t b = 0; b < ws->n_mels; b++)
		ws->band_mean[b] = (float)(ws->band_sum[b] * inv);
	double ms = ws->level_sum / (double)ws->w;
	out->index = ws->n_windows++;
	out->last_vector = ws->n_vectors - 1;
	out->n_counted = ws->n_counted;
	out->score = ws->n_counted ? (float)(ws->score_sum * inv) : NAN;
	/* A tiny negative residue from the sliding sum must not become a NaN. */
	out->rms_dbfs = ms > 0.0 ? (float)(10.0 * log10(ms)) : -INFINITY;
	out->band_errors = ws->band_mean;
	return 1;
}

uint32_t window_scorer_until_window(const struct window_scorer *ws)
{
	/* Once the ring is full a window has been emitted, so since_hop counts from it. */
	if (ws->filled < ws->w)
		return ws->w - ws->filled;
	return ws->h - ws->since_hop;
}

void window_scorer_reset(struct window_scorer *ws)
{
	ws->head = 0;
	ws->filled = 0;
	ws->since_hop = 0;
	ws->since_resum = 0;
	ws->n_vectors = 0;
	ws->n_windows = 0;
	ws->score_sum = 0.0;
	ws->level_sum = 0.0;
	ws->n_counted = 0;
	for (uint32_t b = 0; b < ws->n_mels; b++)
		ws->band_sum[b] = 0.0;
}

void window_scorer_free(struct window_scorer *ws)
{
	if (!ws)
		return;
	free(ws->scores);
	free(ws->bands);
	free(ws->levels);
	free(ws->counted);
	free(ws->band_sum);
	free(ws->band_mean);
	memset(ws, 0, sizeof(*ws));
}
