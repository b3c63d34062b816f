/* monitor.c - the per-machine thread: audio -> log-mel -> autoencoder -> window -> detector. */
#include "daemon/monitor.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio_source.h"
#include "common/complain.h"
#include "common/log.h"
#include "detect/smoother.h"
#include "detect/window_scorer.h"
#include "features/feature_extractor.h"
#include "model/autoencoder.h"
#include "model/model_file.h"
#include "publish/payloads.h"

/* 100 ms of audio per read at 16 kHz: small enough to stop quickly, big enough to be cheap. */
#define READ_SAMPLES 1600
#define READ_TIMEOUT_MS 250

struct monitor {
	/* Settings (copied strings). */
	char *name;
	char *source_path;
	char *device_name;
	char *model_path;
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
	size_t max_frames;   /* frames one read can produce */
	float *samples;      /* READ_SAMPLES */
	float *frames;       /* (n_stack - 1 + max_frames) x n_mels, oldest first */
	size_t n_frames;     /* frames held in `frames` */
	float *vec_scores;   /* max_frames */
	float *band_errors;  /* max_frames x n_mels */
	float threshold;

	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	atomic_bool finished;

	pthread_mutex_t status_lock; /* guards `status` (read by the main loop) */
	struct monitor_status status;

	/* Thread-local bookkeeping. */
	double level_sumsq;     /* samples' squares since the last scored vector */
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
	if (m)
		atomic_store(&m->stop, true);
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

static void process_samples(struct monitor *m, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		m->level_sumsq += (double)x[i] * x[i];
	m->level_n += n;
	m->stream_samples += n;

	size_t got = feature_extractor_push(&m->fx, x, n, m->frames + m->n_frames * m->n_mels);
	if (got == 0)
		return;
	m->n_frames += got;
	if (m->n_frames < m->n_stack)
		return;
	/* Vectors start at frames 0 .. n_frames - n_stack; the first (n_stack - 1) of those that
	 * precede the new frames were scored on an earlier read. */
	size_t n_vec = m->n_frames - m->n_stack + 1;
	size_t first = n_vec > got ? n_vec - got : 0;
	size_t n_new = n_vec - first;
	autoencoder_score(&m->ae, m->frames + first * m->n_mels, m->n_mels, n_new, m->vec_scores,
			  m->band_errors);

	double ms = m->level_n ? m->level_sumsq / (double)m->level_n : 0.0;
	m->level_sumsq = 0.0;
	m->level_n = 0;
	bool stream_time = !m->ms.realtime && m->ms.source_kind != AUDIO_SOURCE_PORTAUDIO;
	int64_t t_ms = stream_time ? m->stream_base_ms +
				     (int64_t)(m->stream_samples * 1000 / m->rate_hz)
				   : wall_ms();
	for (size_t v = 0; v < n_new; v++) {
		struct window_score w;
		if (window_scorer_push(&m->ws, m->vec_scores[v], m->band_errors + v * m->n_mels, ms,
				       &w))
			on_window(m, &w, t_ms);
	}
	/* Keep the last n_stack - 1 frames: the next vector needs them. */
	size_t keep = m->n_stack - 1;
	memmove(m->frames, m->frames + (m->n_frames - keep) * m->n_mels,
		keep * m->n_mels * sizeof(float));
	m->n_frames = keep;
}

/* Sleeps up to seconds, waking early when asked to stop. Returns false when stopping. */
static bool nap(struct monitor *m, double seconds)
{
	double until = mono_s() + seconds;
	while (!atomic_load(&m->stop)) {
		double left = until - mono_s();
		if (left <= 0)
			return true;
		if (left > 0.1)
			left = 0.1;
		struct timespec ts = { 0, (long)(left * 1e9) };
		nanosleep(&ts, NULL);
	}
	return false;
}

static void *monitor_thread(void *arg)
{
	struct monitor *m = arg;
	struct audio_source_config sc;
	monitor_settings_source_config(&m->ms, m->rate_hz, &sc);
	struct complaint open_fail, stall;
	complaint_init(&open_fail, MONITOR_BACKOFF_MIN_S, 300.0);
	complaint_init(&stall, MONITOR_BACKOFF_MIN_S, 300.0);
	double backoff_s = MONITOR_BACKOFF_MIN_S;
	bool paced = m->ms.realtime && m->ms.source_kind != AUDIO_SOURCE_PORTAUDIO;

	while (!atomic_load(&m->stop)) {
		struct audio_source *src = NULL;
		struct auscult_err err;
		int rc = audio_source_open(&src, &sc, &err);
		if (rc != AUSCULT_OK) {
			if (detector_get_state(&m->det) != DETECTOR_FAULT)
				enter_fault(m);
			complain(&open_fail, mono_s(), LOG_LEVEL_ERROR,
				 "%s: cannot open the audio source: %s; retrying in %.0f s", m->name,
				 err.msg, backoff_s);
			if (!nap(m, backoff_s))
				break;
			backoff_s = fmin(backoff_s * 2.0, MONITOR_BACKOFF_MAX_S);
			continue;
		}
		log_info("%s: listening to %s", m->name, audio_source_describe(src));
		pipeline_restart(m);
		double last_audio_s = mono_s(), pace_start_s = mono_s();
		bool ended = false, failed = false;

		while (!atomic_load(&m->stop)) {
			size_t got = 0;
			rc = audio_source_read(src, m->samples, READ_SAMPLES, &got, READ_TIMEOUT_MS,
					       &err);
			if (rc == AUSCULT_OK && got > 0) {
				last_audio_s = mono_s();
				complain_clear(&open_fail, LOG_LEVEL_INFO, "%s: audio source is back",
					       m->name);
				backoff_s = MONITOR_BACKOFF_MIN_S;
				complain_clear(&stall, LOG_LEVEL_INFO, "%s: audio flows again", m->name);
				pthread_mutex_lock(&m->status_lock);
				m->status.audio_flowing = true;
				pthread_mutex_unlock(&m->status_lock);
				process_samples(m, m->samples, got);
				if (paced) {
					double due = pace_start_s +
						     (double)m->stream_samples / (double)m->rate_hz;
					double ahead = due - mono_s();
					if (ahead > 0 && !nap(m, ahead))
						break;
				}
				continue;
			}
			if (rc == AUSCULT_ERR_TIMEOUT || (rc == AUSCULT_OK && got == 0)) {
				if (mono_s() - last_audio_s > MONITOR_STALL_S) {
					complain(&stall, mono_s(), LOG_LEVEL_ERROR,
						 "%s: no audio for %.0f s from %s; reopening it",
						 m->name, MONITOR_STALL_S, audio_source_describe(src));
					failed = true;
					break;
				}
				continue;
			}
			if (rc == AUSCULT_ERR_EOF) {
				ended = true;
				break;
			}
			complain(&stall, mono_s(), LOG_LEVEL_ERROR, "%s: %s", m->name, err.msg);
			failed = true;
			break;
		}
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
			enter_fault(m);
			if (!nap(m, backoff_s))
				break;
			backoff_s = fmin(backoff_s * 2.0, MONITOR_BACKOFF_MAX_S);
		}
	}
	pthread_mutex_lock(&m->status_lock);
	m->status.ended = true;
	pthread_mutex_unlock(&m->status_lock);
	atomic_store(&m->finished, true);
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static uint32_t vectors_for(double seconds, uint32_t rate_hz, uint32_t hop)
{
	double v = round(seconds * (double)rate_hz / (double)hop);
	return v < 1.0 ? 1u : (uint32_t)v;
}

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
	free(m->vec_scores);
	free(m->band_errors);
	free(m->name);
	free(m->source_path);
	free(m->device_name);
	free(m->model_path);
	pthread_mutex_destroy(&m->status_lock);
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
	int rc = AUSCULT_ERR_NOMEM;
	bool oom = false;
	m->ms = *ms;
	m->name = dup_or_null(ms->name, &oom);
	m->source_path = dup_or_null(ms->source_path, &oom);
	m->device_name = dup_or_null(ms->device_name, &oom);
	m->model_path = dup_or_null(ms->model_path, &oom);
	m->ms.name = m->name;
	m->ms.source_path = m->source_path;
	m->ms.device_name = m->device_name;
	m->ms.model_path = m->model_path;
	m->q = q;
	if (oom || !m->name) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", ms->name);
		goto fail;
	}

	struct auscult_err inner;
	rc = model_load(&m->model, m->model_path, &inner);
	if (rc != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s", m->name, inner.msg);
		goto fail;
	}
	const struct feature_params *fp = &m->model.features;
	m->n_mels = fp->n_mels;
	m->n_stack = fp->n_stack;
	m->rate_hz = fp->sample_rate_hz;
	rc = feature_extractor_init(&m->fx, fp, FRAMING_STREAMING, &inner);
	if (rc != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s: %s", m->name, m->model_path, inner.msg);
		goto fail;
	}
	m->max_frames = feature_extractor_max_frames(&m->fx, READ_SAMPLES);
	if (m->max_frames < 1)
		m->max_frames = 1;
	rc = autoencoder_init(&m->ae, &m->model, m->max_frames, &inner);
	if (rc != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s: %s", m->name, m->model_path, inner.msg);
		goto fail;
	}

	struct window_scorer_config wc;
	window_scorer_config_defaults(&wc);
	wc.window_vectors = vectors_for(ms->window_s, m->rate_hz, fp->hop_length);
	wc.hop_vectors = vectors_for(ms->hop_s, m->rate_hz, fp->hop_length);
	if (wc.hop_vectors > wc.window_vectors)
		wc.hop_vectors = wc.window_vectors;
	wc.n_mels = m->n_mels;
	struct smoother_config smc;
	smc.kind = ms->smoothing == SMOOTHING_MEDIAN ? SMOOTHER_MEDIAN
		   : ms->smoothing == SMOOTHING_EMA  ? SMOOTHER_EMA
						     : SMOOTHER_NONE;
	smc.n_windows = ms->smoothing_windows;
	m->threshold = ms->threshold_set ? (float)ms->threshold : m->model.threshold.threshold;
	struct detector_config dc;
	detector_config_defaults(&dc);
	dc.threshold = m->threshold;
	dc.anomaly_after = ms->anomaly_after;
	dc.normal_after = ms->normal_after;
	dc.silence_dbfs = (float)ms->silence_dbfs;
	dc.n_mels = m->n_mels;
	dc.fmin_hz = fp->fmin_hz;
	dc.fmax_hz = fp->fmax_hz;
	if ((rc = window_scorer_init(&m->ws, &wc, &inner)) != AUSCULT_OK ||
	    (rc = smoother_init(&m->sm, &smc, &inner)) != AUSCULT_OK ||
	    (rc = detector_init(&m->det, &dc, &inner)) != AUSCULT_OK) {
		auscult_fail(err, rc, "monitor %s: %s", m->name, inner.msg);
		goto fail;
	}

	m->samples = calloc(READ_SAMPLES, sizeof(float));
	m->frames = calloc((m->n_stack - 1 + m->max_frames) * m->n_mels, sizeof(float));
	m->vec_scores = calloc(m->max_frames, sizeof(float));
	m->band_errors = calloc(m->max_frames * m->n_mels, sizeof(float));
	if (!m->samples || !m->frames || !m->vec_scores || !m->band_errors) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "monitor %s: out of memory", m->name);
		goto fail;
	}
	m->status.state = DETECTOR_STARTING;
	m->status.smoothed = NAN;
	m->status.threshold = m->threshold;
	atomic_init(&m->stop, false);
	atomic_init(&m->finished, false);
	send_state(m, DETECTOR_STARTING);

	int prc = pthread_create(&m->thread, NULL, monitor_thread, m);
	if (prc != 0) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "monitor %s: cannot start its thread: %s",
				  m->name, strerror(prc));
		goto fail;
	}
	m->thread_started = true;
	log_info("monitor %s: model %s (threshold %.4g), window %u vectors, hop %u", m->name,
		 m->model_path, (double)m->threshold, wc.window_vectors, wc.hop_vectors);
	*out = m;
	return AUSCULT_OK;
fail:
	monitor_free_all(m);
	return rc;
}

bool monitor_destroy(struct monitor *m, int timeout_ms)
{
	if (!m)
		return true;
	if (m->thread_started) {
		atomic_store(&m->stop, true);
		double until = mono_s() + timeout_ms / 1000.0;
		while (!atomic_load(&m->finished) && mono_s() < until) {
			struct timespec ts = { 0, 5 * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (!atomic_load(&m->finished)) {
			log_warn("monitor %s: its thread is blocked reading; leaving it behind",
				 m->name);
			pthread_detach(m->thread);
			return false;
		}
		pthread_join(m->thread, NULL);
	}
	monitor_free_all(m);
	return true;
}
