/* cmd_threshold.c - `auscult threshold`: refit a model's decision threshold on unseen normal sound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/autoencoder.h"
#include "model/clip_scorer.h"
#include "train/gamma_fit.h"
#include "model/model.h"
#include "model/model_file.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#define THRESHOLD_MAX_BATCH 256

static void threshold_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult threshold --model MODEL --out NEW_MODEL [--quantile Q]\n"
		"                         [--window-s S [--hop-s H]] FILES_OR_DIRS...\n"
		"\n"
		"Refits the model's decision threshold on recordings of the machine running normally\n"
		"that the model was NOT trained on (a model always reconstructs its own training clips\n"
		"best, so a threshold fitted on them is too low for new sound). Each file is scored\n"
		"like `auscult score`, a gamma distribution is fitted to the scores by maximum\n"
		"likelihood, and the threshold becomes its quantile Q. The network is unchanged.\n"
		"\n"
		"  --model MODEL     the model to start from\n"
		"  --out NEW_MODEL   where to write the model with the new threshold (may be MODEL)\n"
		"  --quantile Q      gamma quantile, 0 < Q < 1 (default: the model's own, e.g. 0.9)\n"
		"  --window-s S      fit to the scores the daemon sees instead: the mean of every\n"
		"                    S-second window of each file (auscultd's window_s), which vary\n"
		"                    more than whole clips; use a high quantile such as 0.99\n"
		"  --hop-s H         seconds between windows (auscultd's hop_s; default 0.5, at\n"
		"                    most S)\n");
}

/*
 * Appends to *scores the mean of every window of w vectors, one every h, as auscultd's window
 * scorer forms them from the start of a stream. Returns the number added, or 0 when the file
 * is shorter than one window (err set), or when out of memory (err set).
 */
static size_t add_window_scores(const float *v, size_t n, size_t w, size_t h, double **scores,
				size_t *count, size_t *capacity, const char *path,
				struct auscult_err *err)
{
	if (n < w) {
		auscult_fail(err, AUSCULT_ERR_INVALID,
			     "%s: %zu vectors, shorter than one window of %zu; give longer recordings "
			     "or a smaller --window-s", path, n, w);
		return 0;
	}
	size_t added = 0;
	for (size_t start = 0; start + w <= n; start += h) {
		if (*count == *capacity) {
			size_t cap = *capacity ? *capacity * 2 : 1024;
			double *grown = realloc(*scores, cap * sizeof(*grown));
			if (!grown) {
				auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory for window scores");
				return 0;
			}
			*scores = grown;
			*capacity = cap;
		}
		double sum = 0.0;
		for (size_t i = start; i < start + w; i++)
			sum += v[i];
		(*scores)[(*count)++] = sum / (double)w;
		added++;
	}
	return added;
}

int cmd_threshold(int argc, char **argv)
{
	const char *model_path = NULL, *out_path = NULL;
	double quantile = NAN, window_s = 0.0, hop_s = NAN;
	size_t n_scores = 0, capacity = 0;
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
		} else if ((v = cli_option_value(&cli, &i, "--window-s"))) {
			if (cli_parse_double(&cli, "--window-s", v, 0.0, 3600.0, CLI_LO_OPEN,
					     &window_s)) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
		} else if ((v = cli_option_value(&cli, &i, "--hop-s"))) {
			if (cli_parse_double(&cli, "--hop-s", v, 0.0, 3600.0, CLI_LO_OPEN, &hop_s)) {
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
	if (!isnan(hop_s) && window_s == 0.0) {
		status = cli_usage_error(&cli, "--hop-s goes with --window-s");
		goto done;
	}
	if (isnan(hop_s))
		hop_s = fmin(0.5, window_s);
	if (window_s > 0.0 && hop_s > window_s) {
		status = cli_usage_error(&cli, "--hop-s %g is longer than --window-s %g", hop_s,
					 window_s);
		goto done;
	}
	if (window_s == 0.0 && files.count < 2) {
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

	/* Windows as auscultd sizes them; clips: one score per file. */
	size_t w = window_s > 0.0 ? feature_params_vectors_in(&m.features, window_s) : 0;
	size_t h = window_s > 0.0 ? feature_params_vectors_in(&m.features, hop_s) : 0;
	if (window_s == 0.0) {
		capacity = files.count;
		scores = malloc(capacity * sizeof(*scores));
		if (!scores) {
			fprintf(stderr, "auscult threshold: out of memory\n");
			goto done;
		}
	}
	for (size_t f = 0; f < files.count; f++) {
		/* Every file must count: a fit on a silently shorter list would mislead. */
		if (window_s > 0.0) {
			float *v;
			size_t n;
			if (clip_vector_scores(&m, &ae, files.paths[f], &v, &n, NULL, &err) !=
			    AUSCULT_OK) {
				fprintf(stderr, "auscult threshold: %s\n", err.msg);
				goto done;
			}
			size_t added = add_window_scores(v, n, w, h, &scores, &n_scores, &capacity,
							 files.paths[f], &err);
			free(v);
			if (added == 0) {
				fprintf(stderr, "auscult threshold: %s\n", err.msg);
				goto done;
			}
			continue;
		}
		float s;
		if (clip_score_file(&m, &ae, files.paths[f], &s, NULL, &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult threshold: %s\n", err.msg);
			goto done;
		}
		scores[n_scores++] = s;
	}

	double shape, scale;
	if (gamma_fit_mle(scores, n_scores, &shape, &scale, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult threshold: %s\n", err.msg);
		goto done;
	}
	float old_threshold = m.threshold.threshold;
	m.threshold.gamma_shape = (float)shape;
	m.threshold.gamma_scale = (float)scale;
	m.threshold.quantile = (float)quantile;
	m.threshold.threshold = (float)gamma_quantile(shape, scale, quantile);
	size_t above = 0;
	for (size_t i = 0; i < n_scores; i++)
		above += scores[i] > m.threshold.threshold;

	if (model_save(&m, out_path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult threshold: %s\n", err.msg);
		goto done;
	}
	char over[160];
	if (window_s > 0.0)
		snprintf(over, sizeof(over), "%zu windows of %g s every %g s from %zu recordings",
			 n_scores, window_s, hop_s, files.count);
	else
		snprintf(over, sizeof(over), "%zu recordings", files.count);
	printf("%s: threshold %.6g -> %.6g (gamma shape %.6g, scale %.6g, quantile %g over %s; "
	       "%zu of them above it)\n",
	       out_path, (double)old_threshold, (double)m.threshold.threshold, shape, scale,
	       quantile, over, above);
	status = 0;
done:
	free(scores);
	if (ae_ready)
		autoencoder_free(&ae);
	model_free(&m);
	clip_list_free(&files);
	return status;
}
