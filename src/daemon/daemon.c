/* daemon.c - the main thread: drains monitor messages into MQTT, signals, reload, sd_notify. */
#include "daemon/daemon.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "config/daemon_config.h"
#include "daemon/config_check.h"
#include "daemon/message_queue.h"
#include "daemon/monitor.h"
#include "daemon/sd_notify.h"
#include "evidence/evidence_writer.h"
#include "model/autoencoder.h"
#include "model/shared_model.h"
#include "publish/mqtt_publisher.h"

/* The main loop sleeps until a monitor queues a message, a signal, or the next deadline: the
 * status line each second, the watchdog, and while the MQTT link is busy (connecting,
 * unacknowledged messages, just (re)configured) a poll every BUSY_POLL_MS. */
#define BUSY_POLL_MS 100
#define STATUS_EVERY_S 1.0
#define BUSY_AFTER_CHANGE_S 5.0 /* discovery may go out over several polls after a (re)connect */
#define QUEUE_PER_MONITOR 256
#define STOP_WAIT_MS 600       /* for all monitor threads together, stopping at once */
#define SHUTDOWN_FLUSH_MS 1000 /* SIGTERM: leave within 2 s all told */
#define END_FLUSH_MS 5000      /* inputs ended, events delivered: the last states */

/* Signal handlers only set these; the main loop acts. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* Blocks the signals the handlers catch, in the calling thread and every thread it starts, so
 * that they arrive only inside the main loop's pselect (which unblocks them atomically). */
static int block_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	return pthread_sigmask(SIG_BLOCK, &set, old);
}

static int install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -1;
	sa.sa_handler = on_reload;
	if (sigaction(SIGHUP, &sa, NULL))
		return -1;
	/* A broken pipe (a closed TLS socket) must be an error code, not death. */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

static void print_fault(void *ctx, const struct auscult_err *fault)
{
	fprintf(ctx, "%s\n", fault->msg);
}

int daemon_check_config(const char *path, FILE *out, FILE *err_out)
{
	struct daemon_config cfg;
	struct auscult_err err;
	memset(&cfg, 0, sizeof(cfg));
	if (daemon_config_load(&cfg, path, &err) != AUSCULT_OK) {
		fprintf(err_out, "%s\n", err.msg);
		return 1;
	}
	/* Every monitor's fault at once: an admin fixes them in one pass, not one per run. */
	size_t faults = config_check_all(&cfg, print_fault, err_out);
	if (faults > 0) {
		if (faults > 1)
			fprintf(err_out, "%s: %zu faults, each on a line above\n", path, faults);
		daemon_config_free(&cfg);
		return 1;
	}
	fprintf(out, "%s: OK (%zu monitor%s:", path, cfg.n_monitors,
		cfg.n_monitors == 1 ? "" : "s");
	for (size_t i = 0; i < cfg.n_monitors; i++)
		fprintf(out, " %s", cfg.monitors[i].name);
	fprintf(out, ")\n");
	daemon_config_free(&cfg);
	return 0;
}

/* Everything that a reload replaces. */
struct daemon_state {
	struct daemon_config cfg;
	struct mqtt_publisher *pub;
	struct monitor **monitors;
	size_t n_monitors;
	struct message_queue q;
	struct evidence_writer *evidence; /* NULL: evidence.enabled false (or it failed to start) */
	/* A monitor thread was left behind by the last stop (stuck in a read, or finishing a
	 * learning run): it may still use or attach to the evidence writer, which is then given
	 * up rather than freed. */
	bool left_behind;
	/* The newest window time of any monitor on stream time this run (monitor_create): kept
	 * across reloads, so that event ids never repeat within a run. */
	_Atomic int64_t time_floor_ms;
	bool ready_sent;
	char last_status[512];
	/* What the last config_check_files_keep loaded, until start_monitors hands it over. */
	struct shared_model *checked[DAEMON_MONITORS_MAX];
};

static const char *class_topic(enum message_class cls)
{
	return cls == MESSAGE_SCORE ? "score" : cls == MESSAGE_STATE ? "state" : "event";
}

/* Whether two MQTT settings name the same spool folder. */
static bool same_spool(const struct mqtt_settings *a, const struct mqtt_settings *b)
{
	return a->spool_dir && b->spool_dir && strcmp(a->spool_dir, b->spool_dir) == 0;
}

