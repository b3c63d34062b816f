/* daemon_config.h - auscultd's configuration: defaults, then the YAML file, then validation. */
#ifndef AUSCULT_DAEMON_CONFIG_H
#define AUSCULT_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audio/audio_source.h"
#include "common/log.h"
#include "common/status.h"

/* The MQTT connection and topics (YAML section `mqtt:`). All strings owned (malloc'd). */
struct mqtt_settings {
	char *uri;           /* "mqtt://host:port" or "mqtts://host:port"; default mqtt://localhost:1883 */
	char *client_id;     /* default "auscult-<hostname>" (deterministic, so the broker can
				resume a persistent session) */
	char *username;      /* NULL: none */
	char *password_file; /* NULL: none; the password is the file's first line, never in YAML */
	char *ca_file;       /* mqtts: CA bundle; NULL: the system's */
	char *cert_file;     /* mqtts: client certificate (PEM); NULL: none */
	char *key_file;      /* mqtts: client key (PEM); NULL: none */
	bool verify_server;  /* mqtts: verify the broker's certificate and host name; default true */
	int keepalive_s;     /* default 30, range [5, 3600] */
	int qos;             /* QoS of score messages, 0..2, default 0 (events are always QoS 1,
				state and status QoS 1 retained) */
	char *topic_prefix;  /* default "auscult"; no '#', '+', or trailing '/' */
	size_t offline_buffer; /* messages kept while the broker is away, default 1000, [10, 1000000];
				  scores are dropped first, events last */
	bool ha_discovery;   /* Home Assistant MQTT discovery, default true */
	char *ha_prefix;     /* default "homeassistant" */
};

enum smoothing_kind {
	SMOOTHING_NONE = 0,
	SMOOTHING_EMA,    /* exponential moving average over ~smoothing_windows windows */
	SMOOTHING_MEDIAN, /* median of the last smoothing_windows window scores */
};

/* One monitored machine (YAML list `monitors:`). All strings owned. */
struct monitor_settings {
	char *name; /* [A-Za-z0-9_-]+, unique; used in topics */

	enum audio_source_kind source_kind; /* YAML `source.type`: device | file | stdin */
	char *source_path;        /* file: path */
	char *device_name;        /* device: name or ALSA PCM name; NULL: use device_index */
	int device_index;         /* device: PortAudio index; -1 default device */
	uint32_t input_rate_hz;   /* device/stdin: 0 = automatic (device) / required (stdin) */
	uint32_t input_channels;  /* device/stdin: default 1 */
	int channel;              /* channel index, or AUDIO_CHANNEL_AVERAGE (YAML `average`) */
	bool loop;                /* file: start over at the end (demos); default false */
	bool realtime;            /* file/stdin: pace reading to real time; default true for file */

	char *model_path;         /* required; must exist and load (unless learn_minutes is set) */

	double window_s;          /* scoring window, default 2.0 s, [0.2, 60] */
	double hop_s;             /* between window scores, default 0.5 s, (0, window_s] */
	enum smoothing_kind smoothing; /* default EMA */
	uint32_t smoothing_windows;    /* default 4, [1, 1000] */
	bool threshold_set;       /* false: use the model's threshold */
	double threshold;         /* override, > 0 */
	uint32_t anomaly_after;   /* consecutive windows above the threshold to enter anomaly, default 3 */
	uint32_t normal_after;    /* consecutive windows below to return to normal, default 5 */
	double silence_dbfs;      /* below this RMS level (dBFS) the machine is off: state idle;
				     default -70; YAML `off` disables the gate (-inf) */
	double publish_interval_s; /* score messages at most this often, default 1.0 s, [0.1, 3600] */

	/* Learning mode (YAML `learn:`; see daemon/learn_mode.h): when model_path does not exist
	 * yet, record this much normal sound, train the model, then monitor. */
	double learn_minutes;     /* `learn.minutes`, [0.5, 10080]; 0 (no `learn:`): off, a
				     missing model is an error */
	char *learn_dir;          /* `learn.dir`: the clips' folder; NULL: "<model>.learn" */
};

struct daemon_config {
	char *path;                /* the file this was read from */
	enum log_level log_level;  /* YAML `log_level`, default info */
	struct mqtt_settings mqtt;
	size_t n_monitors;         /* at least 1 */
	struct monitor_settings *monitors;
};

/*
 * Reads and validates path into a fresh cfg (defaults, then the file, then validation; model
 * files are opened and checked with model_load). On any fault returns non-zero with err set to
 * "FILE:LINE:COL: KEY: MESSAGE" (e.g. "auscultd.yaml:12:5: monitors[0].window_s: -1 is out of
 * range [0.2, 60]") and leaves cfg zeroed. Unknown keys, wrong types, out-of-range values,
 * duplicate monitor names, a missing or invalid model file are all faults.
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

/* Fills an audio_source_config pointing into ms's strings (valid while ms lives). */
void monitor_settings_source_config(const struct monitor_settings *ms, uint32_t output_rate_hz,
				    struct audio_source_config *out);

#endif
