/* mqtt_settings.h - the MQTT link's settings: one list gives the struct, keys, defaults, bounds. */
#ifndef AUSCULT_MQTT_SETTINGS_H
#define AUSCULT_MQTT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"

/*
 * Every MQTT setting, once: X(field, KIND, "yaml.key", min, max, "default as YAML text" or NULL).
 * The struct, the table the config loader maps the YAML file through, the defaults, the bounds
 * and mqtt_settings_equal() (what SIGHUP compares) are all generated from this list, so a new
 * setting is one line here (and its use in mqtt_publisher.c; document it in docs/mqtt.md and
 * config/auscultd.yaml). Kinds: STRING and PATH are owned char * (NULL: none, when the default is
 * NULL); a PATH is resolved against the config file's folder; BOOL; INT; SIZE (size_t).
 */
#define MQTT_SETTINGS(X)                                                                          \
	/* "mqtt://host[:port]" or "mqtts://host[:port]" (TLS); tcp:// and ssl:// are synonyms */ \
	X(uri, STRING, "mqtt.uri", 0, 0, "mqtt://localhost:1883")                                 \
	/* NULL: "auscult-<hostname>" (mqtt_settings_validate), the same on every start */        \
	X(client_id, STRING, "mqtt.client_id", 0, 0, NULL)                                        \
	X(username, STRING, "mqtt.username", 0, 0, NULL)                                          \
	/* the password is the file's first line, never in the YAML file */                       \
	X(password_file, PATH, "mqtt.password_file", 0, 0, NULL)                                  \
	/* mqtts: CA bundle; NULL: the system's */                                                \
	X(ca_file, PATH, "mqtt.ca_file", 0, 0, NULL)                                              \
	/* mqtts: client certificate and key (PEM) */                                             \
	X(cert_file, PATH, "mqtt.cert_file", 0, 0, NULL)                                          \
	X(key_file, PATH, "mqtt.key_file", 0, 0, NULL)                                            \
	/* mqtts: verify the broker's certificate and host name */                                \
	X(verify_server, BOOL, "mqtt.verify_server", 0, 1, "true")                                \
	X(keepalive_s, INT, "mqtt.keepalive_s", 5, 3600, "30")                                    \
	/* QoS of score messages; events are always QoS 1, state and status QoS 1 retained */     \
	X(qos, INT, "mqtt.qos", 0, 2, "0")                                                        \
	/* no '#', '+', or empty topic level */                                                   \
	X(topic_prefix, STRING, "mqtt.topic_prefix", 0, 0, "auscult")                             \
	/* messages kept in memory while the broker is away; scores dropped first (spool: the */  \
	/* rest waits on disk; without: the oldest events, then states)                      */   \
	X(offline_buffer, SIZE, "mqtt.offline_buffer", 10, 1000000, "1000")                       \
	/* events and states not yet acknowledged are kept here across restarts; NULL: off */     \
	X(spool_dir, PATH, "mqtt.spool_dir", 0, 0, NULL)                                          \
	/* the spool file's bound; when full, the oldest events are dropped */                    \
	X(spool_max_mb, INT, "mqtt.spool_max_mb", 1, 4096, "64")                                  \
	/* Home Assistant MQTT discovery */                                                       \
	X(ha_discovery, BOOL, "home_assistant.discovery", 0, 1, "true")                           \
	X(ha_prefix, STRING, "home_assistant.prefix", 0, 0, "homeassistant")

#define MQTT_SETTING_CTYPE_STRING char *
#define MQTT_SETTING_CTYPE_PATH char *
#define MQTT_SETTING_CTYPE_BOOL bool
#define MQTT_SETTING_CTYPE_INT int
#define MQTT_SETTING_CTYPE_SIZE size_t

/* The MQTT connection and topics (YAML sections `mqtt:` and `home_assistant:`). */
struct mqtt_settings {
#define MQTT_SETTING_FIELD(field, kind, key, min, max, def) MQTT_SETTING_CTYPE_##kind field;
	MQTT_SETTINGS(MQTT_SETTING_FIELD)
#undef MQTT_SETTING_FIELD
};

enum mqtt_setting_kind {
	MQTT_SETTING_STRING,
	MQTT_SETTING_PATH,
	MQTT_SETTING_BOOL,
	MQTT_SETTING_INT,
	MQTT_SETTING_SIZE,
};

/* One row per field of struct mqtt_settings, in the list's order. */
struct mqtt_setting {
	const char *key; /* as in the YAML file: "mqtt.uri", "home_assistant.prefix" */
	enum mqtt_setting_kind kind;
	size_t offset;   /* of the field in struct mqtt_settings */
	double min, max; /* INT and SIZE: the inclusive range */
	const char *def; /* the default as YAML text; NULL: none (a NULL string) */
};

enum mqtt_setting_id {
#define MQTT_SETTING_ID(field, kind, key, min, max, def) MQTT_SETTING_ID_##field,
	MQTT_SETTINGS(MQTT_SETTING_ID) MQTT_SETTINGS_COUNT
#undef MQTT_SETTING_ID
};

extern const struct mqtt_setting mqtt_settings_table[MQTT_SETTINGS_COUNT];

/* Sets every field to its default (strings duplicated). Returns AUSCULT_OK or
 * AUSCULT_ERR_NOMEM (s then freed). Any thread. */
int mqtt_settings_defaults(struct mqtt_settings *s, struct auscult_err *err);

/* Deep copy of src into dst (dst is overwritten, not freed). AUSCULT_ERR_NOMEM: dst freed. */
int mqtt_settings_copy(struct mqtt_settings *dst, const struct mqtt_settings *src,
		       struct auscult_err *err);

/* Frees the strings s owns and zeroes it. NULL-safe. */
void mqtt_settings_free(struct mqtt_settings *s);

/* True when every field of a and b is equal (strings by content, NULL only equals NULL): the
 * one test of whether a reload must rebuild the MQTT link. */
bool mqtt_settings_equal(const struct mqtt_settings *a, const struct mqtt_settings *b);

/* A broker address taken apart. */
struct mqtt_uri {
	bool tls;
	char host[256]; /* as written, IPv6 literals with their brackets */
	int port;       /* given, or 1883 / 8883 */
};

/*
 * THE broker-URI parser: mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (tcp:// and ssl:// are
 * Paho's synonyms), IPv6 literals in brackets, no path. On a fault returns AUSCULT_ERR_INVALID
 * with err->msg saying what is wrong and how to write it (no key prefix). Any thread.
 */
int mqtt_uri_parse(const char *uri, struct mqtt_uri *out, struct auscult_err *err);

/* Where mqtt_settings_validate found a fault. */
struct mqtt_settings_fault {
	enum mqtt_setting_id id; /* the setting at fault */
	bool at_key;             /* the fault is that the key is there at all (point at the key) */
};

/*
 * Checks s as a whole: bounds, the URI, TLS-only keys without TLS, a key without its certificate,
 * a password file without a user name, the files readable, topic prefixes; then fills a NULL
 * client_id with auscult-<hostname>. given[i] (may be NULL: "differs from the default") says
 * whether setting i was written in the file. On a fault returns non-zero, *fault names the
 * setting and err->msg the problem without the key (the caller adds "FILE:LINE:COL: key: " or
 * "key: "). Reads the file system (stat), so not for real-time threads.
 */
int mqtt_settings_validate(struct mqtt_settings *s, const bool *given,
			   struct mqtt_settings_fault *fault, struct auscult_err *err);

#endif
