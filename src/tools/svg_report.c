/* svg_report.c - hand-made SVG: the evaluation report (ROC curves, score histograms) and the
 * evidence report's score timelines. */
#include "tools/svg_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/atomic_file.h"
#include "common/utf8.h"

/* Canvas and panel geometry, pixels. Two square-ish panels side by side under a title. */
#define SVG_W 1000
#define SVG_H 530
#define PANEL_TOP 70
#define PANEL_H 380
#define ROC_LEFT 80
#define ROC_W 380
#define HIST_LEFT 580
#define HIST_W 380
#define HIST_BINS_MAX 30
#define HIST_BINS_MIN 8

static const char *const series_colours[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
};
#define N_COLOURS (sizeof(series_colours) / sizeof(series_colours[0]))
#define COLOUR_ALL "#222222" /* the pooled curve stands out in near-black */
#define COLOUR_NORMAL "#1f77b4"
#define COLOUR_ANOMALY "#d62728"

void svg_put_escaped(FILE *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = s ? strlen(s) : 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		size_t len = utf8_valid_len(u + i, n - i);
		if (len == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
			/* XML allows neither invalid UTF-8 nor control characters, not even as
			 * references: a page or picture with one does not open at all. */
			fputs(UTF8_REPLACEMENT, out);
			i++;
			continue;
		}
		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			fwrite(u + i, 1, len, out);
			break;
		}
		i += len;
	}
}

/* A figure for a legend: three decimals, or "n/a" when undefined. */
static void put_figure(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.3f", v);
	else
		fputs("n/a", out);
}

/* A 1-2-5 step that splits span into about `target` intervals (axis ticks people can read). */
double svg_nice_step(double span, int target)
{
	if (!(span > 0.0) || !isfinite(span))
		return 1.0;
	double raw = span / target;
	double mag = pow(10.0, floor(log10(raw)));
	double norm = raw / mag;
	double step = norm < 1.5 ? 1.0 : norm < 3.5 ? 2.0 : norm < 7.5 ? 5.0 : 10.0;
	return step * mag;
}

static void put_text(FILE *out, double x, double y, const char *anchor, int size, const char *extra,
		     const char *text)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s%s>", x, y,
		anchor, size, extra ? " " : "", extra ? extra : "");
	svg_put_escaped(out, text);
	fputs("</text>\n", out);
}

