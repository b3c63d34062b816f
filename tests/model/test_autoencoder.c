/* test_autoencoder.c - inference against a naive double-precision reference, masks, aggregation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/autoencoder.h"
#include "model/model.h"

/* Scores agree with the double-precision reference within this relative tolerance. */
#define REL_TOL 1e-5

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng_u32(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Uniform in [lo, hi). */
static float rng_uniform(float lo, float hi)
{
	return lo + (hi - lo) * (float)(rng_u32() & 0xffffff) / 16777216.0f;
}

static float *alloc_floats(size_t n)
{
	float *v = calloc(n ? n : 1, sizeof(float));
	assert_non_null(v);
	return v;
}

static void fill_uniform(float *v, size_t n, float lo, float hi)
{
	for (size_t i = 0; i < n; i++)
		v[i] = rng_uniform(lo, hi);
}

/* A model with the given masks and hidden widths; weights uniform in +-scale. */
static void make_model(struct model *m, uint32_t n_mels, uint32_t n_stack, uint32_t in_mask,
		       uint32_t target_mask, const uint32_t *hidden, uint32_t n_hidden, float scale)
{
	memset(m, 0, sizeof(*m));
	feature_params_defaults(&m->features);
	m->features.n_mels = n_mels;
	m->features.n_stack = n_stack;
	m->input_frames = in_mask;
	m->target_frames = target_mask;
	m->aggregation = CLIP_AGG_MEAN;
	m->n_layers = n_hidden + 1;
	m->layers = calloc(m->n_layers, sizeof(*m->layers));
	assert_non_null(m->layers);
	uint32_t width = model_input_dim(m);
	for (uint32_t i = 0; i < m->n_layers; i++) {
		struct dense_layer *l = &m->layers[i];
		l->n_in = width;
		l->n_out = i < n_hidden ? hidden[i] : model_output_dim(m);
		l->activation = i < n_hidden ? ACTIVATION_RELU : ACTIVATION_LINEAR;
		l->weights = alloc_floats((size_t)l->n_in * l->n_out);
		l->bias = alloc_floats(l->n_out);
		fill_uniform(l->weights, (size_t)l->n_in * l->n_out, -scale, scale);
		fill_uniform(l->bias, l->n_out, -0.5f, 0.5f);
		width = l->n_out;
	}
	m->threshold = (struct model_threshold){ 2.0f, 1.0f, 0.9f, 1.0f };
	m->training.val_loss = NAN;
}

static void add_standardisation(struct model *m)
{
	size_t dim = feature_params_vector_dim(&m->features);
	m->input_mean = alloc_floats(dim);
	m->input_std = alloc_floats(dim);
	fill_uniform(m->input_mean, dim, -60.0f, -20.0f);
	fill_uniform(m->input_std, dim, 2.0f, 10.0f);
}

static void add_band_weights(struct model *m)
{
	m->band_weights = alloc_floats(m->features.n_mels);
	fill_uniform(m->band_weights, m->features.n_mels, 0.2f, 3.0f);
}

/* The definition, written out the plain way, in double: score and per-band errors of one
 * vector v. */
static double reference_score_scaled(const struct model *m, const float *v, double *band_errors,
				     double *target_mean_square)
{
	uint32_t n_mels = m->features.n_mels, n_stack = m->features.n_stack;
	double x[4096], y[4096];
	size_t n = 0;
	for (uint32_t f = 0; f < n_stack; f++) {
		if (!(m->input_frames & (1u << f)))
			continue;
		for (uint32_t k = 0; k < n_mels; k++) {
			size_t i = f * n_mels + k;
			x[n++] = m->input_mean ? ((double)v[i] - m->input_mean[i]) / m->input_std[i]
					       : v[i];
		}
	}
	for (uint32_t li = 0; li < m->n_layers; li++) {
		const struct dense_layer *l = &m->layers[li];
		for (uint32_t o = 0; o < l->n_out; o++) {
			double s = l->bias[o];
			for (uint32_t j = 0; j < l->n_in; j++)
				s += (double)l->weights[(size_t)o * l->n_in + j] * x[j];
			y[o] = (l->activation == ACTIVATION_RELU && s < 0) ? 0 : s;
		}
		memcpy(x, y, l->n_out * sizeof(double));
	}
	double total = 0;
	uint32_t t = 0;
	double squares = 0;
	for (uint32_t k = 0; k < n_mels; k++)
		band_errors[k] = 0;
	for (uint32_t f = 0; f < n_stack; f++) {
		if (!(m->target_frames & (1u << f)))
			continue;
		for (uint32_t k = 0; k < n_mels; k++) {
			size_t i = f * n_mels + k;
			double target = m->input_mean ? ((double)v[i] - m->input_mean[i]) /
								m->input_std[i]
						      : v[i];
			double d = x[t * n_mels + k] - target;
			squares += target * target;
			total += d * d * (m->band_weights ? m->band_weights[k] : 1.0);
			band_errors[k] += d * d;
		}
		t++;
	}
	for (uint32_t k = 0; k < n_mels; k++)
		band_errors[k] /= t;
	if (target_mean_square)
		*target_mean_square = squares / (t * n_mels);
	return total / (t * n_mels);
}

static double reference_score(const struct model *m, const float *v, double *band_errors)
{
	return reference_score_scaled(m, v, band_errors, NULL);
}

static void assert_close(double have, double want, double rel, const char *what, size_t i)
{
	double tol = rel * fmax(fabs(want), 1e-6);
	if (!(fabs(have - want) <= tol))
		fail_msg("%s[%zu]: %.9g, reference %.9g (tolerance %.3g)", what, i, have, want,
			 tol);
}

/* Within REL_TOL of max(|want|, floor). */
static void assert_close_floor(double have, double want, double floor, const char *what, size_t i)
{
	double tol = REL_TOL * fmax(fabs(want), floor);
	if (!(fabs(have - want) <= tol))
		fail_msg("%s[%zu]: %.9g, reference %.9g (tolerance %.3g)", what, i, have, want,
			 tol);
}

static uint32_t random_mask(uint32_t n_stack)
{
	uint32_t all = (1u << n_stack) - 1u;
	uint32_t mask;
	do
		mask = rng_u32() & all;
	while (mask == 0);
	return mask;
}

/* Random shapes, masks, standardisation and band weights, against the reference. */
static void matches_reference_on_random_models(void **state)
{
	(void)state;
	for (int trial = 0; trial < 40; trial++) {
		uint32_t n_mels = 1 + rng_u32() % 12, n_stack = 1 + rng_u32() % 6;
		uint32_t hidden[4], n_hidden = rng_u32() % 4;
		for (uint32_t i = 0; i < n_hidden; i++)
			hidden[i] = 1 + rng_u32() % 20;
		struct model m;
		make_model(&m, n_mels, n_stack, random_mask(n_stack), random_mask(n_stack), hidden,
			   n_hidden, 0.6f);
		if (trial % 2)
			add_standardisation(&m);
		if (trial % 3 == 0)
			add_band_weights(&m);
		size_t dim = (size_t)n_mels * n_stack, n = 1 + rng_u32() % 9;
		float *vectors = alloc_floats(n * dim);
		fill_uniform(vectors, n * dim, m.input_mean ? -70.0f : -2.0f,
			     m.input_mean ? -10.0f : 2.0f);
		float *scores = alloc_floats(n), *bands = alloc_floats(n * n_mels);
		struct autoencoder ae;
		struct auscult_err err;
		assert_int_equal(autoencoder_init(&ae, &m, n, &err), AUSCULT_OK);
		autoencoder_score(&ae, vectors, dim, n, scores, bands);
		for (size_t b = 0; b < n; b++) {
			double ref_bands[64];
			double scale;
			double ref = reference_score_scaled(&m, vectors + b * dim, ref_bands,
							    &scale);
			/* A band whose reconstruction is nearly exact is a difference of close
			 * numbers: float32 rounding of the values (about 1e-7 of their size) is all
			 * that is left, so it is judged against 1% of the targets' mean square. */
			assert_close_floor(scores[b], ref, 0.01 * scale, "score", b);
			for (uint32_t k = 0; k < n_mels; k++)
				assert_close_floor(bands[b * n_mels + k], ref_bands[k],
						   0.01 * scale, "band", k);
		}
		autoencoder_free(&ae);
		free(vectors);
		free(scores);
		free(bands);
		model_free(&m);
	}
}

/* The baseline's shape: 640-128x4-8-128x4-640 with standardisation, a batch of 40. */
static void matches_reference_on_baseline_shape(void **state)
{
	(void)state;
	static const uint32_t hidden[] = { 128, 128, 128, 128, 8, 128, 128, 128, 128 };
	struct model m;
	make_model(&m, 128, 5, 0x1f, 0x1f, hidden, 9, 0.1f);
	add_standardisation(&m);
	size_t n = 40, dim = 640;
	float *vectors = alloc_floats(n * dim), *scores = alloc_floats(n);
	fill_uniform(vectors, n * dim, -80.0f, 0.0f);
	struct autoencoder ae;
	struct auscult_err err;
	assert_int_equal(autoencoder_init(&ae, &m, n, &err), AUSCULT_OK);
	autoencoder_score(&ae, vectors, dim, n, scores, NULL);
	for (size_t b = 0; b < n; b++) {
		double ref_bands[128];
		assert_close(scores[b], reference_score(&m, vectors + b * dim, ref_bands), REL_TOL,
			     "score", b);
	}
	autoencoder_free(&ae);
	free(vectors);
	free(scores);
	model_free(&m);
}

/* One call for many vectors (sgemm) equals one call per vector (sgemv). */
static void batched_equals_one_at_a_time(void **state)
{
	(void)state;
	static const uint32_t hidden[] = { 32, 6, 32 };
	struct model m;
	make_model(&m, 16, 5, 0x1f, 0x1f, hidden, 3, 0.3f);
	add_band_weights(&m);
	size_t n = 25, dim = 80;
	float *vectors = alloc_floats(n * dim), *batch = alloc_floats(n),
	      *bands = alloc_floats(n * 16);
	fill_uniform(vectors, n * dim, -3.0f, 3.0f);
	struct autoencoder ae;
	struct auscult_err err;
	assert_int_equal(autoencoder_init(&ae, &m, n, &err), AUSCULT_OK);
	autoencoder_score(&ae, vectors, dim, n, batch, bands);
	for (size_t b = 0; b < n; b++) {
		float one, one_bands[16];
		autoencoder_score(&ae, vectors + b * dim, dim, 1, &one, one_bands);
		assert_close(one, batch[b], REL_TOL, "one-at-a-time score", b);
		for (int k = 0; k < 16; k++)
			assert_close(one_bands[k], bands[b * 16 + k], REL_TOL, "one-at-a-time band",
				     b);
	}
	autoencoder_free(&ae);
	free(vectors);
	free(batch);
	free(bands);
	model_free(&m);
}

/* Overlapping views into contiguous frames (stride n_mels) score like packed copies. */
static void stride_variants_agree(void **state)
{
	(void)state;
	static const uint32_t hidden[] = { 12 };
	const uint32_t n_mels = 6, n_stack = 4;
	struct model m;
	make_model(&m, n_mels, n_stack, 0xf, 0xf, hidden, 1, 0.4f);
	add_standardisation(&m);
	size_t n_frames = 20, n = n_frames - n_stack + 1, dim = n_mels * n_stack;
	float *frames = alloc_floats(n_frames * n_mels);
	fill_uniform(frames, n_frames * n_mels, -60.0f, -10.0f);
	float *packed = alloc_floats(n * dim);
	for (size_t b = 0; b < n; b++)
		memcpy(packed + b * dim, frames + b * n_mels, dim * sizeof(float));
	float *s_view = alloc_floats(n), *s_packed = alloc_floats(n);
	struct autoencoder ae;
	struct auscult_err err;
	assert_int_equal(autoencoder_init(&ae, &m, n, &err), AUSCULT_OK);
	autoencoder_score(&ae, frames, n_mels, n, s_view, NULL);
	autoencoder_score(&ae, packed, dim, n, s_packed, NULL);
	for (size_t b = 0; b < n; b++) {
		double ref_bands[8];
		/* The same numbers through the same arithmetic: equal to the last bit. */
		assert_true(s_view[b] == s_packed[b]);
		assert_close(s_view[b], reference_score(&m, packed + b * dim, ref_bands), REL_TOL,
			     "score", b);
	}
	autoencoder_free(&ae);
	free(frames);
	free(packed);
	free(s_view);
	free(s_packed);
	model_free(&m);
}

static void band_errors_average_to_the_score(void **state)
{
	(void)state;
	static const uint32_t hidden[] = { 10, 3, 10 };
	for (int weighted = 0; weighted < 2; weighted++) {
		struct model m;
		make_model(&m, 8, 3, 0x7, 0x7, hidden, 3, 0.5f);
		if (weighted)
			add_band_weights(&m);
		size_t n = 6, dim = 24;
		float *vectors = alloc_floats(n * dim), *scores = alloc_floats(n);
		float *bands = alloc_floats(n * 8);
		fill_uniform(vectors, n * dim, -2.0f, 2.0f);
		struct autoencoder ae;
		struct auscult_err err;
		assert_int_equal(autoencoder_init(&ae, &m, n, &err), AUSCULT_OK);
		autoencoder_score(&ae, vectors, dim, n, scores, bands);
		for (size_t b = 0; b < n; b++) {
			double mean = 0;
			for (int k = 0; k < 8; k++)
				mean += (weighted ? m.band_weights[k] : 1.0f) * bands[b * 8 + k];
			assert_close(mean / 8, scores[b], REL_TOL, "mean of band errors", b);
		}
		autoencoder_free(&ae);
		free(vectors);
		free(scores);
		free(bands);
		model_free(&m);
	}
}

/* IDNN: frames 0,1,3,4 in, frame 2 out. With zero weights the output is the bias, so the score
 * is plain arithmetic, and only frame 2 of the input can change it. */
static void idnn_masks_by_hand(void **state)
{
	(void)state;
	struct model m;
	make_model(&m, 4, 5, 0x1b, 0x04, NULL, 0, 0.0f);
	assert_int_equal(model_input_dim(&m), 16);
	assert_int_equal(model_output_dim(&m), 4);
	assert_int_equal(m.layers[0].n_in, 16);
	const float bias[4] = { 1.0f, 2.0f, 3.0f, 4.0f };
	memcpy(m.layers[0].bias, bias, sizeof(bias));
	float v[20];
	for (int i = 0; i < 20; i++)
		v[i] = 100.0f + (float)i; /* frames 0,1,3,4: must not matter */
	const float frame2[4] = { 0.0f, 2.0f, 5.0f, 8.0f };
	memcpy(v + 8, frame2, sizeof(frame2));
	struct autoencoder ae;
	struct auscult_err err;
	assert_int_equal(autoencoder_init(&ae, &m, 1, &err), AUSCULT_OK);
	float score, bands[4];
	autoencoder_score(&ae, v, 20, 1, &score, bands);
	/* errors: (1-0)^2 = 1, (2-2)^2 = 0, (3-5)^2 = 4, (4-8)^2 = 16 -> mean 21/4 */
	assert_close(score, 21.0 / 4.0, 1e-6, "idnn score", 0);
	assert_close(bands[0], 1.0, 1e-6, "idnn band", 0);
	assert_close(bands[2], 4.0, 1e-6, "idnn band", 2);
	assert_close(bands[3], 16.0, 1e-6, "idnn band", 3);
	/* The input frames do reach the network: a weight on frame 0 band 0 (input index 0)
	 * adds v[0] to output 0. */
	m.layers[0].weights[0] = 0.01f; /* output 0 += 0.01 x 100 = 1 -> error (2-0)^2 = 4 */
	autoencoder_score(&ae, v, 20, 1, &score, bands);
	assert_close(score, 24.0 / 4.0, 1e-5, "idnn score with an input weight", 0);
	/* Frame 3 band 0 is input index 8 (frames 0,1,3,4 packed): its weight sees v[12]. */
	m.layers[0].weights[0] = 0.0f;
	m.layers[0].weights[8] = 1.0f / 112.0f; /* v[12] = 112 -> output 0 = 2 */
	autoencoder_score(&ae, v, 20, 1, &score, bands);
	assert_close(score, 24.0 / 4.0, 1e-5, "idnn score through frame 3", 0);
	autoencoder_free(&ae);
	model_free(&m);
}

/* Zero network: the reconstruction is 0, so the score is the mean squared standardised input. */
static void standardisation_by_hand(void **state)
{
	(void)state;
	struct model m;
	make_model(&m, 2, 1, 0x1, 0x1, NULL, 0, 0.0f);
	memset(m.layers[0].bias, 0, 2 * sizeof(float));
	m.input_mean = alloc_floats(2);
	m.input_std = alloc_floats(2);
	m.input_mean[0] = -40.0f;
	m.input_mean[1] = 10.0f;
	m.input_std[0] = 5.0f;
	m.input_std[1] = 0.5f;
	m.band_weights = alloc_floats(2);
	m.band_weights[0] = 1.0f;
	m.band_weights[1] = 0.25f;
	const float v[2] = { -30.0f, 11.5f }; /* standardised: 2, 3 */
	struct autoencoder ae;
	struct auscult_err err;
	assert_int_equal(autoencoder_init(&ae, &m, 1, &err), AUSCULT_OK);
	float score, bands[2];
	autoencoder_score(&ae, v, 2, 1, &score, bands);
	/* (1 x 4 + 0.25 x 9) / 2 */
	assert_close(score, 6.25 / 2.0, 1e-6, "standardised score", 0);
	assert_close(bands[0], 4.0, 1e-6, "standardised band", 0);
	assert_close(bands[1], 9.0, 1e-6, "standardised band", 1);
	autoencoder_free(&ae);
	model_free(&m);
}

static int cmp_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x < y) - (x > y);
}

