/* head_fit.c - fits a model's window head on normal recordings, and its clip threshold once every head is in. */
#include "pipeline/head_fit.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_source.h"
#include "common/log.h"
#include "model/spectrum_head.h"
#include "model/stats_head.h"
#include "model/window_head.h"
#include "pipeline/clip_replay.h"
#include "train/gamma_fit.h"
#include "train/subspace_fit.h"

/* Every counted window's head features go into the Gaussian. */
static void add_features(void *ctx, const struct pipeline_window *w)
{
	if (!w->idle && w->head_features)
		stats_head_add(ctx, w->head_features);
}

/* A fault of the statistics' arithmetic (stats_head, subspace) named as the window head's:
 * err gets "window head: " and why's message; returns rc. */
static int head_fault(struct auscult_err *err, int rc, const struct auscult_err *why)
{
	return rc ? auscult_fail(err, rc, "window head: %s", why->msg) : AUSCULT_OK;
}

/* Folds of the training recordings for the head's median: each recording's windows are scored
 * by a head fitted without it (a full covariance fits its own windows' noise, so in-sample
 * scores are too small, and the head's weight in the sum would be too large). */
#define HEAD_FIT_FOLDS 5

/* Fits the Gaussian of m's head on the windows the pipeline gives (the daemon's own windows) of
 * the recordings i with i % folds != skip (skip >= folds: all of them). */
static int fit_gaussian(struct model *m, const struct pipeline_settings *ps, char *const *paths,
			size_t n_paths, size_t folds, size_t skip, struct auscult_err *err)
{
	struct model_window_head *h = m->head;
	struct stats_head sh;
	struct stats_head_config sc;
	stats_head_config_defaults(&sc);
	sc.dim = h->dim;
	sc.shrinkage = h->shrinkage;
	sc.std_floor_rel = h->std_floor_rel;
	struct auscult_err why;
	int rc = head_fault(err, stats_head_init(&sh, &sc, &why), &why);
	struct pipeline *pl = NULL;
	struct pipeline_config pc = {
		.model = m, .settings = *ps, .on_window = add_features, .ctx = &sh
	};
	if (rc == AUSCULT_OK)
		rc = pipeline_create(&pl, &pc, err);
	for (size_t i = 0; i < n_paths && rc == AUSCULT_OK; i++)
		if (i % folds != skip)
			rc = pipeline_replay_file(pl, paths[i], AUDIO_CHANNEL_AVERAGE,
						  PIPELINE_REPLAY_QUIET, err);
	pipeline_destroy(pl);
	/* said in the user's terms, as head_fit_too_few does for the other heads; the fold fits
	 * come first, so how many windows all the recordings give is not known yet */
	if (rc == AUSCULT_OK && sh.n_windows < 2) {
		size_t n_in = 0;
		for (size_t i = 0; i < n_paths; i++)
			n_in += i % folds != skip;
		char which[96];
		snprintf(which, sizeof(which),
			 "those numbered %zu modulo %zu held out, as the fit does", skip, folds);
		rc = auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"window head: %zu of the %zu recordings (%s) gave %llu window%s of "
			"%g s that count (too short, or quieter than the gate's %g dBFS); the "
			"band head needs at least 2: train on more recordings, or longer ones, "
			"of the machine running",
			n_in, n_paths, skip < folds ? which : "all of them",
			(unsigned long long)sh.n_windows, sh.n_windows == 1 ? "" : "s",
			ps->window_s, ps->silence_dbfs);
	}
	if (rc == AUSCULT_OK)
		rc = head_fault(err, stats_head_fit(&sh, &why), &why);
	if (rc == AUSCULT_OK) {
		memcpy(h->mean, sh.mean, h->dim * sizeof(float));
		memcpy(h->inv_std, sh.inv_std, h->dim * sizeof(float));
		memcpy(h->precision, sh.precision, (size_t)h->dim * h->dim * sizeof(float));
	}
	stats_head_free(&sh);
	return rc;
}

/* Provisional statistics (the identity) so that the model validates while the pipeline gives
 * the features it is fitted on. */
