/* cmd_threshold.c - `auscult threshold`: refit a model's decision threshold on unseen normal sound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/autoencoder.h"
#include "model/clip_scorer.h"
#include "model/gamma_fit.h"
#include "model/model.h"
#include "model/model_file.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#define THRESHOLD_MAX_BATCH 256

static void threshold_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult threshold --model MODEL --out NEW_MODEL [--quantile Q] FILES_OR_DIRS...\n"
		"\n"
		"Refits the model's decision threshold on recordings of the machine running normally\n"
		"that the model was NOT trained on (a model always reconstructs its own training clips\n"
		"best, so a threshold fitted on them is too low for new sound). Each file is scored\n"
		"like `auscult score`, a gamma distribution is fitted to the scores by maximum\n"
		"likelihood, and the threshold becomes its quantile Q. The network is unchanged.\n"
		"\n"
		"  --model MODEL     the model to start from\n"
		"  --out NEW_MODEL   where to write the model with the new threshold (may be MODEL)\n"
		"  --quantile Q      gamma quantile, 0 < Q < 1 (default: the model's own, e.g. 0.9)\n");
}

int cmd_threshold(int argc, char **argv)
{
	const char *model_path = NULL, *out_path = NULL;
	double quantile = NAN;
	struct clip_list files = { 0 };
	struct model m = { 0 };
	struct autoencoder ae = { 0 };
	struct auscult_err err = { { 0 } };
	double *scores = NULL;
	struct cli_command cli = { "threshold", threshold_usage, argc, argv, false };
	int status = 1;
	int ae_ready = 0;

	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_is_help(argv[i])) {
			threshold_usage(stdout);
			status = 0;
			goto done;
		} else if ((v = cli_option_value(&cli, &i, "--model"))) {
			model_path = v;
		} else if ((v = cli_option_value(&cli, &i, "--out"))) {
			out_path = v;
		} else if ((v = cli_option_value(&cli, &i, "--quantile"))) {
			if (cli_parse_double(&cli, "--quantile", v, 0.0, 1.0, CLI_OPEN, &quantile)) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
		} else if (cli.failed) {
			status = CLI_EXIT_USAGE;
			goto done;
		} else if (cli_is_option(argv[i])) {
			status = cli_usage_error(&cli, "unknown option '%s'", argv[i]);
			goto done;
		} else if (clip_list_add(&files, argv[i], &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult threshold: %s\n", err.msg);
			goto done;
		}
	}
	if (!model_path || !out_path || files.count == 0) {
		status = cli_usage_error(&cli, "%s is required",
					 !model_path ? "--model MODEL" :
					 !out_path ? "--out NEW_MODEL" :
					 "at least one file or folder of recordings");
		goto done;
	}
	if (files.count < 2) {
		fprintf(stderr, "auscult threshold: a gamma fit needs at least 2 recordings, got 1\n");
		goto done;
	}
	if (model_load(&m, model_path, &err) != AUSCULT_OK ||
	    autoencoder_init(&ae, &m, THRESHOLD_MAX_BATCH, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult threshold: %s\n", err.msg);
		goto done;
	}
	ae_ready = 1;
	autoencoder_set_blas_threads(1);
	if (isnan(quantile))
		quantile = m.threshold.quantile;

	scores = malloc(files.count * sizeof(*scores));
	if (!scores) {
		fprintf(stderr, "auscult threshold: out of memory\n");
		goto done;
	}
	for (size_t f = 0; f < files.count; f++) {
		float s;
		if (clip_score_file(&m, &ae, files.paths[f], &s, NULL, &err) != AUSCULT_OK) {
			/* Every file must count: a fit on a silently shorter list would mislead. */
			fprintf(stderr, "auscult threshold: %s\n", err.msg);
			goto done;
		}
		scores[f] = s;
	}

	double shape, scale;
	if (gamma_fit_mle(scores, files.count, &shape, &scale, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult threshold: %s\n", err.msg);
		goto done;
	}
	float old_threshold = m.threshold.threshold;
	m.threshold.gamma_shape = (float)shape;
	m.threshold.gamma_scale = (float)scale;
	m.threshold.quantile = (float)quantile;
	m.threshold.threshold = (float)gamma_quantile(shape, scale, quantile);
	size_t above = 0;
	for (size_t f = 0; f < files.count; f++)
		above += scores[f] > m.threshold.threshold;

	if (model_save(&m, out_path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult threshold: %s\n", err.msg);
		goto done;
	}
	printf("%s: threshold %.6g -> %.6g (gamma shape %.6g, scale %.6g, quantile %g over %zu "
	       "recordings; %zu of them above it)\n",
	       out_path, (double)old_threshold, (double)m.threshold.threshold, shape, scale,
	       quantile, files.count, above);
	status = 0;
done:
	free(scores);
	if (ae_ready)
		autoencoder_free(&ae);
	model_free(&m);
	clip_list_free(&files);
	return status;
}
