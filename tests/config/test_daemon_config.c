/* test_daemon_config.c - the daemon's YAML config: defaults, every failure mode's message, fuzzing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/daemon_config.h"

#define FIXTURE_DIR AUSCULT_FIXTURES "/config"
#define MSG_BUF (3 * PATH_MAX) /* room for two paths and a message */

/* A temporary folder per run. Model files are only paths to the loader: none is written. */
static char tmp_dir[PATH_MAX];
static char fixture_real[PATH_MAX]; /* realpath of FIXTURE_DIR, as messages show resolved paths */

static void join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	assert_true(n > 0 && (size_t)n < size);
}

static void write_text(const char *path, const void *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_str(const char *path, const char *text)
{
	write_text(path, text, strlen(text));
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Removes a folder tree (what the tests made: plain files and folders). */
static void remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char child[PATH_MAX];
			snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
			remove_tree(child);
		}
		if (d)
			closedir(d);
	}
	remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/auscult-config-XXXXXX", base);
	if (!mkdtemp(tmp_dir))
		return -1;
	if (!realpath(FIXTURE_DIR, fixture_real))
		return -1;
	char p[PATH_MAX];
	join(p, sizeof(p), tmp_dir, "mqtt-password");
	write_str(p, "hunter2\n");
	join(p, sizeof(p), tmp_dir, "ca.pem");
	write_str(p, "-----BEGIN CERTIFICATE-----\n");
	join(p, sizeof(p), tmp_dir, "client.crt");
	write_str(p, "-----BEGIN CERTIFICATE-----\n");
	join(p, sizeof(p), tmp_dir, "client.key");
	write_str(p, "-----BEGIN PRIVATE KEY-----\n");
	/* a file source must be readable; that it is audio is checked later (config_check) */
	join(p, sizeof(p), tmp_dir, "pump.wav");
	write_str(p, "RIFF\n");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (tmp_dir[0])
		remove_tree(tmp_dir);
	return 0;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Loads text written to tmp_dir/name; returns the status, cfg filled on success. */
static int load_text(struct daemon_config *cfg, const char *name, const char *text,
		     struct auscult_err *err)
{
	char p[PATH_MAX];
	join(p, sizeof(p), tmp_dir, name);
	write_str(p, text);
	return daemon_config_load(cfg, p, err);
}

/* Asserts text fails to load with exactly "TMPDIR/name:" + expect. */
static void expect_text_fails(const char *name, const char *text, const char *expect)
{
	struct daemon_config cfg;
	struct auscult_err err;
	char want[MSG_BUF];
	int rc = load_text(&cfg, name, text, &err);
	assert_int_not_equal(rc, AUSCULT_OK);
	snprintf(want, sizeof(want), "%s/%s:%s", tmp_dir, name, expect);
	assert_string_equal(err.msg, want);
	assert_true(all_zero(&cfg, sizeof(cfg)));
}

/* ---------------------------------------------------------------------------------------------
 * One fixture per failure mode
 * ------------------------------------------------------------------------------------------- */

struct fixture_case {
	const char *file;
	int status;
	const char *expect; /* after "FIXTURE_DIR/file:"; "@DIR@" stands for the resolved folder */
};

