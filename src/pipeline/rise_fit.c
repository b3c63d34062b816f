/* rise_fit.c - fits a model's rise heads on normal recordings. */
#include "pipeline/rise_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_source.h"
#include "model/rise_heads.h"
#include "model/stats_head.h"
#include "pipeline/head_fit.h"

/* Folds by recording for the calibration: a diagonal fit on all windows scores its own windows
 * a little lower than a new recording's, which would make the gate open too easily. */
#define RISE_FIT_FOLDS 5

/* Every counted window's features, and the recording it came from. */
struct windows {
	float *x;      /* n x dim */
	uint32_t *rec; /* n */
	size_t n, cap, dim;
	uint32_t current; /* the recording being replayed */
	int oom;
};

static void keep_window(void *ctx, const struct pipeline_window *w)
{
	struct windows *k = ctx;
	if (w->idle || !w->rise_features || k->oom)
		return;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 512;
		float *x = realloc(k->x, cap * k->dim * sizeof(float));
		if (x)
			k->x = x;
		uint32_t *rec = x ? realloc(k->rec, cap * sizeof(uint32_t)) : NULL;
		if (rec)
			k->rec = rec;
		if (!x || !rec) {
			k->oom = 1;
			return;
		}
		k->cap = cap;
	}
	memcpy(k->x + k->n * k->dim, w->rise_features, k->dim * sizeof(float));
	k->rec[k->n++] = k->current;
}

/* Fits head h on the windows whose recording is not in fold `skip` (skip >= folds: all),
 * features at offset..offset + dim of each window. */
static int fit_part(struct stats_head *sh, const struct model_rise_heads *r,
		    const struct model_rise_head *h, const struct windows *k, size_t offset,
		    uint32_t dim, size_t folds, size_t skip, struct auscult_err *err)
{
	struct stats_head_config sc;
	rise_heads_stats_config(r, h == &r->bursts, dim, &sc);
	struct auscult_err why;
	int rc = stats_head_init(sh, &sc, &why);
	for (size_t i = 0; i < k->n && rc == AUSCULT_OK; i++)
		if (skip >= folds || k->rec[i] % folds != skip)
			stats_head_add(sh, k->x + i * k->dim + offset);
	if (rc == AUSCULT_OK)
		rc = stats_head_fit(sh, &why);
	/* the statistics' own fault, named as the rise heads' */
	return rc ? auscult_fail(err, rc, "rise heads: %s", why.msg) : AUSCULT_OK;
}

static int provisional(struct model_rise_head *h, struct auscult_err *err)
{
	h->mean = calloc(h->dim, sizeof(float));
	h->inv_std = malloc(h->dim * sizeof(float));
	if (!h->mean || !h->inv_std)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "rise heads: out of memory");
	for (uint32_t i = 0; i < h->dim; i++)
		h->inv_std[i] = 1.0f;
	h->cal_mean = 0.0f;
	h->cal_std = 1.0f;
	return AUSCULT_OK;
}

/*
 * One head: its statistics on every window into h, and its calibration from the folds (each
 * window scored by a fit without its recording; with one recording, in-sample).
 */
