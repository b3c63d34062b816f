/* trainer.c - the autoencoder trainer: sgemm dense layers, fused BN + ReLU, Adam, BN folding. */
#include "train/trainer.h"

#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "train/trainer_kernels.h"

/*
 * Hidden layers have no dense bias: batch norm subtracts the batch mean right after, so a bias
 * there has an exactly zero gradient and no effect (Keras keeps one; it only adds rounding noise
 * that Adam then amplifies). BN's beta plays its role, and folding gives the saved layer a bias.
 */
struct tlayer {
	uint32_t n_in;
	uint32_t n_out;
	bool bn;
	float *w, *b, *gamma, *beta; /* into params (b: output layer only; gamma/beta: bn only) */
	float *dw, *db, *dgamma, *dbeta; /* the same places in grads */
	float *run_mean, *run_var;       /* bn only */
	float *batch_mean, *batch_var, *inv_std;
	float *xhat; /* batch x n_out (bn only) */
	float *act;  /* batch x n_out: the layer's output */
};

struct trainer {
	struct trainer_config cfg;
	struct trainer_data data;
	uint64_t n_train;
	uint64_t n_val;
	uint32_t n_layers;
	struct tlayer *layers;

	size_t n_params;
	float *params, *grads, *adam_m, *adam_v;
	uint64_t step;

	float *in_shift, *in_scale;   /* n_in: x = (v - shift) * scale */
	float *out_shift, *out_scale; /* n_out */
	bool target_is_input;         /* same columns and scaling: the target buffer is x */
	float *x;                     /* batch x n_in */
	float *y;                     /* batch x n_out (unused when target_is_input) */
	float *scratch[2];            /* batch x widest layer: gradients travelling backwards */
	uint32_t *perm;               /* n_train */
	double *col_sum;              /* n_out: validation sums */
	float *stat_block;            /* backing store for the per-layer vectors */
	struct trainer_rng rng;
	uint32_t epoch;
};

void trainer_config_defaults(struct trainer_config *c)
{
	static const uint32_t baseline[] = { 128, 128, 128, 128, 8, 128, 128, 128, 128 };
	memset(c, 0, sizeof(*c));
	c->n_hidden = sizeof(baseline) / sizeof(baseline[0]);
	memcpy(c->hidden, baseline, sizeof(baseline));
	c->epochs = 100;
	c->batch_size = 512;
	c->learning_rate = 1e-3f;
	c->adam_beta1 = 0.9f;
	c->adam_beta2 = 0.999f;
	c->adam_epsilon = 1e-7f;
	c->bn_momentum = 0.99f;
	c->bn_epsilon = 1e-3f;
	c->validation_split = 0.1f;
	c->seed = 0;
	c->threads = 0;
}

