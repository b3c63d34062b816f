/* trainer_kernels.h - the trainer's building blocks: PRNG, gathering, BN + ReLU, MSE, Adam. */
#ifndef AUSCULT_TRAINER_KERNELS_H
#define AUSCULT_TRAINER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/*
 * xoshiro256** seeded through splitmix64: the only randomness in training (weight init,
 * shuffling), so a seed gives the same model on every machine. Never rand().
 */
struct trainer_rng {
	uint64_t s[4];
};

/* Seeds the generator; every seed (0 included) gives a usable, distinct stream. */
void trainer_rng_seed(struct trainer_rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t trainer_rng_next(struct trainer_rng *r);

/* Uniform double in [0, 1), 53 random bits. */
double trainer_rng_uniform(struct trainer_rng *r);

/* Uniform integer in [0, n), n >= 1 (multiply-shift; bias below 2^-32, irrelevant here). */
uint32_t trainer_rng_below(struct trainer_rng *r, uint32_t n);

/* Standard normal deviate (Box-Muller, one of the pair). */
double trainer_rng_normal(struct trainer_rng *r);

/* Shuffles idx[0..n) in place (Fisher-Yates). */
void trainer_rng_shuffle(struct trainer_rng *r, uint32_t *idx, uint32_t n);

/*
 * Copies n_rows rows into dst (n_rows x n_cols) through a column selection and an affine map:
 * dst[i][j] = (src[cols[j]] - shift[j]) * scale[j], src being row idx[i] of rows (row first + i
 * when idx is NULL), rows row_dim floats apart. shift and scale are n_cols values, or both NULL
 * to copy the values unchanged. A selection of consecutive columns (the usual case) takes a
 * vectorised path with the same results. Never allocates.
 */
void gather_rows(float *dst, const float *rows, uint32_t row_dim, const uint32_t *idx,
		 uint64_t first, uint32_t n_rows, const uint32_t *cols, uint32_t n_cols,
		 const float *shift, const float *scale);

/*
 * Batch normalisation in training mode followed by ReLU, over a row-major batch of n_rows x
 * n_cols pre-activations (Keras semantics): per column, the batch mean and the biased batch
 * variance normalise; xhat = (z - mean) / sqrt(var + eps); act = max(0, gamma xhat + beta).
 * z is overwritten with xhat (the backward pass needs it). batch_mean/batch_var (n_cols) receive
 * the batch statistics (var biased), inv_std (n_cols) 1/sqrt(var + eps). Never allocates.
 */
void bn_relu_forward_train(float *z, float *act, uint32_t n_rows, uint32_t n_cols,
			   const float *gamma, const float *beta, float eps, float *batch_mean,
			   float *batch_var, float *inv_std);

/*
 * The backward pass of bn_relu_forward_train. d (n_rows x n_cols) holds dLoss/dact on entry and
 * dLoss/dz on return; xhat and act are what the forward pass left; dgamma/dbeta (n_cols) are
 * overwritten with the parameter gradients. Never allocates.
 */
void bn_relu_backward(float *d, const float *xhat, const float *act, uint32_t n_rows,
		      uint32_t n_cols, const float *gamma, const float *inv_std, float *dgamma,
		      float *dbeta);

/* Rows whose squared errors mse_backward sums side by side (independent addition chains). */
#define MSE_ROWS_AT_ONCE 8

/*
 * Mean squared error of out against target (both n_rows x n_cols) and its gradient, which
 * replaces out: d = 2 (out - target) / (n_rows n_cols); dbias[j] (n_cols) receives the sum over
 * rows of d[.][j] (the output layer's bias gradient). The error is summed in float along each
 * row, the row sums in double, row after row, so the value does not depend on how the loops are
 * vectorised. sq is scratch for min(n_rows, MSE_ROWS_AT_ONCE) x n_cols floats. out, dbias and
 * sq overlap nothing else. Returns the mean; never allocates.
 */
double mse_backward(float *out, const float *target, uint32_t n_rows, uint32_t n_cols, float *dbias,
		    float *sq);

/*
 * Inference-mode batch norm + ReLU with running statistics, in place on n_rows x n_cols:
 * x = max(0, gamma (x - mean) / sqrt(var + eps) + beta).
 */
void bn_relu_forward_infer(float *x, uint32_t n_rows, uint32_t n_cols, const float *gamma,
			   const float *beta, const float *mean, const float *var, float eps);

/*
 * Keras moving statistics: moving = moving * momentum + batch * (1 - momentum). The variance fed
 * in is the unbiased batch variance (as TensorFlow's fused batch norm does); n_rows is the batch
 * size used for that correction (a batch of one keeps the biased value, 0).
 */
void bn_update_running(float *run_mean, float *run_var, const float *batch_mean,
		       const float *batch_var, uint32_t n_cols, uint32_t n_rows, float momentum);

/*
 * One Adam step in the Keras form (tf.keras Adam, epsilon outside the bias correction):
 * lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t); m = beta1 m + (1 - beta1) g;
 * v = beta2 v + (1 - beta2) g^2; p -= lr_t m / (sqrt(v) + epsilon). step_t counts from 1.
 */
void adam_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
	       size_t n, uint64_t step_t, float lr, float beta1, float beta2, float epsilon);

#endif
