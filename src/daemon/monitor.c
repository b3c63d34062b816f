/* monitor.c - the per-machine thread: audio -> log-mel -> autoencoder -> window -> detector. */
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
#include "common/complain.h"
#include "common/log.h"
#include "detect/smoother.h"
#include "detect/window_scorer.h"
#include "features/feature_extractor.h"
#include "daemon/learn_mode.h"
#include "model/autoencoder.h"
#include "model/model_file.h"
#include "publish/payloads.h"

/* 100 ms of audio per read at 16 kHz from a device or an unpaced input. */
#define READ_SAMPLES 1600
/* A paced file is read up to the next window in one go: one wake-up per window hop. */
#define READ_SAMPLES_MAX 8192
#define READ_TIMEOUT_MS 250
/*
 * Vectors are held back and scored in one autoencoder call up to the vector that completes the
 * next window (which is when anyone looks at them), at most this many at a time. One call streams
 * the model's weights (about 1 MB for the baseline) through the cache once; scoring 3 vectors
 * per 100 ms read cost ~60 us a vector with the weights evicted in between, 16 at a time ~20 us.
 */
#define BATCH_MAX_VECTORS 16 /* the default hop (0.5 s); each holds 2 x 16 x 640 floats */
/* Audio must flow this long after a reopen before the source counts as back (see note_audio). */
#define MONITOR_RECOVERED_S 5.0

struct monitor {
	/* Settings (copied strings). */
	char *name;
	char *source_path;
	char *device_name;
	char *model_path;
	char *learn_dir;   /* learning mode (record) */
	bool learning;     /* learning mode (record): no model yet; the thread learns it first */
	struct monitor_settings ms; /* its string fields point at the copies above */
	struct message_queue *q;