int trainer_config_validate(const struct trainer_config *c, struct auscult_err *err)
{
	if (c->n_hidden > TRAINER_MAX_HIDDEN)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "hidden: %u layers; at most %d",
				    c->n_hidden, TRAINER_MAX_HIDDEN);
	for (uint32_t i = 0; i < c->n_hidden; i++)
		if (c->hidden[i] < 1 || c->hidden[i] > 65536)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "hidden: layer %u width %u is out of range [1, 65536]",
					    i + 1, c->hidden[i]);
	/* Every epoch's losses go into the model file's curve, which holds this many. */
	if (c->epochs < 1 || c->epochs > MODEL_CURVE_MAX_EPOCHS)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "epochs: %u is out of range [1, %u]",
				    c->epochs, MODEL_CURVE_MAX_EPOCHS);
	if (c->batch_size < 1 || c->batch_size > 1048576)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "batch: %u is out of range [1, 1048576]", c->batch_size);
	/* Negated comparisons so that NaN fails. */
	if (!(c->learning_rate > 0.0f) || !(c->learning_rate <= 10.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "lr: %g is out of range (0, 10]",
				    (double)c->learning_rate);
	if (!(c->adam_beta1 >= 0.0f && c->adam_beta1 < 1.0f) ||
	    !(c->adam_beta2 >= 0.0f && c->adam_beta2 < 1.0f) || !(c->adam_epsilon > 0.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "adam: beta1 %g, beta2 %g must be in [0, 1), epsilon %g > 0",
				    (double)c->adam_beta1, (double)c->adam_beta2,
				    (double)c->adam_epsilon);
	if (!(c->bn_momentum >= 0.0f && c->bn_momentum < 1.0f) || !(c->bn_epsilon > 0.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "batch norm: momentum %g must be in [0, 1), epsilon %g > 0",
				    (double)c->bn_momentum, (double)c->bn_epsilon);
	if (!(c->validation_split >= 0.0f && c->validation_split < 1.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "val-split: %g is out of range [0, 1)",
				    (double)c->validation_split);
	if (c->threads < 0 || c->threads > 256)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "threads: %d is out of range [0, 256]", c->threads);
	return AUSCULT_OK;
}

int trainer_parse_hidden(struct trainer_config *c, const char *text, struct auscult_err *err)
{
	uint32_t n = 0;
	const char *p = text;
	if (*p == '\0')
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "hidden: empty list; expected widths like 128,128,8,128,128");
	for (;;) {
		char *end;
		if (*p < '0' || *p > '9')
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "hidden: element %u of \"%s\" is not a number", n + 1,
					    text);
		unsigned long v = strtoul(p, &end, 10);
		if (v < 1 || v > 65536)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "hidden: element %u (%lu) is out of range [1, 65536]",
					    n + 1, v);
		if (n == TRAINER_MAX_HIDDEN)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "hidden: more than %d layers in \"%s\"",
					    TRAINER_MAX_HIDDEN, text);
		c->hidden[n++] = (uint32_t)v;
		if (*end == '\0')
			break;
		if (*end != ',')
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "hidden: unexpected '%c' after element %u of \"%s\"",
					    *end, n, text);
		p = end + 1;
	}
	c->n_hidden = n;
	return AUSCULT_OK;
}

uint64_t trainer_split_rows(uint64_t n_rows, float validation_split)
{
	/* Keras: int(n (1 - split)). The split arrives as a float (0.1f is 0.10000000149), so a small
	 * allowance keeps 600 x 0.9 at 540 rather than 539. */
	return (uint64_t)((double)n_rows * (1.0 - (double)validation_split) + 1e-3);
}

static int check_data(const struct trainer_data *d, struct auscult_err *err)
{
	if (!d->rows || d->n_rows == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "training data: no vectors");
	if (d->n_rows > UINT32_MAX)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "training data: %llu vectors; at most %u",
				    (unsigned long long)d->n_rows, UINT32_MAX);
	if (d->row_dim == 0 || d->n_in == 0 || d->n_out == 0 || !d->in_cols || !d->out_cols)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "training data: empty vector, input or target");
	for (uint32_t j = 0; j < d->n_in; j++)
		if (d->in_cols[j] >= d->row_dim)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "training data: input column %u is past the vector (%u)",
					    d->in_cols[j], d->row_dim);
	for (uint32_t j = 0; j < d->n_out; j++)
		if (d->out_cols[j] >= d->row_dim)
			return auscult_fail(
				err, AUSCULT_ERR_INVALID,
				"training data: target column %u is past the vector (%u)",
				d->out_cols[j], d->row_dim);
	if ((d->mean == NULL) != (d->std == NULL))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "training data: mean and std must be given together");
	if (d->std)
		for (uint32_t j = 0; j < d->row_dim; j++)
			if (!(d->std[j] > 0.0f) || !isfinite(d->mean[j]))
				return auscult_fail(err, AUSCULT_ERR_INVALID,
						    "training data: std[%u] = %g is not > 0", j,
						    (double)d->std[j]);
	return AUSCULT_OK;
}

static void *alloc_floats(size_t n)
{
	return calloc(n ? n : 1, sizeof(float));
}

static void init_weights(struct trainer *t)
{
	for (uint32_t l = 0; l < t->n_layers; l++) {
		struct tlayer *L = &t->layers[l];
		double limit = sqrt(6.0 / (double)(L->n_in + L->n_out));
		size_t nw = (size_t)L->n_in * L->n_out;
		for (size_t i = 0; i < nw; i++)
			L->w[i] = (float)((2.0 * trainer_rng_uniform(&t->rng) - 1.0) * limit);
		if (L->bn) {
			for (uint32_t j = 0; j < L->n_out; j++) {
				L->gamma[j] = 1.0f;
				L->beta[j] = 0.0f;
				L->run_mean[j] = 0.0f;
				L->run_var[j] = 1.0f;
			}
		} else {
			memset(L->b, 0, L->n_out * sizeof(float));
		}
	}
}

