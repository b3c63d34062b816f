/* test_trainer.c - gradients, Adam, convergence, determinism and BN folding of the trainer. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/autoencoder.h"
#include "model/model.h"
#include "train/trainer.h"
#include "train/trainer_kernels.h"

/* Random rows with a 2-dimensional latent structure, so an autoencoder with a 2-wide
 * bottleneck can learn them: row = A z + small noise. */
static float *make_rows(uint32_t n_rows, uint32_t dim, uint64_t seed)
{
	struct trainer_rng rng;
	trainer_rng_seed(&rng, seed);
	float *a = malloc(2 * (size_t)dim * sizeof(float));
	float *rows = malloc((size_t)n_rows * dim * sizeof(float));
	assert_non_null(a);
	assert_non_null(rows);
	for (uint32_t i = 0; i < 2 * dim; i++)
		a[i] = (float)trainer_rng_normal(&rng);
	for (uint32_t r = 0; r < n_rows; r++) {
		double z0 = trainer_rng_normal(&rng), z1 = trainer_rng_normal(&rng);
		for (uint32_t j = 0; j < dim; j++)
			rows[(size_t)r * dim + j] = (float)(a[j] * z0 + a[dim + j] * z1 +
							    0.05 * trainer_rng_normal(&rng) + 3.0);
	}
	free(a);
	return rows;
}

static void identity_cols(uint32_t *cols, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		cols[i] = i;
}

static struct trainer *make_trainer(const float *rows, uint32_t n_rows, uint32_t dim,
				    const uint32_t *cols, const char *hidden, uint32_t batch,
				    uint64_t seed)
{
	struct trainer_config cfg;
	trainer_config_defaults(&cfg);
	struct auscult_err err = { { 0 } };
	assert_int_equal(trainer_parse_hidden(&cfg, hidden, &err), AUSCULT_OK);
	cfg.batch_size = batch;
	cfg.seed = seed;
	cfg.threads = 1;
	cfg.learning_rate = 1e-2f;
	struct trainer_data data = { .rows = rows,
				     .n_rows = n_rows,
				     .row_dim = dim,
				     .n_in = dim,
				     .in_cols = cols,
				     .n_out = dim,
				     .out_cols = cols };
	struct trainer *t = NULL;
	int rc = trainer_create(&t, &cfg, &data, &err);
	if (rc)
		fail_msg("trainer_create: %s", err.msg);
	return t;
}

/*
 * Central differences on every parameter against the analytic gradient. Float forward passes
 * limit the numerical derivative to about 1e-4, so the tolerance is 1e-3 absolute plus 2%.
 */
static void check_gradients(struct trainer *t, const uint32_t *rows, uint32_t n_rows)
{
	size_t n = trainer_param_count(t);
	float *p = trainer_params(t);
	double *analytic = malloc(n * sizeof(double));
	assert_non_null(analytic);
	trainer_loss_and_grad(t, rows, n_rows);
	for (size_t i = 0; i < n; i++)
		analytic[i] = trainer_grads(t)[i];
	const float h = 1e-3f;
	size_t checked = 0;
	double worst = 0.0;
	for (size_t i = 0; i < n; i++) {
		float keep = p[i];
		p[i] = keep + h;
		double up = trainer_loss_and_grad(t, rows, n_rows);
		p[i] = keep - h;
		double down = trainer_loss_and_grad(t, rows, n_rows);
		p[i] = keep;
		double numeric = (up - down) / (2.0 * (double)h);
		double diff = fabs(numeric - analytic[i]);
		double tol = 1e-3 + 0.02 * fabs(analytic[i]);
		if (diff > tol)
			fail_msg("param %zu: analytic %.6g numeric %.6g", i, analytic[i], numeric);
		if (diff > worst)
			worst = diff;
		checked++;
	}
	assert_int_equal(checked, n);
	free(analytic);
}

/* Moves every parameter off its initial value so gamma, beta and biases matter too. */
static void perturb_params(struct trainer *t, uint64_t seed)
{
	struct trainer_rng rng;
	trainer_rng_seed(&rng, seed);
	float *p = trainer_params(t);
	for (size_t i = 0; i < trainer_param_count(t); i++)
		p[i] += (float)(0.3 * trainer_rng_normal(&rng));
}

