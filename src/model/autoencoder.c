/* autoencoder.c - batched dense forward pass (OpenBLAS) and reconstruction-error scores. */
#include "model/autoencoder.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int autoencoder_init(struct autoencoder *ae, const struct model *m, size_t max_batch,
		     struct auscult_err *err)
{
	memset(ae, 0, sizeof(*ae));
	struct auscult_err inner;
	int rc = model_validate(m, &inner);
	if (rc)
		return auscult_fail(err, rc, "autoencoder: invalid model: %s", inner.msg);
	if (max_batch == 0 || max_batch > (1u << 20))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "autoencoder: max_batch %zu is not in [1, %u]", max_batch,
				    1u << 20);
	ae->model = m;
	ae->max_batch = max_batch;
	ae->n_mels = m->features.n_mels;
	ae->in_dim = model_input_dim(m);
	ae->out_dim = model_output_dim(m);
	for (uint32_t f = 0; f < m->features.n_stack; f++) {
		if (m->input_frames & (1u << f))
			ae->in_frames[ae->n_in_frames++] = f;
		if (m->target_frames & (1u << f))
			ae->target_frames[ae->n_target_frames++] = f;
	}
	uint32_t width = ae->in_dim;
	for (uint32_t i = 0; i < m->n_layers; i++)
		if (m->layers[i].n_out > width)
			width = m->layers[i].n_out;
	ae->max_width = width;

	size_t n_mels = ae->n_mels;
	size_t dim = feature_params_vector_dim(&m->features);
	size_t act = max_batch * width;
	ae->band_weights = malloc(n_mels * sizeof(float));
	ae->act_a = malloc(act * sizeof(float));
	ae->act_b = malloc(act * sizeof(float));
	if (m->input_std)
		ae->inv_std = malloc(dim * sizeof(float));
	if (!ae->band_weights || !ae->act_a || !ae->act_b || (m->input_std && !ae->inv_std)) {
		autoencoder_free(ae);
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "autoencoder: out of memory for a batch of %zu x %u floats",
				    max_batch, width);
	}
	for (size_t k = 0; k < n_mels; k++)
		ae->band_weights[k] = m->band_weights ? m->band_weights[k] : 1.0f;
	if (m->input_std)
		for (size_t i = 0; i < dim; i++)
			ae->inv_std[i] = 1.0f / m->input_std[i];
	return AUSCULT_OK;
}

/* Stacked frame f of vector v (n_mels values), standardised when the model says so, into out. */
static void standardised_frame(const struct autoencoder *ae, const float *v, uint32_t f,
			       float *restrict out)
{
	const uint32_t n_mels = ae->n_mels;
	const size_t at = (size_t)f * n_mels;
	const float *restrict x = v + at;
	if (!ae->inv_std) {
		memcpy(out, x, n_mels * sizeof(float));
		return;
	}
	const float *restrict mean = ae->model->input_mean + at, *restrict inv_std = ae->inv_std +
										     at;
	for (uint32_t k = 0; k < n_mels; k++)
		out[k] = (x[k] - mean[k]) * inv_std[k];
}

/*
 * The weighted squared error of one reconstructed frame against its standardised target, each
 * band's square added to be (when not NULL). Eight float lanes the compiler vectorises, added up
 * in double: one float sum chained through every band kept this loop scalar, most of the
 * autoencoder's own time around the BLAS calls.
 */
static double frame_error(const float *restrict rec, const float *restrict target,
			  const float *restrict weights, float *restrict be, uint32_t n_mels)
{
	float lane[8] = { 0 };
	uint32_t k = 0;
	for (; k + 8 <= n_mels; k += 8)
		for (int j = 0; j < 8; j++) {
			float d = rec[k + j] - target[k + j];
			lane[j] += d * d * weights[k + j];
		}
	double sum = 0.0;
	for (int j = 0; j < 8; j++)
		sum += lane[j];
	for (; k < n_mels; k++) {
		float d = rec[k] - target[k];
		sum += d * d * weights[k];
	}
	if (be)
		for (k = 0; k < n_mels; k++) {
			float d = rec[k] - target[k];
			be[k] += d * d;
		}
	return sum;
}

/* x: n x n_in rows; y: n x n_out rows. */
static void dense_forward(const struct dense_layer *l, const float *x, float *y, size_t n)
{
	const int n_in = (int)l->n_in;
	const int n_out = (int)l->n_out;
	for (size_t b = 0; b < n; b++)
		memcpy(y + b * (size_t)n_out, l->bias, (size_t)n_out * sizeof(float));
	/* One vector (the streaming daemon's case) is a matrix-vector product; sgemm's packing
	 * would cost more than it saves there. */
	if (n == 1)
		cblas_sgemv(CblasRowMajor, CblasNoTrans, n_out, n_in, 1.0f, l->weights, n_in, x, 1,
			    1.0f, y, 1);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, n_out, n_in, 1.0f, x,
			    n_in, l->weights, n_in, 1.0f, y, n_out);
	if (l->activation == ACTIVATION_RELU) {
		size_t total = n * (size_t)n_out;
		for (size_t i = 0; i < total; i++)
			y[i] = y[i] > 0.0f ? y[i] : 0.0f;
	}
}

