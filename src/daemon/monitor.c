/* monitor.c - the per-machine thread: its audio source's life cycle around the scoring pipeline. */
#include "daemon/monitor.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio_source.h"
#include "common/clock.h"
#include "common/complain.h"
#include "common/log.h"
#include "daemon/learn_mode.h"
#include "evidence/evidence_tap.h"
#include "evidence/evidence_writer.h"
#include "model/shared_model.h"
#include "pipeline/pipeline.h"
#include "publish/payloads.h"

/* 100 ms of audio per read at 16 kHz from an input that cannot say what it holds. */
#define READ_SAMPLES 1600
/* A paced file, a device or a pipe is read up to the next window in one go: one wake-up per
 * window hop. A device or a pipe delivers in pieces (a capture period, a writer's chunk), and
 * reading each as it came woke the monitor about 100 times a second; it now sleeps until the
 * window's audio should be in (audio_source_wait_s). */
#define READ_SAMPLES_MAX 8192
#define READ_TIMEOUT_MS 250
/* Audio must flow this long after a reopen before the source counts as back (see note_audio). */
#define MONITOR_RECOVERED_S 5.0
/* A learning run that failed (a full SD card, a folder gone) is tried again after this, doubling
 * to LEARN_RETRY_MAX_S: what it recorded stays, and the run resumes from it. */
#define LEARN_RETRY_MIN_S 5.0
#define LEARN_RETRY_MAX_S 3600.0

struct monitor {
	/* Settings (copied strings). */
	char *name;
	char *source_path;
	char *device_name;
	char *model_path;
	char *learn_dir; /* learning mode (record) */
	bool learning;   /* learning mode (record): no model yet; the thread learns it first */
	struct monitor_settings ms; /* its string fields point at the copies above */
	struct message_queue *q;
	struct evidence_writer *evidence; /* NULL: evidence off */
	struct evidence_tap *tap;         /* attached once the model is known; NULL: off */
	_Atomic int64_t *time_floor_ms; /* the run's stream-time floor (monitor_create); or NULL */

	/* Owned by the thread once it runs. */
	struct shared_model *model; /* a reference, shared with the monitors naming the file */
	struct pipeline *pl;
	uint32_t rate_hz;
	float *samples; /* READ_SAMPLES_MAX */
	float threshold;

	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	atomic_bool finished;
	pthread_mutex_t nap_lock; /* with nap_cond: a nap ends early when stop is requested */
	pthread_cond_t nap_cond;  /* on CLOCK_MONOTONIC */
	bool nap_ready;           /* both initialised */

	pthread_mutex_t status_lock; /* guards `status` (read by the main loop) */
	struct monitor_status status;

	/* Thread-local bookkeeping. */
	uint64_t stream_samples; /* since the source was (re)opened */
	bool stream_opened;      /* the source has been opened once */
	int64_t last_score_ms;
	bool have_scored;
};

static char *dup_or_null(const char *s, bool *fail)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

const char *monitor_name(const struct monitor *m)
{
	return m->name;
}

void monitor_get_status(struct monitor *m, struct monitor_status *out)
{
	pthread_mutex_lock(&m->status_lock);
	*out = m->status;
	pthread_mutex_unlock(&m->status_lock);
}

void monitor_request_stop(struct monitor *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	if (m->nap_ready) {
		/* Under the lock, so a thread between its stop check and its wait still hears it. */
		pthread_mutex_lock(&m->nap_lock);
		pthread_cond_broadcast(&m->nap_cond);
		pthread_mutex_unlock(&m->nap_lock);
	}
}

/* ---- messages -------------------------------------------------------------------------------- */

static void send_state(struct monitor *m, enum detector_state s)
{
	message_queue_push(m->q, MESSAGE_STATE, m->name, payload_state(s));
}

