/* mqtt_settings.c - defaults, copy, comparison and validation of the MQTT settings, by table. */
#include "publish/mqtt_settings.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/regular_file.h"

const struct mqtt_setting mqtt_settings_table[MQTT_SETTINGS_COUNT] = {
#define MQTT_SETTING_ROW(field, kind_, key_, min_, max_, def_)                         \
	[MQTT_SETTING_ID_##field] = { .key = key_,                                     \
				      .kind = MQTT_SETTING_##kind_,                    \
				      .offset = offsetof(struct mqtt_settings, field), \
				      .min = min_,                                     \
				      .max = max_,                                     \
				      .def = def_ },
	MQTT_SETTINGS(MQTT_SETTING_ROW)
#undef MQTT_SETTING_ROW
};

static char **str_at(struct mqtt_settings *s, const struct mqtt_setting *m)
{
	return (char **)(void *)((char *)s + m->offset);
}

static const char *cstr_at(const struct mqtt_settings *s, const struct mqtt_setting *m)
{
	return *(char *const *)(const void *)((const char *)s + m->offset);
}

static bool is_string(const struct mqtt_setting *m)
{
	return m->kind == MQTT_SETTING_STRING || m->kind == MQTT_SETTING_PATH;
}

void mqtt_settings_free(struct mqtt_settings *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++)
		if (is_string(&mqtt_settings_table[i]))
			free(*str_at(s, &mqtt_settings_table[i]));
	memset(s, 0, sizeof(*s));
}

int mqtt_settings_defaults(struct mqtt_settings *s, struct auscult_err *err)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++) {
		const struct mqtt_setting *m = &mqtt_settings_table[i];
		void *field = (char *)s + m->offset;
		if (!m->def)
			continue;
		switch (m->kind) {
		case MQTT_SETTING_STRING:
		case MQTT_SETTING_PATH:
			if (!(*(char **)field = strdup(m->def))) {
				mqtt_settings_free(s);
				return auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: out of memory");
			}
			break;
		case MQTT_SETTING_BOOL:
			*(bool *)field = strcmp(m->def, "true") == 0;
			break;
		case MQTT_SETTING_INT:
			*(int *)field = atoi(m->def);
			break;
		case MQTT_SETTING_SIZE:
			*(size_t *)field = (size_t)strtoull(m->def, NULL, 10);
			break;
		}
	}
	return AUSCULT_OK;
}

int mqtt_settings_copy(struct mqtt_settings *dst, const struct mqtt_settings *src,
		       struct auscult_err *err)
{
	*dst = *src;
	bool nomem = false;
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++) {
		const struct mqtt_setting *m = &mqtt_settings_table[i];
		if (!is_string(m))
			continue;
		char **p = str_at(dst, m);
		if (*p && !nomem && !(*p = strdup(*p)))
			nomem = true;
		else if (nomem)
			*p = NULL; /* not copied yet: must not be freed as ours */
	}
	if (nomem) {
		mqtt_settings_free(dst);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: out of memory");
	}
	return AUSCULT_OK;
}

static bool field_equal(const struct mqtt_settings *a, const struct mqtt_settings *b,
			const struct mqtt_setting *m)
{
	const void *fa = (const char *)a + m->offset;
	const void *fb = (const char *)b + m->offset;
	switch (m->kind) {
	case MQTT_SETTING_STRING:
	case MQTT_SETTING_PATH: {
		const char *sa = cstr_at(a, m), *sb = cstr_at(b, m);
		return (!sa || !sb) ? sa == sb : strcmp(sa, sb) == 0;
	}
	case MQTT_SETTING_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case MQTT_SETTING_INT:
		return *(const int *)fa == *(const int *)fb;
	case MQTT_SETTING_SIZE:
		return *(const size_t *)fa == *(const size_t *)fb;
	}
	return false;
}

bool mqtt_settings_equal(const struct mqtt_settings *a, const struct mqtt_settings *b)
{
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++)
		if (!field_equal(a, b, &mqtt_settings_table[i]))
			return false;
	return true;
}