	/* Stages, owned by the thread once it runs. */
	struct model model;
	struct feature_extractor fx;
	struct autoencoder ae;
	struct window_scorer ws;
	struct smoother sm;
	struct detector det;
	uint32_t n_mels, n_stack, rate_hz;
	uint32_t hop_samples;
	size_t max_frames;   /* frames one read can produce */
	size_t frame_cap;    /* n_stack - 1 + BATCH_MAX_VECTORS + max_frames */
	float *samples;      /* READ_SAMPLES_MAX */
	float *frames;       /* frame_cap x n_mels, oldest first; vectors not yet scored */
	double *frame_ms;    /* frame_cap: mean square of the read that brought each frame in */
	size_t n_frames;     /* frames held in `frames` */
	float *vec_scores;   /* BATCH_MAX_VECTORS */
	float *band_errors;  /* BATCH_MAX_VECTORS x n_mels */
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
	double level_sumsq;     /* samples' squares since the last read that made frames */
	uint64_t level_n;
	uint64_t stream_samples; /* since the source was (re)opened */
	int64_t stream_base_ms;  /* wall clock at (re)open, for non-realtime stream time */
	int64_t last_score_ms;
	bool have_scored;
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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

static void send_event(struct monitor *m, const struct detector_event *ev)
{
	char buf[PAYLOAD_MAX_BYTES];
	struct auscult_err err;
	if (payload_event(buf, sizeof(buf), NULL, m->name, ev, &err) != AUSCULT_OK) {
		log_error("%s: event payload: %s", m->name, err.msg);
		return;
	}
	message_queue_push(m->q, MESSAGE_EVENT, m->name, buf);
	if (ev->type == DETECTOR_EVENT_START)
		log_warn("%s: anomaly started (score %.3g, threshold %.3g)", m->name,
			 (double)ev->peak, (double)ev->threshold);
	else
		log_info("%s: anomaly ended after %.1f s (peak %.3g, mean %.3g)", m->name,
			 ev->duration_s, (double)ev->peak, (double)ev->mean);
}

static void apply_output(struct monitor *m, const struct detector_output *o)
{
	/* The event first: a listener that sees `anomaly` can already look up the event. */
	if (o->has_event)
		send_event(m, &o->event);
	if (o->state_changed) {
		send_state(m, o->state);
		log_info("%s: %s -> %s", m->name, detector_state_name(o->previous),
			 detector_state_name(o->state));
	}
	pthread_mutex_lock(&m->status_lock);
	m->status.state = o->state;
	pthread_mutex_unlock(&m->status_lock);
}

static void enter_fault(struct monitor *m)
{
	struct detector_output o;
	detector_set_fault(&m->det, wall_ms(), &o);
	apply_output(m, &o);
	pthread_mutex_lock(&m->status_lock);
	m->status.audio_flowing = false;
	pthread_mutex_unlock(&m->status_lock);
}

/* ---- the pipeline ---------------------------------------------------------------------------- */

/* Forgets the audio so far: after a reopen or a loop the next samples are not contiguous. */
static void pipeline_restart(struct monitor *m)
{
	feature_extractor_reset(&m->fx);
	window_scorer_reset(&m->ws);
	smoother_reset(&m->sm);
	m->n_frames = 0;
	m->level_sumsq = 0.0;
	m->level_n = 0;
	m->stream_samples = 0;
	m->stream_base_ms = wall_ms();
}

static void on_window(struct monitor *m, const struct window_score *w, int64_t t_ms)
{
	float smoothed;
	if (w->rms_dbfs < m->ms.silence_dbfs) {
		/* A machine that is off says nothing about its health; start afresh when it is back. */
		smoother_reset(&m->sm);
		smoothed = w->score;
	} else {
		smoothed = smoother_process(&m->sm, w->score);
	}
	struct detector_output o;
	detector_update(&m->det, t_ms, smoothed, w->rms_dbfs, w->band_errors, &o);
	apply_output(m, &o);

	/* Stream time: the 1 ms slack absorbs rounding of window times to whole milliseconds. */
	double since_ms = (double)(t_ms - m->last_score_ms);
	if (!m->have_scored || since_ms >= m->ms.publish_interval_s * 1000.0 - 1.0) {
		char buf[PAYLOAD_MAX_BYTES];
		if (payload_score(buf, sizeof(buf), NULL, t_ms, m->name, w->score, smoothed,
				  m->threshold, o.state, NULL) == AUSCULT_OK)
			message_queue_push(m->q, MESSAGE_SCORE, m->name, buf);
		m->last_score_ms = t_ms;
		m->have_scored = true;
	}
	pthread_mutex_lock(&m->status_lock);
	m->status.smoothed = smoothed;
	m->status.windows++;
	pthread_mutex_unlock(&m->status_lock);
}

/* Vectors whose frames are all held: none of them is scored yet. */
static size_t vectors_held(const struct monitor *m)
{
	return m->n_frames >= m->n_stack ? m->n_frames - m->n_stack + 1 : 0;
}

/* Scores the held vectors in batches, each ending at the vector that completes a window (or at
 * BATCH_MAX_VECTORS); vectors short of the next window stay held for the next read. */
static void score_held(struct monitor *m, int64_t t_ms)
{
	for (;;) {
		size_t held = vectors_held(m);
		size_t n = window_scorer_until_window(&m->ws);
		if (n > BATCH_MAX_VECTORS)
			n = BATCH_MAX_VECTORS;
		if (held < n)
			return;
		autoencoder_score(&m->ae, m->frames, m->n_mels, n, m->vec_scores, m->band_errors);
		for (size_t v = 0; v < n; v++) {
			struct window_score w;
			/* A vector's level is that of the read that brought its newest frame. */
			double ms = m->frame_ms[v + m->n_stack - 1];
			if (window_scorer_push(&m->ws, m->vec_scores[v], m->band_errors + v * m->n_mels,
					       ms, &w))
				on_window(m, &w, t_ms);
		}
		/* Drop the n frames that only scored vectors started at; keep the rest. */
		size_t keep = m->n_frames - n;
		memmove(m->frames, m->frames + n * m->n_mels, keep * m->n_mels * sizeof(float));
		memmove(m->frame_ms, m->frame_ms + n, keep * sizeof(double));
		m->n_frames = keep;
	}
}

static void process_samples(struct monitor *m, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		m->level_sumsq += (double)x[i] * x[i];
	m->level_n += n;
	m->stream_samples += n;

	size_t got = feature_extractor_push(&m->fx, x, n, m->frames + m->n_frames * m->n_mels);
	if (got == 0)
		return;
	double ms = m->level_n ? m->level_sumsq / (double)m->level_n : 0.0;
	m->level_sumsq = 0.0;
	m->level_n = 0;
	for (size_t i = 0; i < got; i++)
		m->frame_ms[m->n_frames + i] = ms;
	m->n_frames += got;
	bool stream_time = !m->ms.realtime && m->ms.source_kind != AUDIO_SOURCE_PORTAUDIO;
	int64_t t_ms = stream_time ? m->stream_base_ms +
				     (int64_t)(m->stream_samples * 1000 / m->rate_hz)
				   : wall_ms();
	score_held(m, t_ms);
}

/* How many samples a paced read takes: those that bring in the vectors up to the next window. */
static size_t paced_read_samples(const struct monitor *m)
{
	size_t need = window_scorer_until_window(&m->ws);
	size_t held = vectors_held(m);
	size_t frames = need > held ? need - held : 1;
	size_t n = frames * m->hop_samples;
	return n > READ_SAMPLES_MAX ? READ_SAMPLES_MAX : n;
}

/* Sleeps until the CLOCK_MONOTONIC time deadline_ns, waking early when asked to stop. Returns
 * false when stopping. */
static bool nap_until(struct monitor *m, int64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000), (long)(deadline_ns % 1000000000) };
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
	return nap_until(m, mono_ns() + (int64_t)(seconds * 1e9));
}

