/* pipeline.c - features, batched autoencoder, per-vector gate, windows, smoothing, detector. */
#include "pipeline/pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_source.h"
#include "common/log.h"
#include "detect/gate.h"
#include "detect/window_scorer.h"
#include "features/feature_extractor.h"
#include "features/impulse_envelope.h"
#include "model/autoencoder.h"
#include "model/rise_heads.h"
#include "model/window_head.h"

struct pipeline {
	const struct model *model;
	struct pipeline_settings settings;
	pipeline_window_fn on_window;
	void *ctx;

	struct feature_extractor fx;
	struct autoencoder ae;
	struct gate gate;
	struct window_scorer ws;
	struct smoother sm;
	struct detector det;
	struct window_head head;          /* used when model->head is set */
	struct rise_heads rise;           /* used when model->rise is set */
	struct impulse_envelope impulses; /* used when the rise heads have an impulse head */
	uint32_t rise_every; /* windows between the rise heads' evaluations (RISE_HEADS_EVERY_S) */
	bool tone_sums;      /* the tonal peaks take the spectrum head's sums of the same frames */
	uint32_t rise_wait;  /* windows until the next one; 0: this window */
	float rise_last;     /* what the last evaluation added, carried by the windows between */
	float rise_last_terms[DETECTOR_N_RISE_HEADS]; /* and what each rise head added to it */
	struct detector_rise_at rise_last_at[DETECTOR_N_RISE_HEADS]; /* and where it rose most */
	uint32_t n_mels, n_stack, rate_hz, hop; /* hop: samples between frames */
	uint32_t window_vectors, hop_vectors;
	float threshold;

	/* Streaming frame k is complete once first_end + k * hop samples are in; the hop of samples
	 * that ends there is its "interval", whose mean square is the frame's level. */
	uint64_t first_end;
	uint32_t span_hops; /* intervals one stacked vector covers */
	double *intervals;  /* ring of the last span_hops interval mean squares */
	uint64_t n_intervals;
	double sumsq; /* squares of the current interval's samples so far */

	float *frames;      /* frame_cap x n_mels, oldest first: frames of vectors not yet scored */
	double *frame_ms;   /* frame_cap: each frame's interval mean square */
	double *frame_gate; /* frame_cap: quietest interval of the vector ending at that frame */
	size_t n_frames, frame_cap;
	float *vec_scores;  /* PIPELINE_BATCH_MAX_VECTORS */
	float *band_errors; /* PIPELINE_BATCH_MAX_VECTORS x n_mels */
	float *window_top;  /* window_vectors: scratch for a top-share window score; NULL for a
				model whose clip score is the plain mean */

	/* Windows wait settle_s before they are smoothed, decided and handed out, so that those
	 * of a machine running down can still be dropped when it stops (a ring of delay + 1). */
	struct pipeline_window *pending; /* scored, not yet smoothed nor decided */
	float *pending_bands;            /* (delay + 1) x n_mels */
	float *pending_head_features;    /* (delay + 1) x head dim, with a window head */
	float *pending_rise_features;    /* (delay + 1) x rise dims, with rise heads */
	uint32_t delay, n_pending, pending_head;

	uint64_t stream_samples; /* since the (re)start */
	uint64_t frames_out;     /* frames since the (re)start */
	int64_t base_ms;         /* stream time of sample 0 */
};

void pipeline_settings_defaults(struct pipeline_settings *ps)
{
	ps->window_s = 2.0;
	ps->hop_s = 0.5;
	ps->smoothing = SMOOTHER_EMA;
	ps->smoothing_windows = 4;
	ps->threshold_set = false;
	ps->threshold = 0.0;
	ps->anomaly_after = 3;
	ps->normal_after = 5;
	ps->silence_dbfs = PIPELINE_SILENCE_DBFS_DEFAULT;
	ps->settle_s = 3.0;
}

static int invalid(const char **field, const char *name, struct auscult_err *err, const char *why,
		   double v)
{
	if (field)
		*field = name;
	return auscult_fail(err, AUSCULT_ERR_INVALID, "%s: %g %s", name, v, why);
}