int mqtt_uri_parse(const char *uri, struct mqtt_uri *out, struct auscult_err *err)
{
	static const struct {
		const char *scheme;
		bool tls;
		int port;
	} schemes[] = {
		{ "mqtt://", false, 1883 },
		{ "mqtts://", true, 8883 },
		{ "tcp://", false, 1883 },
		{ "ssl://", true, 8883 },
	};
	memset(out, 0, sizeof(*out));
	if (!uri)
		uri = "";
	const char *rest = NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && !rest; i++) {
		size_t n = strlen(schemes[i].scheme);
		if (strncasecmp(uri, schemes[i].scheme, n) == 0) {
			rest = uri + n;
			out->tls = schemes[i].tls;
			out->port = schemes[i].port;
		}
	}
	if (!rest)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "'%s' has an unsupported scheme; write mqtt://HOST[:PORT] or "
				    "mqtts://HOST[:PORT] (TLS)",
				    uri);
	/* host, then an optional port; IPv6 literals come in brackets */
	const char *colon = NULL;
	const char *host_end;
	if (*rest == '[') {
		host_end = strchr(rest, ']');
		if (!host_end)
			goto bad_host;
		host_end++;
		if (*host_end == ':')
			colon = host_end;
		else if (*host_end)
			goto bad_host;
	} else {
		colon = strchr(rest, ':');
		host_end = colon ? colon : rest + strlen(rest);
	}
	if (host_end == rest || strcspn(rest, "/?# ") < (size_t)(host_end - rest) ||
	    (size_t)(host_end - rest) >= sizeof(out->host))
		goto bad_host;
	if (colon) {
		char *end = NULL;
		errno = 0;
		long port = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || errno || port < 1 || port > 65535)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "'%s' has a bad port; expected 1 to 65535 after the ':'",
					    uri);
		out->port = (int)port;
	} else if (*host_end) {
		goto bad_host;
	}
	memcpy(out->host, rest, (size_t)(host_end - rest));
	out->host[host_end - rest] = '\0';
	return AUSCULT_OK;

bad_host:
	return auscult_fail(err, AUSCULT_ERR_INVALID,
			    "'%s' is not a broker address; write mqtt://HOST[:PORT] or "
			    "mqtts://HOST[:PORT]",
			    uri);
}

/* Whether setting id was written in the file; without that knowledge, whether it differs from
 * its default. */
static bool was_given(const struct mqtt_settings *s, const bool *given, enum mqtt_setting_id id)
{
	if (given)
		return given[id];
	const struct mqtt_setting *m = &mqtt_settings_table[id];
	if (is_string(m))
		return cstr_at(s, m) != NULL;
	struct mqtt_settings def;
	if (mqtt_settings_defaults(&def, NULL) != AUSCULT_OK)
		return true;
	bool differs = !field_equal(s, &def, m);
	mqtt_settings_free(&def);
	return differs;
}

static int fault_at(struct mqtt_settings_fault *fault, enum mqtt_setting_id id, bool at_key, int rc)
{
	fault->id = id;
	fault->at_key = at_key;
	return rc;
}

/* A topic level an MQTT client may publish under: no wildcards, no empty levels. */
static int check_topic_prefix(const char *v, struct auscult_err *err)
{
	size_t len = strlen(v);
	if (strpbrk(v, "#+"))
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"'%s' contains an MQTT wildcard ('#' or '+'), which cannot appear "
			"in a topic that is published to",
			v);
	if (len == 0 || v[0] == '/' || v[len - 1] == '/' || strstr(v, "//"))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "'%s' has an empty topic level; write it without leading, "
				    "trailing or doubled '/'",
				    v);
	return AUSCULT_OK;
}

static int check_readable(const char *path, const char *what, struct auscult_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0 || access(path, R_OK) != 0)
		return auscult_fail(err, AUSCULT_ERR_IO, "cannot read %s '%s': %s", what, path,
				    strerror(errno));
	if (S_ISDIR(st.st_mode))
		return auscult_fail(err, AUSCULT_ERR_IO, "'%s' is a directory; expected %s", path,
				    what);
	/* A named pipe would hang whoever opens it (the TLS handshake, the password read). */
	if (!S_ISREG(st.st_mode))
		return auscult_fail(err, AUSCULT_ERR_IO,
				    "'%s' is %s, not a regular file; expected %s", path,
				    regular_file_kind(st.st_mode), what);
	return AUSCULT_OK;
}