static void write_roc_panel(FILE *out, const struct svg_report *r)
{
	const double x0 = ROC_LEFT, y0 = PANEL_TOP, w = ROC_W, h = PANEL_H;
	char label[64];

	fputs("<g id=\"roc\">\n", out);
	put_text(out, x0 + w / 2, y0 - 12, "middle", 15, "font-weight=\"bold\"", "ROC curve");
	if (r->max_fpr > 0.0 && r->max_fpr < 1.0) {
		/* Shade the FPR range the pAUC covers, so its figure has a visible meaning. */
		fprintf(out,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#eeeeee\"/>\n",
			x0, y0, w * r->max_fpr, h);
		snprintf(label, sizeof(label), "pAUC range (FPR \xe2\x89\xa4 %.2g)", r->max_fpr);
		put_text(out, x0 + w * r->max_fpr + 4, y0 + 14, "start", 11, "fill=\"#777777\"",
			 label);
	}
	for (int i = 0; i <= 5; i++) {
		double v = i / 5.0;
		double gx = x0 + v * w, gy = y0 + (1.0 - v) * h;
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n"
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
			gx, y0, gx, y0 + h, x0, gy, x0 + w, gy);
		snprintf(label, sizeof(label), "%.1f", v);
		put_text(out, gx, y0 + h + 18, "middle", 12, NULL, label);
		put_text(out, x0 - 8, gy + 4, "end", 12, NULL, label);
	}
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		"stroke=\"#444444\"/>\n",
		x0, y0, w, h);
	fprintf(out,
		"<line class=\"chance\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		"stroke=\"#999999\" stroke-dasharray=\"6,4\"/>\n",
		x0, y0 + h, x0 + w, y0);
	put_text(out, x0 + w / 2, y0 + h + 42, "middle", 13, NULL, "false positive rate");
	fprintf(out,
		"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
		"transform=\"rotate(-90 %.1f %.1f)\">true positive rate</text>\n",
		x0 - 45, y0 + h / 2, x0 - 45, y0 + h / 2);

	for (size_t s = 0; s < r->n_roc; s++) {
		const struct svg_roc_series *c = &r->roc[s];
		if (c->n_points == 0)
			continue;
		int pooled = c->label && strcmp(c->label, "all") == 0;
		const char *colour = pooled ? COLOUR_ALL : series_colours[s % N_COLOURS];
		fprintf(out,
			"<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
			"stroke-linejoin=\"round\" points=\"",
			colour, pooled ? "2.5" : "1.8");
		for (size_t i = 0; i < c->n_points; i++)
			fprintf(out, "%s%.2f,%.2f", i ? " " : "", x0 + c->fpr[i] * w,
				y0 + (1.0 - c->tpr[i]) * h);
		fputs("\"/>\n", out);
	}

	/* Legend in the lower right, where a useful ROC curve leaves room. */
	const double row_h = 18, lw = 250;
	double lh = 10 + row_h * (double)(r->n_roc ? r->n_roc : 1);
	double lx = x0 + w - lw - 8, ly = y0 + h - lh - 8;
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ffffff\" "
		"fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n",
		lx, ly, lw, lh);
	if (r->n_roc == 0)
		put_text(out, lx + 8, ly + 20, "start", 12, NULL, "no curves");
	for (size_t s = 0; s < r->n_roc; s++) {
		const struct svg_roc_series *c = &r->roc[s];
		int pooled = c->label && strcmp(c->label, "all") == 0;
		const char *colour = pooled ? COLOUR_ALL : series_colours[s % N_COLOURS];
		double ry = ly + 5 + row_h * (double)s + row_h / 2;
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"3\"/>\n",
			lx + 8, ry, lx + 30, ry, c->n_points ? colour : "#bbbbbb");
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", lx + 36, ry + 4);
		svg_put_escaped(out, c->label ? c->label : "?");
		if (c->n_points == 0) {
			fputs(": one class missing, no ROC", out);
		} else {
			fputs("  AUC ", out);
			put_figure(out, c->auc);
			fputs("  pAUC ", out);
			put_figure(out, c->pauc);
		}
		fputs("</text>\n", out);
	}
	fputs("</g>\n", out);
}

static void minmax_finite(const double *v, size_t n, double *lo, double *hi)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		if (v[i] < *lo)
			*lo = v[i];
		if (v[i] > *hi)
			*hi = v[i];
	}
}

static void count_bins(const double *v, size_t n, double lo, double bin_w, int n_bins,
		       unsigned *counts)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		int b = (int)floor((v[i] - lo) / bin_w);
		if (b < 0)
			b = 0;
		if (b >= n_bins)
			b = n_bins - 1;
		counts[b]++;
	}
}

static void write_bars(FILE *out, const unsigned *counts, int n_bins, double x0, double y0,
		       double h, double bin_px, double count_px, const char *colour,
		       const char *cls)
{
	fprintf(out, "<g class=\"%s\" fill=\"%s\" fill-opacity=\"0.55\" stroke=\"%s\">\n", cls,
		colour, colour);
	for (int b = 0; b < n_bins; b++) {
		if (counts[b] == 0)
			continue;
		double bh = counts[b] * count_px;
		fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n",
			x0 + b * bin_px, y0 + h - bh, bin_px, bh);
	}
	fputs("</g>\n", out);
}

/* One legend line at (x, y): a swatch of the bars' colour and "NAME (N files)". */
static void put_legend_entry(FILE *out, double x, double y, const char *colour, const char *name,
			     size_t n_files)
{
	char label[96];
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\" fill=\"%s\" "
		"fill-opacity=\"0.55\"/>\n",
		x, y, colour);
	snprintf(label, sizeof(label), "%s (%zu file%s)", name, n_files, n_files == 1 ? "" : "s");
	put_text(out, x + 20, y + 11, "start", 12, NULL, label);
}