static void clip_aggregation_by_hand(void **state)
{
	(void)state;
	struct model m;
	memset(&m, 0, sizeof(m));
	float s[10];
	const float one_to_ten[10] = { 3, 7, 1, 10, 5, 2, 9, 4, 8, 6 };
	m.aggregation = CLIP_AGG_MEAN;
	memcpy(s, one_to_ten, sizeof(s));
	assert_close(model_clip_score(&m, s, 10), 5.5, 1e-7, "mean", 0);
	m.aggregation = CLIP_AGG_TOP_MEAN;
	struct {
		float fraction;
		double want;
	} cases[] = {
		{ 0.3f, (10 + 9 + 8) / 3.0 },
		{ 0.1f, 10.0 },                /* 0.1 x 10 is 1 vector, not 2 */
		{ 0.25f, (10 + 9 + 8) / 3.0 }, /* ceil(2.5) = 3 */
		{ 0.01f, 10.0 },               /* at least one */
		{ 1.0f, 5.5 },
		{ 0.5f, (10 + 9 + 8 + 7 + 6) / 5.0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.top_fraction = cases[i].fraction;
		memcpy(s, one_to_ten, sizeof(s));
		assert_close(model_clip_score(&m, s, 10), cases[i].want, 1e-7, "top mean", i);
	}
	/* Ties at the boundary. */
	float ties[5] = { 5, 1, 5, 5, 5 };
	m.top_fraction = 0.5f;
	assert_close(model_clip_score(&m, ties, 5), 5.0, 1e-7, "ties", 0);
	assert_true(isnan(model_clip_score(&m, s, 0)));
	float with_nan[3] = { 1.0f, NAN, 2.0f };
	assert_true(isnan(model_clip_score(&m, with_nan, 3)));

	/* Random arrays (with repeats and sorted runs) against sorting. */
	for (int trial = 0; trial < 300; trial++) {
		size_t n = 1 + rng_u32() % 400;
		float *a = alloc_floats(n), *sorted = alloc_floats(n);
		for (size_t i = 0; i < n; i++)
			a[i] = (trial % 3 == 0)   ? (float)(rng_u32() % 5)
			       : (trial % 3 == 1) ? (float)i
						  : rng_uniform(0.0f, 100.0f);
		memcpy(sorted, a, n * sizeof(float));
		qsort(sorted, n, sizeof(float), cmp_desc);
		m.top_fraction = rng_uniform(0.001f, 1.0f);
		double want_k = ceil((double)m.top_fraction * n - 1e-9);
		size_t k = want_k < 1 ? 1 : (size_t)want_k;
		double want = 0;
		for (size_t i = 0; i < k; i++)
			want += sorted[i];
		assert_close(model_clip_score(&m, a, n), want / k, 1e-6, "random top mean", n);
		free(a);
		free(sorted);
	}
}

static void init_rejects_bad_arguments(void **state)
{
	(void)state;
	struct model m;
	make_model(&m, 4, 2, 0x3, 0x3, NULL, 0, 0.1f);
	struct autoencoder ae;
	struct auscult_err err;
	assert_int_equal(autoencoder_init(&ae, &m, 0, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "autoencoder: max_batch 0 is not in [1, 1048576]");
	m.layers[0].n_out = 4; /* the target is 8 wide */
	assert_int_equal(autoencoder_init(&ae, &m, 1, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "autoencoder: invalid model: layers[0].n_out: 4, expected 8 "
				     "(the target frames x n_mels)");
	autoencoder_free(&ae); /* harmless after a failed init */
	m.layers[0].n_out = 8;
	model_free(&m);
}

int main(void)
{
	autoencoder_set_blas_threads(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_reference_on_random_models),
		cmocka_unit_test(matches_reference_on_baseline_shape),
		cmocka_unit_test(batched_equals_one_at_a_time),
		cmocka_unit_test(stride_variants_agree),
		cmocka_unit_test(band_errors_average_to_the_score),
		cmocka_unit_test(idnn_masks_by_hand),
		cmocka_unit_test(standardisation_by_hand),
		cmocka_unit_test(clip_aggregation_by_hand),
		cmocka_unit_test(init_rejects_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
