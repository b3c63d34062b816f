/* cmd_record.c - `auscult record`: record a machine as 10-s WAV clips to train a model on. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_source.h"
#include "common/clock.h"
#include "common/status.h"
#include "features/feature_params.h"
#include "learn/clip_writer.h"
#include "learn/level_meter.h"
#include "pipeline/pipeline.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

/* 100 ms per read at 16 kHz; the meter shows every RECORD_METER_S. */
#define RECORD_READ_SAMPLES 1600
#define RECORD_READ_TIMEOUT_MS 250
#define RECORD_METER_S 0.5
/* A device that delivers nothing this long is gone (the daemon's stall limit too). */
#define RECORD_STALL_S 2.0
/* Quieter than this, but above the silence gate, the machine is barely heard: the log-mel
 * features then hold more of the microphone's own noise than of the machine. */
#define RECORD_LOW_DBFS -50.0
/* Capture ring: a clip's worth, so that a slow disk (an SD card syncing a clip) loses nothing. */
#define RECORD_RING_S 10.0

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* The rate the default model features use: clips are recorded at it. */
static uint32_t default_rate_hz(void)
{
	struct feature_params fp;
	feature_params_defaults(&fp);
	return fp.sample_rate_hz;
}

static void record_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult record --device DEVICE --minutes N --out DIR [--rate HZ] [--channels C]\n"
		"       auscult record --file AUDIO --minutes N --out DIR\n"
		"\n"
		"Records the machine running normally as %g-s 16-bit WAV clips at the rate the\n"
		"model's features use (%u Hz; other device rates are converted), named with the UTC\n"
		"time of their first sample (20261204T161500Z.wav), for `auscult train`. A clip is\n"
		"written under a hidden temporary name and renamed when complete. On a terminal a\n"
		"progress bar shows the level; it warns when the level is low (below %g dBFS),\n"
		"clipped, or so quiet the machine seems off (below %s dBFS, the daemon's silence\n"
		"gate). Ctrl-C stops: complete clips are kept, the partial one removed (exit 130).\n"
		"\n"
		"  --device DEVICE  capture device: an index, part of a name listed by `auscult\n"
		"                   devices`, or an ALSA PCM name (hw:1,0)\n"
		"  --file AUDIO     read an audio file instead (tests, re-cutting a long recording)\n"
		"  --minutes N      how long to record (fractions allowed; rounded up to whole clips)\n"
		"  --out DIR        folder for the clips (created if missing)\n"
		"  --rate HZ        open the device at this rate (default: %u if it can)\n"
		"  --channels C     open C channels and average them (default 1)\n",
		CLIP_WRITER_DEFAULT_S, default_rate_hz(), RECORD_LOW_DBFS,
		PIPELINE_SILENCE_DBFS_DEFAULT_TEXT, default_rate_hz());
}

/* What the level says about the sound, worst first. */
enum record_warning { WARN_NONE = 0, WARN_LOW, WARN_CLIPPED, WARN_OFF };

static enum record_warning judge(const struct level_meter *lm)
{
	double rms = level_meter_rms_dbfs(lm);
	if (rms < PIPELINE_SILENCE_DBFS_DEFAULT)
		return WARN_OFF;
	if (lm->clipped > 0)
		return WARN_CLIPPED;
	if (rms < RECORD_LOW_DBFS)
		return WARN_LOW;
	return WARN_NONE;
}

static const char *warning_text(enum record_warning w)
{
	switch (w) {
	case WARN_OFF:
		return "below the silence gate (" PIPELINE_SILENCE_DBFS_DEFAULT_TEXT
		       " dBFS): the machine "
		       "seems off, or the microphone is muted; record it running";
	case WARN_CLIPPED:
		return "clipped: the sound reaches full scale; lower the input gain";
	case WARN_LOW:
		return "level low: raise the input gain or move the microphone closer";
	default:
		return "";
	}
}

static const char *warning_tag(enum record_warning w)
{
	return w == WARN_OFF ? "OFF?" : w == WARN_CLIPPED ? "CLIP" : w == WARN_LOW ? "LOW" : "ok";
}

