/* mqtt_publisher.h - auscult's MQTT link: status/state/score/event topics, outbox, reconnects. */
#ifndef AUSCULT_MQTT_PUBLISHER_H
#define AUSCULT_MQTT_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "publish/mqtt_settings.h"
#include "publish/outbox.h" /* enum message_class */

/*
 * Threads: mqtt_publisher_enqueue may be called from any thread (it takes one short lock, copies
 * the message and never waits on the network). Every other function belongs to one thread, the
 * daemon's main loop. Paho's own threads only record what happened (connected, lost,
 * acknowledged) under that lock; the main loop acts on it in mqtt_publisher_poll.
 *
 * Topics (see docs/mqtt.md): <prefix>/status online|offline, retained QoS 1, offline is also the
 * will; <prefix>/<monitor>/state retained QoS 1; <prefix>/<monitor>/score at settings qos;
 * <prefix>/<monitor>/event QoS 1. Messages wait in an outbox of settings->offline_buffer
 * messages (Paho keeps nothing: MQTTCLIENT_PERSISTENCE_NONE); events leave it only when the
 * broker acknowledged them, so a connection lost mid-flight re-sends them, in order
 * (at-least-once). With settings->spool_dir, events and states are also written (and synced)
 * to a spool on disk before enqueue returns, removed on the broker's acknowledgement and sent
 * again, in order, by the next publisher created on that folder (spool.h): nothing accepted is
 * lost to a crash or a restart. The spool, not the outbox, then bounds how many wait: what the
 * outbox cannot hold waits on disk and follows in order. Without it, nothing is kept across a restart of the daemon.
 */
struct mqtt_publisher;

/*
 * Creates a publisher from s (copied; s may be freed afterwards). Reads the password file (first
 * line; a warning when it is readable by everyone), checks the TLS files, creates the Paho
 * client. Does not connect: the first mqtt_publisher_poll does, so a broker that is down at
 * start never stops the daemon. On failure *out is NULL and err names the setting or file and
 * the fix. Main thread.
 */
int mqtt_publisher_create(struct mqtt_publisher **out, const struct mqtt_settings *s,
			  struct auscult_err *err);

/* Publishes offline (as mqtt_publisher_shutdown(p, 0)) unless already shut down, then frees
 * everything. NULL-safe. Main thread. */
void mqtt_publisher_destroy(struct mqtt_publisher *p);

/*
 * Sets the monitors announced through Home Assistant discovery (names copied; [A-Za-z0-9_-]+).
 * Announced on every connect and whenever <ha_prefix>/status says online. Monitors dropped from
 * the list get an empty retained config (Home Assistant then removes them). No-op when
 * settings->ha_discovery is false. Returns AUSCULT_ERR_INVALID (err set) for a bad name,
 * AUSCULT_ERR_NOMEM. Main thread.
 */
int mqtt_publisher_set_monitors(struct mqtt_publisher *p, const char *const *names, size_t n,
				struct auscult_err *err);

/*
 * Queues payload (NUL-terminated text, copied) for <prefix>/<topic_suffix> (e.g. "pump/event").
 * Never blocks on the network; any thread. Events keep their order. When the outbox is full,
 * scores are dropped first; then, with the spool on, a new event or state waits on disk (and
 * so does every one after it, in order) until the outbox has room again; without it, the
 * oldest event goes (counted and logged), then the oldest state. For states only the latest
 * per topic is kept, and each topic's latest is sent again after every reconnect (a broker
 * restarted without persistence has forgotten it). Returns AUSCULT_OK; AUSCULT_ERR_INVALID for an
 * empty suffix or one with '+', '#' or a leading '/' (logged); AUSCULT_ERR_NOMEM when the
 * message itself was dropped (no memory, or a score with the outbox full of other messages).
 */
int mqtt_publisher_enqueue(struct mqtt_publisher *p, const char *topic_suffix, const char *payload,
			   enum message_class cls);

/*
 * As mqtt_publisher_enqueue for len bytes of any value (the evidence PNG). spool false: the
 * message is kept in memory only (the durable spool holds text; a picture is not worth a sync).
 */
int mqtt_publisher_enqueue_bytes(struct mqtt_publisher *p, const char *topic_suffix,
				 const void *payload, size_t len, enum message_class cls,
				 bool spool);

/*
 * Drives the link; call every ~100 ms from the main loop. Never blocks. Connects and reconnects
 * with exponential back-off (1 s doubling to 15 s, +-20 % jitter), announces discovery, sends
 * queued messages in order (at most 32 unacknowledged at a time), and logs the first failure,
 * rare repeats and the recovery (complain.h).
 */
void mqtt_publisher_poll(struct mqtt_publisher *p);

/*
 * The spool file now belongs to another publisher (a reload opened it again and put what it
 * holds into its own outbox): p stops reading and writing it. What p still delivers is also in
 * the new publisher's outbox: a duplicate at worst, never a loss. NULL-safe. Main thread.
 */
void mqtt_publisher_release_spool(struct mqtt_publisher *p);

/* True while connected to the broker. Main thread. */
bool mqtt_publisher_connected(const struct mqtt_publisher *p);

struct mqtt_publisher_stats {
	uint64_t sent;             /* messages the broker acknowledged (QoS 0: written) */
	uint64_t dropped_scores;   /* score messages dropped because the outbox was full */
	uint64_t dropped_events;   /* events dropped because the outbox was full of events and
				      states (without a spool; with one, they wait on disk) */
	uint64_t reconnects;       /* connections made after the first one */
	uint64_t connect_failures; /* connection attempts that failed (refused, unreachable, TLS) */
	size_t queued;             /* messages in the outbox now (including unacknowledged) */
	size_t queued_events;      /* events not yet delivered: in the outbox, and those waiting
				      on disk for room in it */
	bool spool_on;             /* mqtt.spool_dir is set and the spool opened */
	size_t spooled;            /* messages held on disk, not yet acknowledged */
	uint64_t spool_dropped_events; /* events dropped from disk because mqtt.spool_max_mb was
				       * reached (still sent if the daemon keeps running) */
};

/* Copies the counters. Main thread. */
void mqtt_publisher_stats(const struct mqtt_publisher *p, struct mqtt_publisher_stats *out);

/*
 * Orderly stop: keeps polling for at most timeout_ms until no event or state is left in the
 * outbox, then (if connected) publishes offline on <prefix>/status (retained) and disconnects.
 * Logs how many events were left undelivered. Afterwards poll does nothing. Main thread.
 */
void mqtt_publisher_shutdown(struct mqtt_publisher *p, int timeout_ms);

#endif
