/* test_model.c - frame masks, widths, validation messages, model_free, and `auscult info`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "model/model.h"
#include "model/model_file.h"
#include "model/rise_heads.h"
#include "train/model_info.h"

#define TINY_MODEL AUSCULT_FIXTURES "/model/tiny.am"

static float *floats(size_t n, float value)
{
	float *v = malloc(n * sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = value;
	return v;
}

/* The baseline's shape, 640-128x4-8-128x4-640, all weights 0.01. */
static void baseline_model(struct model *m)
{
	static const uint32_t widths[] = { 640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640 };
	memset(m, 0, sizeof(*m));
	feature_params_defaults(&m->features);
	m->input_frames = m->target_frames = 0x1f;
	m->aggregation = CLIP_AGG_MEAN;
	m->n_layers = 10;
	m->layers = calloc(10, sizeof(*m->layers));
	assert_non_null(m->layers);
	for (int i = 0; i < 10; i++) {
		struct dense_layer *l = &m->layers[i];
		l->n_in = widths[i];
		l->n_out = widths[i + 1];
		l->activation = i == 9 ? ACTIVATION_LINEAR : ACTIVATION_RELU;
		l->weights = floats((size_t)l->n_in * l->n_out, 0.01f);
		l->bias = floats(l->n_out, 0.0f);
	}
	/* not its gamma's quantile 0.9 (16.9): `auscult info` reads it as a tail fit */
	m->threshold = (struct model_threshold){ 9.5f, 1.25f, 0.9f, 15.0f };
	m->training.n_vectors = 300000;
	m->training.n_files = 1000;
	m->training.epochs = 100;
	m->training.batch_size = 512;
	m->training.learning_rate = 0.001f;
	m->training.validation_split = 0.1f;
	m->training.seed = 7;
	m->training.train_loss = 10.5f;
	m->training.val_loss = NAN;
	m->training.created_unix_s = 1714564800; /* 2024-05-01T12:00:00Z */
	strcpy(m->training.tool_version, "0.1.0");
}

/* A curve over the model's epochs: training loss falling from 2 by 0.01 an epoch, validation
 * loss a parabola lowest (1.5) at epoch 60. */
static void add_curve(struct model *m)
{
	uint32_t n = m->training.epochs;
	m->curve.n_epochs = n;
	m->curve.train_loss = floats(n, 0.0f);
	m->curve.val_loss = floats(n, 0.0f);
	for (uint32_t e = 0; e < n; e++) {
		m->curve.train_loss[e] = 2.0f - 0.01f * (float)e;
		m->curve.val_loss[e] = 1.5f + 0.0001f * (float)((e - 59.0) * (e - 59.0));
	}
}

/* The baseline network on idnn16-fast-rise's shape: frames every 1024 samples, a window head of
 * 64-point frames every 256 samples keeping 15 of 16 bands, and the default rise heads (bins
 * 4..61 of 128-point envelopes, 870 features; 494 tonal peaks against the bins 3..12 away; the
 * impulse head's bins 4..125 of 256 over 128-sample blocks, 122 features). */
static void rise_model(struct model *m)
{
	baseline_model(m);
	m->features.hop_length = 1024;
	struct model_window_head *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	*h = (struct model_window_head){ 64,
					 256,
					 16,
					 15,
					 0.5f,
					 0.1f,
					 1.25f,
					 0.75f,
					 30,
					 NULL,
					 NULL,
					 NULL,
					 WINDOW_HEAD_BANDS,
					 0,
					 0,
					 0.0f,
					 NULL };
	h->mean = floats(30, -40.0f);
	h->inv_std = floats(30, 0.5f);
	h->precision = floats(30 * 30, 0.0f);
	m->head = h;
	struct model_rise_heads *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	rise_heads_config_defaults(r, &m->features, 15);
	r->envelope.mean = floats(r->envelope.dim, -60.0f);
	r->envelope.inv_std = floats(r->envelope.dim, 0.25f);
	r->envelope.cal_mean = 1.5f;
	r->envelope.cal_std = 0.375f;
	r->tones.mean = floats(r->tones.dim, 3.0f);
	r->tones.inv_std = floats(r->tones.dim, 0.5f);
	r->tones.cal_mean = 2.25f;
	r->tones.cal_std = 0.625f;
	r->impulses.mean = floats(r->impulses.dim, -10.0f);
	r->impulses.inv_std = floats(r->impulses.dim, 0.25f);
	r->impulses.cal_mean = 1.75f;
	r->impulses.cal_std = 0.5f;
	m->rise = r;
}