int trainer_create(struct trainer **out, const struct trainer_config *cfg,
		   const struct trainer_data *data, struct auscult_err *err)
{
	*out = NULL;
	int rc = trainer_config_validate(cfg, err);
	if (rc)
		return rc;
	rc = check_data(data, err);
	if (rc)
		return rc;
	uint64_t n_train = trainer_split_rows(data->n_rows, cfg->validation_split);
	if (n_train < 1)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "val-split: %g of %llu vectors leaves none to train on",
				    (double)cfg->validation_split,
				    (unsigned long long)data->n_rows);

	struct trainer *t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->cfg = *cfg;
	t->data = *data;
	t->n_train = n_train;
	t->n_val = data->n_rows - n_train;
	t->n_layers = cfg->n_hidden + 1;
	t->layers = calloc(t->n_layers, sizeof(*t->layers));
	if (!t->layers)
		goto nomem;

	uint32_t B = cfg->batch_size;
	if ((uint64_t)B > n_train)
		B = (uint32_t)n_train; /* no buffer needs to be wider than the data */
	uint32_t widest = data->n_out;
	size_t n_params = 0, n_stats = 0;
	for (uint32_t l = 0; l < t->n_layers; l++) {
		struct tlayer *L = &t->layers[l];
		L->n_in = l == 0 ? data->n_in : cfg->hidden[l - 1];
		L->n_out = l < cfg->n_hidden ? cfg->hidden[l] : data->n_out;
		L->bn = l < cfg->n_hidden;
		n_params += (size_t)L->n_in * L->n_out + (L->bn ? 2u : 1u) * L->n_out;
		n_stats += (L->bn ? 5u : 0u) * L->n_out;
		if (L->n_out > widest)
			widest = L->n_out;
		if (L->n_in > widest)
			widest = L->n_in;
	}
	t->n_params = n_params;
	t->params = alloc_floats(n_params);
	t->grads = alloc_floats(n_params);
	t->adam_m = alloc_floats(n_params);
	t->adam_v = alloc_floats(n_params);
	t->stat_block = alloc_floats(n_stats);
	if (!t->params || !t->grads || !t->adam_m || !t->adam_v || !t->stat_block)
		goto nomem;
	float *p = t->params, *g = t->grads, *s = t->stat_block;
	for (uint32_t l = 0; l < t->n_layers; l++) {
		struct tlayer *L = &t->layers[l];
		size_t nw = (size_t)L->n_in * L->n_out;
		L->w = p;
		L->dw = g;
		p += nw;
		g += nw;
		if (L->bn) {
			L->gamma = p;
			L->dgamma = g;
			L->beta = p + L->n_out;
			L->dbeta = g + L->n_out;
			p += 2 * (size_t)L->n_out;
			g += 2 * (size_t)L->n_out;
			L->run_mean = s;
			L->run_var = s + L->n_out;
			L->batch_mean = s + 2 * (size_t)L->n_out;
			L->batch_var = s + 3 * (size_t)L->n_out;
			L->inv_std = s + 4 * (size_t)L->n_out;
			s += 5 * (size_t)L->n_out;
			L->xhat = alloc_floats((size_t)B * L->n_out);
			if (!L->xhat)
				goto nomem;
		} else {
			L->b = p;
			L->db = g;
			p += L->n_out;
			g += L->n_out;
		}
		L->act = alloc_floats((size_t)B * L->n_out);
		if (!L->act)
			goto nomem;
	}

	t->in_shift = alloc_floats(data->n_in);
	t->in_scale = alloc_floats(data->n_in);
	t->out_shift = alloc_floats(data->n_out);
	t->out_scale = alloc_floats(data->n_out);
	t->x = alloc_floats((size_t)B * data->n_in);
	t->scratch[0] = alloc_floats((size_t)B * widest);
	t->scratch[1] = alloc_floats((size_t)B * widest);
	t->perm = calloc(n_train, sizeof(uint32_t));
	t->col_sum = calloc(data->n_out, sizeof(double));
	if (!t->in_shift || !t->in_scale || !t->out_shift || !t->out_scale || !t->x ||
	    !t->scratch[0] || !t->scratch[1] || !t->perm || !t->col_sum)
		goto nomem;
	for (uint32_t j = 0; j < data->n_in; j++) {
		uint32_t c = data->in_cols[j];
		t->in_shift[j] = data->mean ? data->mean[c] : 0.0f;
		t->in_scale[j] = data->std ? 1.0f / data->std[c] : 1.0f;
	}
	for (uint32_t j = 0; j < data->n_out; j++) {
		uint32_t c = data->out_cols[j];
		t->out_shift[j] = data->mean ? data->mean[c] : 0.0f;
		t->out_scale[j] = data->std ? 1.0f / data->std[c] : 1.0f;
	}
	t->target_is_input = data->n_in == data->n_out &&
			     memcmp(data->in_cols, data->out_cols, data->n_in * sizeof(uint32_t)) ==
				     0;
	if (!t->target_is_input) {
		t->y = alloc_floats((size_t)B * data->n_out);
		if (!t->y)
			goto nomem;
	}
	for (uint64_t i = 0; i < n_train; i++)
		t->perm[i] = (uint32_t)i;

	trainer_rng_seed(&t->rng, cfg->seed);
	init_weights(t);

	int threads = cfg->threads;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	openblas_set_num_threads(threads);
	t->cfg.batch_size = B;
	*out = t;
	return AUSCULT_OK;
