/* learner.c - collects gated clips of normal sound, then trains, refits the threshold to windows, saves. */
#include "learn/learner.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "learn/clip_writer.h"
#include "learn/level_meter.h"
#include "train/dataset.h"
#include "train/threshold_fit.h"
#include "model/model.h"
#include "model/clip_scorer.h"
#include "model/model_file.h"
#include "pipeline/head_fit.h"
#include "pipeline/rise_fit.h"
#include "pipeline/window_fit.h"

/* Held-out vectors scored per autoencoder call. */
#define LEARNER_SCORE_BATCH 256

struct learner {
	struct learner_config cfg; /* strings point at the copies below */
	char *model_path;
	char *dir;
	struct clip_writer *cw;
	uint32_t rate_hz;
	uint32_t clips, clips_needed;
	float *block; /* gate_s of samples waiting for the gate's verdict */
	size_t block_len, block_cap;
	int64_t block_ms;             /* unix time of block[0] */
	uint64_t skipped;             /* samples of silent blocks */
	volatile sig_atomic_t cancel; /* set by the epoch hook; polled by the trainer */
	learner_epoch_fn on_epoch;
	void *epoch_ctx;
};

void learner_config_defaults(struct learner_config *c)
{
	memset(c, 0, sizeof(*c));
	c->clip_s = CLIP_WRITER_DEFAULT_S;
	c->gate_s = 1.0;
	pipeline_settings_defaults(&c->scoring);
	c->holdout_share = 0.2;
	train_options_defaults(&c->train);
}

int learner_create(struct learner **out, const struct learner_config *cfg, struct auscult_err *err)
{
	*out = NULL;
	if (!cfg->model_path || !cfg->dir)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "learning: no model path or folder");
	if (!(cfg->minutes > 0.0) || !(cfg->clip_s > 0.0) || !(cfg->gate_s > 0.0) ||
	    cfg->gate_s > cfg->clip_s)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "learning: %g min in clips of %g s gated every %g s cannot be "
				    "collected",
				    cfg->minutes, cfg->clip_s, cfg->gate_s);
	if (!(cfg->holdout_share > 0.0 && cfg->holdout_share < 1.0) ||
	    !(cfg->train.window_quantile > 0.0 && cfg->train.window_quantile < 1.0))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "learning: held-out share %g and quantile %g must be in (0, 1)",
				    cfg->holdout_share, cfg->train.window_quantile);
	int rc = feature_params_validate(&cfg->train.features, err);
	if (rc != AUSCULT_OK)
		return rc;
	if (mkdir(cfg->dir, 0755) != 0 && errno != EEXIST)
		return auscult_fail(err, AUSCULT_ERR_IO,
				    "%s: cannot create the learning folder: %s", cfg->dir,
				    strerror(errno));
	struct learner *l = calloc(1, sizeof(*l));
	if (!l)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "learning: out of memory");
	l->cfg = *cfg;
	l->model_path = strdup(cfg->model_path);
	l->dir = strdup(cfg->dir);
	l->rate_hz = cfg->train.features.sample_rate_hz;
	l->block_cap = (size_t)llround(cfg->gate_s * l->rate_hz);
	l->block = malloc(l->block_cap * sizeof(float));
	if (!l->model_path || !l->dir || !l->block) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "learning: out of memory");
		goto fail;
	}
	l->cfg.model_path = l->model_path;
	l->cfg.dir = l->dir;
	l->clips_needed = (uint32_t)ceil(cfg->minutes * 60.0 / cfg->clip_s - 1e-9);
	if (l->clips_needed < LEARNER_MIN_CLIPS)
		l->clips_needed = LEARNER_MIN_CLIPS;
	if ((rc = clip_dir_scan(l->dir, &l->clips, err)) != AUSCULT_OK)
		goto fail;
	struct clip_writer_config cwc = { l->dir, l->rate_hz, cfg->clip_s };
	if ((rc = clip_writer_create(&l->cw, &cwc, err)) != AUSCULT_OK)
		goto fail;
	*out = l;
	return AUSCULT_OK;
fail:
	learner_destroy(l);
	return rc;
}

