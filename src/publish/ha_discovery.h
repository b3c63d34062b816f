/* ha_discovery.h - Home Assistant MQTT discovery messages for each monitor. */
#ifndef AUSCULT_HA_DISCOVERY_H
#define AUSCULT_HA_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/status.h"

/* Config messages per monitor, by `which`: */
enum ha_entity {
	HA_ENTITY_PROBLEM = 0, /* binary_sensor "<m> problem": ON in anomaly */
	HA_ENTITY_SCORE,       /* sensor "<m> anomaly score": the smoothed score */
	HA_ENTITY_STATE,       /* sensor "<m> state": enum of the state topic's payloads */
	HA_ENTITY_IMAGE,       /* image "<m> last anomaly": the evidence spectrogram (PNG) */
	HA_DISCOVERY_PER_MONITOR
};

/* The values the state sensor accepts (its `options`), in the order Home Assistant lists them. */
extern const char *const ha_state_options[];
extern const size_t ha_state_option_count;

/* What every discovery message refers to. Strings are borrowed. */
struct ha_discovery_params {
	const char *ha_prefix;    /* "homeassistant" */
	const char *topic_prefix; /* auscult's own prefix, "auscult" */
	const char *client_id;    /* device name and identifier source */
	const char *sw_version;   /* AUSCULT_VERSION */
};

/* Copies client_id into out with every byte outside [A-Za-z0-9_-] replaced by '_' (Home
 * Assistant's node_id rule); "auscult" when client_id is empty. out is NUL-terminated. */
void ha_node_id(const char *client_id, char *out, size_t cap);

/*
 * Builds config message `which` (an enum ha_entity) for monitor into topic and payload
 * (retained, QoS 1 when published). Pure: no I/O, no allocation, any thread. Returns
 * AUSCULT_OK, or AUSCULT_ERR_INVALID / AUSCULT_ERR_NOMEM (buffers too small) with err set.
 */
int ha_discovery_message(const struct ha_discovery_params *hp, const char *monitor, int which,
			 char *topic, size_t topic_cap, char *payload, size_t payload_cap,
			 struct auscult_err *err);

/*
 * The subscription filter that matches every config message this daemon (its node id) can have
 * left retained on the broker: "<ha_prefix>/+/<node>/+/config". Subscribing to it brings back
 * the configs of monitors that are no longer configured, to be cleared.
 */
int ha_discovery_filter(const struct ha_discovery_params *hp, char *out, size_t cap,
			struct auscult_err *err);

/* When topic is one of this daemon's config topics (as ha_discovery_message builds them),
 * copies the monitor it configures into monitor (cap bytes) and returns true. Pure. */
bool ha_discovery_monitor_of(const struct ha_discovery_params *hp, const char *topic, char *monitor,
			     size_t cap);

#endif
