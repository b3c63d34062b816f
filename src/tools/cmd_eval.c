/* cmd_eval.c - `auscult eval`: AUC, pAUC and threshold figures on a DCASE-named labelled folder. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/autoencoder.h"
#include "model/clip_scorer.h"
#include "model/metrics.h"
#include "model/model.h"
#include "model/model_file.h"
#include "tools/commands.h"
#include "tools/svg_report.h"

#define EVAL_MAX_BATCH 256
#define EVAL_MAX_FPR 0.1 /* DCASE 2020 Task 2's pAUC range */
#define EVAL_ID_MAX 16

static void eval_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult eval --model MODEL [--threshold X] [--svg FILE] [--json] DIR\n"
		"\n"
		"Scores the DCASE-named recordings in DIR/test/ (or in DIR itself, recursively, when\n"
		"it has no test/ folder): normal_id_XX_*.wav and anomaly_id_XX_*.wav, and prints per\n"
		"machine id and overall: file counts, ROC AUC, pAUC (standardised, FPR up to 0.1, as\n"
		"DCASE 2020 Task 2) and precision/recall/F1 at the model's threshold.\n"
		"\n"
		"  --model MODEL   model file written by `auscult train` (.am)\n"
		"  --threshold X   decide against X instead of the model's stored threshold\n"
		"  --svg FILE      also write a report: ROC curves and score histograms\n"
		"  --json          print the figures as one JSON object instead of a table\n"
		"\n"
		"Evaluate on files the model was not trained on: it has seen its training files.\n");
}

struct eval_clip {
	const char *path; /* borrowed from the clip list */
	int anomaly;      /* 1: anomaly_id_..., 0: normal_id_... */
	char id[EVAL_ID_MAX];
	double score;
	bool scored;
};

/* The figures of one group of clips (a machine id, or all of them). */
struct eval_group {
	char label[EVAL_ID_MAX + 4]; /* "id_00" or "all" */
	const char *id;              /* machine id, NULL for the pooled group */
	size_t n, n_normal, n_anomaly;
	double auc, pauc;            /* NaN when a class is missing */
	struct confusion conf;
	size_t n_roc;
	double *fpr, *tpr; /* n_roc points, owned */
	double *scores;    /* n, owned */
	int *labels;       /* n, owned */
};

static void json_put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void json_put_number(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.9g", v);
	else
		fputs("null", out);
}

static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t len = strlen(name);
	const char *arg = argv[*i];
	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++(*i)];
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/*
 * Reads the label and machine id from a DCASE 2020 development-set name:
 * normal_id_00_00000012.wav, anomaly_id_04_00000003.wav. False for any other name.
 */