static void test_gradient_whole_net(void **state)
{
	(void)state;
	const uint32_t dim = 6, n_rows = 8;
	float *rows = make_rows(n_rows, dim, 11);
	uint32_t cols[6];
	identity_cols(cols, dim);
	struct trainer *t = make_trainer(rows, n_rows, dim, cols, "5,3,5", n_rows, 7);
	/* val split 0.1 of 8 rows leaves 7 to train on; the batch is capped to that */
	perturb_params(t, 99);
	uint32_t idx[7] = { 0, 1, 2, 3, 4, 5, 6 };
	check_gradients(t, idx, 7);
	trainer_destroy(t);
	free(rows);
}

/* Different input and target columns, with standardisation: the interpolation (IDNN) setup. */
static void test_gradient_interpolation_standardised(void **state)
{
	(void)state;
	const uint32_t dim = 10, n_rows = 12;
	float *rows = make_rows(n_rows, dim, 5);
	uint32_t in_cols[] = { 0, 1, 2, 3, 6, 7, 8, 9 };
	uint32_t out_cols[] = { 4, 5 };
	float mean[10], sd[10];
	for (uint32_t j = 0; j < dim; j++) {
		mean[j] = 3.0f + 0.1f * (float)j;
		sd[j] = 0.5f + 0.2f * (float)j;
	}
	struct trainer_config cfg;
	trainer_config_defaults(&cfg);
	struct auscult_err err = { { 0 } };
	assert_int_equal(trainer_parse_hidden(&cfg, "4,4", &err), AUSCULT_OK);
	cfg.batch_size = 16;
	cfg.validation_split = 0.0f;
	cfg.threads = 1;
	struct trainer_data data = { .rows = rows,
				     .n_rows = n_rows,
				     .row_dim = dim,
				     .n_in = 8,
				     .in_cols = in_cols,
				     .n_out = 2,
				     .out_cols = out_cols,
				     .mean = mean,
				     .std = sd };
	struct trainer *t = NULL;
	assert_int_equal(trainer_create(&t, &cfg, &data, &err), AUSCULT_OK);
	assert_int_equal(trainer_train_rows(t), 12);
	perturb_params(t, 3);
	uint32_t idx[12];
	identity_cols(idx, 12);
	check_gradients(t, idx, 12);
	trainer_destroy(t);
	free(rows);
}

/* BN + ReLU backward on its own, against central differences of L = sum(c * act). */
static void test_bn_backward(void **state)
{
	(void)state;
	enum { R = 6, C = 4 };
	struct trainer_rng rng;
	trainer_rng_seed(&rng, 2024);
	float z[R * C], coef[R * C], gamma[C], beta[C];
	for (int i = 0; i < R * C; i++) {
		z[i] = (float)trainer_rng_normal(&rng);
		coef[i] = (float)trainer_rng_normal(&rng);
	}
	for (int j = 0; j < C; j++) {
		gamma[j] = 0.5f + (float)j * 0.3f;
		beta[j] = 0.2f - (float)j * 0.1f;
	}
	float xhat[R * C], act[R * C], d[R * C], mean[C], var[C], inv[C], dg[C], db[C];
	memcpy(xhat, z, sizeof(z));
	bn_relu_forward_train(xhat, act, R, C, gamma, beta, 1e-3f, mean, var, inv);
	/* The batch statistics: column 0 by hand. */
	double m0 = 0, v0 = 0;
	for (int i = 0; i < R; i++)
		m0 += z[i * C];
	m0 /= R;
	for (int i = 0; i < R; i++)
		v0 += (z[i * C] - m0) * (z[i * C] - m0);
	v0 /= R; /* biased */
	assert_float_equal(mean[0], m0, 1e-6);
	assert_float_equal(var[0], v0, 1e-6);
	memcpy(d, coef, sizeof(coef));
	bn_relu_backward(d, xhat, act, R, C, gamma, inv, dg, db);
	const float h = 1e-3f;
	for (int i = 0; i < R * C; i++) {
		double l[2];
		for (int s = 0; s < 2; s++) {
			float zz[R * C], aa[R * C], mm[C], vv[C], ii[C];
			memcpy(zz, z, sizeof(z));
			zz[i] += s ? -h : h;
			bn_relu_forward_train(zz, aa, R, C, gamma, beta, 1e-3f, mm, vv, ii);
			l[s] = 0;
			for (int k = 0; k < R * C; k++)
				l[s] += (double)coef[k] * aa[k];
		}
		double numeric = (l[0] - l[1]) / (2.0 * h);
		if (fabs(numeric - d[i]) > 1e-3 + 0.01 * fabs(d[i]))
			fail_msg("dz[%d]: analytic %.6g numeric %.6g", i, (double)d[i], numeric);
	}
	/* dbeta = sum over rows of the masked upstream gradient, by hand. */
	for (int j = 0; j < C; j++) {
		double sum = 0, sum_g = 0;
		for (int i = 0; i < R; i++)
			if (act[i * C + j] > 0.0f) {
				sum += coef[i * C + j];
				sum_g += coef[i * C + j] * xhat[i * C + j];
			}
		assert_float_equal(db[j], sum, 1e-5);
		assert_float_equal(dg[j], sum_g, 1e-5);
	}
}