static void frame_counts_and_widths(void **state)
{
	(void)state;
	assert_int_equal(model_frame_count(0x1f, 5), 5);
	assert_int_equal(model_frame_count(0x1b, 5), 4);
	assert_int_equal(model_frame_count(0x04, 5), 1);
	assert_int_equal(model_frame_count(0xff, 5), 5); /* bits beyond n_stack do not count */
	assert_int_equal(model_frame_count(0, 5), 0);
	assert_int_equal(model_frame_count(0xffffffffu, 32), 32);
	struct model m;
	baseline_model(&m);
	assert_int_equal(model_input_dim(&m), 640);
	assert_int_equal(model_output_dim(&m), 640);
	assert_int_equal(model_validate(&m, NULL), AUSCULT_OK);
	assert_int_equal(model_param_count(&m), 265864);
	char arch[128];
	model_architecture(&m, arch, sizeof(arch));
	assert_string_equal(arch, "640-128-128-128-128-8-128-128-128-128-640");
	model_architecture(&m, arch, 12);
	assert_string_equal(arch, "640-128-...");
	m.input_frames = 0x1b;
	m.target_frames = 0x04;
	assert_int_equal(model_input_dim(&m), 512);
	assert_int_equal(model_output_dim(&m), 128);
	model_free(&m);
}