static void write_histogram_panel(FILE *out, const struct svg_report *r)
{
	const double x0 = HIST_LEFT, y0 = PANEL_TOP, w = HIST_W, h = PANEL_H;
	char label[96];

	fputs("<g id=\"histogram\">\n", out);
	put_text(out, x0 + w / 2, y0 - 12, "middle", 15, "font-weight=\"bold\"",
		 "Clip scores: normal vs anomalous");
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		"stroke=\"#444444\"/>\n",
		x0, y0, w, h);
	put_text(out, x0 + w / 2, y0 + h + 42, "middle", 13, NULL, "clip score");
	fprintf(out,
		"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
		"transform=\"rotate(-90 %.1f %.1f)\">files</text>\n",
		x0 - 45, y0 + h / 2, x0 - 45, y0 + h / 2);

	double lo = INFINITY, hi = -INFINITY;
	minmax_finite(r->normal_scores, r->n_normal, &lo, &hi);
	minmax_finite(r->anomaly_scores, r->n_anomaly, &lo, &hi);
	if (!isfinite(lo)) {
		put_text(out, x0 + w / 2, y0 + h / 2, "middle", 14, NULL, "no scores to show");
		fputs("</g>\n", out);
		return;
	}
	if (isfinite(r->threshold)) {
		if (r->threshold < lo)
			lo = r->threshold;
		if (r->threshold > hi)
			hi = r->threshold;
	}
	/* Axis range on whole ticks, a little wider than the data so no bar touches the frame. */
	double span = hi - lo;
	if (!(span > 0.0))
		span = fabs(lo) > 0.0 ? fabs(lo) * 0.2 : 1.0;
	double step = svg_nice_step(span, 6);
	double ax_lo = floor((lo - 0.02 * span) / step) * step;
	double ax_hi = ceil((hi + 0.02 * span) / step) * step;
	if (!(ax_hi > ax_lo))
		ax_hi = ax_lo + step;

	size_t n_all = r->n_normal + r->n_anomaly;
	int n_bins = (int)ceil(2.0 * sqrt((double)n_all));
	if (n_bins < HIST_BINS_MIN)
		n_bins = HIST_BINS_MIN;
	if (n_bins > HIST_BINS_MAX)
		n_bins = HIST_BINS_MAX;
	double bin_w = (ax_hi - ax_lo) / n_bins;
	unsigned normal_counts[HIST_BINS_MAX] = { 0 }, anomaly_counts[HIST_BINS_MAX] = { 0 };
	count_bins(r->normal_scores, r->n_normal, ax_lo, bin_w, n_bins, normal_counts);
	count_bins(r->anomaly_scores, r->n_anomaly, ax_lo, bin_w, n_bins, anomaly_counts);
	unsigned max_count = 1;
	for (int b = 0; b < n_bins; b++) {
		if (normal_counts[b] > max_count)
			max_count = normal_counts[b];
		if (anomaly_counts[b] > max_count)
			max_count = anomaly_counts[b];
	}

	/* Count axis: integer ticks, headroom for the legend. */
	double count_step = svg_nice_step(max_count, 5);
	if (count_step < 1.0)
		count_step = 1.0;
	double count_top = ceil(max_count * 1.25 / count_step) * count_step;
	double count_px = h / count_top;
	for (double c = 0; c <= count_top + 1e-9; c += count_step) {
		double gy = y0 + h - c * count_px;
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
			x0, gy, x0 + w, gy);
		snprintf(label, sizeof(label), "%.0f", c);
		put_text(out, x0 - 8, gy + 4, "end", 12, NULL, label);
	}
	double px_per_unit = w / (ax_hi - ax_lo);
	for (double v = ax_lo; v <= ax_hi + step * 1e-6; v += step) {
		double gx = x0 + (v - ax_lo) * px_per_unit;
		snprintf(label, sizeof(label), "%.4g", fabs(v) < step * 1e-9 ? 0.0 : v);
		put_text(out, gx, y0 + h + 18, "middle", 12, NULL, label);
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444444\"/>\n",
			gx, y0 + h, gx, y0 + h + 5);
	}

	double bin_px = w / n_bins;
	write_bars(out, normal_counts, n_bins, x0, y0, h, bin_px, count_px, COLOUR_NORMAL,
		   "normal");
	write_bars(out, anomaly_counts, n_bins, x0, y0, h, bin_px, count_px, COLOUR_ANOMALY,
		   "anomaly");

	if (isfinite(r->threshold)) {
		double tx = x0 + (r->threshold - ax_lo) * px_per_unit;
		fprintf(out,
			"<line class=\"threshold\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" "
			"stroke=\"#000000\" stroke-width=\"2\" stroke-dasharray=\"8,4\"/>\n",
			tx, y0, tx, y0 + h);
		snprintf(label, sizeof(label), "threshold %.4g", r->threshold);
		/* Label on the side of the line with more room. */
		int right = tx < x0 + w / 2;
		put_text(out, tx + (right ? 5 : -5), y0 + h * 0.45, right ? "start" : "end", 12,
			 "font-weight=\"bold\"", label);
	}

	/* Legend, top right. */
	double lx = x0 + w - 170, ly = y0 + 8;
	fprintf(out,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"162\" height=\"48\" fill=\"#ffffff\" "
		"fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n",
		lx, ly);
	put_legend_entry(out, lx + 8, ly + 8, COLOUR_NORMAL, "normal", r->n_normal);
	put_legend_entry(out, lx + 8, ly + 28, COLOUR_ANOMALY, "anomaly", r->n_anomaly);
	fputs("</g>\n", out);
}

