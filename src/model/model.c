/* model.c - frame masks, network widths, validation and freeing of the in-memory model. */
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_file.h"
#include "model/spectrum_head.h"

uint32_t model_frame_count(uint32_t frames_mask, uint32_t n_stack)
{
	if (n_stack < 32)
		frames_mask &= (1u << n_stack) - 1u;
	uint32_t count = 0;
	for (; frames_mask; frames_mask &= frames_mask - 1u)
		count++;
	return count;
}

uint32_t model_input_dim(const struct model *m)
{
	return model_frame_count(m->input_frames, m->features.n_stack) * m->features.n_mels;
}

uint32_t model_output_dim(const struct model *m)
{
	return model_frame_count(m->target_frames, m->features.n_stack) * m->features.n_mels;
}

/* Index of the first value that is not finite, or n when all are. */
static size_t first_non_finite(const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return i;
	return n;
}

static int check_mask(const char *name, uint32_t mask, uint32_t n_stack, struct auscult_err *err)
{
	if (mask == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "%s: 0x%x selects no frame", name,
				    mask);
	if (n_stack < 32 && (mask >> n_stack) != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: 0x%x selects frames beyond the %u stacked frames", name,
				    mask, n_stack);
	return AUSCULT_OK;
}

static int check_layer(const struct model *m, uint32_t i, uint32_t expect_in,
		       struct auscult_err *err)
{
	const struct dense_layer *l = &m->layers[i];
	if (l->n_in == 0 || l->n_in > MODEL_MAX_DIM || l->n_out == 0 || l->n_out > MODEL_MAX_DIM)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "layers[%u]: %u x %u is out of range [1, %u] per side", i,
				    l->n_in, l->n_out, MODEL_MAX_DIM);
	if (l->n_in != expect_in)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "layers[%u].n_in: %u, expected %u (%s)", i, l->n_in, expect_in,
				    i == 0 ? "the input frames x n_mels"
					   : "the previous layer's n_out");
	if ((unsigned)l->activation > (unsigned)ACTIVATION_RELU)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "layers[%u].activation: %u is not 0 (linear) or 1 (relu)", i,
				    (unsigned)l->activation);
	if (!l->weights || !l->bias)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "layers[%u]: weights or bias missing",
				    i);
	size_t nw = (size_t)l->n_in * l->n_out;
	size_t bad = first_non_finite(l->weights, nw);
	if (bad < nw)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "layers[%u].weights[%zu]: %g is not finite", i, bad,
				    (double)l->weights[bad]);
	bad = first_non_finite(l->bias, l->n_out);
	if (bad < l->n_out)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "layers[%u].bias[%zu]: %g is not finite", i, bad,
				    (double)l->bias[bad]);
	return AUSCULT_OK;
}

static int check_layers(const struct model *m, struct auscult_err *err)
{
	if (m->n_layers == 0 || !m->layers)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "layers: the network has no layer");
	if (m->n_layers > MODEL_MAX_LAYERS)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "n_layers: %u is more than %u",
				    m->n_layers, MODEL_MAX_LAYERS);
	uint64_t params = 0;
	uint32_t width = model_input_dim(m);
	for (uint32_t i = 0; i < m->n_layers; i++) {
		int rc = check_layer(m, i, width, err);
		if (rc)
			return rc;
		params += (uint64_t)m->layers[i].n_in * m->layers[i].n_out + m->layers[i].n_out;
		width = m->layers[i].n_out;
	}
	if (params > MODEL_MAX_PARAMS)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "layers: %llu parameters is more than %u",
				    (unsigned long long)params, MODEL_MAX_PARAMS);
	if (width != model_output_dim(m))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "layers[%u].n_out: %u, expected %u (the target frames x n_mels)",
				    m->n_layers - 1, width, model_output_dim(m));
	return AUSCULT_OK;
}

