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
#include "config/daemon_config.h"
#include "pipeline/clip_replay.h"
#include "pipeline/pipeline.h"
#include "publish/payloads.h"
#include "tools/cli_args.h"
#include "tools/pipeline_args.h"
#include "tools/silent_clip.h"
#include "tools/commands.h"

/* Vectors per forward pass: a 10 s clip (309 vectors) in two passes, ~0.5 MB of activations. */
#define SCORE_MAX_BATCH 256

static void score_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult score --model MODEL [--threshold X] [--json] FILES_OR_DIRS...\n"
		"       auscult score --windows [--model MODEL | --config FILE --monitor NAME]\n"
		"                     [--window-s S] [--hop-s H] [--smoothing ema|median|none]\n"
		"                     [--smoothing-windows N] [--threshold X] [--anomaly-after N]\n"
		"                     [--normal-after N] [--silence-dbfs DB|off] [--settle-s S]\n"
		"                     [--json] FILES_OR_DIRS...\n"
		"\n"
		"Scores each audio file with the model (folders: every audio file in them,\n"
		"recursively) and prints one line per file: path<TAB>score<TAB>decision, where the\n"
		"decision is 'anomaly' when score > threshold, else 'normal'; an anomaly quieter\n"
		"than the daemon's gate (" PIPELINE_SILENCE_DBFS_DEFAULT_TEXT
		" dBFS: a machine off, a muted microphone) is 'silent'\n"
		"instead, with a note on stderr. For a model with a window head (auscult train\n"
		"--window-head) the score is the mean of the daemon's 2-s window scores over the\n"
		"file (no gate).\n"
		"\n"
		"  --model MODEL   model file written by `auscult train` (.am)\n"
		"  --threshold X   decide against X instead of the model's stored threshold\n"
		"  --json          print a JSON array of {file, score, threshold, decision} instead\n"
		"\n"
		"With --windows, each file is replayed through exactly the daemon's pipeline (its\n"
		"windows, gate, smoothing and hysteresis; the same defaults as auscultd, or a\n"
		"monitor's settings with --config/--monitor, which options given after them change)\n"
		"and one line per window is printed: file, time_s (end of the window, seconds from\n"
		"the file's start), raw and smoothed score, state, event (start, end or -). Idle\n"
		"windows (machine off or settling) have no smoothed score, as the daemon publishes\n"
		"none for them. --json prints an array of window objects instead, each with\n"
		"\"parts\": the terms of its raw score (network, window_head, rise), those the\n"
		"model has, and with rise heads \"rise_heads\": the rise part by the head that\n"
		"added it (envelope, tones, impulses, bursts), and \"rise_at\": where those that\n"
		"added something heard most (a tone's Hz; how many times a second a level rose\n"
		"and fell, and in which band; the band a burst rang in).\n"
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

/* Closes the JSON array (w not NULL) and checks that everything reached stdout. Returns 0, or
 * -1 with the fault on stderr. */
