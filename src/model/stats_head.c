/* stats_head.c - a diagonal Gaussian of window-level features fitted on normal windows: score = how far a window lies from them. */
#include "model/stats_head.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void stats_head_config_defaults(struct stats_head_config *cfg)
{
	cfg->dim = 0;
	cfg->top_fraction = 1.0f;
	cfg->top_count = 0;
	cfg->rise_only = 0;
	cfg->std_floor_rel = 0.1f;
	cfg->shrinkage = -1.0f;
}

int stats_head_init(struct stats_head *h, const struct stats_head_config *cfg,
		    struct auscult_err *err)
{
	memset(h, 0, sizeof(*h));
	if (cfg->dim == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "stats_head: dim is 0");
	if (!(cfg->top_fraction > 0.0f && cfg->top_fraction <= 1.0f))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "stats_head: top_fraction %g is out of range (0, 1]",
				    (double)cfg->top_fraction);
	if (!(cfg->std_floor_rel >= 0.0f && isfinite(cfg->std_floor_rel)))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "stats_head: std_floor_rel %g is out of range [0, inf)",
				    (double)cfg->std_floor_rel);
	if (!(cfg->shrinkage <= 1.0f) || (cfg->shrinkage >= 0.0f && cfg->dim > 8192))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "stats_head: shrinkage %g: need <= 1 (a full model of at most "
				    "8192 features)",
				    (double)cfg->shrinkage);
	h->cfg = *cfg;
	h->sum = calloc(cfg->dim, sizeof(double));
	h->sumsq = calloc(cfg->dim, sizeof(double));
	h->mean = calloc(cfg->dim, sizeof(float));
	h->inv_std = calloc(cfg->dim, sizeof(float));
	h->z2 = calloc(cfg->dim, sizeof(float));
	if (cfg->shrinkage >= 0.0f) {
		h->cross = calloc((size_t)cfg->dim * cfg->dim, sizeof(double));
		h->precision = calloc((size_t)cfg->dim * cfg->dim, sizeof(float));
	}
	if (!h->sum || !h->sumsq || !h->mean || !h->inv_std || !h->z2 ||
	    (cfg->shrinkage >= 0.0f && (!h->cross || !h->precision))) {
		stats_head_free(h);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "stats_head: out of memory");
	}
	h->k = cfg->top_count ? cfg->top_count
			      : (uint32_t)ceil((double)cfg->top_fraction * cfg->dim);
	if (h->k < 1)
		h->k = 1;
	if (h->k > cfg->dim)
		h->k = cfg->dim;
	return AUSCULT_OK;
}

void stats_head_add(struct stats_head *h, const float *x)
{
	for (uint32_t i = 0; i < h->cfg.dim; i++) {
		h->sum[i] += x[i];
		h->sumsq[i] += (double)x[i] * x[i];
	}
	if (h->cross) {
		uint32_t d = h->cfg.dim;
		for (uint32_t i = 0; i < d; i++) {
			double xi = x[i];
			double *row = h->cross + (size_t)i * d;
			for (uint32_t j = 0; j <= i; j++)
				row[j] += xi * x[j];
		}
	}
	h->n_windows++;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/*
 * The full model: correlation of the standardised features (with the floored stds), shrunk
 * toward I, inverted through its Cholesky factor (shrinkage > 0 keeps it positive definite).
 */
static int fit_precision(struct stats_head *h, struct auscult_err *err)
{
	uint32_t d = h->cfg.dim;
	double n = (double)h->n_windows, a = h->cfg.shrinkage;
	double *c = malloc((size_t)d * d * sizeof(double));
	if (!c)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "stats_head: out of memory");
	for (uint32_t i = 0; i < d; i++)
		for (uint32_t j = 0; j <= i; j++) {
			double mi = h->sum[i] / n, mj = h->sum[j] / n;
			double cov = (h->cross[(size_t)i * d + j] - n * mi * mj) / (n - 1.0);
			double r = cov * h->inv_std[i] * h->inv_std[j];
			double v = (1.0 - a) * r + (i == j ? a : 0.0);
			c[(size_t)i * d + j] = c[(size_t)j * d + i] = v;
		}
	/* Cholesky in place: lower triangle of c becomes L with C = L L^T */
	for (uint32_t j = 0; j < d; j++) {
		double s = c[(size_t)j * d + j];
		for (uint32_t k = 0; k < j; k++)
			s -= c[(size_t)j * d + k] * c[(size_t)j * d + k];
		if (!(s > 1e-12)) {
			free(c);
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "stats_head: the correlation of %u features over %llu "
					    "windows is singular at feature %u: raise shrinkage",
					    d, (unsigned long long)h->n_windows, j);
		}
		double l = sqrt(s);
		c[(size_t)j * d + j] = l;
		for (uint32_t i = j + 1; i < d; i++) {
			double t = c[(size_t)i * d + j];
			for (uint32_t k = 0; k < j; k++)
				t -= c[(size_t)i * d + k] * c[(size_t)j * d + k];
			c[(size_t)i * d + j] = t / l;
		}
	}
	/* P = L^-T L^-1: column by column, solve L y = e_j, then L^T p = y */
	double *y = malloc(d * sizeof(double));
	if (!y) {
		free(c);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "stats_head: out of memory");
	}
	for (uint32_t j = 0; j < d; j++) {
		for (uint32_t i = 0; i < d; i++) {
			double t = i == j ? 1.0 : 0.0;
			for (uint32_t k = j; k < i; k++)
				t -= c[(size_t)i * d + k] * y[k];
			y[i] = i < j ? 0.0 : t / c[(size_t)i * d + i];
		}
		for (uint32_t i = d; i-- > 0;) {
			double t = y[i];
			for (uint32_t k = i + 1; k < d; k++)
				t -= c[(size_t)k * d + i] * y[k];
			y[i] = t / c[(size_t)i * d + i];
		}
		for (uint32_t i = 0; i < d; i++)
			h->precision[(size_t)i * d + j] = (float)y[i];
	}
	free(y);
	free(c);
	return AUSCULT_OK;
}