static int check_standardisation(const struct model *m, struct auscult_err *err)
{
	if (!m->input_mean != !m->input_std)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "input_mean/input_std: one is set without the other");
	if (!m->input_mean)
		return AUSCULT_OK;
	size_t dim = feature_params_vector_dim(&m->features);
	size_t bad = first_non_finite(m->input_mean, dim);
	if (bad < dim)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "input_mean[%zu]: %g is not finite",
				    bad, (double)m->input_mean[bad]);
	for (size_t i = 0; i < dim; i++)
		if (!(m->input_std[i] >= MODEL_INPUT_STD_MIN) || !isfinite(m->input_std[i]))
			return auscult_fail(
				err, AUSCULT_ERR_INVALID,
				"input_std[%zu]: %g is not a finite value >= %g (training "
				"floors it there)",
				i, (double)m->input_std[i], (double)MODEL_INPUT_STD_MIN);
	return AUSCULT_OK;
}

static int check_threshold(const struct model_threshold *t, struct auscult_err *err)
{
	if (!(t->gamma_shape > 0.0f) || !isfinite(t->gamma_shape))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "threshold.gamma_shape: %g is not a finite value > 0",
				    (double)t->gamma_shape);
	if (!(t->gamma_scale > 0.0f) || !isfinite(t->gamma_scale))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "threshold.gamma_scale: %g is not a finite value > 0",
				    (double)t->gamma_scale);
	if (!(t->quantile > 0.0f && t->quantile < 1.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "threshold.quantile: %g is not in (0, 1)", (double)t->quantile);
	if (!(t->threshold >= 0.0f) || !isfinite(t->threshold))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "threshold.threshold: %g is not a finite value >= 0",
				    (double)t->threshold);
	return AUSCULT_OK;
}

static int check_training(const struct model_training_info *t, struct auscult_err *err)
{
	if (!isfinite(t->learning_rate) || t->learning_rate < 0.0f)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "training.learning_rate: %g is not a finite value >= 0",
				    (double)t->learning_rate);
	if (!(t->validation_split >= 0.0f && t->validation_split < 1.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "training.validation_split: %g is not in [0, 1)",
				    (double)t->validation_split);
	if (!isfinite(t->train_loss))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "training.train_loss: %g is not finite", (double)t->train_loss);
	/* NaN is how "no validation set" is written; infinity is never meaningful. */
	if (isinf(t->val_loss))
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"training.val_loss: %g is neither finite nor NaN (none held out)",
			(double)t->val_loss);
	if (!memchr(t->tool_version, '\0', sizeof(t->tool_version)))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "training.tool_version: not NUL-terminated within %zu bytes",
				    sizeof(t->tool_version));
	return AUSCULT_OK;
}

/* Losses are mean squared errors: >= 0; a validation loss is NaN when nothing was held out. */
static int check_curve(const struct model *m, struct auscult_err *err)
{
	const struct model_training_curve *c = &m->curve;
	if (c->n_epochs == 0)
		return c->train_loss || c->val_loss
			       ? auscult_fail(err, AUSCULT_ERR_INVALID,
					      "curve: losses without an epoch count")
			       : AUSCULT_OK;
	if (c->n_epochs > MODEL_CURVE_MAX_EPOCHS)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "curve.n_epochs: %u is more than %u",
				    c->n_epochs, MODEL_CURVE_MAX_EPOCHS);
	if (c->n_epochs != m->training.epochs)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "curve.n_epochs: %u, but training.epochs says %u", c->n_epochs,
				    m->training.epochs);
	if (!c->train_loss || !c->val_loss)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "curve: losses missing");
	for (uint32_t e = 0; e < c->n_epochs; e++) {
		if (!(c->train_loss[e] >= 0.0f) || !isfinite(c->train_loss[e]))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "curve.train_loss[%u]: %g is not a finite value >= 0",
					    e, (double)c->train_loss[e]);
		if (!isnan(c->val_loss[e]) && !(c->val_loss[e] >= 0.0f && isfinite(c->val_loss[e])))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "curve.val_loss[%u]: %g is neither a finite value >= 0 "
					    "nor NaN (none held out)",
					    e, (double)c->val_loss[e]);
	}
	return AUSCULT_OK;
}