int pipeline_settings_validate(const struct pipeline_settings *ps, const char **field,
			       struct auscult_err *err)
{
	if (field)
		*field = NULL;
	if (!(ps->window_s >= PIPELINE_WINDOW_S_MIN && ps->window_s <= PIPELINE_WINDOW_S_MAX))
		return invalid(field, "window_s", err, "is out of range [0.2, 60]", ps->window_s);
	if (!(ps->hop_s > 0.0 && ps->hop_s <= PIPELINE_HOP_S_MAX))
		return invalid(field, "hop_s", err, "is out of range (0, 60]", ps->hop_s);
	if (ps->hop_s > ps->window_s) {
		if (field)
			*field = "hop_s";
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%g s is longer than window_s (%g s), so audio between windows "
				    "would never be scored; make hop_s at most window_s",
				    ps->hop_s, ps->window_s);
	}
	if (ps->smoothing != SMOOTHER_NONE && ps->smoothing != SMOOTHER_EMA &&
	    ps->smoothing != SMOOTHER_MEDIAN)
		return invalid(field, "smoothing.method", err, "is not a smoothing method",
			       (double)ps->smoothing);
	if (ps->smoothing_windows < 1 || ps->smoothing_windows > PIPELINE_SMOOTHING_WINDOWS_MAX)
		return invalid(field, "smoothing.windows", err, "is out of range [1, 1000]",
			       (double)ps->smoothing_windows);
	if (ps->threshold_set && !(ps->threshold > 0.0 && isfinite(ps->threshold)))
		return invalid(field, "threshold", err, "is out of range (0, inf)", ps->threshold);
	if (ps->anomaly_after < 1 || ps->anomaly_after > PIPELINE_HYSTERESIS_MAX)
		return invalid(field, "hysteresis.anomaly_after", err, "is out of range [1, 10000]",
			       (double)ps->anomaly_after);
	if (ps->normal_after < 1 || ps->normal_after > PIPELINE_HYSTERESIS_MAX)
		return invalid(field, "hysteresis.normal_after", err, "is out of range [1, 10000]",
			       (double)ps->normal_after);
	if (!(ps->silence_dbfs == -INFINITY || (ps->silence_dbfs >= PIPELINE_SILENCE_DBFS_MIN &&
						ps->silence_dbfs <= PIPELINE_SILENCE_DBFS_MAX)))
		return invalid(field, "silence_dbfs", err, "is out of range [-200, 0]",
			       ps->silence_dbfs);
	if (!(ps->settle_s >= 0.0 && ps->settle_s <= PIPELINE_SETTLE_S_MAX))
		return invalid(field, "gate.settle_s", err, "is out of range [0, 600]",
			       ps->settle_s);
	return AUSCULT_OK;
}

/* ---- windows --------------------------------------------------------------------------------- */

/* Smooths, decides and hands out the oldest pending window. */
static void emit_oldest(struct pipeline *p)
{
	struct pipeline_window w = p->pending[p->pending_head];
	if (w.idle) {
		/* Smoothing restarts from the first counted window, not from before the stop. */
		smoother_reset(&p->sm);
		w.smoothed = NAN;
	} else {
		w.smoothed = smoother_process(&p->sm, w.raw);
	}
	detector_update(&p->det, w.time_ms, w.smoothed, w.idle, w.band_errors, &w.parts, &w.det);
	p->pending_head = p->pending_head == p->delay ? 0 : p->pending_head + 1;
	p->n_pending--;
	if (p->on_window)
		p->on_window(p->ctx, &w);
}

/* A window scored as the model scores a clip (--aggregate top:F: the mean of its largest share):
 * a plain mean over 2 s dilutes the brief bursts such a model is trained to show. Only the
 * vectors the gate counted take part; the ring's order does not matter to the share. */
static float window_top_score(struct pipeline *p, const struct window_score *ws)
{
	if (ws->n_counted == 0)
		return ws->score;
	uint32_t n = 0;
	for (uint32_t i = 0; i < p->ws.filled; i++)
		if (p->ws.counted[i])
			p->window_top[n++] = p->ws.scores[i];
	return model_clip_score(p->model, p->window_top, n);
}