/* Events in the outbox: an ended input waits for them, however long the broker is away. */
static size_t undelivered_events(const struct daemon_state *d)
{
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(d->pub, &st);
	return st.queued_events;
}

/* Moves every queued monitor message into the MQTT outbox. */
static void drain(struct daemon_state *d)
{
	struct daemon_message msg;
	char suffix[MESSAGE_MONITOR_MAX + 16];
	while (message_queue_pop(&d->q, &msg)) {
		snprintf(suffix, sizeof(suffix), "%s/%s", msg.monitor,
			 msg.leaf[0] ? msg.leaf : class_topic(msg.cls));
		mqtt_publisher_enqueue(d->pub, suffix, msg.payload, msg.cls);
	}
}

/* Publishes the newest evidence picture of each monitor, retained (binary, memory only). */
static void publish_images(struct daemon_state *d)
{
	char monitor[MESSAGE_MONITOR_MAX], suffix[MESSAGE_MONITOR_MAX + 32];
	unsigned char *png;
	size_t len;
	while (d->evidence &&
	       evidence_writer_take_image(d->evidence, monitor, sizeof(monitor), &png, &len)) {
		snprintf(suffix, sizeof(suffix), "%s/evidence/image", monitor);
		mqtt_publisher_enqueue_bytes(d->pub, suffix, png, len, MESSAGE_STATE, false);
		free(png);
	}
}

static void stop_monitors(struct daemon_state *d)
{
	for (size_t i = 0; i < d->n_monitors; i++)
		monitor_request_stop(d->monitors[i]);
	/* One deadline for all: 64 threads stuck in dead audio devices, waited for one after the
	 * other, would hold a reload or SIGTERM for 38 s, past the unit's WatchdogSec. */
	double until_s = clock_mono_s() + STOP_WAIT_MS / 1000.0;
	for (size_t i = 0; i < d->n_monitors; i++) {
		double left_ms = (until_s - clock_mono_s()) * 1000.0;
		if (!monitor_destroy(d->monitors[i], left_ms > 0.0 ? (int)left_ms : 0))
			d->left_behind = true;
	}
	free(d->monitors);
	d->monitors = NULL;
	d->n_monitors = 0;
}

/* Stops the evidence writer; frees it unless a monitor thread left behind may still use it. */
static void end_evidence(struct daemon_state *d)
{
	if (d->left_behind)
		evidence_writer_abandon(d->evidence);
	else
		evidence_writer_destroy(d->evidence);
	d->evidence = NULL;
	d->left_behind = false;
}

/* Replaces the evidence writer by one for cfg (the monitors are stopped: none is attached).
 * A writer that cannot start is logged; the monitors run without evidence. */
static void restart_evidence(struct daemon_state *d, const struct daemon_config *cfg)
{
	end_evidence(d);
	if (!cfg->evidence.enabled)
		return;
	struct auscult_err err;
	if (evidence_writer_create(&d->evidence, &cfg->evidence, &err) != AUSCULT_OK)
		log_error("%s; the monitors run without evidence", err.msg);
	else
		log_info("evidence: %s/<monitor>/ (%.0f s before, %.0f s after, at most %.0f s)",
			 cfg->evidence.dir, cfg->evidence.pre_roll_s, cfg->evidence.post_roll_s,
			 cfg->evidence.max_s);
}

/* Starts one monitor per entry of cfg, on the models the check just before loaded (d->checked,
 * one copy per file, handed over here); on failure stops those started and returns non-zero. */
static int start_monitors(struct daemon_state *d, const struct daemon_config *cfg,
			  struct auscult_err *err)
{
	int rc = AUSCULT_OK;
	d->monitors = calloc(cfg->n_monitors, sizeof(*d->monitors));
	if (!d->monitors)
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory for %zu monitors",
				  cfg->n_monitors);
	for (size_t i = 0; i < cfg->n_monitors && rc == AUSCULT_OK; i++) {
		struct shared_model *sm = d->checked[i];
		size_t users = 0;
		bool first = true; /* the first monitor on this model says it once */
		for (size_t j = 0; sm && j < cfg->n_monitors; j++) {
			if (d->checked[j] != sm)
				continue;
			users++;
			first = first && j >= i;
		}
		if (sm && first)
			log_info("model %s: loaded once for %zu monitor(s)", shared_model_path(sm),
				 users);
		rc = monitor_create(&d->monitors[i], &cfg->monitors[i], sm, &d->q, d->evidence,
				    &d->time_floor_ms, err);
		if (rc == AUSCULT_OK)
			d->n_monitors = i + 1;
	}
	/* The monitors hold references of their own. */
	config_check_release(d->checked, DAEMON_MONITORS_MAX);
	if (rc != AUSCULT_OK)
		stop_monitors(d);
	return rc;
}

