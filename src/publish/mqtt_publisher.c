/* mqtt_publisher.c - auscult's MQTT link over the Paho asynchronous client. */
#include "publish/mqtt_publisher.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "common/clock.h"
#include "common/complain.h"
#include "common/log.h"
#include "common/regular_file.h"
#include "publish/broker_probe.h"
#include "publish/ha_discovery.h"
#include "publish/spool.h"

#ifndef AUSCULT_VERSION
#define AUSCULT_VERSION "unknown"
#endif

#define SEND_WINDOW 32       /* outbox messages unacknowledged at once */
#define PAHO_MAX_INFLIGHT 64 /* room above the window for status and discovery messages */
#define COMPLETIONS_MAX 256  /* acknowledgements recorded between two polls (>= 2 windows) */
#define BACKOFF_MIN_S 1.0
#define BACKOFF_MAX_S 15.0 /* events flow again within ~15 s of the broker's return */
#define CONNECT_TIMEOUT_S 10
#define PROBE_STEP_S 2.0 /* each step of the probe that explains a failed connect */
#define PROBE_WAIT_S 8.0 /* then the failure is reported with Paho's words alone */
#define TOPIC_MAX 512
#define DISCOVERY_PAYLOAD_MAX 2048
#define SEEN_CONFIGS_MAX 4096 /* retained configs held for one sweep; more come back later */

/* LINK_PROBING: a connect failed and the probe is finding out why (broker_probe.h). */
enum link_state { LINK_DOWN = 0, LINK_CONNECTING, LINK_PROBING, LINK_UP, LINK_CLOSED };

/* One delivery result, recorded on Paho's thread and applied on the main thread. */
struct completion {
	int token;
	uint32_t epoch;
	bool ok;
};

/* A state topic's latest payload. */
struct last_state {
	char *topic;
	char *payload;
};

struct mqtt_publisher {
	/* Settings, owned copies. */
	char *server_uri; /* Paho form: tcp://host:port or ssl://host:port */
	char *shown_uri;  /* as configured, for logs */
	char *host;       /* as in the URI, for the probe */
	int port;
	char *client_id;
	char *username;
	char *password;
	char *ca_file, *cert_file, *key_file;
	bool tls, verify_server;
	int keepalive_s;
	int score_qos;
	char *prefix;
	char *status_topic;
	bool ha_discovery;
	char *ha_prefix;
	char *ha_status_topic;
	char *ha_config_filter; /* every config topic of this daemon's node (ha_discovery.h) */

	MQTTAsync client;
	pthread_mutex_t lock;

	/* Under lock: shared with enqueue callers and Paho's callbacks. */
	struct outbox ob;
	uint32_t epoch; /* bumped on every connect and every loss; stale acks carry an old one */
	bool ev_connected, ev_connect_failed, ev_lost, ev_ha_online, ev_disconnected;
	int connect_fail_code;
	char connect_fail_msg[400];
	char tls_error[200]; /* OpenSSL's text for the last failed handshake, "" if none */
	char lost_cause[200];
	struct completion completions[COMPLETIONS_MAX];
	size_t n_completions;
	bool completions_overflowed;
	uint64_t sent;
	struct complaint drop_complaint;       /* scores dropped */
	struct complaint event_drop_complaint; /* events dropped: data lost, logged apart */
	struct spool *spool;                   /* NULL: mqtt.spool_dir is off */
	uint64_t spilled_from; /* spool records from this id on wait on disk only (the outbox was
				  full of events and states); 0: none */
	bool spool_released;   /* a reload's new link took the spool file over */
	/* Each state topic's latest payload, sent again on every reconnect: a broker restarted
	 * without persistence has forgotten the retained states, and a monitor only publishes its
	 * state when it changes. */
	struct last_state *states;
	size_t n_states;
	struct complaint spool_complaint; /* spool writes failing, or the spool full */
	/* Retained discovery configs of this node the broker holds, as the subscription to
	 * ha_config_filter brought them; sweep_configs clears those of monitors no longer
	 * configured. */
	char **seen_configs;
	size_t n_seen_configs;
	bool seen_overflowed; /* some were not kept: subscribe again once these are swept */

	/* Main thread only. */
	enum link_state state;
	double next_attempt_s;
	double backoff_s;
	bool ever_connected;
	uint64_t reconnects;
	uint64_t connect_failures;
	struct complaint link_complaint;
	struct broker_probe *probe; /* LINK_PROBING only */
	double probe_deadline_s;
	char probe_fallback[400]; /* what Paho said about the failure the probe looks into */
	struct complaint send_complaint;
	uint64_t rng;
	char **monitors;
	size_t n_monitors;
	bool announce_pending;
	size_t announce_next;           /* next message, HA_DISCOVERY_PER_MONITOR per monitor */
	bool configs_subscribe_pending; /* (re)subscribe to ha_config_filter: the broker sends
					   back every retained config of this node */
};

/* ---- small helpers ---- */

static char *dup_or_null(const char *s, bool *nomem)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*nomem = true;
	return d;
}