static int provisional_stats(struct model_window_head *h, struct auscult_err *err)
{
	if (h->kind == WINDOW_HEAD_SPECTRUM) {
		h->mean = calloc(h->dim, sizeof(float));
		h->inv_std = malloc(h->dim * sizeof(float));
		h->basis = calloc((size_t)h->dim * h->spec_rank, sizeof(float));
		if (!h->mean || !h->inv_std || !h->basis)
			return auscult_fail(err, AUSCULT_ERR_NOMEM, "window head: out of memory");
		for (uint32_t i = 0; i < h->dim; i++)
			h->inv_std[i] = 1.0f;
		for (uint32_t q = 0; q < h->spec_rank; q++)
			h->basis[(size_t)q * h->spec_rank + q] = 1.0f;
		return AUSCULT_OK;
	}
	h->mean = calloc(h->dim, sizeof(float));
	h->inv_std = malloc(h->dim * sizeof(float));
	h->precision = calloc((size_t)h->dim * h->dim, sizeof(float));
	if (!h->mean || !h->inv_std || !h->precision)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "window head: out of memory");
	for (uint32_t i = 0; i < h->dim; i++) {
		h->inv_std[i] = 1.0f;
		h->precision[(size_t)i * h->dim + i] = 1.0f;
	}
	return AUSCULT_OK;
}

/* The windows of a replay: both parts' scores, and the file's sum of window scores. */
struct parts {
	double *ae, *head;
	size_t n, cap;
	double file_sum;
	size_t file_n;
	int oom;
};

static void keep_parts(void *ctx, const struct pipeline_window *w)
{
	struct parts *k = ctx;
	if (w->idle || k->oom || !isfinite(w->raw))
		return;
	k->file_sum += w->raw;
	k->file_n++;
	if (!k->ae)
		return;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 1024;
		double *a = realloc(k->ae, cap * sizeof(double));
		if (a)
			k->ae = a;
		double *h = a ? realloc(k->head, cap * sizeof(double)) : NULL;
		if (h)
			k->head = h;
		if (!a || !h) {
			k->oom = 1;
			return;
		}
		k->cap = cap;
	}
	k->ae[k->n] = w->ae_raw;
	k->head[k->n] = w->head_raw;
	k->n++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Replays every recording with settings ps; k collects (with k->ae set: every window's parts),
 * clip (may be NULL) each recording's mean window score, NaN for a recording with no window that
 * counts (shorter than a window, or silent under ps's gate), which is left out with a warning:
 * the network trained on it, and one short or silent clip must not stop the training. */
static int replay_all(const struct model *m, const struct pipeline_settings *ps, char *const *paths,
		      size_t n_paths, struct parts *k, double *clip, struct auscult_err *err)
{
	struct pipeline *pl = NULL;
	struct pipeline_config pc = {
		.model = m, .settings = *ps, .on_window = keep_parts, .ctx = k
	};
	int rc = pipeline_create(&pl, &pc, err);
	for (size_t i = 0; i < n_paths && rc == AUSCULT_OK; i++) {
		k->file_sum = 0.0;
		k->file_n = 0;
		rc = pipeline_replay_file(pl, paths[i], AUDIO_CHANNEL_AVERAGE,
					  PIPELINE_REPLAY_QUIET, err);
		if (rc == AUSCULT_OK && k->oom)
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM,
					  "window head: out of memory for window scores");
		if (rc == AUSCULT_OK && clip) {
			clip[i] = k->file_n ? k->file_sum / (double)k->file_n : NAN;
			if (!k->file_n)
				log_warn("%s: no whole %g-s window in it (too short): left out of the "
					 "window head's threshold",
					 paths[i], ps->window_s);
		}
	}
	pipeline_destroy(pl);
	return rc;
}

int head_fit_threshold(struct model *m, char *const *paths, size_t n_paths, struct auscult_err *err)
{
	double *clip = calloc(n_paths ? n_paths : 1, sizeof(double));
	if (!clip)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "threshold: out of memory");
	struct parts k = { 0 };
	struct pipeline_settings cs;
	pipeline_clip_settings(&cs);
	int rc = replay_all(m, &cs, paths, n_paths, &k, clip, err);
	/* the recordings with a whole window (replay_all warned of the others) */
	size_t n_clip = 0;
	for (size_t i = 0; i < n_paths; i++)
		if (!isnan(clip[i]))
			clip[n_clip++] = clip[i];
	double g_shape, g_scale;
	if (rc == AUSCULT_OK)
		rc = gamma_fit_mle(clip, n_clip, &g_shape, &g_scale, err);
	if (rc == AUSCULT_OK) {
		m->threshold.gamma_shape = (float)g_shape;
		m->threshold.gamma_scale = (float)g_scale;
		m->threshold.threshold = (float)gamma_quantile(g_shape, g_scale,
							       m->threshold.quantile);
	}
	free(clip);
	return rc;
}