static struct fixture_case fixture_cases[] = {
	{ "syntax_error.yaml", AUSCULT_ERR_FORMAT,
	  "5:5: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping "
	  "at line 4:13)" },
	{ "tab_indent.yaml", AUSCULT_ERR_FORMAT,
	  "4:1: YAML syntax error: found a tab character that violates indentation (while scanning "
	  "a plain scalar at line 3:11); a tab is there: YAML indents with spaces only" },
	{ "invalid_utf8.yaml", AUSCULT_ERR_FORMAT,
	  "2:15: YAML syntax error: invalid leading UTF-8 octet (the file must be UTF-8 text)" },
	{ "two_documents.yaml", AUSCULT_ERR_FORMAT,
	  "5:1: a second YAML document starts here; the config is a single document (remove the "
	  "extra '---')" },
	{ "empty.yaml", AUSCULT_ERR_INVALID,
	  "1:1: the file is empty; it needs at least a 'monitors:' list (see the documented example "
	  "auscultd.yaml)" },
	{ "comments_only.yaml", AUSCULT_ERR_INVALID,
	  "1:1: the file is empty; it needs at least a 'monitors:' list (see the documented example "
	  "auscultd.yaml)" },
	{ "not_mapping.yaml", AUSCULT_ERR_INVALID,
	  "1:1: the file must be a mapping of keys (log_level:, mqtt:, monitors:, ...), got a list" },
	{ "unknown_key.yaml", AUSCULT_ERR_INVALID,
	  "5:5: monitors[0].windw_s: unknown key; did you mean 'window_s'?" },
	{ "unknown_key_no_suggestion.yaml", AUSCULT_ERR_INVALID,
	  "1:1: colour: unknown key (known here: log_level, mqtt, home_assistant, evidence, monitors)" },
	{ "misplaced_key.yaml", AUSCULT_ERR_INVALID,
	  "5:5: monitors[0].method: unknown key here; it belongs under 'smoothing:' "
	  "(smoothing.method)" },
	{ "complex_key.yaml", AUSCULT_ERR_INVALID,
	  "5:7: monitors[0]: keys must be plain words, got a list" },
	{ "wrong_type.yaml", AUSCULT_ERR_INVALID,
	  "5:15: monitors[0].window_s: expected a number, got 'abc'" },
	{ "quoted_number.yaml", AUSCULT_ERR_INVALID,
	  "2:16: mqtt.keepalive_s: expected an integer, got the string '30' (remove the quotes)" },
	{ "section_not_mapping.yaml", AUSCULT_ERR_INVALID,
	  "3:13: monitors[0].source: expected a mapping of keys, got 'hw:1,0'" },
	{ "bad_bool.yaml", AUSCULT_ERR_INVALID,
	  "3:18: mqtt.verify_server: expected true or false, got 'maybe'" },
	{ "bad_enum.yaml", AUSCULT_ERR_INVALID,
	  "5:26: monitors[0].smoothing.method: expected one of ema, median, none, got 'mean'" },
	{ "bad_source_type.yaml", AUSCULT_ERR_INVALID,
	  "3:21: monitors[0].source.type: expected one of device, file, stdin, got 'microphone'" },
	{ "bad_log_level.yaml", AUSCULT_ERR_INVALID,
	  "1:12: log_level: expected one of error, warn, info, debug, got 'verbose'" },
	{ "out_of_range.yaml", AUSCULT_ERR_INVALID,
	  "8:15: monitors[1].window_s: -1 is out of range [0.2, 60]" },
	{ "out_of_range_int.yaml", AUSCULT_ERR_INVALID, "2:8: mqtt.qos: 3 is out of range [0, 2]" },
	{ "evidence_max_s.yaml", AUSCULT_ERR_INVALID,
	  "3:10: evidence.max_s: 0.5 is out of range [1, 3600]" },
	{ "evidence_enabled_not_bool.yaml", AUSCULT_ERR_INVALID,
	  "1:22: evidence.enabled: expected true or false, got 'sometimes'" },
	{ "hop_zero.yaml", AUSCULT_ERR_INVALID,
	  "5:12: monitors[0].hop_s: 0 is out of range (0, 60]" },
	{ "bad_threshold.yaml", AUSCULT_ERR_INVALID,
	  "5:16: monitors[0].threshold: -0.5 is out of range (0, inf) (or write 'model' for the "
	  "model's own)" },
	{ "bad_silence.yaml", AUSCULT_ERR_INVALID,
	  "5:19: monitors[0].silence_dbfs: expected a level in dBFS or 'off', got 'quiet'" },
	{ "channel_out_of_range.yaml", AUSCULT_ERR_INVALID,
	  "3:85: monitors[0].source.channel: channel 2 does not exist: the source has 2 channels "
	  "(0 to 1); raise source.channels or pick another" },
	{ "missing_monitors.yaml", AUSCULT_ERR_INVALID,
	  "1:1: monitors: missing; this key is required" },
	{ "monitors_empty.yaml", AUSCULT_ERR_INVALID,
	  "1:11: monitors: the list is empty; add at least one monitor (name, source, model)" },
	{ "monitors_not_list.yaml", AUSCULT_ERR_INVALID,
	  "2:3: monitors: expected a list of monitors (each item starting with '- name:'), got a "
	  "mapping" },
	{ "monitor_not_mapping.yaml", AUSCULT_ERR_INVALID,
	  "2:5: monitors[0]: expected a mapping with the monitor's keys (name, source, model, ...), "
	  "got 'pump1'" },
	{ "missing_name.yaml", AUSCULT_ERR_INVALID,
	  "2:5: monitors[0].name: missing; this key is required" },
	{ "missing_source.yaml", AUSCULT_ERR_INVALID,
	  "2:5: monitors[0].source: missing; this key is required" },
	{ "missing_source_type.yaml", AUSCULT_ERR_INVALID,
	  "4:7: monitors[0].source.type: missing; this key is required" },
	{ "missing_model.yaml", AUSCULT_ERR_INVALID,
	  "2:5: monitors[0].model: missing; this key is required" },
	{ "duplicate_key.yaml", AUSCULT_ERR_INVALID,
	  "7:5: monitors[0].hop_s: duplicate key; it is already set at line 5:5" },
	{ "duplicate_monitor_name.yaml", AUSCULT_ERR_INVALID,
	  "8:11: monitors[2].name: 'pump1' is already the name of monitors[0] (line 2); names must "
	  "be unique because they are MQTT topics" },
	{ "dotted_key.yaml", AUSCULT_ERR_INVALID,
	  "4:5: monitors[0].source.type: keys are single words; write it nested: source: { type: "
	  "... }" },
	{ "two_stdin_monitors.yaml", AUSCULT_ERR_INVALID,
	  "6:21: monitors[1].source.type: monitors[0] ('pump1') reads stdin already; the daemon "
	  "has one standard input, so only one monitor can listen to it (give this one a device "
	  "or a file)" },
	{ "bad_monitor_name.yaml", AUSCULT_ERR_INVALID,
	  "2:11: monitors[0].name: 'pump/1' is not a valid monitor name: it becomes part of MQTT "
	  "topics, so use 1 to 64 of A-Z a-z 0-9 _ -" },
	{ "hop_longer_than_window.yaml", AUSCULT_ERR_INVALID,
	  "6:12: monitors[0].hop_s: 1.5 s is longer than window_s (1 s), so audio between windows "
	  "would never be scored; make hop_s at most window_s" },
	{ "password_in_yaml.yaml", AUSCULT_ERR_INVALID,
	  "3:13: mqtt.password: passwords do not belong in the config file (it is often "
	  "world-readable and gets copied around); put the password in a file readable only by "
	  "auscultd and set mqtt.password_file to its path" },
	{ "password_file_missing.yaml", AUSCULT_ERR_IO,
	  "3:18: mqtt.password_file: cannot read the password file '@DIR@/no-such-password-file': "
	  "No such file or directory" },
	{ "tls_option_with_mqtt.yaml", AUSCULT_ERR_INVALID,
	  "3:3: mqtt.ca_file: only applies to TLS connections, but mqtt.uri is "
	  "'mqtt://broker.local:1883'; use mqtts:// or remove this key" },
	{ "key_file_without_cert.yaml", AUSCULT_ERR_INVALID,
	  "3:3: mqtt.key_file: a client key needs its certificate; set mqtt.cert_file too" },
	{ "bad_uri_scheme.yaml", AUSCULT_ERR_INVALID,
	  "2:8: mqtt.uri: 'http://broker.local:1883' has an unsupported scheme; write "
	  "mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS)" },
	{ "bad_uri_port.yaml", AUSCULT_ERR_INVALID,
	  "2:8: mqtt.uri: 'mqtt://broker.local:99999' has a bad port; expected 1 to 65535 after the "
	  "':'" },
	{ "topic_prefix_wildcard.yaml", AUSCULT_ERR_INVALID,
	  "2:17: mqtt.topic_prefix: 'factory/+/auscult' contains an MQTT wildcard ('#' or '+'), "
	  "which cannot appear in a topic that is published to" },
	{ "topic_prefix_trailing_slash.yaml", AUSCULT_ERR_INVALID,
	  "2:11: home_assistant.prefix: 'homeassistant/' has an empty topic level; write it without "
	  "leading, trailing or doubled '/'" },
	{ "file_source_without_path.yaml", AUSCULT_ERR_INVALID,
	  "4:7: monitors[0].source.path: missing; a source of type file needs the audio file's path" },
	{ "stdin_without_rate.yaml", AUSCULT_ERR_INVALID,
	  "3:13: monitors[0].source.rate_hz: missing; raw PCM on stdin carries no header, so give "
	  "its sample rate (e.g. rate_hz: 16000)" },
	{ "source_key_wrong_type.yaml", AUSCULT_ERR_INVALID,
	  "6:7: monitors[0].source.path: only applies to source type file, but this source is type "
	  "device" },
};