static void free_names(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static double jittered(struct mqtt_publisher *p, double s)
{
	/* xorshift64: the jitter only has to keep a fleet of daemons from reconnecting in step. */
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	double u = (double)(p->rng >> 11) / 9007199254740992.0; /* [0, 1) */
	return s * (0.8 + 0.4 * u);
}

static bool valid_name(const char *s)
{
	if (!s || !s[0])
		return false;
	for (const char *c = s; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* Reads the password: the file's first line without its line end. */
static int read_password(const char *path, char **out, struct auscult_err *err)
{
	*out = NULL;
	int rc;
	int fd = regular_file_open(path, "the MQTT password file (mqtt.password_file)", NULL, &rc,
				   err);
	if (fd < 0)
		return rc;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("%s: the MQTT password file is readable by everyone; chmod 600 it", path);
	char line[1024];
	if (!fgets(line, sizeof(line), f)) {
		bool failed = ferror(f);
		fclose(f);
		if (failed)
			return auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot read: %s", path,
					    strerror(errno));
		return auscult_fail(err, AUSCULT_ERR_FORMAT,
				    "%s: the MQTT password file is empty; put the password on its "
				    "first line",
				    path);
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	*out = strdup(line);
	memset(line, 0, sizeof(line));
	if (!*out)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
	return AUSCULT_OK;
}

/* ---- Paho callbacks (Paho's thread): record, never block, never call Paho ---- */

static void copy_text(char *dst, size_t cap, const char *src, const char *fallback)
{
	snprintf(dst, cap, "%s", src && src[0] ? src : fallback);
}

static void on_connect_success(void *ctx, MQTTAsync_successData *resp)
{
	(void)resp;
	struct mqtt_publisher *p = ctx;
	pthread_mutex_lock(&p->lock);
	p->ev_connected = true;
	pthread_mutex_unlock(&p->lock);
}

/* Why a CONNECT was refused, for the CONNACK return codes of MQTT 3.1.1. */
static const char *connack_text(int code)
{
	switch (code) {
	case 1:
		return "the broker refused MQTT 3.1.1 (unacceptable protocol version)";
	case 2:
		return "the broker rejected the client id; check mqtt.client_id";
	case 3:
		return "the broker says it is unavailable";
	case 4:
		return "bad user name or password; check mqtt.username and mqtt.password_file";
	case 5:
		return "not authorised; check mqtt.username and mqtt.password_file";
	default:
		return NULL;
	}
}

static void on_connect_failure(void *ctx, MQTTAsync_failureData *resp)
{
	struct mqtt_publisher *p = ctx;
	int code = resp ? resp->code : MQTTASYNC_FAILURE;
	const char *text = connack_text(code);
	if (!text)
		text = resp && resp->message && resp->message[0] ? resp->message
								 : MQTTAsync_strerror(code);
	pthread_mutex_lock(&p->lock);
	p->ev_connect_failed = true;
	p->connect_fail_code = code;
	if (p->tls_error[0])
		snprintf(p->connect_fail_msg, sizeof(p->connect_fail_msg),
			 "TLS: %s; check mqtt.ca_file, mqtt.verify_server and that the broker's "
			 "certificate names this host",
			 p->tls_error);
	else
		copy_text(p->connect_fail_msg, sizeof(p->connect_fail_msg), text, "unknown error");
	p->tls_error[0] = '\0';
	pthread_mutex_unlock(&p->lock);
}

/* OpenSSL's own error text (Paho calls this during a failing handshake). */
static int on_tls_error(const char *str, size_t len, void *ctx)
{
	struct mqtt_publisher *p = ctx;
	while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
		len--;
	pthread_mutex_lock(&p->lock);
	int n = len < sizeof(p->tls_error) ? (int)len : (int)sizeof(p->tls_error) - 1;
	snprintf(p->tls_error, sizeof(p->tls_error), "%.*s", n, str);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void on_connection_lost(void *ctx, char *cause)
{
	struct mqtt_publisher *p = ctx;
	pthread_mutex_lock(&p->lock);
	p->ev_lost = true;
	p->epoch++;
	copy_text(p->lost_cause, sizeof(p->lost_cause), cause, "the broker closed the connection");
	pthread_mutex_unlock(&p->lock);
}

/* Keeps a copy of a retained config topic for sweep_configs. Paho's thread, takes the lock. */
static void note_seen_config(struct mqtt_publisher *p, const char *topic, size_t len)
{
	if (len >= TOPIC_MAX)
		return; /* longer than any config topic of ours: not one to clear */
	char *copy = strndup(topic, len);
	pthread_mutex_lock(&p->lock);
	char **grown = copy && p->n_seen_configs < SEEN_CONFIGS_MAX
			       ? realloc(p->seen_configs,
					 (p->n_seen_configs + 1) * sizeof(*p->seen_configs))
			       : NULL;
	if (grown) {
		p->seen_configs = grown;
		p->seen_configs[p->n_seen_configs++] = copy;
		copy = NULL;
	} else {
		p->seen_overflowed = true;
	}
	pthread_mutex_unlock(&p->lock);
	free(copy);
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
	struct mqtt_publisher *p = ctx;
	size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	bool ha = p->ha_status_topic && tl == strlen(p->ha_status_topic) &&
		  memcmp(topic, p->ha_status_topic, tl) == 0;
	bool online = msg->payloadlen == 6 && memcmp(msg->payload, "online", 6) == 0;
	if (ha && online) {
		pthread_mutex_lock(&p->lock);
		p->ev_ha_online = true;
		pthread_mutex_unlock(&p->lock);
	} else if (!ha && p->ha_discovery && msg->retained && msg->payloadlen > 0) {
		/* A retained config the subscription brought back (our own live ones come with
		 * retained 0; an empty one is a clear). The main thread decides. */
		note_seen_config(p, topic, tl);
	}
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

static void record_completion(struct mqtt_publisher *p, int token, bool ok)
{
	pthread_mutex_lock(&p->lock);
	if (p->n_completions < COMPLETIONS_MAX)
		p->completions[p->n_completions++] =
			(struct completion){ .token = token, .epoch = p->epoch, .ok = ok };
	else
		p->completions_overflowed = true;
	pthread_mutex_unlock(&p->lock);
}

static void on_send_success(void *ctx, MQTTAsync_successData *resp)
{
	if (resp)
		record_completion(ctx, resp->token, true);
}

static void on_send_failure(void *ctx, MQTTAsync_failureData *resp)
{
	if (resp)
		record_completion(ctx, resp->token, false);
}

static void on_disconnected(void *ctx, MQTTAsync_successData *resp)
{
	(void)resp;
	struct mqtt_publisher *p = ctx;
	pthread_mutex_lock(&p->lock);
	p->ev_disconnected = true;
	pthread_mutex_unlock(&p->lock);
}

static void on_disconnect_failed(void *ctx, MQTTAsync_failureData *resp)
{
	(void)resp;
	on_disconnected(ctx, NULL);
}

/* ---- the durable spool ---- */

/* Messages the outbox let go (dropped or replaced) are no longer held on disk either. Under
 * lock. */
static void spool_forget(struct mqtt_publisher *p, const struct outbox_drop *drop)
{
	for (uint32_t i = 0; i < drop->n_spool_ids; i++) {
		struct auscult_err err;
		if (spool_done(p->spool, drop->spool_ids[i], &err) != AUSCULT_OK)
			complain(&p->spool_complaint, clock_mono_s(), LOG_LEVEL_WARN, "mqtt: %s",
				 err.msg);
	}
}

/* mqtt.spool_max_mb in bytes; a 32-bit size_t cannot say 4096 MiB, and a process there could
 * not read such a file anyway: the largest size_t then. */
static size_t spool_max_bytes(int mb)
{
	uint64_t bytes = (uint64_t)mb << 20;
	return bytes > SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

/* Moves messages that wait on disk only (spilled_from) into the outbox, in order, while it
 * takes them without dropping an event or a state. Under lock. */
static void refill_from_spool(struct mqtt_publisher *p)
{
	while (p->spilled_from && outbox_takes_without_loss(&p->ob)) {
		const struct spool_record *r = spool_next_live(p->spool, p->spilled_from);
		if (!r) {
			p->spilled_from = 0;
			break;
		}
		uint64_t id = r->id;
		struct outbox_drop drop;
		int rc = outbox_push_spooled(&p->ob, r->topic, r->payload, r->cls, id, &drop);
		spool_forget(p, &drop); /* scores made room; a replaced state is done */
		if (rc != AUSCULT_OK)
			break; /* no memory: it stays on disk, to be tried again */
		p->spilled_from = id + 1;
	}
}

/* Opens the spool and puts what it holds into the outbox, in order. A spool that cannot be
 * opened is logged and the link runs without one, as with mqtt.spool_dir null. */
static void open_spool(struct mqtt_publisher *p, const char *dir, size_t max_bytes)
{
	struct auscult_err err;
	struct spool_open_report rep;
	if (spool_open(&p->spool, dir, max_bytes, &rep, &err) != AUSCULT_OK) {
		log_error("mqtt: %s; events are kept in memory only until this is fixed", err.msg);
		return;
	}
	/* All it holds starts as waiting on disk, and goes into the outbox, in order, as far as the
	 * outbox takes it; the rest follows as the broker takes the first. */
	const struct spool_record *first = spool_next_live(p->spool, 0);
	p->spilled_from = first ? first->id : 0;
	refill_from_spool(p);
	if (p->spilled_from)
		log_info("mqtt: the spool holds more than mqtt.offline_buffer (%zu) messages: the "
			 "rest wait on disk and are sent, in order, as the broker takes the first",
			 p->ob.capacity);
	if (rep.replayed > 0 || rep.corrupt_records > 0)
		log_info("mqtt: spool %s/%s: %zu undelivered message(s) to send again, in order; %zu "
			 "corrupt region(s) (%zu bytes) skipped",
			 dir, SPOOL_FILE_NAME, rep.replayed, rep.corrupt_records,
			 rep.corrupt_bytes);
}

/* ---- create / destroy ---- */

int mqtt_publisher_create(struct mqtt_publisher **out, const struct mqtt_settings *settings,
			  struct auscult_err *err)
{
	*out = NULL;
	int rc;
	bool nomem = false;
	/* Validated on a copy: validation fills in the default client id. */
	struct mqtt_settings copy;
	const struct mqtt_settings *s = &copy;
	if ((rc = mqtt_settings_copy(&copy, settings, err)))
		return rc;
	struct mqtt_settings_fault fault;
	struct auscult_err why;
	if ((rc = mqtt_settings_validate(&copy, NULL, &fault, &why))) {
		auscult_fail(err, rc, "%s: %s", mqtt_settings_table[fault.id].key, why.msg);
		mqtt_settings_free(&copy);
		return rc;
	}
	struct mqtt_uri uri;
	mqtt_uri_parse(s->uri, &uri, NULL); /* valid: validated above */
	struct mqtt_publisher *p = calloc(1, sizeof(*p));
	if (!p) {
		mqtt_settings_free(&copy);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: out of memory");
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		mqtt_settings_free(&copy);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: cannot create a mutex");
	}

	const char *prefix = s->topic_prefix;
	size_t plen = strlen(prefix);
	p->tls = uri.tls;
	size_t ulen = strlen(uri.host) + sizeof("ssl://:65535");
	if ((p->server_uri = malloc(ulen)))
		snprintf(p->server_uri, ulen, "%s://%s:%d", uri.tls ? "ssl" : "tcp", uri.host,
			 uri.port);
	else
		nomem = true;
	if (s->password_file) {
		rc = read_password(s->password_file, &p->password, err);
		if (rc)
			goto fail;
	}

	p->shown_uri = dup_or_null(s->uri, &nomem);
	p->host = dup_or_null(uri.host, &nomem);
	p->port = uri.port;
	p->client_id = dup_or_null(s->client_id, &nomem);
	p->username = dup_or_null(s->username, &nomem);
	p->ca_file = dup_or_null(s->ca_file, &nomem);
	p->cert_file = dup_or_null(s->cert_file, &nomem);
	p->key_file = dup_or_null(s->key_file, &nomem);
	p->prefix = dup_or_null(prefix, &nomem);
	p->ha_prefix = dup_or_null(s->ha_prefix, &nomem);
	p->status_topic = malloc(plen + sizeof("/status"));
	p->ha_status_topic = p->ha_prefix ? malloc(strlen(p->ha_prefix) + sizeof("/status")) : NULL;
	if (nomem || !p->status_topic || !p->ha_status_topic) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: out of memory");
		goto fail;
	}
	sprintf(p->status_topic, "%s/status", prefix);
	sprintf(p->ha_status_topic, "%s/status", p->ha_prefix);
	if (s->ha_discovery) {
		struct ha_discovery_params hp = { .ha_prefix = p->ha_prefix,
						  .client_id = p->client_id };
		char filter[TOPIC_MAX];
		rc = ha_discovery_filter(&hp, filter, sizeof(filter), err);
		if (rc)
			goto fail;
		if (!(p->ha_config_filter = strdup(filter))) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: out of memory");
			goto fail;
		}
	}
	p->verify_server = s->verify_server;
	p->keepalive_s = s->keepalive_s;
	p->score_qos = s->qos;
	p->ha_discovery = s->ha_discovery;

	rc = outbox_init(&p->ob, s->offline_buffer, err);
	if (rc)
		goto fail;

	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	co.sendWhileDisconnected = 0; /* our outbox holds messages while the link is down */
	co.MQTTVersion = MQTTVERSION_3_1_1;
	int prc = MQTTAsync_createWithOptions(&p->client, p->server_uri, p->client_id,
					      MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (prc != MQTTASYNC_SUCCESS) {
		p->client = NULL;
		rc = auscult_fail(err, AUSCULT_ERR_MQTT,
				  "mqtt: cannot create a client for %s (client id '%s'): %s",
				  p->shown_uri, p->client_id, MQTTAsync_strerror(prc));
		goto fail;
	}
	prc = MQTTAsync_setCallbacks(p->client, p, on_connection_lost, on_message, NULL);
	if (prc != MQTTASYNC_SUCCESS) {
		rc = auscult_fail(err, AUSCULT_ERR_MQTT, "mqtt: cannot set callbacks: %s",
				  MQTTAsync_strerror(prc));
		goto fail;
	}

	complaint_init(&p->link_complaint, 60.0, 3600.0);
	complaint_init(&p->send_complaint, 60.0, 3600.0);
	complaint_init(&p->drop_complaint, 60.0, 3600.0);
	complaint_init(&p->event_drop_complaint, 10.0, 3600.0);
	p->state = LINK_DOWN;
	p->backoff_s = BACKOFF_MIN_S;
	p->next_attempt_s = 0.0;
	p->rng = ((uint64_t)clock_mono_ns() << 20) ^ (uint64_t)clock_wall_ms() ^
		 ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)p;
	if (p->rng == 0)
		p->rng = 0x9e3779b97f4a7c15ull;
	/* Last, once nothing else can fail: a reload whose new link is refused must leave the
	 * running link's spool file alone (opening rewrites it). */
	complaint_init(&p->spool_complaint, 60.0, 3600.0);
	if (s->spool_dir && s->spool_dir[0])
		open_spool(p, s->spool_dir, spool_max_bytes(s->spool_max_mb));
	*out = p;
	mqtt_settings_free(&copy);
	return AUSCULT_OK;
fail:
	p->state = LINK_CLOSED;
	mqtt_publisher_destroy(p);
	mqtt_settings_free(&copy);
	return rc;
}

void mqtt_publisher_destroy(struct mqtt_publisher *p)
{
	if (!p)
		return;
	if (p->client && p->state != LINK_CLOSED)
		mqtt_publisher_shutdown(p, 0);
	if (p->client)
		MQTTAsync_destroy(&p->client);
	broker_probe_release(p->probe);
	outbox_free(&p->ob);
	spool_close(p->spool);
	pthread_mutex_destroy(&p->lock);
	if (p->password) {
		/* volatile so the wipe is not optimised away */
		volatile char *v = p->password;
		while (*v)
			*v++ = '\0';
	}
	free(p->password);
	free(p->server_uri);
	free(p->shown_uri);
	free(p->host);
	free(p->client_id);
	free(p->username);
	free(p->ca_file);
	free(p->cert_file);
	free(p->key_file);
	free(p->prefix);
	free(p->status_topic);
	free(p->ha_prefix);
	free(p->ha_status_topic);
	free(p->ha_config_filter);
	free_names(p->monitors, p->n_monitors);
	free_names(p->seen_configs, p->n_seen_configs);
	for (size_t i = 0; i < p->n_states; i++) {
		free(p->states[i].topic);
		free(p->states[i].payload);
	}
	free(p->states);
	free(p);
}

/* ---- the latest states ---- */

/* Keeps payload (len bytes of text) as topic's latest state; a copy that cannot be made leaves
 * the previous one (the reconnect then sends that, or nothing). Under lock. */
static void remember_state(struct mqtt_publisher *p, const char *topic, const void *payload,
			   size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, payload, len);
	copy[len] = '\0';
	for (size_t i = 0; i < p->n_states; i++) {
		if (strcmp(p->states[i].topic, topic) == 0) {
			free(p->states[i].payload);
			p->states[i].payload = copy;
			return;
		}
	}
	struct last_state *grown = realloc(p->states, (p->n_states + 1) * sizeof(*grown));
	char *topic_copy = strdup(topic);
	if (grown)
		p->states = grown;
	if (!grown || !topic_copy) {
		free(copy);
		free(topic_copy);
		return;
	}
	p->states[p->n_states++] = (struct last_state){ .topic = topic_copy, .payload = copy };
}

/* Forgets the states of monitors no longer in names[0..n). Under lock. */
static void forget_states(struct mqtt_publisher *p, char *const *names, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < p->n_states; i++) {
		bool keep = false;
		for (size_t k = 0; k < n && !keep; k++) {
			char topic[TOPIC_MAX];
			snprintf(topic, sizeof(topic), "%s/%s/state", p->prefix, names[k]);
			keep = strcmp(topic, p->states[i].topic) == 0;
		}
		if (keep) {
			p->states[kept++] = p->states[i];
		} else {
			free(p->states[i].topic);
			free(p->states[i].payload);
		}
	}
	p->n_states = kept;
}

/* After a reconnect: queues each topic's latest state again, unless one is already on its way
 * or the outbox could only take it by dropping an event. Not spooled: the spool already holds
 * every state the broker has not acknowledged. Under lock. */
static void requeue_states(struct mqtt_publisher *p)
{
	for (size_t i = 0; i < p->n_states; i++) {
		if (outbox_holds_state(&p->ob, p->states[i].topic))
			continue;
		if (!outbox_takes_without_loss(&p->ob))
			return;
		struct outbox_drop drop;
		outbox_push(&p->ob, p->states[i].topic, p->states[i].payload, MESSAGE_STATE, &drop);
		spool_forget(p, &drop);
	}
}

/* ---- discovery list ---- */

static bool in_list(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int mqtt_publisher_set_monitors(struct mqtt_publisher *p, const char *const *names, size_t n,
				struct auscult_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!valid_name(names[i]))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "mqtt: monitor name '%s' cannot be used in topics; "
					    "expected [A-Za-z0-9_-]+",
					    names[i] ? names[i] : "(null)");
	char **fresh = calloc(n ? n : 1, sizeof(*fresh));
	if (!fresh)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: out of memory");
	bool some_gone = false;
	for (size_t i = 0; i < p->n_monitors; i++)
		some_gone |= !in_list((char *const *)(uintptr_t)names, n, p->monitors[i]);
	for (size_t i = 0; i < n; i++) {
		fresh[i] = strdup(names[i]);
		if (!fresh[i]) {
			free_names(fresh, i);
			return auscult_fail(err, AUSCULT_ERR_NOMEM, "mqtt: out of memory");
		}
	}
	free_names(p->monitors, p->n_monitors);
	p->monitors = fresh;
	p->n_monitors = n;
	pthread_mutex_lock(&p->lock);
	forget_states(p, fresh, n);
	pthread_mutex_unlock(&p->lock);
	p->announce_pending = p->ha_discovery;
	p->announce_next = 0;
	/* The broker sends the retained configs again, and those of a removed monitor go. */
	if (some_gone)
		p->configs_subscribe_pending = p->ha_discovery;
	return AUSCULT_OK;
}

/* ---- enqueue (any thread) ---- */

static int qos_of(const struct mqtt_publisher *p, enum message_class cls)
{
	return cls == MESSAGE_SCORE ? p->score_qos : 1;
}

int mqtt_publisher_enqueue(struct mqtt_publisher *p, const char *topic_suffix, const char *payload,
			   enum message_class cls)
{
	return mqtt_publisher_enqueue_bytes(p, topic_suffix, payload, payload ? strlen(payload) : 0,
					    cls, true);
}

int mqtt_publisher_enqueue_bytes(struct mqtt_publisher *p, const char *topic_suffix,
				 const void *payload, size_t len, enum message_class cls,
				 bool spool)
{
	if (!topic_suffix || !topic_suffix[0] || topic_suffix[0] == '/' ||
	    strpbrk(topic_suffix, "#+") || !payload) {
		log_error("mqtt: topic '%s' is not usable (empty, leading '/', '#' or '+'); message "
			  "not queued",
			  topic_suffix ? topic_suffix : "(null)");
		return AUSCULT_ERR_INVALID;
	}
	char topic[TOPIC_MAX];
	int n = snprintf(topic, sizeof(topic), "%s/%s", p->prefix, topic_suffix);
	if (n < 0 || (size_t)n >= sizeof(topic)) {
		log_error("mqtt: topic '%s/%s' is longer than %d bytes; message not queued",
			  p->prefix, topic_suffix, TOPIC_MAX - 1);
		return AUSCULT_ERR_INVALID;
	}
	struct outbox_drop drop;
	struct spool_drop sdrop = { 0 };
	uint64_t spool_id = 0;
	bool spool_failed = false;
	struct auscult_err serr;
	pthread_mutex_lock(&p->lock);
	if (cls == MESSAGE_STATE)
		remember_state(p, topic, payload, len);
	/* On disk (synced) before it counts as accepted; under the lock so both keep one order. */
	if (p->spool && spool && cls != MESSAGE_SCORE)
		spool_failed = spool_append(p->spool, cls, topic, payload, &spool_id, &sdrop,
					    &serr) != AUSCULT_OK;
	/* With the outbox full of events and states, a spooled message waits on disk, and so does
	 * every one after it, to keep their order, until the outbox has room (refill_from_spool). */
	bool spill = spool_id && (p->spilled_from || !outbox_takes_without_loss(&p->ob));
	bool spill_starts = spill && !p->spilled_from;
	/* A message the spool does not hold (the evidence picture) never takes the place of one
	 * it does: with the outbox full of events and states, the new one is dropped. */
	bool yield = !spool_id && p->spool && cls != MESSAGE_SCORE &&
		     !outbox_takes_without_loss(&p->ob);
	int rc = AUSCULT_OK;
	if (spill) {
		memset(&drop, 0, sizeof(drop));
		if (spill_starts)
			p->spilled_from = spool_id;
	} else if (yield) {
		memset(&drop, 0, sizeof(drop));
		outbox_drop_new(&p->ob, cls, topic, &drop);
		rc = AUSCULT_ERR_NOMEM;
	} else {
		rc = outbox_push_bytes(&p->ob, topic, payload, len, cls, spool_id, &drop);
	}
	if (rc != AUSCULT_OK && spool_id &&
	    drop.n_spool_ids < sizeof(drop.spool_ids) / sizeof(drop.spool_ids[0]))
		drop.spool_ids[drop.n_spool_ids++] = spool_id; /* the new message itself went */
	spool_forget(p, &drop);
	uint64_t spool_dropped = spool_dropped_events(p->spool);
	if (spool_failed)
		complain(&p->spool_complaint, clock_mono_s(), LOG_LEVEL_ERROR,
			 "mqtt: %s; the message on %s is kept in memory only", serr.msg, topic);
	else if (sdrop.events)
		complain(&p->spool_complaint, clock_mono_s(), LOG_LEVEL_WARN,
			 "mqtt: spool full (mqtt.spool_max_mb): dropped the oldest event from disk; "
			 "%llu dropped so far; raise mqtt.spool_max_mb",
			 (unsigned long long)spool_dropped);
	bool lost = drop.scores || drop.events || (drop.states && !drop.replaced_state);
	bool log_now = false;
	uint64_t suppressed = 0, total_events = p->ob.dropped_events,
		 total_scores = p->ob.dropped_scores;
	size_t cap = p->ob.capacity;
	if (drop.events)
		log_now = complaint_failed(&p->event_drop_complaint, clock_mono_s(), &suppressed);
	else if (lost)
		log_now = complaint_failed(&p->drop_complaint, clock_mono_s(), &suppressed);
	pthread_mutex_unlock(&p->lock);
	if (spill_starts)
		log_warn(
			"mqtt: outbox full (%zu messages, events and states): new ones wait in the "
			"spool on disk and are sent, in order, as the broker takes the ones before "
			"them",
			cap);
	if (log_now) {
		if (drop.events)
			log_warn("mqtt: outbox full (%zu messages, events and states): dropped the oldest "
				 "event on %s; %llu events dropped so far (%llu since the last "
				 "message); raise mqtt.offline_buffer",
				 cap, drop.event_topic, (unsigned long long)total_events,
				 (unsigned long long)suppressed + 1);
		else
			log_warn("mqtt: outbox full (%zu messages: the broker is away, or slower "
				 "than what waits for it): "
				 "dropping score messages first; %llu dropped so far",
				 cap, (unsigned long long)total_scores);
	}
	return rc;
}

/* ---- poll (main thread) ---- */

static void link_down(struct mqtt_publisher *p, double now_s)
{
	p->state = LINK_DOWN;
	p->next_attempt_s = now_s + jittered(p, p->backoff_s);
	p->backoff_s *= 2.0;
	if (p->backoff_s > BACKOFF_MAX_S)
		p->backoff_s = BACKOFF_MAX_S;
}

static void handle_lost(struct mqtt_publisher *p, double now_s, const char *cause)
{
	pthread_mutex_lock(&p->lock);
	outbox_requeue_inflight(&p->ob);
	size_t held = p->ob.count;
	pthread_mutex_unlock(&p->lock);
	complain(&p->link_complaint, now_s, LOG_LEVEL_WARN,
		 "mqtt: connection to %s lost (%s); holding %zu messages (at most %zu) until it is "
		 "back",
		 p->shown_uri, cause, held, p->ob.capacity);
	p->backoff_s = BACKOFF_MIN_S;
	link_down(p, now_s);
}

static void start_connect(struct mqtt_publisher *p, double now_s)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	co.keepAliveInterval = p->keepalive_s;
	co.cleansession = 1; /* events wait in our outbox, not in a broker session */
	co.maxInflight = PAHO_MAX_INFLIGHT;
	co.connectTimeout = CONNECT_TIMEOUT_S;
	co.MQTTVersion = MQTTVERSION_3_1_1;
	co.automaticReconnect = 0;
	co.username = p->username;
	co.password = p->password;
	co.onSuccess = on_connect_success;
	co.onFailure = on_connect_failure;
	co.context = p;
	will.topicName = p->status_topic;
	will.message = "offline";
	will.retained = 1;
	will.qos = 1;
	co.will = &will;
	if (p->tls) {
		ssl.trustStore = p->ca_file;
		ssl.keyStore = p->cert_file;
		ssl.privateKey = p->key_file;
		ssl.enableServerCertAuth = p->verify_server;
		ssl.verify = p->verify_server;
		ssl.ssl_error_cb = on_tls_error;
		ssl.ssl_error_context = p;
		co.ssl = &ssl;
	}
	pthread_mutex_lock(&p->lock);
	p->ev_connected = p->ev_connect_failed = p->ev_lost = false;
	p->tls_error[0] = '\0';
	pthread_mutex_unlock(&p->lock);
	int rc = MQTTAsync_connect(p->client, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		complain(&p->link_complaint, now_s, LOG_LEVEL_WARN,
			 "mqtt: cannot connect to %s: %s; retrying in about %.0f s", p->shown_uri,
			 MQTTAsync_strerror(rc), p->backoff_s);
		p->connect_failures++;
		link_down(p, now_s);
		return;
	}
	p->state = LINK_CONNECTING;
}