int model_validate(const struct model *m, struct auscult_err *err)
{
	struct auscult_err inner;
	int rc = feature_params_validate(&m->features, &inner);
	if (rc)
		return auscult_fail(err, rc, "features.%s", inner.msg);
	rc = check_mask("input_frames", m->input_frames, m->features.n_stack, err);
	if (rc)
		return rc;
	rc = check_mask("target_frames", m->target_frames, m->features.n_stack, err);
	if (rc)
		return rc;
	rc = check_standardisation(m, err);
	if (rc)
		return rc;
	if (m->band_weights) {
		for (uint32_t k = 0; k < m->features.n_mels; k++)
			if (!(m->band_weights[k] >= 0.0f) || !isfinite(m->band_weights[k]))
				return auscult_fail(
					err, AUSCULT_ERR_INVALID,
					"band_weights[%u]: %g is not a finite value >= 0", k,
					(double)m->band_weights[k]);
	}
	if (m->aggregation == CLIP_AGG_TOP_MEAN) {
		if (!(m->top_fraction > 0.0f && m->top_fraction <= 1.0f))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "top_fraction: %g is not in (0, 1]",
					    (double)m->top_fraction);
	} else if (m->aggregation != CLIP_AGG_MEAN) {
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "aggregation: %u is not 0 (mean) or 1 (top mean)",
				    (unsigned)m->aggregation);
	} else if (!isfinite(m->top_fraction)) {
		return auscult_fail(err, AUSCULT_ERR_INVALID, "top_fraction: %g is not finite",
				    (double)m->top_fraction);
	}
	rc = check_layers(m, err);
	if (rc)
		return rc;
	rc = check_threshold(&m->threshold, err);
	if (rc)
		return rc;
	rc = check_training(&m->training, err);
	if (rc)
		return rc;
	rc = check_curve(m, err);
	if (rc)
		return rc;
	rc = m->head ? model_window_head_validate(m->head, &m->features, err) : AUSCULT_OK;
	if (rc == AUSCULT_OK && m->rise)
		rc = model_rise_heads_validate(m->rise, m->head, &m->features, err);
	return rc;
}

static bool finite_all(const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return false;
	return true;
}

