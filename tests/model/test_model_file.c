/* test_model_file.c - model file round trips, and one fixture per way a model file can be bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/crc32.h"
#include "model/model.h"
#include "model/model_file.h"

#define FIXTURE_DIR AUSCULT_FIXTURES "/model"

/* ---- the tiny model every fixture is made from ---- */

/* Exactly representable values, so the fixtures do not depend on libm. */
static float tiny_value(size_t i, int salt)
{
	return (float)((int)((i * 37u + 11u + (size_t)salt * 5u) % 29u) - 14) / 16.0f;
}

static float *tiny_array(size_t n, int salt)
{
	float *v = malloc(n * sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = tiny_value(i, salt);
	return v;
}

/* 16 kHz, n_fft 64, 4 mels, 3 stacked frames, input frames 0,2 (8 values), target frame 1 (4),
 * network 8-3-4, with standardisation, band weights and top-mean aggregation: every optional
 * part of the format is present. */
static void tiny_model(struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->features = (struct feature_params){ 16000, 64, 32, 4, 0.0f, 8000.0f, 3 };
	m->input_frames = 0x5;
	m->target_frames = 0x2;
	m->input_mean = tiny_array(12, 1);
	m->input_std = malloc(12 * sizeof(float));
	assert_non_null(m->input_std);
	for (int i = 0; i < 12; i++)
		m->input_std[i] = 1.0f + 0.25f * (float)i;
	m->band_weights = malloc(4 * sizeof(float));
	assert_non_null(m->band_weights);
	for (int k = 0; k < 4; k++)
		m->band_weights[k] = 0.5f * (float)(k + 1);
	m->aggregation = CLIP_AGG_TOP_MEAN;
	m->top_fraction = 0.25f;
	m->n_layers = 2;
	m->layers = calloc(2, sizeof(*m->layers));
	assert_non_null(m->layers);
	m->layers[0] = (struct dense_layer){ 8, 3, ACTIVATION_RELU, tiny_array(24, 2),
					     tiny_array(3, 3) };
	m->layers[1] = (struct dense_layer){ 3, 4, ACTIVATION_LINEAR, tiny_array(12, 4),
					     tiny_array(4, 5) };
	m->threshold = (struct model_threshold){ 2.5f, 0.75f, 0.9f, 3.25f };
	m->training.n_vectors = 1234;
	m->training.n_files = 7;
	m->training.epochs = 3;
	m->training.batch_size = 16;
	m->training.learning_rate = 0.001f;
	m->training.validation_split = 0.125f;
	m->training.seed = 42;
	m->training.train_loss = 1.5f;
	m->training.val_loss = 1.75f;
	m->training.created_unix_s = 1700000000;
	strcpy(m->training.tool_version, "0.1.0-fixture");
}

/* The tiny model with a window head: 16-point frames every 8 samples (4 per feature hop of 32),
 * 2 bands, 4 features; written as format version 2. */
static void tiny_head_model(struct model *m)
{
	tiny_model(m);
	struct model_window_head *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	*h = (struct model_window_head){
		16,  8,    2,    2,    0.03125f,          0.125f, 1.5f, 0.5f,
		4,   NULL, NULL, NULL, WINDOW_HEAD_BANDS, 0,      0,    0.0f,
		NULL
	};
	h->mean = tiny_array(4, 6);
	h->inv_std = malloc(4 * sizeof(float));
	assert_non_null(h->inv_std);
	for (int i = 0; i < 4; i++)
		h->inv_std[i] = 0.5f + 0.25f * (float)i;
	h->precision = tiny_array(16, 7);
	m->head = h;
}

/* The tiny head model keeping only its lower band: 2 features, format version 4. */
static void tiny_kept_model(struct model *m)
{
	tiny_head_model(m);
	struct model_window_head *h = m->head;
	free(h->mean);
	free(h->inv_std);
	free(h->precision);
	h->n_kept = 1;
	h->dim = 2;
	h->mean = tiny_array(2, 6);
	h->inv_std = malloc(2 * sizeof(float));
	assert_non_null(h->inv_std);
	h->inv_std[0] = 0.5f;
	h->inv_std[1] = 0.75f;
	h->precision = tiny_array(4, 7);
}

/* The tiny head model as a spectrum head (format version 7): its 4 features are 4 bands of 4
 * front-end bins (bins 1-16 of the features' 32), 2 directions projected out, the largest half
 * of the squared residuals averaged; the basis in place of the precision. */
static void tiny_spec_model(struct model *m)
{
	tiny_head_model(m);
	struct model_window_head *h = m->head;
	free(h->precision);
	h->precision = NULL;
	h->kind = WINDOW_HEAD_SPECTRUM;
	h->spec_band_bins = 4;
	h->spec_rank = 2;
	h->spec_top_fraction = 0.5f;
	h->basis = tiny_array(8, 11);
}

/* A training curve of the tiny model's 3 epochs. */
static void add_tiny_curve(struct model *m)
{
	static const float train[3] = { 2.0f, 1.75f, 1.5f }, val[3] = { 2.25f, 1.5f, 1.75f };
	m->curve.n_epochs = 3;
	m->curve.train_loss = malloc(sizeof(train));
	m->curve.val_loss = malloc(sizeof(val));
	assert_non_null(m->curve.train_loss);
	assert_non_null(m->curve.val_loss);
	memcpy(m->curve.train_loss, train, sizeof(train));
	memcpy(m->curve.val_loss, val, sizeof(val));
}

/* The tiny model with a training curve of its 3 epochs (written as format version 3). */
static void tiny_curve_model(struct model *m)
{
	tiny_model(m);
	add_tiny_curve(m);
}

/* The kept head model with a curve, as `auscult train` writes, and small rise heads (format
 * version 5): an envelope of 8 points, bins 1..2, of the head's 1 kept band (2 features); tonal
 * peaks of bins 1..4 against the bins 1..2 away (4 features). */
static void tiny_rise_model(struct model *m)
{
	tiny_kept_model(m);
	add_tiny_curve(m);
	struct model_rise_heads *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->env_n_fft = 8;
	r->env_bin_lo = 1;
	r->env_bin_hi = 2;
	r->tone_bins = 4;
	r->tone_near = 1;
	r->tone_far = 2;
	r->top_fraction = 0.5f;
	r->std_floor_rel = 0.125f;
	r->gate_z = 1.0f;
	r->gate_weight = 2.0f;
	r->steady = MODEL_RISE_STEADY_V5; /* what a version-5 file holds */
	r->envelope = (struct model_rise_head){ 2, tiny_array(2, 8), NULL, 0.75f, 0.5f };
	r->envelope.inv_std = malloc(2 * sizeof(float));
	assert_non_null(r->envelope.inv_std);
	r->envelope.inv_std[0] = 0.25f;
	r->envelope.inv_std[1] = 1.5f;
	r->tones = (struct model_rise_head){ 4, tiny_array(4, 9), NULL, 1.25f, 0.25f };
	r->tones.inv_std = malloc(4 * sizeof(float));
	assert_non_null(r->tones.inv_std);
	for (int i = 0; i < 4; i++)
		r->tones.inv_std[i] = 0.5f * (float)(i + 1);
	m->rise = r;
}

/* tiny_rise_model with a median of 3 and the impulse head (format version 6): blocks of 8
 * samples (4 per feature hop of 32), an 8-point envelope, bins 1..2 (2 features). */
static void tiny_imp_model(struct model *m)
{
	tiny_rise_model(m);
	struct model_rise_heads *r = m->rise;
	r->steady = 3;
	r->imp_block = 8;
	r->imp_n_fft = 8;
	r->imp_bin_lo = 1;
	r->imp_bin_hi = 2;
	r->impulses = (struct model_rise_head){ 2, tiny_array(2, 10), NULL, 1.5f, 0.75f };
	r->impulses.inv_std = malloc(2 * sizeof(float));
	assert_non_null(r->impulses.inv_std);
	r->impulses.inv_std[0] = 0.5f;
	r->impulses.inv_std[1] = 2.0f;
}

/* A bursts head on rise heads r (format version 8): bins 1..8 of the features' 32 in bands of 2
 * bins (4 features), its own gate of 1.5. */
static void add_tiny_bursts(struct model_rise_heads *r)
{
	r->burst_bins = 8;
	r->burst_band_bins = 2;
	r->burst_gate_z = 1.5f;
	r->bursts = (struct model_rise_head){ 4, tiny_array(4, 13), NULL, 0.5f, 1.25f };
	r->bursts.inv_std = malloc(4 * sizeof(float));
	assert_non_null(r->bursts.inv_std);
	for (int i = 0; i < 4; i++)
		r->bursts.inv_std[i] = 0.25f * (float)(i + 1);
}

/* tiny_imp_model with a bursts head (format version 8), its section after the version-6 one. */
static void tiny_burst_model(struct model *m)
{
	tiny_imp_model(m);
	add_tiny_bursts(m->rise);
}

/* File offsets of fields of the tiny model (header 24 bytes + body offset; docs/model-format.md). */
enum {
	OFF_VERSION = 8,
	OFF_CRC = 12,
	OFF_BODY_LENGTH = 16,
	OFF_N_FFT = 24 + 4,
	OFF_INPUT_FRAMES = 24 + 28,
	OFF_TARGET_FRAMES = 24 + 32,
	OFF_STD0 = 24 + 88,
	OFF_N_LAYERS = 24 + 160,
	OFF_L0_N_IN = 24 + 164,
	OFF_L0_N_OUT = 24 + 168,
	OFF_L1_N_IN = 24 + 284,
	OFF_L0_WEIGHT5 = 24 + 176 + 5 * 4,
	TINY_FILE_BYTES = 24 + 460,
	/* the head section follows the training info */
	OFF_FLAGS = 24 + 36,
	OFF_HEAD_HOP = 24 + 464,
	OFF_HEAD_AE_MEDIAN = 24 + 480,
	OFF_HEAD_DIM = 24 + 488,
	OFF_HEAD_INV_STD0 = 24 + 508,
	OFF_HEAD_PRECISION5 = 24 + 524 + 5 * 4,
	TINY_HEAD_FILE_BYTES = 24 + 588,
	/* the curve section follows the training info (or the head) */
	OFF_TRAINING_EPOCHS = 24 + 388,
	OFF_CURVE_N_EPOCHS = 24 + 460,
	OFF_CURVE_TRAIN1 = 24 + 464 + 4,
	OFF_CURVE_VAL2 = 24 + 476 + 8,
	TINY_CURVE_FILE_BYTES = 24 + 488,
	/* the kept head (version 4): n_kept after n_bands, then the rest of the head 4 later */
	OFF_KEPT_N_KEPT = 24 + 472,
	TINY_KEPT_FILE_BYTES = 24 + 528,
	/* the rise heads (version 5) follow the kept head and its curve (528 + 28) */
	OFF_RISE = 24 + 556,
	OFF_RISE_ENV_N_FFT = OFF_RISE,
	OFF_RISE_ENV_BIN_HI = OFF_RISE + 8,
	OFF_RISE_TONE_FAR = OFF_RISE + 20,
	OFF_RISE_TOP_FRACTION = OFF_RISE + 24,
	OFF_RISE_GATE_Z = OFF_RISE + 32,
	OFF_RISE_GATE_WEIGHT = OFF_RISE + 36,
	OFF_RISE_ENV_DIM = OFF_RISE + 40,
	OFF_RISE_ENV_MEAN1 = OFF_RISE + 48,
	OFF_RISE_ENV_CAL_STD = OFF_RISE + 64,
	OFF_RISE_TONES_DIM = OFF_RISE + 68,
	OFF_RISE_TONES_INV_STD0 = OFF_RISE + 88,
	TINY_RISE_FILE_BYTES = 24 + 668,
	/* the rise heads' version-6 section follows them: steady, the impulse head */
	OFF_IMP = 24 + 668,
	OFF_IMP_STEADY = OFF_IMP,
	OFF_IMP_BLOCK = OFF_IMP + 4,
	OFF_IMP_BIN_HI = OFF_IMP + 16,
	OFF_IMP_DIM = OFF_IMP + 20,
	OFF_IMP_CAL_STD = OFF_IMP + 44,
	TINY_IMP_FILE_BYTES = 24 + 716,
	/* the spectrum head (version 7): tiny_head's head to inv_std, then its shape and basis */
	OFF_SPEC_BAND_BINS = 24 + 524,
	OFF_SPEC_RANK = 24 + 528,
	OFF_SPEC_TOP_FRACTION = 24 + 532,
	OFF_SPEC_BASIS = 24 + 536,
	OFF_SPEC_BASIS5 = OFF_SPEC_BASIS + 5 * 4,
	TINY_SPEC_FILE_BYTES = 24 + 568,
	/* the bursts head (version 8) follows the rise heads' version-6 section */
	OFF_BURST = 24 + 716,
	OFF_BURST_BINS = OFF_BURST,
	OFF_BURST_BAND_BINS = OFF_BURST + 4,
	OFF_BURST_GATE_Z = OFF_BURST + 8,
	OFF_BURST_DIM = OFF_BURST + 12,
	OFF_BURST_INV_STD0 = OFF_BURST + 32,
	OFF_BURST_CAL_STD = OFF_BURST + 52,
	BURST_SECTION_BYTES = 56,
	TINY_BURST_FILE_BYTES = 24 + 772,
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* After an edit to the body: a valid CRC, so the loader's later checks are what is tested. */
static void fix_crc(uint8_t *b, size_t size)
{
	put32(b + OFF_CRC, crc32_compute(b + 24, size - 24));
}

/* The bytes model_encode writes for the model make builds, expect of them. */
static void encode_tiny(void (*make)(struct model *), size_t expect, uint8_t **data, size_t *size)
{
	struct model m;
	struct auscult_err err;
	make(&m);
	void *p = NULL;
	assert_int_equal(model_encode(&m, &p, size, &err), AUSCULT_OK);
	assert_int_equal(*size, expect);
	*data = p;
	model_free(&m);
}

static void tiny_bytes(uint8_t **data, size_t *size)
{
	encode_tiny(tiny_model, TINY_FILE_BYTES, data, size);
}

static void tiny_head_bytes(uint8_t **data, size_t *size)
{
	encode_tiny(tiny_head_model, TINY_HEAD_FILE_BYTES, data, size);
}

static void tiny_kept_bytes(uint8_t **data, size_t *size)
{
	encode_tiny(tiny_kept_model, TINY_KEPT_FILE_BYTES, data, size);
}

static void tiny_curve_bytes(uint8_t **data, size_t *size)
{
	encode_tiny(tiny_curve_model, TINY_CURVE_FILE_BYTES, data, size);
}

static void tiny_rise_bytes(uint8_t **data, size_t *size)
{
	encode_tiny(tiny_rise_model, TINY_RISE_FILE_BYTES, data, size);
}

static void tiny_imp_bytes(uint8_t **data, size_t *size)
{
	encode_tiny(tiny_imp_model, TINY_IMP_FILE_BYTES, data, size);
}

static void tiny_spec_bytes(uint8_t **data, size_t *size)
{
	encode_tiny(tiny_spec_model, TINY_SPEC_FILE_BYTES, data, size);
}

static void tiny_burst_bytes(uint8_t **data, size_t *size)
{
	encode_tiny(tiny_burst_model, TINY_BURST_FILE_BYTES, data, size);
}

/* Replaces a u32 field, checking it held what the layout says, so a layout change is noticed. */
static void edit32(uint8_t *b, size_t off, uint32_t expect, uint32_t value)
{
	assert_int_equal(get32(b + off), expect);
	put32(b + off, value);
}

/* ---- the fixtures: one per failure mode ---- */

struct fixture {
	const char *file;
	int status;
	const char *message; /* after "<path>: " */
};

static const struct fixture fixtures[] = {
	{ "empty.am", AUSCULT_ERR_TRUNCATED,
	  "empty file (0 bytes); the file is incomplete - copy it again or retrain" },
	{ "bad_magic.am", AUSCULT_ERR_FORMAT,
	  "not an auscult model file (it does not start with \"AUSCULTM\"); give the path of a "
	  "model written by `auscult train`" },
	{ "short_header.am", AUSCULT_ERR_TRUNCATED,
	  "truncated: 20 of at least 24 bytes (the header is incomplete); the file is incomplete - "
	  "copy it again or retrain" },
	{ "version_9.am", AUSCULT_ERR_VERSION,
	  "unknown format version 9 (this auscult " AUSCULT_VERSION " reads versions 1 to 8); "
	  "upgrade auscult or retrain the model with this one" },
	{ "absurd_length.am", AUSCULT_ERR_FORMAT,
	  "corrupt header: body length 1099511627776 bytes is more than the 167772160 allowed; the "
	  "file is corrupt - copy it again or retrain" },
	{ "truncated.am", AUSCULT_ERR_TRUNCATED,
	  "truncated: 300 of 484 bytes; the file is incomplete - copy it again or retrain" },
	{ "trailing_garbage.am", AUSCULT_ERR_FORMAT,
	  "trailing garbage: 8 bytes after the model's end at byte 484; the file was damaged or "
	  "appended to - copy it again or retrain" },
	{ "checksum.am", AUSCULT_ERR_CHECKSUM, NULL /* the CRC values are checked apart */ },
	{ "bad_features.am", AUSCULT_ERR_UNSUPPORTED,
	  "features.n_fft: 100 is not a power of two in [64, 16384]; this auscult's front end "
	  "cannot compute these features - retrain with supported parameters" },
	{ "absurd_layer.am", AUSCULT_ERR_FORMAT,
	  "corrupt: layers[0] is 8 x 1073741824, each side must be in [1, 65536]; the model is "
	  "unusable - retrain it" },
	{ "layer_sizes.am", AUSCULT_ERR_INVALID,
	  "layers[0].n_in: 8, expected 12 (the input frames x n_mels); the model is unusable - "
	  "retrain it" },
	{ "layer_input.am", AUSCULT_ERR_INVALID,
	  "layers[0].n_in: 12, expected 8 (the input frames x n_mels); the model is unusable - "
	  "retrain it" },
	{ "layer_chain.am", AUSCULT_ERR_INVALID,
	  "layers[1].n_in: 5, expected 3 (the previous layer's n_out); the model is unusable - "
	  "retrain it" },
	{ "bad_mask.am", AUSCULT_ERR_INVALID,
	  "target_frames: 0x8 selects frames beyond the 3 stacked frames; the model is unusable - "
	  "retrain it" },
	{ "nonfinite.am", AUSCULT_ERR_INVALID,
	  "layers[0].weights[5]: nan is not finite; the model is unusable - retrain it" },
	{ "bad_std.am", AUSCULT_ERR_INVALID,
	  "input_std[0]: 0 is not a finite value >= 1e-06 (training floors it there); the model "
	  "is unusable - retrain it" },
	{ "denormal_std.am", AUSCULT_ERR_INVALID,
	  "input_std[0]: 1.4013e-45 is not a finite value >= 1e-06 (training floors it there); "
	  "the model is unusable - retrain it" },
	{ "body_overrun.am", AUSCULT_ERR_FORMAT,
	  "corrupt: training.tool_version needs 32 bytes at body byte 444, but the body ends at "
	  "byte 460; the model is unusable - retrain it" },
	/* the window head (version 2) */
	{ "head_in_version_1.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x7 has unknown bits (known in version 1: 0x3); the model is unusable - "
	  "retrain it" },
	{ "head_unknown_flag.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0xf has unknown bits (known in version 2: 0x7); the model is unusable - "
	  "retrain it" },
	{ "head_dim.am", AUSCULT_ERR_FORMAT,
	  "corrupt: head.dim 6 is not 2 x n_kept (2) in [1, 1024]; the model is unusable - "
	  "retrain it" },
	{ "head_truncated.am", AUSCULT_ERR_FORMAT,
	  "corrupt: head.precision needs 64 bytes at body byte 524, but the body ends at byte "
	  "560; the model is unusable - retrain it" },
	{ "head_hop.am", AUSCULT_ERR_INVALID,
	  "head.hop: 12 must divide the features' hop_length 32 at least 4 times; the model is "
	  "unusable - retrain it" },
	{ "head_n_fft.am", AUSCULT_ERR_INVALID,
	  "head.n_fft: 128 is longer than the features' frame (n_fft 64); the model is unusable - "
	  "retrain it" },
	{ "head_std.am", AUSCULT_ERR_INVALID,
	  "head.inv_std[0]: 0 is not a finite value > 0; the model is unusable - retrain it" },
	{ "head_nonfinite.am", AUSCULT_ERR_INVALID,
	  "head.precision: a value is not finite; the model is unusable - retrain it" },
	{ "head_median.am", AUSCULT_ERR_INVALID,
	  "head.ae_median 0 / head.head_median 0.5: need finite values > 0; the model is "
	  "unusable - retrain it" },
	/* the training curve (version 3) */
	{ "curve_in_version_2.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0xb has unknown bits (known in version 2: 0x7); the model is unusable - "
	  "retrain it" },
	{ "curve_unknown_flag.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x1b has unknown bits (known in version 3: 0xf); the model is unusable - "
	  "retrain it" },
	{ "curve_epochs.am", AUSCULT_ERR_FORMAT,
	  "corrupt: curve.n_epochs 200000 at body byte 460 is not in [1, 100000]; the model is "
	  "unusable - retrain it" },
	{ "curve_truncated.am", AUSCULT_ERR_FORMAT,
	  "corrupt: curve.val_loss needs 12 bytes at body byte 476, but the body ends at byte "
	  "480; the model is unusable - retrain it" },
	{ "curve_nonfinite.am", AUSCULT_ERR_INVALID,
	  "curve.train_loss[1]: nan is not a finite value >= 0; the model is unusable - retrain "
	  "it" },
	{ "curve_val_loss.am", AUSCULT_ERR_INVALID,
	  "curve.val_loss[2]: inf is neither a finite value >= 0 nor NaN (none held out); the "
	  "model is unusable - retrain it" },
	{ "version_3_plain.am", AUSCULT_ERR_FORMAT,
	  "corrupt header: format version 3, but flags 0x3 need only version 1; the file is "
	  "corrupt - copy it again or retrain" },
	{ "curve_epoch_count.am", AUSCULT_ERR_INVALID,
	  "curve.n_epochs: 3, but training.epochs says 4; the model is unusable - retrain it" },
	/* a head keeping fewer than its bands (version 4) */
	{ "kept_in_version_3.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x17 has unknown bits (known in version 3: 0xf); the model is unusable "
	  "- retrain it" },
	{ "kept_unknown_flag.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x37 has unknown bits (known in version 4: 0x1f); the model is "
	  "unusable - retrain it" },
	{ "kept_without_head.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x13 keep head bands (0x10) but have no window head (0x4); the model "
	  "is unusable - retrain it" },
	{ "kept_all_bands.am", AUSCULT_ERR_FORMAT,
	  "corrupt: head.n_kept 2 at body byte 472 is not in [1, n_bands 2) (flag 0x10 says the "
	  "head keeps fewer than its bands); the model is unusable - retrain it" },
	{ "kept_truncated.am", AUSCULT_ERR_FORMAT,
	  "corrupt: head.precision needs 16 bytes at body byte 512, but the body ends at byte "
	  "520; the model is unusable - retrain it" },
	/* the rise heads (version 5) */
	{ "rise_in_version_4.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x3f has unknown bits (known in version 4: 0x1f); the model is unusable "
	  "- retrain it" },
	{ "rise_unknown_flag.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x7f has unknown bits (known in version 5: 0x3f); the model is "
	  "unusable - retrain it" },
	{ "rise_without_head.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x23 have rise heads (0x20) but no window head (0x4), whose bands they "
	  "use; the model is unusable - retrain it" },
	{ "rise_env_bins.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.env_bin_hi 0 at body byte 564 is below env_bin_lo 1: the envelope head "
	  "has no bin; the model is unusable - retrain it" },
	{ "rise_env_features.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.env_bin_lo 1 to env_bin_hi 100000 at body byte 560 of 1 kept bands are "
	  "100000 envelope features, not in [1, 65536]; the model is unusable - retrain it" },
	{ "rise_env_n_fft.am", AUSCULT_ERR_INVALID,
	  "rise.env_n_fft: 12 is not a power of two in [4, 65536]; the model is unusable - retrain "
	  "it" },
	{ "rise_tone_far.am", AUSCULT_ERR_INVALID,
	  "rise.tone_near 1 / tone_far 4: need 1 <= near <= far < tone_bins 4; the model is "
	  "unusable - retrain it" },
	{ "rise_dim.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.envelope.dim 3 at body byte 596 is not 2, what the section's shape "
	  "gives; the model is unusable - retrain it" },
	{ "rise_truncated.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.tones.inv_std needs 16 bytes at body byte 644, but the body ends at byte "
	  "656; the model is unusable - retrain it" },
	{ "rise_nonfinite.am", AUSCULT_ERR_INVALID,
	  "rise.envelope.mean[1]: nan is not finite; the model is unusable - retrain it" },
	{ "rise_std.am", AUSCULT_ERR_INVALID,
	  "rise.tones.inv_std[0]: 0 is not a finite value > 0; the model is unusable - retrain "
	  "it" },
	{ "rise_cal_std.am", AUSCULT_ERR_INVALID,
	  "rise.envelope.cal_std: -0.5 is not a finite value > 0; the model is unusable - "
	  "retrain it" },
	{ "rise_gate_z.am", AUSCULT_ERR_INVALID,
	  "rise.gate_z: inf is not finite; the model is unusable - retrain it" },
	{ "rise_gate_weight.am", AUSCULT_ERR_INVALID,
	  "rise.gate_weight: -2 is not a finite value >= 0; the model is unusable - retrain it" },
	{ "rise_top_fraction.am", AUSCULT_ERR_INVALID,
	  "rise.top_fraction: 1.5 is not in (0, 1]; the model is unusable - retrain it" },
	/* the rise heads' impulse head (version 6) */
	{ "imp_in_version_5.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x7f has unknown bits (known in version 5: 0x3f); the model is "
	  "unusable - retrain it" },
	{ "imp_without_rise.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x43 have the rise heads' version-6 section (0x40) but no rise heads "
	  "(0x20); the model is unusable - retrain it" },
	{ "imp_steady.am", AUSCULT_ERR_INVALID,
	  "rise.steady: 16 is not in [1, 15]; the model is unusable - retrain it" },
	{ "imp_block_zero.am", AUSCULT_ERR_FORMAT,
	  "corrupt: 40 unused bytes at the end of the body; the model is unusable - retrain it" },
	{ "imp_block.am", AUSCULT_ERR_INVALID,
	  "rise.imp_block: 12 samples does not divide the features' hop of 32 samples into blocks "
	  "of 2 or more; the model is unusable - retrain it" },
	{ "imp_bins.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.imp_bin_lo 1 to imp_bin_hi 0 at body byte 680 are not 1 to 65536 bins; "
	  "the model is unusable - retrain it" },
	{ "imp_dim.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.impulses.dim 3 at body byte 688 is not 2, what the section's shape "
	  "gives; the model is unusable - retrain it" },
	{ "imp_truncated.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.impulses.inv_std needs 8 bytes at body byte 700, but the body ends at "
	  "byte 704; the model is unusable - retrain it" },
	{ "imp_cal_std.am", AUSCULT_ERR_INVALID,
	  "rise.impulses.cal_std: -0.5 is not a finite value > 0; the model is unusable - "
	  "retrain it" },
	{ "imp_as_version_7.am", AUSCULT_ERR_FORMAT,
	  "corrupt header: format version 7, but flags 0x7f need only version 6; the file is "
	  "corrupt - copy it again or retrain" },
	/* the spectrum head (version 7) */
	{ "spec_in_version_6.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x87 has unknown bits (known in version 6: 0x7f); the model is "
	  "unusable - retrain it" },
	{ "spec_without_head.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x83 make the window head a spectrum head (0x80) but have no window "
	  "head (0x4); the model is unusable - retrain it" },
	{ "spec_dim.am", AUSCULT_ERR_FORMAT,
	  "corrupt: head.dim 1025 spectrum bands is not in [2, 1024]; the model is unusable - "
	  "retrain it" },
	{ "spec_rank_zero.am", AUSCULT_ERR_FORMAT,
	  "corrupt: head.spec_rank 0 at body byte 528 is not in [1, head.dim - 1 = 3]; the model "
	  "is unusable - retrain it" },
	{ "spec_rank_dim.am", AUSCULT_ERR_FORMAT,
	  "corrupt: head.spec_rank 4 at body byte 528 is not in [1, head.dim - 1 = 3]; the model "
	  "is unusable - retrain it" },
	{ "spec_truncated.am", AUSCULT_ERR_FORMAT,
	  "corrupt: head.basis needs 32 bytes at body byte 536, but the body ends at byte 556; "
	  "the model is unusable - retrain it" },
	{ "spec_nonfinite.am", AUSCULT_ERR_INVALID,
	  "head.basis: a value is not finite; the model is unusable - retrain it" },
	{ "spec_band_bins.am", AUSCULT_ERR_INVALID,
	  "head.spec_band_bins: 9 bins x 4 bands do not fit in the features' 32 bins (n_fft / 2); "
	  "the model is unusable - retrain it" },
	{ "spec_top_fraction.am", AUSCULT_ERR_INVALID,
	  "head.spec_top_fraction: 1.5 is not in (0, 1]; the model is unusable - retrain it" },
	{ "spec_top_fraction_zero.am", AUSCULT_ERR_INVALID,
	  "head.spec_top_fraction: 0 is not in (0, 1]; the model is unusable - retrain it" },
	{ "spec_as_version_8.am", AUSCULT_ERR_FORMAT,
	  "corrupt header: format version 8, but flags 0x87 need only version 7; the file is "
	  "corrupt - copy it again or retrain" },
	/* the rise heads' bursts head (version 8) */
	{ "burst_in_version_7.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x17f has unknown bits (known in version 7: 0xff); the model is "
	  "unusable - retrain it" },
	{ "burst_without_rise.am", AUSCULT_ERR_FORMAT,
	  "corrupt: flags 0x103 have a bursts head (0x100) but no rise heads (0x20); the model is "
	  "unusable - retrain it" },
	{ "burst_bins_zero.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.burst_bins 0 in bands of 2 at body byte 716 are not 1 to 65536 whole "
	  "bands; the model is unusable - retrain it" },
	{ "burst_band_bins.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.burst_bins 8 in bands of 3 at body byte 716 are not 1 to 65536 whole "
	  "bands; the model is unusable - retrain it" },
	{ "burst_band_bins_zero.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.burst_bins 8 in bands of 0 at body byte 716 are not 1 to 65536 whole "
	  "bands; the model is unusable - retrain it" },
	{ "burst_bins_wide.am", AUSCULT_ERR_INVALID,
	  "rise.burst_bins: 64 is not in [1, n_fft / 2 = 32]; the model is unusable - retrain it" },
	{ "burst_dim.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.bursts.dim 5 at body byte 728 is not 4, what the section's shape gives; "
	  "the model is unusable - retrain it" },
	{ "burst_gate_z.am", AUSCULT_ERR_INVALID,
	  "rise.burst_gate_z: nan is not finite; the model is unusable - retrain it" },
	{ "burst_std.am", AUSCULT_ERR_INVALID,
	  "rise.bursts.inv_std[0]: 0 is not a finite value > 0; the model is unusable - retrain "
	  "it" },
	{ "burst_cal_std.am", AUSCULT_ERR_INVALID,
	  "rise.bursts.cal_std: 0 is not a finite value > 0; the model is unusable - retrain it" },
	{ "burst_truncated.am", AUSCULT_ERR_FORMAT,
	  "corrupt: rise.bursts.inv_std needs 16 bytes at body byte 748, but the body ends at "
	  "byte 760; the model is unusable - retrain it" },
};

/* Builds fixture `name` from the tiny model's bytes. */
static void make_fixture(const char *name, uint8_t **data, size_t *size)
{
	if (strncmp(name, "head_", 5) == 0 || strcmp(name, "tiny_head.am") == 0)
		tiny_head_bytes(data, size);
	else if ((strncmp(name, "kept_", 5) == 0 && strcmp(name, "kept_without_head.am") != 0) ||
		 strcmp(name, "tiny_kept.am") == 0)
		tiny_kept_bytes(data, size);
	else if (strncmp(name, "curve_", 6) == 0 || strcmp(name, "tiny_curve.am") == 0)
		tiny_curve_bytes(data, size);
	else if ((strncmp(name, "rise_", 5) == 0 && strcmp(name, "rise_without_head.am") != 0) ||
		 strcmp(name, "tiny_rise.am") == 0)
		tiny_rise_bytes(data, size);
	else if ((strncmp(name, "imp_", 4) == 0 && strcmp(name, "imp_without_rise.am") != 0) ||
		 strcmp(name, "tiny_imp.am") == 0)
		tiny_imp_bytes(data, size);
	else if ((strncmp(name, "spec_", 5) == 0 && strcmp(name, "spec_without_head.am") != 0) ||
		 strcmp(name, "tiny_spec.am") == 0)
		tiny_spec_bytes(data, size);
	else if ((strncmp(name, "burst_", 6) == 0 && strcmp(name, "burst_without_rise.am") != 0) ||
		 strcmp(name, "tiny_burst.am") == 0)
		tiny_burst_bytes(data, size);
	else
		tiny_bytes(data, size);
	uint8_t *b = *data;
	if (strcmp(name, "tiny.am") == 0 || strcmp(name, "tiny_head.am") == 0 ||
	    strcmp(name, "tiny_curve.am") == 0 || strcmp(name, "tiny_kept.am") == 0 ||
	    strcmp(name, "tiny_rise.am") == 0 || strcmp(name, "tiny_imp.am") == 0 ||
	    strcmp(name, "tiny_spec.am") == 0 || strcmp(name, "tiny_burst.am") == 0) {
	} else if (strcmp(name, "empty.am") == 0) {
		*size = 0;
	} else if (strcmp(name, "bad_magic.am") == 0) {
		memcpy(b, "RIFF\x04\x01\0\0", 8);
	} else if (strcmp(name, "short_header.am") == 0) {
		*size = 20;
	} else if (strcmp(name, "version_9.am") == 0) {
		edit32(b, OFF_VERSION, 1, 9);
	} else if (strcmp(name, "spec_as_version_8.am") == 0) {
		edit32(b, OFF_VERSION, 7, 8); /* the header claims more than the flags need */
	} else if (strcmp(name, "burst_in_version_7.am") == 0) {
		edit32(b, OFF_VERSION, 8, 7);
	} else if (strcmp(name, "burst_without_rise.am") == 0) {
		edit32(b, OFF_VERSION, 1, 8);
		edit32(b, OFF_FLAGS, 0x3, 0x103);
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_bins_zero.am") == 0) {
		edit32(b, OFF_BURST_BINS, 8, 0); /* refused before the head is read */
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_band_bins.am") == 0) {
		edit32(b, OFF_BURST_BAND_BINS, 2, 3); /* 8 bins are not whole bands of 3 */
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_band_bins_zero.am") == 0) {
		edit32(b, OFF_BURST_BAND_BINS, 2, 0); /* refused before it divides anything */
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_bins_wide.am") == 0) {
		edit32(b, OFF_BURST_BINS, 8, 64); /* 4 bands of 16: the features have 32 bins */
		edit32(b, OFF_BURST_BAND_BINS, 2, 16);
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_dim.am") == 0) {
		edit32(b, OFF_BURST_DIM, 4, 5);
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_gate_z.am") == 0) {
		edit32(b, OFF_BURST_GATE_Z, 0x3fc00000u /* 1.5f */, 0x7fc00000u); /* quiet NaN */
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_std.am") == 0) {
		edit32(b, OFF_BURST_INV_STD0, 0x3e800000u /* 0.25f */, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_cal_std.am") == 0) {
		edit32(b, OFF_BURST_CAL_STD, 0x3fa00000u /* 1.25f */, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "burst_truncated.am") == 0) {
		*size -= 12; /* the header says so: the body ends inside rise.bursts.inv_std */
		edit32(b, OFF_BODY_LENGTH, 772, 760);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_as_version_7.am") == 0) {
		edit32(b, OFF_VERSION, 6, 7); /* the header claims more than the flags need */
	} else if (strcmp(name, "spec_in_version_6.am") == 0) {
		edit32(b, OFF_VERSION, 7, 6);
	} else if (strcmp(name, "spec_without_head.am") == 0) {
		edit32(b, OFF_VERSION, 1, 7);
		edit32(b, OFF_FLAGS, 0x3, 0x83);
		fix_crc(b, *size);
	} else if (strcmp(name, "spec_dim.am") == 0) {
		edit32(b, OFF_HEAD_DIM, 4, 1025); /* refused before its arrays are read */
		fix_crc(b, *size);
	} else if (strcmp(name, "spec_rank_zero.am") == 0) {
		edit32(b, OFF_SPEC_RANK, 2, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "spec_rank_dim.am") == 0) {
		edit32(b, OFF_SPEC_RANK, 2, 4); /* refused before the basis is read */
		fix_crc(b, *size);
	} else if (strcmp(name, "spec_truncated.am") == 0) {
		*size -= 12; /* the header says so: the body ends inside head.basis */
		edit32(b, OFF_BODY_LENGTH, 568, 556);
		fix_crc(b, *size);
	} else if (strcmp(name, "spec_nonfinite.am") == 0) {
		float five = tiny_value(5, 11);
		uint32_t bits;
		memcpy(&bits, &five, 4);
		edit32(b, OFF_SPEC_BASIS5, bits, 0x7fc00000u); /* quiet NaN */
		fix_crc(b, *size);
	} else if (strcmp(name, "spec_band_bins.am") == 0) {
		edit32(b, OFF_SPEC_BAND_BINS, 4, 9); /* 9 x 4 = 36 bins, the features have 32 */
		fix_crc(b, *size);
	} else if (strcmp(name, "spec_top_fraction.am") == 0) {
		edit32(b, OFF_SPEC_TOP_FRACTION, 0x3f000000u /* 0.5f */, 0x3fc00000u /* 1.5f */);
		fix_crc(b, *size);
	} else if (strcmp(name, "spec_top_fraction_zero.am") == 0) {
		edit32(b, OFF_SPEC_TOP_FRACTION, 0x3f000000u /* 0.5f */, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_in_version_5.am") == 0) {
		edit32(b, OFF_VERSION, 6, 5);
	} else if (strcmp(name, "imp_without_rise.am") == 0) {
		edit32(b, OFF_VERSION, 1, 6);
		edit32(b, OFF_FLAGS, 0x3, 0x43);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_steady.am") == 0) {
		edit32(b, OFF_IMP_STEADY, 3, 16);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_block_zero.am") == 0) {
		edit32(b, OFF_IMP_BLOCK, 8, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_block.am") == 0) {
		edit32(b, OFF_IMP_BLOCK, 8, 12);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_bins.am") == 0) {
		edit32(b, OFF_IMP_BIN_HI, 2, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_dim.am") == 0) {
		edit32(b, OFF_IMP_DIM, 2, 3);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_truncated.am") == 0) {
		*size -= 12; /* the header says so: the body ends inside rise.impulses.inv_std */
		edit32(b, OFF_BODY_LENGTH, 716, 704);
		fix_crc(b, *size);
	} else if (strcmp(name, "imp_cal_std.am") == 0) {
		edit32(b, OFF_IMP_CAL_STD, 0x3f400000u, 0xbf000000u); /* 0.75 -> -0.5 */
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_in_version_4.am") == 0) {
		edit32(b, OFF_VERSION, 5, 4);
	} else if (strcmp(name, "rise_unknown_flag.am") == 0) {
		edit32(b, OFF_FLAGS, 0x3f, 0x7f);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_without_head.am") == 0) {
		edit32(b, OFF_VERSION, 1, 5);
		edit32(b, OFF_FLAGS, 0x3, 0x23);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_env_bins.am") == 0) {
		edit32(b, OFF_RISE_ENV_BIN_HI, 2, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_env_features.am") == 0) {
		edit32(b, OFF_RISE_ENV_BIN_HI, 2, 100000); /* refused before 800 kB are allocated */
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_env_n_fft.am") == 0) {
		edit32(b, OFF_RISE_ENV_N_FFT, 8, 12);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_tone_far.am") == 0) {
		edit32(b, OFF_RISE_TONE_FAR, 2, 4);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_dim.am") == 0) {
		edit32(b, OFF_RISE_ENV_DIM, 2, 3);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_truncated.am") == 0) {
		*size -= 12; /* the header says so: the body ends inside rise.tones.inv_std */
		edit32(b, OFF_BODY_LENGTH, 668, 656);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_nonfinite.am") == 0) {
		float one = tiny_value(1, 8);
		uint32_t bits;
		memcpy(&bits, &one, 4);
		edit32(b, OFF_RISE_ENV_MEAN1, bits, 0x7fc00000u); /* quiet NaN */
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_std.am") == 0) {
		edit32(b, OFF_RISE_TONES_INV_STD0, 0x3f000000u /* 0.5f */, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_cal_std.am") == 0) {
		edit32(b, OFF_RISE_ENV_CAL_STD, 0x3f000000u /* 0.5f */, 0xbf000000u /* -0.5f */);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_gate_z.am") == 0) {
		edit32(b, OFF_RISE_GATE_Z, 0x3f800000u /* 1.0f */, 0x7f800000u); /* +inf */
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_gate_weight.am") == 0) {
		edit32(b, OFF_RISE_GATE_WEIGHT, 0x40000000u /* 2.0f */, 0xc0000000u /* -2.0f */);
		fix_crc(b, *size);
	} else if (strcmp(name, "rise_top_fraction.am") == 0) {
		edit32(b, OFF_RISE_TOP_FRACTION, 0x3f000000u /* 0.5f */, 0x3fc00000u /* 1.5f */);
		fix_crc(b, *size);
	} else if (strcmp(name, "kept_in_version_3.am") == 0) {
		edit32(b, OFF_VERSION, 4, 3);
	} else if (strcmp(name, "kept_unknown_flag.am") == 0) {
		edit32(b, OFF_FLAGS, 0x17, 0x37);
		fix_crc(b, *size);
	} else if (strcmp(name, "kept_without_head.am") == 0) {
		edit32(b, OFF_VERSION, 1, 4);
		edit32(b, OFF_FLAGS, 0x3, 0x13);
		fix_crc(b, *size);
	} else if (strcmp(name, "kept_all_bands.am") == 0) {
		edit32(b, OFF_KEPT_N_KEPT, 1, 2);
		fix_crc(b, *size);
	} else if (strcmp(name, "kept_truncated.am") == 0) {
		*size -= 8; /* the header says so: the body ends inside the precision */
		edit32(b, OFF_BODY_LENGTH, 528, 520);
		fix_crc(b, *size);
	} else if (strcmp(name, "version_3_plain.am") == 0) {
		edit32(b, OFF_VERSION, 1, 3); /* one bit flipped in the header */
	} else if (strcmp(name, "curve_in_version_2.am") == 0) {
		edit32(b, OFF_VERSION, 3, 2);
	} else if (strcmp(name, "curve_unknown_flag.am") == 0) {
		edit32(b, OFF_FLAGS, 0xb, 0x1b);
		fix_crc(b, *size);
	} else if (strcmp(name, "curve_epochs.am") == 0) {
		edit32(b, OFF_CURVE_N_EPOCHS, 3, 200000); /* refused before 1.6 MB are allocated */
		fix_crc(b, *size);
	} else if (strcmp(name, "curve_truncated.am") == 0) {
		*size -= 8; /* the header says so: the body ends inside curve.val_loss */
		edit32(b, OFF_BODY_LENGTH, 488, 480);
		fix_crc(b, *size);
	} else if (strcmp(name, "curve_nonfinite.am") == 0) {
		edit32(b, OFF_CURVE_TRAIN1, 0x3fe00000u /* 1.75f */, 0x7fc00000u); /* quiet NaN */
		fix_crc(b, *size);
	} else if (strcmp(name, "curve_val_loss.am") == 0) {
		edit32(b, OFF_CURVE_VAL2, 0x3fe00000u /* 1.75f */, 0x7f800000u); /* +inf */
		fix_crc(b, *size);
	} else if (strcmp(name, "curve_epoch_count.am") == 0) {
		edit32(b, OFF_TRAINING_EPOCHS, 3, 4);
		fix_crc(b, *size);
	} else if (strcmp(name, "head_in_version_1.am") == 0) {
		edit32(b, OFF_VERSION, 2, 1);
	} else if (strcmp(name, "head_unknown_flag.am") == 0) {
		edit32(b, OFF_FLAGS, 0x7, 0xf);
		fix_crc(b, *size);
	} else if (strcmp(name, "head_dim.am") == 0) {
		edit32(b, OFF_HEAD_DIM, 4, 6);
		fix_crc(b, *size);
	} else if (strcmp(name, "head_truncated.am") == 0) {
		*size -= 28; /* the header says so: the body ends inside the precision */
		edit32(b, OFF_BODY_LENGTH, 588, 560);
		fix_crc(b, *size);
	} else if (strcmp(name, "head_hop.am") == 0) {
		edit32(b, OFF_HEAD_HOP, 8, 12);
		fix_crc(b, *size);
	} else if (strcmp(name, "head_n_fft.am") == 0) {
		edit32(b, OFF_HEAD_HOP - 4, 16, 128); /* head.n_fft */
		fix_crc(b, *size);
	} else if (strcmp(name, "head_std.am") == 0) {
		edit32(b, OFF_HEAD_INV_STD0, 0x3f000000u /* 0.5f */, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "head_nonfinite.am") == 0) {
		float five = tiny_value(5, 7);
		uint32_t bits;
		memcpy(&bits, &five, 4);
		edit32(b, OFF_HEAD_PRECISION5, bits, 0x7f800000u); /* +inf */
		fix_crc(b, *size);
	} else if (strcmp(name, "head_median.am") == 0) {
		edit32(b, OFF_HEAD_AE_MEDIAN, 0x3fc00000u /* 1.5f */, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "absurd_length.am") == 0) {
		edit32(b, OFF_BODY_LENGTH, 460, 0);
		edit32(b, OFF_BODY_LENGTH + 4, 0, 256); /* 2^40 bytes */
	} else if (strcmp(name, "truncated.am") == 0) {
		*size = 300;
	} else if (strcmp(name, "trailing_garbage.am") == 0) {
		uint8_t *g = realloc(b, *size + 8);
		assert_non_null(g);
		memcpy(g + *size, "GARBAGE\n", 8);
		*data = g;
		*size += 8;
	} else if (strcmp(name, "checksum.am") == 0) {
		b[24 + 200] ^= 0x10; /* one bit of a weight; the header's CRC is left as it was */
	} else if (strcmp(name, "bad_features.am") == 0) {
		edit32(b, OFF_N_FFT, 64, 100);
		fix_crc(b, *size);
	} else if (strcmp(name, "absurd_layer.am") == 0) {
		edit32(b, OFF_L0_N_OUT, 3, 1u << 30);
		fix_crc(b, *size);
	} else if (strcmp(name, "layer_sizes.am") == 0) {
		edit32(b, OFF_INPUT_FRAMES, 0x5, 0x7); /* 12 inputs, but layer 0 takes 8 */
		fix_crc(b, *size);
	} else if (strcmp(name, "layer_input.am") == 0) {
		edit32(b, OFF_L0_N_IN, 8, 12); /* the weights would be misread as 12 x 3 */
		fix_crc(b, *size);
	} else if (strcmp(name, "layer_chain.am") == 0) {
		edit32(b, OFF_L1_N_IN, 3, 5);
		fix_crc(b, *size);
	} else if (strcmp(name, "bad_mask.am") == 0) {
		edit32(b, OFF_TARGET_FRAMES, 0x2, 0x8);
		fix_crc(b, *size);
	} else if (strcmp(name, "nonfinite.am") == 0) {
		float five = tiny_value(5, 2);
		uint32_t bits;
		memcpy(&bits, &five, 4);
		edit32(b, OFF_L0_WEIGHT5, bits, 0x7fc00000u); /* quiet NaN */
		fix_crc(b, *size);
	} else if (strcmp(name, "bad_std.am") == 0) {
		edit32(b, OFF_STD0, 0x3f800000u /* 1.0f */, 0);
		fix_crc(b, *size);
	} else if (strcmp(name, "denormal_std.am") == 0) {
		edit32(b, OFF_STD0, 0x3f800000u /* 1.0f */, 1); /* the smallest denormal */
		fix_crc(b, *size);
	} else if (strcmp(name, "body_overrun.am") == 0) {
		edit32(b, 24 + 288, 4, 5); /* layer 1 n_out: 16 more bytes of weights and bias */
		fix_crc(b, *size);
	} else {
		fail_msg("no recipe for fixture %s", name);
	}
}

/* The valid files among the fixtures, before the table's. */
static const char *const valid_files[] = { "tiny.am",      "tiny_head.am", "tiny_curve.am",
					   "tiny_kept.am", "tiny_rise.am", "tiny_imp.am",
					   "tiny_spec.am", "tiny_burst.am" };
#define N_VALID (sizeof(valid_files) / sizeof(valid_files[0]))

static const char *fixture_name(size_t i)
{
	return i < N_VALID ? valid_files[i] : fixtures[i - N_VALID].file;
}

static int write_fixtures(const char *dir)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]) + N_VALID; i++) {
		const char *name = fixture_name(i);
		uint8_t *data;
		size_t size;
		make_fixture(name, &data, &size);
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return 1;
		}
		printf("wrote %s (%zu bytes)\n", path, size);
		free(data);
	}
	return 0;
}

static uint8_t *read_whole(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: %s (regenerate with test_model_file --write-fixtures)", path,
			 strerror(errno));
	uint8_t *buf = malloc(1 << 16);
	assert_non_null(buf);
	*size = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

/* ---- tests ---- */

static void assert_models_equal(const struct model *a, const struct model *b)
{
	assert_memory_equal(&a->features, &b->features, sizeof(a->features));
	assert_int_equal(a->input_frames, b->input_frames);
	assert_int_equal(a->target_frames, b->target_frames);
	size_t dim = feature_params_vector_dim(&a->features);
	assert_int_equal(!a->input_mean, !b->input_mean);
	if (a->input_mean) {
		assert_memory_equal(a->input_mean, b->input_mean, dim * sizeof(float));
		assert_memory_equal(a->input_std, b->input_std, dim * sizeof(float));
	}
	assert_int_equal(!a->band_weights, !b->band_weights);
	if (a->band_weights)
		assert_memory_equal(a->band_weights, b->band_weights,
				    a->features.n_mels * sizeof(float));
	assert_int_equal(a->aggregation, b->aggregation);
	assert_memory_equal(&a->top_fraction, &b->top_fraction, sizeof(float));
	assert_int_equal(a->n_layers, b->n_layers);
	for (uint32_t i = 0; i < a->n_layers; i++) {
		const struct dense_layer *la = &a->layers[i], *lb = &b->layers[i];
		assert_int_equal(la->n_in, lb->n_in);
		assert_int_equal(la->n_out, lb->n_out);
		assert_int_equal(la->activation, lb->activation);
		assert_memory_equal(la->weights, lb->weights,
				    (size_t)la->n_in * la->n_out * sizeof(float));
		assert_memory_equal(la->bias, lb->bias, la->n_out * sizeof(float));
	}
	assert_memory_equal(&a->threshold, &b->threshold, sizeof(a->threshold));
	const struct model_training_info *ta = &a->training, *tb = &b->training;
	assert_int_equal(ta->n_vectors, tb->n_vectors);
	assert_int_equal(ta->n_files, tb->n_files);
	assert_int_equal(ta->epochs, tb->epochs);
	assert_int_equal(ta->batch_size, tb->batch_size);
	assert_memory_equal(&ta->learning_rate, &tb->learning_rate, sizeof(float));
	assert_memory_equal(&ta->validation_split, &tb->validation_split, sizeof(float));
	assert_int_equal(ta->seed, tb->seed);
	assert_memory_equal(&ta->train_loss, &tb->train_loss, sizeof(float));
	assert_memory_equal(&ta->val_loss, &tb->val_loss, sizeof(float));
	assert_int_equal(ta->created_unix_s, tb->created_unix_s);
	assert_string_equal(ta->tool_version, tb->tool_version);
	assert_int_equal(a->curve.n_epochs, b->curve.n_epochs);
	if (a->curve.n_epochs) {
		assert_memory_equal(a->curve.train_loss, b->curve.train_loss,
				    a->curve.n_epochs * sizeof(float));
		assert_memory_equal(a->curve.val_loss, b->curve.val_loss,
				    a->curve.n_epochs * sizeof(float));
	} else {
		assert_null(b->curve.train_loss);
		assert_null(b->curve.val_loss);
	}
	assert_int_equal(!a->head, !b->head);
	if (a->head) {
		const struct model_window_head *ha = a->head, *hb = b->head;
		assert_int_equal(ha->n_fft, hb->n_fft);
		assert_int_equal(ha->hop, hb->hop);
		assert_int_equal(ha->n_bands, hb->n_bands);
		assert_int_equal(ha->n_kept, hb->n_kept);
		assert_int_equal(ha->dim, hb->dim);
		/* shrinkage, floor and the medians: four floats in a row */
		assert_memory_equal(&ha->shrinkage, &hb->shrinkage, 4 * sizeof(float));
		assert_memory_equal(ha->mean, hb->mean, ha->dim * sizeof(float));
		assert_memory_equal(ha->inv_std, hb->inv_std, ha->dim * sizeof(float));
		assert_int_equal(ha->kind, hb->kind);
		if (ha->kind == WINDOW_HEAD_SPECTRUM) {
			assert_null(hb->precision);
			assert_int_equal(ha->spec_band_bins, hb->spec_band_bins);
			assert_int_equal(ha->spec_rank, hb->spec_rank);
			assert_memory_equal(&ha->spec_top_fraction, &hb->spec_top_fraction,
					    sizeof(float));
			assert_non_null(hb->basis);
			assert_memory_equal(ha->basis, hb->basis,
					    (size_t)ha->dim * ha->spec_rank * sizeof(float));
		} else {
			assert_null(hb->basis);
			assert_memory_equal(ha->precision, hb->precision,
					    (size_t)ha->dim * ha->dim * sizeof(float));
		}
	}
	assert_int_equal(!a->rise, !b->rise);
	if (a->rise) {
		const struct model_rise_heads *ra = a->rise, *rb = b->rise;
		/* the shape (6 u32) and the fractions and gate (4 floats) in a row */
		assert_memory_equal(&ra->env_n_fft, &rb->env_n_fft, 6 * sizeof(uint32_t));
		assert_memory_equal(&ra->top_fraction, &rb->top_fraction, 4 * sizeof(float));
		/* the steady count and the impulse head's shape (5 u32) */
		assert_memory_equal(&ra->steady, &rb->steady, 5 * sizeof(uint32_t));
		/* the bursts head's shape and gate */
		assert_int_equal(ra->burst_bins, rb->burst_bins);
		assert_int_equal(ra->burst_band_bins, rb->burst_band_bins);
		assert_memory_equal(&ra->burst_gate_z, &rb->burst_gate_z, sizeof(float));
		const struct model_rise_head *ha[4] = { &ra->envelope, &ra->tones, &ra->impulses,
							&ra->bursts };
		const struct model_rise_head *hb[4] = { &rb->envelope, &rb->tones, &rb->impulses,
							&rb->bursts };
		for (int k = 0; k < 4; k++) {
			assert_int_equal(ha[k]->dim, hb[k]->dim);
			if (!ha[k]->dim)
				continue;
			assert_memory_equal(ha[k]->mean, hb[k]->mean, ha[k]->dim * sizeof(float));
			assert_memory_equal(ha[k]->inv_std, hb[k]->inv_std,
					    ha[k]->dim * sizeof(float));
			assert_memory_equal(&ha[k]->cal_mean, &hb[k]->cal_mean, sizeof(float));
			assert_memory_equal(&ha[k]->cal_std, &hb[k]->cal_std, sizeof(float));
		}
	}
}

static void crc32_known_values(void **state)
{
	(void)state;
	assert_int_equal(crc32_compute("123456789", 9), 0xCBF43926u);
	assert_int_equal(crc32_compute("", 0), 0);
	assert_int_equal(crc32_compute("a", 1), 0xE8B7BE43u);
	/* In pieces equals at once. */
	uint32_t c = crc32_update(0, "1234", 4);
	assert_int_equal(crc32_update(c, "56789", 5), 0xCBF43926u);
}

static void encode_layout_matches_docs(void **state)
{
	(void)state;
	uint8_t *b;
	size_t size;
	tiny_bytes(&b, &size);
	assert_memory_equal(b, "AUSCULTM", 8);
	assert_int_equal(get32(b + OFF_VERSION), 1);
	assert_int_equal(get32(b + OFF_BODY_LENGTH), 460);
	assert_int_equal(get32(b + OFF_BODY_LENGTH + 4), 0);
	assert_int_equal(get32(b + OFF_CRC), crc32_compute(b + 24, 460));
	assert_int_equal(get32(b + 24), 16000);
	assert_int_equal(get32(b + OFF_N_FFT), 64);
	assert_int_equal(get32(b + 24 + 36), 0x3); /* flags: standardisation + band weights */
	assert_int_equal(get32(b + OFF_N_LAYERS), 2);
	assert_int_equal(get32(b + 24 + 164), 8); /* layer 0 n_in */
	assert_int_equal(get32(b + 24 + 172), 1); /* relu */
	assert_memory_equal(b + size - 32, "0.1.0-fixture\0\0\0", 16);
	free(b);
}

/* Model m is refused by model_encode as invalid, with `message` after "model not encoded: ". */
static void assert_not_encoded(const struct model *m, const char *message)
{
	void *data;
	size_t size;
	struct auscult_err err;
	assert_int_equal(model_encode(m, &data, &size, &err), AUSCULT_ERR_INVALID);
	char want[512];
	snprintf(want, sizeof(want), "model not encoded: %s", message);
	assert_string_equal(err.msg, want);
	assert_null(data);
}

/* Model a, whose file is the `size` bytes at `file`: encoding it gives them, decoding them gives a
 * model equal to it that scores as it does and is encoded to the same bytes; so does the fixture
 * `fixture` (a file name under FIXTURE_DIR), which is those bytes. */
static void assert_round_trips(const struct model *a, const uint8_t *file, size_t file_size,
			       const char *fixture)
{
	struct model b;
	struct auscult_err err;
	void *data;
	size_t size;
	assert_int_equal(model_encode(a, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(size, file_size);
	assert_memory_equal(data, file, size);
	assert_int_equal(model_decode(&b, data, size, fixture, &err), AUSCULT_OK);
	assert_models_equal(a, &b);
	assert_null(model_scoring_difference(a, &b));
	void *again;
	size_t again_size;
	assert_int_equal(model_encode(&b, &again, &again_size, &err), AUSCULT_OK);
	assert_int_equal(again_size, size);
	assert_memory_equal(again, data, size);
	free(again);
	free(data);
	model_free(&b);

	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, fixture);
	if (model_load(&b, path, &err) != AUSCULT_OK)
		fail_msg("%s", err.msg);
	assert_models_equal(a, &b);
	assert_int_equal(model_encode(&b, &data, &size, &err), AUSCULT_OK);
	size_t disk_size;
	uint8_t *disk = read_whole(path, &disk_size);
	assert_int_equal(disk_size, size);
	assert_memory_equal(disk, data, size);
	free(disk);
	free(data);
	model_free(&b);
}

static void round_trip_in_memory(void **state)
{
	(void)state;
	struct model a, b;
	struct auscult_err err;
	tiny_model(&a);
	void *data;
	size_t size;
	uint8_t *tiny;
	tiny_bytes(&tiny, &size);
	assert_round_trips(&a, tiny, size, "tiny.am");
	free(tiny);

	/* Without the optional parts, mean aggregation, no validation loss (NaN). */
	free(a.input_mean);
	free(a.input_std);
	free(a.band_weights);
	a.input_mean = a.input_std = a.band_weights = NULL;
	a.aggregation = CLIP_AGG_MEAN;
	a.training.val_loss = NAN;
	assert_int_equal(model_encode(&a, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(size, TINY_FILE_BYTES - 2 * 12 * 4 - 4 * 4);
	assert_int_equal(model_decode(&b, data, size, "tiny", &err), AUSCULT_OK);
	assert_null(b.input_mean);
	assert_null(b.band_weights);
	assert_true(isnan(b.training.val_loss));
	assert_models_equal(&a, &b);
	free(data);
	model_free(&a);
	model_free(&b);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void save_and_load_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/auscult_model_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/pump.am", dir);
	struct model a, b;
	struct auscult_err err;
	tiny_model(&a);
	assert_int_equal(model_save(&a, path, &err), AUSCULT_OK);
	assert_int_equal(model_load(&b, path, &err), AUSCULT_OK);
	assert_models_equal(&a, &b);
	model_free(&b);

	/* Saving over it replaces it whole and leaves no temporary file behind. */
	a.threshold.threshold = 7.5f;
	assert_int_equal(model_save(&a, path, &err), AUSCULT_OK);
	assert_int_equal(model_load(&b, path, &err), AUSCULT_OK);
	assert_true(b.threshold.threshold == 7.5f);
	model_free(&b);
	assert_int_equal(count_entries(dir), 1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, TINY_FILE_BYTES);

	/* An invalid model is refused and the old file stays. */
	a.threshold.quantile = 1.5f;
	assert_int_equal(model_save(&a, path, &err), AUSCULT_ERR_INVALID);
	char want[512];
	snprintf(want, sizeof(want),
		 "%s: model not encoded: threshold.quantile: 1.5 is not in (0, 1)", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(model_load(&b, path, &err), AUSCULT_OK);
	model_free(&b);

	/* A folder that does not exist. */
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/nope/pump.am", dir);
	a.threshold.quantile = 0.9f;
	assert_int_equal(model_save(&a, missing, &err), AUSCULT_ERR_IO);
	snprintf(want, sizeof(want),
		 "%s: cannot create a temporary file beside it: No such file or directory; check "
		 "that the folder exists and is writable",
		 missing);
	assert_string_equal(err.msg, want);
	model_free(&a);

	/* Loading what is not there, or not a file. */
	assert_int_equal(model_load(&b, missing, &err), AUSCULT_ERR_IO);
	snprintf(want, sizeof(want), "%s: cannot open the model file: No such file or directory",
		 missing);
	assert_string_equal(err.msg, want);
	assert_null(b.layers);
	assert_int_equal(model_load(&b, dir, &err), AUSCULT_ERR_IO);
	snprintf(want, sizeof(want),
		 "%s: is a directory, not a regular file; expected the model file", dir);
	assert_string_equal(err.msg, want);
	/* A named pipe is refused before it is read: opening it must not wait for a writer. */
	char fifo[sizeof(dir) + 8];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(model_load(&b, fifo, &err), AUSCULT_ERR_IO);
	snprintf(want, sizeof(want),
		 "%s: is a named pipe, not a regular file; expected the model file", fifo);
	assert_string_equal(err.msg, want);
	unlink(fifo);

	unlink(path);
	rmdir(dir);
}

static void fixtures_are_what_the_generator_makes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]) + N_VALID; i++) {
		const char *name = fixture_name(i);
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, name);
		size_t have_size, want_size;
		uint8_t *have = read_whole(path, &have_size);
		uint8_t *want;
		make_fixture(name, &want, &want_size);
		if (have_size != want_size || memcmp(have, want, want_size) != 0)
			fail_msg("%s differs from what its recipe makes; regenerate with "
				 "test_model_file --write-fixtures %s",
				 path, FIXTURE_DIR);
		free(have);
		free(want);
	}
}

static void valid_fixture_loads(void **state)
{
	(void)state;
	struct model m, tiny;
	struct auscult_err err;
	assert_int_equal(model_load(&m, FIXTURE_DIR "/tiny.am", &err), AUSCULT_OK);
	tiny_model(&tiny);
	assert_models_equal(&m, &tiny);
	assert_null(m.head);
	model_free(&m);
	model_free(&tiny);
	assert_int_equal(model_load(&m, FIXTURE_DIR "/tiny_head.am", &err), AUSCULT_OK);
	tiny_head_model(&tiny);
	assert_models_equal(&m, &tiny);
	model_free(&m);
	model_free(&tiny);
	assert_int_equal(model_load(&m, FIXTURE_DIR "/tiny_curve.am", &err), AUSCULT_OK);
	tiny_curve_model(&tiny);
	assert_models_equal(&m, &tiny);
	model_free(&m);
	model_free(&tiny);
	assert_int_equal(model_load(&m, FIXTURE_DIR "/tiny_kept.am", &err), AUSCULT_OK);
	tiny_kept_model(&tiny);
	assert_models_equal(&m, &tiny);
	assert_int_equal(m.head->n_kept, 1);
	model_free(&m);
	model_free(&tiny);
	assert_int_equal(model_load(&m, FIXTURE_DIR "/tiny_rise.am", &err), AUSCULT_OK);
	tiny_rise_model(&tiny);
	assert_models_equal(&m, &tiny);
	assert_non_null(m.rise);
	assert_int_equal(m.rise->tones.dim, 4);
	assert_int_equal(m.rise->imp_block, 0);
	assert_int_equal(m.rise->steady, MODEL_RISE_STEADY_V5);
	model_free(&m);
	model_free(&tiny);
	assert_int_equal(model_load(&m, FIXTURE_DIR "/tiny_imp.am", &err), AUSCULT_OK);
	tiny_imp_model(&tiny);
	assert_models_equal(&m, &tiny);
	assert_int_equal(m.rise->imp_block, 8);
	assert_int_equal(m.rise->impulses.dim, 2);
	assert_int_equal(m.rise->steady, 3);
	assert_int_equal(model_file_version(&m), 6);
	model_free(&m);
	model_free(&tiny);
	assert_int_equal(model_load(&m, FIXTURE_DIR "/tiny_spec.am", &err), AUSCULT_OK);
	tiny_spec_model(&tiny);
	assert_models_equal(&m, &tiny);
	assert_int_equal(m.head->kind, WINDOW_HEAD_SPECTRUM);
	assert_null(m.head->precision);
	assert_int_equal(model_file_version(&m), 7);
	model_free(&m);
	model_free(&tiny);
	assert_int_equal(model_load(&m, FIXTURE_DIR "/tiny_burst.am", &err), AUSCULT_OK);
	tiny_burst_model(&tiny);
	assert_models_equal(&m, &tiny);
	assert_int_equal(m.rise->burst_bins, 8);
	assert_int_equal(m.rise->bursts.dim, 4);
	assert_int_equal(model_file_version(&m), 8);
	model_free(&m);
	model_free(&tiny);
}

/* Files written before the curve existed load and are written again byte for byte, in their
 * own version: the fixtures of versions 1 and 2, and the model shipped before the curve. */
static void older_files_are_rewritten_byte_for_byte(void **state)
{
	(void)state;
	static const char *const paths[] = { FIXTURE_DIR "/tiny.am", FIXTURE_DIR "/tiny_head.am",
					     FIXTURE_DIR "/pump_id00_v1.am" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct model m;
		struct auscult_err err;
		if (model_load(&m, paths[i], &err) != AUSCULT_OK)
			fail_msg("%s", err.msg);
		assert_int_equal(m.curve.n_epochs, 0);
		assert_true(model_file_version(&m) < 3);
		void *data;
		size_t size;
		assert_int_equal(model_encode(&m, &data, &size, &err), AUSCULT_OK);
		FILE *f = fopen(paths[i], "rb");
		assert_non_null(f);
		uint8_t *file = malloc(size + 1);
		assert_non_null(file);
		size_t got = fread(file, 1, size + 1, f);
		fclose(f);
		if (got != size || memcmp(file, data, size) != 0)
			fail_msg("%s is not written back byte for byte", paths[i]);
		free(file);
		free(data);
		model_free(&m);
	}
}

/* A file with an optional section is the version-1 tiny file with another version, body
 * length and flags, and the section after the training info. */
static void assert_extends_plain(const uint8_t *file, uint32_t version, uint32_t body_length,
				 uint32_t flags)
{
	uint8_t *plain;
	size_t plain_size;
	tiny_bytes(&plain, &plain_size);
	assert_int_equal(get32(plain + OFF_VERSION), 1);
	assert_int_equal(get32(file + OFF_VERSION), version);
	assert_int_equal(get32(file + OFF_BODY_LENGTH), body_length);
	assert_int_equal(get32(file + OFF_FLAGS), flags);
	assert_memory_equal(file + 24, plain + 24, OFF_FLAGS - 24);
	assert_memory_equal(file + OFF_FLAGS + 4, plain + OFF_FLAGS + 4,
			    plain_size - (OFF_FLAGS + 4));
	free(plain);
}

/* A curve makes the file version 3: the version-1 (or 2) body, flag 0x8, then after the head
 * (if any) the epoch count, the training losses and the validation losses. */
static void curve_section_layout(void **state)
{
	(void)state;
	uint8_t *curve;
	size_t curve_size;
	tiny_curve_bytes(&curve, &curve_size);
	assert_extends_plain(curve, 3, 488, 0xb);
	assert_int_equal(get32(curve + OFF_CURVE_N_EPOCHS), 3);
	assert_int_equal(get32(curve + 24 + 464), 0x40000000u); /* train_loss[0] = 2 */
	assert_int_equal(get32(curve + 24 + 476), 0x40100000u); /* val_loss[0] = 2.25 */
	free(curve);

	/* With a head too: the head first, then the curve; a round trip keeps both. */
	struct model a, b;
	struct auscult_err err;
	tiny_curve_model(&a);
	struct model h;
	tiny_head_model(&h);
	a.head = h.head;
	h.head = NULL;
	model_free(&h);
	assert_int_equal(model_file_version(&a), 3);
	void *data;
	size_t size;
	assert_int_equal(model_encode(&a, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(size, TINY_HEAD_FILE_BYTES + 4 + 24);
	assert_int_equal(get32((uint8_t *)data + OFF_FLAGS), 0xf);
	assert_int_equal(get32((uint8_t *)data + 24 + 588), 3); /* curve.n_epochs */
	assert_int_equal(model_decode(&b, data, size, "both", &err), AUSCULT_OK);
	assert_models_equal(&a, &b);
	model_free(&b);
	free(data);

	/* No validation split: every validation loss NaN, kept as NaN. */
	for (int e = 0; e < 3; e++)
		a.curve.val_loss[e] = NAN;
	a.training.val_loss = NAN;
	assert_int_equal(model_encode(&a, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(model_decode(&b, data, size, "noval", &err), AUSCULT_OK);
	assert_true(isnan(b.curve.val_loss[0]) && isnan(b.curve.val_loss[2]));
	model_free(&b);
	free(data);

	/* A curve that disagrees with the epochs run is not written. */
	a.curve.n_epochs = 2;
	assert_int_equal(model_encode(&a, &data, &size, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "model not encoded: curve.n_epochs: 2, but training.epochs "
				     "says 3");
	assert_null(data);
	a.curve.n_epochs = 3;
	model_free(&a);
}

/* A head-less model stays version 1, byte for byte; a head makes it version 2, whose body is the
 * version-1 body, flag 0x4 set, then the head section. */
static void head_section_layout(void **state)
{
	(void)state;
	uint8_t *head;
	size_t head_size;
	tiny_head_bytes(&head, &head_size);
	assert_extends_plain(head, 2, 588, 0x7);
	assert_int_equal(get32(head + 24 + 460), 16); /* head.n_fft */
	assert_int_equal(get32(head + OFF_HEAD_DIM), 4);
	struct model m;
	tiny_head_model(&m);
	assert_int_equal(model_file_version(&m), 2);
	model_free(&m);
	free(head);
}

/* A head keeping fewer than its bands makes the file version 4: the version-2 body with flag
 * 0x10 too and n_kept after n_bands; keeping them all stays version 2. */
static void kept_head_layout(void **state)
{
	(void)state;
	uint8_t *kept;
	size_t kept_size;
	tiny_kept_bytes(&kept, &kept_size);
	assert_extends_plain(kept, 4, 528, 0x17);
	assert_int_equal(get32(kept + 24 + 468), 2);         /* head.n_bands */
	assert_int_equal(get32(kept + OFF_KEPT_N_KEPT), 1);  /* head.n_kept */
	assert_int_equal(get32(kept + OFF_HEAD_DIM + 4), 2); /* head.dim, 4 bytes on */
	struct model m;
	tiny_kept_model(&m);
	assert_int_equal(model_file_version(&m), 4);
	/* a model whose head keeps more bands than it has is not written */
	m.head->n_kept = 3;
	void *data;
	size_t size;
	struct auscult_err err;
	assert_int_equal(model_encode(&m, &data, &size, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg,
			    "model not encoded: head.n_kept: 3 is not in [1, n_bands = 2]");
	m.head->n_kept = 1;
	model_free(&m);
	free(kept);
}

/* Rise heads make the file version 5: the version-4 body with a curve, flag 0x20 too, and the
 * rise section after the curve; the fixture loads and is written back byte for byte. */
static void rise_section_layout(void **state)
{
	(void)state;
	uint8_t *rise;
	size_t rise_size;
	tiny_rise_bytes(&rise, &rise_size);
	assert_extends_plain(rise, 5, 668, 0x3f);
	assert_int_equal(get32(rise + 24 + 528), 3); /* curve.n_epochs, after the kept head */
	assert_int_equal(get32(rise + OFF_RISE_ENV_N_FFT), 8);
	assert_int_equal(get32(rise + OFF_RISE + 4), 1); /* env_bin_lo */
	assert_int_equal(get32(rise + OFF_RISE_ENV_BIN_HI), 2);
	assert_int_equal(get32(rise + OFF_RISE + 12), 4); /* tone_bins */
	assert_int_equal(get32(rise + OFF_RISE + 16), 1); /* tone_near */
	assert_int_equal(get32(rise + OFF_RISE_TONE_FAR), 2);
	assert_int_equal(get32(rise + OFF_RISE_TOP_FRACTION), 0x3f000000u); /* 0.5 */
	assert_int_equal(get32(rise + OFF_RISE + 28), 0x3e000000u);         /* std floor 0.125 */
	assert_int_equal(get32(rise + OFF_RISE_GATE_Z), 0x3f800000u);       /* 1 */
	assert_int_equal(get32(rise + OFF_RISE_GATE_WEIGHT), 0x40000000u);  /* 2 */
	assert_int_equal(get32(rise + OFF_RISE_ENV_DIM), 2);
	assert_int_equal(get32(rise + OFF_RISE + 60), 0x3f400000u); /* envelope.cal_mean 0.75 */
	assert_int_equal(get32(rise + OFF_RISE_ENV_CAL_STD), 0x3f000000u);
	assert_int_equal(get32(rise + OFF_RISE_TONES_DIM), 4);
	assert_int_equal(get32(rise + TINY_RISE_FILE_BYTES - 8), 0x3fa00000u); /* 1.25 */
	assert_int_equal(get32(rise + TINY_RISE_FILE_BYTES - 4), 0x3e800000u); /* 0.25 */
	free(rise);

	/* The fixture is read and written again byte for byte. */
	struct model m;
	struct auscult_err err;
	if (model_load(&m, FIXTURE_DIR "/tiny_rise.am", &err) != AUSCULT_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(model_file_version(&m), 5);
	void *data;
	size_t size;
	assert_int_equal(model_encode(&m, &data, &size, &err), AUSCULT_OK);
	size_t file_size;
	uint8_t *file = read_whole(FIXTURE_DIR "/tiny_rise.am", &file_size);
	assert_int_equal(file_size, size);
	assert_memory_equal(file, data, size);
	free(file);
	free(data);

	/* Rise heads on a head keeping all its bands, without a curve: still version 5. */
	model_free(&m);
	tiny_head_model(&m);
	struct model r;
	tiny_rise_model(&r);
	m.rise = r.rise;
	r.rise = NULL;
	model_free(&r);
	free(m.rise->envelope.mean);
	free(m.rise->envelope.inv_std);
	m.rise->envelope.dim = 4; /* 2 bands x 2 bins */
	m.rise->envelope.mean = tiny_array(4, 8);
	m.rise->envelope.inv_std = malloc(4 * sizeof(float));
	assert_non_null(m.rise->envelope.inv_std);
	for (int i = 0; i < 4; i++)
		m.rise->envelope.inv_std[i] = 1.0f;
	assert_int_equal(model_file_version(&m), 5);
	assert_int_equal(model_encode(&m, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(get32((uint8_t *)data + OFF_FLAGS), 0x27);
	struct model back;
	assert_int_equal(model_decode(&back, data, size, "rise", &err), AUSCULT_OK);
	assert_models_equal(&m, &back);
	model_free(&back);
	free(data);

	/* Rise heads without a window head, or whose dims do not follow from their shape, are
	 * not written. */
	m.rise->envelope.dim = 2;
	assert_int_equal(model_encode(&m, &data, &size, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "model not encoded: rise.envelope.dim: 2, expected 4");
	assert_null(data);
	m.rise->envelope.dim = 4;
	struct model_window_head *head = m.head;
	m.head = NULL;
	assert_int_equal(model_encode(&m, &data, &size, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "model not encoded: rise: rise heads need a window head "
				     "(their envelopes are its bands)");
	m.head = head;
	model_free(&m);
}

/* A spectrum head makes the file version 7: tiny_head's body with flag 0x80 too, and in the
 * head section, after inv_std, spec_band_bins, spec_rank, spec_top_fraction and the dim x rank
 * basis in place of the precision. The fixture loads and is written back byte for byte. */
static void spectrum_head_layout(void **state)
{
	(void)state;
	uint8_t *spec, *head;
	size_t spec_size, head_size;
	tiny_spec_bytes(&spec, &spec_size);
	tiny_head_bytes(&head, &head_size);
	assert_extends_plain(spec, 7, 568, 0x87);
	/* the head up to inv_std is tiny_head's */
	assert_memory_equal(spec + 24 + 460, head + 24 + 460, 524 - 460);
	assert_int_equal(get32(spec + OFF_HEAD_DIM), 4);
	assert_int_equal(get32(spec + OFF_SPEC_BAND_BINS), 4);
	assert_int_equal(get32(spec + OFF_SPEC_RANK), 2);
	assert_int_equal(get32(spec + OFF_SPEC_TOP_FRACTION), 0x3f000000u); /* 0.5 */
	for (size_t i = 0; i < 8; i++) {
		float v = tiny_value(i, 11);
		uint32_t bits;
		memcpy(&bits, &v, 4);
		assert_int_equal(get32(spec + OFF_SPEC_BASIS + 4 * i), bits);
	}
	free(head);

	/* encode -> decode gives the same model, and so does the fixture on disk; encoding either
	 * again the same bytes */
	struct model a, b;
	struct auscult_err err;
	tiny_spec_model(&a);
	assert_int_equal(model_file_version(&a), 7);
	assert_round_trips(&a, spec, spec_size, "tiny_spec.am");
	free(spec);
	void *data;
	size_t size;

	/* with a kept head, the curve and the rise heads of version 6: still version 7, every
	 * section round trips */
	struct model r;
	tiny_imp_model(&r);
	struct model_window_head *kept = r.head;
	r.head = a.head;
	a.head = kept;
	free(r.head->mean);
	free(r.head->inv_std);
	free(r.head->basis);
	r.head->n_kept = 1;
	r.head->mean = tiny_array(4, 6);
	r.head->inv_std = malloc(4 * sizeof(float));
	assert_non_null(r.head->inv_std);
	for (int i = 0; i < 4; i++)
		r.head->inv_std[i] = 1.0f + (float)i;
	r.head->basis = tiny_array(8, 12);
	assert_int_equal(model_file_version(&r), 7);
	assert_int_equal(model_encode(&r, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(get32((uint8_t *)data + OFF_VERSION), 7);
	assert_int_equal(get32((uint8_t *)data + OFF_FLAGS), 0xff);
	/* the kept head is 4 bytes longer than tiny_spec's; the rest is tiny_imp's sections */
	assert_int_equal(size,
			 TINY_SPEC_FILE_BYTES + 4 + (TINY_IMP_FILE_BYTES - TINY_KEPT_FILE_BYTES));
	assert_int_equal(model_decode(&b, data, size, "all", &err), AUSCULT_OK);
	assert_models_equal(&r, &b);
	model_free(&b);
	free(data);
	model_free(&r);
	model_free(&a); /* it holds tiny_imp's kept head now */

	/* a spectrum head the validation refuses is not written */
	static const struct {
		uint32_t band_bins, rank;
		float top_fraction;
		const char *message;
	} bad[] = {
		{ 0, 2, 0.5f,
		  "head.spec_band_bins: 0 bins x 4 bands do not fit in the features' 32 bins "
		  "(n_fft / 2)" },
		{ 9, 2, 0.5f,
		  "head.spec_band_bins: 9 bins x 4 bands do not fit in the features' 32 bins "
		  "(n_fft / 2)" },
		{ 4, 0, 0.5f, "head.spec_rank: 0 is not in [1, dim - 1 = 3]" },
		{ 4, 4, 0.5f, "head.spec_rank: 4 is not in [1, dim - 1 = 3]" },
		{ 4, 2, 0.0f, "head.spec_top_fraction: 0 is not in (0, 1]" },
		{ 4, 2, 1.5f, "head.spec_top_fraction: 1.5 is not in (0, 1]" },
		{ 4, 2, NAN, "head.spec_top_fraction: nan is not in (0, 1]" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tiny_spec_model(&a);
		a.head->spec_band_bins = bad[i].band_bins;
		a.head->spec_rank = bad[i].rank;
		a.head->spec_top_fraction = bad[i].top_fraction;
		assert_not_encoded(&a, bad[i].message);
		model_free(&a);
	}
	/* 8 bins x 4 bands fill the features' 32 exactly */
	tiny_spec_model(&a);
	a.head->spec_band_bins = 8;
	a.head->spec_top_fraction = 1.0f;
	a.head->spec_rank = 3;
	free(a.head->basis);
	a.head->basis = tiny_array(12, 11);
	assert_int_equal(model_encode(&a, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(size, TINY_SPEC_FILE_BYTES + 4 * 4);
	free(data);
	/* no basis, or a basis that is not finite, or an unknown kind */
	a.head->basis[11] = INFINITY;
	assert_not_encoded(&a, "head.basis: a value is not finite");
	free(a.head->basis);
	a.head->basis = NULL;
	assert_not_encoded(&a, "head: fitted statistics missing");
	a.head->kind = (enum window_head_kind)2;
	assert_not_encoded(&a, "head.kind: 2 is not 0 or 1");
	model_free(&a);
}

/* A bursts head makes the file version 8: tiny_imp's body with flag 0x100 too, and after the
 * rise heads' version-6 section burst_bins, burst_band_bins, burst_gate_z and the head. The
 * fixture loads and is written back byte for byte; without the bursts head the model scores
 * otherwise. */
static void bursts_section_layout(void **state)
{
	(void)state;
	uint8_t *burst, *imp;
	size_t burst_size, imp_size;
	tiny_burst_bytes(&burst, &burst_size);
	tiny_imp_bytes(&imp, &imp_size);
	assert_extends_plain(burst, 8, 772, 0x17f);
	/* everything after the flags up to the bursts section is tiny_imp's */
	assert_memory_equal(burst + OFF_FLAGS + 4, imp + OFF_FLAGS + 4,
			    OFF_BURST - (OFF_FLAGS + 4));
	assert_int_equal(imp_size + BURST_SECTION_BYTES, burst_size);
	assert_int_equal(get32(burst + OFF_BURST_BINS), 8);
	assert_int_equal(get32(burst + OFF_BURST_BAND_BINS), 2);
	assert_int_equal(get32(burst + OFF_BURST_GATE_Z), 0x3fc00000u); /* 1.5 */
	assert_int_equal(get32(burst + OFF_BURST_DIM), 4);
	for (size_t i = 0; i < 4; i++) {
		float v = tiny_value(i, 13);
		uint32_t bits;
		memcpy(&bits, &v, 4);
		assert_int_equal(get32(burst + OFF_BURST + 16 + 4 * i), bits); /* mean */
	}
	assert_int_equal(get32(burst + OFF_BURST_INV_STD0), 0x3e800000u);      /* 0.25 */
	assert_int_equal(get32(burst + OFF_BURST_INV_STD0 + 12), 0x3f800000u); /* 1 */
	assert_int_equal(get32(burst + OFF_BURST + 48), 0x3f000000u);          /* cal_mean 0.5 */
	assert_int_equal(get32(burst + OFF_BURST_CAL_STD), 0x3fa00000u);       /* 1.25 */
	assert_int_equal(OFF_BURST_CAL_STD + 4, TINY_BURST_FILE_BYTES);
	free(imp);

	/* encode -> decode gives the same model, and so does the fixture on disk; encoding either
	 * again the same bytes */
	struct model a, b;
	struct auscult_err err;
	tiny_burst_model(&a);
	assert_int_equal(model_file_version(&a), 8);
	assert_round_trips(&a, burst, burst_size, "tiny_burst.am");
	free(burst);
	void *data;
	size_t size;

	/* the same model without its bursts head, or with another shape or gate, scores otherwise */
	tiny_imp_model(&b);
	assert_string_equal(model_scoring_difference(&a, &b), "the bursts head");
	assert_string_equal(model_scoring_difference(&b, &a), "the bursts head");
	add_tiny_bursts(b.rise);
	assert_null(model_scoring_difference(&a, &b));
	b.rise->burst_gate_z = 2.0f;
	assert_string_equal(model_scoring_difference(&a, &b), "the bursts head");
	b.rise->burst_gate_z = a.rise->burst_gate_z;
	b.rise->burst_band_bins = 4;
	assert_string_equal(model_scoring_difference(&a, &b), "the bursts head");
	b.rise->burst_band_bins = a.rise->burst_band_bins;
	b.rise->bursts.cal_std = 2.0f; /* learned values do not count */
	assert_null(model_scoring_difference(&a, &b));
	model_free(&b);

	/* on rise heads without a version-6 section: version 8, flags 0x13f, the bursts section
	 * straight after the rise heads */
	tiny_rise_model(&b);
	add_tiny_bursts(b.rise);
	assert_int_equal(model_file_version(&b), 8);
	assert_int_equal(model_encode(&b, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(size, TINY_RISE_FILE_BYTES + BURST_SECTION_BYTES);
	assert_int_equal(get32((uint8_t *)data + OFF_VERSION), 8);
	assert_int_equal(get32((uint8_t *)data + OFF_FLAGS), 0x13f);
	assert_int_equal(get32((uint8_t *)data + TINY_RISE_FILE_BYTES), 8); /* burst_bins */
	struct model back;
	assert_int_equal(model_decode(&back, data, size, "rise+burst", &err), AUSCULT_OK);
	assert_models_equal(&b, &back);
	assert_int_equal(back.rise->steady, MODEL_RISE_STEADY_V5);
	assert_int_equal(back.rise->imp_block, 0);
	model_free(&back);
	free(data);
	model_free(&b);
	model_free(&a);

	/* a bursts head the validation refuses is not written */
	static const struct {
		uint32_t bins, band_bins, dim;
		float gate_z;
		const char *message;
	} bad[] = {
		{ 64, 16, 4, 1.5f, "rise.burst_bins: 64 is not in [1, n_fft / 2 = 32]" },
		{ 8, 3, 4, 1.5f,
		  "rise.burst_band_bins: 3 does not divide burst_bins 8 into bands" },
		{ 8, 0, 4, 1.5f,
		  "rise.burst_band_bins: 0 does not divide burst_bins 8 into bands" },
		{ 8, 2, 4, INFINITY, "rise.burst_gate_z: inf is not finite" },
		{ 8, 2, 4, NAN, "rise.burst_gate_z: nan is not finite" },
		{ 16, 2, 4, 1.5f, "rise.bursts.dim: 4, expected 8" },
		{ 8, 2, 3, 1.5f, "rise.bursts.dim: 3, expected 4" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tiny_burst_model(&a);
		a.rise->burst_bins = bad[i].bins;
		a.rise->burst_band_bins = bad[i].band_bins;
		a.rise->bursts.dim = bad[i].dim;
		a.rise->burst_gate_z = bad[i].gate_z;
		assert_not_encoded(&a, bad[i].message);
		model_free(&a);
	}
	/* 4 bands of 8 bins fill the features' 32 exactly */
	tiny_burst_model(&a);
	a.rise->burst_bins = 32;
	a.rise->burst_band_bins = 8;
	assert_int_equal(model_encode(&a, &data, &size, &err), AUSCULT_OK);
	assert_int_equal(size, TINY_BURST_FILE_BYTES);
	free(data);
	/* statistics that are not usable */
	a.rise->bursts.inv_std[3] = 0.0f;
	assert_not_encoded(&a, "rise.bursts.inv_std[3]: 0 is not a finite value > 0");
	a.rise->bursts.inv_std[3] = 1.0f;
	a.rise->bursts.cal_mean = NAN;
	assert_not_encoded(&a, "rise.bursts.cal_mean: nan is not finite");
	a.rise->bursts.cal_mean = 0.5f;
	free(a.rise->bursts.mean);
	a.rise->bursts.mean = NULL;
	assert_not_encoded(&a, "rise.bursts: fitted statistics missing");
	model_free(&a);
}

static void each_fixture_is_rejected_with_its_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct fixture *fx = &fixtures[i];
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, fx->file);
		struct model m;
		memset(&m, 0xa5, sizeof(m));
		struct auscult_err err;
		int rc = model_load(&m, path, &err);
		if (rc != fx->status)
			fail_msg("%s: status %d (%s), expected %d; message: %s", fx->file, rc,
				 auscult_strerror(rc), fx->status, err.msg);
		/* m is zeroed on failure, so model_free on it is safe and it cannot be misused. */
		struct model zero;
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(&m, &zero, sizeof(m));
		char want[2048];
		if (fx->message) {
			snprintf(want, sizeof(want), "%s: %s", path, fx->message);
		} else {
			size_t size;
			uint8_t *b = read_whole(path, &size);
			snprintf(want, sizeof(want),
				 "%s: checksum mismatch: the body's CRC-32 is 0x%08x, the header says "
				 "0x%08x; the file is corrupt - copy it again or retrain",
				 path, crc32_compute(b + 24, size - 24), get32(b + OFF_CRC));
			free(b);
		}
		assert_string_equal(err.msg, want);

		/* model_decode says the same about the same bytes. */
		size_t size;
		uint8_t *b = read_whole(path, &size);
		struct auscult_err err2;
		assert_int_equal(model_decode(&m, b, size, path, &err2), fx->status);
		assert_string_equal(err2.msg, want);
		free(b);
	}
}

/* Every single bit flip, and random damage, of the file `make` writes is refused. */
static void bit_flips_are_rejected(void (*make)(uint8_t **, size_t *))
{
	uint8_t *b;
	size_t size;
	make(&b, &size);
	struct auscult_err err;
	struct model m;
	for (size_t i = 0; i < size; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			int rc = model_decode(&m, b, size, "flip", &err);
			if (rc == AUSCULT_OK)
				fail_msg("flipping bit %d of byte %zu was not noticed", bit, i);
			assert_null(m.layers);
			assert_null(m.curve.train_loss);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Random multi-byte damage too (seeded, so a failure reproduces). */
	srand(12345);
	for (int trial = 0; trial < 2000; trial++) {
		uint8_t *c = malloc(size);
		assert_non_null(c);
		memcpy(c, b, size);
		int n = 1 + rand() % 4;
		for (int j = 0; j < n; j++)
			c[(size_t)rand() % size] ^= (uint8_t)(1 + rand() % 255);
		if (memcmp(c, b, size) != 0)
			assert_int_not_equal(model_decode(&m, c, size, "damage", &err), AUSCULT_OK);
		free(c);
	}
	assert_int_equal(model_decode(&m, b, size, "intact", &err), AUSCULT_OK);
	model_free(&m);
	free(b);
}

/* Version 1 (no optional section), version 3 (the curve), whose version is one bit away,
 * version 4 (a head keeping fewer bands), whose flag is one bit away from a version-2 head's,
 * version 5 (rise heads), whose flag is one bit away from a version-4 model's, version 6 (the
 * impulse head), version 7 (a spectrum head), whose flag turns the precision into a basis, and
 * version 8 (the bursts head), whose version is one bit away from 9 and 0. */
static void every_bit_flip_is_rejected(void **state)
{
	(void)state;
	bit_flips_are_rejected(tiny_bytes);
	bit_flips_are_rejected(tiny_curve_bytes);
	bit_flips_are_rejected(tiny_kept_bytes);
	bit_flips_are_rejected(tiny_rise_bytes);
	bit_flips_are_rejected(tiny_imp_bytes);
	bit_flips_are_rejected(tiny_spec_bytes);
	bit_flips_are_rejected(tiny_burst_bytes);
}

/* Every truncation of the file `make` writes is refused as truncated. */
static void truncations_are_rejected(void (*make)(uint8_t **, size_t *))
{
	uint8_t *b;
	size_t size;
	make(&b, &size);
	struct auscult_err err;
	struct model m;
	for (size_t n = 0; n < size; n++) {
		/* A copy of exactly n bytes, so the sanitizer sees any read past the end. */
		uint8_t *c = malloc(n ? n : 1);
		assert_non_null(c);
		memcpy(c, b, n);
		int rc = model_decode(&m, c, n, "cut", &err);
		if (n >= 8)
			assert_int_equal(rc, AUSCULT_ERR_TRUNCATED);
		else
			assert_int_not_equal(rc, AUSCULT_OK);
		free(c);
	}
	free(b);
}

static void every_truncation_is_rejected(void **state)
{
	(void)state;
	truncations_are_rejected(tiny_bytes);
	truncations_are_rejected(tiny_curve_bytes);
	truncations_are_rejected(tiny_kept_bytes);
	truncations_are_rejected(tiny_rise_bytes);
	truncations_are_rejected(tiny_imp_bytes);
	truncations_are_rejected(tiny_spec_bytes);
	truncations_are_rejected(tiny_burst_bytes);
}

static void decode_bounds_allocation_before_trusting_sizes(void **state)
{
	(void)state;
	/* A CRC-valid body claiming a 65536 x 65536 layer must be refused by the parameter cap,
	 * not by a failed 16 GB allocation. */
	uint8_t *b;
	size_t size;
	tiny_bytes(&b, &size);
	edit32(b, OFF_L0_N_IN, 8, 65536);
	edit32(b, OFF_L0_N_OUT, 3, 65536);
	fix_crc(b, size);
	struct model m;
	struct auscult_err err;
	assert_int_equal(model_decode(&m, b, size, "big", &err), AUSCULT_ERR_FORMAT);
	assert_string_equal(err.msg, "big: corrupt: more than 33554432 parameters by layers[0]; "
				     "the model is unusable - retrain it");
	/* Within the cap, the claimed size is checked against the body before allocating. */
	edit32(b, OFF_L0_N_IN, 65536, 8); /* a right input width, so the body size is what fails */
	fix_crc(b, size);
	assert_int_equal(model_decode(&m, b, size, "big", &err), AUSCULT_ERR_FORMAT);
	assert_string_equal(err.msg, "big: corrupt: layer weights needs 2097152 bytes at body byte "
				     "176, but the body ends at byte 460; the model is unusable - "
				     "retrain it");
	free(b);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-fixtures") == 0)
		return write_fixtures(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32_known_values),
		cmocka_unit_test(encode_layout_matches_docs),
		cmocka_unit_test(round_trip_in_memory),
		cmocka_unit_test(save_and_load_file),
		cmocka_unit_test(fixtures_are_what_the_generator_makes),
		cmocka_unit_test(valid_fixture_loads),
		cmocka_unit_test(head_section_layout),
		cmocka_unit_test(kept_head_layout),
		cmocka_unit_test(rise_section_layout),
		cmocka_unit_test(spectrum_head_layout),
		cmocka_unit_test(bursts_section_layout),
		cmocka_unit_test(older_files_are_rewritten_byte_for_byte),
		cmocka_unit_test(curve_section_layout),
		cmocka_unit_test(each_fixture_is_rejected_with_its_message),
		cmocka_unit_test(every_bit_flip_is_rejected),
		cmocka_unit_test(every_truncation_is_rejected),
		cmocka_unit_test(decode_bounds_allocation_before_trusting_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