int svg_report_write(FILE *out, const struct svg_report *r, struct auscult_err *err)
{
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, "
		"sans-serif\">\n",
		SVG_W, SVG_H, SVG_W, SVG_H);
	fputs("<title>", out);
	svg_put_escaped(out, r->title ? r->title : "auscult evaluation");
	fputs("</title>\n", out);
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, SVG_H);
	put_text(out, SVG_W / 2.0, 32, "middle", 18, "font-weight=\"bold\"",
		 r->title ? r->title : "auscult evaluation");
	write_roc_panel(out, r);
	write_histogram_panel(out, r);
	fputs("</svg>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return auscult_fail(err, AUSCULT_ERR_IO, "writing the SVG report failed: %s",
				    strerror(errno));
	return AUSCULT_OK;
}

int svg_report_save(const char *path, const struct svg_report *r, struct auscult_err *err)
{
	/* Under a temporary name until complete: a failure leaves an earlier report whole. */
	struct atomic_file af;
	int rc = atomic_file_open(&af, path, "the SVG report", err);
	if (rc != AUSCULT_OK)
		return rc;
	rc = svg_report_write(af.fp, r, err);
	if (rc == AUSCULT_OK)
		return atomic_file_commit(&af, err);
	atomic_file_abort(&af);
	struct auscult_err why = *err;
	return auscult_fail(err, rc, "%s: %s", path, why.msg);
}

/* ---- the score timeline of one recording (auscult report) ------------------------------------ */

#define TL_W 720
#define TL_H 170
#define TL_LEFT 56
#define TL_TOP 12
#define TL_PLOT_W (TL_W - TL_LEFT - 14)
#define TL_PLOT_H (TL_H - TL_TOP - 40)

/* One score series as polylines over the windows, broken where a score is missing (idle). */
static void put_series(FILE *out, const struct svg_timeline *t, int smoothed, double top,
		       const char *colour, const char *width)
{
	int open = 0;
	for (size_t i = 0; i < t->n_windows; i++) {
		const struct evidence_window *w = &t->windows[i];
		double v = smoothed ? w->smoothed : w->raw;
		if (!isfinite(v)) {
			if (open)
				fputs("\"/>\n", out);
			open = 0;
			continue;
		}
		double x = TL_LEFT + fmin(fmax(w->t_s / t->duration_s, 0.0), 1.0) * TL_PLOT_W;
		double y = TL_TOP + (1.0 - fmin(v / top, 1.0)) * TL_PLOT_H;
		if (!open)
			fprintf(out,
				"<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
				"stroke-linejoin=\"round\" points=\"",
				smoothed ? "smoothed" : "raw", colour, width);
		fprintf(out, "%s%.1f,%.1f", open ? " " : "", x, y);
		open = 1;
	}
	if (open)
		fputs("\"/>\n", out);
}