static int announce_monitors(struct daemon_state *d, const struct daemon_config *cfg,
			     struct auscult_err *err)
{
	const char **list = calloc(cfg->n_monitors, sizeof(*list));
	if (!list)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < cfg->n_monitors; i++)
		list[i] = cfg->monitors[i].name;
	int rc = mqtt_publisher_set_monitors(d->pub, list, cfg->n_monitors, err);
	free(list);
	return rc;
}

/* SIGHUP: a fresh config replaces the running one only when all of it is valid and starts. */
static void reload(struct daemon_state *d, const char *path)
{
	struct daemon_config fresh;
	struct auscult_err err;
	memset(&fresh, 0, sizeof(fresh));
	log_info("reload: reading %s", path);
	if (daemon_config_load(&fresh, path, &err) != AUSCULT_OK) {
		log_error("reload: %s; keeping the running configuration", err.msg);
		return;
	}
	if (config_check_files_keep(&fresh, d->checked, &err) != AUSCULT_OK) {
		log_error("reload: %s; keeping the running configuration", err.msg);
		daemon_config_free(&fresh);
		return;
	}
	struct mqtt_publisher *new_pub = NULL;
	bool new_link = !mqtt_settings_equal(&d->cfg.mqtt, &fresh.mqtt);
	if (new_link && mqtt_publisher_create(&new_pub, &fresh.mqtt, &err) != AUSCULT_OK) {
		log_error("reload: %s; keeping the running configuration", err.msg);
		config_check_release(d->checked, DAEMON_MONITORS_MAX);
		daemon_config_free(&fresh);
		return;
	}
	stop_monitors(d);
	if (new_link) {
		/* The new link opened the same spool file and holds what it holds: the old one must
		 * not write it any more (acknowledgements compact it, which would put its own copy
		 * of the file back over the new link's). */
		if (same_spool(&d->cfg.mqtt, &fresh.mqtt))
			mqtt_publisher_release_spool(d->pub);
		/* The old link delivers what it holds (briefly), then says offline. */
		mqtt_publisher_shutdown(d->pub, SHUTDOWN_FLUSH_MS);
		mqtt_publisher_destroy(d->pub);
		d->pub = new_pub;
	}
	/* After the swap: the new link already took over the spool file (and replays what the old
	 * one held), so the monitors' last messages must be spooled by it. */
	drain(d);
	/* The queue was sized for the monitors of the first config. */
	if (message_queue_grow(&d->q, QUEUE_PER_MONITOR * fresh.n_monitors, &err) != AUSCULT_OK)
		log_warn("reload: %s; the %zu monitors share the queue of %zu messages", err.msg,
			 fresh.n_monitors, d->q.capacity);
	restart_evidence(d, &fresh);
	if (start_monitors(d, &fresh, &err) != AUSCULT_OK) {
		log_error("reload: %s; going back to the running configuration", err.msg);
		daemon_config_free(&fresh);
		restart_evidence(d, &d->cfg);
		struct auscult_err err2;
		if (config_check_files_keep(&d->cfg, d->checked, &err2) != AUSCULT_OK ||
		    start_monitors(d, &d->cfg, &err2) != AUSCULT_OK)
			log_error("reload: cannot restart the previous monitors either: %s",
				  err2.msg);
		/* A new link (changed MQTT settings) knows no monitor yet: without them its
		 * discovery sweep would clear the entities of those still running. */
		if (announce_monitors(d, &d->cfg, &err2) != AUSCULT_OK)
			log_error("reload: Home Assistant discovery: %s", err2.msg);
		return;
	}
	daemon_config_free(&d->cfg);
	d->cfg = fresh;
	log_set_level(d->cfg.log_level);
	if (announce_monitors(d, &d->cfg, &err) != AUSCULT_OK)
		log_error("reload: Home Assistant discovery: %s", err.msg);
	log_info("reload: %s applied (%zu monitor%s)", path, d->n_monitors,
		 d->n_monitors == 1 ? "" : "s");
}