static int finish_output(struct json_writer *w, size_t printed)
{
	struct auscult_err err;
	if (w) {
		if (printed)
			json_line_break(w, 0);
		json_array_close(w);
		putchar('\n');
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "auscult score: writing the results failed: %s\n", strerror(errno));
		return -1;
	}
	if (w && json_writer_finish(w, NULL, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* ---- --windows: the daemon's verdict, window by window --------------------------------------- */

struct windows_out {
	const char *path;
	bool json;
	struct json_writer *w;
	float threshold;
	size_t printed;
};

/* "KEY":{NAME:VALUE,..}: a window's terms first .. first + n - 1 (detect/detector.h) that it has
 * (NaN: the model has no such term); none: no field. */
static void window_terms(struct json_writer *w, const char *key, const struct detector_parts *p,
			 int first, int n)
{
	int any = 0;
	for (int k = first; k < first + n; k++) {
		float v = detector_parts_term(p, k);
		if (isnan(v))
			continue;
		if (!any++) {
			json_key(w, key);
			json_object_open(w);
		}
		json_field_float(w, detector_term_name(k), v);
	}
	if (any)
		json_object_close(w);
}

static void print_window(void *ctx, const struct pipeline_window *pw)
{
	struct windows_out *o = ctx;
	const struct detector_output *d = &pw->det;
	const char *event = !d->has_event                           ? "-"
			    : d->event.type == DETECTOR_EVENT_START ? "start"
								    : "end";
	if (!o->json) {
		printf("%s\t%.3f\t%.9g\t", o->path, pw->stream_s, (double)pw->raw);
		if (isnan(pw->smoothed))
			printf("-");
		else
			printf("%.9g", (double)pw->smoothed);
		printf("\t%s\t%s\n", detector_state_name(d->state), event);
		o->printed++;
		return;
	}
	struct json_writer *w = o->w;
	json_line_break(w, 2);
	json_object_open(w);
	json_field_string(w, "file", o->path);
	json_field_double_digits(w, "time_s", pw->stream_s, 9);
	json_field_float(w, "raw", pw->raw);
	json_field_float(w, "smoothed", pw->smoothed);
	json_field_float(w, "threshold", o->threshold);
	json_field_uint(w, "counted", pw->n_counted);
	/* the terms raw sums, those the model has (what made a window high), and the rise part
	 * by the head that added it */
	window_terms(w, "parts", &pw->parts, 0, DETECTOR_N_PARTS);
	window_terms(w, "rise_heads", &pw->parts, DETECTOR_N_PARTS, DETECTOR_N_RISE_HEADS);
	/* where the heads that added something heard most */
	uint32_t added = 0;
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++)
		if (pw->parts.rise[h] > 0.0f)
			added |= 1u << h;
	payload_rise_at_field(w, &pw->parts, added);
	json_field_string(w, "state", detector_state_name(d->state));
	json_key(w, "event");
	if (!d->has_event) {
		json_null(w);
	} else {
		json_object_open(w);
		json_field_string(w, "type", event);
		json_field_double_digits(w, "start_s", (double)d->event.start_ms / 1000.0, 9);
		if (d->event.type == DETECTOR_EVENT_END)
			json_field_double_digits(w, "end_s", (double)d->event.end_ms / 1000.0, 9);
		json_field_double_digits(w, "duration_s", d->event.duration_s, 9);
		json_field_float(w, "peak", d->event.peak);
		json_field_float(w, "mean", d->event.mean);
		json_object_close(w);
	}
	json_object_close(w);
	o->printed++;
}

static int score_windows(int argc, char **argv)
{
	const char *model_path = NULL, *config_path = NULL, *monitor = NULL;
	bool json = false;
	int n_in = 1; /* the inputs, gathered into argv[1 .. n_in - 1] as they come */
	struct cli_command cli = { "score", score_usage, argc, argv, false };
	struct pipeline_settings ps;
	struct daemon_config dc = { 0 };
	struct model m = { 0 };
	struct clip_list list = { 0 };
	struct pipeline *pl = NULL;
	struct auscult_err err;
	struct json_writer w;
	int status = 1;
	int channel = AUDIO_CHANNEL_AVERAGE;

	pipeline_settings_defaults(&ps);
	/* --config/--monitor first, so that options on the command line change what it gives. */
	for (int i = 1; i < argc; i++) {
		const char *v;
		if ((v = cli_option_value(&cli, &i, "--config")))
			config_path = v;
		else if ((v = cli_option_value(&cli, &i, "--monitor")))
			monitor = v;
		else if (cli.failed)
			return CLI_EXIT_USAGE;
	}
	if (!config_path != !monitor)
		return cli_usage_error(&cli, "--config FILE and --monitor NAME go together");
	if (config_path) {
		if (daemon_config_load(&dc, config_path, &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult score: %s\n", err.msg);
			return 1;
		}
		size_t k = 0;
		while (k < dc.n_monitors && strcmp(dc.monitors[k].name, monitor) != 0)
			k++;
		if (k == dc.n_monitors) {
			fprintf(stderr, "auscult score: %s: no monitor named '%s'\n", config_path,
				monitor);
			goto done;
		}
		ps = dc.monitors[k].pipeline;
		model_path = dc.monitors[k].model_path;
		channel = dc.monitors[k].channel;
	}
	for (int i = 1; i < argc; i++) {
		const char *v;
		bool matched;
		if (cli_is_help(argv[i])) {
			score_usage(stdout);
			status = 0;
			goto done;
		} else if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--windows") == 0) {
			json |= argv[i][2] == 'j';
		} else if ((v = cli_option_value(&cli, &i, "--model"))) {
			model_path = v;
		} else if (cli_option_value(&cli, &i, "--config") ||
			   cli_option_value(&cli, &i, "--monitor")) {
			continue;
		} else if (pipeline_args_option(&cli, &i, &ps, &matched) != 0) {
			status = CLI_EXIT_USAGE;
			goto done;
		} else if (matched) {
			continue;
		} else if (cli.failed) {
			status = CLI_EXIT_USAGE;
			goto done;
		} else if (strcmp(argv[i], "--") == 0) {
			while (++i < argc)
				argv[n_in++] = argv[i];
			break;
		} else if (cli_is_option(argv[i])) {
			status = cli_usage_error(&cli, "unknown option '%s'", argv[i]);
			goto done;
		} else {
			argv[n_in++] =
				argv[i]; /* options may follow: n_in <= i, nothing unread moves */
		}
	}
	if (!model_path) {
		status = cli_usage_error(&cli, "--model MODEL (or --config FILE --monitor NAME) is "
					       "required");
		goto done;
	}
	if (n_in == 1) {
		status = cli_usage_error(&cli, "no files or folders to score");
		goto done;
	}
	if (pipeline_args_check(&cli, &ps) != 0) {
		status = CLI_EXIT_USAGE;
		goto done;
	}
	if (model_load(&m, model_path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s\n", err.msg);
		goto done;
	}
	struct windows_out out = { .json = json, .w = &w };
	struct pipeline_config pc = {
		.model = &m, .settings = ps, .on_window = print_window, .ctx = &out
	};
	if (pipeline_create(&pl, &pc, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s: %s\n", model_path, err.msg);
		goto done;
	}
	out.threshold = pipeline_threshold(pl);
	bool any_failed = false;
	for (int i = 1; i < n_in; i++) {
		if (clip_list_add(&list, argv[i], &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult score: %s\n", err.msg);
			any_failed = true;
		}
	}
	if (json) {
		json_writer_init_file(&w, stdout);
		json_writer_spaced(&w);
		json_array_open(&w);
	} else {
		printf("file\ttime_s\traw\tsmoothed\tstate\tevent\n");
	}
	for (size_t i = 0; i < list.count; i++) {
		out.path = list.paths[i];
		size_t before = out.printed;
		if (pipeline_replay_file(pl, list.paths[i], channel, PIPELINE_REPLAY_WARN, &err) !=
		    AUSCULT_OK) {
			fflush(stdout);
			fprintf(stderr, "auscult score: %s\n", err.msg);
			any_failed = true;
		} else if (out.printed == before) {
			/* Not a silent success: the file gave no window to print. */
			fflush(stdout);
			fprintf(stderr,
				"auscult score: %s: %.3f s of audio, too short for one window of %g s "
				"and its model context; no window scored\n",
				list.paths[i], (double)pipeline_stream_end_ms(pl) / 1e3,
				ps.window_s);
			any_failed = true;
		}
		fflush(stdout);
	}
	if (finish_output(json ? &w : NULL, out.printed) != 0)
		goto done;
	status = any_failed ? 1 : 0;
done:
	pipeline_destroy(pl);
	clip_list_free(&list);
	model_free(&m);
	daemon_config_free(&dc);
	return status;
}

/* ---- whole clips ----------------------------------------------------------------------------- */

int cmd_score(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--windows") == 0)
			return score_windows(argc, argv);

	const char *model_path = NULL;
	const char *threshold_text = NULL;
	bool json = false;
	int n_in = 1; /* the inputs, gathered into argv[1 .. n_in - 1] as they come */
	struct model m = { 0 };
	struct autoencoder ae = { 0 };
	struct clip_replay *replay = NULL;
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
			while (++i < argc)
				argv[n_in++] = argv[i];
			break;
		} else if (cli_is_option(argv[i])) {
			return cli_usage_error(&cli, "unknown option '%s'", argv[i]);
		} else {
			argv[n_in++] =
				argv[i]; /* options may follow: n_in <= i, nothing unread moves */
		}
	}
	if (!model_path)
		return cli_usage_error(&cli, "--model MODEL is required");
	if (n_in == 1)
		return cli_usage_error(&cli, "no files or folders to score");
	double threshold_override = NAN;
	if (threshold_text && cli_parse_double(&cli, "--threshold", threshold_text, 0.0, INFINITY,
					       CLI_CLOSED, &threshold_override))
		return CLI_EXIT_USAGE;

	if (model_load(&m, model_path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s\n", err.msg);
		goto done;
	}
	if (autoencoder_init(&ae, &m, SCORE_MAX_BATCH, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s: %s\n", model_path, err.msg);
		goto done;
	}
	if (clip_replay_create(&replay, &m, &ae, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult score: %s: %s\n", model_path, err.msg);
		goto done;
	}
	bool any_failed = false;
	for (int i = 1; i < n_in; i++) {
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
		if (clip_replay_score(replay, list.paths[i], &score, &err) != AUSCULT_OK) {
			fflush(stdout);
			fprintf(stderr, "auscult score: %s\n", err.msg);
			any_failed = true;
			continue;
		}
		const char *decision = (double)score > threshold ? "anomaly" : "normal";
		/* Only anomalies are read again: normal clips cost nothing more. */
		if (*decision == 'a' &&
		    silent_clip_note("score", list.paths[i], m.features.sample_rate_hz,
				     "its score says nothing about the machine (decision 'silent'); "
				     "check the microphone's gain or that the machine was running"))
			decision = "silent";
		if (json) {
			json_result(&w, list.paths[i], (double)score, threshold, decision);
		} else {
			printf("%s\t%.6f\t%s\n", list.paths[i], (double)score, decision);
		}
		fflush(stdout); /* a long run shows progress line by line, even through a pipe */
		printed++;
	}
	if (finish_output(json ? &w : NULL, printed) != 0)
		goto done;
	status = any_failed ? 1 : 0;
done:
	clip_list_free(&list);
	clip_replay_destroy(replay);
	autoencoder_free(&ae);
	model_free(&m);
	return status;
}
