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
#include "pipeline/clip_replay.h"
#include "train/metrics.h"
#include "model/model.h"
#include "model/model_file.h"
#include "common/json_writer.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/silent_clip.h"
#include "tools/svg_report.h"

#define EVAL_MAX_BATCH 256
#define EVAL_MAX_FPR 0.1    /* DCASE 2020 Task 2's pAUC range */
#define EVAL_AUC_DRAWS 2000 /* bootstrap resamples behind the AUC's interval */
#define EVAL_AUC_LEVEL 0.95
/* Files of each class an interval needs: with fewer, every draw repeats the same few files and
 * the interval says nothing of how other recordings would rank (one anomaly: always 1.000). */
#define EVAL_AUC_MIN_FILES 5
#define EVAL_ID_MAX 16
#define EVAL_JSON_DIGITS 9 /* JSON figures: enough digits for a float score to read back exactly */

static void eval_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult eval --model MODEL [--threshold X] [--svg FILE] [--json] DIR\n"
		"\n"
		"Scores the DCASE-named recordings in DIR/test/ (or in DIR itself, recursively, when\n"
		"it has no test/ folder): normal_id_XX_*.wav and anomaly_id_XX_*.wav, and prints per\n"
		"machine id and overall: file counts, ROC AUC, pAUC (standardised, FPR up to 0.1, as\n"
		"DCASE 2020 Task 2), precision/recall/F1 at the model's threshold, and the AUC's 95%%\n"
		"interval over 2000 bootstrap draws of the files (how far other recordings could\n"
		"move it).\n"
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
	double auc, pauc;      /* NaN when a class is missing */
	double auc_lo, auc_hi; /* the AUC's 95% bootstrap interval; NaN when a class is missing */
	struct confusion conf;
	size_t n_roc;
	double *fpr, *tpr; /* n_roc points, owned */
	double *scores;    /* n, owned */
	int *labels;       /* n, owned */
};

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
	g->auc_lo = g->auc_hi = NAN;
	if (g->n_normal >= EVAL_AUC_MIN_FILES && g->n_anomaly >= EVAL_AUC_MIN_FILES)
		metrics_auc_interval(g->scores, g->labels, g->n, EVAL_AUC_DRAWS, EVAL_AUC_LEVEL,
				     &g->auc_lo, &g->auc_hi);
	g->n_roc = metrics_roc(g->scores, g->labels, g->n, g->fpr, g->tpr);
	metrics_confusion(g->scores, g->labels, g->n, threshold, &g->conf);
	/* Both classes present but no figures: only an allocation inside metrics can do that. */
	if (g->n_normal && g->n_anomaly && (isnan(g->auc) || g->n_roc == 0))
		return AUSCULT_ERR_NOMEM;
	return AUSCULT_OK;
}

/* Precision, recall and F1; NaN where undefined (nothing flagged; no anomalies; no anomalies). */
static void group_rates(const struct eval_group *g, double *precision, double *recall, double *f1)
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
	printf("\n\n%-10s %6s %7s %7s %7s %9s %7s %7s  %s\n", "machine", "normal", "anomaly", "AUC",
	       "pAUC", "precision", "recall", "F1", "AUC 95%");
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
		if (isfinite(g->auc_lo))
			printf("  %.3f-%.3f\n", g->auc_lo, g->auc_hi);
		else
			printf("  -\n");
	}
	printf("\npAUC: standardised partial AUC over false positive rates 0..%.2g (DCASE 2020 "
	       "Task 2).\nprecision/recall/F1: score > threshold counts as anomaly.\n"
	       "AUC 95%%: where the AUC falls in %d draws of as many normal and anomalous files, "
	       "each drawn with\nreplacement from those scored: how far other recordings of the "
	       "machines could move it.\n",
	       EVAL_MAX_FPR, EVAL_AUC_DRAWS);
	for (size_t i = 0; i < n_groups; i++) {
		const struct eval_group *g = &groups[i];
		if (g->n_anomaly == 0)
			printf("%s: no anomalous files: AUC, pAUC and recall need anomaly_id_* "
			       "files too\n",
			       g->label);
		else if (g->n_normal == 0)
			printf("%s: no normal files: AUC and pAUC need normal_id_* files too\n",
			       g->label);
		else if (g->n_normal < EVAL_AUC_MIN_FILES || g->n_anomaly < EVAL_AUC_MIN_FILES)
			printf("%s: no AUC interval: it needs %d files or more of each class\n",
			       g->label, EVAL_AUC_MIN_FILES);
		if (g->conf.tp + g->conf.fp == 0 && g->n > 0)
			printf("%s: no file scored above the threshold, so precision is undefined\n",
			       g->label);
	}
}

static void json_group(struct json_writer *w, const struct eval_group *g)
{
	double p, r, f;
	group_rates(g, &p, &r, &f);
	json_object_open(w);
	if (g->id)
		json_field_string(w, "machine_id", g->id);
	json_field_uint(w, "n_normal", g->n_normal);
	json_field_uint(w, "n_anomaly", g->n_anomaly);
	json_field_double_digits(w, "auc", g->auc, EVAL_JSON_DIGITS);
	json_field_double_digits(w, "pauc", g->pauc, EVAL_JSON_DIGITS);
	json_field_double_digits(w, "auc_low", g->auc_lo, EVAL_JSON_DIGITS);
	json_field_double_digits(w, "auc_high", g->auc_hi, EVAL_JSON_DIGITS);
	json_field_uint(w, "tp", g->conf.tp);
	json_field_uint(w, "fp", g->conf.fp);
	json_field_uint(w, "tn", g->conf.tn);
	json_field_uint(w, "fn", g->conf.fn);
	json_field_double_digits(w, "precision", p, EVAL_JSON_DIGITS);
	json_field_double_digits(w, "recall", r, EVAL_JSON_DIGITS);
	json_field_double_digits(w, "f1", f, EVAL_JSON_DIGITS);
	json_object_close(w);
}