/* ---- the spectrum kind ------------------------------------------------------------------- */

/* Every counted window of every recording, once: its spectrum features (which no fit changes),
 * its network score and the recording it came from. */
struct spectrum_windows {
	float *x;      /* n x dim */
	double *ae;    /* n */
	uint32_t *rec; /* n */
	size_t n, cap;
	uint32_t dim, current;
	int oom;
};

static void keep_spectrum(void *ctx, const struct pipeline_window *w)
{
	struct spectrum_windows *s = ctx;
	if (w->idle || s->oom || !w->head_features || !isfinite(w->ae_raw))
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		float *x = realloc(s->x, cap * s->dim * sizeof(float));
		if (x)
			s->x = x;
		double *ae = x ? realloc(s->ae, cap * sizeof(double)) : NULL;
		if (ae)
			s->ae = ae;
		uint32_t *rec = ae ? realloc(s->rec, cap * sizeof(uint32_t)) : NULL;
		if (rec)
			s->rec = rec;
		if (!rec) {
			s->oom = 1;
			return;
		}
		s->cap = cap;
	}
	memcpy(s->x + s->n * s->dim, w->head_features, s->dim * sizeof(float));
	s->ae[s->n] = w->ae_raw;
	s->rec[s->n] = s->current;
	s->n++;
}

/*
 * Fits a spectrum head (model/spectrum_head.h) on the windows of ps of every recording. The
 * features need no fit, so the recordings are replayed once; the rest is arithmetic on them:
 *  1. each band's residual spread, on windows left out: the subspace fitted on the other folds
 *     of recordings, the held-out windows' residuals pooled (in-sample, one recording would
 *     explain its own bumps away and find every new one enormous); floored at std_floor_rel
 *     of the median spread;
 *  2. the medians that weigh the parts: the network's over every window, the head's over the
 *     held-out windows scored with their fold's subspace;
 *  3. the subspace of every window.
 */