/* Each rule of model_validate, broken one at a time, with the message it gives. */
static void validate_names_the_field(void **state)
{
	(void)state;
	struct model m;
	struct auscult_err err;
#define EXPECT(stmt, status, message)                                               \
	do {                                                                        \
		baseline_model(&m);                                                 \
		stmt;                                                               \
		assert_int_equal(model_validate(&m, &err), status);                 \
		assert_string_equal(err.msg, message);                              \
		if (m.layers && m.n_layers == 0)                                    \
			m.n_layers = 10; /* so model_free finds the layers again */ \
		model_free(&m);                                                     \
	} while (0)
	EXPECT(m.features.n_fft = 1000, AUSCULT_ERR_UNSUPPORTED,
	       "features.n_fft: 1000 is not a power of two in [64, 16384]");
	EXPECT(m.input_frames = 0, AUSCULT_ERR_INVALID, "input_frames: 0x0 selects no frame");
	EXPECT(m.target_frames = 0x3f, AUSCULT_ERR_INVALID,
	       "target_frames: 0x3f selects frames beyond the 5 stacked frames");
	EXPECT(m.input_frames = 0x1b, AUSCULT_ERR_INVALID,
	       "layers[0].n_in: 640, expected 512 (the input frames x n_mels)");
	EXPECT(m.layers[3].n_in = 64, AUSCULT_ERR_INVALID,
	       "layers[3].n_in: 64, expected 128 (the previous layer's n_out)");
	EXPECT(m.target_frames = 0x04, AUSCULT_ERR_INVALID,
	       "layers[9].n_out: 640, expected 128 (the target frames x n_mels)");
	EXPECT(m.layers[2].activation = (enum activation)7, AUSCULT_ERR_INVALID,
	       "layers[2].activation: 7 is not 0 (linear) or 1 (relu)");
	EXPECT(m.layers[4].weights[17] = INFINITY, AUSCULT_ERR_INVALID,
	       "layers[4].weights[17]: inf is not finite");
	EXPECT(m.layers[9].bias[3] = NAN, AUSCULT_ERR_INVALID,
	       "layers[9].bias[3]: nan is not finite");
	EXPECT(m.layers[1].n_out = 100000, AUSCULT_ERR_INVALID,
	       "layers[1]: 128 x 100000 is out of range [1, 65536] per side");
	EXPECT((free(m.layers[0].weights), m.layers[0].weights = NULL), AUSCULT_ERR_INVALID,
	       "layers[0]: weights or bias missing");
	EXPECT(m.n_layers = 0, AUSCULT_ERR_INVALID, "layers: the network has no layer");
	EXPECT(m.input_mean = floats(640, 0.0f), AUSCULT_ERR_INVALID,
	       "input_mean/input_std: one is set without the other");
	EXPECT((m.input_mean = floats(640, -3.0f), m.input_std = floats(640, 1.0f),
		m.input_std[639] = 0.0f),
	       AUSCULT_ERR_INVALID,
	       "input_std[639]: 0 is not a finite value >= 1e-06 (training floors it there)");
	/* A denormal std: 1 / std overflows, and every score would be infinite. */
	EXPECT((m.input_mean = floats(640, -3.0f), m.input_std = floats(640, 1.0f),
		m.input_std[2] = 1e-45f),
	       AUSCULT_ERR_INVALID,
	       "input_std[2]: 1.4013e-45 is not a finite value >= 1e-06 (training floors it "
	       "there)");
	EXPECT((m.band_weights = floats(128, 1.0f), m.band_weights[5] = -1.0f), AUSCULT_ERR_INVALID,
	       "band_weights[5]: -1 is not a finite value >= 0");
	EXPECT((m.aggregation = CLIP_AGG_TOP_MEAN, m.top_fraction = 0.0f), AUSCULT_ERR_INVALID,
	       "top_fraction: 0 is not in (0, 1]");
	EXPECT(m.aggregation = (enum clip_aggregation)5, AUSCULT_ERR_INVALID,
	       "aggregation: 5 is not 0 (mean) or 1 (top mean)");
	EXPECT(m.threshold.gamma_shape = 0.0f, AUSCULT_ERR_INVALID,
	       "threshold.gamma_shape: 0 is not a finite value > 0");
	EXPECT(m.threshold.quantile = 1.0f, AUSCULT_ERR_INVALID,
	       "threshold.quantile: 1 is not in (0, 1)");
	EXPECT(m.threshold.threshold = NAN, AUSCULT_ERR_INVALID,
	       "threshold.threshold: nan is not a finite value >= 0");
	EXPECT(m.training.train_loss = NAN, AUSCULT_ERR_INVALID,
	       "training.train_loss: nan is not finite");
	EXPECT(m.training.val_loss = INFINITY, AUSCULT_ERR_INVALID,
	       "training.val_loss: inf is neither finite nor NaN (none held out)");
	EXPECT(memset(m.training.tool_version, 'x', sizeof(m.training.tool_version)),
	       AUSCULT_ERR_INVALID, "training.tool_version: not NUL-terminated within 32 bytes");
	EXPECT((add_curve(&m), m.curve.train_loss[7] = -1.0f), AUSCULT_ERR_INVALID,
	       "curve.train_loss[7]: -1 is not a finite value >= 0");
	EXPECT((add_curve(&m), m.curve.val_loss[3] = -INFINITY), AUSCULT_ERR_INVALID,
	       "curve.val_loss[3]: -inf is neither a finite value >= 0 nor NaN (none held out)");
	EXPECT((add_curve(&m), m.training.epochs = 99), AUSCULT_ERR_INVALID,
	       "curve.n_epochs: 100, but training.epochs says 99");
	EXPECT((add_curve(&m), m.curve.n_epochs = m.training.epochs = 100001), AUSCULT_ERR_INVALID,
	       "curve.n_epochs: 100001 is more than 100000");
	EXPECT(m.curve.train_loss = floats(3, 1.0f), AUSCULT_ERR_INVALID,
	       "curve: losses without an epoch count");
	EXPECT((add_curve(&m), free(m.curve.val_loss), m.curve.val_loss = NULL),
	       AUSCULT_ERR_INVALID, "curve: losses missing");
#undef EXPECT
	baseline_model(&m);
	add_curve(&m);
	assert_int_equal(model_validate(&m, &err), AUSCULT_OK);
	model_free(&m);
}

