/* trainer_recipe.c - runs the training recipe end to end and assembles the model file's contents. */
#include "train/trainer_recipe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/autoencoder.h"
#include "train/gamma_fit.h"

/* Vectors per autoencoder_score call when scoring the training data. */
#define SCORE_BATCH 512

const char train_recipe_names[] =
	"idnn16-spec-burst, idnn16-spec-rise, idnn16-fast-rise, idnn16-fast-stats, idnn16-fast, idnn16, idnn16-stats, "
	"dcase2020";

/* The DCASE 2020 Task 2 baseline: every frame in and out, plain MSE, mean clip score. */
static void recipe_dcase2020(struct train_options *o)
{
	memset(o, 0, sizeof(*o));
	feature_params_defaults(&o->features);
	trainer_config_defaults(&o->trainer);
	o->standardize = false;
	o->input_frames = 0;
	o->target_frames = 0;
	o->band_weights = false;
	o->aggregation = CLIP_AGG_MEAN;
	o->top_fraction = 0.1f;
	o->quantile = 0.9f;
	o->window_fit = THRESHOLD_FIT_GAMMA;
	o->window_quantile = 0.999;
	o->window_head = false;
	window_head_shape_defaults(&o->head_shape);
	o->rise_heads = false;
	o->bursts = false;
}

/*
 * Interpolation of the middle frame (an IDNN) by a 16-wide bottleneck. It beats the baseline on
 * every measure we have (models/README.md, bench/eval_detector.sh) at 1/25 of the weights: the
 * middle frame cannot be copied through, so a burst or click the neighbours do not predict shows,
 * and the top 10% of a window's errors keep a brief burst from being averaged away.
 */
static void recipe_idnn16(struct train_options *o)
{
	recipe_dcase2020(o);
	o->standardize = true;
	o->input_frames = 0x1bu;  /* frames 0, 1, 3, 4 */
	o->target_frames = 0x04u; /* frame 2 */
	o->band_weights = true;
	o->aggregation = CLIP_AGG_TOP_MEAN;
	o->top_fraction = 0.1f;
	o->trainer.n_hidden = 1;
	o->trainer.hidden[0] = 16;
}

/*
 * idnn16 on frames 64 ms apart instead of 32: the 1024-sample frames abut instead of overlapping
 * by half, the five stacked ones span 320 ms instead of 160, and a clip has half the frames and
 * vectors, so the front end and the network do half the work (issue 12's speed targets). A 2-s
 * window then holds 31 vectors, so it is scored by its largest 20% (6 vectors, as idnn16's 10%
 * of 62) rather than 3, whose tail let unseen normals raise events. Its windows' tail is still
 * heavier than a gamma's, so its daemon threshold sits at a higher quantile, fitted with
 * cross-validated folds (scripts/train-shipped-model; models/README.md has the five seeds).
 */
static void recipe_idnn16_fast(struct train_options *o)
{
	recipe_idnn16(o);
	o->features.hop_length = 1024;
	o->top_fraction = 0.2f;
	o->window_quantile = 0.99999;
	/* its head, when one is added: 64-point (4-ms) frames every 256 samples, four per
	 * feature hop, a tenth of 256-point frames every 128's work. The window's statistics need
	 * many frames, not every sample: on bench/eval_detector.sh the head summed with this
	 * network ranks AUC 0.674 (the families never tuned on 0.716), 128-point frames 0.680
	 * (0.715) for 0.15 ms more per 10-s clip, which took the recipe under issue 12's 2.5x of
	 * dcase2020's speed on some runs. */
	o->head_shape.n_fft = 64;
	o->head_shape.hop = 256;
}