/* Replaces each "@DIR@" in tmpl by dir. */
static void expand(char *out, size_t size, const char *tmpl, const char *dir)
{
	size_t n = 0;
	while (*tmpl && n + 1 < size) {
		if (strncmp(tmpl, "@DIR@", 5) == 0) {
			n += (size_t)snprintf(out + n, size - n, "%s", dir);
			tmpl += 5;
		} else {
			out[n++] = *tmpl++;
		}
	}
	out[n < size ? n : size - 1] = '\0';
}

static void fixture_fails_with_message(void **state)
{
	const struct fixture_case *c = *state;
	char path[PATH_MAX], tail[MSG_BUF], want[MSG_BUF + PATH_MAX];
	join(path, sizeof(path), FIXTURE_DIR, c->file);
	expand(tail, sizeof(tail), c->expect, fixture_real);
	snprintf(want, sizeof(want), "%s:%s", path, tail);

	struct daemon_config cfg;
	memset(&cfg, 0xa5, sizeof(cfg)); /* the loader must not trust what it is given */
	struct auscult_err err;
	int rc = daemon_config_load(&cfg, path, &err);
	assert_int_equal(rc, c->status);
	assert_string_equal(err.msg, want);
	assert_true(all_zero(&cfg, sizeof(cfg)));
	daemon_config_free(&cfg); /* harmless on a zeroed config */
}

/* Every fixture in the folder is listed above, so none is left untested. */
static void every_fixture_has_a_case(void **state)
{
	(void)state;
	DIR *d = opendir(FIXTURE_DIR);
	assert_non_null(d);
	size_t yaml_files = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *line = de->d_name;
		size_t len = strlen(line);
		if (len < 5 || strcmp(line + len - 5, ".yaml") != 0)
			continue;
		yaml_files++;
		bool found = false;
		for (size_t i = 0; i < sizeof(fixture_cases) / sizeof(fixture_cases[0]); i++)
			found = found || strcmp(fixture_cases[i].file, line) == 0;
		if (!found)
			fail_msg("fixture %s has no test case", line);
	}
	closedir(d);
	assert_int_equal(yaml_files, sizeof(fixture_cases) / sizeof(fixture_cases[0]));
}

/* ---------------------------------------------------------------------------------------------
 * Valid files
 * ------------------------------------------------------------------------------------------- */

static const char full_config[] =
	"# every key set to something other than its default\n"
	"log_level: debug\n"
	"mqtt:\n"
	"  uri: mqtts://broker.example.org:8884\n"
	"  client_id: pump-room\n"
	"  username: auscult\n"
	"  password_file: mqtt-password\n"
	"  ca_file: ca.pem\n"
	"  cert_file: client.crt\n"
	"  key_file: client.key\n"
	"  verify_server: false\n"
	"  keepalive_s: 60\n"
	"  qos: 1\n"
	"  topic_prefix: plant/hall2\n"
	"  offline_buffer: 5000\n"
	"home_assistant:\n"
	"  discovery: no\n"
	"  prefix: ha\n"
	"monitors:\n"
	"  - name: pump1\n"
	"    source: { type: device, device: \"hw:1,0\", rate_hz: 48000, channels: 2, channel: 1 }\n"
	"    model: pump.am\n"
	"    window_s: 3\n"
	"    hop_s: 1.5\n"
	"    smoothing: { method: median, windows: 7 }\n"
	"    threshold: 12.5\n"
	"    hysteresis: { anomaly_after: 2, normal_after: 9 }\n"
	"    silence_dbfs: off\n"
	"    gate: { settle_s: 1.5 }\n"
	"    publish_interval_s: 0.25\n"
	"  - name: fan_2\n"
	"    source:\n"
	"      type: file\n"
	"      path: pump.wav\n"
	"      loop: true\n"
	"      realtime: false\n"
	"    model: pump.am\n"
	"  - name: compressor-3\n"
	"    source: { type: stdin, rate_hz: 16000, channels: 4, channel: average }\n"
	"    model: pump.am\n"
	"    silence_dbfs: -55.5\n"
	"  - name: by-index\n"
	"    source: { type: device, device: 3 }\n"
	"    model: pump.am\n";