int svg_timeline_write(FILE *out, const struct svg_timeline *t, struct auscult_err *err)
{
	double dur = t->duration_s > 0.0 && isfinite(t->duration_s) ? t->duration_s : 1.0;
	struct svg_timeline tt = *t;
	tt.duration_s = dur;
	double top = isfinite(t->threshold) && t->threshold > 0.0 ? t->threshold * 1.2 : 0.0;
	for (size_t i = 0; i < t->n_windows; i++) {
		if (isfinite(t->windows[i].smoothed) && t->windows[i].smoothed * 1.1 > top)
			top = t->windows[i].smoothed * 1.1;
		if (isfinite(t->windows[i].raw) && t->windows[i].raw * 1.1 > top)
			top = t->windows[i].raw * 1.1;
	}
	if (!(top > 0.0) || !isfinite(top))
		top = 1.0;
	char label[64];
	fprintf(out,
		"<svg class=\"timeline\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, "
		"sans-serif\">\n",
		TL_W, TL_H, TL_W, TL_H);
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", TL_W, TL_H);
	if (t->span_end_s >= t->span_start_s) {
		double x0 = TL_LEFT + fmin(fmax(t->span_start_s / dur, 0.0), 1.0) * TL_PLOT_W;
		double x1 = TL_LEFT + fmin(fmax(t->span_end_s / dur, 0.0), 1.0) * TL_PLOT_W;
		fprintf(out,
			"<rect class=\"span\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			"fill=\"#f6d5d5\"/>\n",
			x0, TL_TOP, fmax(x1 - x0, 1.0), TL_PLOT_H);
	}
	double step = svg_nice_step(dur, 8);
	for (double v = 0.0; v <= dur + step * 1e-9; v += step) {
		double gx = TL_LEFT + v / dur * TL_PLOT_W;
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#dddddd\"/>\n",
			gx, TL_TOP, gx, TL_TOP + TL_PLOT_H);
		snprintf(label, sizeof(label), "%g", v);
		put_text(out, gx, TL_TOP + TL_PLOT_H + 16, "middle", 11, NULL, label);
	}
	double ystep = svg_nice_step(top, 4);
	for (double v = 0.0; v <= top; v += ystep) {
		double gy = TL_TOP + (1.0 - v / top) * TL_PLOT_H;
		fprintf(out,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n",
			TL_LEFT, gy, TL_LEFT + TL_PLOT_W, gy);
		snprintf(label, sizeof(label), "%g", v);
		put_text(out, TL_LEFT - 6, gy + 4, "end", 11, NULL, label);
	}
	fprintf(out,
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#444444\"/>\n",
		TL_LEFT, TL_TOP, TL_PLOT_W, TL_PLOT_H);
	put_text(out, TL_LEFT + TL_PLOT_W / 2.0, TL_H - 4, "middle", 12, NULL, "time, s");
	put_series(out, &tt, 0, top, "#bbbbbb", "1.2");
	put_series(out, &tt, 1, top, COLOUR_NORMAL, "2");
	if (isfinite(t->threshold) && t->threshold > 0.0) {
		double gy = TL_TOP + (1.0 - t->threshold / top) * TL_PLOT_H;
		fprintf(out,
			"<line class=\"threshold\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"stroke=\"%s\" stroke-dasharray=\"6,4\"/>\n",
			TL_LEFT, gy, TL_LEFT + TL_PLOT_W, gy, COLOUR_ANOMALY);
		snprintf(label, sizeof(label), "threshold %.3g", t->threshold);
		put_text(out, TL_LEFT + TL_PLOT_W - 4, gy - 4, "end", 11,
			 "fill=\"" COLOUR_ANOMALY "\"", label);
	}
	fputs("</svg>\n", out);
	if (ferror(out))
		return auscult_fail(err, AUSCULT_ERR_IO, "writing the score timeline failed: %s",
				    strerror(errno));
	return AUSCULT_OK;
}

/* ---- a model's training curve (auscult report --model) ---------------------------------------- */