int model_window_head_validate(const struct model_window_head *h, const struct feature_params *f,
			       struct auscult_err *err)
{
	if (h->n_fft < 4 || h->n_fft > 65536 || (h->n_fft & (h->n_fft - 1)) != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "head.n_fft: %u is not a power of two in [4, 65536]", h->n_fft);
	/* A short frame within one features frame: every window (at least one model input long,
	 * pipeline_input_s) then holds one, and the head a score. */
	if (h->n_fft > f->n_fft)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "head.n_fft: %u is longer than the features' frame (n_fft %u)",
				    h->n_fft, f->n_fft);
	if (h->hop == 0 || f->hop_length % h->hop != 0 || f->hop_length / h->hop < 4)
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"head.hop: %u must divide the features' hop_length %u at least 4 "
			"times",
			h->hop, f->hop_length);
	if (h->n_bands == 0 || (h->n_fft / 2) % h->n_bands != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "head.n_bands: %u does not divide n_fft / 2 = %u", h->n_bands,
				    h->n_fft / 2);
	if (h->n_kept == 0 || h->n_kept > h->n_bands)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "head.n_kept: %u is not in [1, n_bands = %u]", h->n_kept,
				    h->n_bands);
	if (h->kind == WINDOW_HEAD_BANDS && h->dim != 2 * h->n_kept)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "head.dim: %u, expected 2 x n_kept = %u", h->dim,
				    2 * h->n_kept);
	if (h->kind != WINDOW_HEAD_BANDS && h->kind != WINDOW_HEAD_SPECTRUM)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "head.kind: %d is not 0 or 1",
				    (int)h->kind);
	if (h->kind == WINDOW_HEAD_SPECTRUM) {
		if (h->dim < 2 || h->dim > SPECTRUM_HEAD_MAX_BANDS)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "head.dim: %u spectrum bands, not in [2, %u]", h->dim,
					    SPECTRUM_HEAD_MAX_BANDS);
		if (h->spec_band_bins < 1 || (uint64_t)h->spec_band_bins * h->dim > f->n_fft / 2)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "head.spec_band_bins: %u bins x %u bands do not fit in "
					    "the features' %u bins (n_fft / 2)",
					    h->spec_band_bins, h->dim, f->n_fft / 2);
		if (h->spec_rank < 1 || h->spec_rank >= h->dim)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "head.spec_rank: %u is not in [1, dim - 1 = %u]",
					    h->spec_rank, h->dim - 1);
		if (!(h->spec_top_fraction > 0.0f && h->spec_top_fraction <= 1.0f))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "head.spec_top_fraction: %g is not in (0, 1]",
					    (double)h->spec_top_fraction);
	}
	if (!(h->shrinkage >= 0.0f && h->shrinkage <= 1.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "head.shrinkage: %g is not in [0, 1]",
				    (double)h->shrinkage);
	if (!(h->std_floor_rel >= 0.0f && isfinite(h->std_floor_rel)))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "head.std_floor_rel: %g is not a finite value >= 0",
				    (double)h->std_floor_rel);
	if (!(h->ae_median > 0.0f && isfinite(h->ae_median)) ||
	    !(h->head_median > 0.0f && isfinite(h->head_median)))
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"head.ae_median %g / head.head_median %g: need finite values > 0",
			(double)h->ae_median, (double)h->head_median);
	if (!h->mean || !h->inv_std || (h->kind == WINDOW_HEAD_BANDS ? !h->precision : !h->basis))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "head: fitted statistics missing");
	if (!finite_all(h->mean, h->dim))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "head.mean: a value is not finite");
	for (uint32_t i = 0; i < h->dim; i++)
		if (!(h->inv_std[i] > 0.0f && isfinite(h->inv_std[i])))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "head.inv_std[%u]: %g is not a finite value > 0", i,
					    (double)h->inv_std[i]);
	if (h->kind == WINDOW_HEAD_BANDS && !finite_all(h->precision, (size_t)h->dim * h->dim))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "head.precision: a value is not finite");
	if (h->kind == WINDOW_HEAD_SPECTRUM && !finite_all(h->basis, (size_t)h->dim * h->spec_rank))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "head.basis: a value is not finite");
	return AUSCULT_OK;
}

static int check_rise_head(const struct model_rise_head *r, const char *name, uint32_t dim,
			   struct auscult_err *err)
{
	if (r->dim != dim)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "rise.%s.dim: %u, expected %u", name,
				    r->dim, dim);
	if (!r->mean || !r->inv_std)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "rise.%s: fitted statistics missing",
				    name);
	size_t bad = first_non_finite(r->mean, r->dim);
	if (bad < r->dim)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "rise.%s.mean[%zu]: %g is not finite",
				    name, bad, (double)r->mean[bad]);
	for (uint32_t i = 0; i < r->dim; i++)
		if (!(r->inv_std[i] > 0.0f && isfinite(r->inv_std[i])))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "rise.%s.inv_std[%u]: %g is not a finite value > 0",
					    name, i, (double)r->inv_std[i]);
	if (!isfinite(r->cal_mean))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "rise.%s.cal_mean: %g is not finite",
				    name, (double)r->cal_mean);
	/* the head's scores are divided by it: 0 or less would make every window an outlier */
	if (!(r->cal_std > 0.0f && isfinite(r->cal_std)))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.%s.cal_std: %g is not a finite value > 0", name,
				    (double)r->cal_std);
	return AUSCULT_OK;
}

/* An envelope spectrum's transform and kept bins (rise.<what>_n_fft, _bin_lo, _bin_hi), as
 * features/envelope_spectrum.h can do them. */
