/* test_mqtt_settings.c - the MQTT settings' table: defaults, copy, comparison, URI, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "publish/mqtt_settings.h"

/* Sets field m of s to a value unlike its default (strings get a new owned copy). */
static void change_field(struct mqtt_settings *s, const struct mqtt_setting *m)
{
	void *f = (char *)s + m->offset;
	switch (m->kind) {
	case MQTT_SETTING_STRING:
	case MQTT_SETTING_PATH:
		free(*(char **)f);
		*(char **)f = strdup("/changed");
		assert_non_null(*(char **)f);
		break;
	case MQTT_SETTING_BOOL:
		*(bool *)f = !*(bool *)f;
		break;
	case MQTT_SETTING_INT:
		*(int *)f += 1;
		break;
	case MQTT_SETTING_SIZE:
		*(size_t *)f += 1;
		break;
	}
}

/* The reload test: a change of any one setting is seen, and only a change is. */
static void a_change_of_every_field_is_detected(void **state)
{
	(void)state;
	struct mqtt_settings a, b;
	assert_int_equal(mqtt_settings_defaults(&a, NULL), AUSCULT_OK);
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++) {
		const struct mqtt_setting *m = &mqtt_settings_table[i];
		assert_int_equal(mqtt_settings_copy(&b, &a, NULL), AUSCULT_OK);
		assert_true(mqtt_settings_equal(&a, &b));
		change_field(&b, m);
		if (mqtt_settings_equal(&a, &b))
			fail_msg("a change of %s is not seen by mqtt_settings_equal", m->key);
		/* a NULL string differs from any text, and equals only NULL */
		if (m->kind == MQTT_SETTING_STRING || m->kind == MQTT_SETTING_PATH) {
			char **f = (char **)(void *)((char *)&b + m->offset);
			free(*f);
			*f = NULL;
			assert_int_equal(mqtt_settings_equal(&a, &b), m->def == NULL);
		}
		mqtt_settings_free(&b);
	}
	mqtt_settings_free(&a);
}

/* The table covers the struct: its rows' fields, laid end to end with the padding a field of
 * their size can need, add up to the struct's size, and no two rows share a field. */
static void the_table_covers_the_struct(void **state)
{
	(void)state;
	size_t end = 0;
	for (size_t i = 0; i < MQTT_SETTINGS_COUNT; i++) {
		const struct mqtt_setting *m = &mqtt_settings_table[i];
		assert_non_null(m->key);
		assert_true(m->offset >= end); /* in order, no overlap */
		size_t size = m->kind == MQTT_SETTING_BOOL   ? sizeof(bool)
			      : m->kind == MQTT_SETTING_INT  ? sizeof(int)
			      : m->kind == MQTT_SETTING_SIZE ? sizeof(size_t)
							     : sizeof(char *);
		assert_true(m->offset - end < size || m->offset == end);
		end = m->offset + size;
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(mqtt_settings_table[j].key, m->key);
	}
	assert_true(sizeof(struct mqtt_settings) - end < sizeof(void *));
}

static void defaults_come_from_the_table(void **state)
{
	(void)state;
	struct mqtt_settings s;
	assert_int_equal(mqtt_settings_defaults(&s, NULL), AUSCULT_OK);
	assert_string_equal(s.uri, "mqtt://localhost:1883");
	assert_null(s.client_id);
	assert_null(s.password_file);
	assert_true(s.verify_server);
	assert_int_equal(s.keepalive_s, 30);
	assert_int_equal(s.qos, 0);
	assert_string_equal(s.topic_prefix, "auscult");
	assert_int_equal(s.offline_buffer, 1000);
	assert_true(s.ha_discovery);
	assert_string_equal(s.ha_prefix, "homeassistant");
	/* the defaults are valid, and validation names the host in the client id */
	struct mqtt_settings_fault fault;
	struct auscult_err err;
	assert_int_equal(mqtt_settings_validate(&s, NULL, &fault, &err), AUSCULT_OK);
	char host[256] = "", want[300];
	gethostname(host, sizeof(host) - 1);
	snprintf(want, sizeof(want), "auscult-%s", host[0] ? host : "host");
	assert_string_equal(s.client_id, want);
	mqtt_settings_free(&s);
	mqtt_settings_free(NULL);
}