/* Keras Adam, three steps on one parameter; values worked out by hand from the formula
 * lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), p -= lr_t m / (sqrt(v) + eps). */
static void test_adam_steps(void **state)
{
	(void)state;
	float p = 1.0f, m = 0.0f, v = 0.0f;
	const float g[3] = { 0.5f, -1.0f, 0.25f };
	const double want_p[3] = { 0.9990000063245154, 0.9993661088159534, 0.9995027991014875 };
	const double want_m[3] = { 0.05, -0.055, -0.0245 };
	const double want_v[3] = { 0.00025, 0.00124975, 0.00131100025 };
	for (int t = 0; t < 3; t++) {
		adam_step(&p, &g[t], &m, &v, 1, (uint64_t)t + 1, 1e-3f, 0.9f, 0.999f, 1e-7f);
		assert_float_equal(p, want_p[t], 2e-7);
		assert_float_equal(m, want_m[t], 1e-7);
		/* 1 - 0.999f is 0.00099998713 in float, hence a relative tolerance of 1e-4 */
		assert_float_equal(v, want_v[t], 1e-4 * want_v[t]);
	}
}

static void test_running_stats(void **state)
{
	(void)state;
	float rm[2] = { 0.0f, 1.0f }, rv[2] = { 1.0f, 2.0f };
	const float bm[2] = { 2.0f, -1.0f }, bv[2] = { 4.0f, 0.5f };
	bn_update_running(rm, rv, bm, bv, 2, 5, 0.99f);
	/* moving = moving 0.99 + batch 0.01; variance Bessel-corrected by 5/4 */
	assert_float_equal(rm[0], 0.02, 1e-7);
	assert_float_equal(rm[1], 0.98, 1e-7);
	assert_float_equal(rv[0], 0.99 + 4.0 * 1.25 * 0.01, 1e-6);
	assert_float_equal(rv[1], 1.98 + 0.5 * 1.25 * 0.01, 1e-6);
}

static void test_loss_decreases(void **state)
{
	(void)state;
	const uint32_t dim = 16, n_rows = 600;
	float *rows = make_rows(n_rows, dim, 21);
	uint32_t cols[16];
	identity_cols(cols, dim);
	struct trainer *t = make_trainer(rows, n_rows, dim, cols, "8,2,8", 64, 1);
	assert_int_equal(trainer_train_rows(t), 540);
	assert_int_equal(trainer_val_rows(t), 60);
	struct trainer_epoch_stats first = { 0 }, last = { 0 };
	for (int e = 0; e < 40; e++) {
		assert_int_equal(trainer_run_epoch(t, NULL, &last), AUSCULT_OK);
		if (e == 0)
			first = last;
		assert_true(isfinite(last.train_loss));
		assert_true(isfinite(last.val_loss));
	}
	assert_int_equal(last.epoch, 40);
	/* The first epoch starts from a net that outputs ~0 for values near 3: loss ~10. */
	if (!(last.train_loss < 0.1f * first.train_loss) ||
	    !(last.val_loss < 0.1f * first.val_loss))
		fail_msg("loss did not fall enough: train %g -> %g, val %g -> %g",
			 (double)first.train_loss, (double)last.train_loss, (double)first.val_loss,
			 (double)last.val_loss);
	trainer_destroy(t);
	free(rows);
}