/* Publishes a message that the outbox does not track (status, discovery). */
static int send_untracked(struct mqtt_publisher *p, const char *topic, const char *payload, int qos,
			  bool retained)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	msg.payload = (void *)(uintptr_t)payload;
	msg.payloadlen = (int)strlen(payload);
	msg.qos = qos;
	msg.retained = retained;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	return MQTTAsync_sendMessage(p->client, topic, &msg, &ro);
}

static void handle_connected(struct mqtt_publisher *p, double now_s)
{
	p->state = LINK_UP;
	p->backoff_s = BACKOFF_MIN_S;
	pthread_mutex_lock(&p->lock);
	p->epoch++;
	if (p->ever_connected)
		requeue_states(p);
	size_t held = p->ob.count;
	/* A later outage that fills the outbox again deserves a fresh first message. */
	complaint_cleared(&p->drop_complaint, NULL);
	complaint_cleared(&p->event_drop_complaint, NULL);
	pthread_mutex_unlock(&p->lock);
	if (p->ever_connected)
		p->reconnects++;
	uint64_t failures = 0;
	if (complaint_cleared(&p->link_complaint, &failures))
		log_info("mqtt: connected to %s again after %llu failure(s); sending %zu held "
			 "messages",
			 p->shown_uri, (unsigned long long)failures, held);
	else if (!p->ever_connected)
		log_info("mqtt: connected to %s as '%s'", p->shown_uri, p->client_id);
	p->ever_connected = true;
	/* Every connection, not once: an unchecked broker must not be forgotten in the logs. */
	if (p->tls && !p->verify_server)
		log_warn("mqtt: connected to %s without checking its certificate or host name "
			 "(mqtt.verify_server: false): anyone on the path can pose as the broker; "
			 "set mqtt.ca_file to its CA and remove mqtt.verify_server",
			 p->shown_uri);
	int rc = send_untracked(p, p->status_topic, "online", 1, true);
	if (rc != MQTTASYNC_SUCCESS)
		complain(&p->send_complaint, now_s, LOG_LEVEL_WARN,
			 "mqtt: cannot publish online on %s: %s", p->status_topic,
			 MQTTAsync_strerror(rc));
	if (p->ha_discovery) {
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		rc = MQTTAsync_subscribe(p->client, p->ha_status_topic, 1, &ro);
		if (rc != MQTTASYNC_SUCCESS)
			log_warn("mqtt: cannot subscribe to %s (Home Assistant restarts will not "
				 "re-announce): %s",
				 p->ha_status_topic, MQTTAsync_strerror(rc));
		p->announce_pending = true;
		p->announce_next = 0;
		/* A new connection has no subscriptions (clean session): the broker sends the
		 * retained configs, among them any a restart or a lost clear left behind. */
		p->configs_subscribe_pending = true;
	}
}