/* One object, one line per machine and per file; the layout is part of the output format. */
static int print_json(const struct eval_group *groups, size_t n_groups, const char *model_path,
		      double threshold, const char *folder, const struct eval_clip *clips,
		      size_t n_clips, size_t n_failed, struct auscult_err *err)
{
	struct json_writer w;
	json_writer_init_file(&w, stdout);
	json_writer_spaced(&w);
	json_object_open(&w);
	json_field_string(&w, "model", model_path);
	json_field_double_digits(&w, "threshold", threshold, EVAL_JSON_DIGITS);
	json_field_double_digits(&w, "max_fpr", EVAL_MAX_FPR, 2);
	json_field_string(&w, "folder", folder);
	json_field_uint(&w, "files_failed", n_failed);
	json_line_break(&w, 1);
	json_key(&w, "machines");
	json_array_open(&w);
	/* The last group is the pooled one. */
	for (size_t i = 0; i + 1 < n_groups; i++) {
		json_line_break(&w, 2);
		json_group(&w, &groups[i]);
	}
	json_line_break(&w, 1);
	json_array_close(&w);
	json_line_break(&w, 1);
	json_key(&w, "overall");
	json_group(&w, &groups[n_groups - 1]);
	json_line_break(&w, 1);
	json_key(&w, "files");
	json_array_open(&w);
	for (size_t i = 0; i < n_clips; i++) {
		if (!clips[i].scored)
			continue;
		json_line_break(&w, 2);
		json_object_open(&w);
		json_field_string(&w, "file", clips[i].path);
		json_field_string(&w, "label", clips[i].anomaly ? "anomaly" : "normal");
		json_field_string(&w, "machine_id", clips[i].id);
		json_field_double_digits(&w, "score", clips[i].score, EVAL_JSON_DIGITS);
		json_object_close(&w);
	}
	json_line_break(&w, 1);
	json_array_close(&w);
	json_object_close(&w);
	putchar('\n');
	return json_writer_finish(&w, NULL, err);
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
		roc[i] = (struct svg_roc_series){ .label = g->label,
						  .fpr = g->fpr,
						  .tpr = g->tpr,
						  .n_points = g->n_roc,
						  .auc = g->auc,
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
	struct clip_replay *replay = NULL;
	struct clip_list list = { 0 };
	struct eval_clip *clips = NULL;
	const char **ids = NULL;
	struct eval_group *groups = NULL;
	size_t n_groups = 0, n_clips = 0;
	char *folder = NULL;
	struct auscult_err err;
	struct cli_command cli = { "eval", eval_usage, argc, argv, false };
	int status = 1;

	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_is_help(argv[i])) {
			eval_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if ((v = cli_option_value(&cli, &i, "--model"))) {
			model_path = v;
		} else if ((v = cli_option_value(&cli, &i, "--svg"))) {
			svg_path = v;
		} else if ((v = cli_option_value(&cli, &i, "--threshold"))) {
			threshold_text = v;
		} else if (cli.failed) {
			return CLI_EXIT_USAGE;
		} else if (cli_is_option(argv[i])) {
			return cli_usage_error(&cli, "unknown option '%s'", argv[i]);
		} else if (dir) {
			return cli_usage_error(&cli, "one folder only ('%s' and '%s')", dir,
					       argv[i]);
		} else {
			dir = argv[i];
		}
	}
	if (!model_path || !dir)
		return cli_usage_error(&cli, "%s is required",
				       !model_path ? "--model MODEL" : "a folder DIR");
	double threshold_override = NAN;
	if (threshold_text && cli_parse_double(&cli, "--threshold", threshold_text, 0.0, INFINITY,
					       CLI_CLOSED, &threshold_override))
		return CLI_EXIT_USAGE;

	/* The DCASE layout keeps training normals in train/ next to test/: never mix them in. */
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr,
			"auscult eval: %s: %s; give the folder that holds the DCASE test "
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
	if (clip_replay_create(&replay, &m, &ae, &err) != AUSCULT_OK) {
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
		if (clip_replay_score(replay, clips[i].path, &score, &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult eval: %s\n", err.msg);
			n_failed++;
			continue;
		}
		clips[i].score = score;
		clips[i].scored = true;
		n_scored++;
		/* A dead recording in a labelled folder ranks as it scored; say which it is. */
		if ((double)score > threshold)
			silent_clip_note("eval", clips[i].path, m.features.sample_rate_hz,
					 "it counts in the AUC as it scored; a dead recording does "
					 "not belong in the evaluation: remove or re-record it");
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

	if (!json) {
		print_table(groups, n_groups, model_path, threshold, folder, n_scored, n_failed);
	} else if (print_json(groups, n_groups, model_path, threshold, folder, clips, n_clips,
			      n_failed, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult eval: %s\n", err.msg);
		goto done;
	}
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
	clip_replay_destroy(replay);
	autoencoder_free(&ae);
	model_free(&m);
	return status;
}
