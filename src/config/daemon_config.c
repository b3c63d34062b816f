/* daemon_config.c - auscultd's YAML config: one table of options, libyaml, file:line:col errors. */
#include "config/daemon_config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/regular_file.h"
#include "publish/mqtt_settings.h"

/* A config file is a few kilobytes; the cap keeps a wrong path (a WAV, a log) from eating memory. */
#define CONFIG_FILE_MAX_BYTES (1024 * 1024)
/* Deeper nesting is refused before libyaml builds the tree (see check_depth). */
#define CONFIG_MAX_DEPTH 32
#define KEY_PATH_MAX 160
#define SCOPE_MAX_OPTS 32
#define SCOPE_MAX_SECTIONS 8
#define MONITOR_NAME_MAX 64

/* ---------------------------------------------------------------------------------------------
 * The option table
 * ------------------------------------------------------------------------------------------- */

enum opt_type {
	OPT_STRING, /* any scalar, kept as text */
	OPT_PATH,   /* a string naming a file; relative paths start at the config file's folder */
	OPT_BOOL,   /* true/false (also yes/no, on/off) */
	OPT_INT,    /* int within [min, max] */
	OPT_U32,    /* uint32_t within [min, max] */
	OPT_SIZE,   /* size_t within [min, max] */
	OPT_DOUBLE, /* finite double within [min, max] (min open with OPTF_MIN_OPEN) */
	OPT_ENUM,   /* one of names[], stored as an int-sized enum */
	OPT_CUSTOM, /* o->set does the work */
	OPT_FORBIDDEN, /* never allowed; o->help says what to do instead */
};

enum {
	OPTF_REQUIRED = 1u << 0, /* must appear in the file */
	OPTF_NULLABLE = 1u << 1, /* null (or ~, or nothing) sets the string to NULL */
	OPTF_MIN_OPEN = 1u << 2, /* the lower bound is exclusive: (min, max] */
};

/* Which source types a `source.*` key applies to (0: every type). */
enum {
	SRC_FILE = 1u << AUDIO_SOURCE_FILE,
	SRC_STDIN = 1u << AUDIO_SOURCE_STDIN,
	SRC_DEVICE = 1u << AUDIO_SOURCE_PORTAUDIO,
};

struct enum_name {
	const char *name;
	int value;
};

struct loader;
struct scope;
struct opt;

/* A custom setter: converts node into obj (the scope's struct). Returns AUSCULT_OK or fails via
 * fail_at(). Called with a fake plain scalar for the default. */
typedef int (*opt_setter)(struct loader *ld, struct scope *sc, const struct opt *o,
			  const yaml_node_t *node, const char *key);

struct opt {
	const char *key; /* dotted path inside its scope: "window_s", "source.type" */
	enum opt_type type;
	size_t offset;   /* into the scope's struct */
	double min, max; /* bounds of numbers */
	unsigned flags;  /* OPTF_* */
	const char *def; /* default as YAML text, converted like the file's values; NULL: zero */
	const struct enum_name *names; /* OPT_ENUM: the accepted words, NULL-terminated */
	opt_setter set;                /* OPT_CUSTOM */
	const char *help;              /* OPT_FORBIDDEN: the message */
	unsigned sources;              /* SRC_* mask for source keys; 0: any */
};

/* Where each option of one mapping scope (the root, or one monitor) was set. */
struct scope {
	const struct opt *table;
	size_t n_opts;
	void *obj;               /* struct daemon_config or struct monitor_settings */
	char path[KEY_PATH_MAX]; /* message prefix: "" or "monitors[1]" */
	yaml_mark_t start;       /* where the scope's mapping starts */
	bool set[SCOPE_MAX_OPTS];
	yaml_mark_t key_mark[SCOPE_MAX_OPTS];
	yaml_mark_t value_mark[SCOPE_MAX_OPTS];
	struct {
		char name[32];
		yaml_mark_t mark;
	} sections[SCOPE_MAX_SECTIONS];
	size_t n_sections;
};

struct loader {
	const char *file; /* the path as given: every message starts with it */
	char *base_dir;   /* absolute folder of the config file, for relative paths */
	char *text;       /* the file's bytes */
	size_t text_len;
	yaml_document_t doc;
	bool have_doc;
	struct daemon_config *cfg;
	struct scope root;
	struct opt root_table[SCOPE_MAX_OPTS]; /* root_opts with the MQTT settings' rows */
	size_t n_root;
	size_t mqtt_first;      /* root_table index of mqtt_settings_table[0] */
	struct scope *monitors; /* cfg->n_monitors scopes */
	struct auscult_err *err;
};

static int set_monitors(struct loader *ld, struct scope *sc, const struct opt *o,
			const yaml_node_t *node, const char *key);
static int set_name(struct loader *ld, struct scope *sc, const struct opt *o,
		    const yaml_node_t *node, const char *key);
static int set_device(struct loader *ld, struct scope *sc, const struct opt *o,
		      const yaml_node_t *node, const char *key);
static int set_channel(struct loader *ld, struct scope *sc, const struct opt *o,
		       const yaml_node_t *node, const char *key);
static int set_threshold(struct loader *ld, struct scope *sc, const struct opt *o,
			 const yaml_node_t *node, const char *key);
static int set_silence(struct loader *ld, struct scope *sc, const struct opt *o,
		       const yaml_node_t *node, const char *key);

static const struct enum_name log_level_names[] = {
	{ "error", LOG_LEVEL_ERROR },
	{ "warn", LOG_LEVEL_WARN },
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
	{ NULL, 0 },
};

static const struct enum_name source_type_names[] = {
	{ "device", AUDIO_SOURCE_PORTAUDIO },
	{ "file", AUDIO_SOURCE_FILE },
	{ "stdin", AUDIO_SOURCE_STDIN },
	{ NULL, 0 },
};

static const struct enum_name smoothing_names[] = {
	{ "ema", SMOOTHER_EMA },
	{ "median", SMOOTHER_MEDIAN },
	{ "none", SMOOTHER_NONE },
	{ NULL, 0 },
};

#define DC(field) offsetof(struct daemon_config, field)
#define MS(field) offsetof(struct monitor_settings, field)

/* The top level of the file but the MQTT settings, which publish/mqtt_settings.h lists (they
 * are added by root_table()). Keep config/auscultd.yaml in step with both. */
