/* cmd_train.c - `auscult train`: learn a model from recordings of a healthy machine. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/status.h"
#include "features/feature_params.h"
#include "train/dataset.h"
#include "model/model.h"
#include "model/model_file.h"
#include "train/trainer_recipe.h"
#include "pipeline/head_fit.h"
#include "pipeline/rise_fit.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: auscult train --out MODEL [OPTIONS] DIR_OR_FILE...\n"
		"\n"
		"Trains an autoencoder on recordings of the machine running normally (folders are\n"
		"searched recursively for .wav/.flac/.ogg/.aif/.au files, sorted by path) and writes\n"
		"MODEL with a threshold fitted to the training clips.\n"
		"\n"
		"Recipes (--recipe NAME sets every option below; options given as well override it;\n"
		"the defaults in parentheses are idnn16-spec-burst'):\n"
		"  idnn16-spec-burst  the default and the shipped model's recipe: idnn16-spec-rise\n"
		"             (below) with the rise heads' bursts head: each 31-Hz band's crest\n"
		"             over the window's 64-ms frames (its loudest frame's power over its\n"
		"             mean), scored by the largest rise over the training windows and\n"
		"             added every evaluation: a knock or crack rings one narrow band for a\n"
		"             frame or two. AUC 0.757 over the 75 normals of bench/eval_folds.sh\n"
		"             (idnn16-spec-rise 0.726, baseline 0.59-0.61), 0.634 at the weakest\n"
		"             level (0.621), knocks 0.767 (0.546); through auscultd the real pump\n"
		"             anomaly raises an event on 5 seeds of 5, normals 55..74 laid\n"
		"             end to end none; 11.1 MFLOP per 10-s clip, 2.6x faster than\n"
		"             dcase2020 per clip (bench_score; models/README.md).\n"
		"  idnn16-spec-rise  the default before: idnn16-fast-rise (below) with a spectrum\n"
		"             head in place of its band head: each 2-s window's mean 1024-point\n"
		"             spectrum in 60 bands of 125 Hz, scored by what the 32 principal\n"
		"             directions of the training windows leave unexplained (recordings of\n"
		"             a machine differ mostly along a few directions; a weak hiss, tone or\n"
		"             harmonic set adds a bump off them). AUC 0.726 (idnn16-fast-rise\n"
		"             0.716), 0.621 at the weakest level (0.607).\n"
		"  idnn16-fast-rise  idnn16-fast-stats (below) plus the rise heads (--rise-heads),\n"
		"             once a second: each\n"
		"             window's envelope spectra (its bands' level over 4-ms frames, 2-30 Hz:\n"
		"             a bearing's impacts, cavitation), the envelope spectrum of its\n"
		"             high-frequency level over contiguous 8-ms blocks (2-61 Hz: impacts\n"
		"             at a shaft's rate and its multiples) and tonal peaks (each bin of its\n"
		"             mean spectrum against its neighbours: a new tone), each scored by its\n"
		"             largest rises over the training windows; the median of the last seven\n"
		"             evaluations of what they exceed their normal range by adds to the\n"
		"             window's score. AUC 0.716; the daemon threshold is fitted to the\n"
		"             windows' tail by 5 cross-validated folds (models/README.md).\n");
	/* C99 compilers need not take a string longer than 4095 characters: three strings */
	fprintf(out,
		"  idnn16-fast-stats  idnn16-fast (below) plus a window head (--window-head): each\n"
		"             of the 15 bands of 0-7.5 kHz, its mean and spread of energy over 4-ms\n"
		"             frames (64 points every 256 samples) across each 2-s window, scored by\n"
		"             a full-covariance Gaussian of the training windows and added to the\n"
		"             network's score; a clip's score is the mean of its windows'. On\n"
		"             bench/eval_detector.sh AUC 0.674 (idnn16-fast 0.652, baseline 0.583),\n"
		"             steady faults 0.662 (0.621); 8.8 MFLOP per 10-s clip, 0.9 times the\n"
		"             default's CPU. The default before the rise heads.\n"
		"  idnn16-fast  the network alone: predicts the middle of five log-mel frames 64 ms\n"
		"             apart from the other four (--standardize --input-frames 0,1,3,4\n"
		"             --target-frames 2 --band-weights --aggregate top:0.2 --hidden 16\n"
		"             --hop-length 1024); 10,384 weights, 8 MFLOP. Brief events (knocks,\n"
		"             bursts) rank a little higher without the head (AUC 0.732 against\n"
		"             0.705 on transient faults), steady ones lower.\n"
		"  idnn16     the same on frames 32 ms apart (--hop-length 512), scored by the\n"
		"             largest 10%%: the same ranking for twice the work (16 MFLOP).\n"
		"  idnn16-stats  idnn16 plus the window head on 256-point frames every 128\n"
		"             samples: AUC 0.686 on bench/eval_detector.sh for 24 MFLOP per 10-s\n"
		"             clip, about idnn16-fast-stats' ranking for 2.7 times its work.\n"
		"  dcase2020  the DCASE 2020 Task 2 baseline, 640-128x4-8-128x4-640 on all five\n"
		"             frames, mean clip score: rank 2 of 11 on 4 seeds of 5, never caught\n"
		"             through auscultd; 265,864 weights, 174 MFLOP per 10-s clip.\n"
		"\n");
	fprintf(out,
		"  --out MODEL            model file to write (atomically)\n"
		"  --recipe NAME          idnn16-spec-burst, idnn16-spec-rise, idnn16-fast-rise,\n"
		"                         idnn16-fast-stats, idnn16-fast, idnn16, idnn16-stats or\n"
		"                         dcase2020 (idnn16-spec-burst)\n"
		"  --hidden LIST          hidden widths, e.g. 128,128,8,128,128 (16)\n"
		"  --epochs N             passes over the data (100)\n"
		"  --batch N              vectors per Adam step (512)\n"
		"  --lr X                 Adam learning rate (0.001)\n"
		"  --val-split X          share of the vectors, from the end, held out (0.1)\n"
		"  --seed N               weight init and shuffling seed (0)\n"
		"  --threads N            OpenBLAS threads; 0 = all cores (0)\n"
		"  --quantile Q           threshold = this quantile of the gamma fitted to the\n"
		"                         training clip scores (0.9)\n"
		"  --standardize          standardise each input dimension (training mean/std)\n"
		"  --input-frames LIST    stacked frames fed to the network, e.g. 0,1,3,4\n"
		"  --target-frames LIST   stacked frames it must reconstruct, e.g. 2\n"
		"  --band-weights         weight each band's error by 1 / its training mean error\n"
		"  --aggregate A          clip score: mean, or top:F = mean of the largest F\n"
		"                         (top:0.2)\n"
		"  --window-head          add the recipe's window head (the default has its\n"
		"                         spectrum head; others the band head); clip scores are\n"
		"                         then the mean of the 2-s window scores\n"
		"  --rise-heads           then add the rise heads (idnn16-spec-burst, with its\n"
		"                         bursts head, idnn16-spec-rise and idnn16-fast-rise\n"
		"                         have them)\n"
		"  --hop-length N         samples between log-mel frames, 1..1024 (1024; 512\n"
		"                         doubles the front end's and the network's work); with\n"
		"                         the window head, 4 or more of its short-frame hops\n"
		"                         (1024 for the default, 512 for idnn16-stats)\n"
		"  --quiet                no progress output\n"
		"\n"
		"Same seed and --threads give the same model bit for bit, but for the time it\n"
		"records (SOURCE_DATE_EPOCH sets it). Ctrl-C stops after the current batch\n"
		"without writing a model (exit status 130).\n");
}