void learner_destroy(struct learner *l)
{
	if (!l)
		return;
	clip_writer_destroy(l->cw);
	free(l->block);
	free(l->model_path);
	free(l->dir);
	free(l);
}

uint32_t learner_clips(const struct learner *l)
{
	return l->clips;
}

uint32_t learner_clips_needed(const struct learner *l)
{
	return l->clips_needed;
}

double learner_skipped_s(const struct learner *l)
{
	return (double)l->skipped / l->rate_hz;
}

double learner_collected_share(const struct learner *l)
{
	if (l->clips >= l->clips_needed)
		return 1.0;
	double clip_samples = (double)clip_writer_clip_samples(l->cw);
	double have = (double)l->clips * clip_samples +
		      (double)(clip_writer_partial_samples(l->cw) + l->block_len);
	double share = have / ((double)l->clips_needed * clip_samples);
	return share < 1.0 ? share : 1.0;
}

void learner_break(struct learner *l)
{
	clip_writer_abort(l->cw);
	l->block_len = 0;
}

/* The gate's verdict on a full block: into the clip, or dropped with the clip in progress. */
static int gate_block(struct learner *l, uint32_t *completed, struct auscult_err *err)
{
	struct level_meter lm;
	level_meter_reset(&lm);
	level_meter_push(&lm, l->block, l->block_len);
	size_t n = l->block_len;
	l->block_len = 0;
	if (level_meter_rms_dbfs(&lm) < l->cfg.scoring.silence_dbfs) {
		clip_writer_abort(l->cw);
		l->skipped += n;
		return AUSCULT_OK;
	}
	uint32_t done = 0;
	int rc = clip_writer_push(l->cw, l->block, n, l->block_ms, &done, err);
	l->clips += done;
	*completed += done;
	return rc;
}

int learner_push(struct learner *l, const float *x, size_t n, int64_t t_ms, uint32_t *completed,
		 struct auscult_err *err)
{
	uint32_t done = 0;
	int rc = AUSCULT_OK;
	for (size_t i = 0; i < n && l->clips < l->clips_needed;) {
		if (l->block_len == 0)
			l->block_ms = t_ms + (int64_t)((double)i * 1000.0 / l->rate_hz);
		size_t take = l->block_cap - l->block_len;
		if (take > n - i)
			take = n - i;
		memcpy(l->block + l->block_len, x + i, take * sizeof(float));
		l->block_len += take;
		i += take;
		if (l->block_len == l->block_cap && (rc = gate_block(l, &done, err)) != AUSCULT_OK)
			break;
	}
	if (l->clips >= l->clips_needed)
		learner_break(l);
	if (completed)
		*completed = done;
	return rc;
}

/* ---- training ------------------------------------------------------------------------------- */

static void on_trainer_epoch(void *ctx, const struct trainer_epoch_stats *st, uint32_t epochs)
{
	struct learner *l = ctx;
	if (l->on_epoch && l->on_epoch(l->epoch_ctx, st->epoch, epochs))
		l->cancel = 1;
}

/* Fits m's threshold to the smoothed window scores of the held-out clips, replayed through the

 * monitor's own pipeline by the recipe's method and quantile (as `auscult threshold --window-s`
 * does). */
static int refit_threshold(const struct learner *l, struct model *m, char *const *paths,
			   size_t n_paths, struct learner_result *res, struct auscult_err *err)
{
	double *scores = NULL;
	size_t n_scores = 0;
	int rc = window_fit_scores(m, &l->cfg.scoring, paths, n_paths, &scores, &n_scores, err);
	struct threshold_fit fit;
	if (rc == AUSCULT_OK)
		rc = threshold_fit(scores, n_scores, l->cfg.train.window_fit,
				   l->cfg.train.window_quantile, &fit, err);
	if (rc == AUSCULT_OK) {
		m->threshold.gamma_shape = (float)fit.gamma_shape;
		m->threshold.gamma_scale = (float)fit.gamma_scale;
		m->threshold.quantile = (float)l->cfg.train.window_quantile;
		m->threshold.threshold = (float)fit.threshold;
		res->windows = n_scores;
		res->threshold = m->threshold.threshold;
		res->windows_above = fit.above;
	}
	free(scores);
	return rc;
}