static int fit_spectrum(struct model *m, const struct pipeline_settings *ps, char *const *paths,
			size_t n_paths, struct auscult_err *err)
{
	struct model_window_head *h = m->head;
	const uint32_t dim = h->dim;
	struct spectrum_windows sw = { .dim = dim };
	struct auscult_err why;
	struct pipeline *pl = NULL;
	struct pipeline_config pc = {
		.model = m, .settings = *ps, .on_window = keep_spectrum, .ctx = &sw
	};
	float *resid = NULL, *fold_mean = NULL, *fold_basis = NULL, *coef = NULL, *top = NULL;
	double *spread = NULL, *scores = NULL;
	unsigned char *keep = NULL;
	int rc = pipeline_create(&pl, &pc, err);
	for (size_t i = 0; i < n_paths && rc == AUSCULT_OK; i++) {
		sw.current = (uint32_t)i;
		rc = pipeline_replay_file(pl, paths[i], AUDIO_CHANNEL_AVERAGE,
					  PIPELINE_REPLAY_QUIET, err);
		if (rc == AUSCULT_OK && sw.oom)
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM,
					  "window head: out of memory for %zu windows", sw.n);
	}
	pipeline_destroy(pl);
	if (rc)
		goto done;
	size_t folds = n_paths < HEAD_FIT_FOLDS ? n_paths : HEAD_FIT_FOLDS;
	/* Each fold's fit must see windows of other recordings (in-sample, a recording would
	 * explain its own bumps away), and more windows than twice the directions it keeps: a
	 * covariance of n windows has at most n - 1 directions, the rest are rounding. Fewer
	 * windows (a short learning run) keep fewer directions. */
	size_t fewest = head_fit_fewest(sw.rec, sw.n, folds);
	if (fewest < 2 * SPECTRUM_HEAD_MIN_RANK) {
		rc = head_fit_too_few(err, "window head", "the spectrum head needs", ps, sw.n,
				      n_paths, folds, fewest, 2 * SPECTRUM_HEAD_MIN_RANK);
		goto done;
	}
	if (h->spec_rank > fewest / 2) {
		log_warn("window head: %zu windows in the smallest fold: the spectrum head keeps %zu "
			 "directions, not %u; longer recordings give it all",
			 fewest, fewest / 2, h->spec_rank);
		h->spec_rank = (uint32_t)(fewest / 2);
		free(h->basis); /* the provisional one, laid out for the rank before */
		h->basis = calloc((size_t)dim * h->spec_rank, sizeof(float));
		if (!h->basis) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "window head: out of memory");
			goto done;
		}
	}
	const uint32_t rank = h->spec_rank;
	uint32_t top_n = spectrum_head_top_n(dim, h->spec_top_fraction);
	resid = malloc(sw.n * dim * sizeof(float));
	fold_mean = malloc(dim * sizeof(float));
	fold_basis = malloc((size_t)dim * rank * sizeof(float));
	coef = malloc(rank * sizeof(float));
	top = malloc(top_n * sizeof(float));
	spread = calloc(dim, sizeof(double));
	scores = malloc((sw.n > dim ? sw.n : dim) * sizeof(double)); /* also the spreads' median */
	keep = malloc(sw.n);
	if (!resid || !fold_mean || !fold_basis || !coef || !top || !spread || !scores || !keep) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "window head: out of memory");
		goto done;
	}
	for (size_t f = 0; f < folds && rc == AUSCULT_OK; f++) {
		for (size_t i = 0; i < sw.n; i++)
			keep[i] = folds == 1 || sw.rec[i] % folds != f;
		rc = head_fault(err,
				subspace_fit(sw.x, sw.n, keep, dim, rank, fold_mean, fold_basis,
					     &why),
				&why);
		for (size_t i = 0; i < sw.n && rc == AUSCULT_OK; i++)
			if (folds == 1 || sw.rec[i] % folds == f)
				spectrum_head_residual(sw.x + i * dim, fold_mean, fold_basis, dim,
						       rank, coef, resid + i * dim);
	}
	if (rc)
		goto done;
	for (size_t i = 0; i < sw.n; i++)
		for (uint32_t b = 0; b < dim; b++)
			spread[b] += (double)resid[i * dim + b] * resid[i * dim + b];
	for (uint32_t b = 0; b < dim; b++)
		spread[b] = sqrt(spread[b] / (double)sw.n);
	memcpy(scores, spread, dim * sizeof(double)); /* scratch for the median */
	double spread_floor = h->std_floor_rel * median(scores, dim);
	for (uint32_t b = 0; b < dim; b++) {
		double sd = spread[b] > spread_floor ? spread[b] : spread_floor;
		if (!(sd > 0.0 && isfinite(1.0 / sd))) {
			rc = auscult_fail(err, AUSCULT_ERR_INVALID,
					  "window head: the spectrum of band %u (from %.0f Hz) does "
					  "not vary over the training windows (digital silence?); "
					  "train on recordings of the machine running",
					  b,
					  (double)(b * h->spec_band_bins + 1) *
						  m->features.sample_rate_hz / m->features.n_fft);
			goto done;
		}
		h->inv_std[b] = (float)(1.0 / sd);
	}
	for (size_t i = 0; i < sw.n; i++)
		scores[i] = spectrum_head_residual_score(resid + i * dim, h->inv_std, dim, top_n,
							 top);
	h->head_median = (float)median(scores, sw.n);
	h->ae_median = (float)median(sw.ae, sw.n);
	rc = head_fault(err, subspace_fit(sw.x, sw.n, NULL, dim, rank, h->mean, h->basis, &why),
			&why);
	if (rc == AUSCULT_OK && (!(h->ae_median > 0.0f) || !(h->head_median > 0.0f)))
		rc = auscult_fail(err, AUSCULT_ERR_INVALID,
				  "window head: median scores %g (autoencoder) and %g (head, held "
				  "out) on the training windows; both must be > 0",
				  (double)h->ae_median, (double)h->head_median);
done:
	free(sw.x);
	free(sw.ae);
	free(sw.rec);
	free(resid);
	free(fold_mean);
	free(fold_basis);
	free(coef);
	free(top);
	free(spread);
	free(scores);
	free(keep);
	return rc;
}

size_t head_fit_fewest(const uint32_t *rec, size_t n, size_t folds)
{
	size_t fewest = folds > 1 ? SIZE_MAX : n;
	for (size_t f = 0; f < folds && folds > 1; f++) {
		size_t n_in = 0;
		for (size_t i = 0; i < n; i++)
			n_in += rec[i] % folds != f;
		if (n_in < fewest)
			fewest = n_in;
	}
	return fewest;
}