static void test_interrupt(void **state)
{
	(void)state;
	const uint32_t dim = 4, n_rows = 100;
	float *rows = make_rows(n_rows, dim, 2);
	uint32_t cols[4];
	identity_cols(cols, dim);
	struct trainer *t = make_trainer(rows, n_rows, dim, cols, "3", 10, 1);
	volatile sig_atomic_t stop = 1;
	struct trainer_epoch_stats st = { 0 };
	assert_int_equal(trainer_run_epoch(t, &stop, &st), AUSCULT_ERR_INTERRUPTED);
	assert_int_equal(st.epoch, 0);
	trainer_destroy(t);
	free(rows);
}

static void test_deterministic(void **state)
{
	(void)state;
	const uint32_t dim = 12, n_rows = 300;
	float *rows = make_rows(n_rows, dim, 4);
	uint32_t cols[12];
	identity_cols(cols, dim);
	struct trainer *a = make_trainer(rows, n_rows, dim, cols, "6,2,6", 32, 77);
	struct trainer *b = make_trainer(rows, n_rows, dim, cols, "6,2,6", 32, 77);
	struct trainer *c = make_trainer(rows, n_rows, dim, cols, "6,2,6", 32, 78);
	struct trainer_epoch_stats st;
	for (int e = 0; e < 3; e++) {
		assert_int_equal(trainer_run_epoch(a, NULL, &st), AUSCULT_OK);
		assert_int_equal(trainer_run_epoch(b, NULL, &st), AUSCULT_OK);
		assert_int_equal(trainer_run_epoch(c, NULL, &st), AUSCULT_OK);
	}
	size_t n = trainer_param_count(a);
	assert_memory_equal(trainer_params(a), trainer_params(b), n * sizeof(float));
	assert_memory_not_equal(trainer_params(a), trainer_params(c), n * sizeof(float));
	trainer_destroy(a);
	trainer_destroy(b);
	trainer_destroy(c);
	free(rows);
}

/* Plain double-precision forward of an exported (folded) model. */
static void reference_forward(const struct model *m, const float *in, double *out)
{
	double buf[2][64];
	for (uint32_t j = 0; j < m->layers[0].n_in; j++)
		buf[0][j] = in[j];
	int cur = 0;
	for (uint32_t l = 0; l < m->n_layers; l++) {
		const struct dense_layer *L = &m->layers[l];
		for (uint32_t o = 0; o < L->n_out; o++) {
			double s = L->bias[o];
			for (uint32_t i = 0; i < L->n_in; i++)
				s += (double)L->weights[(size_t)o * L->n_in + i] * buf[cur][i];
			if (L->activation == ACTIVATION_RELU && s < 0.0)
				s = 0.0;
			buf[1 - cur][o] = s;
		}
		cur = 1 - cur;
	}
	for (uint32_t o = 0; o < m->layers[m->n_layers - 1].n_out; o++)
		out[o] = buf[cur][o];
}