static const struct opt root_opts[] = {
	{ .key = "log_level",
	  .type = OPT_ENUM,
	  .offset = DC(log_level),
	  .def = "info",
	  .names = log_level_names },
	/* root_table() puts every row of mqtt_settings_table here */
	{ .key = "mqtt.password",
	  .type = OPT_FORBIDDEN,
	  .help = "passwords do not belong in the config file (it is often world-readable and "
		  "gets copied around); put the password in a file readable only by auscultd and "
		  "set mqtt.password_file to its path" },
	/* Evidence (issue 15): each anomaly's sound, spectrogram and record, per monitor in
	 * evidence.dir/<monitor>/. The default folder is the one the systemd unit's
	 * StateDirectory= makes writable. */
	{ .key = "evidence.enabled",
	  .type = OPT_BOOL,
	  .offset = DC(evidence.enabled),
	  .def = "true" },
	{ .key = "evidence.dir",
	  .type = OPT_PATH,
	  .offset = DC(evidence.dir),
	  .def = "/var/lib/auscult/evidence" },
	{ .key = "evidence.pre_roll_s",
	  .type = OPT_DOUBLE,
	  .offset = DC(evidence.pre_roll_s),
	  .min = 0,
	  .max = 300,
	  .def = "10" },
	{ .key = "evidence.post_roll_s",
	  .type = OPT_DOUBLE,
	  .offset = DC(evidence.post_roll_s),
	  .min = 0,
	  .max = 300,
	  .def = "5" },
	/* a file of 120 s is about 2 MB of FLAC at 16 kHz */
	{ .key = "evidence.max_s",
	  .type = OPT_DOUBLE,
	  .offset = DC(evidence.max_s),
	  .min = 1,
	  .max = 3600,
	  .def = "120" },
	/* per monitor: about 100 events of a minute; the oldest go first */
	{ .key = "evidence.max_mb",
	  .type = OPT_INT,
	  .offset = DC(evidence.max_mb),
	  .min = 1,
	  .max = 1048576,
	  .def = "200" },
	{ .key = "evidence.max_files",
	  .type = OPT_INT,
	  .offset = DC(evidence.max_files),
	  .min = 1,
	  .max = 1000000,
	  .def = "100" },
	{ .key = "monitors", .type = OPT_CUSTOM, .flags = OPTF_REQUIRED, .set = set_monitors },
};

/* One entry of `monitors:`. Keep config/auscultd.yaml in step with this table. */
static const struct opt monitor_opts[] = {
	{ .key = "name", .type = OPT_CUSTOM, .flags = OPTF_REQUIRED, .set = set_name },
	{ .key = "source.type",
	  .type = OPT_ENUM,
	  .offset = MS(source_kind),
	  .flags = OPTF_REQUIRED,
	  .names = source_type_names },
	{ .key = "source.device",
	  .type = OPT_CUSTOM,
	  .def = "null",
	  .set = set_device,
	  .sources = SRC_DEVICE },
	{ .key = "source.path", .type = OPT_PATH, .offset = MS(source_path), .sources = SRC_FILE },
	{ .key = "source.rate_hz",
	  .type = OPT_U32,
	  .offset = MS(input_rate_hz),
	  .min = 8000,
	  .max = 384000,
	  .sources = SRC_DEVICE | SRC_STDIN },
	{ .key = "source.channels",
	  .type = OPT_U32,
	  .offset = MS(input_channels),
	  .min = 1,
	  .max = 64,
	  .def = "1",
	  .sources = SRC_DEVICE | SRC_STDIN },
	{ .key = "source.channel", .type = OPT_CUSTOM, .def = "average", .set = set_channel },
	{ .key = "source.loop",
	  .type = OPT_BOOL,
	  .offset = MS(loop),
	  .def = "false",
	  .sources = SRC_FILE },
	/* stdin gets false in validation unless set: a pipe is paced by its writer already */
	{ .key = "source.realtime",
	  .type = OPT_BOOL,
	  .offset = MS(realtime),
	  .def = "true",
	  .sources = SRC_FILE | SRC_STDIN },
	{ .key = "model", .type = OPT_PATH, .offset = MS(model_path), .flags = OPTF_REQUIRED },
	/* The scoring keys fill the pipeline's settings: their defaults come from
	 * pipeline_settings_defaults (no .def here) and their bounds from pipeline.h. */
	{ .key = "window_s",
	  .type = OPT_DOUBLE,
	  .offset = MS(pipeline.window_s),
	  .min = PIPELINE_WINDOW_S_MIN,
	  .max = PIPELINE_WINDOW_S_MAX },
	{ .key = "hop_s",
	  .type = OPT_DOUBLE,
	  .offset = MS(pipeline.hop_s),
	  .min = 0,
	  .max = PIPELINE_HOP_S_MAX,
	  .flags = OPTF_MIN_OPEN },
	{ .key = "smoothing.method",
	  .type = OPT_ENUM,
	  .offset = MS(pipeline.smoothing),
	  .names = smoothing_names },
	{ .key = "smoothing.windows",
	  .type = OPT_U32,
	  .offset = MS(pipeline.smoothing_windows),
	  .min = 1,
	  .max = PIPELINE_SMOOTHING_WINDOWS_MAX },
	{ .key = "threshold", .type = OPT_CUSTOM, .set = set_threshold },
	{ .key = "hysteresis.anomaly_after",
	  .type = OPT_U32,
	  .offset = MS(pipeline.anomaly_after),
	  .min = 1,
	  .max = PIPELINE_HYSTERESIS_MAX },
	{ .key = "hysteresis.normal_after",
	  .type = OPT_U32,
	  .offset = MS(pipeline.normal_after),
	  .min = 1,
	  .max = PIPELINE_HYSTERESIS_MAX },
	{ .key = "silence_dbfs", .type = OPT_CUSTOM, .set = set_silence },
	{ .key = "gate.settle_s",
	  .type = OPT_DOUBLE,
	  .offset = MS(pipeline.settle_s),
	  .min = 0,
	  .max = PIPELINE_SETTLE_S_MAX },
	{ .key = "publish_interval_s",
	  .type = OPT_DOUBLE,
	  .offset = MS(publish_interval_s),
	  .min = 0.1,
	  .max = 3600,
	  .def = "1.0" },
	/* absent: 0, learning off; 0.5 min = 3 clips, two to train on and one to fit on */
	{ .key = "learn.minutes",
	  .type = OPT_DOUBLE,
	  .offset = MS(learn_minutes),
	  .min = 0.5,
	  .max = 10080 },
	{ .key = "learn.dir", .type = OPT_PATH, .offset = MS(learn_dir), .flags = OPTF_NULLABLE },
};

#define N_ROOT_OPTS (sizeof(root_opts) / sizeof(root_opts[0]))
#define N_MONITOR_OPTS (sizeof(monitor_opts) / sizeof(monitor_opts[0]))
_Static_assert(N_ROOT_OPTS + MQTT_SETTINGS_COUNT <= SCOPE_MAX_OPTS, "raise SCOPE_MAX_OPTS");
_Static_assert(N_MONITOR_OPTS <= SCOPE_MAX_OPTS, "raise SCOPE_MAX_OPTS");

/* The root scope's table: root_opts with one row per MQTT setting after log_level, mapped from
 * mqtt_settings_table, so the loader holds no second copy of their keys, bounds or defaults. */
static void root_table(struct loader *ld)
{
	static const enum opt_type types[] = {
		[MQTT_SETTING_STRING] = OPT_STRING, [MQTT_SETTING_PATH] = OPT_PATH,
		[MQTT_SETTING_BOOL] = OPT_BOOL,     [MQTT_SETTING_INT] = OPT_INT,
		[MQTT_SETTING_SIZE] = OPT_SIZE,
	};
	size_t n = 0;
	ld->root_table[n++] = root_opts[0];
	ld->mqtt_first = n;
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++) {
		const struct mqtt_setting *m = &mqtt_settings_table[i];
		ld->root_table[n++] = (struct opt){
			.key = m->key,
			.type = types[m->kind],
			.offset = DC(mqtt) + m->offset,
			.min = m->min,
			.max = m->max,
			/* a string without a default is optional: null is none */
			.flags = !m->def ? OPTF_NULLABLE : 0,
			.def = m->def,
		};
	}
	for (size_t i = 1; i < N_ROOT_OPTS; i++)
		ld->root_table[n++] = root_opts[i];
	ld->n_root = n;
}