static int check_spectrum_shape(const char *what, uint32_t n, uint32_t lo, uint32_t hi,
				struct auscult_err *err)
{
	if (n < 4 || n > 65536 || (n & (n - 1)) != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.%s_n_fft: %u is not a power of two in [4, 65536]", what,
				    n);
	if (lo < 1 || hi < lo || hi >= n / 2)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.%s_bin_lo %u / %s_bin_hi %u: need 1 <= lo <= hi < "
				    "%s_n_fft / 2 = %u",
				    what, lo, what, hi, what, n / 2);
	return AUSCULT_OK;
}

/* The optional impulse head: blocks that tile the features' hop (so the pipeline's pieces,
 * which end at hop boundaries, never split the stream differently), a transform and bins the
 * envelope spectrum can do. */
static int check_impulses(const struct model_rise_heads *r, const struct feature_params *f,
			  struct auscult_err *err)
{
	uint32_t b = r->imp_block, n = r->imp_n_fft;
	if (b < 2 || b > f->hop_length || f->hop_length % b != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.imp_block: %u samples does not divide the features' hop "
				    "of %u samples into blocks of 2 or more",
				    b, f->hop_length);
	int rc = check_spectrum_shape("imp", n, r->imp_bin_lo, r->imp_bin_hi, err);
	if (rc)
		return rc;
	return check_rise_head(&r->impulses, "impulses", r->imp_bin_hi - r->imp_bin_lo + 1, err);
}

/* The optional bursts head: bands of whole front-end bins, no wider than the spectrum. */
static int check_bursts(const struct model_rise_heads *r, const struct feature_params *f,
			struct auscult_err *err)
{
	if (r->burst_bins > f->n_fft / 2)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.burst_bins: %u is not in [1, n_fft / 2 = %u]",
				    r->burst_bins, f->n_fft / 2);
	if (r->burst_band_bins < 1 || r->burst_bins % r->burst_band_bins != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.burst_band_bins: %u does not divide burst_bins %u into "
				    "bands",
				    r->burst_band_bins, r->burst_bins);
	if (!isfinite(r->burst_gate_z))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "rise.burst_gate_z: %g is not finite",
				    (double)r->burst_gate_z);
	return check_rise_head(&r->bursts, "bursts", r->burst_bins / r->burst_band_bins, err);
}

int model_rise_heads_validate(const struct model_rise_heads *r, const struct model_window_head *h,
			      const struct feature_params *f, struct auscult_err *err)
{
	if (!h)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise: rise heads need a window head (their envelopes are its "
				    "bands)");
	int rc = check_spectrum_shape("env", r->env_n_fft, r->env_bin_lo, r->env_bin_hi, err);
	if (rc)
		return rc;
	if (r->tone_bins < 2 || r->tone_bins > f->n_fft / 2)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.tone_bins: %u is not in [2, n_fft / 2 = %u]",
				    r->tone_bins, f->n_fft / 2);
	if (r->tone_near < 1 || r->tone_far < r->tone_near || r->tone_far >= r->tone_bins)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.tone_near %u / tone_far %u: need 1 <= near <= far < "
				    "tone_bins %u",
				    r->tone_near, r->tone_far, r->tone_bins);
	if (!(r->top_fraction > 0.0f && r->top_fraction <= 1.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.top_fraction: %g is not in (0, 1]",
				    (double)r->top_fraction);
	if (!(r->std_floor_rel >= 0.0f && isfinite(r->std_floor_rel)))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.std_floor_rel: %g is not a finite value >= 0",
				    (double)r->std_floor_rel);
	if (!isfinite(r->gate_z))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "rise.gate_z: %g is not finite",
				    (double)r->gate_z);
	/* a negative weight would lower the score of the windows the heads hear */
	if (!(r->gate_weight >= 0.0f && isfinite(r->gate_weight)))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise.gate_weight: %g is not a finite value >= 0",
				    (double)r->gate_weight);
	rc = check_rise_head(&r->envelope, "envelope",
			     h->n_kept * (r->env_bin_hi - r->env_bin_lo + 1), err);
	if (rc == AUSCULT_OK)
		rc = check_rise_head(&r->tones, "tones", r->tone_bins, err);
	if (rc == AUSCULT_OK && (r->steady < 1 || r->steady > MODEL_RISE_STEADY_MAX))
		rc = auscult_fail(err, AUSCULT_ERR_INVALID, "rise.steady: %u is not in [1, %u]",
				  r->steady, MODEL_RISE_STEADY_MAX);
	if (rc == AUSCULT_OK && r->imp_block)
		rc = check_impulses(r, f, err);
	if (rc == AUSCULT_OK && r->burst_bins)
		rc = check_bursts(r, f, err);
	return rc;
}