/* rise_heads' terms are the detector's rise heads, in its order */
_Static_assert(DETECTOR_N_RISE_HEADS == (int)RISE_N_HEADS &&
		       (int)DETECTOR_RISE_ENVELOPE == (int)RISE_ENVELOPE &&
		       (int)DETECTOR_RISE_TONES == (int)RISE_TONES &&
		       (int)DETECTOR_RISE_IMPULSES == (int)RISE_IMPULSES &&
		       (int)DETECTOR_RISE_BURSTS == (int)RISE_BURSTS,
	       "rise_heads_gate's terms: envelope, tones, impulses, bursts");

/* A window's rise part: what the rise heads add, and what each of them added. */
static void add_rise(struct pipeline_window *pw, float rise,
		     const float terms[DETECTOR_N_RISE_HEADS],
		     const struct detector_rise_at at[DETECTOR_N_RISE_HEADS])
{
	pw->rise_raw = rise;
	pw->raw += rise;
	pw->parts.v[DETECTOR_PART_RISE] = rise;
	memcpy(pw->parts.rise, terms, sizeof(pw->parts.rise));
	memcpy(pw->parts.at, at, sizeof(pw->parts.at));
}

/*
 * The rise heads' features of the window that ends now (held with it, as the head's are) and,
 * once fitted, what they add to its score. They are evaluated once every rise_every windows
 * (about once a second, RISE_HEADS_EVERY_S): the windows between carry the last evaluation's
 * gate and no features of their own, so the fit sees each evaluation once.
 */
static void rise_window(struct pipeline *p, struct pipeline_window *pw, uint32_t slot)
{
	if (p->rise_wait > 0) {
		p->rise_wait--;
		if (p->rise.scoring && p->head.scoring)
			add_rise(pw, p->rise_last, p->rise_last_terms, p->rise_last_at);
		return;
	}
	p->rise_wait = p->rise_every - 1;
	uint64_t n_short, n_frames;
	const float *history = window_head_history(&p->head, &n_short);
	const float *power = feature_extractor_power(&p->fx, &n_frames);
	uint64_t n_blocks = 0;
	const float *blocks = p->rise.imp_dim ? impulse_envelope_ring(&p->impulses, &n_blocks)
					      : NULL;
	rise_heads_compute(&p->rise, history, p->rise.env_frames, p->head.bs.cfg.n_bands, n_short,
			   power, p->fx.power_bins, n_frames,
			   p->tone_sums ? p->head.spec.bin_sums : NULL, blocks, n_blocks);
	size_t dim = rise_heads_feature_dim(&p->rise);
	float *rf = p->pending_rise_features + (size_t)slot * dim;
	memcpy(rf, p->rise.features, dim * sizeof(float));
	pw->rise_features = rf;
	if (p->rise.scoring && p->head.scoring) {
		float gate = rise_heads_gate(&p->rise, NULL);
		p->rise_last = rise_heads_steady(&p->rise, gate);
		memcpy(p->rise_last_terms, p->rise.steady_terms, sizeof(p->rise_last_terms));
		for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++)
			p->rise_last_at[h] =
				(struct detector_rise_at){ p->rise.steady_at[h][RISE_AT_HZ],
							   p->rise.steady_at[h][RISE_AT_BAND_LO],
							   p->rise.steady_at[h][RISE_AT_BAND_HI] };
		add_rise(pw, p->rise_last, p->rise_last_terms, p->rise_last_at);
	}
}