/* ---------------------------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------------------------- */

/* "FILE:LINE:COL: KEY: MESSAGE", with libyaml's 0-based marks shown 1-based like editors do. */
__attribute__((format(printf, 5, 6))) static int fail_at(struct loader *ld, yaml_mark_t mark,
							 const char *key, int status,
							 const char *fmt, ...)
{
	char msg[AUSCULT_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key && *key)
		return auscult_fail(ld->err, status, "%s:%zu:%zu: %s: %s", ld->file, mark.line + 1,
				    mark.column + 1, key, msg);
	return auscult_fail(ld->err, status, "%s:%zu:%zu: %s", ld->file, mark.line + 1,
			    mark.column + 1, msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* YAML 1.1 null: an empty plain scalar, ~, or null. Quoted "null" is a string. */
static bool is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = scalar(n);
	return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

/* Names what the user wrote, for "expected X, got Y". */
static const char *describe(const yaml_node_t *n, char *buf, size_t size)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		if (is_null(n))
			return "null";
		snprintf(buf, size, "'%.60s%s'", scalar(n),
			 n->data.scalar.length > 60 ? "..." : "");
		return buf;
	default:
		return "nothing";
	}
}

static void format_bound(char *buf, size_t size, double v, enum opt_type t)
{
	if (t == OPT_DOUBLE)
		snprintf(buf, size, "%g", v);
	else
		snprintf(buf, size, "%.0f", v);
}

static int fail_range(struct loader *ld, const struct opt *o, const yaml_node_t *n, const char *key,
		      double min, double max)
{
	char lo[32], hi[32];
	format_bound(lo, sizeof(lo), min, o->type);
	format_bound(hi, sizeof(hi), max, o->type);
	return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID, "%s is out of range %c%s, %s]",
		       scalar(n), (o->flags & OPTF_MIN_OPEN) ? '(' : '[', lo, hi);
}

/* Edit distance of two short keys, for "did you mean". Longer keys are never close. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return SIZE_MAX;
	size_t prev[64], cur[64];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

/* The next key component after prefix in o->key ("smoothing.method" after "smoothing" is
 * "method"), or NULL when o->key is not under prefix. */
static const char *component_after(const char *okey, const char *prefix, size_t *len)
{
	size_t pl = strlen(prefix);
	if (pl) {
		if (strncmp(okey, prefix, pl) != 0 || okey[pl] != '.')
			return NULL;
		okey += pl + 1;
	}
	const char *dot = strchr(okey, '.');
	*len = dot ? (size_t)(dot - okey) : strlen(okey);
	return okey;
}

static int fail_unknown_key(struct loader *ld, struct scope *sc, const char *prefix,
			    const char *name, const yaml_node_t *keynode, const char *key)
{
	/* The closest key at this level, or a key of this scope that lives one section deeper
	 * (`method: ema` written outside `smoothing:`). */
	const char *best = NULL;
	size_t best_len = 0, best_d = SIZE_MAX;
	char known[256] = "";
	size_t known_len = 0;
	for (size_t i = 0; i < sc->n_opts; i++) {
		size_t len;
		const char *c = component_after(sc->table[i].key, prefix, &len);
		if (!c)
			continue;
		char word[64];
		snprintf(word, sizeof(word), "%.*s", (int)len, c);
		bool listed = false;
		for (size_t j = 0; j < i && !listed; j++) {
			size_t lj;
			const char *cj = component_after(sc->table[j].key, prefix, &lj);
			listed = cj && lj == len && strncmp(cj, c, len) == 0;
		}
		if (!listed) {
			int w = snprintf(known + known_len, sizeof(known) - known_len, "%s%s",
					 known_len ? ", " : "", word);
			if (w > 0 && (size_t)w < sizeof(known) - known_len)
				known_len += (size_t)w;
		}
		size_t d = strcasecmp(word, name) == 0 ? 0 : edit_distance(word, name);
		if (d < best_d) {
			best_d = d;
			best = c;
			best_len = len;
		}
	}
	size_t name_len = strlen(name);
	if (best && best_d <= 2 && best_d < name_len)
		return fail_at(ld, keynode->start_mark, key, AUSCULT_ERR_INVALID,
			       "unknown key; did you mean '%.*s'?", (int)best_len, best);
	for (size_t i = 0; i < sc->n_opts; i++) {
		const char *okey = sc->table[i].key;
		size_t pl = strlen(prefix);
		if (pl && (strncmp(okey, prefix, pl) != 0 || okey[pl] != '.'))
			continue;
		const char *rel = pl ? okey + pl + 1 : okey;
		const char *last = strrchr(rel, '.');
		if (last && strcmp(last + 1, name) == 0)
			return fail_at(ld, keynode->start_mark, key, AUSCULT_ERR_INVALID,
				       "unknown key here; it belongs under '%.*s:' (%s)",
				       (int)(last - rel), rel, rel);
	}
	return fail_at(ld, keynode->start_mark, key, AUSCULT_ERR_INVALID,
		       "unknown key (known here: %s)", known);
}

/* ---------------------------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------------------------- */

static int need_scalar(struct loader *ld, const yaml_node_t *n, const char *key, const char *what)
{
	char buf[80];
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID, "expected %s, got %s",
			       what, describe(n, buf, sizeof(buf)));
	if (strlen(scalar(n)) != n->data.scalar.length)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "contains a NUL character");
	return AUSCULT_OK;
}

/* Numbers must be plain scalars: "30" in quotes is a string in YAML, and saying so beats
 * guessing what was meant. */
static int parse_double(struct loader *ld, const yaml_node_t *n, const char *key, double *out)
{
	int rc = need_scalar(ld, n, key, "a number");
	if (rc)
		return rc;
	const char *s = scalar(n);
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || end == s || *end || errno ||
	    !isfinite(v))
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "expected a number, got %s'%s'%s",
			       n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ? "the string " : "",
			       s,
			       n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
				       ? " (remove the quotes)"
				       : "");
	*out = v;
	return AUSCULT_OK;
}

static int parse_integer(struct loader *ld, const yaml_node_t *n, const char *key, long long *out)
{
	int rc = need_scalar(ld, n, key, "an integer");
	if (rc)
		return rc;
	const char *s = scalar(n);
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || end == s || *end || errno)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "expected an integer, got %s'%s'%s",
			       n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ? "the string " : "",
			       s,
			       n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
				       ? " (remove the quotes)"
				       : "");
	*out = v;
	return AUSCULT_OK;
}

static int parse_bool(struct loader *ld, const yaml_node_t *n, const char *key, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	int rc = need_scalar(ld, n, key, "true or false");
	if (rc)
		return rc;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(scalar(n), yes[i]) == 0) {
			*out = true;
			return AUSCULT_OK;
		}
		if (strcasecmp(scalar(n), no[i]) == 0) {
			*out = false;
			return AUSCULT_OK;
		}
	}
	return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
		       "expected true or false, got '%s'", scalar(n));
}