/* The systemd status line, e.g. "2 monitors: pump1 normal 0.83x, pump2 idle; mqtt connected". */
static void status_line(struct daemon_state *d, char *buf, size_t cap, bool *any_flowing,
			bool *all_ended)
{
	size_t n = (size_t)snprintf(buf, cap, "%zu monitor%s:", d->n_monitors,
				    d->n_monitors == 1 ? "" : "s");
	*any_flowing = false;
	*all_ended = d->n_monitors > 0;
	for (size_t i = 0; i < d->n_monitors && n < cap; i++) {
		struct monitor_status st;
		monitor_get_status(d->monitors[i], &st);
		*any_flowing |= st.audio_flowing;
		*all_ended &= st.ended;
		n += (size_t)snprintf(buf + n, cap - n, "%s %s %s", i ? "," : "",
				      monitor_name(d->monitors[i]), detector_state_name(st.state));
		if (n < cap && (st.state == DETECTOR_NORMAL || st.state == DETECTOR_ANOMALY) &&
		    isfinite(st.smoothed) && st.threshold > 0)
			n += (size_t)snprintf(buf + n, cap - n, " %.2fx",
					      (double)(st.smoothed / st.threshold));
		if (n < cap && st.ended)
			n += (size_t)snprintf(buf + n, cap - n, " (ended)");
	}
	if (n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "; mqtt %s",
				      mqtt_publisher_connected(d->pub) ? "connected"
								       : "disconnected");
	struct mqtt_publisher_stats st;
	mqtt_publisher_stats(d->pub, &st);
	if (n < cap && st.spool_on)
		n += (size_t)snprintf(buf + n, cap - n, "; spool %zu held, %llu events dropped",
				      st.spooled, (unsigned long long)st.spool_dropped_events);
	if (n < cap && d->evidence) {
		struct evidence_writer_status es;
		evidence_writer_get_status(d->evidence, &es);
		if (es.errors > 0)
			snprintf(buf + n, cap - n, "; evidence: %llu error%s, last: %s",
				 (unsigned long long)es.errors, es.errors == 1 ? "" : "s",
				 es.last_error);
	}
}

