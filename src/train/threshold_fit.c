/* threshold_fit.c - a gamma's quantile of normal scores, or the quantile of their exponential tail. */
#include "train/threshold_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/gamma_fit.h"

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* The exponential tail over the (k+1)-th largest score, k = max(share n, THRESHOLD_TAIL_MIN). */
static int tail_fit(const double *scores, size_t n, double q, struct threshold_fit *fit,
		    struct auscult_err *err)
{
	if (n < THRESHOLD_TAIL_MIN + 1)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "tail fit: %zu scores; at least %u are needed (fit to more "
				    "recordings, or use the gamma)",
				    n, THRESHOLD_TAIL_MIN + 1);
	size_t k = (size_t)ceil(THRESHOLD_TAIL_SHARE * (double)n);
	if (k < THRESHOLD_TAIL_MIN)
		k = THRESHOLD_TAIL_MIN;
	double *sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "tail fit: out of memory");
	memcpy(sorted, scores, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_desc);
	double u = sorted[k], excess = 0.0;
	for (size_t i = 0; i < k; i++)
		excess += sorted[i] - u;
	free(sorted);
	if (!(excess > 0.0))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "tail fit: the largest %zu scores are all %g; they give no tail "
				    "to fit a threshold to",
				    k, u);
	fit->tail_start = u;
	fit->tail_mean = excess / (double)k;
	fit->tail_count = k;
	fit->threshold = u + fit->tail_mean * log((double)k / (double)n / (1.0 - q));
	if (fit->threshold < u) /* q below the tail's start: the tail says nothing there */
		fit->threshold = u;
	return AUSCULT_OK;
}

int threshold_fit(const double *scores, size_t n, enum threshold_fit_method method, double q,
		  struct threshold_fit *fit, struct auscult_err *err)
{
	memset(fit, 0, sizeof(*fit));
	if (!(q > 0.0 && q < 1.0))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "threshold quantile %g is not in (0, 1)", q);
	int rc = gamma_fit_mle(scores, n, &fit->gamma_shape, &fit->gamma_scale, err);
	if (rc != AUSCULT_OK)
		return rc;
	if (method == THRESHOLD_FIT_TAIL)
		rc = tail_fit(scores, n, q, fit, err);
	else
		fit->threshold = gamma_quantile(fit->gamma_shape, fit->gamma_scale, q);
	if (rc != AUSCULT_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		fit->above += scores[i] > fit->threshold;
	return AUSCULT_OK;
}

const char *threshold_fit_method_name(enum threshold_fit_method method)
{
	return method == THRESHOLD_FIT_TAIL ? "tail" : "gamma";
}

int threshold_fit_method_parse(const char *text, enum threshold_fit_method *method,
			       struct auscult_err *err)
{
	if (strcmp(text, "gamma") == 0)
		*method = THRESHOLD_FIT_GAMMA;
	else if (strcmp(text, "tail") == 0)
		*method = THRESHOLD_FIT_TAIL;
	else
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "'%s' is not a threshold fit (gamma or tail)", text);
	return AUSCULT_OK;
}

bool threshold_from_tail(float threshold, float gamma_shape, float gamma_scale, float q)
{
	double lo = gamma_quantile(gamma_shape, gamma_scale, nextafterf(q, 0.0f));
	double hi = gamma_quantile(gamma_shape, gamma_scale, nextafterf(q, 1.0f));
	if (!isfinite(lo) || !isfinite(hi))
		return false;
	return threshold < lo * (1.0 - 1e-5) || threshold > hi * (1.0 + 1e-5);
}