/* Why an anomaly ended, for the log. */
static const char *end_cause_phrase(enum detector_end_cause c)
{
	switch (c) {
	case DETECTOR_END_IDLE:
		return "the machine stopped";
	case DETECTOR_END_FAULT:
		return "the audio stopped";
	case DETECTOR_END_STOPPED:
		return "the monitor stopped listening";
	case DETECTOR_END_NORMAL:
	default:
		return "the sound back to normal";
	}
}

/* evidence_base: the capture's file base ("" or NULL: none), named by end events. */
static void send_event(struct monitor *m, const struct detector_event *ev,
		       const char *evidence_base)
{
	char buf[PAYLOAD_MAX_BYTES];
	char rel[MESSAGE_MONITOR_MAX + EVIDENCE_BASE_MAX];
	struct auscult_err err;
	rel[0] = '\0';
	if (evidence_base && evidence_base[0])
		snprintf(rel, sizeof(rel), "%s/%s", m->name, evidence_base);
	if (payload_event_evidence(buf, sizeof(buf), NULL, m->name, ev, rel, &err) != AUSCULT_OK) {
		log_error("%s: event payload: %s", m->name, err.msg);
		return;
	}
	message_queue_push(m->q, MESSAGE_EVENT, m->name, buf);
	/* The id, so the log can be matched with what a subscriber got (bench/soak_daemon.sh). */
	char id[MESSAGE_MONITOR_MAX + 24];
	payload_event_id(id, sizeof(id), m->name, ev->start_ms);
	if (ev->type == DETECTOR_EVENT_START)
		log_warn("%s: anomaly started (score %.3g, threshold %.3g; id %s)", m->name,
			 (double)ev->peak, (double)ev->threshold, id);
	else
		log_info("%s: anomaly ended after %.1f s, %s (peak %.3g, mean %.3g; id %s)",
			 m->name, ev->duration_s, end_cause_phrase(ev->ended_by), (double)ev->peak,
			 (double)ev->mean, id);
}

static void apply_output(struct monitor *m, const struct detector_output *o,
			 const char *evidence_base)
{
	/* The event first: a listener that sees `anomaly` can already look up the event. */
	if (o->has_event)
		send_event(m, &o->event, evidence_base);
	if (o->state_changed) {
		send_state(m, o->state);
		log_info("%s: %s -> %s", m->name, detector_state_name(o->previous),
			 detector_state_name(o->state));
	}
	pthread_mutex_lock(&m->status_lock);
	m->status.state = o->state;
	pthread_mutex_unlock(&m->status_lock);
}

/* A file read faster than real time has the times of its own audio, not the wall clock. */
static bool uses_stream_time(const struct monitor *m)
{
	return !m->ms.realtime && m->ms.source_kind != AUDIO_SOURCE_PORTAUDIO;
}

/* Now, on the clock the monitor's windows are stamped with: an anomaly cut short ends after its
 * last window, not (on stream time, ahead of the wall clock) before its start. */
static int64_t window_clock_ms(const struct monitor *m)
{
	int64_t wall_ms = clock_wall_ms();
	if (!uses_stream_time(m))
		return wall_ms;
	int64_t stream_ms = pipeline_stream_end_ms(m->pl);
	return stream_ms > wall_ms ? stream_ms : wall_ms;
}

/* An anomaly cut short (ended_by fault or stopped) keeps the audio up to its end. */
static void apply_cut(struct monitor *m, const struct detector_output *o)
{
	const char *base = m->tap && o->has_event ? evidence_tap_cut(m->tap, &o->event) : NULL;
	apply_output(m, o, base);
}

static void enter_fault(struct monitor *m)
{
	struct detector_output o;
	pipeline_set_fault(m->pl, window_clock_ms(m), &o);
	apply_cut(m, &o);
	pthread_mutex_lock(&m->status_lock);
	m->status.audio_flowing = false;
	pthread_mutex_unlock(&m->status_lock);
}

/* The monitor stops listening: an anomaly in progress ends (no start is left without its end)
 * and its state goes back to `starting`; any other state is left as it was published. */
