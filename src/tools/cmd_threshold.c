/* cmd_threshold.c - `auscult threshold`: refit a model's decision threshold on unseen normal sound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_source.h"
#include "model/autoencoder.h"
#include "model/clip_scorer.h"
#include "model/model.h"
#include "model/model_file.h"
#include "pipeline/clip_replay.h"
#include "pipeline/pipeline.h"
#include "pipeline/window_fit.h"
#include "train/threshold_fit.h"
#include "train/trainer_recipe.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/silent_clip.h"
#include "tools/pipeline_args.h"

#define THRESHOLD_MAX_BATCH 256
#define THRESHOLD_MAX_FOLDS 64

/* A model trained without some recordings, and those recordings: its windows on them are unseen
 * normal sound as much as the calibration recordings are, so they join the fit. */
struct threshold_fold {
	char *model_path;
	struct clip_list files;
};

static void threshold_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult threshold --model MODEL --out NEW_MODEL [--quantile Q]\n"
		"                         [--window-s S [--hop-s H] [--smoothing M ...]\n"
		"                          [--recipe NAME] [--fit gamma|tail]\n"
		"                          [--fold FOLD_MODEL=FILES_OR_DIR ...]]\n"
		"                         FILES_OR_DIRS...\n"
		"\n"
		"Refits the model's decision threshold on recordings of the machine running normally\n"
		"that the model was NOT trained on (a model always reconstructs its own training clips\n"
		"best, so a threshold fitted on them is too low for new sound). Each file is scored\n"
		"like `auscult score`, a gamma distribution is fitted to the scores by maximum\n"
		"likelihood (or their tail, --fit tail), and the threshold becomes its quantile Q.\n"
		"The network is unchanged.\n"
		"\n"
		"  --model MODEL     the model to start from\n"
		"  --out NEW_MODEL   where to write the model with the new threshold (may be MODEL)\n"
		"  --quantile Q      the fit's quantile, 0 < Q < 1 (default: the model's own, e.g. 0.9;\n"
		"                    with --window-s, the recipe's)\n"
		"  --window-s S      fit to the scores the daemon compares with its threshold\n"
		"                    instead: each file is replayed through auscultd's pipeline\n"
		"                    (as `auscult score --windows` does) and every window's\n"
		"                    SMOOTHED score that is not idle counts, fitted as --recipe\n"
		"                    says. The daemon's other scoring options apply too:\n" PIPELINE_ARGS_USAGE
		"  --recipe NAME     with --window-s: the fit and quantile of recipe NAME's daemon\n"
		"                    threshold (default %s; `auscult train --help`\n"
		"                    lists the recipes)\n"
		"  --fit gamma|tail  gamma (without --window-s, the default): the quantile Q of a\n"
		"                    gamma fitted to all the scores; tail: the quantile Q of the\n"
		"                    exponential tail of the largest %g%% (peaks over threshold),\n"
		"                    for scores whose tail is heavier than their bulk, such as\n"
		"                    the default recipe's windows\n"
		"  --fold FOLD_MODEL=FILES_OR_DIR\n"
		"                    with --window-s, also fit to the windows of FILES_OR_DIR scored\n"
		"                    by FOLD_MODEL, a model trained like MODEL (same recipe) on its\n"
		"                    training recordings minus these (cross-validation): ten\n"
		"                    recordings show little of a machine's rare sounds, the training\n"
		"                    recordings held out fold by fold show them all. Repeat once per\n"
		"                    fold; scripts/train-shipped-model does it with 5 folds.\n",
		TRAIN_RECIPE_DEFAULT, THRESHOLD_TAIL_SHARE * 100.0);
}

/* Parses one --fold FOLD_MODEL=FILES_OR_DIR into folds[*n]. Non-zero after a usage message. */
static int fold_add(struct cli_command *cli, struct threshold_fold *folds, size_t *n,
		    const char *value)
{
	struct auscult_err err = { { 0 } };
	const char *eq = strchr(value, '=');
	if (!eq || eq == value || eq[1] == '\0')
		return cli_usage_error(
			cli,
			"--fold takes FOLD_MODEL=FILES_OR_DIR (a model trained without "
			"those recordings, '=', the recordings), got '%s'",
			value);
	if (*n == THRESHOLD_MAX_FOLDS)
		return cli_usage_error(cli, "at most %d --fold options", THRESHOLD_MAX_FOLDS);
	struct threshold_fold *f = &folds[*n];
	memset(f, 0, sizeof(*f));
	f->model_path = strndup(value, (size_t)(eq - value));
	if (!f->model_path)
		return cli_usage_error(cli, "out of memory");
	if (clip_list_add(&f->files, eq + 1, &err) != AUSCULT_OK) {
		free(f->model_path);
		return cli_usage_error(cli, "--fold %s: %s", value, err.msg);
	}
	(*n)++;
	return 0;
}

/*
 * Appends to *scores the smoothed windows of fold f's recordings scored by its model, which must
 * score as m does (model_scoring_difference: the same front end, frames, aggregation and heads'
 * shapes): otherwise its scores would be on another scale and the fit would mix the two.
 */