/* Subscribes to every retained config of this node; the broker sends them all back (also to a
 * subscription it already has: MQTT 3.1.1, 3.8.4). */
static void subscribe_configs(struct mqtt_publisher *p, double now_s)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc = MQTTAsync_subscribe(p->client, p->ha_config_filter, 1, &ro);
	if (rc == MQTTASYNC_MAX_MESSAGES_INFLIGHT)
		return; /* next poll */
	p->configs_subscribe_pending = false;
	if (rc != MQTTASYNC_SUCCESS)
		complain(&p->send_complaint, now_s, LOG_LEVEL_WARN,
			 "mqtt: cannot subscribe to %s (Home Assistant may keep entities of "
			 "monitors removed from the config): %s",
			 p->ha_config_filter, MQTTAsync_strerror(rc));
}

/* Clears (empty retained payload) every retained config seen of a monitor that is no longer
 * configured: removed by a reload, or while the daemon was stopped, or whose clear a lost
 * connection swallowed. Home Assistant then forgets its entities. */
static void sweep_configs(struct mqtt_publisher *p, double now_s)
{
	pthread_mutex_lock(&p->lock);
	char **seen = p->seen_configs;
	size_t n_seen = p->n_seen_configs;
	bool overflowed = p->seen_overflowed;
	p->seen_configs = NULL;
	p->n_seen_configs = 0;
	p->seen_overflowed = false;
	pthread_mutex_unlock(&p->lock);
	if (!n_seen && !overflowed)
		return;
	struct ha_discovery_params hp = { .ha_prefix = p->ha_prefix, .client_id = p->client_id };
	size_t cleared = 0;
	bool unsent = false; /* Paho's in-flight limit stopped the clears */
	for (size_t i = 0; i < n_seen; i++) {
		char monitor[TOPIC_MAX];
		if (!ha_discovery_monitor_of(&hp, seen[i], monitor, sizeof(monitor)) ||
		    in_list(p->monitors, p->n_monitors, monitor))
			continue;
		int rc = send_untracked(p, seen[i], "", 1, true);
		if (rc == MQTTASYNC_MAX_MESSAGES_INFLIGHT) {
			unsent = true;
			break;
		}
		if (rc != MQTTASYNC_SUCCESS) {
			/* The next connection's subscription brings it back. */
			complain(&p->send_complaint, now_s, LOG_LEVEL_WARN,
				 "mqtt: cannot clear discovery config %s: %s", seen[i],
				 MQTTAsync_strerror(rc));
			continue;
		}
		log_info("mqtt: cleared Home Assistant discovery config %s: monitor '%s' is no "
			 "longer configured",
			 seen[i], monitor);
		cleared++;
	}
	free_names(seen, n_seen);
	/* What was not cleared (the in-flight limit) or not kept (SEEN_CONFIGS_MAX) comes back
	 * with a new subscription: the broker sends every retained config again, and those
	 * cleared are gone from it. An overflow subscribes again only while sweeps clear some,
	 * or a node holding more configs than it keeps, none of them stale, would be subscribed
	 * to again and again. */
	if (unsent || (overflowed && cleared > 0))
		p->configs_subscribe_pending = true;
}