nomem:
	trainer_destroy(t);
	return auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory allocating the trainer");
}

void trainer_destroy(struct trainer *t)
{
	if (!t)
		return;
	if (t->layers)
		for (uint32_t l = 0; l < t->n_layers; l++) {
			free(t->layers[l].xhat);
			free(t->layers[l].act);
		}
	free(t->layers);
	free(t->params);
	free(t->grads);
	free(t->adam_m);
	free(t->adam_v);
	free(t->stat_block);
	free(t->in_shift);
	free(t->in_scale);
	free(t->out_shift);
	free(t->out_scale);
	free(t->x);
	free(t->y);
	free(t->scratch[0]);
	free(t->scratch[1]);
	free(t->perm);
	free(t->col_sum);
	free(t);
}

uint64_t trainer_train_rows(const struct trainer *t)
{
	return t->n_train;
}

uint64_t trainer_val_rows(const struct trainer *t)
{
	return t->n_val;
}

size_t trainer_param_count(const struct trainer *t)
{
	return t->n_params;
}

float *trainer_params(struct trainer *t)
{
	return t->params;
}

const float *trainer_grads(const struct trainer *t)
{
	return t->grads;
}

/* Copies rows (idx[i], or first + i when idx is NULL) into the input and target buffers. */
static void gather(struct trainer *t, const uint32_t *idx, uint64_t first, uint32_t n)
{
	const struct trainer_data *d = &t->data;
	/* Without standardisation the map is (v - 0) * 1: a plain copy gives the same bits. */
	bool std = d->mean != NULL;
	gather_rows(t->x, d->rows, d->row_dim, idx, first, n, d->in_cols, d->n_in,
		    std ? t->in_shift : NULL, std ? t->in_scale : NULL);
	if (!t->target_is_input)
		gather_rows(t->y, d->rows, d->row_dim, idx, first, n, d->out_cols, d->n_out,
			    std ? t->out_shift : NULL, std ? t->out_scale : NULL);
}

/* out (n x n_out) = in (n x n_in) W^T, plus the bias for the output layer. */
static void dense_forward(const struct tlayer *L, const float *in, float *out, uint32_t n)
{
	float beta = 0.0f;
	if (!L->bn) {
		for (uint32_t i = 0; i < n; i++)
			memcpy(out + (size_t)i * L->n_out, L->b, L->n_out * sizeof(float));
		beta = 1.0f;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)L->n_out, (int)L->n_in,
		    1.0f, in, (int)L->n_in, L->w, (int)L->n_in, beta, out, (int)L->n_out);
}

