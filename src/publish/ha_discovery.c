/* ha_discovery.c - Home Assistant MQTT discovery messages for each monitor. */
#include "publish/ha_discovery.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/json_writer.h"

/* Every payload of <prefix>/<monitor>/state: the detector's states, and `learning` (a monitor
 * recording and training its model). An enum sensor refuses a value missing from this list. */
const char *const ha_state_options[] = { "starting", "learning", "normal",
					 "anomaly",  "idle",     "fault" };
const size_t ha_state_option_count = sizeof(ha_state_options) / sizeof(ha_state_options[0]);

/* Each entity's component, and the object id's suffix after the monitor's name. */
static const char *const components[] = { [HA_ENTITY_PROBLEM] = "binary_sensor",
					  [HA_ENTITY_SCORE] = "sensor",
					  [HA_ENTITY_STATE] = "sensor",
					  [HA_ENTITY_IMAGE] = "image" };
static const char *const objects[] = { [HA_ENTITY_PROBLEM] = "problem",
				       [HA_ENTITY_SCORE] = "score",
				       [HA_ENTITY_STATE] = "state",
				       [HA_ENTITY_IMAGE] = "evidence" };

void ha_node_id(const char *client_id, char *out, size_t cap)
{
	if (cap == 0)
		return;
	if (!client_id || !client_id[0])
		client_id = "auscult";
	size_t i = 0;
	for (; client_id[i] && i + 1 < cap; i++) {
		char c = client_id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-';
		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
}

/*
 * Availability: the daemon's status topic (its last will says offline), and for an entity that
 * means nothing while the monitor cannot listen (problem, score), also the monitor's state
 * topic, unavailable in `fault`. Home Assistant then shows a dead microphone as "unavailable",
 * not as "no problem"; the state sensor stays available and shows `fault` itself.
 */
static void availability(struct json_writer *w, const struct ha_discovery_params *hp,
			 const char *state_topic, bool with_fault)
{
	char topic[256];
	snprintf(topic, sizeof(topic), "%s/status", hp->topic_prefix);
	json_key(w, "availability");
	json_array_open(w);
	json_object_open(w);
	json_field_string(w, "topic", topic);
	json_field_string(w, "payload_available", "online");
	json_field_string(w, "payload_not_available", "offline");
	json_object_close(w);
	if (with_fault) {
		json_object_open(w);
		json_field_string(w, "topic", state_topic);
		json_field_string(w, "value_template",
				  "{{ 'offline' if value == 'fault' else 'online' }}");
		json_object_close(w);
	}
	json_array_close(w);
	json_field_string(w, "availability_mode", "all");
}

/* The device block every entity shares: all monitors of one daemon are one device. */
static void device(struct json_writer *w, const struct ha_discovery_params *hp, const char *node)
{
	json_key(w, "device");
	json_object_open(w);
	json_key(w, "identifiers");
	json_array_open(w);
	json_string(w, node);
	json_array_close(w);
	json_field_string(w, "name", hp->client_id);
	json_field_string(w, "model", "auscult");
	json_field_string(w, "manufacturer", "auscult");
	json_field_string(w, "sw_version", hp->sw_version);
	json_object_close(w);
}

int ha_discovery_message(const struct ha_discovery_params *hp, const char *monitor, int which,
			 char *topic, size_t topic_cap, char *payload, size_t payload_cap,
			 struct auscult_err *err)
{
	if (!monitor || !monitor[0] || which < 0 || which >= HA_DISCOVERY_PER_MONITOR)
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"ha_discovery: no monitor name or message %d out of range [0, %d)", which,
			HA_DISCOVERY_PER_MONITOR);
	char node[128], state_topic[256], score_topic[256], image_topic[256], unique_id[300],
		name[200];
	ha_node_id(hp->client_id, node, sizeof(node));
	int n = snprintf(topic, topic_cap, "%s/%s/%s/%s_%s/config", hp->ha_prefix,
			 components[which], node, monitor, objects[which]);
	if (n < 0 || (size_t)n >= topic_cap)
		return auscult_fail(
			err, AUSCULT_ERR_NOMEM,
			"ha_discovery: config topic for monitor '%s' is longer than %zu "
			"bytes; shorten home_assistant.prefix, the client id or the monitor name",
			monitor, topic_cap - 1);
	snprintf(unique_id, sizeof(unique_id), "%s_%s_%s", node, monitor, objects[which]);
	snprintf(state_topic, sizeof(state_topic), "%s/%s/state", hp->topic_prefix, monitor);
	snprintf(score_topic, sizeof(score_topic), "%s/%s/score", hp->topic_prefix, monitor);
	snprintf(image_topic, sizeof(image_topic), "%s/%s/evidence/image", hp->topic_prefix,
		 monitor);

	struct json_writer w;
	json_writer_init(&w, payload, payload_cap);
	json_object_open(&w);
	switch ((enum ha_entity)which) {
	case HA_ENTITY_PROBLEM:
		snprintf(name, sizeof(name), "%s problem", monitor);
		json_field_string(&w, "name", name);
		json_field_string(&w, "unique_id", unique_id);
		json_field_string(&w, "device_class", "problem");
		json_field_string(&w, "state_topic", state_topic);
		/* Only anomaly is a problem; fault makes the entity unavailable (availability). */
		json_field_string(&w, "value_template",
				  "{{ 'ON' if value == 'anomaly' else 'OFF' }}");
		json_field_string(&w, "payload_on", "ON");
		json_field_string(&w, "payload_off", "OFF");
		availability(&w, hp, state_topic, true);
		break;
	case HA_ENTITY_SCORE:
		snprintf(name, sizeof(name), "%s anomaly score", monitor);
		json_field_string(&w, "name", name);
		json_field_string(&w, "unique_id", unique_id);
		json_field_string(&w, "state_topic", score_topic);
		json_field_string(&w, "value_template", "{{ value_json.smoothed }}");
		json_field_string(&w, "state_class", "measurement");
		json_field_string(&w, "json_attributes_topic", score_topic);
		json_field_string(&w, "icon", "mdi:waveform");
		availability(&w, hp, state_topic, true);
		break;
	case HA_ENTITY_IMAGE:
		/* The last anomaly's spectrogram, published retained by the evidence writer. */
		snprintf(name, sizeof(name), "%s last anomaly", monitor);
		json_field_string(&w, "name", name);
		json_field_string(&w, "unique_id", unique_id);
		json_field_string(&w, "image_topic", image_topic);
		json_field_string(&w, "content_type", "image/png");
		json_field_string(&w, "icon", "mdi:chart-waterfall");
		availability(&w, hp, state_topic, false);
		break;
	case HA_ENTITY_STATE:
	default:
		snprintf(name, sizeof(name), "%s state", monitor);
		json_field_string(&w, "name", name);
		json_field_string(&w, "unique_id", unique_id);
		json_field_string(&w, "device_class", "enum");
		json_key(&w, "options");
		json_array_open(&w);
		for (size_t i = 0; i < ha_state_option_count; i++)
			json_string(&w, ha_state_options[i]);
		json_array_close(&w);
		json_field_string(&w, "state_topic", state_topic);
		json_field_string(&w, "icon", "mdi:list-status");
		availability(&w, hp, state_topic, false);
		break;
	}
	device(&w, hp, node);
	json_object_close(&w);
	struct auscult_err jerr;
	int rc = json_writer_finish(&w, NULL, &jerr);
	if (rc != AUSCULT_OK)
		return auscult_fail(err, rc, "ha_discovery: monitor '%s': %s", monitor, jerr.msg);
	return AUSCULT_OK;
}