static void full_config_sets_every_field(void **state)
{
	(void)state;
	struct daemon_config cfg;
	struct auscult_err err;
	int rc = load_text(&cfg, "full.yaml", full_config, &err);
	if (rc)
		fail_msg("%s", err.msg);
	char p[PATH_MAX];
	char real_tmp[PATH_MAX];
	assert_non_null(realpath(tmp_dir, real_tmp));

	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg.mqtt.uri, "mqtts://broker.example.org:8884");
	assert_string_equal(cfg.mqtt.client_id, "pump-room");
	assert_string_equal(cfg.mqtt.username, "auscult");
	join(p, sizeof(p), real_tmp, "mqtt-password");
	assert_string_equal(cfg.mqtt.password_file, p);
	join(p, sizeof(p), real_tmp, "ca.pem");
	assert_string_equal(cfg.mqtt.ca_file, p);
	join(p, sizeof(p), real_tmp, "client.crt");
	assert_string_equal(cfg.mqtt.cert_file, p);
	join(p, sizeof(p), real_tmp, "client.key");
	assert_string_equal(cfg.mqtt.key_file, p);
	assert_false(cfg.mqtt.verify_server);
	assert_int_equal(cfg.mqtt.keepalive_s, 60);
	assert_int_equal(cfg.mqtt.qos, 1);
	assert_string_equal(cfg.mqtt.topic_prefix, "plant/hall2");
	assert_int_equal(cfg.mqtt.offline_buffer, 5000);
	assert_false(cfg.mqtt.ha_discovery);
	assert_string_equal(cfg.mqtt.ha_prefix, "ha");

	assert_int_equal(cfg.n_monitors, 4);
	const struct monitor_settings *a = &cfg.monitors[0];
	assert_string_equal(a->name, "pump1");
	assert_int_equal(a->source_kind, AUDIO_SOURCE_PORTAUDIO);
	assert_string_equal(a->device_name, "hw:1,0");
	assert_int_equal(a->device_index, -1);
	assert_int_equal(a->input_rate_hz, 48000);
	assert_int_equal(a->input_channels, 2);
	assert_int_equal(a->channel, 1);
	join(p, sizeof(p), real_tmp, "pump.am");
	assert_string_equal(a->model_path, p);
	assert_float_equal(a->pipeline.window_s, 3.0, 1e-12);
	assert_float_equal(a->pipeline.hop_s, 1.5, 1e-12);
	assert_int_equal(a->pipeline.smoothing, SMOOTHER_MEDIAN);
	assert_int_equal(a->pipeline.smoothing_windows, 7);
	assert_true(a->pipeline.threshold_set);
	assert_float_equal(a->pipeline.threshold, 12.5, 1e-12);
	assert_int_equal(a->pipeline.anomaly_after, 2);
	assert_int_equal(a->pipeline.normal_after, 9);
	assert_true(isinf(a->pipeline.silence_dbfs) && a->pipeline.silence_dbfs < 0);
	assert_float_equal(a->pipeline.settle_s, 1.5, 1e-12);
	assert_float_equal(a->publish_interval_s, 0.25, 1e-12);

	const struct monitor_settings *b = &cfg.monitors[1];
	assert_string_equal(b->name, "fan_2");
	assert_int_equal(b->source_kind, AUDIO_SOURCE_FILE);
	join(p, sizeof(p), real_tmp, "pump.wav");
	assert_string_equal(b->source_path, p);
	assert_true(b->loop);
	assert_false(b->realtime);
	assert_int_equal(b->channel, AUDIO_CHANNEL_AVERAGE);

	const struct monitor_settings *c = &cfg.monitors[2];
	assert_int_equal(c->source_kind, AUDIO_SOURCE_STDIN);
	assert_int_equal(c->input_rate_hz, 16000);
	assert_int_equal(c->input_channels, 4);
	assert_int_equal(c->channel, AUDIO_CHANNEL_AVERAGE);
	assert_false(c->realtime); /* stdin default: the writer paces the pipe */
	assert_float_equal(c->pipeline.silence_dbfs, -55.5, 1e-12);
	assert_float_equal(c->pipeline.settle_s, 3.0, 1e-12); /* pipeline_settings_defaults */

	const struct monitor_settings *d = &cfg.monitors[3];
	assert_null(d->device_name);
	assert_int_equal(d->device_index, 3);

	/* the source config points into the settings' strings */
	struct audio_source_config sc;
	monitor_settings_source_config(a, 16000, &sc);
	assert_int_equal(sc.kind, AUDIO_SOURCE_PORTAUDIO);
	assert_ptr_equal(sc.device_name, a->device_name);
	assert_int_equal(sc.device_index, -1);
	assert_int_equal(sc.input_rate_hz, 48000);
	assert_int_equal(sc.input_channels, 2);
	assert_int_equal(sc.channel, 1);
	assert_int_equal(sc.output_rate_hz, 16000);
	monitor_settings_source_config(b, 22050, &sc);
	assert_int_equal(sc.kind, AUDIO_SOURCE_FILE);
	assert_ptr_equal(sc.path, b->source_path);
	assert_int_equal(sc.channel, AUDIO_CHANNEL_AVERAGE);
	assert_int_equal(sc.output_rate_hz, 22050);

	daemon_config_free(&cfg);
	assert_true(all_zero(&cfg, sizeof(cfg)));
	daemon_config_free(&cfg); /* twice is fine */
	daemon_config_free(NULL);
}