/* Training-mode forward + backward over the gathered batch; returns the MSE. */
static double forward_backward(struct trainer *t, uint32_t n, bool update_running)
{
	const float *in = t->x;
	for (uint32_t l = 0; l < t->n_layers; l++) {
		struct tlayer *L = &t->layers[l];
		if (L->bn) {
			dense_forward(L, in, L->xhat, n);
			bn_relu_forward_train(L->xhat, L->act, n, L->n_out, L->gamma, L->beta,
					      t->cfg.bn_epsilon, L->batch_mean, L->batch_var,
					      L->inv_std);
			if (update_running)
				bn_update_running(L->run_mean, L->run_var, L->batch_mean,
						  L->batch_var, L->n_out, n, t->cfg.bn_momentum);
		} else {
			dense_forward(L, in, L->act, n);
		}
		in = L->act;
	}

	/*
	 * The output is not needed once the loss is known: its gradient overwrites it, which
	 * saves a buffer's worth of cache traffic. The output layer's bias gradient comes out of
	 * the same pass.
	 */
	struct tlayer *top = &t->layers[t->n_layers - 1];
	const float *target = t->target_is_input ? t->x : t->y;
	double loss = mse_backward(top->act, target, n, top->n_out, top->db, t->scratch[0]);

	float *dz = top->act;
	int next = 0;
	for (uint32_t l = t->n_layers; l-- > 0;) {
		struct tlayer *L = &t->layers[l];
		const float *a_prev = l == 0 ? t->x : t->layers[l - 1].act;
		if (L->bn)
			bn_relu_backward(dz, L->xhat, L->act, n, L->n_out, L->gamma, L->inv_std,
					 L->dgamma, L->dbeta);
		/* dW (n_out x n_in) = dz^T a_prev */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L->n_out, (int)L->n_in,
			    (int)n, 1.0f, dz, (int)L->n_out, a_prev, (int)L->n_in, 0.0f, L->dw,
			    (int)L->n_in);
		if (l > 0) {
			/* d a_prev (n x n_in) = dz W */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)L->n_in,
				    (int)L->n_out, 1.0f, dz, (int)L->n_out, L->w, (int)L->n_in,
				    0.0f, t->scratch[next], (int)L->n_in);
			dz = t->scratch[next];
			next = 1 - next;
		}
	}
	return loss;
}

double trainer_loss_and_grad(struct trainer *t, const uint32_t *rows, uint32_t n_rows)
{
	if (n_rows > t->cfg.batch_size)
		n_rows = t->cfg.batch_size;
	gather(t, rows, 0, n_rows);
	return forward_backward(t, n_rows, false);
}

/* Inference forward of n <= batch rows at in; returns the output buffer (n x n_out). */
static const float *infer_chunk(struct trainer *t, const float *in, uint32_t n)
{
	for (uint32_t l = 0; l < t->n_layers; l++) {
		struct tlayer *L = &t->layers[l];
		dense_forward(L, in, L->act, n);
		if (L->bn)
			bn_relu_forward_infer(L->act, n, L->n_out, L->gamma, L->beta, L->run_mean,
					      L->run_var, t->cfg.bn_epsilon);
		in = L->act;
	}
	return in;
}

void trainer_infer(struct trainer *t, const float *in, uint64_t n_rows, float *out)
{
	uint32_t n_in = t->data.n_in, n_out = t->data.n_out;
	for (uint64_t r = 0; r < n_rows; r += t->cfg.batch_size) {
		uint64_t left = n_rows - r;
		uint32_t n = left < t->cfg.batch_size ? (uint32_t)left : t->cfg.batch_size;
		const float *o = infer_chunk(t, in + r * n_in, n);
		memcpy(out + r * n_out, o, (size_t)n * n_out * sizeof(float));
	}
}

