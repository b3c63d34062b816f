/* ha_discovery.c - Home Assistant MQTT discovery messages for each monitor. */
#include "publish/ha_discovery.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/json_writer.h"

void ha_node_id(const char *client_id, char *out, size_t cap)
{
	if (cap == 0)
		return;
	if (!client_id || !client_id[0])
		client_id = "auscult";
	size_t i = 0;
	for (; client_id[i] && i + 1 < cap; i++) {
		char c = client_id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '-';
		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
}

/* The part every entity shares: availability and the device block. */
static void common_fields(struct json_writer *w, const struct ha_discovery_params *hp,
			  const char *node)
{
	char topic[256];
	snprintf(topic, sizeof(topic), "%s/status", hp->topic_prefix);
	json_field_string(w, "availability_topic", topic);
	json_field_string(w, "payload_available", "online");
	json_field_string(w, "payload_not_available", "offline");
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
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "ha_discovery: no monitor name or message %d out of range [0, %d)",
				    which, HA_DISCOVERY_PER_MONITOR);
	char node[128], state_topic[256], unique_id[300], name[200];
	ha_node_id(hp->client_id, node, sizeof(node));
	const char *component = which == 0 ? "binary_sensor" : "sensor";
	const char *object = which == 0 ? "problem" : "score";
	int n = snprintf(topic, topic_cap, "%s/%s/%s/%s_%s/config", hp->ha_prefix, component, node,
			 monitor, object);
	if (n < 0 || (size_t)n >= topic_cap)
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "ha_discovery: config topic for monitor '%s' is longer than %zu "
				    "bytes; shorten mqtt.ha_prefix, the client id or the monitor name",
				    monitor, topic_cap - 1);
	snprintf(unique_id, sizeof(unique_id), "%s_%s_%s", node, monitor, object);

	struct json_writer w;
	json_writer_init(&w, payload, payload_cap);
	json_object_open(&w);
	if (which == 0) {
		snprintf(name, sizeof(name), "%s problem", monitor);
		snprintf(state_topic, sizeof(state_topic), "%s/%s/state", hp->topic_prefix, monitor);
		json_field_string(&w, "name", name);
		json_field_string(&w, "unique_id", unique_id);
		json_field_string(&w, "device_class", "problem");
		json_field_string(&w, "state_topic", state_topic);
		/* The state topic also carries idle and fault; only anomaly is a problem. */
		json_field_string(&w, "value_template",
				  "{{ 'ON' if value == 'anomaly' else 'OFF' }}");
		json_field_string(&w, "payload_on", "ON");
		json_field_string(&w, "payload_off", "OFF");
	} else {
		snprintf(name, sizeof(name), "%s anomaly score", monitor);
		snprintf(state_topic, sizeof(state_topic), "%s/%s/score", hp->topic_prefix, monitor);
		json_field_string(&w, "name", name);
		json_field_string(&w, "unique_id", unique_id);
		json_field_string(&w, "state_topic", state_topic);
		json_field_string(&w, "value_template", "{{ value_json.smoothed }}");
		json_field_string(&w, "state_class", "measurement");
		json_field_string(&w, "json_attributes_topic", state_topic);
		json_field_string(&w, "icon", "mdi:waveform");
	}
	common_fields(&w, hp, node);
	json_object_close(&w);
	struct auscult_err jerr;
	int rc = json_writer_finish(&w, NULL, &jerr);
	if (rc != AUSCULT_OK)
		return auscult_fail(err, rc, "ha_discovery: monitor '%s': %s", monitor, jerr.msg);
	return AUSCULT_OK;
}