int stats_head_fit(struct stats_head *h, struct auscult_err *err)
{
	uint32_t d = h->cfg.dim;
	if (h->n_windows < 2)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "stats_head: %llu windows are too few to fit (need 2 or more)",
				    (unsigned long long)h->n_windows);
	double n = (double)h->n_windows;
	for (uint32_t i = 0; i < d; i++) {
		double mean = h->sum[i] / n;
		/* unbiased, and never negative through rounding */
		double var = (h->sumsq[i] - n * mean * mean) / (n - 1.0);
		if (!isfinite(mean) || !isfinite(var))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "stats_head: feature %u: sums are not finite", i);
		h->mean[i] = (float)mean;
		h->z2[i] = (float)sqrt(var > 0.0 ? var : 0.0);
	}
	int st = stats_head_set(h, h->mean, h->z2, err);
	if (st != AUSCULT_OK || !h->cross)
		return st;
	return fit_precision(h, err);
}

int stats_head_set(struct stats_head *h, const float *mean, const float *std,
		   struct auscult_err *err)
{
	uint32_t d = h->cfg.dim;
	for (uint32_t i = 0; i < d; i++)
		if (!isfinite(mean[i]) || !isfinite(std[i]) || std[i] < 0.0f)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "stats_head: feature %u: mean %g std %g (need finite, "
					    "std >= 0)",
					    i, (double)mean[i], (double)std[i]);
	/* the floor: a share of the median std (sorted in inv_std, which is set last; std may be
	 * the z2 scratch, as stats_head_fit passes it, so that one must stay in feature order) */
	memcpy(h->inv_std, std, d * sizeof(float));
	qsort(h->inv_std, d, sizeof(float), cmp_float);
	double floor = (double)h->cfg.std_floor_rel * h->inv_std[d / 2];
	if (!(floor > 0.0))
		floor = 1e-6;
	for (uint32_t i = 0; i < d; i++) {
		double s = std[i] > floor ? std[i] : floor;
		h->mean[i] = mean[i];
		h->inv_std[i] = (float)(1.0 / s);
	}
	return AUSCULT_OK;
}

int stats_head_restore(struct stats_head *h, const float *mean, const float *inv_std,
		       const float *precision, struct auscult_err *err)
{
	uint32_t d = h->cfg.dim;
	if (!h->precision)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "stats_head: a precision needs a full model (shrinkage >= 0)");
	for (uint32_t i = 0; i < d; i++)
		if (!isfinite(mean[i]) || !(inv_std[i] > 0.0f && isfinite(inv_std[i])))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "stats_head: feature %u: mean %g 1/std %g (need finite, "
					    "1/std > 0)",
					    i, (double)mean[i], (double)inv_std[i]);
	for (size_t i = 0; i < (size_t)d * d; i++)
		if (!isfinite(precision[i]))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "stats_head: precision value %zu is not finite", i);
	memcpy(h->mean, mean, d * sizeof(float));
	memcpy(h->inv_std, inv_std, d * sizeof(float));
	memcpy(h->precision, precision, (size_t)d * d * sizeof(float));
	return AUSCULT_OK;
}