/* --epochs N and the like: a whole number in [lo, hi] into a uint32_t. */
static int parse_u32(const struct cli_command *cli, const char *opt, const char *text, uint32_t lo,
		     uint32_t hi, uint32_t *out)
{
	uint64_t v;
	if (cli_parse_uint(cli, opt, text, lo, hi, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

struct progress {
	int tty;
	int quiet;
	double start_s;
};

static void on_loaded(void *ctx, uint32_t done, uint32_t total, const char *path)
{
	const struct progress *p = ctx;
	if (p->quiet || !p->tty)
		return;
	fprintf(stderr, "\rloading features: %u/%u files", done, total);
	if (done == total)
		fputc('\n', stderr);
	(void)path;
}

static void on_epoch(void *ctx, const struct trainer_epoch_stats *st, uint32_t epochs)
{
	const struct progress *p = ctx;
	if (p->quiet)
		return;
	double spent = clock_mono_s() - p->start_s;
	double left = spent / st->epoch * (epochs - st->epoch);
	if (p->tty) {
		enum { W = 24 };
		char bar[W + 1];
		uint32_t fill = (uint32_t)((uint64_t)W * st->epoch / epochs);
		for (uint32_t i = 0; i < W; i++)
			bar[i] = i < fill ? '=' : ' ';
		bar[W] = '\0';
		fprintf(stderr, "\repoch %u/%u [%s] loss %.4f val %.4f  %d:%02d left ", st->epoch,
			epochs, bar, (double)st->train_loss, (double)st->val_loss, (int)(left / 60),
			(int)fmod(left, 60.0));
		if (st->epoch == epochs)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "epoch %u/%u: loss %.6f val_loss %.6f (%.2f s)\n", st->epoch,
			epochs, (double)st->train_loss, (double)st->val_loss, st->seconds);
	}
}

/* Fails early (before minutes of training) when the model's folder cannot take the file. */
static int check_out_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "auscult train: --out %s: cannot write in %s: %s\n", path, dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

enum {
	OPT_OUT = 256,
	OPT_RECIPE,
	OPT_HIDDEN,
	OPT_EPOCHS,
	OPT_BATCH,
	OPT_LR,
	OPT_VAL,
	OPT_SEED,
	OPT_THREADS,
	OPT_QUANTILE,
	OPT_STD,
	OPT_IN,
	OPT_TARGET,
	OPT_BANDS,
	OPT_AGG,
	OPT_QUIET,
	OPT_HEAD,
	OPT_RISE,
	OPT_HOP,
	OPT_HELP
};

int cmd_train(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "out", required_argument, NULL, OPT_OUT },
		{ "recipe", required_argument, NULL, OPT_RECIPE },
		{ "hidden", required_argument, NULL, OPT_HIDDEN },
		{ "epochs", required_argument, NULL, OPT_EPOCHS },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "val-split", required_argument, NULL, OPT_VAL },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "quantile", required_argument, NULL, OPT_QUANTILE },
		{ "standardize", no_argument, NULL, OPT_STD },
		{ "input-frames", required_argument, NULL, OPT_IN },
		{ "target-frames", required_argument, NULL, OPT_TARGET },
		{ "band-weights", no_argument, NULL, OPT_BANDS },
		{ "aggregate", required_argument, NULL, OPT_AGG },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "window-head", no_argument, NULL, OPT_HEAD },
		{ "rise-heads", no_argument, NULL, OPT_RISE },
		{ "hop-length", required_argument, NULL, OPT_HOP },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct train_options o;
	train_options_defaults(&o);
	struct feature_params fp;
	struct auscult_err err = { { 0 } };
	const char *out = NULL, *in_frames = NULL, *target_frames = NULL;
	int quiet = 0;
	uint32_t u;
	struct cli_command cli = { "train", usage, argc, argv, false };

	/*
	 * First pass: only --recipe (the last one wins), so that it sets the fields before any other
	 * option overrides one of them, wherever it stands on the line. Errors wait for pass two.
	 */
	const char *recipe = TRAIN_RECIPE_DEFAULT;
	int c, saved_opterr = opterr;
	opterr = 0;
	optind = 0; /* glibc: a full reset, as a second scan of the same argv needs */
	while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1)
		if (c == OPT_RECIPE)
			recipe = optarg;
	opterr = saved_opterr;
	if (train_options_recipe(&o, recipe, &err)) {
		fprintf(stderr, "auscult train: --%s\n", err.msg);
		return CLI_EXIT_USAGE;
	}
	fp = o.features;

	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_RECIPE:
			break;
		case 'o':
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_HIDDEN:
			if (trainer_parse_hidden(&o.trainer, optarg, &err)) {
				fprintf(stderr, "auscult train: --%s\n", err.msg);
				return 2;
			}
			break;
		case OPT_EPOCHS:
			if (parse_u32(&cli, "--epochs", optarg, 1, MODEL_CURVE_MAX_EPOCHS,
				      &o.trainer.epochs))
				return CLI_EXIT_USAGE;
			break;
		case OPT_BATCH:
			if (parse_u32(&cli, "--batch", optarg, 1, 1048576, &o.trainer.batch_size))
				return CLI_EXIT_USAGE;
			break;
		case OPT_LR:
			if (cli_parse_float(&cli, "--lr", optarg, 0.0, 10.0, CLI_LO_OPEN,
					    &o.trainer.learning_rate))
				return CLI_EXIT_USAGE;
			break;
		case OPT_VAL:
			if (cli_parse_float(&cli, "--val-split", optarg, 0.0, 1.0, CLI_HI_OPEN,
					    &o.trainer.validation_split))
				return CLI_EXIT_USAGE;
			break;
		case OPT_SEED:
			if (cli_parse_uint(&cli, "--seed", optarg, 0, UINT64_MAX, &o.trainer.seed))
				return CLI_EXIT_USAGE;
			break;
		case OPT_THREADS:
			if (parse_u32(&cli, "--threads", optarg, 0, 256, &u))
				return CLI_EXIT_USAGE;
			o.trainer.threads = (int)u;
			break;
		case OPT_QUANTILE:
			if (cli_parse_float(&cli, "--quantile", optarg, 0.0, 1.0, CLI_OPEN,
					    &o.quantile))
				return CLI_EXIT_USAGE;
			break;
		case OPT_STD:
			o.standardize = true;
			break;
		case OPT_IN:
			in_frames = optarg;
			break;
		case OPT_TARGET:
			target_frames = optarg;
			break;
		case OPT_BANDS:
			o.band_weights = true;
			break;
		case OPT_AGG:
			if (train_parse_aggregate(&o, optarg, &err)) {
				fprintf(stderr, "auscult train: --%s\n", err.msg);
				return 2;
			}
			break;
		case OPT_QUIET:
			quiet = 1;
			break;
		case OPT_HEAD:
			o.window_head = true;
			break;
		case OPT_RISE:
			o.rise_heads = true;
			break;
		case OPT_HOP:
			if (parse_u32(&cli, "--hop-length", optarg, 1, fp.n_fft, &fp.hop_length))
				return CLI_EXIT_USAGE;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!out)
		return cli_usage_error(&cli, "--out MODEL is required");
	if (o.rise_heads && !o.window_head)
		return cli_usage_error(&cli, "--rise-heads needs --window-head (the rise heads' "
					     "envelopes are the window head's bands)");
	/* Checked now, not after the training: the head's short frames tile the features' hop. */
	if (o.window_head &&
	    (fp.hop_length % o.head_shape.hop != 0 || fp.hop_length / o.head_shape.hop < 4))
		return cli_usage_error(
			&cli,
			"--hop-length %u: this recipe's window head takes a short frame "
			"every %u samples, at least 4 per log-mel hop; give a multiple "
			"of %u from %u, or a recipe without the head",
			fp.hop_length, o.head_shape.hop, o.head_shape.hop, 4 * o.head_shape.hop);
	if (optind >= argc)
		return cli_usage_error(&cli, "no training data: give folders or files of "
					     "recordings of the healthy machine");
	if (in_frames &&
	    train_parse_frames("input-frames", in_frames, fp.n_stack, &o.input_frames, &err)) {
		fprintf(stderr, "auscult train: --%s\n", err.msg);
		return 2;
	}
	if (target_frames && train_parse_frames("target-frames", target_frames, fp.n_stack,
						&o.target_frames, &err)) {
		fprintf(stderr, "auscult train: --%s\n", err.msg);
		return 2;
	}
	if (check_out_dir(out))
		return 1;

	int status = 1;
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct model m;
	memset(&m, 0, sizeof(m));
	struct train_result res;
	memset(&res, 0, sizeof(res));
	struct progress prog = { .tty = isatty(STDERR_FILENO), .quiet = quiet };

	for (int i = optind; i < argc; i++)
		if (dataset_add_path(&ds, argv[i], &err)) {
			fprintf(stderr, "auscult train: %s\n", err.msg);
			goto out;
		}
	if (dataset_load(&ds, &fp, on_loaded, &prog, &err)) {
		fprintf(stderr, "auscult train: %s\n", err.msg);
		goto out;
	}
	if (!quiet)
		fprintf(stderr, "%u files, %llu vectors of %u values\n", ds.n_files,
			(unsigned long long)ds.n_vectors, ds.dim);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	struct sigaction old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	prog.start_s = clock_mono_s();
	int rc = train_model(&m, &ds, &o, on_epoch, &prog, &stop_signal, &res, &err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc == AUSCULT_ERR_INTERRUPTED) {
		if (prog.tty && !quiet)
			fputc('\n', stderr);
		fprintf(stderr, "auscult train: %s\n", err.msg);
		status = 128 + (int)stop_signal;
		goto out;
	}
	if (rc) {
		fprintf(stderr, "auscult train: %s\n", err.msg);
		goto out;
	}
	if (o.window_head) {
		/* fitted on the daemon's windows; its clip scores replace the network's */
		struct pipeline_settings ps;
		pipeline_settings_defaults(&ps);
		/* their messages name the head themselves (head_fit.h, rise_fit.h) */
		if (head_fit(&m, &ps, &o.head_shape, ds.paths, ds.n_files, &err) ||
		    (o.rise_heads && rise_fit(&m, &ps, ds.paths, ds.n_files, o.bursts, &err))) {
			fprintf(stderr, "auscult train: %s\n", err.msg);
			goto out;
		}
		/* once, with every head in */
		if (head_fit_threshold(&m, ds.paths, ds.n_files, &err)) {
			fprintf(stderr, "auscult train: threshold: %s\n", err.msg);
			goto out;
		}
	}
	if (model_save(&m, out, &err)) {
		fprintf(stderr, "auscult train: %s\n", err.msg);
		goto out;
	}
	double mean = 0, lo = INFINITY, hi = -INFINITY;
	for (uint32_t i = 0; i < res.n_clip_scores; i++) {
		double s = res.clip_scores[i];
		mean += s / res.n_clip_scores;
		lo = s < lo ? s : lo;
		hi = s > hi ? s : hi;
	}
	if (!quiet) {
		fprintf(stderr,
			"trained %u epochs on %llu vectors (%llu held out): loss %.6f val_loss %.6f "
			"(%.1f s)\n",
			res.epochs_run, (unsigned long long)res.train_rows,
			(unsigned long long)res.val_rows, (double)res.train_loss,
			(double)res.val_loss, clock_mono_s() - prog.start_s);
		fprintf(stderr,
			"%s clip scores: min %.6g mean %.6g max %.6g; gamma shape %.6g scale "
			"%.6g%s\n",
			m.head ? "network's training" : "training", lo, mean, hi,
			(double)m.threshold.gamma_shape, (double)m.threshold.gamma_scale,
			m.head ? " (fitted to the clip scores with the window head)" : "");
	}
	printf("%s: threshold %.6g (gamma quantile %.3g)\n", out, (double)m.threshold.threshold,
	       (double)m.threshold.quantile);
	status = 0;
out:
	free(res.clip_scores);
	model_free(&m);
	dataset_free(&ds);
	return status;
}