/* Joins a relative path to the config file's folder, so the daemon finds the same files
 * whatever its working directory. */
static char *resolve_path(const struct loader *ld, const char *p)
{
	if (p[0] == '/' || !ld->base_dir)
		return strdup(p);
	size_t n = strlen(ld->base_dir) + 1 + strlen(p) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", ld->base_dir, p);
	return out;
}

static int set_string(struct loader *ld, const struct opt *o, const yaml_node_t *n, const char *key,
		      char **target)
{
	char buf[80];
	if (is_null(n)) {
		if (!(o->flags & OPTF_NULLABLE))
			return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
				       "expected a %s, got null",
				       o->type == OPT_PATH ? "path" : "string");
		free(*target);
		*target = NULL;
		return AUSCULT_OK;
	}
	if (n->type != YAML_SCALAR_NODE)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID, "expected a %s, got %s",
			       o->type == OPT_PATH ? "path" : "string",
			       describe(n, buf, sizeof(buf)));
	int rc = need_scalar(ld, n, key, "a string");
	if (rc)
		return rc;
	if (!*scalar(n))
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID, "must not be empty%s",
			       (o->flags & OPTF_NULLABLE) ? " (write null for none)" : "");
	char *dup = o->type == OPT_PATH ? resolve_path(ld, scalar(n)) : strdup(scalar(n));
	if (!dup)
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	free(*target);
	*target = dup;
	return AUSCULT_OK;
}

/* Converts one value through the table entry o. */
static int convert(struct loader *ld, struct scope *sc, const struct opt *o, const yaml_node_t *n,
		   const char *key)
{
	void *target = (char *)sc->obj + o->offset;
	long long iv = 0;
	double dv = 0;
	int rc;
	switch (o->type) {
	case OPT_STRING:
	case OPT_PATH:
		return set_string(ld, o, n, key, (char **)target);
	case OPT_BOOL:
		return parse_bool(ld, n, key, (bool *)target);
	case OPT_INT:
	case OPT_U32:
	case OPT_SIZE:
		if ((rc = parse_integer(ld, n, key, &iv)))
			return rc;
		if ((double)iv < o->min || (double)iv > o->max)
			return fail_range(ld, o, n, key, o->min, o->max);
		if (o->type == OPT_INT)
			*(int *)target = (int)iv;
		else if (o->type == OPT_U32)
			*(uint32_t *)target = (uint32_t)iv;
		else
			*(size_t *)target = (size_t)iv;
		return AUSCULT_OK;
	case OPT_DOUBLE:
		if ((rc = parse_double(ld, n, key, &dv)))
			return rc;
		if (((o->flags & OPTF_MIN_OPEN) ? dv <= o->min : dv < o->min) || dv > o->max)
			return fail_range(ld, o, n, key, o->min, o->max);
		*(double *)target = dv;
		return AUSCULT_OK;
	case OPT_ENUM: {
		char words[128] = "";
		size_t len = 0;
		for (const struct enum_name *e = o->names; e->name; e++) {
			if (n->type == YAML_SCALAR_NODE && strcmp(scalar(n), e->name) == 0) {
				/* every enum in the config structs is int-sized */
				*(int *)target = e->value;
				return AUSCULT_OK;
			}
			int w = snprintf(words + len, sizeof(words) - len, "%s%s", len ? ", " : "",
					 e->name);
			if (w > 0 && (size_t)w < sizeof(words) - len)
				len += (size_t)w;
		}
		char buf[80];
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "expected one of %s, got %s", words, describe(n, buf, sizeof(buf)));
	}
	case OPT_CUSTOM:
		return o->set(ld, sc, o, n, key);
	case OPT_FORBIDDEN:
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID, "%s", o->help);
	}
	return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID, "unhandled option type");
}

/* Sets every option of a scope to its default by converting the default's text like a value
 * in the file, so the table is the one place that states defaults. */
static int apply_defaults(struct loader *ld, struct scope *sc)
{
	for (size_t i = 0; i < sc->n_opts; i++) {
		const struct opt *o = &sc->table[i];
		if (!o->def)
			continue;
		char text[64];
		snprintf(text, sizeof(text), "%s", o->def);
		yaml_node_t fake;
		memset(&fake, 0, sizeof(fake));
		fake.type = YAML_SCALAR_NODE;
		fake.data.scalar.value = (yaml_char_t *)text;
		fake.data.scalar.length = strlen(text);
		fake.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
		int rc = convert(ld, sc, o, &fake, o->key);
		if (rc)
			return rc;
	}
	return AUSCULT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Custom setters
 * ------------------------------------------------------------------------------------------- */

static int set_name(struct loader *ld, struct scope *sc, const struct opt *o, const yaml_node_t *n,
		    const char *key)
{
	struct monitor_settings *ms = sc->obj;
	int rc = need_scalar(ld, n, key, "a name");
	if (rc)
		return rc;
	const char *s = scalar(n);
	size_t len = strlen(s);
	if (len == 0 || len > MONITOR_NAME_MAX ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != len)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "'%s' is not a valid monitor name: it becomes part of MQTT topics, "
			       "so use 1 to %d of A-Z a-z 0-9 _ -",
			       s, MONITOR_NAME_MAX);
	char *dup = strdup(s);
	if (!dup)
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	free(ms->name);
	ms->name = dup;
	return AUSCULT_OK;
}

/* `device:` is an ALSA/PortAudio name ("hw:1,0", "USB"), a PortAudio index (3), or null for
 * the default input. */
static int set_device(struct loader *ld, struct scope *sc, const struct opt *o,
		      const yaml_node_t *n, const char *key)
{
	struct monitor_settings *ms = sc->obj;
	if (is_null(n)) {
		free(ms->device_name);
		ms->device_name = NULL;
		ms->device_index = -1;
		return AUSCULT_OK;
	}
	int rc = need_scalar(ld, n, key, "a device name or index");
	if (rc)
		return rc;
	const char *s = scalar(n);
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    strspn(s, "0123456789") == strlen(s)) {
		long long idx;
		if ((rc = parse_integer(ld, n, key, &idx)))
			return rc;
		if (idx > 1023)
			return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
				       "%s is out of range [0, 1023] for a device index", s);
		free(ms->device_name);
		ms->device_name = NULL;
		ms->device_index = (int)idx;
		return AUSCULT_OK;
	}
	if (!*s)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "must not be empty (write null for the default input)");
	char *dup = strdup(s);
	if (!dup)
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	free(ms->device_name);
	ms->device_name = dup;
	ms->device_index = -1;
	return AUSCULT_OK;
}