static void finish_window(struct pipeline *p, const struct window_score *ws, int64_t now_ms)
{
	/* The window's last sample: the end of the newest frame of its newest vector. */
	uint64_t end = p->first_end + (ws->last_vector + p->n_stack - 1) * (uint64_t)p->hop;
	/* Fewer than half the window counted: what is left says too little about the machine. */
	bool idle = 2u * ws->n_counted < p->window_vectors;
	if (idle) {
		/* The machine stopped: the windows of its last settle_s (running down, fading out)
		 * say nothing about its health either. */
		for (uint32_t i = 0, k = p->pending_head; i < p->n_pending; i++) {
			p->pending[k].idle = true;
			k = k == p->delay ? 0 : k + 1;
		}
	}
	uint32_t slot = (p->pending_head + p->n_pending) % (p->delay + 1);
	struct pipeline_window *pw = &p->pending[slot];
	pw->index = ws->index;
	pw->stream_s = (double)end / (double)p->rate_hz;
	pw->time_ms = now_ms >= 0 ? now_ms : p->base_ms + (int64_t)(end * 1000 / p->rate_hz);
	pw->ae_raw = p->window_top ? window_top_score(p, ws) : ws->score;
	pw->head_raw = NAN;
	pw->head_features = NULL;
	pw->raw = pw->ae_raw;
	pw->parts.v[DETECTOR_PART_NETWORK] = pw->ae_raw;
	pw->parts.v[DETECTOR_PART_WINDOW_HEAD] = NAN;
	pw->parts.v[DETECTOR_PART_RISE] = NAN;
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++) {
		pw->parts.rise[h] = NAN;
		pw->parts.at[h] = (struct detector_rise_at){ NAN, NAN, NAN };
	}
	if (p->model->head) {
		if (p->head.kind == WINDOW_HEAD_SPECTRUM) {
			uint64_t n_power;
			const float *power = feature_extractor_power(&p->fx, &n_power);
			window_head_take_spectrum(&p->head, power, p->fx.power_frames,
						  p->fx.power_bins, n_power);
		}
		/* held with the window, as its band errors are */
		float *hf = p->pending_head_features + (size_t)slot * p->head.dim;
		memcpy(hf, window_head_features(&p->head), p->head.dim * sizeof(float));
		pw->head_features = hf;
		if (p->head.scoring) {
			pw->head_raw = window_head_score(&p->head);
			/* the log tames the head's heavy tail on recordings it never saw:
			 * unseen normals differ from the training ones far more than
			 * windows of one recording do */
			float network = pw->ae_raw / p->model->head->ae_median;
			double head = log1p(pw->head_raw / p->model->head->head_median);
			pw->raw = (float)(network + head);
			pw->parts.v[DETECTOR_PART_NETWORK] = network;
			pw->parts.v[DETECTOR_PART_WINDOW_HEAD] = (float)head;
		}
	}
	pw->rise_raw = NAN;
	pw->rise_features = NULL;
	if (p->model->rise) {
		if (idle) { /* a stopped machine's evaluations say nothing of the next start */
			p->rise_wait = 0;
			rise_heads_restart(&p->rise);
		}
		rise_window(p, pw, slot);
	}
	pw->rms_dbfs = ws->rms_dbfs;
	pw->n_counted = ws->n_counted;
	pw->idle = idle;
	pw->band_errors = p->pending_bands + (size_t)slot * p->n_mels;
	memcpy(p->pending_bands + (size_t)slot * p->n_mels, ws->band_errors,
	       p->n_mels * sizeof(float));
	pw->smoothed = NAN;
	memset(&pw->det, 0, sizeof(pw->det));
	p->n_pending++;
	if (p->n_pending > p->delay)
		emit_oldest(p);
}

void pipeline_flush(struct pipeline *p)
{
	while (p->n_pending > 0)
		emit_oldest(p);
}

/* Vectors whose frames are all held: none of them is scored yet. */
static size_t vectors_held(const struct pipeline *p)
{
	return p->n_frames >= p->n_stack ? p->n_frames - p->n_stack + 1 : 0;
}

/* Scores the held vectors in batches, each ending at the vector that completes a window (or at
 * PIPELINE_BATCH_MAX_VECTORS); vectors short of the next window stay held. */