void trainer_column_sq_error(struct trainer *t, uint64_t row_begin, uint64_t row_end,
			     double *sum_sq)
{
	uint32_t n_out = t->data.n_out;
	memset(sum_sq, 0, n_out * sizeof(double));
	float *col = t->scratch[0]; /* per-chunk float sums, then folded into doubles */
	for (uint64_t r = row_begin; r < row_end; r += t->cfg.batch_size) {
		uint64_t left = row_end - r;
		uint32_t n = left < t->cfg.batch_size ? (uint32_t)left : t->cfg.batch_size;
		gather(t, NULL, r, n);
		const float *o = infer_chunk(t, t->x, n);
		const float *y = t->target_is_input ? t->x : t->y;
		memset(col, 0, n_out * sizeof(float));
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t j = 0; j < n_out; j++) {
				float e = o[(size_t)i * n_out + j] - y[(size_t)i * n_out + j];
				col[j] += e * e;
			}
		for (uint32_t j = 0; j < n_out; j++)
			sum_sq[j] += col[j];
	}
}

static float validation_loss(struct trainer *t)
{
	if (t->n_val == 0)
		return NAN;
	double sum = 0.0;
	trainer_column_sq_error(t, t->n_train, t->data.n_rows, t->col_sum);
	for (uint32_t j = 0; j < t->data.n_out; j++)
		sum += t->col_sum[j];
	return (float)(sum / ((double)t->n_val * t->data.n_out));
}

int trainer_run_epoch(struct trainer *t, const volatile sig_atomic_t *stop,
		      struct trainer_epoch_stats *stats)
{
	double t0 = clock_mono_s();
	uint32_t B = t->cfg.batch_size;
	trainer_rng_shuffle(&t->rng, t->perm, (uint32_t)t->n_train);
	double weighted = 0.0;
	for (uint64_t start = 0; start < t->n_train; start += B) {
		if (stop && *stop)
			return AUSCULT_ERR_INTERRUPTED;
		uint64_t left = t->n_train - start;
		uint32_t n = left < B ? (uint32_t)left : B;
		gather(t, t->perm + start, 0, n);
		double loss = forward_backward(t, n, true);
		t->step++;
		adam_step(t->params, t->grads, t->adam_m, t->adam_v, t->n_params, t->step,
			  t->cfg.learning_rate, t->cfg.adam_beta1, t->cfg.adam_beta2,
			  t->cfg.adam_epsilon);
		weighted += loss * n;
	}
	t->epoch++;
	stats->epoch = t->epoch;
	stats->train_loss = (float)(weighted / (double)t->n_train);
	stats->val_loss = validation_loss(t);
	stats->seconds = clock_mono_s() - t0;
	return AUSCULT_OK;
}

int trainer_export(const struct trainer *t, struct model *m, struct auscult_err *err)
{
	struct dense_layer *layers = calloc(t->n_layers, sizeof(*layers));
	if (!layers)
		goto nomem;
	for (uint32_t l = 0; l < t->n_layers; l++) {
		const struct tlayer *L = &t->layers[l];
		struct dense_layer *D = &layers[l];
		D->n_in = L->n_in;
		D->n_out = L->n_out;
		D->activation = L->bn ? ACTIVATION_RELU : ACTIVATION_LINEAR;
		D->weights = malloc((size_t)L->n_in * L->n_out * sizeof(float));
		D->bias = malloc(L->n_out * sizeof(float));
		if (!D->weights || !D->bias)
			goto nomem_layers;
		for (uint32_t o = 0; o < L->n_out; o++) {
			const float *src = L->w + (size_t)o * L->n_in;
			float *dst = D->weights + (size_t)o * L->n_in;
			if (L->bn) {
				double s = (double)L->gamma[o] /
					   sqrt((double)L->run_var[o] + (double)t->cfg.bn_epsilon);
				for (uint32_t i = 0; i < L->n_in; i++)
					dst[i] = (float)((double)src[i] * s);
				D->bias[o] = (float)(-(double)L->run_mean[o] * s +
						     (double)L->beta[o]);
			} else {
				memcpy(dst, src, L->n_in * sizeof(float));
				D->bias[o] = L->b[o];
			}
		}
	}
	if (m->layers) {
		for (uint32_t l = 0; l < m->n_layers; l++) {
			free(m->layers[l].weights);
			free(m->layers[l].bias);
		}
		free(m->layers);
	}
	m->layers = layers;
	m->n_layers = t->n_layers;
	return AUSCULT_OK;
nomem_layers:
	for (uint32_t l = 0; l < t->n_layers; l++) {
		free(layers[l].weights);
		free(layers[l].bias);
	}
	free(layers);
nomem:
	return auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory exporting the network");
}