const char *model_scoring_difference(const struct model *a, const struct model *b)
{
	if (memcmp(&a->features, &b->features, sizeof(a->features)) != 0)
		return "the front end";
	if (a->input_frames != b->input_frames || a->target_frames != b->target_frames)
		return "the frames";
	if (a->aggregation != b->aggregation || a->top_fraction != b->top_fraction)
		return "the aggregation";
	if (!a->head != !b->head)
		return "the window head: one has it";
	if (a->head && (a->head->n_fft != b->head->n_fft || a->head->hop != b->head->hop ||
			a->head->n_bands != b->head->n_bands || a->head->n_kept != b->head->n_kept))
		return "the window head's frames or bands";
	const struct model_rise_heads *ra = a->head ? a->rise : NULL,
				      *rb = b->head ? b->rise : NULL;
	if (!ra != !rb)
		return "the rise heads: one has them";
	if (!ra)
		return NULL;
	if (ra->env_n_fft != rb->env_n_fft || ra->env_bin_lo != rb->env_bin_lo ||
	    ra->env_bin_hi != rb->env_bin_hi || ra->tone_bins != rb->tone_bins ||
	    ra->tone_near != rb->tone_near || ra->tone_far != rb->tone_far ||
	    ra->top_fraction != rb->top_fraction)
		return "the rise heads' spectra";
	if (ra->gate_z != rb->gate_z || ra->gate_weight != rb->gate_weight ||
	    ra->steady != rb->steady)
		return "the rise heads' gate or steady count";
	if (ra->imp_block != rb->imp_block ||
	    (ra->imp_block && (ra->imp_n_fft != rb->imp_n_fft || ra->imp_bin_lo != rb->imp_bin_lo ||
			       ra->imp_bin_hi != rb->imp_bin_hi)))
		return "the impulse head";
	if (ra->burst_bins != rb->burst_bins ||
	    (ra->burst_bins &&
	     (ra->burst_band_bins != rb->burst_band_bins || ra->burst_gate_z != rb->burst_gate_z)))
		return "the bursts head";
	return NULL;
}

void model_rise_heads_free(struct model_rise_heads *r)
{
	if (!r)
		return;
	free(r->envelope.mean);
	free(r->envelope.inv_std);
	free(r->tones.mean);
	free(r->tones.inv_std);
	free(r->impulses.mean);
	free(r->impulses.inv_std);
	free(r->bursts.mean);
	free(r->bursts.inv_std);
	free(r);
}

void model_window_head_free(struct model_window_head *h)
{
	if (!h)
		return;
	free(h->mean);
	free(h->inv_std);
	free(h->precision);
	free(h->basis);
	free(h);
}

void model_free(struct model *m)
{
	if (!m)
		return;
	if (m->layers) {
		for (uint32_t i = 0; i < m->n_layers; i++) {
			free(m->layers[i].weights);
			free(m->layers[i].bias);
		}
		free(m->layers);
	}
	free(m->input_mean);
	free(m->input_std);
	free(m->band_weights);
	free(m->curve.train_loss);
	free(m->curve.val_loss);
	model_window_head_free(m->head);
	model_rise_heads_free(m->rise);
	memset(m, 0, sizeof(*m));
}
