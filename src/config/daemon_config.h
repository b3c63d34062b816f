/* daemon_config.h - auscultd's configuration: defaults, then the YAML file, then validation. */
#ifndef AUSCULT_DAEMON_CONFIG_H
#define AUSCULT_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audio/audio_source.h"
#include "common/log.h"
#include "common/status.h"
#include "evidence/evidence_writer.h"
#include "pipeline/pipeline.h"
#include "publish/mqtt_settings.h"

/* One monitored machine (YAML list `monitors:`). All strings owned. */
struct monitor_settings {
	char *name; /* [A-Za-z0-9_-]+, unique; used in topics */

	enum audio_source_kind source_kind; /* YAML `source.type`: device | file | stdin */
	char *source_path;                  /* file: path */
	char *device_name;       /* device: name or ALSA PCM name; NULL: use device_index */
	int device_index;        /* device: PortAudio index; -1 default device */
	uint32_t input_rate_hz;  /* device/stdin: 0 = automatic (device) / required (stdin) */
	uint32_t input_channels; /* device/stdin: default 1 */
	int channel;             /* channel index, or AUDIO_CHANNEL_AVERAGE (YAML `average`) */
	bool loop;               /* file: start over at the end (demos); default false */
	bool realtime;           /* file/stdin: pace reading to real time; default true for file */

	char *model_path; /* required; must exist and load (unless learn_minutes is set) */

	/* window_s, hop_s, smoothing.*, threshold, hysteresis.*, silence_dbfs, gate.settle_s:
	 * defaults, bounds and validation are the pipeline's (pipeline/pipeline.h). */
	struct pipeline_settings pipeline;
	double publish_interval_s; /* score messages at most this often, default 1.0 s, [0.1, 3600] */

	/* Learning mode (YAML `learn:`; see daemon/learn_mode.h): when model_path does not exist
	 * yet, record this much normal sound, train the model, then monitor. */
	double learn_minutes; /* `learn.minutes`, [0.5, 10080]; 0 (no `learn:`): off, a
				     missing model is an error */
	char *learn_dir;      /* `learn.dir`: the clips' folder; NULL: "<model>.learn" */
};

/* A place in the config file, 1-based as messages show it. */
struct config_place {
	size_t line, column;
};

/* Where a monitor's keys are, for the checks made after loading (daemon/config_check.c). */
struct monitor_places {
	struct config_place model;       /* the value of `model` */
	struct config_place source_path; /* the value of source.path; of `model` when absent */
	struct config_place window_s;    /* the value of window_s; of `model` when not written */
};

/* The most monitors one daemon runs: each is a thread, an audio stream and a pipeline, and more
 * than a Pi's cores and USB audio can serve in real time; a bigger site runs more daemons. */
#define DAEMON_MONITORS_MAX 64

struct daemon_config {
	char *path;               /* the file this was read from */
	enum log_level log_level; /* YAML `log_level`, default info */
	struct mqtt_settings mqtt;
	struct evidence_settings evidence; /* YAML section `evidence:`, for every monitor */
	size_t n_monitors;                 /* at least 1 */
	struct monitor_settings *monitors;
	struct monitor_places *places; /* n_monitors: where each monitor's keys are */
};

/*
 * Reads and validates path into a fresh cfg (defaults, then the file, then validation). It
 * reads no model and opens no audio: daemon/config_check.h checks those files afterwards. On
 * any fault returns non-zero with err set to
 * "FILE:LINE:COL: KEY: MESSAGE" (e.g. "auscultd.yaml:12:5: monitors[0].window_s: -1 is out of
 * range [0.2, 60]") and leaves cfg zeroed. Unknown keys, wrong types, out-of-range values,
 * duplicate monitor names, an unreadable source.path or
 * MQTT file are all faults.
 *
 * Relative paths in the file (model, source.path, mqtt.password_file, ca_file, cert_file,
 * key_file) are resolved against the config file's folder and stored absolute. Faults of the
 * whole file have no KEY: "FILE:LINE:COL: YAML syntax error: ...", "FILE:1:1: the file is
 * empty; ..."; a file that cannot be opened gives "FILE: cannot open the config file: ...".
 * cfg is overwritten, never freed: load into a fresh struct and swap on success (SIGHUP).
 * Thread-safe (no shared state); reads files, so not for real-time threads.
 */
int daemon_config_load(struct daemon_config *cfg, const char *path, struct auscult_err *err);

/* Frees everything cfg owns and zeroes it. NULL-safe. */
void daemon_config_free(struct daemon_config *cfg);

/* Fails with "FILE:LINE:COL: key: message" for a fault found after loading (at: from
 * cfg->places). Returns status. */
__attribute__((format(printf, 6, 7))) int daemon_config_fail(const struct daemon_config *cfg,
							     struct config_place at,
							     const char *key, int status,
							     struct auscult_err *err,
							     const char *fmt, ...);

/* Fills an audio_source_config pointing into ms's strings (valid while ms lives). */
void monitor_settings_source_config(const struct monitor_settings *ms, uint32_t output_rate_hz,
				    struct audio_source_config *out);

#endif
