/* metrics.c - ROC, AUC, standardised pAUC and confusion counts, as scikit-learn computes them. */
#include "train/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

struct scored {
	double score;
	int anomaly; /* 1 or 0 */
};

/* Descending by score; equal scores compare equal so that they can be grouped afterwards. */
static int scored_cmp_desc(const void *a, const void *b)
{
	double sa = ((const struct scored *)a)->score;
	double sb = ((const struct scored *)b)->score;
	return (sa < sb) - (sa > sb);
}

/*
 * Copies and sorts the pairs, highest score first, and counts the classes. Returns NULL (and
 * nothing to free) when n == 0, a score is NaN, a class is empty or the allocation fails: every
 * caller then answers "undefined".
 */
static struct scored *sort_scored(const double *scores, const int *labels, size_t n, size_t *n_pos,
				  size_t *n_neg)
{
	*n_pos = 0;
	*n_neg = 0;
	if (n == 0 || !scores || !labels)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (isnan(scores[i]))
			return NULL;
		if (labels[i])
			(*n_pos)++;
		else
			(*n_neg)++;
	}
	if (*n_pos == 0 || *n_neg == 0)
		return NULL;
	struct scored *s = malloc(n * sizeof(*s));
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[i].score = scores[i];
		s[i].anomaly = labels[i] ? 1 : 0;
	}
	qsort(s, n, sizeof(*s), scored_cmp_desc);
	return s;
}

/*
 * Advances over one group of equal scores starting at *i and adds its members to the running
 * true/false positive counts: sklearn's _binary_clf_curve emits one ROC point per distinct score.
 */
static void take_group(const struct scored *s, size_t n, size_t *i, size_t *tps, size_t *fps)
{
	double v = s[*i].score;
	while (*i < n && s[*i].score == v) {
		if (s[*i].anomaly)
			(*tps)++;
		else
			(*fps)++;
		(*i)++;
	}
}

double metrics_auc(const double *scores, const int *labels, size_t n)
{
	size_t n_pos, n_neg;
	struct scored *s = sort_scored(scores, labels, n, &n_pos, &n_neg);
	if (!s)
		return NAN;
	/* Mann-Whitney U counted per group: each normal in a group is outranked by every anomaly
	 * above the group and ties with the group's anomalies (half a win each). Counts stay exact
	 * integers-and-halves in a double up to 2^52 pairs. */
	double wins = 0.0;
	size_t tps = 0, fps = 0, i = 0;
	while (i < n) {
		size_t tps0 = tps, fps0 = fps;
		take_group(s, n, &i, &tps, &fps);
		double group_pos = (double)(tps - tps0);
		double group_neg = (double)(fps - fps0);
		wins += group_neg * ((double)tps0 + 0.5 * group_pos);
	}
	free(s);
	return wins / ((double)n_pos * (double)n_neg);
}

double metrics_pauc(const double *scores, const int *labels, size_t n, double max_fpr)
{
	if (!(max_fpr > 0.0 && max_fpr <= 1.0))
		return NAN;
	if (max_fpr == 1.0)
		return metrics_auc(scores, labels, n);
	size_t n_pos, n_neg;
	struct scored *s = sort_scored(scores, labels, n, &n_pos, &n_neg);
	if (!s)
		return NAN;
	/* Trapezoids along the ROC, as sklearn's auc(), over every point with fpr <= max_fpr, then
	 * one last trapezoid to the point interpolated linearly at max_fpr on the segment that
	 * crosses it (sklearn: searchsorted(fpr, max_fpr, "right") and np.interp). Vertical steps
	 * add no area, so which of several points at fpr == max_fpr is used does not matter. */
	double area = 0.0;
	double f0 = 0.0, t0 = 0.0;
	size_t tps = 0, fps = 0, i = 0;
	while (i < n) {
		take_group(s, n, &i, &tps, &fps);
		double f1 = (double)fps / (double)n_neg;
		double t1 = (double)tps / (double)n_pos;
		if (f1 > max_fpr) {
			double t_at = t0 + (max_fpr - f0) * (t1 - t0) / (f1 - f0);
			area += (max_fpr - f0) * (t0 + t_at) / 2.0;
			break;
		}
		area += (f1 - f0) * (t0 + t1) / 2.0;
		f0 = f1;
		t0 = t1;
	}
	free(s);
	/* The last point is (1, 1) and max_fpr < 1, so the loop always ended on the crossing. */
	double min_area = 0.5 * max_fpr * max_fpr; /* the chance diagonal's area */
	double max_area = max_fpr;                 /* a perfect detector's area */
	return 0.5 * (1.0 + (area - min_area) / (max_area - min_area));
}