int head_fit_too_few(struct auscult_err *err, const char *prefix, const char *who_needs,
		     const struct pipeline_settings *ps, size_t n_windows, size_t n_paths,
		     size_t folds, size_t fewest, size_t need)
{
	char held[128] = "";
	/* a fit without a fold's recordings must still have enough: say how few they leave */
	if (folds > 1)
		snprintf(
			held, sizeof(held),
			", and holding the recordings out in turn (as the fit does) leaves as few as %zu",
			fewest);
	return auscult_fail(
		err, AUSCULT_ERR_INVALID,
		"%s: the %zu recording%s gave %zu window%s of %g s that count (too "
		"short, or quieter than the gate's %g dBFS)%s; %s at least %zu: train on "
		"more recordings, or longer ones, of the machine running",
		prefix, n_paths, n_paths == 1 ? "" : "s", n_windows, n_windows == 1 ? "" : "s",
		ps->window_s, ps->silence_dbfs, held, who_needs, need);
}

int head_fit(struct model *m, const struct pipeline_settings *ps,
	     const struct window_head_shape *shape, char *const *paths, size_t n_paths,
	     struct auscult_err *err)
{
	if (m->head)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "the model has a window head already");
	struct model_window_head *h = calloc(1, sizeof(*h));
	struct parts k = { 0 };
	char **sub = NULL;
	int rc = AUSCULT_OK;
	if (!h) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "window head: out of memory");
		goto fail;
	}
	window_head_config_defaults(h, shape, &m->features);
	m->head = h;
	rc = provisional_stats(h, err);
	if (rc)
		goto fail;
	if (h->kind == WINDOW_HEAD_SPECTRUM) {
		if ((rc = fit_spectrum(m, ps, paths, n_paths, err)) != AUSCULT_OK)
			goto fail;
		free(sub);
		return AUSCULT_OK;
	}
	/* medians 1 while the parts are measured: each fold's windows by a head fitted without
	 * them (one recording: in-sample, there is nothing else) */
	k.ae = malloc(sizeof(double));
	k.head = malloc(sizeof(double));
	k.cap = 1;
	sub = malloc(n_paths * sizeof(*sub));
	if (!k.ae || !k.head || !sub) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "window head: out of memory");
		goto fail;
	}
	size_t folds = n_paths < HEAD_FIT_FOLDS ? n_paths : HEAD_FIT_FOLDS;
	for (size_t f = 0; f < folds && rc == AUSCULT_OK; f++) {
		size_t n_sub = 0;
		for (size_t i = f; i < n_paths; i += folds)
			sub[n_sub++] = paths[i];
		rc = fit_gaussian(m, ps, paths, n_paths, folds, folds > 1 ? f : folds, err);
		if (rc == AUSCULT_OK)
			rc = replay_all(m, ps, sub, n_sub, &k, NULL, err);
	}
	/* the head itself: every recording */
	if (rc == AUSCULT_OK)
		rc = fit_gaussian(m, ps, paths, n_paths, 1, 1, err);
	if (rc)
		goto fail;
	if (k.n == 0) {
		rc = auscult_fail(err, AUSCULT_ERR_INVALID,
				  "window head: no %g-s window of the %zu recordings counts (too "
				  "short, or quieter than the gate's %g dBFS); train on longer "
				  "recordings of the machine running",
				  ps->window_s, n_paths, ps->silence_dbfs);
		goto fail;
	}
	h->ae_median = (float)median(k.ae, k.n);
	h->head_median = (float)median(k.head, k.n);
	if (!(h->ae_median > 0.0f) || !(h->head_median > 0.0f)) {
		rc = auscult_fail(err, AUSCULT_ERR_INVALID,
				  "window head: median scores %g (autoencoder) and %g (head, "
				  "held out) on the training windows; both must be > 0",
				  (double)h->ae_median, (double)h->head_median);
		goto fail;
	}
	free(k.ae);
	free(k.head);
	free(sub);
	return AUSCULT_OK;
fail:
	if (m->head == h)
		m->head = NULL;
	model_window_head_free(h);
	free(sub);
	free(k.ae);
	free(k.head);
	return rc;
}