/* Asks the host again, between the steps that follow the last epoch (each takes seconds on a
 * Pi), whether to stop: then nothing is written. */
static int stop_asked(struct learner *l, uint32_t epochs, struct auscult_err *err)
{
	if (l->on_epoch && l->on_epoch(l->epoch_ctx, epochs, epochs))
		return auscult_fail(err, AUSCULT_ERR_INTERRUPTED, "%s: learning stopped",
				    l->model_path);
	return AUSCULT_OK;
}

int learner_train(struct learner *l, learner_epoch_fn on_epoch, void *ctx,
		  struct learner_result *result, struct auscult_err *err)
{
	struct learner_result res;
	memset(&res, 0, sizeof(res));
	struct clip_list clips = { 0 };
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct model m;
	memset(&m, 0, sizeof(m));
	struct train_result tr;
	memset(&tr, 0, sizeof(tr));
	double start_s = clock_mono_s();

	int rc = clip_list_add(&clips, l->dir, err);
	if (rc != AUSCULT_OK)
		goto out;
	if (clips.count < LEARNER_MIN_CLIPS) {
		rc = auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"%s: %zu clip(s), and learning needs at least %d (two to train on, "
			"one to fit the threshold on)",
			l->dir, clips.count, LEARNER_MIN_CLIPS);
		goto out;
	}
	/* Clip names are their times: the last ones in the list are the newest. */
	size_t hold = (size_t)llround((double)clips.count * l->cfg.holdout_share);
	if (hold < 1)
		hold = 1;
	if (hold > clips.count - 1)
		hold = clips.count - 1;
	size_t n_train = clips.count - hold;
	for (size_t i = 0; i < n_train && rc == AUSCULT_OK; i++)
		rc = dataset_add_path(&ds, clips.paths[i], err);
	if (rc == AUSCULT_OK)
		rc = dataset_load(&ds, &l->cfg.train.features, NULL, NULL, err);
	if (rc != AUSCULT_OK)
		goto out;
	l->cancel = 0;
	l->on_epoch = on_epoch;
	l->epoch_ctx = ctx;
	rc = train_model(&m, &ds, &l->cfg.train, on_trainer_epoch, l, &l->cancel, &tr, err);
	if (rc == AUSCULT_OK)
		rc = stop_asked(l, tr.epochs_run, err);
	if (rc == AUSCULT_OK && l->cfg.train.window_head) {
		/* the recipe's window head, fitted on the monitor's own windows */
		rc = head_fit(&m, &l->cfg.scoring, &l->cfg.train.head_shape, ds.paths, ds.n_files,
			      err);
		if (rc == AUSCULT_OK)
			rc = stop_asked(l, tr.epochs_run, err);
		/* and its rise heads, on the same windows; no clip threshold (head_fit_threshold):
		 * refit_threshold below fits the daemon's to the held-out clips' windows */
		if (rc == AUSCULT_OK && l->cfg.train.rise_heads)
			rc = rise_fit(&m, &l->cfg.scoring, ds.paths, ds.n_files,
				      l->cfg.train.bursts, err);
		if (rc == AUSCULT_OK)
			rc = stop_asked(l, tr.epochs_run, err);
	}
	if (rc != AUSCULT_OK)
		goto out;
	res.train_clips = (uint32_t)n_train;
	res.holdout_clips = (uint32_t)hold;
	res.train_vectors = tr.train_rows;
	res.epochs = tr.epochs_run;
	res.val_loss = tr.val_loss;
	rc = refit_threshold(l, &m, clips.paths + n_train, hold, &res, err);
	if (rc == AUSCULT_OK)
		rc = stop_asked(l, tr.epochs_run, err);
	if (rc == AUSCULT_OK)
		rc = model_save(&m, l->model_path, err);
	res.seconds = clock_mono_s() - start_s;
out:
	if (result)
		*result = res;
	free(tr.clip_scores);
	model_free(&m);
	dataset_free(&ds);
	clip_list_free(&clips);
	return rc;
}