size_t metrics_roc(const double *scores, const int *labels, size_t n, double *fpr, double *tpr)
{
	size_t n_pos, n_neg;
	struct scored *s = sort_scored(scores, labels, n, &n_pos, &n_neg);
	if (!s || !fpr || !tpr) {
		free(s);
		return 0;
	}
	size_t count = 0;
	fpr[count] = 0.0;
	tpr[count] = 0.0;
	count++;
	size_t tps = 0, fps = 0, i = 0;
	while (i < n) {
		take_group(s, n, &i, &tps, &fps);
		fpr[count] = (double)fps / (double)n_neg;
		tpr[count] = (double)tps / (double)n_pos;
		count++;
	}
	free(s);
	return count;
}

void metrics_confusion(const double *scores, const int *labels, size_t n, double threshold,
		       struct confusion *out)
{
	struct confusion c = { 0 };
	for (size_t i = 0; i < n; i++) {
		/* A NaN score is never "> threshold": it counts as not flagged. */
		int flagged = scores[i] > threshold;
		if (labels[i]) {
			if (flagged)
				c.tp++;
			else
				c.fn++;
		} else {
			if (flagged)
				c.fp++;
			else
				c.tn++;
		}
	}
	c.precision = c.tp + c.fp ? (double)c.tp / (double)(c.tp + c.fp) : 0.0;
	c.recall = c.tp + c.fn ? (double)c.tp / (double)(c.tp + c.fn) : 0.0;
	c.f1 = c.precision + c.recall > 0.0
		       ? 2.0 * c.precision * c.recall / (c.precision + c.recall)
		       : 0.0;
	*out = c;
}

/* splitmix64: a good stream from a fixed seed, the same on every machine. */
static uint64_t next_u64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int metrics_auc_interval(const double *scores, const int *labels, size_t n, unsigned draws,
			 double level, double *lo, double *hi)
{
	*lo = *hi = NAN;
	size_t n_pos = 0, n_neg = 0;
	if (draws < 100 || !(level > 0.0 && level < 1.0) || n == 0 || !scores || !labels)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (isnan(scores[i]))
			return -1;
		n_pos += labels[i] != 0;
	}
	n_neg = n - n_pos;
	if (n_pos == 0 || n_neg == 0)
		return -1;
	/* each class's indices, and a resample's scores and labels (anomalies first) */
	size_t *pos = malloc(n_pos * sizeof(size_t)), *neg = malloc(n_neg * sizeof(size_t));
	double *s = malloc(n * sizeof(double)), *aucs = malloc(draws * sizeof(double));
	int *l = malloc(n * sizeof(int));
	int rc = -1;
	if (!pos || !neg || !s || !aucs || !l)
		goto done;
	for (size_t i = 0, p = 0, q = 0; i < n; i++) {
		if (labels[i])
			pos[p++] = i;
		else
			neg[q++] = i;
	}
	uint64_t state = 0xA0C0FFEEull;
	for (unsigned d = 0; d < draws; d++) {
		for (size_t i = 0; i < n_pos; i++) {
			s[i] = scores[pos[next_u64(&state) % n_pos]];
			l[i] = 1;
		}
		for (size_t i = 0; i < n_neg; i++) {
			s[n_pos + i] = scores[neg[next_u64(&state) % n_neg]];
			l[n_pos + i] = 0;
		}
		aucs[d] = metrics_auc(s, l, n);
		if (isnan(aucs[d]))
			goto done;
	}
	qsort(aucs, draws, sizeof(double), cmp_double);
	double tail = (1.0 - level) / 2.0;
	size_t i_lo = (size_t)floor(tail * draws), i_hi = (size_t)ceil((1.0 - tail) * draws) - 1;
	*lo = aucs[i_lo];
	*hi = aucs[i_hi < draws ? i_hi : draws - 1];
	rc = 0;
done:
	free(pos);
	free(neg);
	free(s);
	free(aucs);
	free(l);
	return rc;
}