static void test_bn_folding(void **state)
{
	(void)state;
	const uint32_t dim = 16, n_rows = 400;
	float *rows = make_rows(n_rows, dim, 8);
	uint32_t cols[16];
	identity_cols(cols, dim);
	struct trainer *t = make_trainer(rows, n_rows, dim, cols, "12,3,12", 50, 5);
	struct trainer_epoch_stats st;
	for (int e = 0; e < 5; e++)
		assert_int_equal(trainer_run_epoch(t, NULL, &st), AUSCULT_OK);
	struct model m;
	memset(&m, 0, sizeof(m));
	struct auscult_err err = { { 0 } };
	assert_int_equal(trainer_export(t, &m, &err), AUSCULT_OK);
	assert_int_equal(m.n_layers, 4);
	assert_int_equal(m.layers[0].n_in, 16);
	assert_int_equal(m.layers[1].n_out, 3);
	assert_int_equal(m.layers[0].activation, ACTIVATION_RELU);
	assert_int_equal(m.layers[3].activation, ACTIVATION_LINEAR);
	float *out = malloc((size_t)n_rows * dim * sizeof(float));
	assert_non_null(out);
	trainer_infer(t, rows, n_rows, out);
	double ref[16], worst = 0.0;
	for (uint32_t r = 0; r < n_rows; r++) {
		reference_forward(&m, rows + (size_t)r * dim, ref);
		for (uint32_t j = 0; j < dim; j++) {
			double d = fabs(ref[j] - out[(size_t)r * dim + j]);
			if (d > worst)
				worst = d;
		}
	}
	/* Folding reorders float rounding only: outputs of size ~3 agree to 1e-4. */
	if (worst > 1e-4)
		fail_msg("folded model differs from the trainer's inference by %g", worst);
	/*
	 * The inference module's score of the folded model (mean squared reconstruction error per
	 * vector) equals the same error computed from the trainer's own inference pass.
	 */
	feature_params_defaults(&m.features);
	m.features.n_mels = 4;
	m.features.n_stack = 4;
	m.input_frames = 0xf;
	m.target_frames = 0xf;
	m.threshold = (struct model_threshold){ 1.0f, 1.0f, 0.9f, 1.0f };
	m.training.train_loss = 1.0f;
	if (model_validate(&m, &err))
		fail_msg("exported model does not validate: %s", err.msg);
	struct autoencoder ae;
	memset(&ae, 0, sizeof(ae));
	assert_int_equal(autoencoder_init(&ae, &m, n_rows, &err), AUSCULT_OK);
	float *scores = malloc(n_rows * sizeof(float));
	assert_non_null(scores);
	autoencoder_score(&ae, rows, dim, n_rows, scores, NULL);
	for (uint32_t r = 0; r < n_rows; r++) {
		double mse = 0;
		for (uint32_t j = 0; j < dim; j++) {
			double e = (double)out[(size_t)r * dim + j] - rows[(size_t)r * dim + j];
			mse += e * e / dim;
		}
		if (fabs(scores[r] - mse) > 1e-4 * mse + 1e-6)
			fail_msg("row %u: autoencoder_score %g, trainer %g", r, (double)scores[r],
				 mse);
	}
	free(scores);
	autoencoder_free(&ae);
	/* Exporting twice replaces the layers without leaking (ASan checks). */
	assert_int_equal(trainer_export(t, &m, &err), AUSCULT_OK);
	model_free(&m);
	free(out);
	trainer_destroy(t);
	free(rows);
}

static void test_config_errors(void **state)
{
	(void)state;
	struct trainer_config cfg;
	struct auscult_err err = { { 0 } };
	trainer_config_defaults(&cfg);
	assert_int_equal(cfg.n_hidden, 9);
	assert_int_equal(cfg.hidden[4], 8);
	assert_int_equal(trainer_config_validate(&cfg, &err), AUSCULT_OK);
	assert_int_equal(trainer_parse_hidden(&cfg, "128,x", &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "hidden: element 2 of \"128,x\" is not a number");
	assert_int_equal(trainer_parse_hidden(&cfg, "128,0", &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "hidden: element 2 (0) is out of range [1, 65536]");
	assert_int_equal(trainer_parse_hidden(&cfg, "64;8", &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "hidden: unexpected ';' after element 1 of \"64;8\"");
	cfg.validation_split = 1.0f;
	assert_int_equal(trainer_config_validate(&cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "val-split: 1 is out of range [0, 1)");
	trainer_config_defaults(&cfg);
	cfg.learning_rate = NAN;
	assert_int_equal(trainer_config_validate(&cfg, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "lr: nan is out of range (0, 10]");

	/* Two rows with a 0.9 split leave none to train on. */
	float rows[8] = { 0 };
	uint32_t cols[4] = { 0, 1, 2, 3 };
	trainer_config_defaults(&cfg);
	cfg.validation_split = 0.9f;
	struct trainer_data data = { .rows = rows,
				     .n_rows = 1,
				     .row_dim = 4,
				     .n_in = 4,
				     .in_cols = cols,
				     .n_out = 4,
				     .out_cols = cols };
	struct trainer *t = NULL;
	assert_int_equal(trainer_create(&t, &cfg, &data, &err), AUSCULT_ERR_INVALID);
	assert_null(t);
	assert_string_equal(err.msg, "val-split: 0.9 of 1 vectors leaves none to train on");
	cols[3] = 4;
	cfg.validation_split = 0.0f;
	assert_int_equal(trainer_create(&t, &cfg, &data, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "training data: input column 4 is past the vector (4)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gradient_whole_net),
		cmocka_unit_test(test_gradient_interpolation_standardised),
		cmocka_unit_test(test_bn_backward),
		cmocka_unit_test(test_adam_steps),
		cmocka_unit_test(test_running_stats),
		cmocka_unit_test(test_loss_decreases),
		cmocka_unit_test(test_interrupt),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_bn_folding),
		cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