int daemon_run(const char *config_path)
{
	struct daemon_state d;
	struct auscult_err err;
	int exit_code = 1;
	memset(&d, 0, sizeof(d));
	atomic_init(&d.time_floor_ms, 0);

	/* First: a SIGHUP (logrotate, `systemctl reload`) that lands while the models load would
	 * otherwise end the process, silently, by its default action. Held until the main loop
	 * waits, then acted on. */
	sigset_t wait_mask; /* the mask as it was: what pselect waits with */
	if (install_signals() != 0 || block_signals(&wait_mask) != 0) {
		log_error("cannot install signal handlers");
		return 1;
	}
	if (daemon_config_load(&d.cfg, config_path, &err) != AUSCULT_OK) {
		log_error("%s", err.msg);
		return 1;
	}
	if (config_check_files_keep(&d.cfg, d.checked, &err) != AUSCULT_OK) {
		log_error("%s", err.msg);
		daemon_config_free(&d.cfg);
		return 1;
	}
	log_set_level(d.cfg.log_level);
	autoencoder_set_blas_threads(1);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGHUP);
	if (message_queue_init(&d.q, QUEUE_PER_MONITOR * d.cfg.n_monitors, &err) != AUSCULT_OK ||
	    mqtt_publisher_create(&d.pub, &d.cfg.mqtt, &err) != AUSCULT_OK) {
		log_error("%s", err.msg);
		goto out;
	}
	if (announce_monitors(&d, &d.cfg, &err) != AUSCULT_OK)
		log_error("Home Assistant discovery: %s", err.msg);
	restart_evidence(&d, &d.cfg);
	if (start_monitors(&d, &d.cfg, &err) != AUSCULT_OK) {
		log_error("%s", err.msg);
		goto out;
	}
	log_info("auscultd %s running with %s (%zu monitor%s)", AUSCULT_VERSION, config_path,
		 d.n_monitors, d.n_monitors == 1 ? "" : "s");

	uint64_t wd_usec = sd_watchdog_usec();
	double wd_every_s = wd_usec ? (double)wd_usec / 2e6 : 0.0, wd_next_s = 0.0;
	double status_next_s = 0.0;
	double busy_until_s = clock_mono_s() + BUSY_AFTER_CHANGE_S;
	bool was_connected = false;
	bool inputs_ended = false;
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			char reloading[64];
			snprintf(reloading, sizeof(reloading), "RELOADING=1\nMONOTONIC_USEC=%.0f",
				 floor(clock_mono_s() * 1e6));
			sd_notify_send(reloading);
			reload(&d, config_path);
			/* systemd holds the unit in "reloading" until READY=1, whether the file was
			 * applied or refused: send it once audio flows, at once if it still does. */
			d.ready_sent = false;
			status_next_s = 0.0;
			busy_until_s = clock_mono_s() + BUSY_AFTER_CHANGE_S;
		}
		message_queue_clear_wake(&d.q);
		drain(&d);
		publish_images(&d);
		mqtt_publisher_poll(d.pub);

		double now = clock_mono_s();
		bool connected = mqtt_publisher_connected(d.pub);
		if (connected != was_connected) {
			was_connected = connected;
			busy_until_s = now + BUSY_AFTER_CHANGE_S;
		}
		if (now >= status_next_s) {
			char line[512];
			bool flowing, ended;
			status_line(&d, line, sizeof(line), &flowing, &ended);
			if (flowing && !d.ready_sent) {
				sd_notify_send("READY=1");
				d.ready_sent = true;
			}
			if (strcmp(line, d.last_status) != 0) {
				char msg[600];
				snprintf(msg, sizeof(msg), "STATUS=%s", line);
				sd_notify_send(msg);
				snprintf(d.last_status, sizeof(d.last_status), "%s", line);
			}
			status_next_s = now + STATUS_EVERY_S;
			if (ended && !inputs_ended) {
				inputs_ended = true;
				/* The last spans end with their inputs: their files (and pictures)
				 * are written before the daemon goes. */
				if (d.evidence && !evidence_writer_wait_idle(d.evidence, 5000))
					log_warn(
						"evidence: still writing after 5 s; exiting anyway");
				publish_images(&d);
				size_t left = undelivered_events(&d);
				if (left > 0)
					log_warn(
						"every input has ended; %zu event(s) still wait for the "
						"broker: exiting once they are delivered (SIGTERM gives up)",
						left);
			}
			if (inputs_ended && undelivered_events(&d) == 0)
				break;
		}
		if (wd_every_s > 0 && now >= wd_next_s) {
			sd_notify_send("WATCHDOG=1");
			wd_next_s = now + wd_every_s;
		}

		double wake_s = status_next_s;
		if (wd_every_s > 0 && wd_next_s < wake_s)
			wake_s = wd_next_s;
		bool busy = !connected || now < busy_until_s;
		if (!busy) {
			struct mqtt_publisher_stats st;
			mqtt_publisher_stats(d.pub, &st);
			/* acknowledgements to collect, or a send window to refill */
			busy = st.queued > 0;
		}
		if (busy && now + BUSY_POLL_MS / 1000.0 < wake_s)
			wake_s = now + BUSY_POLL_MS / 1000.0;
		double wait_s = wake_s - now;
		if (wait_s < 0)
			wait_s = 0;
		struct timespec ts = { (time_t)wait_s, (long)((wait_s - floor(wait_s)) * 1e9) };
		int wake_fd = message_queue_wake_fd(&d.q);
		fd_set readable;
		FD_ZERO(&readable);
		FD_SET(wake_fd, &readable);
		/* Signals are let in only here: a handler that ran makes pselect return EINTR. */
		if (pselect(wake_fd + 1, &readable, NULL, NULL, &ts, &wait_mask) < 0 &&
		    errno != EINTR) {
			log_debug("main loop: pselect: %s", strerror(errno));
			struct timespec nap = { 0, BUSY_POLL_MS * 1000000L };
			nanosleep(&nap, NULL); /* never spin */
		}
	}

	sd_notify_send("STOPPING=1");
	bool finished = inputs_ended && !stop_requested;
	if (finished)
		log_info("every input has ended and its events are delivered; exiting");
	else
		log_info("stopping");
	stop_monitors(&d);
	drain(&d);
	mqtt_publisher_shutdown(d.pub, finished ? END_FLUSH_MS : SHUTDOWN_FLUSH_MS);
	exit_code = 0;
out:
	config_check_release(d.checked, DAEMON_MONITORS_MAX);
	stop_monitors(&d);
	end_evidence(&d);
	mqtt_publisher_destroy(d.pub);
	message_queue_free(&d.q);
	daemon_config_free(&d.cfg);
	return exit_code;
}