#define CV_W 720
#define CV_H 260
#define CV_LEFT 64
#define CV_TOP 14
#define CV_PLOT_W (CV_W - CV_LEFT - 16)
#define CV_PLOT_H (CV_H - CV_TOP - 46)
#define COLOUR_VAL "#ff7f0e"

/* The log10 range of the positive finite losses, widened so that a flat curve still shows. */
static void curve_range(const struct svg_curve *c, double *lo, double *hi)
{
	double vmin = INFINITY, vmax = -INFINITY;
	for (size_t e = 0; e < c->n_epochs; e++) {
		const float v[2] = { c->train_loss[e], c->val_loss[e] };
		for (int k = 0; k < 2; k++) {
			if (!(v[k] > 0.0f) || !isfinite(v[k]))
				continue;
			vmin = fmin(vmin, v[k]);
			vmax = fmax(vmax, v[k]);
		}
	}
	if (!isfinite(vmin))
		vmin = vmax = 1.0;
	*lo = log10(vmin);
	*hi = log10(vmax);
	if (*hi - *lo < 0.3) {
		double mid = (*hi + *lo) / 2.0;
		*lo = mid - 0.15;
		*hi = mid + 0.15;
	}
	double pad = 0.05 * (*hi - *lo);
	*lo -= pad;
	*hi += pad;
}

static double curve_x(size_t epoch_index, size_t n_epochs)
{
	if (n_epochs < 2)
		return CV_LEFT + CV_PLOT_W / 2.0;
	return CV_LEFT + (double)epoch_index / (double)(n_epochs - 1) * CV_PLOT_W;
}

/* Zero losses (a perfect fit) sit on the axis's floor rather than at minus infinity. */
static double curve_y(double v, double lo, double hi)
{
	double lv = v > 0.0 ? log10(v) : lo;
	lv = fmin(fmax(lv, lo), hi);
	return CV_TOP + (hi - lv) / (hi - lo) * CV_PLOT_H;
}

/* One loss series as polylines, broken where a value is not finite. */
static void put_curve_series(FILE *out, const float *v, size_t n, double lo, double hi,
			     const char *cls, const char *colour)
{
	int open = 0;
	for (size_t e = 0; e < n; e++) {
		if (!isfinite(v[e])) {
			if (open)
				fputs("\"/>\n", out);
			open = 0;
			continue;
		}
		if (!open)
			fprintf(out,
				"<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
				"stroke-linejoin=\"round\" points=\"",
				cls, colour);
		fprintf(out, "%s%.1f,%.1f", open ? " " : "", curve_x(e, n), curve_y(v[e], lo, hi));
		open = 1;
	}
	if (open)
		fputs("\"/>\n", out);
	/* A few epochs are easier to read as dots on the line (one epoch has no line at all). */
	for (size_t e = 0; n <= 30 && e < n; e++)
		if (isfinite(v[e]))
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
				curve_x(e, n), curve_y(v[e], lo, hi), colour);
}

/* A grid line and label at loss t, in [10^lo, 10^hi]. */
static void put_curve_tick(FILE *out, double t, double lo, double hi)
{
	char label[64];
	double gy = curve_y(t, lo, hi);
	fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n",
		CV_LEFT, gy, CV_LEFT + CV_PLOT_W, gy);
	snprintf(label, sizeof(label), "%.3g", t);
	put_text(out, CV_LEFT - 6, gy + 4, "end", 11, NULL, label);
}

