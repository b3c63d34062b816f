/* test_ha_discovery.c - exact Home Assistant discovery topics and payloads, node ids, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "detect/detector.h"
#include "publish/ha_discovery.h"

static const struct ha_discovery_params params = { .ha_prefix = "homeassistant",
						   .topic_prefix = "auscult",
						   .client_id = "auscult-pi",
						   .sw_version = "0.1.0" };

#define DEVICE                                                                                        \
	"\"device\":{\"identifiers\":[\"auscult-pi\"],\"name\":\"auscult-pi\",\"model\":\"auscult\"," \
	"\"manufacturer\":\"auscult\",\"sw_version\":\"0.1.0\"}"
#define STATUS_AVAILABLE                                                  \
	"{\"topic\":\"auscult/status\",\"payload_available\":\"online\"," \
	"\"payload_not_available\":\"offline\"}"
/* Unavailable while the daemon is offline or the monitor is in fault. */
#define AVAILABILITY_NO_FAULT                                                         \
	"\"availability\":[" STATUS_AVAILABLE ",{\"topic\":\"auscult/pump/state\","   \
	"\"value_template\":\"{{ 'offline' if value == 'fault' else 'online' }}\"}]," \
	"\"availability_mode\":\"all\","

static void build(int which, char *topic, char *payload)
{
	struct auscult_err err = { { 0 } };
	assert_int_equal(ha_discovery_message(&params, "pump", which, topic, 256, payload, 2048,
					      &err),
			 AUSCULT_OK);
}

static void test_problem(void **state)
{
	(void)state;
	char topic[256], payload[2048];
	build(HA_ENTITY_PROBLEM, topic, payload);
	assert_string_equal(topic, "homeassistant/binary_sensor/auscult-pi/pump_problem/config");
	assert_string_equal(payload,
			    "{\"name\":\"pump problem\",\"unique_id\":\"auscult-pi_pump_problem\","
			    "\"device_class\":\"problem\",\"state_topic\":\"auscult/pump/state\","
			    "\"value_template\":\"{{ 'ON' if value == 'anomaly' else 'OFF' }}\","
			    "\"payload_on\":\"ON\",\"payload_off\":\"OFF\"," AVAILABILITY_NO_FAULT
				    DEVICE "}");
}

static void test_score(void **state)
{
	(void)state;
	char topic[256], payload[2048];
	build(HA_ENTITY_SCORE, topic, payload);
	assert_string_equal(topic, "homeassistant/sensor/auscult-pi/pump_score/config");
	assert_string_equal(
		payload,
		"{\"name\":\"pump anomaly score\",\"unique_id\":\"auscult-pi_pump_score\","
		"\"state_topic\":\"auscult/pump/score\","
		"\"value_template\":\"{{ value_json.smoothed }}\","
		"\"state_class\":\"measurement\","
		"\"json_attributes_topic\":\"auscult/pump/score\",\"icon\":\"mdi:waveform\"," AVAILABILITY_NO_FAULT
			DEVICE "}");
}

/* The state as it is, fault included: only the daemon's status makes it unavailable. */
static void test_state_enum(void **state)
{
	(void)state;
	char topic[256], payload[2048];
	build(HA_ENTITY_STATE, topic, payload);
	assert_string_equal(topic, "homeassistant/sensor/auscult-pi/pump_state/config");
	assert_string_equal(payload,
			    "{\"name\":\"pump state\",\"unique_id\":\"auscult-pi_pump_state\","
			    "\"device_class\":\"enum\",\"options\":[\"starting\",\"learning\","
			    "\"normal\",\"anomaly\",\"idle\",\"fault\"],"
			    "\"state_topic\":\"auscult/pump/state\",\"icon\":\"mdi:list-status\","
			    "\"availability\":[" STATUS_AVAILABLE
			    "],\"availability_mode\":\"all\"," DEVICE "}");
}

/* The last anomaly's spectrogram as an MQTT image entity: the retained PNG topic. */
static void test_image(void **state)
{
	(void)state;
	char topic[256], payload[2048];
	build(HA_ENTITY_IMAGE, topic, payload);
	assert_string_equal(topic, "homeassistant/image/auscult-pi/pump_evidence/config");
	assert_string_equal(
		payload,
		"{\"name\":\"pump last anomaly\",\"unique_id\":\"auscult-pi_pump_evidence\","
		"\"image_topic\":\"auscult/pump/evidence/image\","
		"\"content_type\":\"image/png\",\"icon\":\"mdi:chart-waterfall\","
		"\"availability\":[" STATUS_AVAILABLE "],\"availability_mode\":\"all\"," DEVICE
		"}");
}

/* Home Assistant refuses an enum value outside options: every state the detector publishes
 * must be one of them. */