static void stop_listening(struct monitor *m)
{
	if (!m->stream_opened)
		return;
	struct detector_output o;
	pipeline_stop(m->pl, window_clock_ms(m), &o);
	if (o.has_event)
		apply_cut(m, &o);
}

/* ---- the pipeline ---------------------------------------------------------------------------- */

/* One window out of the pipeline: state, event and score messages. */
static void on_window(void *ctx, const struct pipeline_window *w)
{
	struct monitor *m = ctx;
	const char *base = NULL;
	if (m->tap) {
		char id[MESSAGE_MONITOR_MAX + 32];
		if (w->det.has_event)
			payload_event_id(id, sizeof(id), m->name, w->det.event.start_ms);
		base = evidence_tap_window(m->tap, w, w->det.has_event ? id : NULL);
	}
	apply_output(m, &w->det, base);
	/* An idle machine (off, or settling after a start) has no score to publish. Stream time:
	 * the 1 ms slack absorbs rounding of window times to whole milliseconds. */
	double since_ms = (double)(w->time_ms - m->last_score_ms);
	/* Scores are paced on the windows' times (held windows come out in bursts). A time before
	 * the last score's is the wall clock set back (NTP on a Pi without a real-time clock): the
	 * pace starts again from it, or no score would go out for as long as the step. */
	if (since_ms < 0.0)
		m->have_scored = false;
	if (!w->idle && (!m->have_scored || since_ms >= m->ms.publish_interval_s * 1000.0 - 1.0)) {
		char buf[PAYLOAD_MAX_BYTES];
		/* The writer's health, read here on the monitor's thread: a short copy under the
		 * writer's lock (never held across disk I/O), once per published score, into the
		 * stack; the main loop only moves ready payloads. A monitor left behind at a
		 * reload keeps its writer allocated (evidence_writer_destroy). */
		struct evidence_writer_status es;
		struct payload_evidence pe = { .state = PAYLOAD_EVIDENCE_OFF };
		if (m->evidence) {
			evidence_writer_get_status(m->evidence, &es);
			pe.state = es.failing ? PAYLOAD_EVIDENCE_FAULT : PAYLOAD_EVIDENCE_OK;
			pe.fault = es.last_error;
			pe.errors = es.fault_errors;
			pe.since_ms = es.fault_since_ms;
		}
		if (payload_score(buf, sizeof(buf), NULL, w->time_ms, m->name, w->raw, w->smoothed,
				  m->threshold, w->det.state, &pe, NULL) == AUSCULT_OK)
			message_queue_push(m->q, MESSAGE_SCORE, m->name, buf);
		m->last_score_ms = w->time_ms;
		m->have_scored = true;
	}
	pthread_mutex_lock(&m->status_lock);
	m->status.smoothed = w->smoothed;
	m->status.windows++;
	pthread_mutex_unlock(&m->status_lock);
	if (m->time_floor_ms && uses_stream_time(m)) {
		int64_t floor_ms = atomic_load(m->time_floor_ms);
		/* Raised, never lowered: another monitor's stream may be further ahead. */
		while (floor_ms < w->time_ms &&
		       !atomic_compare_exchange_weak(m->time_floor_ms, &floor_ms, w->time_ms)) {
		}
	}
}

/* Forgets the audio so far: after a reopen or a loop the next samples are not contiguous. A
 * stream read faster than real time runs ahead of the wall clock: a loop or a reopen goes on
 * from where the last pass ended, or an anomaly spanning the loop would end before it started;
 * the first open goes on from where the run's streams had got to before a reload (the floor),
 * or a new anomaly could be stamped, and named, as one before the reload was. */
static void restart_stream(struct monitor *m)
{
	m->stream_samples = 0;
	if (m->tap)
		evidence_tap_restart(m->tap);
	int64_t base_ms = clock_wall_ms();
	if (uses_stream_time(m)) {
		int64_t ahead_ms = pipeline_stream_end_ms(m->pl);
		if (!m->stream_opened && m->time_floor_ms &&
		    atomic_load(m->time_floor_ms) > ahead_ms)
			ahead_ms = atomic_load(m->time_floor_ms);
		if (ahead_ms > base_ms)
			base_ms = ahead_ms;
	}
	m->stream_opened = true;
	pipeline_restart(m->pl, base_ms);
}