static void free_is_safe_and_zeroes(void **state)
{
	(void)state;
	struct model m;
	baseline_model(&m);
	model_free(&m);
	struct model zero;
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&m, &zero, sizeof(m));
	model_free(&m); /* a zeroed model */
	model_free(NULL);
}

/* ---- a small JSON syntax checker, so "--json prints valid JSON" can fail ---- */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *json_string_end(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 4;
			} else if (!strchr("\"\\/bfnrt", *p) || !*p) {
				return NULL;
			}
		}
	}
	return p + 1;
}

static const char *json_number_end(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)*p))
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return p;
}

static const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		int object = *p == '{';
		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (object) {
				p = json_string_end(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string_end(p);
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	return json_number_end(p);
}

static int json_valid_object(const char *text)
{
	const char *p = json_ws(text);
	if (*p != '{')
		return 0;
	p = json_value(p);
	return p && *json_ws(p) == '\0';
}

static void json_checker_can_fail(void **state)
{
	(void)state;
	assert_true(json_valid_object("{\"a\":[1,-2.5e3,true,null,{\"b\":\"x\\n\"}]}\n"));
	assert_false(json_valid_object("{\"a\":nan}"));
	assert_false(json_valid_object("{\"a\":1,}"));
	assert_false(json_valid_object("{\"a\":1} x"));
	assert_false(json_valid_object("[1]"));
}

/* Not inlined: GCC otherwise takes open_memstream's hold on `text` for a dangling pointer. */
__attribute__((noinline)) static char *capture(void (*print)(FILE *, const struct model *,
							     const char *),
					       const struct model *m, const char *path)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	print(f, m, path);
	fclose(f);
	return text;
}

