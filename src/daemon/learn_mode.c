/* learn_mode.c - a monitor's learning mode: source loop into the learner, then training, with progress. */
#include "daemon/learn_mode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_source.h"
#include "common/clock.h"
#include "common/complain.h"
#include "common/log.h"
#include "learn/learner.h"
#include "common/json_writer.h"
#include "publish/payloads.h"

#define LEARN_READ_SAMPLES 1600 /* 100 ms at 16 kHz */
#define LEARN_READ_TIMEOUT_MS 250
#define LEARN_STALL_S 2.0 /* no audio this long: the source failed (as a monitor) */
#define LEARN_BACKOFF_MIN_S 1.0
#define LEARN_BACKOFF_MAX_S 30.0
/* Recording is most of the wait; training the rest (on one core: about a minute on a Pi-class
 * device for the default 10 minutes, at 100 epochs). */
#define LEARN_RECORD_PERCENT 80.0

struct learn_run {
	const struct monitor_settings *ms;
	const struct learn_host *host;
	struct learner *l;
	double next_progress_s; /* monotonic time the next progress payload is due */
	bool in_fault;          /* `fault` was sent; `learning` is sent again when audio is back */
	bool flowing;           /* audio has come since the last (re)open */
	uint32_t rate_hz;       /* the learner's */
	float samples[LEARN_READ_SAMPLES];
};

int learn_mode_payload_progress(char *buf, size_t cap, int64_t time_ms, const char *monitor,
				const char *phase, double percent, unsigned clips,
				unsigned clips_needed, struct auscult_err *err)
{
	struct json_writer w;
	json_writer_init(&w, buf, cap);
	json_object_open(&w);
	json_field_time_ms(&w, "time", time_ms);
	json_field_string(&w, "monitor", monitor);
	json_field_string(&w, "state", LEARN_STATE);
	json_field_string(&w, "phase", phase);
	json_field_double_digits(&w, "progress", floor(percent * 10.0) / 10.0, 4);
	json_field_uint(&w, "clips", clips);
	json_field_uint(&w, "clips_needed", clips_needed);
	json_object_close(&w);
	return json_writer_finish(&w, NULL, err);
}

/* Sends a progress payload when force is set or publish_interval_s has passed. */
static void progress(struct learn_run *r, const char *phase, double percent, bool force)
{
	double now = clock_mono_s();
	if (!force && now < r->next_progress_s)
		return;
	r->next_progress_s = now + r->ms->publish_interval_s;
	char buf[PAYLOAD_MAX_BYTES];
	if (learn_mode_payload_progress(buf, sizeof(buf), clock_wall_ms(), r->ms->name, phase,
					percent, learner_clips(r->l), learner_clips_needed(r->l),
					NULL) == AUSCULT_OK)
		r->host->send(r->host->ctx, false, buf);
}

static void recording_progress(struct learn_run *r, bool force)
{
	progress(r, "recording", LEARN_RECORD_PERCENT * learner_collected_share(r->l), force);
}

static void set_flowing(struct learn_run *r, bool flowing)
{
	if (flowing != r->flowing) {
		r->flowing = flowing;
		r->host->flowing(r->host->ctx, flowing);
	}
}

static void set_fault(struct learn_run *r, bool fault)
{
	set_flowing(r, !fault);
	if (fault == r->in_fault)
		return;
	r->in_fault = fault;
	r->host->send(r->host->ctx, true,
		      fault ? detector_state_name(DETECTOR_FAULT) : LEARN_STATE);
	if (!fault)
		recording_progress(r, true);
}