static void minimal_config_gets_defaults(void **state)
{
	(void)state;
	struct daemon_config cfg;
	struct auscult_err err;
	int rc = load_text(&cfg, "minimal.yaml",
			   "monitors:\n"
			   "  - name: m\n"
			   "    source: { type: file, path: pump.wav }\n"
			   "    model: pump.am\n",
			   &err);
	if (rc)
		fail_msg("%s", err.msg);
	char host[256] = "", want[300];
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	snprintf(want, sizeof(want), "auscult-%s", host);
	assert_non_null(strstr(cfg.path, "minimal.yaml"));
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_string_equal(cfg.mqtt.uri, "mqtt://localhost:1883");
	assert_string_equal(cfg.mqtt.client_id, want);
	assert_null(cfg.mqtt.username);
	assert_null(cfg.mqtt.password_file);
	assert_null(cfg.mqtt.ca_file);
	assert_null(cfg.mqtt.cert_file);
	assert_null(cfg.mqtt.key_file);
	assert_true(cfg.mqtt.verify_server);
	assert_int_equal(cfg.mqtt.keepalive_s, 30);
	assert_int_equal(cfg.mqtt.qos, 0);
	assert_string_equal(cfg.mqtt.topic_prefix, "auscult");
	assert_int_equal(cfg.mqtt.offline_buffer, 1000);
	assert_true(cfg.mqtt.ha_discovery);
	assert_string_equal(cfg.mqtt.ha_prefix, "homeassistant");
	assert_true(cfg.evidence.enabled);
	assert_string_equal(cfg.evidence.dir, "/var/lib/auscult/evidence");
	assert_float_equal(cfg.evidence.pre_roll_s, 10.0, 1e-12);
	assert_float_equal(cfg.evidence.post_roll_s, 5.0, 1e-12);
	assert_float_equal(cfg.evidence.max_s, 120.0, 1e-12);
	assert_int_equal(cfg.evidence.max_mb, 200);
	assert_int_equal(cfg.evidence.max_files, 100);
	assert_int_equal(cfg.n_monitors, 1);
	const struct monitor_settings *m = &cfg.monitors[0];
	assert_null(m->device_name);
	assert_int_equal(m->device_index, -1);
	assert_int_equal(m->input_rate_hz, 0);
	assert_int_equal(m->input_channels, 1);
	assert_int_equal(m->channel, AUDIO_CHANNEL_AVERAGE);
	assert_false(m->loop);
	assert_true(m->realtime);
	assert_float_equal(m->pipeline.window_s, 2.0, 1e-12);
	assert_float_equal(m->pipeline.hop_s, 0.5, 1e-12);
	assert_int_equal(m->pipeline.smoothing, SMOOTHER_EMA);
	assert_int_equal(m->pipeline.smoothing_windows, 4);
	assert_false(m->pipeline.threshold_set);
	assert_int_equal(m->pipeline.anomaly_after, 3);
	assert_int_equal(m->pipeline.normal_after, 5);
	assert_float_equal(m->pipeline.silence_dbfs, -70.0, 1e-12);
	assert_float_equal(m->publish_interval_s, 1.0, 1e-12);
	daemon_config_free(&cfg);
}

/* The documented example: every value it states equals the default the table gives, and it
 * loads in place of a real install (its model is ../models/pump_id00.am next to it). */