static int set_channel(struct loader *ld, struct scope *sc, const struct opt *o,
		       const yaml_node_t *n, const char *key)
{
	struct monitor_settings *ms = sc->obj;
	if (n->type == YAML_SCALAR_NODE && strcmp(scalar(n), "average") == 0) {
		ms->channel = AUDIO_CHANNEL_AVERAGE;
		return AUSCULT_OK;
	}
	char buf[80];
	long long v;
	const char *s = n->type == YAML_SCALAR_NODE ? scalar(n) : "";
	char *end = NULL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    end == s || *end || errno)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "expected a channel index or 'average', got %s",
			       describe(n, buf, sizeof(buf)));
	if (v < 0 || v > 63)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "%s is out of range [0, 63] (or write 'average')", s);
	ms->channel = (int)v;
	return AUSCULT_OK;
}

static int set_threshold(struct loader *ld, struct scope *sc, const struct opt *o,
			 const yaml_node_t *n, const char *key)
{
	struct monitor_settings *ms = sc->obj;
	if (n->type == YAML_SCALAR_NODE && strcmp(scalar(n), "model") == 0) {
		ms->pipeline.threshold_set = false;
		ms->pipeline.threshold = 0;
		return AUSCULT_OK;
	}
	char buf[80];
	double v;
	const char *s = n->type == YAML_SCALAR_NODE ? scalar(n) : "";
	char *end = NULL;
	v = strtod(s, &end);
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    end == s || *end || !isfinite(v))
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "expected a number or 'model', got %s",
			       describe(n, buf, sizeof(buf)));
	if (v <= 0)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "%s is out of range (0, inf) (or write 'model' for the model's own)",
			       s);
	ms->pipeline.threshold_set = true;
	ms->pipeline.threshold = v;
	return AUSCULT_OK;
}

static int set_silence(struct loader *ld, struct scope *sc, const struct opt *o,
		       const yaml_node_t *n, const char *key)
{
	struct monitor_settings *ms = sc->obj;
	/* YAML 1.1 reads a plain `off` as false, which is what people write to turn the gate off */
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcasecmp(scalar(n), "off") == 0 || strcasecmp(scalar(n), "false") == 0)) {
		ms->pipeline.silence_dbfs = -INFINITY;
		return AUSCULT_OK;
	}
	char buf[80];
	const char *s = n->type == YAML_SCALAR_NODE ? scalar(n) : "";
	char *end = NULL;
	double v = strtod(s, &end);
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    end == s || *end || !isfinite(v))
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "expected a level in dBFS or 'off', got %s",
			       describe(n, buf, sizeof(buf)));
	if (v < PIPELINE_SILENCE_DBFS_MIN || v > PIPELINE_SILENCE_DBFS_MAX)
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "%s is out of range [%g, %g] (or write 'off')", s,
			       PIPELINE_SILENCE_DBFS_MIN, PIPELINE_SILENCE_DBFS_MAX);
	ms->pipeline.silence_dbfs = v;
	return AUSCULT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Walking mappings
 * ------------------------------------------------------------------------------------------- */

static void scope_init(struct scope *sc, const struct opt *table, size_t n, void *obj,
		       const char *path)
{
	memset(sc, 0, sizeof(*sc));
	sc->table = table;
	sc->n_opts = n;
	sc->obj = obj;
	snprintf(sc->path, sizeof(sc->path), "%s", path);
}

/* Copies as much of src as fits; key paths are bounded by the table, so nothing real is cut. */
static size_t append(char *out, size_t size, size_t n, const char *src)
{
	for (; *src && n + 1 < size; src++)
		out[n++] = *src;
	out[n] = '\0';
	return n;
}

static void join_key(char *out, size_t size, const char *a, const char *b)
{
	size_t n = append(out, size, 0, a);
	if (*a && *b)
		n = append(out, size, n, ".");
	append(out, size, n, b);
}

static bool scope_section(const struct scope *sc, const char *name, yaml_mark_t *mark)
{
	for (size_t i = 0; i < sc->n_sections; i++) {
		if (strcmp(sc->sections[i].name, name) == 0) {
			if (mark)
				*mark = sc->sections[i].mark;
			return true;
		}
	}
	return false;
}

static int parse_mapping(struct loader *ld, struct scope *sc, const yaml_node_t *map,
			 const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(&ld->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&ld->doc, p->value);
		char where[KEY_PATH_MAX];
		join_key(where, sizeof(where), sc->path, prefix);
		if (!kn || !vn || kn->type != YAML_SCALAR_NODE || is_null(kn) ||
		    strlen(scalar(kn)) != kn->data.scalar.length) {
			char buf[80];
			return fail_at(ld, kn ? kn->start_mark : map->start_mark,
				       *where ? where : NULL, AUSCULT_ERR_INVALID,
				       "keys must be plain words, got %s",
				       kn ? describe(kn, buf, sizeof(buf)) : "nothing");
		}
		const char *name = scalar(kn);
		char key[KEY_PATH_MAX], full[KEY_PATH_MAX];
		join_key(key, sizeof(key), where, name);
		join_key(full, sizeof(full), prefix, name);
		/* "source.type:" would match the option table's dotted names and slip past the
		 * duplicate check beside a nested `source: { type: ... }`. */
		const char *dot = strchr(name, '.');
		if (dot)
			return fail_at(ld, kn->start_mark, key, AUSCULT_ERR_INVALID,
				       "keys are single words; write it nested: %.*s: { %s: ... }",
				       (int)(dot - name), name, dot + 1);

		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *prev = yaml_document_get_node(&ld->doc, q->key);
			if (prev && strcmp(scalar(prev), name) == 0)
				return fail_at(ld, kn->start_mark, key, AUSCULT_ERR_INVALID,
					       "duplicate key; it is already set at line %zu:%zu",
					       prev->start_mark.line + 1,
					       prev->start_mark.column + 1);
		}

		bool section = false;
		size_t fl = strlen(full);
		int rc = AUSCULT_OK;
		size_t i;
		for (i = 0; i < sc->n_opts; i++) {
			if (strcmp(sc->table[i].key, full) == 0)
				break;
			if (strncmp(sc->table[i].key, full, fl) == 0 && sc->table[i].key[fl] == '.')
				section = true;
		}
		if (i < sc->n_opts) {
			if ((rc = convert(ld, sc, &sc->table[i], vn, key)))
				return rc;
			sc->set[i] = true;
			sc->key_mark[i] = kn->start_mark;
			sc->value_mark[i] = vn->start_mark;
		} else if (section) {
			if (sc->n_sections < SCOPE_MAX_SECTIONS) {
				append(sc->sections[sc->n_sections].name,
				       sizeof(sc->sections[0].name), 0, full);
				sc->sections[sc->n_sections++].mark = vn->start_mark;
			}
			if (is_null(vn))
				continue; /* `smoothing:` with nothing under it keeps the defaults */
			if (vn->type != YAML_MAPPING_NODE) {
				char buf[80];
				return fail_at(ld, vn->start_mark, key, AUSCULT_ERR_INVALID,
					       "expected a mapping of keys, got %s",
					       describe(vn, buf, sizeof(buf)));
			}
			if ((rc = parse_mapping(ld, sc, vn, full)))
				return rc;
		} else {
			return fail_unknown_key(ld, sc, prefix, name, kn, key);
		}
	}
	return AUSCULT_OK;
}