/*
 * idnn16-fast and the window head (idnn16-stats' second head on idnn16-fast's shape), the
 * default before the rise heads. The network hears brief events, the head a window's small
 * steady changes of band level and steadiness (a bearing's impacts, a leak's hiss, a new tone):
 * AUC 0.674 on bench/eval_detector.sh against idnn16-fast's 0.652, steady faults most
 * (models/README.md), for 8.8 MFLOP per 10-s clip, a twentieth of dcase2020's. Its head keeps
 * the 15 bands under the rate converter's pass band (0-7.5 kHz), so a 48-kHz microphone gives
 * it what a 16-kHz one does.
 */
static void recipe_idnn16_fast_stats(struct train_options *o)
{
	recipe_idnn16_fast(o);
	o->window_head = true;
	/* Its window scores spread differently from the network's: over the five seeds of
	 * models/README.md, 0.999995 leaves the widest worst-case margin on both sides (10.4% over
	 * the normals' highest, 11.4% under the real anomaly; 0.99999: 7.2% and 14.8%). */
	o->window_quantile = 0.999995;
}

/*
 * The default: idnn16-fast-stats and the rise heads, which issue 12 named: each window's envelope
 * spectra (the first differences of its bands' dB over the head's 4-ms frames, 2-30 Hz: a
 * bearing's impacts, cavitation), the envelope spectrum of its high-frequency level over
 * contiguous 8-ms blocks (2-61 Hz: impacts the 4-ms frames miss, at a shaft's rate and its
 * multiples) and tonal peaks (its mean 1024-point spectrum against each bin's neighbours: a new
 * tone), each a diagonal Gaussian of normal windows scored by its largest 2% of rises, add to
 * the window's score the median over their last seven evaluations, once a second, of what they
 * exceed their normal range by (model/rise_heads.h). Over the 75 normals of
 * bench/eval_folds.sh AUC 0.716 against idnn16-fast-stats' 0.687, +0.029 (+0.021 .. +0.036),
 * and 0.607 against 0.582 at the weakest level (bearing 0.90 against 0.78, a new tone 0.83
 * against 0.79); the real pump anomaly's sustained score 2.8 times the highest of the 20
 * normals 55..74 (none trained on) laid end to end (1.26), for 1.2 times its CPU per clip: 10.3
 * MFLOP, 2.5 times faster than dcase2020 (models/README.md).
 */
static void recipe_idnn16_fast_rise(struct train_options *o)
{
	recipe_idnn16_fast_stats(o);
	o->rise_heads = true;
	/* The gate adds nothing to most normal windows and much to a few: the windows' tail is
	 * heavier than their bulk, and a gamma of all of them puts even its quantile 0.9999999 (a
	 * float's last below 1) within 0.2-1.7% of normals 55..74's highest. The tail's own fit
	 * at 0.9999 leaves them 30% under the threshold and the real anomaly 23% over it
	 * (models/README.md, five seeds). */
	o->window_fit = THRESHOLD_FIT_TAIL;
	o->window_quantile = 0.9999;
}

/*
 * idnn16-fast-rise with the window head's spectrum kind (model/spectrum_head.h): each window's
 * mean 1024-point spectrum in 60 bands of 125 Hz, scored by what its normal windows' 32
 * principal directions leave unexplained, in place of the Gaussian of 15 bands' mean and
 * spread. Recordings of one pump differ by a few dB per band, mostly along a few directions
 * (level, tilt, speed); a weak hiss, tone or resonance adds a narrow bump off them.
 */
static void recipe_idnn16_spec_rise(struct train_options *o)
{
	recipe_idnn16_fast_rise(o);
	o->head_shape.kind = WINDOW_HEAD_SPECTRUM;
}

/*
 * The default: idnn16-spec-rise and the rise heads' bursts head (model/rise_heads.h): each
 * window's 246 bands of 31 Hz, the crest of each over the front end's 64-ms frames (its
 * loudest frame's power over its mean), scored by the largest z against normal windows and
 * added every evaluation, not through the steady median. A knock rings one narrow resonance
 * for a frame or two: the steady heads are deaf to it and the network, whose errors are spread
 * over mel bands, hears it faintly. Over the 75 normals of bench/eval_folds.sh (models/README.md
 * has the figures) it lifts knocks most, and cavitation's bursts; a steady fault's ranking
 * loses a little to the normal windows it adds to.
 */