/* Sends discovery configs, resuming where Paho's in-flight limit stopped the last poll. */
static void announce(struct mqtt_publisher *p, double now_s)
{
	struct ha_discovery_params hp = { .ha_prefix = p->ha_prefix,
					  .topic_prefix = p->prefix,
					  .client_id = p->client_id,
					  .sw_version = AUSCULT_VERSION };
	char topic[TOPIC_MAX], payload[DISCOVERY_PAYLOAD_MAX];
	size_t total = p->n_monitors * HA_DISCOVERY_PER_MONITOR;
	while (p->announce_next < total) {
		size_t j = p->announce_next;
		const char *name = p->monitors[j / HA_DISCOVERY_PER_MONITOR];
		struct auscult_err err;
		int rc = ha_discovery_message(&hp, name, (int)(j % HA_DISCOVERY_PER_MONITOR), topic,
					      sizeof(topic), payload, sizeof(payload), &err);
		if (rc != AUSCULT_OK) {
			complain(&p->send_complaint, now_s, LOG_LEVEL_ERROR, "mqtt: %s", err.msg);
			p->announce_next++;
			continue;
		}
		rc = send_untracked(p, topic, payload, 1, true);
		if (rc == MQTTASYNC_MAX_MESSAGES_INFLIGHT)
			return; /* go on next poll */
		if (rc != MQTTASYNC_SUCCESS) {
			complain(&p->send_complaint, now_s, LOG_LEVEL_WARN,
				 "mqtt: cannot publish discovery config %s: %s", topic,
				 MQTTAsync_strerror(rc));
			return;
		}
		p->announce_next++;
	}
	p->announce_pending = false;
}