/* Required keys: a missing section is named as the section, so the message says `source`. */
static int check_required(struct loader *ld, struct scope *sc)
{
	for (size_t i = 0; i < sc->n_opts; i++) {
		const struct opt *o = &sc->table[i];
		if (!(o->flags & OPTF_REQUIRED) || sc->set[i])
			continue;
		char key[KEY_PATH_MAX], section[64];
		const char *dot = strchr(o->key, '.');
		snprintf(section, sizeof(section), "%.*s", dot ? (int)(dot - o->key) : 0, o->key);
		yaml_mark_t mark = sc->start;
		if (dot && !scope_section(sc, section, &mark)) {
			join_key(key, sizeof(key), sc->path, section);
			return fail_at(ld, sc->start, key, AUSCULT_ERR_INVALID,
				       "missing; this key is required");
		}
		join_key(key, sizeof(key), sc->path, o->key);
		return fail_at(ld, mark, key, AUSCULT_ERR_INVALID, "missing; this key is required");
	}
	return AUSCULT_OK;
}

static int opt_index(const struct scope *sc, const char *key)
{
	for (size_t i = 0; i < sc->n_opts; i++)
		if (strcmp(sc->table[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int set_monitors(struct loader *ld, struct scope *sc, const struct opt *o,
			const yaml_node_t *n, const char *key)
{
	struct daemon_config *cfg = sc->obj;
	char buf[80];
	if (is_null(n) || (n->type == YAML_SEQUENCE_NODE &&
			   n->data.sequence.items.top == n->data.sequence.items.start))
		return fail_at(ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			       "the list is empty; add at least one monitor (name, source, model)");
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(
			ld, n->start_mark, key, AUSCULT_ERR_INVALID,
			"expected a list of monitors (each item starting with '- name:'), got %s",
			describe(n, buf, sizeof(buf)));
	size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > DAEMON_MONITORS_MAX) {
		const yaml_node_t *over =
			yaml_document_get_node(&ld->doc,
					       n->data.sequence.items.start[DAEMON_MONITORS_MAX]);
		return fail_at(ld, over ? over->start_mark : n->start_mark, key,
			       AUSCULT_ERR_INVALID,
			       "%zu monitors; one daemon runs at most %d, and this is monitor %d; "
			       "split the list over several daemons (each with its own config and "
			       "mqtt.client_id)",
			       count, DAEMON_MONITORS_MAX, DAEMON_MONITORS_MAX + 1);
	}
	cfg->monitors = calloc(count, sizeof(*cfg->monitors));
	ld->monitors = calloc(count, sizeof(*ld->monitors));
	if (!cfg->monitors || !ld->monitors)
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	cfg->n_monitors = count;
	for (size_t i = 0; i < count; i++) {
		struct scope *ms = &ld->monitors[i];
		char path[KEY_PATH_MAX];
		snprintf(path, sizeof(path), "%s[%zu]", key, i);
		scope_init(ms, monitor_opts, N_MONITOR_OPTS, &cfg->monitors[i], path);
		pipeline_settings_defaults(&cfg->monitors[i].pipeline);
		int rc = apply_defaults(ld, ms);
		if (rc)
			return rc;
		yaml_node_t *item = yaml_document_get_node(&ld->doc,
							   n->data.sequence.items.start[i]);
		if (!item || item->type != YAML_MAPPING_NODE)
			return fail_at(
				ld, item ? item->start_mark : n->start_mark, path,
				AUSCULT_ERR_INVALID,
				"expected a mapping with the monitor's keys (name, source, model, "
				"...), got %s",
				item ? describe(item, buf, sizeof(buf)) : "nothing");
		ms->start = item->start_mark;
		if ((rc = parse_mapping(ld, ms, item, "")))
			return rc;
	}
	return AUSCULT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Validation across keys
 * ------------------------------------------------------------------------------------------- */

/* The MQTT settings are checked by their owner; the loader only says where in the file. */
static int validate_mqtt(struct loader *ld)
{
	struct scope *sc = &ld->root;
	bool given[MQTT_SETTINGS_COUNT];
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++)
		given[i] = sc->set[ld->mqtt_first + i];
	struct mqtt_settings_fault fault;
	struct auscult_err why;
	auscult_err_clear(&why);
	int rc = mqtt_settings_validate(&ld->cfg->mqtt, given, &fault, &why);
	if (rc == AUSCULT_OK)
		return AUSCULT_OK;
	if (rc == AUSCULT_ERR_NOMEM)
		return auscult_fail(ld->err, rc, "%s: out of memory", ld->file);
	size_t i = ld->mqtt_first + (size_t)fault.id;
	yaml_mark_t mark = !sc->set[i]    ? sc->start
			   : fault.at_key ? sc->key_mark[i]
					  : sc->value_mark[i];
	return fail_at(ld, mark, sc->table[i].key, rc, "%s", why.msg);
}

static const char *source_type_word(enum audio_source_kind k)
{
	for (const struct enum_name *e = source_type_names; e->name; e++)
		if (e->value == (int)k)
			return e->name;
	return "?";
}

static int validate_monitor(struct loader *ld, struct scope *sc)
{
	struct monitor_settings *ms = sc->obj;
	char key[KEY_PATH_MAX];
	unsigned type_bit = 1u << ms->source_kind;
	int rc;

	for (size_t i = 0; i < sc->n_opts; i++) {
		const struct opt *o = &sc->table[i];
		if (!sc->set[i] || !o->sources || (o->sources & type_bit))
			continue;
		char kinds[64] = "";
		size_t len = 0;
		for (const struct enum_name *e = source_type_names; e->name; e++) {
			if (!(o->sources & (1u << e->value)))
				continue;
			int w = snprintf(kinds + len, sizeof(kinds) - len, "%s%s",
					 len ? " or " : "", e->name);
			if (w > 0 && (size_t)w < sizeof(kinds) - len)
				len += (size_t)w;
		}
		join_key(key, sizeof(key), sc->path, o->key);
		return fail_at(ld, sc->key_mark[i], key, AUSCULT_ERR_INVALID,
			       "only applies to source type %s, but this source is type %s", kinds,
			       source_type_word(ms->source_kind));
	}

	yaml_mark_t src_mark = sc->start;
	scope_section(sc, "source", &src_mark);
	if (ms->source_kind == AUDIO_SOURCE_FILE && !ms->source_path) {
		join_key(key, sizeof(key), sc->path, "source.path");
		return fail_at(ld, src_mark, key, AUSCULT_ERR_INVALID,
			       "missing; a source of type file needs the audio file's path");
	}
	if (ms->source_kind == AUDIO_SOURCE_STDIN && ms->input_rate_hz == 0) {
		join_key(key, sizeof(key), sc->path, "source.rate_hz");
		return fail_at(
			ld, src_mark, key, AUSCULT_ERR_INVALID,
			"missing; raw PCM on stdin carries no header, so give its sample rate "
			"(e.g. rate_hz: 16000)");
	}
	int ic = opt_index(sc, "source.channel");
	if (ms->source_kind != AUDIO_SOURCE_FILE && ms->channel >= 0 &&
	    (uint32_t)ms->channel >= ms->input_channels) {
		join_key(key, sizeof(key), sc->path, "source.channel");
		return fail_at(ld, sc->value_mark[ic], key, AUSCULT_ERR_INVALID,
			       "channel %d does not exist: the source has %u channel%s (0 to %u); "
			       "raise source.channels or pick another",
			       ms->channel, ms->input_channels, ms->input_channels == 1 ? "" : "s",
			       ms->input_channels - 1);
	}
	if (ms->source_kind == AUDIO_SOURCE_STDIN && !sc->set[opt_index(sc, "source.realtime")])
		ms->realtime = false;
	/* Whether the file can be read is config_check's (each monitor's fault on its own line,
	 * not the first one's alone). */

	/* The pipeline's own check: the cross-field rules (hop_s within window_s) and the bounds. */
	const char *field = NULL;
	struct auscult_err why;
	auscult_err_clear(&why);
	if ((rc = pipeline_settings_validate(&ms->pipeline, &field, &why))) {
		int ik = field ? opt_index(sc, field) : -1;
		int iw = opt_index(sc, "window_s");
		yaml_mark_t mark = ik >= 0 && sc->set[ik] ? sc->value_mark[ik]
				   : sc->set[iw]          ? sc->value_mark[iw]
							  : sc->start;
		join_key(key, sizeof(key), sc->path, field ? field : "");
		/* The message may start with the key already: say it once. */
		const char *msg = why.msg;
		size_t fl = field ? strlen(field) : 0;
		if (fl && strncmp(msg, field, fl) == 0 && msg[fl] == ':')
			msg += fl + 2;
		return fail_at(ld, mark, key, rc, "%s", msg);
	}
	return AUSCULT_OK;
}

/* Keeps where each monitor's model, source.path and window_s are, for daemon/config_check.c. */
static struct config_place place_of(yaml_mark_t m)
{
	return (struct config_place){ .line = m.line + 1, .column = m.column + 1 };
}

static int record_places(struct loader *ld)
{
	struct daemon_config *cfg = ld->cfg;
	cfg->places = calloc(cfg->n_monitors, sizeof(*cfg->places));
	if (!cfg->places)
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	for (size_t i = 0; i < cfg->n_monitors; i++) {
		const struct scope *sc = &ld->monitors[i];
		int im = opt_index(sc, "model"), ip = opt_index(sc, "source.path");
		int iw = opt_index(sc, "window_s");
		struct monitor_places *p = &cfg->places[i];
		p->model = place_of(sc->value_mark[im]);
		p->source_path = sc->set[ip] ? place_of(sc->value_mark[ip]) : p->model;
		p->window_s = sc->set[iw] ? place_of(sc->value_mark[iw]) : p->model;
	}
	return AUSCULT_OK;
}

int daemon_config_fail(const struct daemon_config *cfg, struct config_place at, const char *key,
		       int status, struct auscult_err *err, const char *fmt, ...)
{
	char msg[AUSCULT_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return auscult_fail(err, status, "%s:%zu:%zu: %s: %s", cfg->path, at.line, at.column, key,
			    msg);
}

static int validate(struct loader *ld)
{
	struct daemon_config *cfg = ld->cfg;
	int rc;
	if ((rc = check_required(ld, &ld->root)))
		return rc;
	if ((rc = validate_mqtt(ld)))
		return rc;
	for (size_t i = 0; i < cfg->n_monitors; i++) {
		if ((rc = check_required(ld, &ld->monitors[i])) ||
		    (rc = validate_monitor(ld, &ld->monitors[i])))
			return rc;
	}
	for (size_t i = 0; i < cfg->n_monitors; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->monitors[i].name, cfg->monitors[j].name) != 0)
				continue;
			struct scope *sc = &ld->monitors[i];
			int in = opt_index(sc, "name");
			yaml_mark_t first = ld->monitors[j].value_mark[in];
			char key[KEY_PATH_MAX];
			join_key(key, sizeof(key), sc->path, "name");
			return fail_at(ld, sc->value_mark[in], key, AUSCULT_ERR_INVALID,
				       "'%s' is already the name of monitors[%zu] (line %zu); names "
				       "must be unique because they are MQTT topics",
				       cfg->monitors[i].name, j, first.line + 1);
		}
	}
	/* One process has one standard input: two monitors on it would each get part of the one
	 * stream, frames cut in two. */
	for (size_t i = 0; i < cfg->n_monitors; i++) {
		if (cfg->monitors[i].source_kind != AUDIO_SOURCE_STDIN)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (cfg->monitors[j].source_kind != AUDIO_SOURCE_STDIN)
				continue;
			struct scope *sc = &ld->monitors[i];
			char key[KEY_PATH_MAX];
			join_key(key, sizeof(key), sc->path, "source.type");
			return fail_at(
				ld, sc->value_mark[opt_index(sc, "source.type")], key,
				AUSCULT_ERR_INVALID,
				"monitors[%zu] ('%s') reads stdin already; the daemon has one "
				"standard input, so only one monitor can listen to it (give "
				"this one a device or a file)",
				j, cfg->monitors[j].name);
		}
	}
	if ((rc = record_places(ld)))
		return rc;
	return AUSCULT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Reading the file
 * ------------------------------------------------------------------------------------------- */

static int read_file(struct loader *ld)
{
	int rc;
	struct stat st;
	int fd = regular_file_open(ld->file, "the config file", &st, &rc, ld->err);
	if (fd < 0)
		return rc;
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		rc = auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: cannot read: %s", ld->file,
				  strerror(errno));
		close(fd);
		return rc;
	}
	if (st.st_size > CONFIG_FILE_MAX_BYTES) {
		rc = auscult_fail(
			ld->err, AUSCULT_ERR_INVALID,
			"%s: %lld bytes is too large for a config file (at most %d); is this "
			"the right file?",
			ld->file, (long long)st.st_size, CONFIG_FILE_MAX_BYTES);
		goto out;
	}
	ld->text = malloc((size_t)st.st_size + 1);
	if (!ld->text) {
		rc = auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
		goto out;
	}
	ld->text_len = fread(ld->text, 1, (size_t)st.st_size, f);
	if (ferror(f))
		rc = auscult_fail(ld->err, AUSCULT_ERR_IO, "%s: read failed: %s", ld->file,
				  strerror(errno));
	ld->text[ld->text_len] = '\0';
