/* trainer_kernels.c - PRNG, batch gathering, BN + ReLU, MSE and Adam: the trainer's loops. */
#include "train/trainer_kernels.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/*
 * These loops run over every input value, activation and parameter of every step. The build
 * compiles this file with -O3 (GCC's -O2 leaves loops of run-time length scalar) and
 * -fno-math-errno (otherwise sqrtf keeps an errno branch that stops the Adam and inference
 * loops from vectorising; no argument here is ever negative). Vectors only ever hold independent
 * values (elements, columns, separate rows' sums) and every sum keeps its order, so the results
 * are the same bits with or without vectors.
 */

/*
 * On x86-64 the hot loops also get an AVX2 build, picked once at load time (GCC's function
 * multi-versioning, through glibc's ifunc). It performs the same IEEE operations in the same
 * order, only more at a time (no FMA: this file is built with -ffp-contract=off), so a model
 * trains to the same bits on machines with and without AVX2. GCC only: Clang 14 gives the
 * dispatcher another symbol name, which callers in other files then fail to link against.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__) && \
	defined(__has_attribute)
#if __has_attribute(target_clones)
#define HOT_LOOPS __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef HOT_LOOPS
#define HOT_LOOPS
#endif

/* Rows ahead that gather_rows prefetches, and the cache line it steps by (bytes). */
#define GATHER_AHEAD 2
#define CACHE_LINE 64
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void trainer_rng_seed(struct trainer_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t trainer_rng_next(struct trainer_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double trainer_rng_uniform(struct trainer_rng *r)
{
	return (double)(trainer_rng_next(r) >> 11) * 0x1.0p-53;
}

uint32_t trainer_rng_below(struct trainer_rng *r, uint32_t n)
{
	return (uint32_t)(((trainer_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

double trainer_rng_normal(struct trainer_rng *r)
{
	/* 1 - u lies in (0, 1], so the log is finite. */
	double u1 = 1.0 - trainer_rng_uniform(r);
	double u2 = trainer_rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

void trainer_rng_shuffle(struct trainer_rng *r, uint32_t *idx, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = trainer_rng_below(r, i);
		uint32_t tmp = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = tmp;
	}
}

HOT_LOOPS
void gather_rows(float *dst, const float *rows, uint32_t row_dim, const uint32_t *idx,
		 uint64_t first, uint32_t n_rows, const uint32_t *cols, uint32_t n_cols,
		 const float *shift, const float *scale)
{
	const float *restrict sh = shift, *restrict sc = scale;
	uint32_t c0 = n_cols ? cols[0] : 0;
	bool run = true;
	for (uint32_t j = 1; j < n_cols && run; j++)
		run = cols[j] == (uint64_t)c0 + j;
	/* What a row contributes: its n_cols values from c0 on, or anything in the row. */
	uint32_t span_first = run ? c0 : 0, span = run ? n_cols : row_dim;
	for (uint32_t i = 0; i < n_rows; i++) {
		uint64_t r = idx ? idx[i] : first + i;
		const float *restrict src = rows + r * row_dim;
		float *restrict out = dst + (size_t)i * n_cols;
		/*
		 * Shuffled rows come from all over a data set larger than the caches, and the
		 * hardware prefetcher only catches on once a row has begun: ask for a later one now.
		 */
		if (i + GATHER_AHEAD < n_rows) {
			uint64_t ra = idx ? idx[i + GATHER_AHEAD] : first + i + GATHER_AHEAD;
			const char *p = (const char *)(rows + ra * row_dim + span_first);
			for (size_t k = 0; k < (size_t)span * sizeof(float); k += CACHE_LINE)
				PREFETCH(p + k);
		}
		if (run && !sh) {
			memcpy(out, src + c0, (size_t)n_cols * sizeof(float));
		} else if (run) {
			const float *restrict s0 = src + c0;
			for (uint32_t j = 0; j < n_cols; j++)
				out[j] = (s0[j] - sh[j]) * sc[j];
		} else if (!sh) {
			for (uint32_t j = 0; j < n_cols; j++)
				out[j] = src[cols[j]];
		} else {
			for (uint32_t j = 0; j < n_cols; j++)
				out[j] = (src[cols[j]] - sh[j]) * sc[j];
		}
	}
}

HOT_LOOPS
void bn_relu_forward_train(float *z, float *act, uint32_t n_rows, uint32_t n_cols,
			   const float *gamma, const float *beta, float eps, float *batch_mean,
			   float *batch_var, float *inv_std)
{
	/* No two of these arrays overlap (the header's contract); restrict lets loops vectorise. */
	float *restrict mean = batch_mean, *restrict var = batch_var, *restrict inv = inv_std;
	float inv_n = 1.0f / (float)n_rows;
	for (uint32_t j = 0; j < n_cols; j++) {
		mean[j] = 0.0f;
		var[j] = 0.0f;
	}
	for (uint32_t i = 0; i < n_rows; i++) {
		const float *restrict row = z + (size_t)i * n_cols;
		for (uint32_t j = 0; j < n_cols; j++)
			mean[j] += row[j];
	}
	for (uint32_t j = 0; j < n_cols; j++)
		mean[j] *= inv_n;
	/* Two passes rather than E[z^2] - E[z]^2: pre-activations can sit far from zero. */
	for (uint32_t i = 0; i < n_rows; i++) {
		const float *restrict row = z + (size_t)i * n_cols;
		for (uint32_t j = 0; j < n_cols; j++) {
			float dev = row[j] - mean[j];
			var[j] += dev * dev;
		}
	}
	for (uint32_t j = 0; j < n_cols; j++) {
		var[j] *= inv_n;
		inv[j] = 1.0f / sqrtf(var[j] + eps);
	}
	for (uint32_t i = 0; i < n_rows; i++) {
		float *restrict row = z + (size_t)i * n_cols;
		float *restrict out = act + (size_t)i * n_cols;
		for (uint32_t j = 0; j < n_cols; j++) {
			float xh = (row[j] - mean[j]) * inv[j];
			float y = gamma[j] * xh + beta[j];
			row[j] = xh;
			out[j] = y > 0.0f ? y : 0.0f;
		}
	}
}

HOT_LOOPS
void bn_relu_backward(float *d, const float *xhat, const float *act, uint32_t n_rows,
		      uint32_t n_cols, const float *gamma, const float *inv_std, float *dgamma,
		      float *dbeta)
{
	float *restrict dg = dgamma, *restrict db = dbeta;
	for (uint32_t j = 0; j < n_cols; j++) {
		dg[j] = 0.0f;
		db[j] = 0.0f;
	}
	for (uint32_t i = 0; i < n_rows; i++) {
		float *restrict drow = d + (size_t)i * n_cols;
		const float *restrict xrow = xhat + (size_t)i * n_cols;
		const float *restrict arow = act + (size_t)i * n_cols;
		for (uint32_t j = 0; j < n_cols; j++) {
			float g = arow[j] > 0.0f ? drow[j] : 0.0f;
			drow[j] = g;
			db[j] += g;
			dg[j] += g * xrow[j];
		}
	}
	/*
	 * With dy = dLoss/dy (after the ReLU mask) and N rows, the batch statistics' own
	 * dependence on z gives dz = gamma inv_std / N (N dy - sum(dy) - xhat sum(dy xhat)).
	 */
	float n = (float)n_rows, inv_n = 1.0f / (float)n_rows;
	for (uint32_t i = 0; i < n_rows; i++) {
		float *restrict drow = d + (size_t)i * n_cols;
		const float *restrict xrow = xhat + (size_t)i * n_cols;
		for (uint32_t j = 0; j < n_cols; j++) {
			float c = gamma[j] * inv_std[j] * inv_n;
			drow[j] = c * (n * drow[j] - db[j] - xrow[j] * dg[j]);
		}
	}
}

HOT_LOOPS
double mse_backward(float *out, const float *target, uint32_t n_rows, uint32_t n_cols, float *dbias,
		    float *sq)
{
	size_t nc = n_cols, total = (size_t)n_rows * n_cols;
	float scale = 2.0f / (float)total;
	float *restrict db = dbias, *restrict sqr = sq;
	for (uint32_t j = 0; j < n_cols; j++)
		db[j] = 0.0f;
	double loss = 0.0;
	for (uint32_t i0 = 0; i0 < n_rows; i0 += MSE_ROWS_AT_ONCE) {
		uint32_t rows = n_rows - i0 < MSE_ROWS_AT_ONCE ? n_rows - i0 : MSE_ROWS_AT_ONCE;
		for (uint32_t r = 0; r < rows; r++) {
			size_t at = (i0 + r) * nc;
			float *restrict o = out + at, *restrict sr = sqr + r * nc;
			const float *restrict y = target + at;
			for (uint32_t j = 0; j < n_cols; j++) {
				float e = o[j] - y[j];
				float g = scale * e;
				o[j] = g;
				db[j] += g;
				sr[j] = e * e;
			}
		}
		/*
		 * Each row's sum is one chain of dependent additions, which a loop over that row
		 * alone would wait on at every element; running the block's chains side by side
		 * hides the latency without changing any chain's order. The block's squares are
		 * still in L1.
		 */
		float acc[MSE_ROWS_AT_ONCE] = { 0.0f };
		if (rows == MSE_ROWS_AT_ONCE) {
			for (uint32_t j = 0; j < n_cols; j++)
				for (uint32_t r = 0; r < MSE_ROWS_AT_ONCE; r++)
					acc[r] += sqr[r * nc + j];
		} else {
			for (uint32_t r = 0; r < rows; r++)
				for (uint32_t j = 0; j < n_cols; j++)
					acc[r] += sqr[r * nc + j];
		}
		for (uint32_t r = 0; r < rows; r++)
			loss += acc[r];
	}
	return loss / (double)total;
}

HOT_LOOPS
void bn_relu_forward_infer(float *x, uint32_t n_rows, uint32_t n_cols, const float *gamma,
			   const float *beta, const float *mean, const float *var, float eps)
{
	for (uint32_t i = 0; i < n_rows; i++) {
		float *row = x + (size_t)i * n_cols;
		for (uint32_t j = 0; j < n_cols; j++) {
			float y = gamma[j] * (row[j] - mean[j]) / sqrtf(var[j] + eps) + beta[j];
			row[j] = y > 0.0f ? y : 0.0f;
		}
	}
}

void bn_update_running(float *run_mean, float *run_var, const float *batch_mean,
		       const float *batch_var, uint32_t n_cols, uint32_t n_rows, float momentum)
{
	float correction = n_rows > 1 ? (float)n_rows / (float)(n_rows - 1) : 1.0f;
	for (uint32_t j = 0; j < n_cols; j++) {
		run_mean[j] = run_mean[j] * momentum + batch_mean[j] * (1.0f - momentum);
		run_var[j] = run_var[j] * momentum + batch_var[j] * correction * (1.0f - momentum);
	}
}

HOT_LOOPS
void adam_step(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
	       size_t n, uint64_t step_t, float lr, float beta1, float beta2, float epsilon)
{
	double t = (double)step_t;
	float lr_t = (float)((double)lr * sqrt(1.0 - pow((double)beta2, t)) /
			     (1.0 - pow((double)beta1, t)));
	float one_b1 = 1.0f - beta1, one_b2 = 1.0f - beta2;
	for (size_t i = 0; i < n; i++) {
		float gi = g[i];
		float mi = beta1 * m[i] + one_b1 * gi;
		float vi = beta2 * v[i] + one_b2 * gi * gi;
		m[i] = mi;
		v[i] = vi;
		p[i] -= lr_t * mi / (sqrtf(vi) + epsilon);
	}
}