int mqtt_settings_validate(struct mqtt_settings *s, const bool *given,
			   struct mqtt_settings_fault *fault, struct auscult_err *err)
{
	int rc;
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++) {
		const struct mqtt_setting *m = &mqtt_settings_table[i];
		const void *field = (const char *)s + m->offset;
		double v;
		if (m->kind == MQTT_SETTING_INT)
			v = *(const int *)field;
		else if (m->kind == MQTT_SETTING_SIZE)
			v = (double)*(const size_t *)field;
		else if (is_string(m) && !cstr_at(s, m) && m->def)
			return fault_at(fault, (enum mqtt_setting_id)i, false,
					auscult_fail(err, AUSCULT_ERR_INVALID, "missing"));
		else
			continue;
		if (v < m->min || v > m->max)
			return fault_at(fault, (enum mqtt_setting_id)i, false,
					auscult_fail(err, AUSCULT_ERR_INVALID,
						     "%.0f is out of range [%.0f, %.0f]", v, m->min,
						     m->max));
	}

	struct mqtt_uri u;
	if ((rc = mqtt_uri_parse(s->uri, &u, err)))
		return fault_at(fault, MQTT_SETTING_ID_uri, false, rc);
	static const enum mqtt_setting_id tls_only[] = { MQTT_SETTING_ID_ca_file,
							 MQTT_SETTING_ID_cert_file,
							 MQTT_SETTING_ID_key_file,
							 MQTT_SETTING_ID_verify_server };
	for (size_t k = 0; k < sizeof(tls_only) / sizeof(tls_only[0]) && !u.tls; k++) {
		if (was_given(s, given, tls_only[k]))
			return fault_at(fault, tls_only[k], true,
					auscult_fail(err, AUSCULT_ERR_INVALID,
						     "only applies to TLS connections, but mqtt.uri "
						     "is '%s'; use mqtts:// or remove this key",
						     s->uri));
	}
	if (s->key_file && !s->cert_file)
		return fault_at(fault, MQTT_SETTING_ID_key_file, true,
				auscult_fail(err, AUSCULT_ERR_INVALID,
					     "a client key needs its certificate; set "
					     "mqtt.cert_file too"));

	const struct {
		enum mqtt_setting_id id;
		const char *path;
		const char *what;
	} files[] = {
		{ MQTT_SETTING_ID_password_file, s->password_file, "the password file" },
		{ MQTT_SETTING_ID_ca_file, s->ca_file, "the CA file" },
		{ MQTT_SETTING_ID_cert_file, s->cert_file, "the client certificate" },
		{ MQTT_SETTING_ID_key_file, s->key_file, "the client key" },
	};
	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		if (files[k].path && (rc = check_readable(files[k].path, files[k].what, err)))
			return fault_at(fault, files[k].id, false, rc);
	}
	if (s->password_file && !s->username)
		return fault_at(fault, MQTT_SETTING_ID_password_file, true,
				auscult_fail(err, AUSCULT_ERR_INVALID,
					     "a password needs a user name; set mqtt.username too"));

	if ((rc = check_topic_prefix(s->topic_prefix, err)))
		return fault_at(fault, MQTT_SETTING_ID_topic_prefix, false, rc);
	if ((rc = check_topic_prefix(s->ha_prefix, err)))
		return fault_at(fault, MQTT_SETTING_ID_ha_prefix, false, rc);

	if (!s->client_id || !s->client_id[0]) {
		/* deterministic, so the broker can resume the session after a restart */
		char host[256] = "";
		if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
			snprintf(host, sizeof(host), "host");
		host[sizeof(host) - 1] = '\0';
		size_t n = strlen("auscult-") + strlen(host) + 1;
		char *id = malloc(n);
		if (!id)
			return fault_at(fault, MQTT_SETTING_ID_client_id, false,
					auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory"));
		snprintf(id, n, "auscult-%s", host);
		free(s->client_id);
		s->client_id = id;
	}
	return AUSCULT_OK;
}