out:
	fclose(f);
	return rc;
}

static int base_dir_of(struct loader *ld)
{
	const char *slash = strrchr(ld->file, '/');
	char *dir;
	if (!slash)
		dir = strdup(".");
	else if (slash == ld->file)
		dir = strdup("/");
	else
		dir = strndup(ld->file, (size_t)(slash - ld->file));
	if (!dir)
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	/* absolute, so paths stay right if the daemon later changes directory */
	ld->base_dir = realpath(dir, NULL);
	if (!ld->base_dir) {
		int e = errno;
		free(dir);
		return auscult_fail(ld->err, e == ENOMEM ? AUSCULT_ERR_NOMEM : AUSCULT_ERR_IO,
				    "%s: cannot resolve the config file's folder: %s", ld->file,
				    strerror(e));
	}
	free(dir);
	if (strcmp(ld->base_dir, "/") == 0)
		ld->base_dir[0] = '\0'; /* so joining gives "/x", not "//x" */
	return AUSCULT_OK;
}

/* libyaml's reader reports a byte offset instead of a mark; count lines up to it. */
static yaml_mark_t mark_of_offset(const struct loader *ld, size_t offset)
{
	yaml_mark_t m = { 0, 0, 0 };
	for (size_t i = 0; i < offset && i < ld->text_len; i++) {
		if (ld->text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	m.index = offset;
	return m;
}

static int fail_syntax(struct loader *ld, const yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR)
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	const char *problem = parser->problem ? parser->problem : "malformed YAML";
	if (parser->error == YAML_READER_ERROR)
		return fail_at(ld, mark_of_offset(ld, parser->problem_offset), NULL,
			       AUSCULT_ERR_FORMAT,
			       "YAML syntax error: %s (the file must be UTF-8 text)", problem);
	/* The commonest slip, a tab in the indentation, gets libyaml's least telling message. */
	size_t at = parser->problem_mark.index;
	const char *hint = at < ld->text_len && ld->text[at] == '\t'
				   ? "; a tab is there: YAML indents with spaces only"
				   : "";
	if (parser->context)
		return fail_at(ld, parser->problem_mark, NULL, AUSCULT_ERR_FORMAT,
			       "YAML syntax error: %s (%s at line %zu:%zu)%s", problem,
			       parser->context, parser->context_mark.line + 1,
			       parser->context_mark.column + 1, hint);
	return fail_at(ld, parser->problem_mark, NULL, AUSCULT_ERR_FORMAT,
		       "YAML syntax error: %s%s", problem, hint);
}

/*
 * libyaml has no nesting limit, and its scanner grows quadratic with the depth (100k levels of
 * "[" took 20 s); the config is 4 levels deep. One pass over the events, which stops at the first
 * collection deeper than the limit, refuses such a file before yaml_parser_load goes deep.
 */
static int check_depth(struct loader *ld)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = AUSCULT_OK;
	int depth = 0;
	if (!yaml_parser_initialize(&parser))
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	yaml_parser_set_input_string(&parser, (const unsigned char *)ld->text, ld->text_len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = fail_syntax(ld, &parser);
			break;
		}
		yaml_event_type_t type = ev.type;
		yaml_mark_t at = ev.start_mark;
		yaml_event_delete(&ev);
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > CONFIG_MAX_DEPTH) {
				rc = fail_at(
					ld, at, NULL, AUSCULT_ERR_FORMAT,
					"nested more than %d levels deep; the config is a few "
					"levels of mappings and lists (is this the right file?)",
					CONFIG_MAX_DEPTH);
				break;
			}
		} else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
			depth--;
		} else if (type == YAML_STREAM_END_EVENT) {
			break;
		}
	}
	yaml_parser_delete(&parser);
	return rc;
}