static void score_held(struct pipeline *p, int64_t now_ms)
{
	for (;;) {
		size_t held = vectors_held(p);
		size_t n = window_scorer_until_window(&p->ws);
		if (n > PIPELINE_BATCH_MAX_VECTORS)
			n = PIPELINE_BATCH_MAX_VECTORS;
		if (held < n)
			return;
		autoencoder_score(&p->ae, p->frames, p->n_mels, n, p->vec_scores, p->band_errors);
		for (size_t v = 0; v < n; v++) {
			size_t newest = v + p->n_stack - 1;
			int counted = gate_push(&p->gate, p->frame_gate[newest]);
			struct window_score w;
			if (window_scorer_push(&p->ws, p->vec_scores[v],
					       p->band_errors + v * p->n_mels, p->frame_ms[newest],
					       counted, &w))
				finish_window(p, &w, now_ms);
		}
		/* Drop the n frames that only scored vectors started at; keep the rest. */
		size_t keep = p->n_frames - n;
		memmove(p->frames, p->frames + n * p->n_mels, keep * p->n_mels * sizeof(float));
		memmove(p->frame_ms, p->frame_ms + n, keep * sizeof(double));
		memmove(p->frame_gate, p->frame_gate + n, keep * sizeof(double));
		p->n_frames = keep;
	}
}

/* A frame came out: note its level and the level of the vector it completes. */
static void frame_done(struct pipeline *p)
{
	double ms = p->sumsq / (double)p->hop;
	p->sumsq = 0.0;
	p->intervals[p->n_intervals % p->span_hops] = ms;
	p->n_intervals++;
	uint64_t have = p->n_intervals < p->span_hops ? p->n_intervals : p->span_hops;
	double quietest = ms;
	for (uint64_t i = 0; i < have; i++)
		if (p->intervals[i] < quietest)
			quietest = p->intervals[i];
	p->frame_ms[p->n_frames] = ms;
	p->frame_gate[p->n_frames] = quietest;
	p->n_frames++;
	p->frames_out++;
}

/*
 * The sum of n squares, in eight float lanes the compiler vectorises, added up in double: one
 * double accumulator chained every sample through its add's latency, the largest cost of a
 * replayed clip after the FFTs. A piece is at most one hop of samples, so each lane sums a few
 * hundred squares (relative error ~1e-6, far below the gate's decibel).
 */
static double sum_squares(const float *x, size_t n)
{
	float lane[8] = { 0 };
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int k = 0; k < 8; k++)
			lane[k] += x[i + k] * x[i + k];
	double s = 0.0;
	for (int k = 0; k < 8; k++)
		s += lane[k];
	for (; i < n; i++)
		s += (double)x[i] * x[i];
	return s;
}

void pipeline_push(struct pipeline *p, const float *x, size_t n, int64_t now_ms)
{
	/* Pieces that end at frame boundaries, so each frame's level is its own interval's,
	 * whatever the caller's read size. */
	while (n > 0) {
		uint64_t next_end = p->first_end + p->frames_out * p->hop;
		uint64_t start = next_end - p->hop;
		size_t take = (size_t)(next_end - p->stream_samples);
		if (take > n)
			take = n;
		size_t skip = start > p->stream_samples ? (size_t)(start - p->stream_samples) : 0;
		if (take > skip)
			p->sumsq += sum_squares(x + skip, take - skip);
		if (p->model->head)
			window_head_push(&p->head, x, take);
		if (p->rise.imp_dim)
			impulse_envelope_push(&p->impulses, x, take);
		size_t got = feature_extractor_push(&p->fx, x, take,
						    p->frames + p->n_frames * p->n_mels);
		p->stream_samples += take;
		x += take;
		n -= take;
		if (got) {
			frame_done(p);
			score_held(p, now_ms);
		} else if (p->stream_samples == next_end) {
			/* Cannot happen while first_end matches the framer; never loop on it. */
			p->sumsq = 0.0;
			p->frames_out++;
		}
	}
}

size_t pipeline_samples_to_next_window(const struct pipeline *p)
{
	size_t need = window_scorer_until_window(&p->ws);
	size_t frames_for = need + p->n_stack - 1;
	size_t frames = frames_for > p->n_frames ? frames_for - p->n_frames : 1;
	uint64_t next_end = p->first_end + p->frames_out * p->hop;
	return (size_t)(next_end - p->stream_samples) + (frames - 1) * p->hop;
}