static void recipe_idnn16_spec_burst(struct train_options *o)
{
	recipe_idnn16_spec_rise(o);
	o->bursts = true;
}

/*
 * idnn16 and a second head of window statistics: each of 16 bands' mean and spread of dB energy
 * over 8-ms frames across the window, scored by a full-covariance Gaussian of normal windows. A
 * small steady change of a band's level or steadiness adds up over a whole window, where the
 * network's 64-ms frames, scored one by one, hide it in their own variance.
 */
static void recipe_idnn16_stats(struct train_options *o)
{
	recipe_idnn16(o);
	o->window_head = true;
}

void train_options_defaults(struct train_options *o)
{
	(void)train_options_recipe(o, TRAIN_RECIPE_DEFAULT, NULL); /* a name it knows */
}

int train_options_recipe(struct train_options *o, const char *name, struct auscult_err *err)
{
	if (strcmp(name, "idnn16-spec-burst") == 0)
		recipe_idnn16_spec_burst(o);
	else if (strcmp(name, "idnn16-spec-rise") == 0)
		recipe_idnn16_spec_rise(o);
	else if (strcmp(name, "idnn16-fast-rise") == 0)
		recipe_idnn16_fast_rise(o);
	else if (strcmp(name, "idnn16-fast-stats") == 0)
		recipe_idnn16_fast_stats(o);
	else if (strcmp(name, "idnn16-fast") == 0)
		recipe_idnn16_fast(o);
	else if (strcmp(name, "idnn16") == 0)
		recipe_idnn16(o);
	else if (strcmp(name, "idnn16-stats") == 0)
		recipe_idnn16_stats(o);
	else if (strcmp(name, "dcase2020") == 0)
		recipe_dcase2020(o);
	else
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "recipe: unknown recipe \"%s\"; the recipes are %s", name,
				    train_recipe_names);
	return AUSCULT_OK;
}

int train_parse_frames(const char *name, const char *text, uint32_t n_stack, uint32_t *mask,
		       struct auscult_err *err)
{
	uint32_t m = 0, n = 0;
	const char *p = text;
	for (;;) {
		char *end;
		n++;
		if (*p < '0' || *p > '9')
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "%s: element %u of \"%s\" is not a frame number", name,
					    n, text);
		unsigned long f = strtoul(p, &end, 10);
		if (f >= n_stack)
			return auscult_fail(
				err, AUSCULT_ERR_INVALID,
				"%s: frame %lu is out of range [0, %u] (%u stacked frames)", name,
				f, n_stack - 1, n_stack);
		if (m & (1u << f))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "%s: frame %lu is listed twice", name, f);
		m |= 1u << f;
		if (*end == '\0')
			break;
		if (*end != ',')
			return auscult_fail(
				err, AUSCULT_ERR_INVALID,
				"%s: unexpected '%c' in \"%s\"; expected a list like 0,1,3,4", name,
				*end, text);
		p = end + 1;
	}
	*mask = m;
	return AUSCULT_OK;
}

int train_parse_aggregate(struct train_options *o, const char *text, struct auscult_err *err)
{
	if (strcmp(text, "mean") == 0) {
		o->aggregation = CLIP_AGG_MEAN;
		return AUSCULT_OK;
	}
	if (strncmp(text, "top:", 4) == 0) {
		char *end;
		double f = strtod(text + 4, &end);
		if (end != text + 4 && *end == '\0' && f > 0.0 && f <= 1.0) {
			o->aggregation = CLIP_AGG_TOP_MEAN;
			o->top_fraction = (float)f;
			return AUSCULT_OK;
		}
	}
	return auscult_fail(err, AUSCULT_ERR_INVALID,
			    "aggregate: \"%s\" is not \"mean\" or \"top:F\" with 0 < F <= 1 "
			    "(e.g. top:0.1)",
			    text);
}

