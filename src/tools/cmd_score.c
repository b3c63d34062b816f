/* cmd_score.c - `auscult score`: one clip score and decision per audio file, as text or JSON. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/autoencoder.h"
#include "model/clip_scorer.h"
#include "model/model.h"
#include "model/model_file.h"
#include "tools/commands.h"

/* Vectors per forward pass: a 10 s clip (309 vectors) in two passes, ~0.5 MB of activations. */
#define SCORE_MAX_BATCH 256

static void score_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult score --model MODEL [--threshold X] [--json] FILES_OR_DIRS...\n"
		"\n"
		"Scores each audio file with the model (folders: every audio file in them,\n"
		"recursively) and prints one line per file: path<TAB>score<TAB>decision, where the\n"
		"decision is 'anomaly' when score > threshold, else 'normal'.\n"
		"\n"
		"  --model MODEL   model file written by `auscult train` (.am)\n"
		"  --threshold X   decide against X instead of the model's stored threshold\n"
		"  --json          print a JSON array of {file, score, threshold, decision} instead\n"
		"\n"
		"A file that cannot be scored is reported on stderr; the others are still scored and\n"
		"the exit status is 1.\n");
}

/* Writes s as a JSON string literal (paths can hold quotes, backslashes, control bytes). */
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

/* Takes the value of --name VALUE or --name=VALUE; NULL when arg is not that option. */
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

int cmd_score(int argc, char **argv)
{
	const char *model_path = NULL;
	const char *threshold_text = NULL;
	bool json = false;
	int first_input = argc;
	struct model m = { 0 };
	struct autoencoder ae = { 0 };
	struct clip_list list = { 0 };
	struct auscult_err err;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			score_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if ((v = option_value(argc, argv, &i, "--model", &missing))) {
			model_path = v;
		} else if ((v = option_value(argc, argv, &i, "--threshold", &missing))) {
			threshold_text = v;
		} else if (missing) {
			fprintf(stderr, "auscult score: %s needs a value\n", argv[i]);
			return 2;
		} else if (strcmp(argv[i], "--") == 0) {
			first_input = i + 1;
			break;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "auscult score: unknown option '%s'\n\n", argv[i]);
			score_usage(stderr);
			return 2;
		} else {
			first_input = i;
			break;
		}
	}
	if (!model_path) {
		fprintf(stderr, "auscult score: --model MODEL is required\n\n");
		score_usage(stderr);
		return 2;
	}
	if (first_input >= argc) {
		fprintf(stderr, "auscult score: no files or folders to score\n\n");
		score_usage(stderr);
		return 2;
	}
	double threshold_override = NAN;
	if (threshold_text) {
		char *end;
		errno = 0;
		threshold_override = strtod(threshold_text, &end);
		if (end == threshold_text || *end != '\0' || errno || !isfinite(threshold_override)) {
			fprintf(stderr,
				"auscult score: --threshold '%s' is not a finite number (e.g. 12.5)\n",
				threshold_text);
			return 2;
		}
	}

	if (model_load(&m, model_path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s\n", err.msg);
		goto done;
	}
	if (autoencoder_init(&ae, &m, SCORE_MAX_BATCH, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s: %s\n", model_path, err.msg);
		goto done;
	}
	bool any_failed = false;
	for (int i = first_input; i < argc; i++) {
		int rc = clip_list_add(&list, argv[i], &err);
		if (rc == AUSCULT_ERR_NOMEM) {
			fprintf(stderr, "auscult score: %s\n", err.msg);
			goto done;
		}
		if (rc != AUSCULT_OK) {
			fprintf(stderr, "auscult score: %s\n", err.msg);
			any_failed = true;
		}
	}

	double threshold = threshold_text ? threshold_override : (double)m.threshold.threshold;
	size_t printed = 0;
	if (json)
		fputs("[", stdout);
	for (size_t i = 0; i < list.count; i++) {
		float score;
		if (clip_score_file(&m, &ae, list.paths[i], &score, NULL, &err) != AUSCULT_OK) {
			fflush(stdout);
			fprintf(stderr, "auscult score: %s\n", err.msg);
			any_failed = true;
			continue;
		}
		const char *decision = (double)score > threshold ? "anomaly" : "normal";
		if (json) {
			fputs(printed ? ",\n  {\"file\": " : "\n  {\"file\": ", stdout);
			json_put_string(stdout, list.paths[i]);
			printf(", \"score\": %.9g, \"threshold\": %.9g, \"decision\": \"%s\"}",
			       (double)score, threshold, decision);
		} else {
			printf("%s\t%.6f\t%s\n", list.paths[i], (double)score, decision);
		}
		fflush(stdout); /* a long run shows progress line by line, even through a pipe */
		printed++;
	}
	if (json)
		fputs(printed ? "\n]\n" : "]\n", stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "auscult score: writing the results failed: %s\n", strerror(errno));
		goto done;
	}
	status = any_failed ? 1 : 0;
done:
	clip_list_free(&list);
	autoencoder_free(&ae);
	model_free(&m);
	return status;
}
