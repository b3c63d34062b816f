/* cmd_score.c - `auscult score`: one clip score and decision per audio file, as text or JSON. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "model/autoencoder.h"
#include "model/clip_scorer.h"
#include "model/model.h"
#include "model/model_file.h"
#include "common/json_writer.h"
#include "tools/cli_args.h"
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

/* One result as {file, score, threshold, decision}, on a line of its own in the array. */
static void json_result(struct json_writer *w, const char *path, double score, double threshold,
			const char *decision)
{
	json_line_break(w, 2);
	json_object_open(w);
	json_field_string(w, "file", path);
	/* 9 significant digits: a float score's exact value. */
	json_field_double_digits(w, "score", score, 9);
	json_field_double_digits(w, "threshold", threshold, 9);
	json_field_string(w, "decision", decision);
	json_object_close(w);
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
	struct json_writer w;
	struct auscult_err err;
	struct cli_command cli = { "score", score_usage, argc, argv, false };
	int status = 1;

	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_is_help(argv[i])) {
			score_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if ((v = cli_option_value(&cli, &i, "--model"))) {
			model_path = v;
		} else if ((v = cli_option_value(&cli, &i, "--threshold"))) {
			threshold_text = v;
		} else if (cli.failed) {
			return CLI_EXIT_USAGE;
		} else if (strcmp(argv[i], "--") == 0) {
			first_input = i + 1;
			break;
		} else if (cli_is_option(argv[i])) {
			return cli_usage_error(&cli, "unknown option '%s'", argv[i]);
		} else {
			first_input = i;
			break;
		}
	}
	if (!model_path)
		return cli_usage_error(&cli, "--model MODEL is required");
	if (first_input >= argc)
		return cli_usage_error(&cli, "no files or folders to score");
	double threshold_override = NAN;
	if (threshold_text && cli_parse_double(&cli, "--threshold", threshold_text, -INFINITY,
					       INFINITY, CLI_OPEN, &threshold_override))
		return CLI_EXIT_USAGE;

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
	if (json) {
		json_writer_init_file(&w, stdout);
		json_writer_spaced(&w);
		json_array_open(&w);
	}
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
			json_result(&w, list.paths[i], (double)score, threshold, decision);
		} else {
			printf("%s\t%.6f\t%s\n", list.paths[i], (double)score, decision);
		}
		fflush(stdout); /* a long run shows progress line by line, even through a pipe */
		printed++;
	}
	if (json) {
		if (printed)
			json_line_break(&w, 0);
		json_array_close(&w);
		putchar('\n');
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "auscult score: writing the results failed: %s\n", strerror(errno));
		goto done;
	}
	if (json && json_writer_finish(&w, NULL, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s\n", err.msg);
		goto done;
	}
	status = any_failed ? 1 : 0;
done:
	clip_list_free(&list);
	autoencoder_free(&ae);
	model_free(&m);
	return status;
}