/* Hands queued outbox messages to Paho, in order, up to SEND_WINDOW unacknowledged. */
static void drain(struct mqtt_publisher *p, double now_s)
{
	for (;;) {
		pthread_mutex_lock(&p->lock);
		struct outbox_msg *m = p->ob.inflight < SEND_WINDOW ? outbox_next_queued(&p->ob)
								    : NULL;
		if (!m) {
			pthread_mutex_unlock(&p->lock);
			return;
		}
		/* Reserve it (inflight, no token yet) so enqueue on another thread cannot drop or
		 * replace it while Paho copies it outside the lock. */
		outbox_mark_inflight(&p->ob, m, 0, UINT32_MAX);
		uint32_t epoch = p->epoch;
		pthread_mutex_unlock(&p->lock);

		MQTTAsync_message msg = MQTTAsync_message_initializer;
		msg.payload = m->payload;
		msg.payloadlen = (int)m->payload_len;
		msg.qos = qos_of(p, m->cls);
		msg.retained = m->cls == MESSAGE_STATE;
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		ro.onSuccess = on_send_success;
		ro.onFailure = on_send_failure;
		ro.context = p;
		int rc = MQTTAsync_sendMessage(p->client, m->topic, &msg, &ro);

		if (rc != MQTTASYNC_SUCCESS && rc != MQTTASYNC_MAX_MESSAGES_INFLIGHT &&
		    rc != MQTTASYNC_DISCONNECTED)
			complain(&p->send_complaint, now_s, LOG_LEVEL_WARN,
				 "mqtt: cannot publish on %s: %s; will retry", m->topic,
				 MQTTAsync_strerror(rc));
		pthread_mutex_lock(&p->lock);
		if (rc == MQTTASYNC_SUCCESS)
			outbox_mark_inflight(&p->ob, m, ro.token, epoch);
		else
			outbox_nack(&p->ob, 0, UINT32_MAX); /* m may be dropped from here on */
		pthread_mutex_unlock(&p->lock);
		if (rc == MQTTASYNC_SUCCESS)
			continue;
		if (rc == MQTTASYNC_MAX_MESSAGES_INFLIGHT)
			return;
		if (rc == MQTTASYNC_DISCONNECTED) {
			/* Paho saw the link go before telling us; treat it as lost now. */
			pthread_mutex_lock(&p->lock);
			p->epoch++;
			p->ev_lost = false;
			pthread_mutex_unlock(&p->lock);
			handle_lost(p, now_s, "disconnected while sending");
			return;
		}
		return;
	}
}