/* Column indices (into a stacked vector) of the frames in mask. */
static uint32_t mask_cols(uint32_t mask, uint32_t n_stack, uint32_t n_mels, uint32_t *cols)
{
	uint32_t n = 0;
	for (uint32_t f = 0; f < n_stack; f++)
		if (mask & (1u << f))
			for (uint32_t b = 0; b < n_mels; b++)
				cols[n++] = f * n_mels + b;
	return n;
}

/* Sets m->band_weights to 1 / each band's mean squared error over every vector of ds. */
static int fit_band_weights(struct model *m, const struct dataset *ds, struct auscult_err *err)
{
	uint32_t n_mels = ds->features.n_mels;
	struct autoencoder ae;
	memset(&ae, 0, sizeof(ae));
	float *scores = malloc(SCORE_BATCH * sizeof(float));
	float *bands = malloc((size_t)SCORE_BATCH * n_mels * sizeof(float));
	double *sum = calloc(n_mels, sizeof(double));
	float *w = malloc(n_mels * sizeof(float));
	int rc = AUSCULT_ERR_NOMEM;
	if (!scores || !bands || !sum || !w) {
		auscult_fail(err, rc, "out of memory fitting band weights");
		goto out;
	}
	rc = autoencoder_init(&ae, m, SCORE_BATCH, err);
	if (rc)
		goto out;
	for (uint64_t r = 0; r < ds->n_vectors; r += SCORE_BATCH) {
		uint64_t left = ds->n_vectors - r;
		size_t n = left < SCORE_BATCH ? (size_t)left : SCORE_BATCH;
		autoencoder_score(&ae, ds->vectors + r * ds->dim, ds->dim, n, scores, bands);
		for (size_t i = 0; i < n; i++)
			for (uint32_t b = 0; b < n_mels; b++)
				sum[b] += bands[i * n_mels + b];
	}
	for (uint32_t b = 0; b < n_mels; b++) {
		double mean = sum[b] / (double)ds->n_vectors;
		/* A band reconstructed perfectly would get an infinite weight; cap it. */
		w[b] = (float)(1.0 / (mean > 1e-12 ? mean : 1e-12));
	}
	free(m->band_weights);
	m->band_weights = w;
	w = NULL;
	rc = AUSCULT_OK;
out:
	autoencoder_free(&ae);
	free(scores);
	free(bands);
	free(sum);
	free(w);
	return rc;
}

/* One clip score per file of ds, with the model as it stands, into clip (n_files). */
static int score_files(const struct model *m, const struct dataset *ds, float *clip,
		       struct auscult_err *err)
{
	uint64_t most = 0;
	for (uint32_t f = 0; f < ds->n_files; f++) {
		uint64_t n = ds->file_first[f + 1] - ds->file_first[f];
		if (n > most)
			most = n;
	}
	struct autoencoder ae;
	memset(&ae, 0, sizeof(ae));
	float *scores = malloc((size_t)most * sizeof(float));
	if (!scores)
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "out of memory scoring the training files");
	int rc = autoencoder_init(&ae, m, SCORE_BATCH, err);
	if (rc)
		goto out;
	for (uint32_t f = 0; f < ds->n_files; f++) {
		uint64_t first = ds->file_first[f], n = ds->file_first[f + 1] - first;
		for (uint64_t i = 0; i < n; i += SCORE_BATCH) {
			size_t k = n - i < SCORE_BATCH ? (size_t)(n - i) : SCORE_BATCH;
			autoencoder_score(&ae, ds->vectors + (first + i) * ds->dim, ds->dim, k,
					  scores + i, NULL);
		}
		clip[f] = model_clip_score(m, scores, (size_t)n);
		if (!isfinite(clip[f])) {
			rc = auscult_fail(err, AUSCULT_ERR_INVALID,
					  "%s: clip score %g is not finite; the training diverged "
					  "(try a smaller --lr)",
					  ds->paths[f], (double)clip[f]);
			goto out;
		}
	}