static bool parse_dcase_name(const char *path, int *anomaly, char *id)
{
	const char *name = base_name(path);
	const char *p;
	if (strncmp(name, "normal_id_", 10) == 0) {
		*anomaly = 0;
		p = name + 10;
	} else if (strncmp(name, "anomaly_id_", 11) == 0) {
		*anomaly = 1;
		p = name + 11;
	} else {
		return false;
	}
	size_t len = 0;
	while (p[len] && p[len] != '_' && p[len] != '.') {
		char c = p[len];
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z');
		if (!alnum || len + 1 >= EVAL_ID_MAX)
			return false;
		len++;
	}
	if (len == 0 || p[len] != '_')
		return false;
	memcpy(id, p, len);
	id[len] = '\0';
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void group_free(struct eval_group *g)
{
	free(g->fpr);
	free(g->tpr);
	free(g->scores);
	free(g->labels);
	memset(g, 0, sizeof(*g));
}

/* Gathers the scored clips of one machine id (all of them for id NULL) and computes figures. */
static int group_compute(struct eval_group *g, const char *id, const struct eval_clip *clips,
			 size_t n_clips, double threshold)
{
	memset(g, 0, sizeof(*g));
	g->id = id;
	snprintf(g->label, sizeof(g->label), id ? "id_%s" : "all", id ? id : "");
	g->scores = malloc((n_clips ? n_clips : 1) * sizeof(double));
	g->labels = malloc((n_clips ? n_clips : 1) * sizeof(int));
	g->fpr = malloc((n_clips + 1) * sizeof(double));
	g->tpr = malloc((n_clips + 1) * sizeof(double));
	if (!g->scores || !g->labels || !g->fpr || !g->tpr)
		return AUSCULT_ERR_NOMEM;
	for (size_t i = 0; i < n_clips; i++) {
		if (!clips[i].scored || (id && strcmp(clips[i].id, id) != 0))
			continue;
		g->scores[g->n] = clips[i].score;
		g->labels[g->n] = clips[i].anomaly;
		if (clips[i].anomaly)
			g->n_anomaly++;
		else
			g->n_normal++;
		g->n++;
	}
	g->auc = metrics_auc(g->scores, g->labels, g->n);
	g->pauc = metrics_pauc(g->scores, g->labels, g->n, EVAL_MAX_FPR);
	g->n_roc = metrics_roc(g->scores, g->labels, g->n, g->fpr, g->tpr);
	metrics_confusion(g->scores, g->labels, g->n, threshold, &g->conf);
	/* Both classes present but no figures: only an allocation inside metrics can do that. */
	if (g->n_normal && g->n_anomaly && (isnan(g->auc) || g->n_roc == 0))
		return AUSCULT_ERR_NOMEM;
	return AUSCULT_OK;
}

/* Precision, recall and F1; NaN where undefined (nothing flagged; no anomalies; no anomalies). */
static void group_rates(const struct eval_group *g, double *precision, double *recall,
			double *f1)
{
	const struct confusion *c = &g->conf;
	*precision = c->tp + c->fp ? c->precision : NAN;
	*recall = c->tp + c->fn ? c->recall : NAN;
	/* F1 is about finding anomalies: without any in the group it says nothing. */
	size_t f1_den = 2 * c->tp + c->fp + c->fn;
	*f1 = c->tp + c->fn ? 2.0 * (double)c->tp / (double)f1_den : NAN;
}

static void put_cell(double v, int width, int decimals)
{
	if (isfinite(v))
		printf(" %*.*f", width, decimals, v);
	else
		printf(" %*s", width, "-");
}

static void print_table(const struct eval_group *groups, size_t n_groups, const char *model_path,
			double threshold, const char *folder, size_t n_scored, size_t n_failed)
{
	printf("model     %s (threshold %.6g)\n", model_path, threshold);
	printf("folder    %s: %zu file%s scored", folder, n_scored, n_scored == 1 ? "" : "s");
	if (n_failed)
		printf(", %zu could not be scored (see above)", n_failed);
	printf("\n\n%-10s %6s %7s %7s %7s %9s %7s %7s\n", "machine", "normal", "anomaly", "AUC",
	       "pAUC", "precision", "recall", "F1");
	for (size_t i = 0; i < n_groups; i++) {
		const struct eval_group *g = &groups[i];
		double p, r, f;
		group_rates(g, &p, &r, &f);
		printf("%-10s %6zu %7zu", g->label, g->n_normal, g->n_anomaly);
		put_cell(g->auc, 7, 4);
		put_cell(g->pauc, 7, 4);
		put_cell(p, 9, 3);
		put_cell(r, 7, 3);
		put_cell(f, 7, 3);
		printf("\n");
	}
	printf("\npAUC: standardised partial AUC over false positive rates 0..%.2g (DCASE 2020 "
	       "Task 2).\nprecision/recall/F1: score > threshold counts as anomaly.\n",
	       EVAL_MAX_FPR);
	for (size_t i = 0; i < n_groups; i++) {
		const struct eval_group *g = &groups[i];
		if (g->n_anomaly == 0)
			printf("%s: no anomalous files: AUC, pAUC and recall need anomaly_id_* "
			       "files too\n",
			       g->label);
		else if (g->n_normal == 0)
			printf("%s: no normal files: AUC and pAUC need normal_id_* files too\n",
			       g->label);
		if (g->conf.tp + g->conf.fp == 0 && g->n > 0)
			printf("%s: no file scored above the threshold, so precision is undefined\n",
			       g->label);
	}
}

static void json_group(FILE *out, const struct eval_group *g)
{
	double p, r, f;
	group_rates(g, &p, &r, &f);
	fprintf(out, "{");
	if (g->id) {
		fprintf(out, "\"machine_id\": ");
		json_put_string(out, g->id);
		fprintf(out, ", ");
	}
	fprintf(out, "\"n_normal\": %zu, \"n_anomaly\": %zu, \"auc\": ", g->n_normal,
		g->n_anomaly);
	json_put_number(out, g->auc);
	fprintf(out, ", \"pauc\": ");
	json_put_number(out, g->pauc);
	fprintf(out, ", \"tp\": %zu, \"fp\": %zu, \"tn\": %zu, \"fn\": %zu, \"precision\": ",
		g->conf.tp, g->conf.fp, g->conf.tn, g->conf.fn);
	json_put_number(out, p);
	fprintf(out, ", \"recall\": ");
	json_put_number(out, r);
	fprintf(out, ", \"f1\": ");
	json_put_number(out, f);
	fprintf(out, "}");
}

static void print_json(const struct eval_group *groups, size_t n_groups, const char *model_path,
		       double threshold, const char *folder, const struct eval_clip *clips,
		       size_t n_clips, size_t n_failed)
{
	printf("{\"model\": ");
	json_put_string(stdout, model_path);
	printf(", \"threshold\": ");
	json_put_number(stdout, threshold);
	printf(", \"max_fpr\": %.2g, \"folder\": ", EVAL_MAX_FPR);
	json_put_string(stdout, folder);
	printf(", \"files_failed\": %zu,\n \"machines\": [", n_failed);
	/* The last group is the pooled one. */
	for (size_t i = 0; i + 1 < n_groups; i++) {
		printf(i ? ",\n  " : "\n  ");
		json_group(stdout, &groups[i]);
	}
	printf("\n ],\n \"overall\": ");
	json_group(stdout, &groups[n_groups - 1]);
	printf(",\n \"files\": [");
	size_t k = 0;
	for (size_t i = 0; i < n_clips; i++) {
		if (!clips[i].scored)
			continue;
		printf(k++ ? ",\n  {\"file\": " : "\n  {\"file\": ");
		json_put_string(stdout, clips[i].path);
		printf(", \"label\": \"%s\", \"machine_id\": ",
		       clips[i].anomaly ? "anomaly" : "normal");
		json_put_string(stdout, clips[i].id);
		printf(", \"score\": ");
		json_put_number(stdout, clips[i].score);
		printf("}");
	}
	printf("\n ]}\n");
}

static int write_svg(const char *svg_path, const char *model_path, const struct eval_group *groups,
		     size_t n_groups, double threshold, struct auscult_err *err)
{
	const struct eval_group *all = &groups[n_groups - 1];
	/* One curve per machine id, plus the pooled curve when there are several ids. */
	size_t n_series = n_groups == 2 ? 1 : n_groups;
	struct svg_roc_series *roc = calloc(n_series, sizeof(*roc));
	double *normal = malloc((all->n ? all->n : 1) * sizeof(double));
	double *anomaly = malloc((all->n ? all->n : 1) * sizeof(double));
	int rc = AUSCULT_ERR_NOMEM;
	if (!roc || !normal || !anomaly) {
		auscult_fail(err, rc, "%s: out of memory for the SVG report", svg_path);
		goto done;
	}
	for (size_t i = 0; i < n_series; i++) {
		const struct eval_group *g = &groups[i];
		roc[i] = (struct svg_roc_series){ .label = g->label, .fpr = g->fpr, .tpr = g->tpr,
						  .n_points = g->n_roc, .auc = g->auc,
						  .pauc = g->pauc };
	}
	size_t n_normal = 0, n_anomaly = 0;
	for (size_t i = 0; i < all->n; i++) {
		if (all->labels[i])
			anomaly[n_anomaly++] = all->scores[i];
		else
			normal[n_normal++] = all->scores[i];
	}
	char title[512];
	snprintf(title, sizeof(title), "auscult eval: %s (%zu normal, %zu anomalous file%s)",
		 base_name(model_path), n_normal, n_anomaly, n_anomaly == 1 ? "" : "s");
	struct svg_report report = {
		.title = title,
		.roc = roc,
		.n_roc = n_series,
		.normal_scores = normal,
		.n_normal = n_normal,
		.anomaly_scores = anomaly,
		.n_anomaly = n_anomaly,
		.threshold = threshold,
		.max_fpr = EVAL_MAX_FPR,
	};
	rc = svg_report_save(svg_path, &report, err);
done:
	free(roc);
	free(normal);
	free(anomaly);
	return rc;
}

int cmd_eval(int argc, char **argv)
{
	const char *model_path = NULL, *svg_path = NULL, *threshold_text = NULL, *dir = NULL;
	bool json = false;
	struct model m = { 0 };
	struct autoencoder ae = { 0 };
	struct clip_list list = { 0 };
	struct eval_clip *clips = NULL;
	const char **ids = NULL;
	struct eval_group *groups = NULL;
	size_t n_groups = 0, n_clips = 0;
	char *folder = NULL;
	struct auscult_err err;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			eval_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if ((v = option_value(argc, argv, &i, "--model", &missing))) {
			model_path = v;
		} else if ((v = option_value(argc, argv, &i, "--svg", &missing))) {
			svg_path = v;
		} else if ((v = option_value(argc, argv, &i, "--threshold", &missing))) {
			threshold_text = v;
		} else if (missing) {
			fprintf(stderr, "auscult eval: %s needs a value\n", argv[i]);
			return 2;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "auscult eval: unknown option '%s'\n\n", argv[i]);
			eval_usage(stderr);
			return 2;
		} else if (dir) {
			fprintf(stderr, "auscult eval: one folder only ('%s' and '%s')\n", dir,
				argv[i]);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (!model_path || !dir) {
		fprintf(stderr, "auscult eval: %s is required\n\n",
			!model_path ? "--model MODEL" : "a folder DIR");
		eval_usage(stderr);
		return 2;
	}
	double threshold_override = NAN;
	if (threshold_text) {
		char *end;
		errno = 0;
		threshold_override = strtod(threshold_text, &end);
		if (end == threshold_text || *end != '\0' || errno || !isfinite(threshold_override)) {
			fprintf(stderr,
				"auscult eval: --threshold '%s' is not a finite number (e.g. 12.5)\n",
				threshold_text);
			return 2;
		}
	}

	/* The DCASE layout keeps training normals in train/ next to test/: never mix them in. */
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "auscult eval: %s: %s; give the folder that holds the DCASE test "
				"files (or their parent)\n",
			dir, stat(dir, &st) != 0 ? strerror(errno) : "not a folder");
		return 1;
	}
	size_t dir_len = strlen(dir);
	folder = malloc(dir_len + sizeof("/test"));
	if (!folder) {
		fprintf(stderr, "auscult eval: out of memory\n");
		goto done;
	}
	memcpy(folder, dir, dir_len + 1);
	while (dir_len > 1 && folder[dir_len - 1] == '/')
		folder[--dir_len] = '\0';
	strcpy(folder + dir_len, "/test");
	if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
		folder[dir_len] = '\0';

	if (model_load(&m, model_path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult eval: %s\n", err.msg);
		goto done;
	}
	if (autoencoder_init(&ae, &m, EVAL_MAX_BATCH, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult eval: %s: %s\n", model_path, err.msg);
		goto done;
	}
	if (clip_list_add(&list, folder, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult eval: %s\n", err.msg);
		goto done;
	}
	clips = calloc(list.count, sizeof(*clips));
	ids = calloc(list.count, sizeof(*ids));
	if (!clips || !ids) {
		fprintf(stderr, "auscult eval: out of memory for %zu files\n", list.count);
		goto done;
	}
	size_t n_ignored = 0;
	for (size_t i = 0; i < list.count; i++) {
		struct eval_clip *c = &clips[n_clips];
		if (!parse_dcase_name(list.paths[i], &c->anomaly, c->id)) {
			n_ignored++;
			continue;
		}
		c->path = list.paths[i];
		n_clips++;
	}
	if (n_clips == 0) {
		fprintf(stderr,
			"auscult eval: %s: no files named normal_id_XX_*.wav or anomaly_id_XX_*.wav "
			"(DCASE 2020 names) in it; rename the recordings or give the folder that "
			"holds them\n",
			folder);
		goto done;
	}
	if (n_ignored)
		fprintf(stderr, "auscult eval: %s: ignored %zu audio files without a DCASE name\n",
			folder, n_ignored);

	double threshold = threshold_text ? threshold_override : (double)m.threshold.threshold;
	size_t n_failed = 0, n_scored = 0;
	for (size_t i = 0; i < n_clips; i++) {
		float score;
		if (clip_score_file(&m, &ae, clips[i].path, &score, NULL, &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult eval: %s\n", err.msg);
			n_failed++;
			continue;
		}
		clips[i].score = score;
		clips[i].scored = true;
		n_scored++;
	}
	if (n_scored == 0) {
		fprintf(stderr, "auscult eval: %s: none of the %zu files could be scored\n", folder,
			n_clips);
		goto done;
	}

	/* Distinct machine ids, sorted; then one group per id and the pooled group last. */
	size_t n_ids = 0;
	for (size_t i = 0; i < n_clips; i++) {
		if (!clips[i].scored)
			continue;
		bool seen = false;
		for (size_t k = 0; k < n_ids && !seen; k++)
			seen = strcmp(ids[k], clips[i].id) == 0;
		if (!seen)
			ids[n_ids++] = clips[i].id;
	}
	qsort(ids, n_ids, sizeof(*ids), cmp_str);
	groups = calloc(n_ids + 1, sizeof(*groups));
	if (!groups) {
		fprintf(stderr, "auscult eval: out of memory\n");
		goto done;
	}
	for (size_t k = 0; k <= n_ids; k++) {
		n_groups++;
		if (group_compute(&groups[k], k < n_ids ? ids[k] : NULL, clips, n_clips,
				  threshold) != AUSCULT_OK) {
			fprintf(stderr, "auscult eval: out of memory computing the figures\n");
			goto done;
		}
	}

	if (json)
		print_json(groups, n_groups, model_path, threshold, folder, clips, n_clips, n_failed);
	else
		print_table(groups, n_groups, model_path, threshold, folder, n_scored, n_failed);
	if (svg_path) {
		if (write_svg(svg_path, model_path, groups, n_groups, threshold, &err) !=
		    AUSCULT_OK) {
			fprintf(stderr, "auscult eval: %s\n", err.msg);
			goto done;
		}
		if (!json)
			printf("report    %s\n", svg_path);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "auscult eval: writing the results failed: %s\n", strerror(errno));
		goto done;
	}
	status = n_failed ? 1 : 0;
done:
	for (size_t k = 0; k < n_groups; k++)
		group_free(&groups[k]);
	free(groups);
	free(ids);
	free(clips);
	free(folder);
	clip_list_free(&list);
	autoencoder_free(&ae);
	model_free(&m);
	return status;
}