static void example_config_loads(void **state)
{
	(void)state;
	char src[PATH_MAX], dir[PATH_MAX], p[PATH_MAX];
	join(src, sizeof(src), AUSCULT_SOURCE_DIR, "config/auscultd.yaml");
	size_t len;
	char *text = read_all(src, &len);
	join(dir, sizeof(dir), tmp_dir, "example");
	assert_int_equal(mkdir(dir, 0700), 0);
	join(p, sizeof(p), dir, "config");
	assert_int_equal(mkdir(p, 0700), 0);
	join(p, sizeof(p), dir, "models");
	assert_int_equal(mkdir(p, 0700), 0);
	join(p, sizeof(p), dir, "config/auscultd.yaml");
	write_text(p, text, len);
	free(text);

	struct daemon_config cfg, def;
	struct auscult_err err;
	int rc = daemon_config_load(&cfg, p, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_int_equal(cfg.n_monitors, 1);
	const struct monitor_settings *m = &cfg.monitors[0];
	assert_string_equal(m->name, "pump1");
	assert_int_equal(m->source_kind, AUDIO_SOURCE_PORTAUDIO);
	assert_string_equal(m->device_name, "hw:1,0");
	/* The rate and channels left to their defaults, as the README and the file's comment
	 * advise: a rate the hardware has, converted by auscult; one channel. */
	assert_int_equal(m->input_rate_hz, 0);
	assert_int_equal(m->input_channels, 1);
	assert_int_equal(m->channel, AUDIO_CHANNEL_AVERAGE);
	assert_non_null(strstr(m->model_path, "/config/../models/pump_id00.am"));
	assert_string_equal(cfg.mqtt.client_id, "auscult-pump-room");

	rc = load_text(&def, "defaults.yaml",
		       "monitors:\n  - name: pump1\n    source: { type: device }\n"
		       "    model: pump.am\n",
		       &err);
	if (rc)
		fail_msg("%s", err.msg);
	/* the example states the defaults; if these differ, the comments lie */
	assert_int_equal(cfg.log_level, def.log_level);
	assert_string_equal(cfg.mqtt.uri, def.mqtt.uri);
	assert_null(cfg.mqtt.username);
	assert_null(cfg.mqtt.password_file);
	assert_int_equal(cfg.mqtt.verify_server, def.mqtt.verify_server);
	assert_int_equal(cfg.mqtt.keepalive_s, def.mqtt.keepalive_s);
	assert_int_equal(cfg.mqtt.qos, def.mqtt.qos);
	assert_string_equal(cfg.mqtt.topic_prefix, def.mqtt.topic_prefix);
	assert_int_equal(cfg.mqtt.offline_buffer, def.mqtt.offline_buffer);
	assert_int_equal(cfg.mqtt.ha_discovery, def.mqtt.ha_discovery);
	assert_string_equal(cfg.mqtt.ha_prefix, def.mqtt.ha_prefix);
	const struct monitor_settings *d = &def.monitors[0];
	assert_float_equal(m->pipeline.window_s, d->pipeline.window_s, 1e-12);
	assert_float_equal(m->pipeline.hop_s, d->pipeline.hop_s, 1e-12);
	assert_int_equal(m->pipeline.smoothing, d->pipeline.smoothing);
	assert_int_equal(m->pipeline.smoothing_windows, d->pipeline.smoothing_windows);
	assert_int_equal(m->pipeline.threshold_set, d->pipeline.threshold_set);
	assert_int_equal(m->pipeline.anomaly_after, d->pipeline.anomaly_after);
	assert_int_equal(m->pipeline.normal_after, d->pipeline.normal_after);
	assert_float_equal(m->pipeline.silence_dbfs, d->pipeline.silence_dbfs, 1e-12);
	assert_float_equal(m->publish_interval_s, d->publish_interval_s, 1e-12);
	daemon_config_free(&def);
	daemon_config_free(&cfg);
}

/* The file in the source tree itself loads (its model is checked by config_check). */
static void example_config_in_tree(void **state)
{
	(void)state;
	char path[PATH_MAX];
	join(path, sizeof(path), AUSCULT_SOURCE_DIR, "config/auscultd.yaml");
	struct daemon_config cfg;
	struct auscult_err err;
	if (daemon_config_load(&cfg, path, &err))
		fail_msg("%s", err.msg);
	daemon_config_free(&cfg);
}

/* ---------------------------------------------------------------------------------------------
 * Faults that need a temporary file
 * ------------------------------------------------------------------------------------------- */

static void more_value_faults(void **state)
{
	(void)state;
	const char *head =
		"monitors:\n  - name: m\n    source: { type: device }\n    model: pump.am\n";
	char text[1024];

	snprintf(text, sizeof(text), "%s    smothing: { method: ema }\n", head);
	expect_text_fails("typo-section.yaml", text,
			  "5:5: monitors[0].smothing: unknown key; did you mean 'smoothing'?");

	snprintf(text, sizeof(text), "%s    smoothing: { windows: 1.5 }\n", head);
	expect_text_fails("float-int.yaml", text,
			  "5:27: monitors[0].smoothing.windows: expected an integer, got '1.5'");

	snprintf(text, sizeof(text), "%s    hysteresis: { anomaly_after: 0 }\n", head);
	expect_text_fails(
		"zero-after.yaml", text,
		"5:34: monitors[0].hysteresis.anomaly_after: 0 is out of range [1, 10000]");

	snprintf(text, sizeof(text), "%s    gate: { settle_s: 601 }\n", head);
	expect_text_fails("long-settle.yaml", text,
			  "5:23: monitors[0].gate.settle_s: 601 is out of range [0, 600]");

	snprintf(text, sizeof(text), "%s    window_s: [1, 2]\n", head);
	expect_text_fails("list-number.yaml", text,
			  "5:15: monitors[0].window_s: expected a number, got a list");

	snprintf(text, sizeof(text), "%s    window_s: .nan\n", head);
	expect_text_fails("nan.yaml", text,
			  "5:15: monitors[0].window_s: expected a number, got '.nan'");

	snprintf(text, sizeof(text), "%s    model:\n", head);
	expect_text_fails("dup-model.yaml", text,
			  "5:5: monitors[0].model: duplicate key; it is already set at line 4:5");

	expect_text_fails("null-model.yaml",
			  "monitors:\n  - name: m\n    source: { type: device }\n    model:\n",
			  "4:11: monitors[0].model: expected a path, got null");

	expect_text_fails(
		"mqtt-password-root.yaml",
		"mqtt: { uri: 'mqtt://[::1]:1883', password: x }\n"
		"monitors:\n  - { name: m, source: { type: device }, model: pump.am }\n",
		"1:45: mqtt.password: passwords do not belong in the config file (it is often "
		"world-readable and gets copied around); put the password in a file readable "
		"only by auscultd and set mqtt.password_file to its path");

	expect_text_fails("no-host.yaml",
			  "mqtt: { uri: 'mqtts://:8883' }\n"
			  "monitors:\n  - { name: m, source: { type: device }, model: pump.am }\n",
			  "1:14: mqtt.uri: 'mqtts://:8883' is not a broker address; write "
			  "mqtt://HOST[:PORT] or mqtts://HOST[:PORT]");

	expect_text_fails(
		"password-no-user.yaml",
		"mqtt: { password_file: mqtt-password }\n"
		"monitors:\n  - { name: m, source: { type: device }, model: pump.am }\n",
		"1:9: mqtt.password_file: a password needs a user name; set mqtt.username too");

	expect_text_fails("empty-string.yaml",
			  "mqtt: { username: '' }\n"
			  "monitors:\n  - { name: m, source: { type: device }, model: pump.am }\n",
			  "1:19: mqtt.username: must not be empty (write null for none)");

	expect_text_fails(
		"nul.yaml",
		"monitors:\n  - { name: \"a\\0b\", source: { type: device }, model: pump.am }\n",
		"2:13: monitors[0].name: contains a NUL character");

	/* an alias that points at its own list can only ever be the wrong shape */
	expect_text_fails("alias-loop.yaml", "monitors: &x [*x]\n",
			  "1:11: monitors[0]: expected a mapping with the monitor's keys (name, "
			  "source, model, ...), got a list");

	/* aliases of a whole monitor make a duplicate name, not a crash */
	expect_text_fails(
		"alias-dup.yaml",
		"monitors:\n  - &m { name: m, source: { type: device }, model: pump.am }\n"
		"  - *m\n",
		"2:16: monitors[1].name: 'm' is already the name of monitors[0] (line 2); "
		"names must be unique because they are MQTT topics");
}

/* n monitors on one model, one line each; monitor i is on line i + 2. */
static char *monitors_text(int n)
{
	size_t cap = 64 + (size_t)n * 80, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text, cap, "monitors:\n");
	for (int i = 0; i < n; i++)
		len += (size_t)
			snprintf(text + len, cap - len,
				 "  - { name: m%d, source: { type: device }, model: pump.am }\n",
				 i);
	return text;
}