static void test_options_cover_detector_states(void **state)
{
	(void)state;
	for (int s = 0; s < DETECTOR_STATE_COUNT; s++) {
		const char *name = detector_state_name((enum detector_state)s);
		size_t i = 0;
		while (i < ha_state_option_count && strcmp(ha_state_options[i], name) != 0)
			i++;
		if (i == ha_state_option_count)
			fail_msg("state '%s' is not among the enum sensor's options", name);
	}
}

static void test_node_id(void **state)
{
	(void)state;
	char out[16];
	ha_node_id("pi 4/garage.x", out, sizeof(out));
	assert_string_equal(out, "pi_4_garage_x");
	ha_node_id("", out, sizeof(out));
	assert_string_equal(out, "auscult");
	ha_node_id("a-very-long-client-id", out, 8);
	assert_string_equal(out, "a-very-");
}

static void test_errors_named(void **state)
{
	(void)state;
	char topic[256], payload[2048], small[32];
	struct auscult_err err = { { 0 } };
	assert_int_equal(ha_discovery_message(&params, "pump", HA_DISCOVERY_PER_MONITOR, topic,
					      sizeof(topic), payload, sizeof(payload), &err),
			 AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "message 4 out of range [0, 4)"));
	assert_int_equal(ha_discovery_message(&params, "pump", HA_ENTITY_STATE, small,
					      sizeof(small), payload, sizeof(payload), &err),
			 AUSCULT_ERR_NOMEM);
	assert_non_null(strstr(err.msg, "config topic for monitor 'pump' is longer than 31 bytes"));
	assert_int_equal(ha_discovery_message(&params, "pump", HA_ENTITY_STATE, topic,
					      sizeof(topic), small, sizeof(small), &err),
			 AUSCULT_ERR_NOMEM);
	assert_non_null(strstr(err.msg, "ha_discovery: monitor 'pump'"));
}

/* Every config topic this daemon builds is recognised as its own, with its monitor's name;
 * another node's, another component's or a foreign object's is not. */
static void test_monitor_of(void **state)
{
	(void)state;
	char topic[256], payload[2048], monitor[64];
	struct auscult_err err = { { 0 } };
	const char *names[] = { "pump", "pump_2", "x", "state_score" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (int which = 0; which < HA_DISCOVERY_PER_MONITOR; which++) {
			assert_int_equal(ha_discovery_message(&params, names[i], which, topic,
							      sizeof(topic), payload,
							      sizeof(payload), &err),
					 AUSCULT_OK);
			assert_true(
				ha_discovery_monitor_of(&params, topic, monitor, sizeof(monitor)));
			assert_string_equal(monitor, names[i]);
		}
	}
	const char *foreign[] = {
		"homeassistant/sensor/other-pi/pump_score/config",     /* another daemon */
		"homeassistant/sensor/auscult-pi/pump_problem/config", /* problem is binary */
		"homeassistant/switch/auscult-pi/pump_state/config",   /* not our component */
		"homeassistant/sensor/auscult-pi/pump_power/config",   /* not our object */
		"homeassistant/sensor/auscult-pi/_score/config",       /* no monitor name */
		"homeassistant/sensor/auscult-pi/pump_score/state",
		"homeassistant/sensor/auscult-pi/pump_score/config/x",
		"homeassistant2/sensor/auscult-pi/pump_score/config",
		"homeassistant/sensor/auscult-pi-2/pump_score/config",
		"homeassistant/sensor/auscult-pi",
		"",
	};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		assert_false(
			ha_discovery_monitor_of(&params, foreign[i], monitor, sizeof(monitor)));
	/* A name longer than the caller's buffer is not cut short into another monitor's. */
	assert_false(ha_discovery_monitor_of(
		&params, "homeassistant/sensor/auscult-pi/pump_station_7_score/config", monitor,
		8));
	/* A prefix of several levels. */
	const struct ha_discovery_params deep = { .ha_prefix = "site/ha", .client_id = "pi 4" };
	assert_true(ha_discovery_monitor_of(&deep, "site/ha/image/pi_4/fan_evidence/config",
					    monitor, sizeof(monitor)));
	assert_string_equal(monitor, "fan");
}

static void test_filter(void **state)
{
	(void)state;
	char out[64];
	struct auscult_err err = { { 0 } };
	assert_int_equal(ha_discovery_filter(&params, out, sizeof(out), &err), AUSCULT_OK);
	assert_string_equal(out, "homeassistant/+/auscult-pi/+/config");
	assert_int_equal(ha_discovery_filter(&params, out, 20, &err), AUSCULT_ERR_NOMEM);
	assert_non_null(strstr(err.msg, "shorten home_assistant.prefix or the client id"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem),
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_state_enum),
		cmocka_unit_test(test_image),
		cmocka_unit_test(test_options_cover_detector_states),
		cmocka_unit_test(test_node_id),
		cmocka_unit_test(test_errors_named),
		cmocka_unit_test(test_monitor_of),
		cmocka_unit_test(test_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