/* The monitor thread's account of its source's failures. */
struct monitor_run {
	struct complaint open_fail; /* the source cannot be opened */
	struct complaint stall;     /* it opened, then failed or stopped delivering */
	double backoff_s;           /* wait before the next reopen */
	double outage_since_s;      /* monotonic time the audio was lost; < 0: it flows */
	double flowing_since_s;     /* first audio since the last (re)open; < 0: none yet */
	bool recovered;             /* audio has flowed MONITOR_RECOVERED_S since the (re)open */
};

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
		run->outage_since_s = mono_s();
	if (detector_get_state(&m->det) != DETECTOR_FAULT)
		enter_fault(m);
}

/* ---- learning mode (record): BEGIN ------------------------------------------------------- */

static int monitor_setup_model(struct monitor *m, struct auscult_err *err);

static void learn_send(void *ctx, bool state, const char *payload)
{
	struct monitor *m = ctx;
	message_queue_push(m->q, state ? MESSAGE_STATE : MESSAGE_SCORE, m->name, payload);
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
 * monitor_create does. Returns false when the monitor must end (stopped, or learning failed:
 * logged, state `fault`). */
static bool learn_then_set_up(struct monitor *m)
{
	const struct learn_host host = { m, learn_send, learn_stopping, learn_nap, learn_flowing };
	struct auscult_err err;
	int rc = learn_mode_run(&m->ms, &host, &err);
	if (rc == AUSCULT_OK)
		rc = monitor_setup_model(m, &err);
	if (rc == AUSCULT_OK) {
		m->learning = false;
		send_state(m, DETECTOR_STARTING);
		return true;
	}
	if (rc != AUSCULT_ERR_INTERRUPTED) {
		log_error("%s: learning: %s", m->name, err.msg);
		send_state(m, DETECTOR_FAULT);
	}
	return false;
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
	run.backoff_s = MONITOR_BACKOFF_MIN_S;
	run.outage_since_s = -1.0;
	bool paced = m->ms.realtime && m->ms.source_kind != AUDIO_SOURCE_PORTAUDIO;

	while (!atomic_load(&m->stop)) {
		struct audio_source *src = NULL;
		struct auscult_err err;
		int rc = audio_source_open(&src, &sc, &err);
		if (rc != AUSCULT_OK) {
			outage(m, &run);
			complain(&run.open_fail, mono_s(), LOG_LEVEL_ERROR,
				 "%s: cannot open the audio source: %s; retrying in %.0f s", m->name,
				 err.msg, run.backoff_s);
			if (!nap(m, run.backoff_s))
				break;
			run.backoff_s = fmin(run.backoff_s * 2.0, MONITOR_BACKOFF_MAX_S);
			continue;
		}
		log_info("%s: listening to %s", m->name, audio_source_describe(src));
		pipeline_restart(m);
		run.flowing_since_s = -1.0;
		run.recovered = false;
		double last_audio_s = mono_s();
		int64_t pace_start_ns = mono_ns();
		bool ended = false, failed = false;

		while (!atomic_load(&m->stop)) {
			size_t got = 0;
			size_t want = paced ? paced_read_samples(m) : READ_SAMPLES;
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
				last_audio_s = mono_s();
				note_audio(m, src, last_audio_s, &run);
				process_samples(m, m->samples, got);
				continue;
			}
			if (rc == AUSCULT_ERR_TIMEOUT || (rc == AUSCULT_OK && got == 0)) {
				if (mono_s() - last_audio_s > MONITOR_STALL_S) {
					complain(&run.stall, mono_s(), LOG_LEVEL_ERROR,
						 "%s: no audio for %.0f s from %s; reopening it in %.0f s",
						 m->name, MONITOR_STALL_S, audio_source_describe(src),
						 run.backoff_s);
					failed = true;
					break;
				}
				continue;
			}
			if (rc == AUSCULT_ERR_EOF) {
				ended = true;
				break;
			}
			complain(&run.stall, mono_s(), LOG_LEVEL_ERROR, "%s: %s; reopening it in %.0f s",
				 m->name, err.msg, run.backoff_s);
			failed = true;
			break;
		}
		/* `fault` goes out before the close: closing a wedged device can take a while. */
		if (failed)
			outage(m, &run);
		audio_source_close(src);
		if (ended) {
			if (m->ms.loop && m->ms.source_kind == AUDIO_SOURCE_FILE) {
				log_debug("%s: end of %s, starting it over", m->name, m->ms.source_path);
				continue;
			}
			log_info("%s: the %s ended; the monitor stops (state stays %s)", m->name,
				 m->ms.source_kind == AUDIO_SOURCE_FILE ? "file" : "input",
				 detector_state_name(detector_get_state(&m->det)));
			break;
		}
		if (failed) {
			if (!nap(m, run.backoff_s))
				break;
			run.backoff_s = fmin(run.backoff_s * 2.0, MONITOR_BACKOFF_MAX_S);
		}
	}
	pthread_mutex_lock(&m->status_lock);
	m->status.ended = true;
	pthread_mutex_unlock(&m->status_lock);
	atomic_store(&m->finished, true);
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void monitor_free_all(struct monitor *m)
{
	feature_extractor_free(&m->fx);
	autoencoder_free(&m->ae);
	window_scorer_free(&m->ws);
	smoother_free(&m->sm);
	detector_free(&m->det);
	model_free(&m->model);
	free(m->samples);
	free(m->frames);
	free(m->frame_ms);
	free(m->vec_scores);
	free(m->band_errors);
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
		   struct message_queue *q, struct auscult_err *err)
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
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: cannot create a condition variable",
				    ms->name);
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
	if (oom || !m->name) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", ms->name);
		goto fail;
	}

	/* ---- learning mode (record): BEGIN ---- */
	m->learning = ms->learn_minutes > 0.0 && access(m->model_path, F_OK) != 0 && errno == ENOENT;
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

