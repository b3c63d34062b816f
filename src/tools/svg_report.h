/* svg_report.h - hand-made SVG: the evaluation report (ROC curves and score histograms), the
 * score timeline of a recording in the evidence report and a model's training curve. */
#ifndef AUSCULT_SVG_REPORT_H
#define AUSCULT_SVG_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "common/status.h"
#include "evidence/evidence_record.h"

/* One ROC curve and the figures its legend entry shows. */
struct svg_roc_series {
	const char *label; /* "id_00", "all"; escaped on output */
	const double *fpr; /* n_points false positive rates in [0, 1], non-decreasing */
	const double *tpr; /* n_points true positive rates in [0, 1] */
	size_t n_points;   /* 0: no curve (a class is missing); the legend says so */
	double auc;        /* shown in the legend (NaN: "n/a") */
	double pauc;       /* standardised pAUC at the report's max_fpr (NaN: "n/a") */
};

/* Everything the report draws. Pointers are borrowed for the duration of the call. */
struct svg_report {
	const char *title;                /* e.g. the model file's name; escaped on output */
	const struct svg_roc_series *roc; /* n_roc curves, drawn in order */
	size_t n_roc;
	const double *normal_scores; /* clip scores of the normal files */
	size_t n_normal;
	const double *anomaly_scores; /* clip scores of the anomalous files */
	size_t n_anomaly;
	double threshold; /* decision threshold: a vertical line (NaN: none) */
	double max_fpr;   /* pAUC range, shaded on the ROC plot (0: none) */
};

/*
 * Writes the report as one standalone SVG 1.1 document (no scripts, no external references):
 * title, ROC plot with the chance diagonal and a legend carrying AUC/pAUC, and a histogram of
 * normal vs anomalous scores with the threshold marked. Non-finite scores are left out of the
 * histogram. Returns AUSCULT_OK or AUSCULT_ERR_IO (write failed).
 */
int svg_report_write(FILE *out, const struct svg_report *r, struct auscult_err *err);

/*
 * Writes the report to path, atomically (an earlier file stays whole if writing fails). Returns
 * AUSCULT_OK or AUSCULT_ERR_IO with err naming the path and the system's reason.
 */
int svg_report_save(const char *path, const struct svg_report *r, struct auscult_err *err);

/* Writes s with the five XML special characters escaped (file names may hold any of them), and
 * each byte of invalid UTF-8 or control character but tab and newlines as U+FFFD, which XML
 * cannot hold at all; the same escaping serves HTML text and attribute values. */
void svg_put_escaped(FILE *out, const char *s);

/* A 1-2-5 step that splits span into about `target` intervals (axis ticks people can read). */
double svg_nice_step(double span, int target);

/* The window scores of one recording over time. Pointers are borrowed for the call. */
struct svg_timeline {
	const struct evidence_window *windows; /* in time order; NaN scores (idle) break the line */
	size_t n_windows;
	double duration_s;               /* the recording's length: the x axis */
	double span_start_s, span_end_s; /* the anomaly, shaded; end < start: none */
	double threshold;                /* a dashed line; NaN or <= 0: none */
};

/*
 * Writes the timeline as an inline <svg> element for an HTML page (no XML declaration, no
 * namespace: the HTML parser gives it): raw
 * scores in grey, smoothed in blue, the threshold dashed red, the anomaly shaded. Returns
 * AUSCULT_OK or AUSCULT_ERR_IO (the stream failed).
 */
int svg_timeline_write(FILE *out, const struct svg_timeline *t, struct auscult_err *err);

/* A model's training curve. Pointers are borrowed for the call. */
struct svg_curve {
	const float *train_loss; /* n_epochs training losses (MSE); non-finite ones are skipped */
	const float *val_loss; /* n_epochs validation losses; NaN (none held out) breaks the line */
	size_t n_epochs;       /* >= 1 */
};

/*
 * Writes the curve as an inline <svg class="training-curve"> element for an HTML page: loss
 * (MSE) on a log scale over the epochs, training in blue (polyline class "train-loss"),
 * validation in orange ("val-loss"; broken where it is NaN), a legend, the best validation
 * epoch marked. Each polyline has one point per epoch it has. Returns AUSCULT_OK or
 * AUSCULT_ERR_IO (the stream failed).
 */
int svg_curve_write(FILE *out, const struct svg_curve *c, struct auscult_err *err);

#endif