static void connect_failed(struct mqtt_publisher *p, const char *why, double now_s)
{
	complain(&p->link_complaint, now_s, LOG_LEVEL_WARN,
		 "mqtt: cannot connect to %s: %s; retrying in about %.0f s", p->shown_uri, why,
		 p->backoff_s);
	p->connect_failures++;
	link_down(p, now_s);
}

/* Paho says "TCP/TLS connect failure" for every fault below MQTT (and names none that OpenSSL
 * finds after the handshake): the probe finds out which. Returns true when it was started. */
static bool start_probe(struct mqtt_publisher *p, int code, const char *paho_msg, double now_s)
{
	if (connack_text(code))
		return false; /* the broker answered, and said why */
	struct broker_probe_target t = { .host = p->host,
					 .port = p->port,
					 .tls = p->tls,
					 .verify_server = p->verify_server,
					 .ca_file = p->ca_file,
					 .cert_file = p->cert_file,
					 .key_file = p->key_file };
	if (broker_probe_start(&p->probe, &t, PROBE_STEP_S, NULL) != AUSCULT_OK)
		return false;
	snprintf(p->probe_fallback, sizeof(p->probe_fallback), "%s", paho_msg);
	p->probe_deadline_s = now_s + PROBE_WAIT_S;
	p->state = LINK_PROBING;
	return true;
}

static void check_probe(struct mqtt_publisher *p, double now_s)
{
	char found[400];
	bool done = broker_probe_result(p->probe, found, sizeof(found));
	if (!done && now_s < p->probe_deadline_s)
		return;
	broker_probe_release(p->probe);
	p->probe = NULL;
	connect_failed(p, done && found[0] ? found : p->probe_fallback, now_s);
}