/* Loads the model and sets up every stage and buffer from it: monitor_create's set-up, moved
 * here for learning mode (record) so that it can also run on the monitor's thread once learning
 * wrote the model. On failure the caller frees m. */
static int monitor_setup_model(struct monitor *m, struct auscult_err *err)
{
	struct auscult_err inner;
	int rc = model_load(&m->model, m->model_path, &inner);
	if (rc != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s", m->name, inner.msg);
		return rc;
	}
	const struct feature_params *fp = &m->model.features;
	m->n_mels = fp->n_mels;
	m->n_stack = fp->n_stack;
	m->rate_hz = fp->sample_rate_hz;
	rc = feature_extractor_init(&m->fx, fp, FRAMING_STREAMING, &inner);
	if (rc != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s: %s", m->name, m->model_path, inner.msg);
		return rc;
	}
	m->hop_samples = fp->hop_length;
	m->max_frames = feature_extractor_max_frames(&m->fx, READ_SAMPLES_MAX);
	if (m->max_frames < 1)
		m->max_frames = 1;
	m->frame_cap = m->n_stack - 1 + BATCH_MAX_VECTORS + m->max_frames;
	rc = autoencoder_init(&m->ae, &m->model, BATCH_MAX_VECTORS, &inner);
	if (rc != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s: %s", m->name, m->model_path, inner.msg);
		return rc;
	}

	struct window_scorer_config wc;
	window_scorer_config_defaults(&wc);
	wc.window_vectors = feature_params_vectors_in(fp, m->ms.window_s);
	wc.hop_vectors = feature_params_vectors_in(fp, m->ms.hop_s);
	if (wc.hop_vectors > wc.window_vectors)
		wc.hop_vectors = wc.window_vectors;
	wc.n_mels = m->n_mels;
	struct smoother_config smc;
	smc.kind = m->ms.smoothing == SMOOTHING_MEDIAN ? SMOOTHER_MEDIAN
		   : m->ms.smoothing == SMOOTHING_EMA  ? SMOOTHER_EMA
						     : SMOOTHER_NONE;
	smc.n_windows = m->ms.smoothing_windows;
	m->threshold = m->ms.threshold_set ? (float)m->ms.threshold : m->model.threshold.threshold;
	struct detector_config dc;
	detector_config_defaults(&dc);
	dc.threshold = m->threshold;
	dc.anomaly_after = m->ms.anomaly_after;
	dc.normal_after = m->ms.normal_after;
	dc.silence_dbfs = (float)m->ms.silence_dbfs;
	dc.n_mels = m->n_mels;
	dc.fmin_hz = fp->fmin_hz;
	dc.fmax_hz = fp->fmax_hz;
	if ((rc = window_scorer_init(&m->ws, &wc, &inner)) != AUSCULT_OK ||
	    (rc = smoother_init(&m->sm, &smc, &inner)) != AUSCULT_OK ||
	    (rc = detector_init(&m->det, &dc, &inner)) != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s", m->name, inner.msg);
		return rc;
	}

	m->samples = calloc(READ_SAMPLES_MAX, sizeof(float));
	m->frames = calloc(m->frame_cap * m->n_mels, sizeof(float));
	m->frame_ms = calloc(m->frame_cap, sizeof(double));
	m->vec_scores = calloc(BATCH_MAX_VECTORS, sizeof(float));
	m->band_errors = calloc((size_t)BATCH_MAX_VECTORS * m->n_mels, sizeof(float));
	if (!m->samples || !m->frames || !m->frame_ms || !m->vec_scores || !m->band_errors) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "monitor %s: out of memory", m->name);
		return rc;
	}
	pthread_mutex_lock(&m->status_lock); /* after learning, the main loop may be reading */
	m->status.threshold = m->threshold;
	pthread_mutex_unlock(&m->status_lock);
	log_info("monitor %s: model %s (threshold %.4g), window %u vectors, hop %u", m->name,
		 m->model_path, (double)m->threshold, wc.window_vectors, wc.hop_vectors);
	return AUSCULT_OK;
}

bool monitor_destroy(struct monitor *m, int timeout_ms)
{
	if (!m)
		return true;
	if (m->thread_started) {
		monitor_request_stop(m);
		double until = mono_s() + timeout_ms / 1000.0;
		while (!atomic_load(&m->finished) && mono_s() < until) {
			struct timespec ts = { 0, 5 * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (!atomic_load(&m->finished)) {
			log_warn("monitor %s: its thread is blocked in its audio source; leaving it "
				 "behind", m->name);
			pthread_detach(m->thread);
			return false;
		}
		pthread_join(m->thread, NULL);
	}
	monitor_free_all(m);
	return true;
}