static void process_samples(struct monitor *m, const float *x, size_t n)
{
	m->stream_samples += n;
	if (m->tap) /* before the pipeline: a window's event may claim these samples */
		evidence_tap_push(m->tap, x, n);
	pipeline_push(m->pl, x, n, uses_stream_time(m) ? -1 : clock_wall_ms());
}

/* How many samples a paced read takes: those that bring in the vectors up to the next window. */
static size_t paced_read_samples(const struct monitor *m)
{
	size_t n = pipeline_samples_to_next_window(m->pl);
	return n > READ_SAMPLES_MAX ? READ_SAMPLES_MAX : n;
}

/* Sleeps until the CLOCK_MONOTONIC time deadline_ns, waking early when asked to stop. Returns
 * false when stopping. */
static bool nap_until(struct monitor *m, int64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000),
			       (long)(deadline_ns % 1000000000) };
	pthread_mutex_lock(&m->nap_lock);
	while (!atomic_load(&m->stop)) {
		int rc = pthread_cond_timedwait(&m->nap_cond, &m->nap_lock, &ts);
		if (rc == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&m->nap_lock);
	return !atomic_load(&m->stop);
}

/* Sleeps up to seconds, waking early when asked to stop. Returns false when stopping. */
static bool nap(struct monitor *m, double seconds)
{
	return nap_until(m, clock_mono_ns() + (int64_t)(seconds * 1e9));
}

/* For a device or a pipe: sleeps until the samples up to the next window should be in and
 * returns how many to read then; READ_SAMPLES for an input that cannot say what it holds.
 * *stopping is set when the monitor is asked to stop during the sleep. */
static size_t batched_read_samples(struct monitor *m, struct audio_source *src, bool *stopping)
{
	size_t want = paced_read_samples(m);
	double wait_s;
	*stopping = false;
	if (!audio_source_wait_s(src, want, &wait_s))
		return READ_SAMPLES;
	if (wait_s > 0.0)
		*stopping = !nap(m, wait_s);
	return want;
}

/* The monitor thread's account of its source's failures. */
struct monitor_run {
	struct complaint open_fail; /* the source cannot be opened */
	struct complaint stall;     /* it opened, then failed or stopped delivering */
	double backoff_s;           /* wait before the next reopen */
	double outage_since_s;      /* monotonic time the audio was lost; < 0: it flows */
	double flowing_since_s;     /* first audio since the last (re)open; < 0: none yet */
	bool recovered;             /* audio has flowed MONITOR_RECOVERED_S since the (re)open */
	struct complaint overrun;   /* the input dropped audio the monitor did not read in time */
	uint64_t overruns;          /* frames the input had dropped when last looked at */
};

/* A device's capture ring drops what the monitor does not read in time (a stall longer than the
 * ring's seconds). The samples after the gap do not follow those before it: the pipeline starts
 * its windows again, as after a reopen, instead of scoring a splice, and the loss is logged. */
static void check_overruns(struct monitor *m, struct audio_source *src, struct monitor_run *run)
{
	uint64_t now = audio_source_overruns(src);
	if (now == run->overruns)
		return;
	complain(&run->overrun, clock_mono_s(), LOG_LEVEL_WARN,
		 "%s: %s dropped %llu frames the monitor did not read in time (the machine was too "
		 "busy); scoring starts again after the gap",
		 m->name, audio_source_describe(src), (unsigned long long)(now - run->overruns));
	run->overruns = now;
	restart_stream(m);
}

/* The source delivered audio long enough to count as back: the back-off starts again from its
 * minimum and the recovery is logged. Not at the first samples, so that a device that opens and
 * fails at once (a wedged driver, a file PCM replaying stale data) keeps backing off and is not
 * logged as failing and recovering on every attempt. */