static int fold_scores(const struct model *m, const char *model_path,
		       const struct threshold_fold *f, const struct pipeline_settings *ps,
		       double **scores, size_t *n_scores, struct auscult_err *err)
{
	struct model fm = { 0 };
	double *more = NULL;
	size_t n_more = 0;
	int rc = model_load(&fm, f->model_path, err);
	if (rc != AUSCULT_OK)
		return rc;
	const char *differs = model_scoring_difference(m, &fm);
	if (differs) {
		rc = auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"--fold %s: scores differently from %s (%s); train each fold model "
			"with the same recipe as the model",
			f->model_path, model_path, differs);
		goto out;
	}
	rc = window_fit_scores(&fm, ps, f->files.paths, f->files.count, &more, &n_more, err);
	if (rc != AUSCULT_OK)
		goto out;
	double *all = realloc(*scores, (*n_scores + n_more) * sizeof(*all));
	if (!all) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "--fold %s: out of memory",
				  f->model_path);
		goto out;
	}
	memcpy(all + *n_scores, more, n_more * sizeof(*more));
	*scores = all;
	*n_scores += n_more;
out:
	free(more);
	model_free(&fm);
	return rc;
}

int cmd_threshold(int argc, char **argv)
{
	const char *model_path = NULL, *out_path = NULL;
	double quantile = NAN;
	enum threshold_fit_method method = THRESHOLD_FIT_GAMMA;
	bool method_given = false;
	const char *recipe = NULL;
	size_t n_scores = 0, n_silent = 0;
	struct clip_list files = { 0 };
	struct model m = { 0 };
	struct autoencoder ae = { 0 };
	struct clip_replay *replay = NULL;
	struct auscult_err err = { { 0 } };
	struct pipeline_settings ps, defaults;
	double *scores = NULL;
	struct cli_command cli = { "threshold", threshold_usage, argc, argv, false };
	int status = 1;
	int ae_ready = 0;
	bool windows = false, hop_given = false;
	struct threshold_fold folds[THRESHOLD_MAX_FOLDS];
	size_t n_folds = 0, n_fold_files = 0;

	pipeline_settings_defaults(&ps);
	defaults = ps;
	for (int i = 1; i < argc; i++) {
		const char *v;
		bool matched;
		if (cli_is_help(argv[i])) {
			threshold_usage(stdout);
			status = 0;
			goto done;
		} else if ((v = cli_option_value(&cli, &i, "--model"))) {
			model_path = v;
		} else if ((v = cli_option_value(&cli, &i, "--out"))) {
			out_path = v;
		} else if ((v = cli_option_value(&cli, &i, "--quantile"))) {
			/* the model keeps it as a float: that must be in (0, 1) too */
			float kept;
			if (cli_parse_double(&cli, "--quantile", v, 0.0, 1.0, CLI_OPEN,
					     &quantile) ||
			    cli_parse_float(&cli, "--quantile", v, 0.0, 1.0, CLI_OPEN, &kept)) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
		} else if ((v = cli_option_value(&cli, &i, "--fit"))) {
			if (threshold_fit_method_parse(v, &method, &err) != AUSCULT_OK) {
				status = cli_usage_error(&cli, "--fit: %s", err.msg);
				goto done;
			}
			method_given = true;
		} else if ((v = cli_option_value(&cli, &i, "--recipe"))) {
			recipe = v;
		} else if ((v = cli_option_value(&cli, &i, "--fold"))) {
			if (fold_add(&cli, folds, &n_folds, v) != 0) {
				status = CLI_EXIT_USAGE;
				goto done;
			}
		} else if (pipeline_args_option(&cli, &i, &ps, &matched) != 0) {
			status = CLI_EXIT_USAGE;
			goto done;
		} else if (matched) {
			windows |= strcmp(argv[i - 1], "--window-s") == 0 ||
				   strncmp(argv[i], "--window-s=", 11) == 0;
			hop_given |= strcmp(argv[i - 1], "--hop-s") == 0 ||
				     strncmp(argv[i], "--hop-s=", 8) == 0;
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
					 !model_path ? "--model MODEL"
					 : !out_path ? "--out NEW_MODEL"
						     : "at least one file or folder of recordings");
		goto done;
	}
	if (!windows && n_folds > 0) {
		status = cli_usage_error(&cli, "--fold goes with --window-s");
		goto done;
	}
	if (!windows && memcmp(&ps, &defaults, sizeof(ps)) != 0) {
		status = cli_usage_error(&cli, "%s goes with --window-s",
					 hop_given ? "--hop-s" : "a scoring option");
		goto done;
	}
	if (!windows && recipe) {
		status = cli_usage_error(&cli, "--recipe goes with --window-s");
		goto done;
	}
	if (windows && (recipe || isnan(quantile) || !method_given)) {
		/* the daemon's threshold as the recipe's models have it fitted */
		struct train_options o;
		if (train_options_recipe(&o, recipe ? recipe : TRAIN_RECIPE_DEFAULT, &err) !=
		    AUSCULT_OK) {
			status = cli_usage_error(&cli, "--%s", err.msg);
			goto done;
		}
		if (isnan(quantile))
			quantile = o.window_quantile;
		if (!method_given)
			method = o.window_fit;
	}
	if (windows && !hop_given && ps.hop_s > ps.window_s)
		ps.hop_s = ps.window_s;
	if (windows && pipeline_args_check(&cli, &ps) != 0) {
		status = CLI_EXIT_USAGE;
		goto done;
	}
	if (!windows && files.count < 2) {
		fprintf(stderr,
			"auscult threshold: a gamma fit needs at least 2 recordings, got 1\n");
		goto done;
	}
	if (model_load(&m, model_path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult threshold: %s\n", err.msg);
		goto done;
	}
	if (isnan(quantile))
		quantile = m.threshold.quantile;

	if (windows) {
		/* The daemon's pipeline: its windows, gate and smoothing; the smoothed score of each
		 * window that is not idle is what its detector compares with the threshold. */
		if (window_fit_scores(&m, &ps, files.paths, files.count, &scores, &n_scores,
				      &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult threshold: %s\n", err.msg);
			goto done;
		}
		for (size_t k = 0; k < n_folds; k++) {
			if (fold_scores(&m, model_path, &folds[k], &ps, &scores, &n_scores, &err) !=
			    AUSCULT_OK) {
				fprintf(stderr, "auscult threshold: %s\n", err.msg);
				goto done;
			}
			n_fold_files += folds[k].files.count;
		}
	} else {
		if (autoencoder_init(&ae, &m, THRESHOLD_MAX_BATCH, &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult threshold: %s\n", err.msg);
			goto done;
		}
		ae_ready = 1;
		if (clip_replay_create(&replay, &m, &ae, &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult threshold: %s\n", err.msg);
			goto done;
		}
		scores = malloc(files.count * sizeof(*scores));
		if (!scores) {
			fprintf(stderr, "auscult threshold: out of memory\n");
			goto done;
		}
		for (size_t f = 0; f < files.count; f++) {
			float s;
			/* A clip of the machine off or a muted microphone says nothing about the
			 * machine; it scores far above the rest and would raise the threshold
			 * several times over (the windows' fit drops idle windows the same way). */
			if (silent_clip_note("threshold", files.paths[f], m.features.sample_rate_hz,
					     "left out of the fit; check the microphone's gain or "
					     "that the machine was running")) {
				n_silent++;
				continue;
			}
			if (clip_replay_score(replay, files.paths[f], &s, &err) != AUSCULT_OK) {
				fprintf(stderr, "auscult threshold: %s\n", err.msg);
				goto done;
			}
			scores[n_scores++] = s;
		}
	}

	struct threshold_fit fit;
	if (threshold_fit(scores, n_scores, method, quantile, &fit, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult threshold: %s\n", err.msg);
		goto done;
	}
	float old_threshold = m.threshold.threshold;
	m.threshold.gamma_shape = (float)fit.gamma_shape;
	m.threshold.gamma_scale = (float)fit.gamma_scale;
	m.threshold.quantile = (float)quantile;
	m.threshold.threshold = (float)fit.threshold;

	if (model_save(&m, out_path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult threshold: %s\n", err.msg);
		goto done;
	}
	char over[200];
	if (windows && n_folds > 0)
		snprintf(over, sizeof(over),
			 "%zu %s windows of %g s every %g s from %zu recordings, %zu of them scored "
			 "by %zu fold models",
			 n_scores, ps.smoothing == SMOOTHER_NONE ? "raw" : "smoothed", ps.window_s,
			 ps.hop_s, files.count + n_fold_files, n_fold_files, n_folds);
	else if (windows)
		snprintf(over, sizeof(over),
			 "%zu %s windows of %g s every %g s from %zu recordings", n_scores,
			 ps.smoothing == SMOOTHER_NONE ? "raw" : "smoothed", ps.window_s, ps.hop_s,
			 files.count);
	else if (n_silent > 0)
		snprintf(over, sizeof(over), "%zu recordings, %zu silent ones left out", n_scores,
			 n_silent);
	else
		snprintf(over, sizeof(over), "%zu recordings", n_scores);
	printf("%s: threshold %.6g -> %.6g (%s shape %.6g, scale %.6g, quantile %.7g over %s; "
	       "%zu of them above it)\n",
	       out_path, (double)old_threshold, (double)m.threshold.threshold,
	       method == THRESHOLD_FIT_TAIL ? "tail fit; the gamma of all:" : "gamma",
	       fit.gamma_shape, fit.gamma_scale, quantile, over, fit.above);
	if (method == THRESHOLD_FIT_TAIL)
		printf("%s: the tail: the largest %zu scores exceed %.6g by %.6g on average\n",
		       out_path, fit.tail_count, fit.tail_start, fit.tail_mean);
	status = 0;
done:
	free(scores);
	clip_replay_destroy(replay);
	if (ae_ready)
		autoencoder_free(&ae);
	model_free(&m);
	clip_list_free(&files);
	for (size_t k = 0; k < n_folds; k++) {
		free(folds[k].model_path);
		clip_list_free(&folds[k].files);
	}
	return status;
}