void autoencoder_score(struct autoencoder *ae, const float *vectors, size_t stride, size_t n,
		       float *vector_scores, float *band_errors)
{
	if (n == 0)
		return;
	if (n > ae->max_batch)
		n = ae->max_batch; /* a caller bug; scoring fewer beats writing past the buffers */
	const struct model *m = ae->model;
	const uint32_t n_mels = ae->n_mels;

	float *x = ae->act_a;
	for (size_t b = 0; b < n; b++) {
		const float *v = vectors + b * stride;
		float *row = x + b * ae->in_dim;
		for (uint32_t j = 0; j < ae->n_in_frames; j++)
			standardised_frame(ae, v, ae->in_frames[j], row + (size_t)j * n_mels);
	}
	float *y = ae->act_b;
	for (uint32_t i = 0; i < m->n_layers; i++) {
		dense_forward(&m->layers[i], x, y, n);
		float *t = x;
		x = y;
		y = t;
	}

	/* x now holds n x out_dim reconstructions; y, free again, takes each standardised target
	 * frame (it is at least n_mels wide) */
	const float inv_out = 1.0f / (float)ae->out_dim;
	const float inv_frames = 1.0f / (float)ae->n_target_frames;
	for (size_t b = 0; b < n; b++) {
		const float *v = vectors + b * stride;
		const float *rec = x + b * ae->out_dim;
		float *be = band_errors ? band_errors + b * n_mels : NULL;
		if (be)
			memset(be, 0, n_mels * sizeof(float));
		double sum = 0.0;
		for (uint32_t j = 0; j < ae->n_target_frames; j++) {
			standardised_frame(ae, v, ae->target_frames[j], y);
			sum += frame_error(rec + (size_t)j * n_mels, y, ae->band_weights, be,
					   n_mels);
		}
		vector_scores[b] = (float)sum * inv_out;
		if (be)
			for (uint32_t k = 0; k < n_mels; k++)
				be[k] *= inv_frames;
	}
}

void autoencoder_free(struct autoencoder *ae)
{
	if (!ae)
		return;
	free(ae->inv_std);
	free(ae->band_weights);
	free(ae->act_a);
	free(ae->act_b);
	memset(ae, 0, sizeof(*ae));
}

/* Moves the k largest of v[0..n) to v[0..k) (in no order): quickselect, Lomuto partitions
 * around the median of three so sorted input does not go quadratic. Values must not be NaN. */
static void select_largest(float *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n; /* the k-th largest lies in v[lo..hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		float a = v[lo], b = v[mid], c = v[hi - 1];
		float pivot = (a < b) ? ((b < c) ? b : (a < c ? c : a))
				      : ((a < c) ? a : (b < c ? c : b));
		/* Three-way split: [lo, gt) > pivot, [gt, eq) == pivot, [eq, hi) < pivot. */
		size_t gt = lo, i = lo, lt = hi;
		while (i < lt) {
			if (v[i] > pivot) {
				float t = v[i];
				v[i] = v[gt];
				v[gt] = t;
				gt++;
				i++;
			} else if (v[i] < pivot) {
				lt--;
				float t = v[i];
				v[i] = v[lt];
				v[lt] = t;
			} else {
				i++;
			}
		}
		if (k <= gt)
			hi = gt;
		else if (k <= lt)
			return; /* the boundary falls among values equal to the pivot */
		else
			lo = lt;
	}
}

float model_clip_score(const struct model *m, float *scores, size_t n)
{
	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		if (isnan(scores[i]))
			return NAN;
	size_t k = n;
	if (m->aggregation == CLIP_AGG_TOP_MEAN) {
		/* The small slack keeps 0.1 x 10 (1.0000000149 in float) from rounding up to 2. */
		double want = (double)m->top_fraction * (double)n;
		double whole = floor(want);
		k = (size_t)whole + (want - whole > 1e-6 * want ? 1 : 0);
		if (k < 1)
			k = 1;
		if (k > n)
			k = n;
		if (k < n)
			select_largest(scores, n, k);
	}
	double sum = 0.0;
	for (size_t i = 0; i < k; i++)
		sum += scores[i];
	return (float)(sum / (double)k);
}

void autoencoder_set_blas_threads(int n_threads)
{
	openblas_set_num_threads(n_threads < 1 ? 1 : n_threads);
}