static void swap_f(float *a, float *b)
{
	float t = *a;
	*a = *b;
	*b = t;
}

/* Moves the k largest of a[0..n) to a[0..k) (any order): quickselect, in place, O(n) expected. */
static void select_top(float *a, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n - 1;
	while (lo < hi) {
		swap_f(&a[lo + (hi - lo) / 2], &a[hi]);
		float pivot = a[hi];
		uint32_t s = lo;
		for (uint32_t i = lo; i < hi; i++)
			if (a[i] > pivot)
				swap_f(&a[i], &a[s++]);
		swap_f(&a[s], &a[hi]);
		/* now a[lo..s) > pivot = a[s] >= a(s..hi] */
		if (s == k - 1 || s == k)
			return;
		if (s > k)
			hi = s - 1;
		else
			lo = s + 1;
	}
}

/*
 * The sum of the k largest of a[0..n), k <= TOP_FEW, and where the largest is (*largest_at, left
 * alone when none is above -inf): a sorted list of the largest so far, which
 * most values pass over with one comparison against its smallest. For the rise heads' few
 * largest of hundreds of z-scores this is several times quicker than quickselect's swaps.
 */
#define TOP_FEW 32
static double sum_of_top_few(const float *a, uint32_t n, uint32_t k, uint32_t *largest_at)
{
	float top[TOP_FEW]; /* descending */
	for (uint32_t i = 0; i < k; i++)
		top[i] = -INFINITY;
	for (uint32_t i = 0; i < n; i++) {
		float v = a[i];
		if (!(v > top[k - 1]))
			continue;
		uint32_t j = k - 1;
		while (j > 0 && top[j - 1] < v) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = v;
		if (j == 0)
			*largest_at = i;
	}
	double s = 0.0;
	for (uint32_t i = 0; i < k; i++)
		s += top[i];
	return s;
}

float stats_head_score(struct stats_head *h, const float *x)
{
	uint32_t d = h->cfg.dim;
	if (h->cross) {
		for (uint32_t i = 0; i < d; i++)
			h->z2[i] = (x[i] - h->mean[i]) * h->inv_std[i];
		/* each row's dot product in eight float lanes the compiler vectorises, added up
		 * in double: one double sum chained through every product was most of a
		 * window's scoring, every window */
		double q = 0.0;
		for (uint32_t i = 0; i < d; i++) {
			const float *row = h->precision + (size_t)i * d;
			float lane[8] = { 0 };
			uint32_t j = 0;
			for (; j + 8 <= d; j += 8)
				for (int k = 0; k < 8; k++)
					lane[k] += row[j + k] * h->z2[j + k];
			double t = 0.0;
			for (int k = 0; k < 8; k++)
				t += lane[k];
			for (; j < d; j++)
				t += (double)row[j] * h->z2[j];
			q += t * h->z2[i];
		}
		return (float)(q / d);
	}
	if (h->cfg.rise_only)
		for (uint32_t i = 0; i < d; i++)
			h->z2[i] = (x[i] - h->mean[i]) * h->inv_std[i];
	else
		for (uint32_t i = 0; i < d; i++) {
			float z = (x[i] - h->mean[i]) * h->inv_std[i];
			h->z2[i] = z * z;
		}
	double s = 0.0;
	h->top = 0;
	if (h->k <= TOP_FEW && h->k < d) {
		s = sum_of_top_few(h->z2, d, h->k, &h->top);
	} else {
		for (uint32_t i = 1; i < d; i++) /* before the selection moves them */
			if (h->z2[i] > h->z2[h->top])
				h->top = i;
		if (h->k < d)
			select_top(h->z2, d, h->k);
		for (uint32_t i = 0; i < h->k; i++)
			s += h->z2[i];
	}
	return (float)(s / h->k);
}

void stats_head_free(struct stats_head *h)
{
	if (!h)
		return;
	free(h->sum);
	free(h->sumsq);
	free(h->mean);
	free(h->inv_std);
	free(h->z2);
	free(h->cross);
	free(h->precision);
	memset(h, 0, sizeof(*h));
}