static int parse_document(struct loader *ld)
{
	yaml_parser_t parser;
	int rc = AUSCULT_OK;
	if ((rc = check_depth(ld)))
		return rc;
	if (!yaml_parser_initialize(&parser))
		return auscult_fail(ld->err, AUSCULT_ERR_NOMEM, "%s: out of memory", ld->file);
	yaml_parser_set_input_string(&parser, (const unsigned char *)ld->text, ld->text_len);
	if (!yaml_parser_load(&parser, &ld->doc)) {
		rc = fail_syntax(ld, &parser);
		goto out;
	}
	ld->have_doc = true;

	/* One document only: a second one would be silently ignored otherwise. */
	yaml_document_t extra;
	if (!yaml_parser_load(&parser, &extra)) {
		rc = fail_syntax(ld, &parser);
		goto out;
	}
	yaml_node_t *extra_root = yaml_document_get_root_node(&extra);
	if (extra_root) {
		yaml_mark_t m = extra.start_mark;
		yaml_document_delete(&extra);
		rc = fail_at(ld, m, NULL, AUSCULT_ERR_FORMAT,
			     "a second YAML document starts here; the config is a single document "
			     "(remove the extra '---')");
		goto out;
	}
	yaml_document_delete(&extra);
out:
	yaml_parser_delete(&parser);
	return rc;
}

void daemon_config_free(struct daemon_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	mqtt_settings_free(&cfg->mqtt);
	free(cfg->evidence.dir);
	for (size_t i = 0; cfg->monitors && i < cfg->n_monitors; i++) {
		struct monitor_settings *ms = &cfg->monitors[i];
		free(ms->name);
		free(ms->source_path);
		free(ms->device_name);
		free(ms->model_path);
		free(ms->learn_dir);
	}
	free(cfg->monitors);
	free(cfg->places);
	memset(cfg, 0, sizeof(*cfg));
}

int daemon_config_load(struct daemon_config *cfg, const char *path, struct auscult_err *err)
{
	struct loader ld;
	memset(&ld, 0, sizeof(ld));
	memset(cfg, 0, sizeof(*cfg));
	auscult_err_clear(err);
	ld.file = path ? path : "(null)";
	ld.cfg = cfg;
	ld.err = err;
	int rc;
	if (!path) {
		rc = auscult_fail(err, AUSCULT_ERR_INVALID, "no config file given");
		goto fail;
	}
	if ((rc = read_file(&ld)) || (rc = base_dir_of(&ld)))
		goto fail;
	cfg->path = strdup(path);
	if (!cfg->path) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
		goto fail;
	}

	root_table(&ld);
	scope_init(&ld.root, ld.root_table, ld.n_root, cfg, "");
	if ((rc = apply_defaults(&ld, &ld.root)) || (rc = parse_document(&ld)))
		goto fail;

	yaml_node_t *root = yaml_document_get_root_node(&ld.doc);
	yaml_mark_t top = { 0, 0, 0 };
	if (!root || is_null(root)) {
		rc = fail_at(&ld, top, NULL, AUSCULT_ERR_INVALID,
			     "the file is empty; it needs at least a 'monitors:' list (see the "
			     "documented example auscultd.yaml)");
		goto fail;
	}
	if (root->type != YAML_MAPPING_NODE) {
		char buf[80];
		rc = fail_at(
			&ld, root->start_mark, NULL, AUSCULT_ERR_INVALID,
			"the file must be a mapping of keys (log_level:, mqtt:, monitors:, ...), "
			"got %s",
			describe(root, buf, sizeof(buf)));
		goto fail;
	}
	ld.root.start = root->start_mark;
	if ((rc = parse_mapping(&ld, &ld.root, root, "")) || (rc = validate(&ld)))
		goto fail;

	rc = AUSCULT_OK;
	goto out;
fail:
	daemon_config_free(cfg);
out:
	if (ld.have_doc)
		yaml_document_delete(&ld.doc);
	free(ld.monitors);
	free(ld.text);
	free(ld.base_dir);
	return rc;
}

void monitor_settings_source_config(const struct monitor_settings *ms, uint32_t output_rate_hz,
				    struct audio_source_config *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = ms->source_kind;
	out->path = ms->source_path;
	out->device_name = ms->device_name;
	out->device_index = ms->device_index;
	out->input_rate_hz = ms->input_rate_hz;
	out->input_channels = ms->input_channels;
	out->channel = ms->channel;
	out->output_rate_hz = output_rate_hz;
	out->ring_seconds = 0; /* the source's default */
}