/* Reads one opened source into the learner until it has enough, ends, fails or is stopped. */
static int read_source(struct learn_run *r, struct audio_source *src, struct complaint *stall,
		       double backoff_s, struct auscult_err *err)
{
	const struct monitor_settings *ms = r->ms;
	const double rate_hz = r->rate_hz;
	bool paced = ms->realtime && ms->source_kind != AUDIO_SOURCE_PORTAUDIO;
	int64_t base_ms = clock_wall_ms(), pace_start_ns = clock_mono_ns();
	uint64_t samples = 0;
	double last_audio_s = clock_mono_s();
	learner_break(r->l); /* what came before is not contiguous with what comes now */
	while (!r->host->stopping(r->host->ctx)) {
		size_t got = 0;
		double wait_s;
		/* a device or a pipe: 100 ms at a time, not each piece as it comes */
		if (!paced && audio_source_wait_s(src, LEARN_READ_SAMPLES, &wait_s) &&
		    wait_s > 0.0 && !r->host->nap(r->host->ctx, wait_s))
			break;
		int rc = audio_source_read(src, r->samples, LEARN_READ_SAMPLES, &got,
					   LEARN_READ_TIMEOUT_MS, err);
		if (rc == AUSCULT_OK && got > 0) {
			if (paced) {
				/* A file paced like a device, as the monitor paces it. */
				double due_s = (double)(pace_start_ns - clock_mono_ns()) / 1e9 +
					       (double)(samples + got) / rate_hz;
				if (due_s > 0 && !r->host->nap(r->host->ctx, due_s))
					break;
			}
			last_audio_s = clock_mono_s();
			set_fault(r, false);
			complaint_cleared(stall, NULL);
			uint32_t done = 0;
			int64_t t_ms = base_ms + (int64_t)((double)samples * 1000.0 / rate_hz);
			samples += got;
			rc = learner_push(r->l, r->samples, got, t_ms, &done, err);
			if (rc != AUSCULT_OK)
				return rc;
			if (done)
				log_info("%s: learning: %u of %u clips recorded", ms->name,
					 learner_clips(r->l), learner_clips_needed(r->l));
			if (learner_clips(r->l) >= learner_clips_needed(r->l))
				return AUSCULT_OK;
			recording_progress(r, done > 0);
			continue;
		}
		if (rc == AUSCULT_ERR_TIMEOUT || (rc == AUSCULT_OK && got == 0)) {
			if (clock_mono_s() - last_audio_s > LEARN_STALL_S) {
				complain(stall, clock_mono_s(), LOG_LEVEL_ERROR,
					 "%s: learning: no audio for %.0f s from %s; reopening it in "
					 "%.0f s",
					 ms->name, LEARN_STALL_S, audio_source_describe(src),
					 backoff_s);
				return AUSCULT_ERR_DEVICE;
			}
			continue;
		}
		if (rc == AUSCULT_ERR_EOF)
			return rc;
		complain(stall, clock_mono_s(), LOG_LEVEL_ERROR,
			 "%s: learning: %s; reopening it in "
			 "%.0f s",
			 ms->name, err->msg, backoff_s);
		return AUSCULT_ERR_DEVICE;
	}
	return AUSCULT_ERR_INTERRUPTED;
}

/* Records until the learner has its clips. */
static int collect(struct learn_run *r, struct auscult_err *err)
{
	const struct monitor_settings *ms = r->ms;
	struct audio_source_config sc;
	monitor_settings_source_config(ms, r->rate_hz, &sc);
	sc.real_time_only = 1;
	struct complaint open_fail, stall;
	complaint_init(&open_fail, LEARN_BACKOFF_MIN_S, 300.0);
	complaint_init(&stall, LEARN_BACKOFF_MIN_S, 300.0);
	double backoff_s = LEARN_BACKOFF_MIN_S;
	while (!r->host->stopping(r->host->ctx)) {
		struct audio_source *src = NULL;
		struct auscult_err why;
		if (audio_source_open(&src, &sc, &why) != AUSCULT_OK) {
			set_fault(r, true);
			complain(
				&open_fail, clock_mono_s(), LOG_LEVEL_ERROR,
				"%s: learning: cannot open the audio source: %s; retrying in %.0f s",
				ms->name, why.msg, backoff_s);
			if (!r->host->nap(r->host->ctx, backoff_s))
				break;
			backoff_s = fmin(backoff_s * 2.0, LEARN_BACKOFF_MAX_S);
			continue;
		}
		complaint_cleared(&open_fail, NULL);
		log_info("%s: learning: listening to %s", ms->name, audio_source_describe(src));
		int rc = read_source(r, src, &stall, backoff_s, err);
		if (rc == AUSCULT_ERR_DEVICE)
			set_fault(r,
				  true); /* before the close: closing a wedged device takes time */
		audio_source_close(src);
		if (rc == AUSCULT_OK || rc == AUSCULT_ERR_INTERRUPTED || rc == AUSCULT_ERR_IO)
			return rc;
		if (rc == AUSCULT_ERR_EOF) {
			if (ms->loop && ms->source_kind == AUDIO_SOURCE_FILE)
				continue;
			return auscult_fail(
				err, AUSCULT_ERR_EOF,
				"the input ended with %u of the %u clips learning needs; "
				"they are kept: give it more sound (or loop the file) and "
				"restart",
				learner_clips(r->l), learner_clips_needed(r->l));
		}
		if (rc == AUSCULT_ERR_DEVICE) {
			if (!r->host->nap(r->host->ctx, backoff_s))
				break;
			backoff_s = fmin(backoff_s * 2.0, LEARN_BACKOFF_MAX_S);
			continue;
		}
		return rc;
	}
	return auscult_fail(err, AUSCULT_ERR_INTERRUPTED, "stopped while recording");
}