static void note_audio(struct monitor *m, struct audio_source *src, double now_s,
		       struct monitor_run *run)
{
	if (run->flowing_since_s < 0.0) {
		run->flowing_since_s = now_s;
		pthread_mutex_lock(&m->status_lock);
		m->status.audio_flowing = true;
		pthread_mutex_unlock(&m->status_lock);
	}
	if (run->recovered || now_s - run->flowing_since_s < MONITOR_RECOVERED_S)
		return;
	run->recovered = true;
	run->backoff_s = MONITOR_BACKOFF_MIN_S;
	bool was_failing = complaint_cleared(&run->open_fail, NULL);
	was_failing |= complaint_cleared(&run->stall, NULL);
	if (was_failing && run->outage_since_s >= 0.0)
		log_info("%s: audio flows again from %s (it was lost for %.0f s)", m->name,
			 audio_source_describe(src), run->flowing_since_s - run->outage_since_s);
	run->outage_since_s = -1.0;
}

/* Publishes `fault` once per outage and notes when the outage began. */
static void outage(struct monitor *m, struct monitor_run *run)
{
	if (run->outage_since_s < 0.0)
		run->outage_since_s = clock_mono_s();
	if (pipeline_state(m->pl) != DETECTOR_FAULT)
		enter_fault(m);
}

/* ---- learning mode (record): BEGIN ------------------------------------------------------- */

static int monitor_setup_model(struct monitor *m, struct auscult_err *err);

static void learn_send(void *ctx, bool state, const char *payload)
{
	struct monitor *m = ctx;
	if (state)
		message_queue_push(m->q, MESSAGE_STATE, m->name, payload);
	else
		message_queue_push_to(m->q, MESSAGE_SCORE, m->name, "learning", payload);
}

static bool learn_stopping(void *ctx)
{
	return atomic_load(&((struct monitor *)ctx)->stop);
}

static bool learn_nap(void *ctx, double seconds)
{
	return nap(ctx, seconds);
}

static void learn_flowing(void *ctx, bool flowing)
{
	struct monitor *m = ctx;
	pthread_mutex_lock(&m->status_lock);
	m->status.audio_flowing = flowing;
	pthread_mutex_unlock(&m->status_lock);
}

/* Records and trains the model (daemon/learn_mode.h), then sets the stages up from it as
 * monitor_create does. A run that fails is logged, publishes `fault` and is tried again with
 * back-off (a monitor that ended would let the daemon exit 0, and systemd's Restart=on-failure
 * would leave it down). Returns false only when the monitor is stopped. */
static bool learn_then_set_up(struct monitor *m)
{
	const struct learn_host host = { m, learn_send, learn_stopping, learn_nap, learn_flowing };
	double retry_s = LEARN_RETRY_MIN_S;
	for (;;) {
		struct auscult_err err;
		int rc = learn_mode_run(&m->ms, &host, &err);
		/* Stopped as it finished: a reload may have left this thread behind, and the
		 * evidence writer it would attach to is no longer its own. */
		if (rc == AUSCULT_OK && atomic_load(&m->stop))
			return false;
		if (rc == AUSCULT_OK)
			rc = monitor_setup_model(m, &err);
		if (rc == AUSCULT_OK) {
			m->learning = false;
			send_state(m, DETECTOR_STARTING);
			return true;
		}
		if (rc == AUSCULT_ERR_INTERRUPTED || atomic_load(&m->stop))
			return false;
		log_error("%s: learning: %s; trying again in %.0f s", m->name, err.msg, retry_s);
		send_state(m, DETECTOR_FAULT);
		if (!nap(m, retry_s))
			return false;
		retry_s = fmin(retry_s * 2.0, LEARN_RETRY_MAX_S);
	}
}

/* ---- learning mode (record): END --------------------------------------------------------- */