void mqtt_publisher_poll(struct mqtt_publisher *p)
{
	if (!p || p->state == LINK_CLOSED)
		return;
	double now_s = clock_mono_s();
	struct completion done[COMPLETIONS_MAX];
	pthread_mutex_lock(&p->lock);
	bool connected = p->ev_connected, failed = p->ev_connect_failed, lost = p->ev_lost;
	bool ha_online = p->ev_ha_online;
	p->ev_connected = p->ev_connect_failed = p->ev_lost = p->ev_ha_online = false;
	char fail_msg[sizeof(p->connect_fail_msg)], cause[sizeof(p->lost_cause)];
	memcpy(fail_msg, p->connect_fail_msg, sizeof(fail_msg));
	int fail_code = p->connect_fail_code;
	memcpy(cause, p->lost_cause, sizeof(cause));
	size_t n_done = p->n_completions;
	memcpy(done, p->completions, n_done * sizeof(done[0]));
	p->n_completions = 0;
	bool overflowed = p->completions_overflowed;
	p->completions_overflowed = false;
	/* Acknowledgements first: they may belong to the connection that was just lost. */
	for (size_t i = 0; i < n_done; i++) {
		if (done[i].ok) {
			uint64_t sid = 0;
			if (outbox_ack(&p->ob, done[i].token, done[i].epoch, NULL, &sid)) {
				p->sent++;
				struct auscult_err err;
				if (sid && spool_done(p->spool, sid, &err) != AUSCULT_OK)
					complain(&p->spool_complaint, now_s, LOG_LEVEL_WARN,
						 "mqtt: %s", err.msg);
			}
		} else {
			outbox_nack(&p->ob, done[i].token, done[i].epoch);
		}
	}
	if (overflowed)
		outbox_requeue_inflight(&p->ob); /* results were lost: resend, at least once */
	refill_from_spool(p);
	pthread_mutex_unlock(&p->lock);

	if (p->state == LINK_CONNECTING && failed && !start_probe(p, fail_code, fail_msg, now_s))
		connect_failed(p, fail_msg, now_s);
	else if (p->state == LINK_CONNECTING && connected) {
		handle_connected(p, now_s);
	}
	if (p->state == LINK_PROBING)
		check_probe(p, now_s);
	if (p->state == LINK_UP && lost)
		handle_lost(p, now_s, cause);
	if (p->state == LINK_UP && ha_online && p->ha_discovery) {
		log_info("mqtt: Home Assistant is online; announcing %zu monitor(s)",
			 p->n_monitors);
		p->announce_pending = true;
		p->announce_next = 0;
	}
	if (p->state == LINK_DOWN && now_s >= p->next_attempt_s)
		start_connect(p, now_s);
	if (p->state == LINK_UP) {
		if (p->announce_pending)
			announce(p, now_s);
		if (p->configs_subscribe_pending && p->ha_config_filter)
			subscribe_configs(p, now_s);
		sweep_configs(p, now_s);
		drain(p, now_s);
	}
}

void mqtt_publisher_release_spool(struct mqtt_publisher *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	spool_close(p->spool);
	p->spool = NULL;
	p->spilled_from = 0;
	p->spool_released = true;
	pthread_mutex_unlock(&p->lock);
}

bool mqtt_publisher_connected(const struct mqtt_publisher *p)
{
	return p && p->state == LINK_UP;
}

void mqtt_publisher_stats(const struct mqtt_publisher *p, struct mqtt_publisher_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	struct mqtt_publisher *mp = (struct mqtt_publisher *)(uintptr_t)p; /* the lock */
	pthread_mutex_lock(&mp->lock);
	out->sent = p->sent;
	out->dropped_scores = p->ob.dropped_scores;
	out->dropped_events = p->ob.dropped_events;
	out->queued = p->ob.count;
	out->queued_events = outbox_count_class(&mp->ob, MESSAGE_EVENT) +
			     spool_live_events_from(mp->spool, mp->spilled_from);
	out->spooled = spool_live(mp->spool);
	out->spool_dropped_events = spool_dropped_events(mp->spool);
	out->spool_on = mp->spool != NULL;
	pthread_mutex_unlock(&mp->lock);
	out->reconnects = p->reconnects;
	out->connect_failures = p->connect_failures;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void mqtt_publisher_shutdown(struct mqtt_publisher *p, int timeout_ms)
{
	if (!p || p->state == LINK_CLOSED)
		return;
	double deadline_s = clock_mono_s() + (timeout_ms > 0 ? timeout_ms : 0) / 1000.0;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t pending = outbox_count_class(&p->ob, MESSAGE_EVENT) +
				 outbox_count_class(&p->ob, MESSAGE_STATE) + (p->spilled_from != 0);
		pthread_mutex_unlock(&p->lock);
		if (pending == 0 || clock_mono_s() >= deadline_s)
			break;
		mqtt_publisher_poll(p);
		sleep_ms(10);
	}
	pthread_mutex_lock(&p->lock);
	size_t events_left = outbox_count_class(&p->ob, MESSAGE_EVENT) +
			     spool_live_events_from(p->spool, p->spilled_from);
	size_t in_memory = outbox_count_unspooled(&p->ob, MESSAGE_EVENT);
	pthread_mutex_unlock(&p->lock);
	/* Events the spool could not take (disk full, unwritable) are held in memory only. */
	if (events_left > 0 && p->spool_released)
		log_info("mqtt: %zu event(s) not yet delivered to %s go on with the new connection's "
			 "spool",
			 events_left, p->shown_uri);
	else if (events_left > 0 && p->spool && in_memory > 0)
		log_warn("mqtt: shutting down with %zu event(s) not delivered to %s; %zu stay in the "
			 "spool and are sent at the next start, %zu the spool could not take are "
			 "lost",
			 events_left, p->shown_uri, events_left - in_memory, in_memory);
	else if (events_left > 0 && p->spool)
		log_warn("mqtt: shutting down with %zu event(s) not delivered to %s; they stay in "
			 "the spool and are sent at the next start",
			 events_left, p->shown_uri);
	else if (events_left > 0)
		log_warn("mqtt: shutting down with %zu event(s) not delivered to %s", events_left,
			 p->shown_uri);
	if (p->state == LINK_UP) {
		MQTTAsync_message msg = MQTTAsync_message_initializer;
		msg.payload = (void *)(uintptr_t) "offline";
		msg.payloadlen = 7;
		msg.qos = 1;
		msg.retained = 1;
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		int rc = MQTTAsync_sendMessage(p->client, p->status_topic, &msg, &ro);
		/* Wait (bounded) for the broker to take it: a disconnect would discard it. */
		if (rc == MQTTASYNC_SUCCESS)
			rc = MQTTAsync_waitForCompletion(p->client, ro.token, 2000);
		if (rc != MQTTASYNC_SUCCESS)
			log_warn("mqtt: cannot publish offline on %s: %s", p->status_topic,
				 MQTTAsync_strerror(rc));
		MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
		dopt.timeout = 1000;
		dopt.onSuccess = on_disconnected;
		dopt.onFailure = on_disconnect_failed;
		dopt.context = p;
		pthread_mutex_lock(&p->lock);
		p->ev_disconnected = false;
		pthread_mutex_unlock(&p->lock);
		if (MQTTAsync_disconnect(p->client, &dopt) == MQTTASYNC_SUCCESS) {
			for (int i = 0; i < 300; i++) { /* at most 3 s */
				pthread_mutex_lock(&p->lock);
				bool done = p->ev_disconnected;
				pthread_mutex_unlock(&p->lock);
				if (done)
					break;
				sleep_ms(10);
			}
		}
		log_info("mqtt: disconnected from %s", p->shown_uri);
	}
	p->state = LINK_CLOSED;
}