void pipeline_restart(struct pipeline *p, int64_t base_ms)
{
	pipeline_flush(p);
	feature_extractor_reset(&p->fx);
	if (p->model->head)
		window_head_reset(&p->head);
	if (p->rise.imp_dim)
		impulse_envelope_reset(&p->impulses);
	gate_reset(&p->gate);
	window_scorer_reset(&p->ws);
	smoother_reset(&p->sm);
	p->rise_wait = 0;
	if (p->model->rise)
		rise_heads_restart(&p->rise);
	p->n_frames = 0;
	p->n_intervals = 0;
	p->sumsq = 0.0;
	p->stream_samples = 0;
	p->frames_out = 0;
	p->base_ms = base_ms;
}

int64_t pipeline_stream_end_ms(const struct pipeline *p)
{
	return p->base_ms + (int64_t)(p->stream_samples * 1000 / p->rate_hz);
}

void pipeline_set_fault(struct pipeline *p, int64_t time_ms, struct detector_output *out)
{
	pipeline_flush(p);
	detector_set_fault(&p->det, time_ms, out);
}

void pipeline_stop(struct pipeline *p, int64_t time_ms, struct detector_output *out)
{
	pipeline_flush(p);
	detector_stop(&p->det, time_ms, out);
}

enum detector_state pipeline_state(const struct pipeline *p)
{
	return detector_get_state(&p->det);
}

float pipeline_threshold(const struct pipeline *p)
{
	return p->threshold;
}

uint32_t pipeline_window_vectors(const struct pipeline *p)
{
	return p->window_vectors;
}

uint32_t pipeline_hop_vectors(const struct pipeline *p)
{
	return p->hop_vectors;
}

/* Samples per read of a replayed file. The windows do not depend on it (pipeline_push cuts
 * every read at frame ends); 0.5 s a read instead of the daemon's 0.1 s saved a tenth of a
 * head model's clip score in reads (bench_score: 1.76 -> 1.62 ms). */
#define REPLAY_READ_SAMPLES 8000