/* The cap on monitors holds, and the refusal points at the first monitor over it. */
static void monitors_capped(void **state)
{
	(void)state;
	struct daemon_config cfg;
	struct auscult_err err;
	char *text = monitors_text(DAEMON_MONITORS_MAX);
	assert_int_equal(load_text(&cfg, "at-cap.yaml", text, &err), AUSCULT_OK);
	assert_int_equal(cfg.n_monitors, DAEMON_MONITORS_MAX);
	daemon_config_free(&cfg);
	free(text);

	text = monitors_text(DAEMON_MONITORS_MAX + 1);
	char want[MSG_BUF];
	snprintf(want, sizeof(want),
		 "%d:5: monitors: %d monitors; one daemon runs at most %d, and this is monitor %d; "
		 "split the list over several daemons (each with its own config and "
		 "mqtt.client_id)",
		 DAEMON_MONITORS_MAX + 2, DAEMON_MONITORS_MAX + 1, DAEMON_MONITORS_MAX,
		 DAEMON_MONITORS_MAX + 1);
	expect_text_fails("over-cap.yaml", text, want);
	free(text);
	/* The cap is the documented figure. */
	assert_int_equal(DAEMON_MONITORS_MAX, 64);
}

static void file_level_faults(void **state)
{
	(void)state;
	struct daemon_config cfg;
	struct auscult_err err;
	char p[PATH_MAX + 32], want[MSG_BUF];

	join(p, sizeof(p), tmp_dir, "does-not-exist.yaml");
	assert_int_equal(daemon_config_load(&cfg, p, &err), AUSCULT_ERR_IO);
	snprintf(want, sizeof(want), "%s: cannot open the config file: No such file or directory",
		 p);
	assert_string_equal(err.msg, want);
	assert_true(all_zero(&cfg, sizeof(cfg)));

	assert_int_equal(daemon_config_load(&cfg, tmp_dir, &err), AUSCULT_ERR_IO);
	snprintf(want, sizeof(want),
		 "%s: is a directory, not a regular file; expected the config file", tmp_dir);
	assert_string_equal(err.msg, want);

	/* A named pipe is refused without waiting for a writer. */
	join(p, sizeof(p), tmp_dir, "fifo.yaml");
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(daemon_config_load(&cfg, p, &err), AUSCULT_ERR_IO);
	snprintf(want, sizeof(want),
		 "%s: is a named pipe, not a regular file; expected the config file", p);
	assert_string_equal(err.msg, want);
	unlink(p);

	assert_int_equal(daemon_config_load(&cfg, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "no config file given");

	/* a big file is refused before it is read (someone passed the wrong path) */
	join(p, sizeof(p), tmp_dir, "big.yaml");
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 2 * 1024 * 1024, SEEK_SET), 0);
	assert_int_equal(fputc('\n', f), '\n');
	fclose(f);
	assert_int_equal(daemon_config_load(&cfg, p, &err), AUSCULT_ERR_INVALID);
	snprintf(want, sizeof(want),
		 "%s: 2097153 bytes is too large for a config file (at most 1048576); is this the "
		 "right file?",
		 p);
	assert_string_equal(err.msg, want);
	remove(p);

	/* the error buffer may be NULL */
	join(p, sizeof(p), FIXTURE_DIR, "empty.yaml");
	assert_int_equal(daemon_config_load(&cfg, p, NULL), AUSCULT_ERR_INVALID);
}

/* ---------------------------------------------------------------------------------------------
 * Robustness: truncations and random mutations of valid files never crash or leak (ASan)
 * ------------------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t fuzz_ok, fuzz_fail;

static void fuzz_one(const char *path, const char *bytes, size_t len)
{
	write_text(path, bytes, len);
	struct daemon_config cfg;
	struct auscult_err err;
	err.msg[0] = '\0';
	int rc = daemon_config_load(&cfg, path, &err);
	assert_true(rc >= 0 && rc < AUSCULT_STATUS_COUNT);
	if (rc == AUSCULT_OK) {
		assert_true(cfg.n_monitors >= 1);
		for (size_t i = 0; i < cfg.n_monitors; i++) {
			assert_non_null(cfg.monitors[i].name);
			assert_non_null(cfg.monitors[i].model_path);
			assert_true(cfg.monitors[i].pipeline.hop_s <=
				    cfg.monitors[i].pipeline.window_s);
		}
		daemon_config_free(&cfg);
		fuzz_ok++;
	} else {
		/* every failure names the file */
		assert_memory_equal(err.msg, path, strlen(path));
		assert_true(all_zero(&cfg, sizeof(cfg)));
		fuzz_fail++;
	}
}