static void *monitor_thread(void *arg)
{
	struct monitor *m = arg;
	/* learning mode (record): the model first; the stages exist only once it does */
	if (m->learning && !learn_then_set_up(m)) {
		pthread_mutex_lock(&m->status_lock);
		m->status.ended = true;
		pthread_mutex_unlock(&m->status_lock);
		atomic_store(&m->finished, true);
		return NULL;
	}
	struct audio_source_config sc;
	monitor_settings_source_config(&m->ms, m->rate_hz, &sc);
	/* A device that delivers faster than real time is broken, not a fast input. */
	sc.real_time_only = 1;
	struct monitor_run run;
	complaint_init(&run.open_fail, MONITOR_BACKOFF_MIN_S, 300.0);
	complaint_init(&run.stall, MONITOR_BACKOFF_MIN_S, 300.0);
	complaint_init(&run.overrun, 60.0, 3600.0);
	run.backoff_s = MONITOR_BACKOFF_MIN_S;
	run.outage_since_s = -1.0;
	bool paced = m->ms.realtime && m->ms.source_kind != AUDIO_SOURCE_PORTAUDIO;
	bool looped = false; /* a looping file starts over: said at debug, not once a pass */

	while (!atomic_load(&m->stop)) {
		struct audio_source *src = NULL;
		struct auscult_err err;
		int rc = audio_source_open(&src, &sc, &err);
		if (rc != AUSCULT_OK) {
			outage(m, &run);
			complain(&run.open_fail, clock_mono_s(), LOG_LEVEL_ERROR,
				 "%s: cannot open the audio source: %s; retrying in %.0f s",
				 m->name, err.msg, run.backoff_s);
			if (!nap(m, run.backoff_s))
				break;
			run.backoff_s = fmin(run.backoff_s * 2.0, MONITOR_BACKOFF_MAX_S);
			continue;
		}
		log_msg(looped ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, "%s: listening to %s", m->name,
			audio_source_describe(src));
		looped = false;
		restart_stream(m);
		run.overruns = audio_source_overruns(src);
		run.flowing_since_s = -1.0;
		run.recovered = false;
		double last_audio_s = clock_mono_s();
		int64_t pace_start_ns = clock_mono_ns();
		bool ended = false, failed = false;

		while (!atomic_load(&m->stop)) {
			size_t got = 0;
			bool stopping = false;
			size_t want = paced ? paced_read_samples(m)
					    : batched_read_samples(m, src, &stopping);
			if (stopping)
				break;
			rc = audio_source_read(src, m->samples, want, &got, READ_TIMEOUT_MS, &err);
			if (rc == AUSCULT_OK && got > 0 && paced) {
				/* A file paced like a device: its samples are there once they would
				 * have been recorded; one sleep to that absolute deadline per read. */
				int64_t due_ns = pace_start_ns +
						 (int64_t)((double)(m->stream_samples + got) * 1e9 /
							   (double)m->rate_hz);
				if (!nap_until(m, due_ns))
					break;
			}
			if (rc == AUSCULT_OK && got > 0) {
				last_audio_s = clock_mono_s();
				note_audio(m, src, last_audio_s, &run);
				check_overruns(m, src, &run);
				process_samples(m, m->samples, got);
				continue;
			}
			if (rc == AUSCULT_ERR_TIMEOUT || (rc == AUSCULT_OK && got == 0)) {
				if (clock_mono_s() - last_audio_s > MONITOR_STALL_S) {
					complain(
						&run.stall, clock_mono_s(), LOG_LEVEL_ERROR,
						"%s: no audio for %.0f s from %s; reopening it in %.0f s",
						m->name, MONITOR_STALL_S,
						audio_source_describe(src), run.backoff_s);
					failed = true;
					break;
				}
				continue;
			}
			if (rc == AUSCULT_ERR_EOF) {
				ended = true;
				break;
			}
			complain(&run.stall, clock_mono_s(), LOG_LEVEL_ERROR,
				 "%s: %s; reopening it in %.0f s", m->name, err.msg, run.backoff_s);
			failed = true;
			break;
		}
		/* `fault` goes out before the close: closing a wedged device can take a while. */
		if (failed)
			outage(m, &run);
		audio_source_close(src);
		if (ended) {
			pipeline_flush(m->pl);
			if (m->ms.loop && m->ms.source_kind == AUDIO_SOURCE_FILE) {
				log_debug("%s: end of %s, starting it over", m->name,
					  m->ms.source_path);
				looped = true;
				continue;
			}
			log_info("%s: the %s ended; the monitor stops", m->name,
				 m->ms.source_kind == AUDIO_SOURCE_FILE ? "file" : "input");
			break;
		}
		if (failed) {
			if (!nap(m, run.backoff_s))
				break;
			run.backoff_s = fmin(run.backoff_s * 2.0, MONITOR_BACKOFF_MAX_S);
		}
	}
	stop_listening(m);
	if (m->tap)
		evidence_tap_close(m->tap);
	pthread_mutex_lock(&m->status_lock);
	m->status.ended = true;
	pthread_mutex_unlock(&m->status_lock);
	atomic_store(&m->finished, true);
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void monitor_free_all(struct monitor *m)
{
	evidence_writer_detach(m->evidence, m->tap);
	pipeline_destroy(m->pl);
	shared_model_unref(m->model);
	free(m->samples);
	free(m->name);
	free(m->source_path);
	free(m->device_name);
	free(m->model_path);
	free(m->learn_dir);
	pthread_mutex_destroy(&m->status_lock);
	if (m->nap_ready) {
		pthread_cond_destroy(&m->nap_cond);
		pthread_mutex_destroy(&m->nap_lock);
	}
	free(m);
}

int monitor_create(struct monitor **out, const struct monitor_settings *ms,
		   struct shared_model *model, struct message_queue *q,
		   struct evidence_writer *evidence, _Atomic int64_t *time_floor_ms,
		   struct auscult_err *err)
{
	*out = NULL;
	struct monitor *m = calloc(1, sizeof(*m));
	if (!m)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", ms->name);
	if (pthread_mutex_init(&m->status_lock, NULL) != 0) {
		free(m);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: cannot create a mutex", ms->name);
	}
	pthread_condattr_t ca;
	bool nap_ok = false;
	if (pthread_condattr_init(&ca) == 0) {
		if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		    pthread_cond_init(&m->nap_cond, &ca) == 0) {
			if (pthread_mutex_init(&m->nap_lock, NULL) == 0)
				nap_ok = true;
			else
				pthread_cond_destroy(&m->nap_cond);
		}
		pthread_condattr_destroy(&ca);
	}
	if (!nap_ok) {
		pthread_mutex_destroy(&m->status_lock);
		free(m);
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "%s: cannot create a condition variable", ms->name);
	}
	m->nap_ready = true;
	int rc = AUSCULT_ERR_NOMEM;
	bool oom = false;
	m->ms = *ms;
	m->name = dup_or_null(ms->name, &oom);
	m->source_path = dup_or_null(ms->source_path, &oom);
	m->device_name = dup_or_null(ms->device_name, &oom);
	m->model_path = dup_or_null(ms->model_path, &oom);
	m->learn_dir = dup_or_null(ms->learn_dir, &oom); /* learning mode (record) */
	m->ms.name = m->name;
	m->ms.source_path = m->source_path;
	m->ms.device_name = m->device_name;
	m->ms.model_path = m->model_path;
	m->ms.learn_dir = m->learn_dir;
	m->q = q;
	m->model = model ? shared_model_ref(model) : NULL;
	m->evidence = evidence;
	m->time_floor_ms = time_floor_ms;
	if (oom || !m->name) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", ms->name);
		goto fail;
	}

	/* ---- learning mode (record): BEGIN ---- */
	m->learning = ms->learn_minutes > 0.0 && access(m->model_path, F_OK) != 0 &&
		      errno == ENOENT;
	if (!m->learning && (rc = monitor_setup_model(m, err)) != AUSCULT_OK)
		goto fail;
	/* ---- learning mode (record): END ---- */
	m->status.state = DETECTOR_STARTING;
	m->status.smoothed = NAN;
	atomic_init(&m->stop, false);
	atomic_init(&m->finished, false);
	if (!m->learning) /* learning mode (record): it publishes `learning` itself */
		send_state(m, DETECTOR_STARTING);

	int prc = pthread_create(&m->thread, NULL, monitor_thread, m);
	if (prc != 0) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "monitor %s: cannot start its thread: %s",
				  m->name, strerror(prc));
		goto fail;
	}
	m->thread_started = true;
	*out = m;
	return AUSCULT_OK;
