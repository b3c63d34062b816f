/* test_pipeline.c - the scoring pipeline on real WAV with the shipped model, no threads, no devices. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../features/features_test_util.h"
#include "model/model_file.h"
#include "model/window_head.h"
#include "pipeline/pipeline.h"

#define MODEL_PATH AUSCULT_SOURCE_DIR "/models/pump_id00.am"
#define NORMAL_A AUSCULT_SHARED_DIR "/data/dcase2020_id00/train/normal_id_00_00000060.wav"
#define NORMAL_B AUSCULT_SHARED_DIR "/data/dcase2020_id00/train/normal_id_00_00000061.wav"
#define MAX_WINDOWS 512

/* What the callback saw. */
struct record {
	size_t n;
	struct pipeline_window w[MAX_WINDOWS];
	int events, starts;
	size_t idle;
};

static void collect(void *ctx, const struct pipeline_window *w)
{
	struct record *r = ctx;
	if (r->n < MAX_WINDOWS) {
		r->w[r->n] = *w;
		r->w[r->n].band_errors = NULL; /* valid during the call only */
	}
	r->n++;
	r->events += w->det.has_event;
	r->starts += w->det.has_event && w->det.event.type == DETECTOR_EVENT_START;
	r->idle += w->idle;
}

struct fixture {
	struct model m;
	float *a, *b; /* two held-out normal clips, 10 s at 16 kHz */
	size_t na, nb;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct auscult_err err;
	assert_int_equal(model_load(&f->m, MODEL_PATH, &err), AUSCULT_OK);
	f->a = util_read_wav(NORMAL_A, &f->na);
	f->b = util_read_wav(NORMAL_B, &f->nb);
	assert_non_null(f->a);
	assert_non_null(f->b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	model_free(&f->m);
	free(f->a);
	free(f->b);
	free(f);
	return 0;
}

static struct pipeline *make(struct fixture *f, const struct pipeline_settings *ps,
			     struct record *r)
{
	struct pipeline_config pc = { .model = &f->m, .on_window = collect, .ctx = r };
	if (ps)
		pc.settings = *ps;
	else
		pipeline_settings_defaults(&pc.settings);
	struct pipeline *p = NULL;
	struct auscult_err err;
	if (pipeline_create(&p, &pc, &err) != AUSCULT_OK)
		fail_msg("pipeline_create: %s", err.msg);
	memset(r, 0, sizeof(*r));
	return p;
}

static void push_chunks(struct pipeline *p, const float *x, size_t n, size_t chunk)
{
	for (size_t i = 0; i < n; i += chunk)
		pipeline_push(p, x + i, n - i < chunk ? n - i : chunk, -1);
}

/* Each setting out of range is refused and named by its YAML key. */
static void test_settings_validation(void **state)
{
	(void)state;
	struct pipeline_settings ps;
	const char *field = "x";
	struct auscult_err err;
	pipeline_settings_defaults(&ps);
	assert_int_equal(pipeline_settings_validate(&ps, &field, &err), AUSCULT_OK);
	assert_null(field);
	assert_float_equal(ps.window_s, 2.0, 0);
	assert_float_equal(ps.settle_s, 3.0, 0);
	assert_int_equal(ps.smoothing, SMOOTHER_EMA);

	static const char *const fields[] = {
		"window_s",
		"hop_s",
		"hop_s",
		"smoothing.windows",
		"threshold",
		"hysteresis.anomaly_after",
		"hysteresis.normal_after",
		"silence_dbfs",
		"gate.settle_s",
	};
	for (int i = 0; i < 9; i++) {
		pipeline_settings_defaults(&ps);
		switch (i) {
		case 0:
			ps.window_s = 0.1;
			break;
		case 1:
			ps.hop_s = 0.0;
			break;
		case 2:
			ps.hop_s = 3.0;
			break; /* longer than the window */
		case 3:
			ps.smoothing_windows = 1001;
			break;
		case 4:
			ps.threshold_set = true;
			ps.threshold = -1.0;
			break;
		case 5:
			ps.anomaly_after = 0;
			break;
		case 6:
			ps.normal_after = 10001;
			break;
		case 7:
			ps.silence_dbfs = 3.0;
			break;
		default:
			ps.settle_s = NAN;
			break;
		}
		assert_int_equal(pipeline_settings_validate(&ps, &field, &err),
				 AUSCULT_ERR_INVALID);
		assert_string_equal(field, fields[i]);
	}
	assert_int_equal(pipeline_settings_validate(&ps, NULL, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "gate.settle_s"));
	/* -inf turns the gate off and is valid; create refuses what validate refuses. */
	pipeline_settings_defaults(&ps);
	ps.silence_dbfs = -INFINITY;
	assert_int_equal(pipeline_settings_validate(&ps, NULL, &err), AUSCULT_OK);
}

/* Windows do not depend on how the samples are split into pushes; their number, spacing and
 * times follow from window_s and hop_s; normal sound stays normal with no event. */
static void test_chunking_and_windows(void **state)
{
	struct fixture *f = *state;
	static struct record r1, r2, r3;
	struct pipeline *p1 = make(f, NULL, &r1);
	struct pipeline *p2 = make(f, NULL, &r2);
	struct pipeline *p3 = make(f, NULL, &r3);
	push_chunks(p1, f->a, f->na, f->na);
	push_chunks(p2, f->a, f->na, 1600);
	push_chunks(p3, f->a, f->na, 7);
	pipeline_flush(p1);
	pipeline_flush(p2);
	pipeline_flush(p3);
	/* The shipped model's frames are hop samples apart: a 2-s window of w vectors every h. */
	const uint32_t hop = f->m.features.hop_length;
	const size_t w = pipeline_window_vectors(p1), h = pipeline_hop_vectors(p1);
	assert_int_equal(w, lround(2.0 * 16000.0 / hop));
	assert_int_equal(h, lround(0.5 * 16000.0 / hop));
	/* 10 s: 1 + (vectors - w) / h windows; vectors = frames - 4, frames = (n - 1024) / hop + 1 */
	size_t frames = (f->na - 1024) / hop + 1, vectors = frames - 4;
	size_t want = 1 + (vectors - w) / h;
	assert_int_equal(r1.n, want);
	assert_int_equal(r2.n, want);
	assert_int_equal(r3.n, want);
	for (size_t i = 0; i < want; i++) {
		/* Batches differ (BLAS kernels may round differently), values must not beyond that. */
		assert_float_equal(r1.w[i].raw, r2.w[i].raw, 1e-4 * r1.w[i].raw);
		assert_float_equal(r1.w[i].raw, r3.w[i].raw, 1e-4 * r1.w[i].raw);
		assert_float_equal(r1.w[i].smoothed, r3.w[i].smoothed, 1e-4 * r1.w[i].raw);
		assert_int_equal(r1.w[i].det.state, r3.w[i].det.state);
		assert_int_equal(r1.w[i].index, i);
		/* The first window ends with vector w - 1, whose newest frame is w + 3. Streaming
		 * frame k is centred frame k + 1 (the first that needs no padding, hop >= 512): it
		 * covers samples [hop (k + 1) - 512, hop (k + 1) + 512). */
		double end_s = (((double)w + 4.0 + (double)h * (double)i) * hop + 512.0) / 16000.0;
		assert_float_equal(r1.w[i].stream_s, end_s, 1e-9);
		assert_int_equal(r1.w[i].time_ms, (int64_t)(end_s * 1000.0));
		assert_int_equal(r1.w[i].n_counted, w);
		assert_false(r1.w[i].idle);
		assert_int_equal(r1.w[i].det.state, DETECTOR_NORMAL);
		/* A held-out normal clip scores below the shipped threshold, not out of its reach
		 * (the threshold is a high quantile of the tail of such windows). */
		assert_true(r1.w[i].raw > 0.1f * pipeline_threshold(p1) &&
			    r1.w[i].raw < pipeline_threshold(p1));
	}
	assert_int_equal(r1.events, 0);
	pipeline_destroy(p1);
	pipeline_destroy(p2);
	pipeline_destroy(p3);
}

/* What a head model's windows gave: both parts, the sum and the head's features (copied: the
 * pointer is valid during the callback only). */
struct head_record {
	size_t n;
	float raw[MAX_WINDOWS], ae[MAX_WINDOWS], head[MAX_WINDOWS];
	float features[MAX_WINDOWS][2 * WINDOW_HEAD_N_BANDS];
	uint32_t dim; /* features per window: the head's (0 without one) */
	int no_features;
};

static void collect_head(void *ctx, const struct pipeline_window *w)
{
	struct head_record *r = ctx;
	if (r->n >= MAX_WINDOWS)
		return;
	r->raw[r->n] = w->raw;
	r->ae[r->n] = w->ae_raw;
	r->head[r->n] = w->head_raw;
	if (w->head_features)
		memcpy(r->features[r->n], w->head_features, r->dim * sizeof(float));
	else
		r->no_features++;
	r->n++;
}

static void replay_head(const struct model *m, const float *x, size_t n, size_t chunk,
			struct head_record *r)
{
	struct pipeline_config pc = { .model = m, .on_window = collect_head, .ctx = r };
	r->dim = m->head ? m->head->dim : 0;
	assert_true(r->dim <= 2 * WINDOW_HEAD_N_BANDS);
	pipeline_settings_defaults(&pc.settings);
	struct pipeline *p = NULL;
	struct auscult_err err;
	if (pipeline_create(&p, &pc, &err) != AUSCULT_OK)
		fail_msg("pipeline_create: %s", err.msg);
	memset(r, 0, sizeof(*r));
	push_chunks(p, x, n, chunk);
	pipeline_flush(p);
	pipeline_destroy(p);
}

/*
 * A window head with hand-set statistics (mean 0, std 1, precision I: the score is the mean
 * square of the features) joins the autoencoder's window score as ae / ae_median +
 * ln(1 + head / head_median), the same at any read size; without a head, nothing changes.
 * (The shipped model's own head and the rise heads on it are set aside meanwhile.)
 */
static void test_window_head_sum(void **state)
{
	struct fixture *f = *state;
	static struct head_record plain, r1, r2;
	struct model_window_head *shipped = f->m.head;
	struct model_rise_heads *shipped_rise = f->m.rise;
	f->m.head = NULL;
	f->m.rise = NULL;
	replay_head(&f->m, f->a, f->na, 1600, &plain);
	assert_null(f->m.head);
	struct model_window_head *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	window_head_config_defaults(h, NULL, &f->m.features);
	h->ae_median = 2.0f;
	h->head_median = 3000.0f;
	h->mean = calloc(h->dim, sizeof(float));
	h->inv_std = malloc(h->dim * sizeof(float));
	h->precision = calloc((size_t)h->dim * h->dim, sizeof(float));
	assert_true(h->mean && h->inv_std && h->precision);
	for (uint32_t i = 0; i < h->dim; i++) {
		h->inv_std[i] = 1.0f;
		h->precision[(size_t)i * h->dim + i] = 1.0f;
	}
	f->m.head = h;
	replay_head(&f->m, f->a, f->na, 1600, &r1);
	replay_head(&f->m, f->a, f->na, 7, &r2);
	f->m.head = shipped;
	f->m.rise = shipped_rise;
	model_window_head_free(h);

	assert_true(plain.n > 10);
	assert_int_equal(plain.no_features, plain.n);
	assert_int_equal(r1.n, plain.n);
	assert_int_equal(r1.no_features, 0);
	for (size_t i = 0; i < plain.n; i++) {
		assert_true(isnan(plain.head[i]));
		assert_float_equal(plain.raw[i], plain.ae[i], 0.0);
		assert_float_equal(r1.ae[i], plain.ae[i], 1e-6 * plain.ae[i]);
		double sq = 0.0;
		for (uint32_t k = 0; k < r1.dim; k++)
			sq += (double)r1.features[i][k] * r1.features[i][k];
		assert_float_equal(r1.head[i], sq / r1.dim, 1e-4 * r1.head[i]);
		double want = r1.ae[i] / 2.0 + log1p(r1.head[i] / 3000.0);
		assert_float_equal(r1.raw[i], want, 1e-5 * want);
		/* band levels of a 16-bit recording in dB, spreads of a few dB */
		for (uint32_t b = 0; b < r1.dim / 2; b++) {
			assert_true(r1.features[i][b] > -100.0f && r1.features[i][b] < 100.0f);
			float spread = r1.features[i][r1.dim / 2 + b];
			assert_true(spread > 0.1f && spread < 20.0f);
		}
		assert_float_equal(r2.head[i], r1.head[i], 1e-4 * r1.head[i]);
		assert_float_equal(r2.raw[i], r1.raw[i], 1e-4 * r1.raw[i]);
	}
}

/* pipeline_samples_to_next_window is exact: pushing that many samples completes one window. */
static void test_samples_to_next_window(void **state)
{
	struct fixture *f = *state;
	static struct record r;
	struct pipeline_settings ps;
	pipeline_settings_defaults(&ps);
	ps.settle_s = 0.0; /* windows come out at once */
	struct pipeline *p = make(f, &ps, &r);
	size_t at = 0;
	for (int k = 0; k < 5; k++) {
		size_t n = pipeline_samples_to_next_window(p);
		assert_true(n >= 1 && at + n <= f->na);
		pipeline_push(p, f->a + at, n - 1, -1);
		assert_int_equal(r.n, (size_t)k);
		pipeline_push(p, f->a + at + n - 1, 1, -1);
		assert_int_equal(r.n, (size_t)k + 1);
		at += n;
	}
	/* The first window needs (w + 4) x hop + 512 samples (test_chunking_and_windows). */
	double w = (double)pipeline_window_vectors(p), hop = f->m.features.hop_length;
	assert_float_equal(r.w[0].stream_s, ((w + 4.0) * hop + 512.0) / 16000.0, 1e-9);
	pipeline_destroy(p);
}

/* Normal, 20 s of silence, normal: no event; normal -> idle -> normal; idle windows carry no
 * smoothed score; the first counted window after the stop starts the smoothing afresh. */
static void test_machine_off_and_on(void **state)
{
	struct fixture *f = *state;
	static struct record r;
	struct pipeline *p = make(f, NULL, &r);
	size_t n_sil = 20 * 16000;
	float *zeros = calloc(n_sil, sizeof(float));
	assert_non_null(zeros);
	push_chunks(p, f->a, f->na, 1600);
	push_chunks(p, zeros, n_sil, 1600);
	push_chunks(p, f->b, f->nb, 1600);
	pipeline_flush(p);
	assert_int_equal(r.events, 0);
	enum detector_state seen[8];
	int n_seen = 0;
	for (size_t i = 0; i < r.n && i < MAX_WINDOWS; i++) {
		const struct pipeline_window *w = &r.w[i];
		if (n_seen == 0 || seen[n_seen - 1] != w->det.state) {
			assert_true(n_seen < 8);
			seen[n_seen++] = w->det.state;
		}
		assert_int_equal(w->idle, w->det.state == DETECTOR_IDLE);
		if (w->idle)
			assert_true(isnan(w->smoothed));
		/* The first window after idle is not smoothed with anything before it. */
		if (i > 0 && r.w[i - 1].idle && !w->idle)
			assert_float_equal(w->smoothed, w->raw, 0);
		/* No window in the silence counts (the gate judges vectors) */
		if (w->stream_s > 12.0 && w->stream_s < 30.0)
			assert_true(w->idle);
	}
	assert_int_equal(n_seen, 3);
	assert_int_equal(seen[0], DETECTOR_NORMAL);
	assert_int_equal(seen[1], DETECTOR_IDLE);
	assert_int_equal(seen[2], DETECTOR_NORMAL);
	/* Back to normal only after the settle time (3 s) and half a window counted (1 s). */
	for (size_t i = 0; i < r.n; i++)
		if (r.w[i].stream_s > 30.0 && !r.w[i].idle) {
			assert_true(r.w[i].stream_s >= 33.9);
			break;
		}
	free(zeros);
	pipeline_destroy(p);
}

/* Loud sound out of nowhere right after a switch-on (the model has never seen it): an anomaly
 * once the settle time has passed, not a missed one. */
static void test_fault_after_switch_on(void **state)
{
	struct fixture *f = *state;
	static struct record r;
	struct pipeline *p = make(f, NULL, &r);
	size_t n_sil = 10 * 16000;
	float *x = calloc(n_sil + f->nb, sizeof(float));
	assert_non_null(x);
	/* The machine starts with a whine 10 dB above its own sound: a fault from the start. */
	for (size_t i = 0; i < f->nb; i++)
		x[n_sil + i] = f->b[i] +
			       0.1f * sinf(2.0f * (float)M_PI * 3150.0f * (float)i / 16000.0f);
	push_chunks(p, f->a, f->na, 1600);
	push_chunks(p, x, n_sil + f->nb, 1600);
	pipeline_flush(p);
	assert_int_equal(r.starts, 1);
	for (size_t i = 0; i < r.n; i++)
		if (r.w[i].det.has_event) {
			/* the rise heads count a steady fault from their fourth evaluation (about
			 * 4 s) after the settle time (3 s), then the hysteresis (3 windows) */
			if (!(r.w[i].stream_s > 23.0 && r.w[i].stream_s < 29.0))
				fail_msg("event at %.3f s, expected 23-29 s", r.w[i].stream_s);
			/* the shipped model's event names its three parts, and its four rise
			 * heads, of which the tonal peaks heard the whine most */
			const struct detector_event *ev = &r.w[i].det.event;
			assert_int_equal(ev->parts_seen, 7u);
			assert_int_equal(ev->rise_seen, 15u);
			assert_true(ev->parts.rise[DETECTOR_RISE_TONES] >
				    ev->parts.rise[DETECTOR_RISE_ENVELOPE]);
			assert_true(ev->parts.rise[DETECTOR_RISE_TONES] >
				    ev->parts.rise[DETECTOR_RISE_IMPULSES]);
			assert_true(ev->parts.rise[DETECTOR_RISE_TONES] >
				    ev->parts.rise[DETECTOR_RISE_BURSTS]);
			/* ... at the whine's 3150 Hz (1024-point bins, 15.6 Hz apart) */
			const float hz = ev->parts.at[DETECTOR_RISE_TONES].hz;
			if (!(hz > 3130.0f && hz < 3170.0f))
				fail_msg("the tone heard at %.1f Hz, the whine is at 3150 Hz",
					 (double)hz);
			break;
		}
	/* A window's parts are the terms of its raw score, its rise heads' terms its rise part's. */
	size_t checked = 0;
	for (size_t i = 0; i < r.n && i < MAX_WINDOWS; i++) {
		const float *v = r.w[i].parts.v;
		if (r.w[i].idle || !isfinite(v[DETECTOR_PART_RISE]))
			continue;
		float sum = v[DETECTOR_PART_NETWORK] + v[DETECTOR_PART_WINDOW_HEAD] +
			    v[DETECTOR_PART_RISE];
		assert_float_equal(sum, r.w[i].raw, 1e-5 * r.w[i].raw);
		/* ... and its rise heads' terms, the rise part's */
		const float *h = r.w[i].parts.rise;
		float rise = h[DETECTOR_RISE_ENVELOPE] + h[DETECTOR_RISE_TONES] +
			     h[DETECTOR_RISE_IMPULSES] + h[DETECTOR_RISE_BURSTS];
		assert_float_equal(rise, v[DETECTOR_PART_RISE], 1e-5 * (1.0f + rise));
		checked++;
	}
	assert_true(checked > 10);
	free(x);
	pipeline_destroy(p);
}

/* A fault ends the anomaly and a restart keeps the detector's state but forgets the audio. */
static void test_fault_and_restart(void **state)
{
	struct fixture *f = *state;
	static struct record r;
	struct pipeline *p = make(f, NULL, &r);
	push_chunks(p, f->a, f->na, 4000);
	size_t before = r.n;
	assert_true(before > 0);
	struct detector_output o;
	pipeline_set_fault(p, 123, &o);
	assert_int_equal(o.state, DETECTOR_FAULT);
	assert_int_equal(pipeline_state(p), DETECTOR_FAULT);
	size_t flushed = r.n;
	pipeline_restart(p, 1000000);
	assert_int_equal(pipeline_stream_end_ms(p), 1000000);
	pipeline_push(p, f->b, f->nb, -1);
	/* Where a stream looped from here would go on (the monitor's restart_stream). */
	assert_int_equal(pipeline_stream_end_ms(p), 1000000 + (int64_t)(f->nb * 1000 / 16000));
	pipeline_flush(p);
	assert_true(r.n > flushed);
	assert_int_equal(r.w[flushed].index, 0);
	assert_int_equal(r.w[flushed].time_ms, 1000000 + (int64_t)(r.w[flushed].stream_s * 1000.0));
	assert_int_equal(r.w[flushed].det.previous, DETECTOR_FAULT);
	assert_int_equal(r.w[flushed].det.state, DETECTOR_NORMAL);
	pipeline_destroy(p);
	pipeline_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_validation),
		cmocka_unit_test(test_chunking_and_windows),
		cmocka_unit_test(test_window_head_sum),
		cmocka_unit_test(test_samples_to_next_window),
		cmocka_unit_test(test_machine_off_and_on),
		cmocka_unit_test(test_fault_after_switch_on),
		cmocka_unit_test(test_fault_and_restart),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