static void fuzz_text(const char *seed, size_t len, size_t mutations)
{
	char path[PATH_MAX];
	join(path, sizeof(path), tmp_dir, "fuzz.yaml");
	/* every prefix: files cut short by a full disk or a half-finished copy */
	for (size_t n = 0; n <= len; n++)
		fuzz_one(path, seed, n);

	static const char *const tokens[] = {
		":",      "- ", "[",  "]",           "{",  "}", "&a ",   "*a",
		"\n",     "  ", "\t", "'",           "\"", "#", "---\n", "? ",
		"!!str ", "|",  ">",  "%YAML 1.1\n", "\\", ",", "~",     "null"
	};
	char *buf = malloc(len + 64);
	assert_non_null(buf);
	for (size_t it = 0; it < mutations; it++) {
		memcpy(buf, seed, len);
		size_t n = len;
		int edits = 1 + (int)(rng() % 4);
		for (int e = 0; e < edits && n > 0; e++) {
			size_t at = (size_t)(rng() % n);
			switch (rng() % 4) {
			case 0: /* flip a byte to anything, including NUL and invalid UTF-8 */
				buf[at] = (char)(rng() & 0xff);
				break;
			case 1: /* delete a run */ {
				size_t k = 1 + (size_t)(rng() % 8);
				if (at + k > n)
					k = n - at;
				memmove(buf + at, buf + at + k, n - at - k);
				n -= k;
				break;
			}
			default: /* insert a YAML token */ {
				const char *t =
					tokens[rng() % (sizeof(tokens) / sizeof(tokens[0]))];
				size_t k = strlen(t);
				if (n + k > len + 63)
					break;
				memmove(buf + at + k, buf + at, n - at);
				memcpy(buf + at, t, k);
				n += k;
				break;
			}
			}
		}
		fuzz_one(path, buf, n);
	}
	free(buf);
}

static void fuzz_truncations_and_mutations(void **state)
{
	(void)state;
	fuzz_ok = fuzz_fail = 0;
	fuzz_text(full_config, strlen(full_config), 3000);
	size_t ok_full = fuzz_ok;

	char src[PATH_MAX];
	join(src, sizeof(src), AUSCULT_SOURCE_DIR, "config/auscultd.yaml");
	size_t len;
	char *example = read_all(src, &len);
	/* point the example's model at the temporary model so mutations reach validation */
	char *model = strstr(example, "../models/pump_id00.am");
	assert_non_null(model);
	memcpy(model, "pump.am               ", strlen("../models/pump_id00.am"));
	fuzz_text(example, len, 2000);
	free(example);

	/* hostile shapes */
	char path[PATH_MAX];
	join(path, sizeof(path), tmp_dir, "fuzz.yaml");
	static char deep[20000];
	memset(deep, '[', sizeof(deep));
	fuzz_one(path, deep, sizeof(deep));
	const char *odd[] = {
		"monitors: &a { b: *a }\n",
		"a: &a [*a, *a, *a]\nmonitors: *a\n",
		"\xef\xbb\xbfmonitors: []\n",
		"monitors:\n- name: x\n  source: {type: device}\n  model: pump.am\n  window_s: 1e308\n",
		"monitors:\n- name: x\n  source: {type: device}\n  model: pump.am\n  window_s: 0x1p-2\n",
		"monitors:\n- name: x\n  source: {type: device, rate_hz: 99999999999999999999}\n",
		"? |\n  long\n: x\n",
		"%TAG ! tag:x,2000:\n--- !foo\nmonitors: []\n",
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		fuzz_one(path, odd[i], strlen(odd[i]));

	/* the unmutated seeds load, so the prefixes really did reach the end */
	assert_true(ok_full >= 1);
	assert_true(fuzz_ok > ok_full);
	assert_true(fuzz_fail > 1000);
	print_message("fuzz: %zu loads accepted, %zu refused with a message\n", fuzz_ok, fuzz_fail);
}

int main(void)
{
	enum { N_FIX = sizeof(fixture_cases) / sizeof(fixture_cases[0]) };
	static const struct CMUnitTest rest[] = {
		cmocka_unit_test(every_fixture_has_a_case),
		cmocka_unit_test(full_config_sets_every_field),
		cmocka_unit_test(minimal_config_gets_defaults),
		cmocka_unit_test(example_config_loads),
		cmocka_unit_test(example_config_in_tree),
		cmocka_unit_test(more_value_faults),
		cmocka_unit_test(file_level_faults),
		cmocka_unit_test(monitors_capped),
		cmocka_unit_test(fuzz_truncations_and_mutations),
	};
	enum { N_REST = sizeof(rest) / sizeof(rest[0]) };
	struct CMUnitTest tests[N_FIX + N_REST];
	size_t n = 0;
	for (size_t i = 0; i < N_FIX; i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate(fixture_fails_with_message,
								(void *)&fixture_cases[i]);
		t.name = fixture_cases[i].file;
		tests[n++] = t;
	}
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		tests[n++] = rest[i];
	return _cmocka_run_group_tests("daemon_config", tests, n, group_setup, group_teardown);
}