struct recording {
	const char *out_dir;
	uint32_t rate_hz;
	uint64_t want;  /* samples to record */
	uint64_t total; /* samples so far */
	uint32_t clips_want;
	uint32_t clips_done;
	uint32_t clips_warned; /* clips during which a warning held */
	int tty;
	struct level_meter meter;  /* the current RECORD_METER_S block */
	struct level_meter clip;   /* the clip in progress */
	enum record_warning shown; /* the warning last printed (printed again when it changes) */
	enum record_warning clip_worst;
};

static void show_meter(struct recording *r, enum record_warning w)
{
	double done_s = (double)r->total / r->rate_hz, want_s = (double)r->want / r->rate_hz;
	if (r->tty) {
		enum { W = 30 };
		char bar[W + 1];
		size_t fill = (size_t)((double)W * (double)r->total / (double)r->want);
		for (size_t i = 0; i < W; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[W] = '\0';
		double rms = level_meter_rms_dbfs(&r->meter);
		/* 60 dB of meter from -60 to 0 dBFS, one mark per 3 dB. */
		char vu[21];
		int marks = isfinite(rms) ? (int)((rms + 60.0) / 3.0) : 0;
		for (int i = 0; i < 20; i++)
			vu[i] = i < marks ? '|' : ' ';
		vu[20] = '\0';
		fprintf(stderr, "\r[%s] %5.1f/%.0f s, %u/%u clips  level %6.1f dBFS [%s] %-4s ",
			bar, done_s, want_s, r->clips_done, r->clips_want, rms, vu, warning_tag(w));
	}
	if (w != r->shown) {
		if (r->tty)
			fputc('\n', stderr);
		if (w != WARN_NONE)
			fprintf(stderr, "auscult record: warning at %.1f s: %s (%.1f dBFS)\n",
				done_s, warning_text(w), level_meter_rms_dbfs(&r->meter));
		else
			fprintf(stderr, "auscult record: level fine again at %.1f s (%.1f dBFS)\n",
				done_s, level_meter_rms_dbfs(&r->meter));
		r->shown = w;
	}
}

/* Accounts for n samples just read: the meter every RECORD_METER_S. */
static void note_samples(struct recording *r, const float *x, size_t n)
{
	const uint64_t block = (uint64_t)(RECORD_METER_S * r->rate_hz);
	r->total += n;
	size_t i = 0;
	while (i < n) {
		size_t take = (size_t)(block - r->meter.n);
		if (take > n - i)
			take = n - i;
		level_meter_push(&r->meter, x + i, take);
		i += take;
		if (r->meter.n == block) {
			enum record_warning w = judge(&r->meter);
			if (w > r->clip_worst)
				r->clip_worst = w;
			show_meter(r, w);
			level_meter_reset(&r->meter);
		}
	}
}

/* One line per finished clip when stderr is not a terminal (logs, CI); the bar says it else. */
static void note_clip(struct recording *r, const char *path)
{
	r->clips_done++;
	if (r->clip_worst != WARN_NONE)
		r->clips_warned++;
	if (!r->tty)
		fprintf(stderr, "clip %u/%u: %s: level %.1f dBFS, peak %.1f dBFS%s%s\n",
			r->clips_done, r->clips_want, path, level_meter_rms_dbfs(&r->clip),
			level_meter_peak_dbfs(&r->clip), r->clip_worst ? ", " : "",
			r->clip_worst ? warning_tag(r->clip_worst) : "");
	level_meter_reset(&r->clip);
	r->clip_worst = WARN_NONE;
}

/* Makes DIR if it is missing (one level, like mkdir). */
static int make_out_dir(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		fprintf(stderr, "auscult record: --out %s: not a folder\n", dir);
		return -1;
	}
	if (mkdir(dir, 0755) != 0) {
		fprintf(stderr, "auscult record: --out %s: cannot create the folder: %s\n", dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* The audio source the options name. */
static void source_config(struct audio_source_config *cfg, const char *device, const char *file,
			  uint64_t rate_hz, uint64_t channels)
{
	audio_source_config_defaults(cfg);
	cfg->output_rate_hz = default_rate_hz();
	cfg->channel = AUDIO_CHANNEL_AVERAGE;
	if (file) {
		cfg->kind = AUDIO_SOURCE_FILE;
		cfg->path = file;
		return;
	}
	cfg->kind = AUDIO_SOURCE_PORTAUDIO;
	char *end = NULL;
	long index = strtol(device, &end, 10);
	if (end && *end == '\0' && end != device && index >= 0)
		cfg->device_index = (int)index;
	else
		cfg->device_name = device;
	cfg->input_rate_hz = (uint32_t)rate_hz;
	cfg->input_channels = (uint32_t)channels;
	cfg->ring_seconds = RECORD_RING_S;
}

/* Reads until r->want samples are in clips, the input ends, fails, or a signal comes.
 * Returns 0 when done, 1 on failure (printed), 128 + the signal when stopped. */
static int record_loop(struct recording *r, struct audio_source *src, struct clip_writer *cw,
		       int64_t start_ms)
{
	float buf[RECORD_READ_SAMPLES];
	struct auscult_err err;
	double last_audio_s = clock_mono_s();
	while (r->total < r->want) {
		if (stop_signal)
			return 128 + (int)stop_signal;
		size_t got = 0, ask = RECORD_READ_SAMPLES;
		if (r->want - r->total < ask)
			ask = (size_t)(r->want - r->total);
		int rc = audio_source_read(src, buf, ask, &got, RECORD_READ_TIMEOUT_MS, &err);
		if (rc == AUSCULT_ERR_INTERRUPTED || (stop_signal && got == 0))
			return 128 + (int)(stop_signal ? stop_signal : SIGINT);
		if (rc == AUSCULT_ERR_TIMEOUT || (rc == AUSCULT_OK && got == 0)) {
			if (clock_mono_s() - last_audio_s > RECORD_STALL_S) {
				fprintf(stderr,
					"%sauscult record: no audio for %.0f s from %s: the "
					"device stopped delivering\n",
					r->tty ? "\n" : "", RECORD_STALL_S,
					audio_source_describe(src));
				return 1;
			}
			continue;
		}
		if (rc == AUSCULT_ERR_EOF) {
			fprintf(stderr,
				"%sauscult record: the input ended after %.1f s, before the "
				"%.1f s asked for\n",
				r->tty ? "\n" : "", (double)r->total / r->rate_hz,
				(double)r->want / r->rate_hz);
			return 0;
		}
		if (rc != AUSCULT_OK) {
			fprintf(stderr, "%sauscult record: %s\n", r->tty ? "\n" : "", err.msg);
			return 1;
		}
		last_audio_s = clock_mono_s();
		/* Clip names follow the audio's own time from the start, so that an input faster
		 * than real time (a file) still gets one distinct name per clip. */
		int64_t at_ms = start_ms + (int64_t)((double)r->total * 1000.0 / r->rate_hz);
		uint32_t completed = 0;
		rc = clip_writer_push(cw, buf, got, at_ms, &completed, &err);
		/* The clip's line first, so that the bar counts it when it reaches its end. */
		level_meter_push(&r->clip, buf, got);
		if (completed)
			note_clip(r, clip_writer_last_path(cw));
		note_samples(r, buf, got);
		if (rc != AUSCULT_OK) {
			fprintf(stderr, "%sauscult record: %s\n", r->tty ? "\n" : "", err.msg);
			return 1;
		}
	}
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct cli_command cli = { "record", record_usage, argc, argv, false };
	const char *device = NULL, *file = NULL, *out_dir = NULL;
	double minutes = NAN;
	uint64_t rate_hz = 0, channels = 1;

	for (int i = 1; i < argc; i++) {
		const char *v;
		int bad = 0;
		if (cli_is_help(argv[i])) {
			record_usage(stdout);
			return 0;
		} else if ((v = cli_option_value(&cli, &i, "--device"))) {
			device = v;
		} else if ((v = cli_option_value(&cli, &i, "--file"))) {
			file = v;
		} else if ((v = cli_option_value(&cli, &i, "--out"))) {
			out_dir = v;
		} else if ((v = cli_option_value(&cli, &i, "--minutes"))) {
			bad = cli_parse_double(&cli, "--minutes", v, 0.0, 10080.0, CLI_LO_OPEN,
					       &minutes);
		} else if ((v = cli_option_value(&cli, &i, "--rate"))) {
			bad = cli_parse_uint(&cli, "--rate", v, 1000, 384000, &rate_hz);
		} else if ((v = cli_option_value(&cli, &i, "--channels"))) {
			bad = cli_parse_uint(&cli, "--channels", v, 1, 64, &channels);
		} else if (cli.failed) {
			return CLI_EXIT_USAGE;
		} else {
			return cli_usage_error(&cli, "unknown argument '%s'", argv[i]);
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	if (!device == !file)
		return cli_usage_error(&cli,
				       device ? "--device and --file exclude each other"
					      : "--device DEVICE (or --file AUDIO) is required");
	if (isnan(minutes))
		return cli_usage_error(&cli, "--minutes N is required");
	if (!out_dir)
		return cli_usage_error(&cli, "--out DIR is required");
	if (file && (rate_hz || channels != 1))
		return cli_usage_error(&cli, "--rate and --channels are for --device");

	struct recording r;
	memset(&r, 0, sizeof(r));
	r.out_dir = out_dir;
	r.rate_hz = default_rate_hz();
	r.tty = isatty(STDERR_FILENO);
	r.clips_want = (uint32_t)ceil(minutes * 60.0 / CLIP_WRITER_DEFAULT_S - 1e-9);
	if (r.clips_want == 0)
		r.clips_want = 1;
	r.want = (uint64_t)r.clips_want * (uint64_t)llround(CLIP_WRITER_DEFAULT_S * r.rate_hz);

	if (make_out_dir(out_dir))
		return 1;
	struct auscult_err err;
	struct clip_writer *cw = NULL;
	struct clip_writer_config cwc = { out_dir, r.rate_hz, CLIP_WRITER_DEFAULT_S };
	if (clip_writer_create(&cw, &cwc, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult record: --out %s\n", err.msg);
		return 1;
	}
	struct audio_source_config sc;
	source_config(&sc, device, file, rate_hz, channels);
	struct audio_source *src = NULL;
	if (audio_source_open(&src, &sc, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult record: %s\n", err.msg);
		clip_writer_destroy(cw);
		return 1;
	}
	fprintf(stderr, "recording %u clips of %g s (%.1f min) from %s into %s\n", r.clips_want,
		CLIP_WRITER_DEFAULT_S, r.clips_want * CLIP_WRITER_DEFAULT_S / 60.0,
		audio_source_describe(src), out_dir);

	/* No SA_RESTART: Ctrl-C must end a read blocked on a pipe, too. */
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	int status = record_loop(&r, src, cw, clock_wall_ms());
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);

	size_t partial = clip_writer_partial_samples(cw);
	clip_writer_destroy(cw); /* removes the partial clip */
	uint64_t overruns = audio_source_overruns(src);
	audio_source_close(src);
	if (r.tty)
		fputc('\n', stderr);
	if (status > 128)
		fprintf(stderr, "auscult record: stopped by %s\n", strsignal(status - 128));
	if (partial)
		fprintf(stderr, "auscult record: dropped the incomplete last clip (%.1f s)\n",
			(double)partial / r.rate_hz);
	if (overruns)
		fprintf(stderr,
			"auscult record: warning: %llu samples were lost (the disk or the "
			"machine could not keep up)\n",
			(unsigned long long)overruns);
	if (r.clips_warned)
		fprintf(stderr,
			"auscult record: warning: %u of %u clips had a level warning; listen "
			"to them before training\n",
			r.clips_warned, r.clips_done);
	printf("%u clips (%.1f min) in %s\n", r.clips_done,
	       r.clips_done * CLIP_WRITER_DEFAULT_S / 60.0, out_dir);
	if (status == 0 && r.clips_done == 0)
		status = 1;
	return status;
}