out:
	autoencoder_free(&ae);
	free(scores);
	return rc;
}

int train_model(struct model *m, const struct dataset *ds, const struct train_options *o,
		train_epoch_fn on_epoch, void *ctx, const volatile sig_atomic_t *stop,
		struct train_result *result, struct auscult_err *err)
{
	struct trainer *t = NULL;
	uint32_t *in_cols = NULL, *out_cols = NULL;
	float *clip = NULL;
	double *clip_d = NULL;
	float *curve_train = NULL, *curve_val = NULL;
	int rc;
	const uint32_t n_stack = ds->features.n_stack, n_mels = ds->features.n_mels;
	const uint32_t all = n_stack >= 32 ? UINT32_MAX : (1u << n_stack) - 1u;

	if (result)
		memset(result, 0, sizeof(*result));
	memset(m, 0, sizeof(*m));
	if (!ds->vectors || ds->n_vectors == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "no training vectors (load a dataset)");
	if (!(o->quantile > 0.0f && o->quantile < 1.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "quantile: %g is not in (0, 1)",
				    (double)o->quantile);
	m->features = ds->features;
	m->input_frames = o->input_frames ? o->input_frames : all;
	m->target_frames = o->target_frames ? o->target_frames : all;
	if ((m->input_frames & ~all) || (m->target_frames & ~all)) {
		rc = auscult_fail(err, AUSCULT_ERR_INVALID,
				  "input/target frames: a frame past the %u stacked ones", n_stack);
		goto fail;
	}
	m->aggregation = o->aggregation;
	m->top_fraction = o->aggregation == CLIP_AGG_TOP_MEAN ? o->top_fraction : 0.0f;

	in_cols = malloc((size_t)ds->dim * sizeof(uint32_t));
	out_cols = malloc((size_t)ds->dim * sizeof(uint32_t));
	if (!in_cols || !out_cols)
		goto nomem;
	uint32_t n_in = mask_cols(m->input_frames, n_stack, n_mels, in_cols);
	uint32_t n_out = mask_cols(m->target_frames, n_stack, n_mels, out_cols);

	uint64_t n_train = trainer_split_rows(ds->n_vectors, o->trainer.validation_split);
	if (o->standardize) {
		m->input_mean = malloc((size_t)ds->dim * sizeof(float));
		m->input_std = malloc((size_t)ds->dim * sizeof(float));
		if (!m->input_mean || !m->input_std)
			goto nomem;
		/* Statistics of the training rows only: the held-out ones stay unseen. */
		dataset_mean_std(ds, n_train ? n_train : ds->n_vectors, m->input_mean,
				 m->input_std);
	}

	struct trainer_data data = { .rows = ds->vectors,
				     .n_rows = ds->n_vectors,
				     .row_dim = ds->dim,
				     .n_in = n_in,
				     .in_cols = in_cols,
				     .n_out = n_out,
				     .out_cols = out_cols,
				     .mean = m->input_mean,
				     .std = m->input_std };
	rc = trainer_create(&t, &o->trainer, &data, err);
	if (rc)
		goto fail;
	/* The curve's room is taken before the first epoch, so that no epoch is lost to memory. It
	 * joins the model with the rest of the training info, once the model is complete. */
	curve_train = malloc((size_t)o->trainer.epochs * sizeof(float));
	curve_val = malloc((size_t)o->trainer.epochs * sizeof(float));
	if (!curve_train || !curve_val)
		goto nomem;
	struct trainer_epoch_stats st = { 0 };
	for (uint32_t e = 0; e < o->trainer.epochs; e++) {
		rc = trainer_run_epoch(t, stop, &st);
		if (rc) {
			auscult_fail(err, rc, "interrupted in epoch %u of %u; no model written",
				     e + 1, o->trainer.epochs);
			goto fail;
		}
		if (!isfinite(st.train_loss)) {
			rc = auscult_fail(err, AUSCULT_ERR_INVALID,
					  "epoch %u: the training loss is %g; training diverged "
					  "(try a smaller --lr)",
					  st.epoch, (double)st.train_loss);
			goto fail;
		}
		curve_train[e] = st.train_loss;
		curve_val[e] = st.val_loss;
		if (on_epoch)
			on_epoch(ctx, &st, o->trainer.epochs);
	}
	rc = trainer_export(t, m, err);
	if (rc)
		goto fail;

	/* Provisional threshold so that the model validates while it scores its own data. */
	m->threshold.gamma_shape = 1.0f;
	m->threshold.gamma_scale = 1.0f;
	m->threshold.quantile = o->quantile;
	m->threshold.threshold = 0.0f;
	if (o->band_weights) {
		rc = fit_band_weights(m, ds, err);
		if (rc)
			goto fail;
	}

	clip = malloc((size_t)ds->n_files * sizeof(float));
	clip_d = malloc((size_t)ds->n_files * sizeof(double));
	if (!clip || !clip_d)
		goto nomem;
	rc = score_files(m, ds, clip, err);
	if (rc)
		goto fail;
	for (uint32_t f = 0; f < ds->n_files; f++)
		clip_d[f] = clip[f];
	double shape, scale;
	rc = gamma_fit_mle(clip_d, ds->n_files, &shape, &scale, err);
	if (rc)
		goto fail;
	m->threshold.gamma_shape = (float)shape;
	m->threshold.gamma_scale = (float)scale;
	m->threshold.threshold = (float)gamma_quantile(shape, scale, o->quantile);

	struct model_training_info *ti = &m->training;
	ti->n_vectors = trainer_train_rows(t);
	ti->n_files = ds->n_files;
	ti->epochs = st.epoch;
	ti->batch_size = o->trainer.batch_size;
	ti->learning_rate = o->trainer.learning_rate;
	ti->validation_split = o->trainer.validation_split;
	ti->seed = o->trainer.seed;
	ti->train_loss = st.train_loss;
	ti->val_loss = st.val_loss;
	m->curve.n_epochs = st.epoch;
	m->curve.train_loss = curve_train;
	m->curve.val_loss = curve_val;
	curve_train = curve_val = NULL;
	/* SOURCE_DATE_EPOCH (reproducible-builds.org) pins the date so a rebuild gives the same bytes. */
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *sde_end = NULL;
	long long pinned = sde ? strtoll(sde, &sde_end, 10) : 0;
	ti->created_unix_s = sde && sde_end != sde && *sde_end == '\0' && pinned >= 0
				     ? (int64_t)pinned
				     : (int64_t)time(NULL);
	snprintf(ti->tool_version, sizeof(ti->tool_version), "%s", AUSCULT_VERSION);

	rc = model_validate(m, err);
	if (rc)
		goto fail;
	if (result) {
		result->epochs_run = st.epoch;
		result->train_loss = st.train_loss;
		result->val_loss = st.val_loss;
		result->train_rows = trainer_train_rows(t);
		result->val_rows = trainer_val_rows(t);
		result->clip_scores = clip;
		result->n_clip_scores = ds->n_files;
		clip = NULL;
	}
	trainer_destroy(t);
	free(in_cols);
	free(out_cols);
	free(clip);
	free(clip_d);
	return AUSCULT_OK;
nomem:
	rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory training the model");
fail:
	free(curve_train);
	free(curve_val);
	trainer_destroy(t);
	free(in_cols);
	free(out_cols);
	free(clip);
	free(clip_d);
	model_free(m);
	return rc;
}