static void info_text_names_everything(void **state)
{
	(void)state;
	struct model m;
	baseline_model(&m);
	char *text = capture(model_info_print, &m, "pump.am");
	static const char *const lines[] = {
		"model:          pump.am\n",
		"features:       16000 Hz, n_fft 1024, hop 512, 128 mel bands 0-8000 Hz, 5 frames "
		"stacked (640 values per vector)\n",
		"input frames:   [0, 1, 2, 3, 4] (mask 0x1f, 640 values)\n",
		"target frames:  [0, 1, 2, 3, 4] (mask 0x1f, 640 values)\n",
		"standardise:    no\n",
		"band weights:   no\n",
		"aggregation:    mean of all vector scores\n",
		"architecture:   640-128-128-128-128-8-128-128-128-128-640 (10 dense layers, 265864 "
		"parameters)\n",
		"activations:    relu relu relu relu relu relu relu relu relu linear\n",
		"threshold:      15 (quantile 0.9 of the scores' exponential tail; the gamma of all: "
		"shape 9.5, scale 1.25)\n",
		"training:       300000 vectors from 1000 files, 100 epochs, batch 512, learning rate "
		"0.001, validation split 0.1, seed 7\n",
		"loss:           train 10.5, validation none\n",
		"training curve: not recorded (trained before auscult 0.2 or by an older build)\n",
		"created:        2024-05-01T12:00:00Z by auscult 0.1.0\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!strstr(text, lines[i]))
			fail_msg("missing line: %s--- in:\n%s", lines[i], text);
	free(text);

	m.input_frames = 0x1b;
	m.target_frames = 0x04;
	m.layers[0].n_in = 512;
	m.layers[9].n_out = 128;
	m.aggregation = CLIP_AGG_TOP_MEAN;
	m.top_fraction = 0.1f;
	m.band_weights = floats(128, 1.0f);
	text = capture(model_info_print, &m, NULL);
	assert_non_null(strstr(text, "input frames:   [0, 1, 3, 4] (mask 0x1b, 512 values)\n"));
	assert_non_null(strstr(text, "target frames:  [2] (mask 0x4, 128 values)\n"));
	assert_non_null(strstr(text, "aggregation:    mean of the largest 10% of vector scores\n"));
	assert_non_null(strstr(text, "band weights:   yes\n"));
	assert_null(strstr(text, "model:"));
	free(text);

	/* A curve: first, best (with its epoch) and last of both losses. */
	add_curve(&m);
	text = capture(model_info_print, &m, NULL);
	if (!strstr(text,
		    "training curve: 100 epochs; training loss first 2, best 1.01 (epoch 100), "
		    "last 1.01; validation loss first 1.848, best 1.5 (epoch 60), last "
		    "1.66\n"))
		fail_msg("no curve summary in:\n%s", text);
	free(text);
	for (uint32_t e = 0; e < 100; e++)
		m.curve.val_loss[e] = NAN;
	text = capture(model_info_print, &m, NULL);
	assert_non_null(strstr(text, "(epoch 100), last 1.01; validation loss none (nothing held "
				     "out)\n"));
	assert_null(strstr(text, "rise"));
	free(text);
	model_free(&m);
}

/* Two models of one recipe score alike whatever they learned; each way a fold model's windows
 * would land on another scale is named. */
static void scoring_difference_names_what_differs(void **state)
{
	(void)state;
	struct model a, b;
	rise_model(&a);
	rise_model(&b);
	b.rise->envelope.mean[0] = 1.0f; /* learned values do not count */
	b.threshold.threshold = 99.0f;
	assert_null(model_scoring_difference(&a, &b));
	b.rise->steady = 5;
	assert_string_equal(model_scoring_difference(&a, &b),
			    "the rise heads' gate or steady count");
	b.rise->steady = a.rise->steady;
	b.rise->imp_bin_hi--;
	assert_string_equal(model_scoring_difference(&a, &b), "the impulse head");
	b.rise->imp_bin_hi++;
	b.rise->burst_bins = 8; /* a has no bursts head */
	b.rise->burst_band_bins = 2;
	assert_string_equal(model_scoring_difference(&a, &b), "the bursts head");
	a.rise->burst_bins = 8;
	a.rise->burst_band_bins = 4;
	assert_string_equal(model_scoring_difference(&a, &b), "the bursts head");
	a.rise->burst_band_bins = 2;
	assert_null(model_scoring_difference(&a, &b));
	b.rise->burst_gate_z = 1.0f;
	assert_string_equal(model_scoring_difference(&a, &b), "the bursts head");
	b.rise->burst_gate_z = a.rise->burst_gate_z;
	b.rise->tone_far--;
	assert_string_equal(model_scoring_difference(&a, &b), "the rise heads' spectra");
	b.rise->tone_far++;
	struct model_rise_heads *keep = b.rise;
	b.rise = NULL;
	assert_string_equal(model_scoring_difference(&a, &b), "the rise heads: one has them");
	b.rise = keep;
	b.head->hop = 128;
	assert_string_equal(model_scoring_difference(&a, &b), "the window head's frames or bands");
	b.head->hop = a.head->hop;
	b.top_fraction = 0.5f;
	assert_string_equal(model_scoring_difference(&a, &b), "the aggregation");
	b.top_fraction = a.top_fraction;
	b.target_frames = 0x1;
	assert_string_equal(model_scoring_difference(&a, &b), "the frames");
	b.target_frames = a.target_frames;
	b.features.hop_length = 512;
	assert_string_equal(model_scoring_difference(&a, &b), "the front end");
	model_free(&a);
	model_free(&b);
}

/* Rise heads: their shape in human units (the impulse head's too), cost and calibration, after
 * the window head's lines. */
static void info_text_shows_rise_heads(void **state)
{
	(void)state;
	struct model m;
	rise_model(&m);
	struct auscult_err err;
	if (model_validate(&m, &err) != AUSCULT_OK)
		fail_msg("%s", err.msg);
	char *text = capture(model_info_print, &m, NULL);
	/* a 2-s window is 31 feature hops, evaluated once a second; the impulse envelope of every
	 * sample is 4 FLOPs, 0.64 MFLOP over 10 s */
	double mflop = rise_heads_flops_per_window(m.rise, m.head, &m.features, 31) *
			       (10.0 / RISE_HEADS_EVERY_S) / 1e6 +
		       4.0 * 16000.0 * 10.0 / 1e6;
	assert_float_equal(mflop,
			   rise_heads_flops_per_s(m.rise, m.head, &m.features, 2.0) * 10.0 / 1e6,
			   1e-9);
	assert_true(mflop > 0.5 && mflop < 5.0);
	char want[1024];
	snprintf(
		want, sizeof(want),
		"rise heads:     envelope spectra of 15 bands, bins 4-61 of 128 (2.0-29.8 Hz at "
		"62.5 Hz frames), 870 features; tonal peaks of 494 bins (to 7.72 kHz) against "
		"bins 3-12 away; each the mean of its largest 2%% of rises (std floor 0.1 of the "
		"median); gate: 2 x (z - 1) above z 1, evaluated every 1 s, the median of the last 7 added; %.1f MFLOP per 10-s clip\n",
		mflop);
	if (!strstr(text, want))
		fail_msg("missing line: %s--- in:\n%s", want, text);
	static const char *const lines[] = {
		"format:         auscult model, version 6\n",
		("impulse head:   envelope spectrum of the second difference's level over "
		 "128-sample blocks, bins 4-125 of 256 (2.0-61.0 Hz at 125 Hz blocks), 122 features, "
		 "gated with the rise heads\n"),
		("rise scores:    z = envelope (score - 1.5) / 0.375, tones (score - 2.25) / 0.625, "
		 "impulses (score - 1.75) / 0.5 (mean and std on held-out training windows)\n"),
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!strstr(text, lines[i]))
			fail_msg("missing line: %s--- in:\n%s", lines[i], text);
	/* after the window head's lines, before the training's */
	const char *head = strstr(text, "window score:"), *rise = strstr(text, "rise heads:");
	const char *training = strstr(text, "training:");
	assert_true(head && rise && training && head < rise && rise < training);
	free(text);

	text = capture(model_info_print_json, &m, NULL);
	if (!json_valid_object(text))
		fail_msg("not one valid JSON object: %s", text);
	char mflop_json[64];
	snprintf(mflop_json, sizeof(mflop_json), ",\"mflop_per_10s\":%.4g},\"training\":", mflop);
	const char *const keys[] = {
		"\"format_version\":6,",
		"\"rise_heads\":{\"env_n_fft\":128,\"env_bin_lo\":4,\"env_bin_hi\":61,"
		"\"tone_bins\":494,\"tone_near\":3,\"tone_far\":12,\"top_fraction\":0.0199999996,"
		"\"std_floor_rel\":0.100000001,\"gate_z\":1,\"gate_weight\":2,\"steady\":7,",
		"\"envelope\":{\"dim\":870,\"cal_mean\":1.5,\"cal_std\":0.375},"
		"\"tones\":{\"dim\":494,\"cal_mean\":2.25,\"cal_std\":0.625},"
		"\"imp_block\":128,\"imp_n_fft\":256,\"imp_bin_lo\":4,\"imp_bin_hi\":125,"
		"\"impulses\":{\"dim\":122,\"cal_mean\":1.75,\"cal_std\":0.5}",
		mflop_json,
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strstr(text, keys[i]))
			fail_msg("missing: %s in:\n%s", keys[i], text);
	free(text);

	/* without them, neither output names them */
	model_rise_heads_free(m.rise);
	m.rise = NULL;
	text = capture(model_info_print, &m, NULL);
	assert_null(strstr(text, "rise"));
	free(text);
	text = capture(model_info_print_json, &m, NULL);
	assert_null(strstr(text, "rise"));
	free(text);
	model_free(&m);
}

static void info_json_is_one_valid_object(void **state)
{
	(void)state;
	struct model m;
	baseline_model(&m);
	char *text = capture(model_info_print_json, &m, "odd \"name\"\t.am");
	if (!json_valid_object(text))
		fail_msg("not one valid JSON object: %s", text);
	/* Escaped by json_writer, the one JSON escaper: a tab has its short form. */
	assert_non_null(strstr(text, "\"path\":\"odd \\\"name\\\"\\t.am\""));
	assert_non_null(
		strstr(text, "\"architecture\":\"640-128-128-128-128-8-128-128-128-128-640\""));
	assert_non_null(strstr(text, "\"parameters\":265864"));
	assert_non_null(strstr(text, "\"input_frames\":[0,1,2,3,4]"));
	assert_non_null(strstr(text, "\"val_loss\":null")); /* NaN: none held out */
	assert_non_null(strstr(text, "\"created\":\"2024-05-01T12:00:00Z\""));
	assert_non_null(strstr(text, "\"threshold\":15,\"fit\":\"tail\"}"));
	assert_non_null(strstr(text, "\"standardisation\":false"));
	assert_non_null(strstr(text, "\"training_curve\":null}"));
	const char *newline = strchr(text, '\n');
	assert_non_null(newline);
	assert_int_equal(newline[1], '\0'); /* one line */
	free(text);

	/* The curve in full, the validation NaN as null. */
	add_curve(&m);
	m.curve.val_loss[99] = NAN;
	text = capture(model_info_print_json, &m, NULL);
	if (!json_valid_object(text))
		fail_msg("not one valid JSON object: %s", text);
	assert_non_null(strstr(text, "\"training_curve\":{\"epochs\":100,\"best_train_epoch\":100,"
				     "\"best_val_epoch\":60,\"train_loss\":[2,1.99000001,"));
	assert_non_null(strstr(text, ",null]}}\n"));
	assert_null(strstr(text, "rise"));
	free(text);
	model_free(&m);
}

/* Runs `auscult info ARGS`, returning its exit status and stdout + stderr. */
static int run_info(const char *args, char *out, size_t out_size)
{
	const char *bin = getenv("AUSCULT_BIN");
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "'%s' info %s 2>&1", bin, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, out_size - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void info_command(void **state)
{
	(void)state;
	if (!getenv("AUSCULT_BIN")) {
		skip(); /* run through ctest, which says where the tool is */
		return;
	}
	static char out[16384];
	assert_int_equal(run_info(TINY_MODEL, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "model:          " TINY_MODEL "\n"));
	assert_non_null(strstr(out, "input frames:   [0, 2] (mask 0x5, 8 values)\n"));
	assert_non_null(strstr(out, "standardise:    yes"));
	assert_non_null(strstr(out, "architecture:   8-3-4 (2 dense layers, 43 parameters)\n"));
	assert_non_null(
		strstr(out, "created:        2023-11-14T22:13:20Z by auscult 0.1.0-fixture\n"));

	assert_int_equal(run_info(TINY_MODEL " --json", out, sizeof(out)), 0);
	if (!json_valid_object(out))
		fail_msg("`auscult info --json` printed no valid JSON object: %s", out);
	/* The tool prints exactly what model_info_print_json prints. */
	struct model m;
	struct auscult_err err;
	assert_int_equal(model_load(&m, TINY_MODEL, &err), AUSCULT_OK);
	char *want = capture(model_info_print_json, &m, TINY_MODEL);
	assert_string_equal(out, want);
	free(want);
	model_free(&m);

	assert_int_equal(run_info(AUSCULT_FIXTURES "/model/checksum.am", out, sizeof(out)), 1);
	assert_non_null(strstr(out,
			       "auscult info: " AUSCULT_FIXTURES "/model/checksum.am: checksum "
			       "mismatch: "));
	assert_int_equal(run_info(AUSCULT_FIXTURES "/model/truncated.am --json", out, sizeof(out)),
			 1);
	assert_string_equal(out,
			    "auscult info: " AUSCULT_FIXTURES "/model/truncated.am: truncated: "
			    "300 of 484 bytes; the file is incomplete - copy it again or "
			    "retrain\n");
	assert_int_equal(run_info("", out, sizeof(out)), 2);
	assert_non_null(strstr(out, "no model file given"));
	assert_int_equal(run_info("--frobnicate " TINY_MODEL, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "unknown option '--frobnicate'"));
	assert_int_equal(run_info("--help", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "usage: auscult info MODEL [--json]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_counts_and_widths),
		cmocka_unit_test(validate_names_the_field),
		cmocka_unit_test(free_is_safe_and_zeroes),
		cmocka_unit_test(json_checker_can_fail),
		cmocka_unit_test(info_text_names_everything),
		cmocka_unit_test(info_json_is_one_valid_object),
		cmocka_unit_test(info_text_shows_rise_heads),
		cmocka_unit_test(scoring_difference_names_what_differs),
		cmocka_unit_test(info_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
