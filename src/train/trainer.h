/* trainer.h - trains the dense + batch-norm autoencoder with Adam (OpenBLAS sgemm), folds BN at export. */
#ifndef AUSCULT_TRAINER_H
#define AUSCULT_TRAINER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "model/model.h"

#define TRAINER_MAX_HIDDEN 32

/*
 * The recipe. Defaults are the DCASE 2020 Task 2 baseline: hidden 128,128,128,128,8,128,128,128,
 * 128, each hidden layer dense -> batch norm (momentum 0.99, eps 1e-3) -> ReLU, linear output,
 * MSE, Adam (1e-3, 0.9, 0.999, 1e-7), batch 512, 100 epochs, last 10% held out.
 */
struct trainer_config {
	uint32_t n_hidden;                   /* hidden layers (0: one linear layer) */
	uint32_t hidden[TRAINER_MAX_HIDDEN]; /* their widths, input side first */
	uint32_t epochs;
	uint32_t batch_size; /* rows per Adam step; the last batch of an epoch may be smaller */
	float learning_rate;
	float adam_beta1;
	float adam_beta2;
	float adam_epsilon;
	float bn_momentum; /* Keras momentum: moving = moving m + batch (1 - m) */
	float bn_epsilon;
	float validation_split; /* in [0, 1): share of the rows, taken from the end, held out */
	uint64_t seed;          /* weight init and shuffling; same seed + threads = same bits */
	int threads;            /* OpenBLAS threads; 0 = every online core */
};

/* Fills c with the baseline recipe above (seed 0, threads 0). */
void trainer_config_defaults(struct trainer_config *c);

/* Checks ranges; AUSCULT_ERR_INVALID with a message naming the field. */
int trainer_config_validate(const struct trainer_config *c, struct auscult_err *err);

/*
 * Parses a comma-separated list of hidden widths ("128,128,8,128,128") into c->hidden.
 * AUSCULT_ERR_INVALID with a message naming the bad element.
 */
int trainer_parse_hidden(struct trainer_config *c, const char *text, struct auscult_err *err);

/*
 * What to learn from. rows is n_rows x row_dim floats (the stacked log-mel vectors, file order;
 * the last validation_split of them are the held-out rows). The network input of row r is
 * (rows[r][in_cols[j]] - mean[in_cols[j]]) / std[in_cols[j]] for j < n_in, its target the same over
 * out_cols. mean/std are NULL (no standardisation) or row_dim values with std > 0. The trainer
 * keeps these pointers: they must outlive it.
 */
struct trainer_data {
	const float *rows;
	uint64_t n_rows;
	uint32_t row_dim;
	uint32_t n_in;
	const uint32_t *in_cols;
	uint32_t n_out;
	const uint32_t *out_cols;
	const float *mean;
	const float *std;
};

/* One finished epoch. */
struct trainer_epoch_stats {
	uint32_t epoch;   /* 1-based */
	float train_loss; /* mean of the batch losses (batch-size weighted), training mode */
	float val_loss;   /* MSE over the held-out rows, inference mode; NaN when none */
	double seconds;   /* wall time of the epoch, validation included */
};

struct trainer;

/*
 * Allocates the network and every buffer training needs, sets the OpenBLAS thread count and
 * initialises weights (Glorot uniform, zero biases, BN gamma 1 beta 0, running mean 0 var 1).
 * Nothing allocates after this. Returns AUSCULT_OK, AUSCULT_ERR_INVALID (bad config or data:
 * the message names it) or AUSCULT_ERR_NOMEM.
 */
int trainer_create(struct trainer **out, const struct trainer_config *cfg,
		   const struct trainer_data *data, struct auscult_err *err);

/* Frees everything. NULL-safe. */
void trainer_destroy(struct trainer *t);

/*
 * Training rows for a split: Keras validation_split semantics, int(n_rows (1 - split)); the last
 * n_rows minus that many are held out.
 */
uint64_t trainer_split_rows(uint64_t n_rows, float validation_split);

/* Rows used for training / held out. */
uint64_t trainer_train_rows(const struct trainer *t);
uint64_t trainer_val_rows(const struct trainer *t);

/*
 * Runs one epoch: shuffle, Adam steps over every training batch, then the validation loss.
 * stop (may be NULL) is polled before each batch; when it is non-zero the epoch is abandoned
 * and AUSCULT_ERR_INTERRUPTED returned (the weights are those after the last whole batch).
 * Otherwise fills stats and returns AUSCULT_OK. Single-threaded caller; OpenBLAS fans out.
 */
int trainer_run_epoch(struct trainer *t, const volatile sig_atomic_t *stop,
		      struct trainer_epoch_stats *stats);

/*
 * Inference-mode forward pass (batch norm with running statistics) of n_rows network-space
 * inputs (n_rows x n_in, already standardised and frame-selected) into out (n_rows x n_out).
 */
void trainer_infer(struct trainer *t, const float *in, uint64_t n_rows, float *out);

/*
 * Inference-mode squared error per output column, summed over data rows [row_begin, row_end),
 * into sum_sq (n_out doubles, overwritten). For band weights.
 */
void trainer_column_sq_error(struct trainer *t, uint64_t row_begin, uint64_t row_end,
			     double *sum_sq);

/*
 * Writes the network into m->layers / m->n_layers (m's other fields are left alone; any layers
 * m had are freed first), folding each batch norm into the dense layer before it:
 * W' = W gamma / sqrt(var + eps), b' = (b - mean) gamma / sqrt(var + eps) + beta.
 * Returns AUSCULT_OK or AUSCULT_ERR_NOMEM.
 */
int trainer_export(const struct trainer *t, struct model *m, struct auscult_err *err);

/*
 * For tests and diagnostics: every trainable parameter in one array (per layer: weights
 * n_out x n_in row-major, then bias for the output layer or BN gamma then beta for hidden ones),
 * the gradient array of the same layout, and their length.
 */
size_t trainer_param_count(const struct trainer *t);
float *trainer_params(struct trainer *t);
const float *trainer_grads(const struct trainer *t);

/*
 * Training-mode forward and backward pass over the given data rows (n_rows <= batch_size), without
 * touching running statistics or parameters: returns the MSE loss and leaves dLoss/dparam in
 * trainer_grads(). For gradient checks.
 */
double trainer_loss_and_grad(struct trainer *t, const uint32_t *rows, uint32_t n_rows);

#endif