static void put_curve_axes(FILE *out, size_t n, double lo, double hi)
{
	char label[64];
	double span = hi - lo;
	if (span < 1.0) {
		/* Within a decade, evenly spaced values read better than powers of ten. */
		double vlo = pow(10.0, lo), vhi = pow(10.0, hi);
		double vstep = svg_nice_step(vhi - vlo, 5);
		for (double t = ceil(vlo / vstep) * vstep; t <= vhi; t += vstep)
			put_curve_tick(out, t, lo, hi);
	} else {
		/* Over a few decades 1-2-5, over more the decades alone. */
		static const double mantissas[] = { 1.0, 2.0, 5.0 };
		for (int k = (int)floor(lo); k <= (int)ceil(hi); k++)
			for (int j = 0; j < (span > 3.0 ? 1 : 3); j++) {
				double t = mantissas[j] * pow(10.0, k);
				if (log10(t) >= lo && log10(t) <= hi)
					put_curve_tick(out, t, lo, hi);
			}
	}
	double step = n > 1 ? svg_nice_step((double)(n - 1), 8) : 1.0;
	if (step < 1.0)
		step = 1.0;
	for (double v = 0.0; v <= (double)n + 1e-9; v += step) {
		size_t epoch = v < 1.0 ? 1 : (size_t)v;
		if (v >= 1.0 && epoch == 1)
			continue; /* 1 is drawn at v = 0 */
		double gx = curve_x(epoch - 1, n);
		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#dddddd\"/>\n",
			gx, CV_TOP, gx, CV_TOP + CV_PLOT_H);
		snprintf(label, sizeof(label), "%zu", epoch);
		put_text(out, gx, CV_TOP + CV_PLOT_H + 16, "middle", 11, NULL, label);
	}
	fprintf(out,
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#444444\"/>\n",
		CV_LEFT, CV_TOP, CV_PLOT_W, CV_PLOT_H);
	put_text(out, CV_LEFT + CV_PLOT_W / 2.0, CV_H - 8, "middle", 12, NULL, "epoch");
	fprintf(out,
		"<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
		"transform=\"rotate(-90 16 %.1f)\">loss (MSE)</text>\n",
		CV_TOP + CV_PLOT_H / 2.0, CV_TOP + CV_PLOT_H / 2.0);
}

int svg_curve_write(FILE *out, const struct svg_curve *c, struct auscult_err *err)
{
	size_t n = c->n_epochs;
	double lo, hi;
	curve_range(c, &lo, &hi);
	fprintf(out,
		"<svg class=\"training-curve\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"DejaVu Sans, Arial, sans-serif\">\n",
		CV_W, CV_H, CV_W, CV_H);
	fputs("<title>training and validation loss per epoch</title>\n", out);
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", CV_W, CV_H);
	put_curve_axes(out, n, lo, hi);
	size_t best = n, n_val = 0;
	for (size_t e = 0; e < n; e++) {
		if (isnan(c->val_loss[e]))
			continue;
		n_val++;
		if (best == n || c->val_loss[e] < c->val_loss[best])
			best = e;
	}
	if (best < n) {
		double gx = curve_x(best, n);
		fprintf(out,
			"<line class=\"best-val\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"%s\" stroke-dasharray=\"3,3\"/>\n",
			gx, CV_TOP, gx, CV_TOP + CV_PLOT_H, COLOUR_VAL);
	}
	put_curve_series(out, c->train_loss, n, lo, hi, "train-loss", COLOUR_NORMAL);
	put_curve_series(out, c->val_loss, n, lo, hi, "val-loss", COLOUR_VAL);

	/* Legend, top right: losses fall, so the upper right is the emptiest corner. */
	char label[96];
	double lx = CV_LEFT + CV_PLOT_W - 238, ly = CV_TOP + 8;
	fprintf(out,
		"<g class=\"legend\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"230\" height=\"44\" "
		"fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n",
		lx, ly);
	fprintf(out,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-width=\"3\"/>\n",
		lx + 8, ly + 14, lx + 30, ly + 14, COLOUR_NORMAL);
	put_text(out, lx + 36, ly + 18, "start", 12, NULL, "training loss");
	fprintf(out,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-width=\"3\"/>\n",
		lx + 8, ly + 32, lx + 30, ly + 32, n_val ? COLOUR_VAL : "#bbbbbb");
	if (best < n)
		snprintf(label, sizeof(label), "validation loss (best: epoch %zu)", best + 1);
	else
		snprintf(label, sizeof(label), "validation loss: none held out");
	put_text(out, lx + 36, ly + 36, "start", 12, NULL, label);
	fputs("</g>\n</svg>\n", out);
	if (ferror(out))
		return auscult_fail(err, AUSCULT_ERR_IO, "writing the training curve failed: %s",
				    strerror(errno));
	return AUSCULT_OK;
}
