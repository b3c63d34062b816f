/* metrics.h - ROC, AUC, standardised pAUC and confusion counts, as scikit-learn computes them. */
#ifndef AUSCULT_METRICS_H
#define AUSCULT_METRICS_H

#include <stddef.h>

/*
 * Conventions shared by every function here: scores are "higher = more anomalous"; labels are 1
 * for an anomaly and 0 for a normal clip (any non-zero label counts as an anomaly). The inputs are
 * read only and may be NULL when n == 0. A NaN score makes a ranking meaningless, so the AUC
 * functions return NaN and metrics_roc returns 0 when one is present. The functions allocate a
 * sort buffer of n (score, label) pairs and free it before returning (evaluation-time code, not
 * a hot path); if that allocation fails they return NaN / 0. Thread-safe (no shared state).
 */

/*
 * ROC AUC of scores (higher = more anomalous) with labels (1 anomaly, 0 normal); ties count 1/2
 * (Mann-Whitney). NaN if either class is empty.
 */
double metrics_auc(const double *scores, const int *labels, size_t n);

/*
 * Partial AUC up to max_fpr, standardised exactly like scikit-learn's roc_auc_score(max_fpr=...)
 * (McClish correction: 0.5 * (1 + (pauc - min_area) / (max_area - min_area)), with
 * min_area = 0.5*max_fpr^2, max_area = max_fpr, and the ROC interpolated linearly at max_fpr;
 * ROC built as sklearn does, ties grouped). max_fpr == 1 gives the plain AUC, as in sklearn.
 * NaN if either class is empty or max_fpr is outside (0, 1]. DCASE 2020 Task 2 uses max_fpr 0.1.
 */
double metrics_pauc(const double *scores, const int *labels, size_t n, double max_fpr);

/*
 * ROC points (fpr, tpr) as sklearn's roc_curve with drop_intermediate=false: the point (0, 0),
 * then one point per distinct score from the highest down (tied scores form one point, so a tie
 * between classes is a diagonal segment). fpr and tpr are caller-provided arrays of n + 1.
 * Returns the number of points written (2..n+1), or 0 when a class is empty, a score is NaN or
 * the sort buffer cannot be allocated (nothing is written then).
 */
size_t metrics_roc(const double *scores, const int *labels, size_t n, double *fpr, double *tpr);

/*
 * How far the AUC could move with other files of the same machine: the level (e.g. 0.95)
 * interval of metrics_auc over `draws` bootstrap resamples, each class drawn with replacement at
 * its own size (a stratified bootstrap), from a fixed seed (the same inputs give the same
 * interval). 0 with *lo and *hi set; -1 (both NaN) when a class is empty, a score is NaN, draws
 * is below 100, level is outside (0, 1) or memory runs out.
 */
int metrics_auc_interval(const double *scores, const int *labels, size_t n, unsigned draws,
			 double level, double *lo, double *hi);

/* Counts and rates at one decision threshold. */
struct confusion {
	size_t tp, fp, tn, fn;
	double precision; /* tp / (tp + fp); 0 when nothing is flagged (sklearn's zero_division) */
	double recall;    /* tp / (tp + fn); 0 when there are no anomalies */
	double f1;        /* harmonic mean of the two; 0 when both are 0 */
};

/* Precision, recall, F1 at a threshold (score > threshold = anomaly). Never allocates. */
void metrics_confusion(const double *scores, const int *labels, size_t n, double threshold,
		       struct confusion *out);

#endif