int ha_discovery_filter(const struct ha_discovery_params *hp, char *out, size_t cap,
			struct auscult_err *err)
{
	char node[128];
	ha_node_id(hp->client_id, node, sizeof(node));
	int n = snprintf(out, cap, "%s/+/%s/+/config", hp->ha_prefix, node);
	if (n < 0 || (size_t)n >= cap)
		return auscult_fail(
			err, AUSCULT_ERR_NOMEM,
			"ha_discovery: the filter of this daemon's config topics is longer "
			"than %zu bytes; shorten home_assistant.prefix or the client id",
			cap ? cap - 1 : 0);
	return AUSCULT_OK;
}

/* Consumes text up to the next '/' (or the end) from *s when it equals want. */
static bool take_level(const char **s, const char *want, size_t want_len)
{
	if (strncmp(*s, want, want_len) != 0 || ((*s)[want_len] != '/' && (*s)[want_len] != '\0'))
		return false;
	*s += want_len;
	return true;
}

bool ha_discovery_monitor_of(const struct ha_discovery_params *hp, const char *topic, char *monitor,
			     size_t cap)
{
	char node[128];
	ha_node_id(hp->client_id, node, sizeof(node));
	const char *s = topic;
	if (!s || !take_level(&s, hp->ha_prefix, strlen(hp->ha_prefix)) || *s++ != '/')
		return false;
	const char *component = s, *slash = strchr(s, '/');
	if (!slash)
		return false;
	size_t component_len = (size_t)(slash - component);
	s = slash + 1;
	if (!take_level(&s, node, strlen(node)) || *s++ != '/')
		return false;
	const char *object_id = s;
	slash = strchr(s, '/');
	if (!slash || strcmp(slash, "/config") != 0)
		return false;
	size_t id_len = (size_t)(slash - object_id);
	for (int which = 0; which < HA_DISCOVERY_PER_MONITOR; which++) {
		size_t obj_len = strlen(objects[which]);
		if (strlen(components[which]) != component_len ||
		    strncmp(components[which], component, component_len) != 0 ||
		    id_len < obj_len + 2 || object_id[id_len - obj_len - 1] != '_' ||
		    strncmp(object_id + id_len - obj_len, objects[which], obj_len) != 0)
			continue;
		size_t name_len = id_len - obj_len - 1;
		if (name_len >= cap)
			return false;
		memcpy(monitor, object_id, name_len);
		monitor[name_len] = '\0';
		return true;
	}
	return false;
}