int pipeline_replay_file(struct pipeline *p, const char *path, int channel,
			 enum pipeline_replay_notes notes, struct auscult_err *err)
{
	struct audio_source_config sc;
	memset(&sc, 0, sizeof(sc));
	sc.kind = AUDIO_SOURCE_FILE;
	sc.path = path;
	sc.device_index = -1;
	sc.channel = channel;
	sc.output_rate_hz = p->rate_hz;
	struct audio_source *src = NULL;
	int rc = audio_source_open(&src, &sc, err);
	if (rc != AUSCULT_OK)
		return rc;
	if (notes == PIPELINE_REPLAY_WARN && audio_source_warning(src))
		log_warn("%s; scoring the part that is there", audio_source_warning(src));
	pipeline_restart(p, 0);
	float buf[REPLAY_READ_SAMPLES];
	for (;;) {
		size_t got = 0;
		rc = audio_source_read(src, buf, REPLAY_READ_SAMPLES, &got, 1000, err);
		if (rc == AUSCULT_ERR_EOF) {
			pipeline_flush(p);
			rc = AUSCULT_OK;
			break;
		}
		if (rc != AUSCULT_OK && rc != AUSCULT_ERR_TIMEOUT)
			break;
		pipeline_push(p, buf, got, -1);
	}
	audio_source_close(src);
	return rc;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

void pipeline_destroy(struct pipeline *p)
{
	if (!p)
		return;
	feature_extractor_free(&p->fx);
	autoencoder_free(&p->ae);
	window_scorer_free(&p->ws);
	smoother_free(&p->sm);
	detector_free(&p->det);
	window_head_free(&p->head);
	impulse_envelope_free(&p->impulses);
	rise_heads_free(&p->rise);
	free(p->intervals);
	free(p->frames);
	free(p->frame_ms);
	free(p->frame_gate);
	free(p->vec_scores);
	free(p->band_errors);
	free(p->window_top);
	free(p->pending);
	free(p->pending_bands);
	free(p->pending_head_features);
	free(p->pending_rise_features);
	free(p);
}

double pipeline_input_s(const struct feature_params *fp)
{
	return (double)(fp->n_fft + (fp->n_stack - 1) * fp->hop_length) /
	       (double)fp->sample_rate_hz;
}

int pipeline_create(struct pipeline **out, const struct pipeline_config *cfg,
		    struct auscult_err *err)
{
	*out = NULL;
	int rc = pipeline_settings_validate(&cfg->settings, NULL, err);
	if (rc)
		return rc;
	double input_s = pipeline_input_s(&cfg->model->features);
	if (cfg->settings.window_s < input_s)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "window_s: %g s is shorter than one input of the model (%.3f s "
				    "of audio); make it at least that",
				    cfg->settings.window_s, input_s);
	struct pipeline *p = calloc(1, sizeof(*p));
	if (!p)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "pipeline: out of memory");
	const struct pipeline_settings *ps = &cfg->settings;
	const struct feature_params *fp = &cfg->model->features;
	p->model = cfg->model;
	p->settings = *ps;
	p->on_window = cfg->on_window;
	p->ctx = cfg->ctx;
	p->n_mels = fp->n_mels;
	p->n_stack = fp->n_stack;
	p->rate_hz = fp->sample_rate_hz;
	p->hop = fp->hop_length;
	if ((rc = feature_extractor_init(&p->fx, fp, FRAMING_STREAMING, err)) != AUSCULT_OK ||
	    (rc = autoencoder_init(&p->ae, p->model, PIPELINE_BATCH_MAX_VECTORS, err)) !=
		    AUSCULT_OK)
		goto fail;

	/* Streaming frame 0 is centred frame t0 = ceil(pad / hop) and ends at t0 hop + pad
	 * (1024 samples for the baseline; framer.h). */
	uint32_t pad = fp->n_fft / 2;
	p->first_end = (uint64_t)((pad + p->hop - 1) / p->hop) * p->hop + pad;
	p->span_hops = (fp->n_fft + (p->n_stack - 1) * p->hop + p->hop - 1) / p->hop;

	struct window_scorer_config wc;
	window_scorer_config_defaults(&wc);
	wc.window_vectors = feature_params_vectors_in(fp, ps->window_s);
	wc.hop_vectors = feature_params_vectors_in(fp, ps->hop_s);
	if (wc.hop_vectors > wc.window_vectors)
		wc.hop_vectors = wc.window_vectors;
	wc.n_mels = p->n_mels;
	p->window_vectors = wc.window_vectors;
	p->hop_vectors = wc.hop_vectors;
	struct gate_config gc;
	gc.silence_dbfs = (float)ps->silence_dbfs;
	/* A run of off vectors that alone makes a window idle means the machine stopped. */
	gc.off_vectors = (wc.window_vectors + 1) / 2;
	gc.settle_vectors = ps->settle_s > 0.0 ? feature_params_vectors_in(fp, ps->settle_s) : 0;
	struct smoother_config smc = { .kind = ps->smoothing, .n_windows = ps->smoothing_windows };
	p->threshold = ps->threshold_set ? (float)ps->threshold : cfg->model->threshold.threshold;
	struct detector_config dc;
	detector_config_defaults(&dc);
	dc.threshold = p->threshold;
	dc.anomaly_after = ps->anomaly_after;
	dc.normal_after = ps->normal_after;
	dc.n_mels = p->n_mels;
	dc.fmin_hz = fp->fmin_hz;
	dc.fmax_hz = fp->fmax_hz;
	if ((rc = window_scorer_init(&p->ws, &wc, err)) != AUSCULT_OK ||
	    (rc = gate_init(&p->gate, &gc, err)) != AUSCULT_OK ||
	    (rc = smoother_init(&p->sm, &smc, err)) != AUSCULT_OK ||
	    (rc = detector_init(&p->det, &dc, err)) != AUSCULT_OK)
		goto fail;
	/* A piece pushed at once never passes a frame's end: at most the first frame's samples. */
	const struct model_rise_heads *rise = cfg->model->head ? cfg->model->rise : NULL;
	uint32_t history = rise ? rise_heads_envelope_frames(rise, cfg->model->head, fp,
							     wc.window_vectors)
				: 0;
	if (cfg->model->head &&
	    (rc = window_head_init(&p->head, cfg->model->head, fp, wc.window_vectors,
				   (size_t)p->first_end + p->hop, history, err)) != AUSCULT_OK)
		goto fail;
	if (rise) {
		long every = lround(RISE_HEADS_EVERY_S / ps->hop_s);
		p->rise_every = every < 1 ? 1u : (uint32_t)every;
	}
	/* the front end's spectra of a window's frames: the tonal peaks' and a spectrum head's */
	uint32_t power_bins = cfg->model->head ? window_head_spectrum_bins(cfg->model->head) : 0;
	if (rise && rise->tone_bins > power_bins)
		power_bins = rise->tone_bins;
	if (power_bins && (rc = feature_extractor_keep_power(&p->fx, power_bins, wc.window_vectors,
							     err)) != AUSCULT_OK)
		goto fail;
	if (rise && ((rc = rise_heads_init(&p->rise, rise, cfg->model->head, fp, wc.window_vectors,
					   err)) != AUSCULT_OK ||
		     (p->rise.imp_dim &&
		      (rc = impulse_envelope_init(&p->impulses, rise->imp_block, p->rise.imp_frames,
						  err)) != AUSCULT_OK)))
		goto fail;

	/* A spectrum head sums the window's frames bin by bin before the rise heads run: the
	 * tonal peaks use its sums when they cover the same frames and bins (the same bits). */
	p->tone_sums = rise && cfg->model->head->kind == WINDOW_HEAD_SPECTRUM &&
		       window_head_spectrum_bins(cfg->model->head) >= rise->tone_bins &&
		       p->head.spec.cfg.n_frames == p->rise.tone_frames;

	/* Held frames never exceed a batch's vectors plus their context, and one more comes in
	 * before the batch is scored. */
	p->delay = (gc.settle_vectors + wc.hop_vectors - 1) / wc.hop_vectors;
	p->pending = calloc((size_t)p->delay + 1, sizeof(*p->pending));
	p->pending_bands = calloc(((size_t)p->delay + 1) * p->n_mels, sizeof(float));
	p->frame_cap = p->n_stack - 1 + PIPELINE_BATCH_MAX_VECTORS + 1;
	p->intervals = calloc(p->span_hops, sizeof(*p->intervals));
	p->frames = calloc(p->frame_cap * p->n_mels, sizeof(float));
	p->frame_ms = calloc(p->frame_cap, sizeof(double));
	p->frame_gate = calloc(p->frame_cap, sizeof(double));
	p->vec_scores = calloc(PIPELINE_BATCH_MAX_VECTORS, sizeof(float));
	p->band_errors = calloc((size_t)PIPELINE_BATCH_MAX_VECTORS * p->n_mels, sizeof(float));
	if (cfg->model->aggregation == CLIP_AGG_TOP_MEAN)
		p->window_top = calloc(wc.window_vectors, sizeof(float));
	if (cfg->model->head) {
		p->pending_head_features = calloc(((size_t)p->delay + 1) * p->head.dim,
						  sizeof(float));
		if (!p->pending_head_features) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "pipeline: out of memory");
			goto fail;
		}
	}
	if (rise) {
		p->pending_rise_features = calloc(((size_t)p->delay + 1) *
							  rise_heads_feature_dim(&p->rise),
						  sizeof(float));
		if (!p->pending_rise_features) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "pipeline: out of memory");
			goto fail;
		}
	}
	if (!p->pending || !p->pending_bands || !p->intervals || !p->frames || !p->frame_ms ||
	    !p->frame_gate || !p->vec_scores || !p->band_errors ||
	    (cfg->model->aggregation == CLIP_AGG_TOP_MEAN && !p->window_top)) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "pipeline: out of memory");
		goto fail;
	}
	*out = p;
	return AUSCULT_OK;
fail:
	pipeline_destroy(p);
	return rc;
}