fail:
	monitor_free_all(m);
	return rc;
}

/* The monitor's evidence tap: its ring holds the pre-roll plus what the detector takes to
 * confirm an anomaly's start or end (settling, a window, the hysteresis) plus one read. */
static int attach_evidence(struct monitor *m, struct auscult_err *err)
{
	const struct pipeline_settings *ps = &m->ms.pipeline;
	struct evidence_tap_config tc = {
		.monitor = m->name,
		.rate_hz = m->rate_hz,
		.latency_s = ps->settle_s + ps->window_s +
			     (fmax(ps->anomaly_after, ps->normal_after) + 1.0) * ps->hop_s +
			     (double)READ_SAMPLES_MAX / m->rate_hz,
		/* a file read faster than real time waits for the writer rather than lose audio */
		.lossless = uses_stream_time(m),
	};
	return evidence_writer_attach(m->evidence, &tc, &m->tap, err);
}

/* Loads the model and sets up every stage and buffer from it: monitor_create's set-up, moved
 * here for learning mode (record) so that it can also run on the monitor's thread once learning
 * wrote the model. On failure the caller frees m. */
static int monitor_setup_model(struct monitor *m, struct auscult_err *err)
{
	struct auscult_err inner;
	int rc = AUSCULT_OK;
	if (!m->model && (rc = shared_model_load(&m->model, m->model_path, &inner)) != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s", m->name, inner.msg);
		return rc;
	}
	const struct model *model = shared_model_get(m->model);
	m->rate_hz = model->features.sample_rate_hz;
	struct pipeline_config pc = {
		.model = model, .settings = m->ms.pipeline, .on_window = on_window, .ctx = m
	};
	rc = pipeline_create(&m->pl, &pc, &inner);
	if (rc != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s: %s", m->name, m->model_path, inner.msg);
		return rc;
	}
	m->threshold = pipeline_threshold(m->pl);
	m->samples = calloc(READ_SAMPLES_MAX, sizeof(float));
	if (!m->samples) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "monitor %s: out of memory", m->name);
		return rc;
	}
	if (m->evidence && (rc = attach_evidence(m, err)) != AUSCULT_OK)
		return rc;
	pthread_mutex_lock(&m->status_lock); /* after learning, the main loop may be reading */
	m->status.threshold = m->threshold;
	pthread_mutex_unlock(&m->status_lock);
	log_info("monitor %s: model %s (threshold %.4g), window %u vectors, hop %u", m->name,
		 m->model_path, (double)m->threshold, pipeline_window_vectors(m->pl),
		 pipeline_hop_vectors(m->pl));
	return AUSCULT_OK;
}

bool monitor_destroy(struct monitor *m, int timeout_ms)
{
	if (!m)
		return true;
	if (m->thread_started) {
		monitor_request_stop(m);
		double until = clock_mono_s() + timeout_ms / 1000.0;
		while (!atomic_load(&m->finished) && clock_mono_s() < until) {
			struct timespec ts = { 0, 5 * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (!atomic_load(&m->finished)) {
			log_warn("monitor %s: its thread is still busy (in a read from its audio source, or "
				 "finishing a learning run); leaving it "
				 "behind",
				 m->name);
			pthread_detach(m->thread);
			return false;
		}
		pthread_join(m->thread, NULL);
	}
	monitor_free_all(m);
	return true;
}