static void uri_parser(void **state)
{
	(void)state;
	struct mqtt_uri u;
	struct auscult_err err;
	assert_int_equal(mqtt_uri_parse("mqtt://broker.local", &u, &err), AUSCULT_OK);
	assert_false(u.tls);
	assert_string_equal(u.host, "broker.local");
	assert_int_equal(u.port, 1883);
	assert_int_equal(mqtt_uri_parse("mqtts://10.0.0.2:8884", &u, &err), AUSCULT_OK);
	assert_true(u.tls);
	assert_int_equal(u.port, 8884);
	assert_int_equal(mqtt_uri_parse("ssl://[::1]", &u, &err), AUSCULT_OK);
	assert_true(u.tls);
	assert_string_equal(u.host, "[::1]");
	assert_int_equal(u.port, 8883);
	assert_int_equal(mqtt_uri_parse("tcp://[::1]:1884", &u, &err), AUSCULT_OK);
	assert_int_equal(u.port, 1884);

	static const struct {
		const char *uri, *msg;
	} bad[] = {
		{ "http://h:1883",
		  "'http://h:1883' has an unsupported scheme; write mqtt://HOST[:PORT] "
		  "or mqtts://HOST[:PORT] (TLS)" },
		{ "",
		  "'' has an unsupported scheme; write mqtt://HOST[:PORT] or mqtts://HOST[:PORT] "
		  "(TLS)" },
		{ "mqtt://h:0", "'mqtt://h:0' has a bad port; expected 1 to 65535 after the ':'" },
		{ "mqtt://h:65536",
		  "'mqtt://h:65536' has a bad port; expected 1 to 65535 after the ':'" },
		{ "mqtt://h:12x",
		  "'mqtt://h:12x' has a bad port; expected 1 to 65535 after the ':'" },
		{ "mqtts://:8883",
		  "'mqtts://:8883' is not a broker address; write mqtt://HOST[:PORT] or "
		  "mqtts://HOST[:PORT]" },
		{ "mqtt://h/path",
		  "'mqtt://h/path' is not a broker address; write mqtt://HOST[:PORT] "
		  "or mqtts://HOST[:PORT]" },
		{ "mqtt://[::1",
		  "'mqtt://[::1' is not a broker address; write mqtt://HOST[:PORT] or "
		  "mqtts://HOST[:PORT]" },
		{ "mqtt://[::1]x",
		  "'mqtt://[::1]x' is not a broker address; write mqtt://HOST[:PORT] "
		  "or mqtts://HOST[:PORT]" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mqtt_uri_parse(bad[i].uri, &u, &err), AUSCULT_ERR_INVALID);
		assert_string_equal(err.msg, bad[i].msg);
	}
}

/* Each rule names the setting at fault and whether the key's presence is the fault. */
static void validation_names_the_setting(void **state)
{
	(void)state;
	struct mqtt_settings s;
	struct mqtt_settings_fault fault;
	struct auscult_err err;
	bool given[MQTT_SETTINGS_COUNT] = { false };

	assert_int_equal(mqtt_settings_defaults(&s, NULL), AUSCULT_OK);
	s.keepalive_s = 4;
	assert_int_equal(mqtt_settings_validate(&s, NULL, &fault, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(fault.id, MQTT_SETTING_ID_keepalive_s);
	assert_string_equal(err.msg, "4 is out of range [5, 3600]");
	s.keepalive_s = 30;
	s.offline_buffer = 0; /* the bound the publisher once stated apart, and got wrong */
	assert_int_equal(mqtt_settings_validate(&s, NULL, &fault, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(fault.id, MQTT_SETTING_ID_offline_buffer);
	assert_string_equal(err.msg, "0 is out of range [10, 1000000]");
	s.offline_buffer = 1000;

	/* verify_server at its default but written in the file, on a plain link */
	given[MQTT_SETTING_ID_verify_server] = true;
	assert_int_equal(mqtt_settings_validate(&s, given, &fault, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(fault.id, MQTT_SETTING_ID_verify_server);
	assert_true(fault.at_key);
	assert_string_equal(err.msg, "only applies to TLS connections, but mqtt.uri is "
				     "'mqtt://localhost:1883'; use mqtts:// or remove this key");
	/* without `given`, only a value unlike the default counts as written */
	assert_int_equal(mqtt_settings_validate(&s, NULL, &fault, &err), AUSCULT_OK);

	free(s.topic_prefix);
	s.topic_prefix = strdup("a//b");
	assert_int_equal(mqtt_settings_validate(&s, NULL, &fault, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(fault.id, MQTT_SETTING_ID_topic_prefix);
	assert_false(fault.at_key);

	free(s.topic_prefix);
	s.topic_prefix = strdup("auscult");
	s.password_file = strdup(AUSCULT_SOURCE_DIR "/README.md"); /* any regular file */
	assert_int_equal(mqtt_settings_validate(&s, NULL, &fault, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(fault.id, MQTT_SETTING_ID_password_file);
	assert_string_equal(err.msg, "a password needs a user name; set mqtt.username too");
	mqtt_settings_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_change_of_every_field_is_detected),
		cmocka_unit_test(the_table_covers_the_struct),
		cmocka_unit_test(defaults_come_from_the_table),
		cmocka_unit_test(uri_parser),
		cmocka_unit_test(validation_names_the_setting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