static bool on_epoch(void *ctx, uint32_t epoch, uint32_t epochs)
{
	struct learn_run *r = ctx;
	progress(r, "training",
		 LEARN_RECORD_PERCENT + (100.0 - LEARN_RECORD_PERCENT) * epoch / (double)epochs,
		 false);
	return r->host->stopping(r->host->ctx);
}

int learn_mode_run(const struct monitor_settings *ms, const struct learn_host *host,
		   struct auscult_err *err)
{
	struct learn_run *r = calloc(1, sizeof(*r));
	char *dir = NULL;
	if (!r)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "learning: out of memory");
	r->ms = ms;
	r->host = host;
	int rc;
	if (ms->learn_dir) {
		dir = strdup(ms->learn_dir);
	} else if ((dir = malloc(strlen(ms->model_path) + 7)) != NULL) {
		strcpy(dir, ms->model_path);
		strcat(dir, ".learn");
	}
	if (!dir) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "learning: out of memory");
		goto out;
	}
	struct learner_config lc;
	learner_config_defaults(&lc);
	lc.model_path = ms->model_path;
	lc.dir = dir;
	lc.minutes = ms->learn_minutes;
	lc.scoring = ms->pipeline;
	/* One core: the other monitors keep scoring in real time meanwhile (OpenBLAS's thread
	 * count is the process's, and inference runs single-threaded). */
	lc.train.trainer.threads = 1;
	if ((rc = learner_create(&r->l, &lc, err)) != AUSCULT_OK)
		goto out;
	r->rate_hz = lc.train.features.sample_rate_hz;
	log_info("%s: learning: no model at %s yet: recording %u clips of the machine running "
		 "(%.1f min; %u already in %s), then training it",
		 ms->name, ms->model_path, learner_clips_needed(r->l),
		 learner_clips_needed(r->l) * lc.clip_s / 60.0, learner_clips(r->l), dir);
	host->send(host->ctx, true, LEARN_STATE);
	recording_progress(r, true);
	if (learner_clips(r->l) < learner_clips_needed(r->l) &&
	    (rc = collect(r, err)) != AUSCULT_OK)
		goto out;
	if (learner_skipped_s(r->l) > 0)
		log_info("%s: learning: skipped %.0f s of silence (machine off)", ms->name,
			 learner_skipped_s(r->l));
	progress(r, "training", LEARN_RECORD_PERCENT, true);
	log_info("%s: learning: training on %u clips in %s", ms->name, learner_clips(r->l), dir);
	struct learner_result res;
	rc = learner_train(r->l, on_epoch, r, &res, err);
	if (rc != AUSCULT_OK)
		goto out;
	progress(r, "done", 100.0, true);
	log_info("%s: learned %s in %.0f s: %u epochs on %u clips (val_loss %.4g), threshold %.4g "
		 "fitted to %zu windows of %u held-out clips (%zu above); the clips stay in %s",
		 ms->name, ms->model_path, res.seconds, res.epochs, res.train_clips,
		 (double)res.val_loss, (double)res.threshold, res.windows, res.holdout_clips,
		 res.windows_above, dir);
out:
	learner_destroy(r->l);
	free(dir);
	free(r);
	return rc;
}