static int fit_head(struct model_rise_head *h, const struct model_rise_heads *r,
		    const struct windows *k, size_t offset, size_t n_recordings,
		    struct auscult_err *err)
{
	struct stats_head sh;
	int rc = fit_part(&sh, r, h, k, offset, h->dim, 1, 1, err);
	if (rc == AUSCULT_OK) {
		memcpy(h->mean, sh.mean, h->dim * sizeof(float));
		memcpy(h->inv_std, sh.inv_std, h->dim * sizeof(float));
	}
	stats_head_free(&sh);
	size_t folds = n_recordings < RISE_FIT_FOLDS ? n_recordings : RISE_FIT_FOLDS;
	double sum = 0.0, sumsq = 0.0;
	size_t n = 0;
	for (size_t f = 0; f < folds && rc == AUSCULT_OK; f++) {
		rc = fit_part(&sh, r, h, k, offset, h->dim, folds, folds > 1 ? f : folds, err);
		for (size_t i = 0; i < k->n && rc == AUSCULT_OK; i++) {
			if (folds > 1 && k->rec[i] % folds != f)
				continue;
			double s = stats_head_score(&sh, k->x + i * k->dim + offset);
			sum += s;
			sumsq += s * s;
			n++;
		}
		stats_head_free(&sh);
	}
	if (rc)
		return rc;
	double mean = sum / (double)n, var = sumsq / (double)n - mean * mean;
	h->cal_mean = (float)mean;
	h->cal_std = (float)sqrt(var > 0.0 ? var : 0.0);
	if (!isfinite(h->cal_mean) || !(h->cal_std > 0.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise heads: held-out window scores have mean %g and std %g; "
				    "train on more, and more varied, recordings of the machine",
				    mean, sqrt(var > 0.0 ? var : 0.0));
	return AUSCULT_OK;
}

int rise_fit(struct model *m, const struct pipeline_settings *ps, char *const *paths,
	     size_t n_paths, bool bursts, struct auscult_err *err)
{
	if (!m->head || !m->head->mean)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise heads need a fitted window head first");
	if (m->rise)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "the model has rise heads already");
	struct model_rise_heads *r = calloc(1, sizeof(*r));
	if (!r)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "rise heads: out of memory");
	rise_heads_config_defaults(r, &m->features, m->head->n_kept);
	if (bursts)
		rise_heads_add_bursts(r);
	m->rise = r;
	/* provisional statistics (zero means, unit stds) so that the model validates while the
	 * pipeline gives the features they are fitted on; a head the model lacks has dim 0 */
	struct model_rise_head *heads[RISE_N_HEADS];
	rise_heads_each(r, heads);
	struct windows k = { 0 };
	int rc = AUSCULT_OK;
	for (int h = 0; h < RISE_N_HEADS; h++) {
		if (rc == AUSCULT_OK && heads[h]->dim)
			rc = provisional(heads[h], err);
		k.dim += heads[h]->dim;
	}
	struct pipeline *pl = NULL;
	struct pipeline_config pc = {
		.model = m, .settings = *ps, .on_window = keep_window, .ctx = &k
	};
	if (rc == AUSCULT_OK)
		rc = pipeline_create(&pl, &pc, err);
	for (size_t i = 0; i < n_paths && rc == AUSCULT_OK; i++) {
		k.current = (uint32_t)i;
		rc = pipeline_replay_file(pl, paths[i], AUDIO_CHANNEL_AVERAGE,
					  PIPELINE_REPLAY_QUIET, err);
		if (rc == AUSCULT_OK && k.oom)
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM,
					  "rise heads: out of memory for the windows' features");
	}
	pipeline_destroy(pl);
	/* each head's calibration fits it without each fold's recordings in turn (fit_head) */
	size_t folds = n_paths < RISE_FIT_FOLDS ? n_paths : RISE_FIT_FOLDS;
	size_t fewest = head_fit_fewest(k.rec, k.n, folds);
	if (rc == AUSCULT_OK && fewest < 2)
		rc = head_fit_too_few(err, "rise heads", "the rise heads need", ps, k.n, n_paths,
				      folds, fewest, 2);
	/* each head's features follow the previous heads' in a window's */
	size_t offset = 0;
	for (int h = 0; h < RISE_N_HEADS && rc == AUSCULT_OK; h++) {
		if (heads[h]->dim)
			rc = fit_head(heads[h], r, &k, offset, n_paths, err);
		offset += heads[h]->dim;
	}
	free(k.x);
	free(k.rec);
	if (rc == AUSCULT_OK)
		rc = model_validate(m, err);
	if (rc) {
		model_rise_heads_free(r);
		m->rise = NULL;
	}
	return rc;
}
