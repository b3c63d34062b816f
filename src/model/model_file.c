/* model_file.c - explicit little-endian encoding and fully checked decoding of model files. */
#include "model/model_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/regular_file.h"
#include "model/crc32.h"
#include "model/spectrum_head.h"

#define FLAG_STANDARDISATION 0x1u
#define FLAG_BAND_WEIGHTS 0x2u
#define FLAG_WINDOW_HEAD 0x4u    /* version 2 */
#define FLAG_TRAINING_CURVE 0x8u /* version 3 */
#define FLAG_HEAD_KEPT 0x10u     /* version 4: the head keeps fewer than its n_bands */
#define FLAG_RISE_HEADS 0x20u    /* version 5: the rise heads, after the training curve */
#define FLAG_RISE_V6 0x40u       /* version 6: the rise heads' steady count and impulse head */
#define FLAG_SPECTRUM_HEAD 0x80u /* version 7: the window head is of the spectrum kind */
#define FLAG_RISE_BURSTS 0x100u  /* version 8: the rise heads' bursts head */
#define FLAGS_KNOWN_V1 (FLAG_STANDARDISATION | FLAG_BAND_WEIGHTS)
#define FLAGS_KNOWN_V2 (FLAGS_KNOWN_V1 | FLAG_WINDOW_HEAD)
#define FLAGS_KNOWN_V3 (FLAGS_KNOWN_V2 | FLAG_TRAINING_CURVE)
#define FLAGS_KNOWN_V4 (FLAGS_KNOWN_V3 | FLAG_HEAD_KEPT)
#define FLAGS_KNOWN_V5 (FLAGS_KNOWN_V4 | FLAG_RISE_HEADS)
#define FLAGS_KNOWN_V6 (FLAGS_KNOWN_V5 | FLAG_RISE_V6)
#define FLAGS_KNOWN_V7 (FLAGS_KNOWN_V6 | FLAG_SPECTRUM_HEAD)
#define FLAGS_KNOWN_V8 (FLAGS_KNOWN_V7 | FLAG_RISE_BURSTS)
/* The largest head a file may carry (its precision is dim^2 floats). */
#define MODEL_MAX_HEAD_DIM 1024u
/* The largest rise head (its arrays are 2 x dim floats): 16 bands x 4096 envelope bins. */
#define MODEL_MAX_RISE_DIM 65536u

#define FIX_RECOPY "the file is incomplete - copy it again or retrain"
#define FIX_CORRUPT "the file is corrupt - copy it again or retrain"
#define FIX_RETRAIN "the model is unusable - retrain it"

/* ---- little-endian bytes ---- */

static void le_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le_get64(const uint8_t *p)
{
	return (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

/* ---- encoding ---- */

struct writer {
	uint8_t *p;
	size_t pos;
};

static void put_u32(struct writer *w, uint32_t v)
{
	le_put32(w->p + w->pos, v);
	w->pos += 4;
}

static void put_u64(struct writer *w, uint64_t v)
{
	put_u32(w, (uint32_t)v);
	put_u32(w, (uint32_t)(v >> 32));
}

static void put_f32(struct writer *w, float v)
{
	uint32_t bits;
	memcpy(&bits, &v, sizeof(bits));
	put_u32(w, bits);
}

static void put_f32s(struct writer *w, const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_f32(w, v[i]);
}

/* A head that leaves out its top bands needs n_kept in the file (flag 0x10, version 4). */
static bool head_keeps_fewer(const struct model_window_head *h)
{
	return h && h->n_kept != h->n_bands;
}

/* A window head of the spectrum kind needs version 7 (flag 0x80). */
static bool has_spectrum_head(const struct model *m)
{
	return m->head && m->head->kind == WINDOW_HEAD_SPECTRUM;
}

/* Rise heads with an impulse head, or another steady count than version 5's, need version 6
 * (flag 0x40). */
static bool has_rise_v6(const struct model *m)
{
	return m->rise && (m->rise->imp_block != 0 || m->rise->steady != MODEL_RISE_STEADY_V5);
}

/* Rise heads with a bursts head need version 8 (flag 0x100). */
static bool has_bursts(const struct model *m)
{
	return m->rise && m->rise->burst_bins != 0;
}

/* Body bytes for a valid model; the layout is the order of the put_* calls in write_body. */
static size_t body_size(const struct model *m)
{
	size_t dim = feature_params_vector_dim(&m->features);
	size_t n = 7 * 4 + 2 * 4 + 4; /* features, frame masks, flags */
	if (m->input_mean)
		n += 2 * dim * 4;
	if (m->band_weights)
		n += (size_t)m->features.n_mels * 4;
	n += 4 + 4 + 4; /* aggregation, top_fraction, n_layers */
	for (uint32_t i = 0; i < m->n_layers; i++)
		n += 3 * 4 +
		     ((size_t)m->layers[i].n_in * m->layers[i].n_out + m->layers[i].n_out) * 4;
	n += 4 * 4;                                                                /* threshold */
	n += 8 + 4 * 3 + 4 * 2 + 8 + 4 * 2 + 8 + sizeof(m->training.tool_version); /* training */
	if (m->head) /* shape, shrinkage, floor, medians, dim; mean, inv_std */
		n += 3 * 4 + (head_keeps_fewer(m->head) ? 4 : 0) + 4 * 4 + 4 +
		     2 * (size_t)m->head->dim * 4;
	if (m->head && !has_spectrum_head(m)) /* precision */
		n += (size_t)m->head->dim * m->head->dim * 4;
	if (has_spectrum_head(m)) /* band_bins, rank, top_fraction; basis */
		n += 3 * 4 + (size_t)m->head->dim * m->head->spec_rank * 4;
	if (m->curve.n_epochs) /* n_epochs, train_loss, val_loss */
		n += 4 + 2 * (size_t)m->curve.n_epochs * 4;
	if (m->rise) /* shapes, fractions and gate; each head's dim, arrays and calibration */
		n += 6 * 4 + 4 * 4 + 2 * (4 + 2 * 4) +
		     2 * ((size_t)m->rise->envelope.dim + m->rise->tones.dim) * 4;
	if (has_rise_v6(m)) /* steady, imp_block; with one, the shape, dim, arrays, calibration */
		n += 2 * 4 + (m->rise->imp_block
				      ? 3 * 4 + 4 + 2 * 4 + 2 * (size_t)m->rise->impulses.dim * 4
				      : 0);
	if (has_bursts(m)) /* bins, band_bins, gate; the head's dim, arrays, calibration */
		n += 3 * 4 + 4 + 2 * 4 + 2 * (size_t)m->rise->bursts.dim * 4;
	return n;
}

/* The window head section (version 2; n_kept from version 4, flag 0x10; the spectrum kind from
 * version 7, flag 0x80: its shape and basis in place of the precision). */
static void write_head(struct writer *w, const struct model_window_head *h)
{
	put_u32(w, h->n_fft);
	put_u32(w, h->hop);
	put_u32(w, h->n_bands);
	if (head_keeps_fewer(h))
		put_u32(w, h->n_kept);
	put_f32(w, h->shrinkage);
	put_f32(w, h->std_floor_rel);
	put_f32(w, h->ae_median);
	put_f32(w, h->head_median);
	put_u32(w, h->dim);
	put_f32s(w, h->mean, h->dim);
	put_f32s(w, h->inv_std, h->dim);
	if (h->kind == WINDOW_HEAD_SPECTRUM) {
		put_u32(w, h->spec_band_bins);
		put_u32(w, h->spec_rank);
		put_f32(w, h->spec_top_fraction);
		put_f32s(w, h->basis, (size_t)h->dim * h->spec_rank);
	} else {
		put_f32s(w, h->precision, (size_t)h->dim * h->dim);
	}
}

/* One rise head: dim, means, inverse stds, calibration. */
static void write_rise_head(struct writer *w, const struct model_rise_head *h)
{
	put_u32(w, h->dim);
	put_f32s(w, h->mean, h->dim);
	put_f32s(w, h->inv_std, h->dim);
	put_f32(w, h->cal_mean);
	put_f32(w, h->cal_std);
}

/* The rise heads section (version 5, flag 0x20), after the training curve. */
static void write_rise(struct writer *w, const struct model_rise_heads *r)
{
	put_u32(w, r->env_n_fft);
	put_u32(w, r->env_bin_lo);
	put_u32(w, r->env_bin_hi);
	put_u32(w, r->tone_bins);
	put_u32(w, r->tone_near);
	put_u32(w, r->tone_far);
	put_f32(w, r->top_fraction);
	put_f32(w, r->std_floor_rel);
	put_f32(w, r->gate_z);
	put_f32(w, r->gate_weight);
	write_rise_head(w, &r->envelope);
	write_rise_head(w, &r->tones);
}

/* The rise heads' version-6 section (flag 0x40), after the rise heads: the steady count, then
 * the impulse head's block and, when it is not 0, the rest of it. */
static void write_rise_v6(struct writer *w, const struct model_rise_heads *r)
{
	put_u32(w, r->steady);
	put_u32(w, r->imp_block);
	if (!r->imp_block)
		return;
	put_u32(w, r->imp_n_fft);
	put_u32(w, r->imp_bin_lo);
	put_u32(w, r->imp_bin_hi);
	write_rise_head(w, &r->impulses);
}

/* The bursts head's section (version 8, flag 0x100), after the version-6 section (or the rise
 * heads, without one): its bins, bands and gate, then the head. */
static void write_bursts(struct writer *w, const struct model_rise_heads *r)
{
	put_u32(w, r->burst_bins);
	put_u32(w, r->burst_band_bins);
	put_f32(w, r->burst_gate_z);
	write_rise_head(w, &r->bursts);
}

static void write_body(struct writer *w, const struct model *m)
{
	const struct feature_params *f = &m->features;
	put_u32(w, f->sample_rate_hz);
	put_u32(w, f->n_fft);
	put_u32(w, f->hop_length);
	put_u32(w, f->n_mels);
	put_f32(w, f->fmin_hz);
	put_f32(w, f->fmax_hz);
	put_u32(w, f->n_stack);
	put_u32(w, m->input_frames);
	put_u32(w, m->target_frames);
	put_u32(w, (m->input_mean ? FLAG_STANDARDISATION : 0u) |
			   (m->band_weights ? FLAG_BAND_WEIGHTS : 0u) |
			   (m->head ? FLAG_WINDOW_HEAD : 0u) |
			   (m->curve.n_epochs ? FLAG_TRAINING_CURVE : 0u) |
			   (head_keeps_fewer(m->head) ? FLAG_HEAD_KEPT : 0u) |
			   (m->rise ? FLAG_RISE_HEADS : 0u) | (has_rise_v6(m) ? FLAG_RISE_V6 : 0u) |
			   (has_spectrum_head(m) ? FLAG_SPECTRUM_HEAD : 0u) |
			   (has_bursts(m) ? FLAG_RISE_BURSTS : 0u));
	if (m->input_mean) {
		put_f32s(w, m->input_mean, feature_params_vector_dim(f));
		put_f32s(w, m->input_std, feature_params_vector_dim(f));
	}
	if (m->band_weights)
		put_f32s(w, m->band_weights, f->n_mels);
	put_u32(w, (uint32_t)m->aggregation);
	put_f32(w, m->top_fraction);
	put_u32(w, m->n_layers);
	for (uint32_t i = 0; i < m->n_layers; i++) {
		const struct dense_layer *l = &m->layers[i];
		put_u32(w, l->n_in);
		put_u32(w, l->n_out);
		put_u32(w, (uint32_t)l->activation);
		put_f32s(w, l->weights, (size_t)l->n_in * l->n_out);
		put_f32s(w, l->bias, l->n_out);
	}
	put_f32(w, m->threshold.gamma_shape);
	put_f32(w, m->threshold.gamma_scale);
	put_f32(w, m->threshold.quantile);
	put_f32(w, m->threshold.threshold);
	const struct model_training_info *t = &m->training;
	put_u64(w, t->n_vectors);
	put_u32(w, t->n_files);
	put_u32(w, t->epochs);
	put_u32(w, t->batch_size);
	put_f32(w, t->learning_rate);
	put_f32(w, t->validation_split);
	put_u64(w, t->seed);
	put_f32(w, t->train_loss);
	put_f32(w, t->val_loss);
	put_u64(w, (uint64_t)t->created_unix_s);
	/* Bytes after the terminating NUL are written as zeros so equal models give equal files. */
	size_t len = strnlen(t->tool_version, sizeof(t->tool_version));
	memset(w->p + w->pos, 0, sizeof(t->tool_version));
	memcpy(w->p + w->pos, t->tool_version, len);
	w->pos += sizeof(t->tool_version);
	const struct model_window_head *h = m->head;
	if (h)
		write_head(w, h);
	const struct model_training_curve *c = &m->curve;
	if (c->n_epochs) {
		put_u32(w, c->n_epochs);
		put_f32s(w, c->train_loss, c->n_epochs);
		put_f32s(w, c->val_loss, c->n_epochs);
	}
	if (m->rise)
		write_rise(w, m->rise);
	if (has_rise_v6(m))
		write_rise_v6(w, m->rise);
	if (has_bursts(m))
		write_bursts(w, m->rise);
}

uint32_t model_file_version(const struct model *m)
{
	return has_bursts(m)               ? 8u
	       : has_spectrum_head(m)      ? 7u
	       : has_rise_v6(m)            ? 6u
	       : m->rise                   ? 5u
	       : head_keeps_fewer(m->head) ? 4u
	       : m->curve.n_epochs         ? 3u
	       : m->head                   ? 2u
					   : 1u;
}

int model_encode(const struct model *m, void **data, size_t *size, struct auscult_err *err)
{
	*data = NULL;
	*size = 0;
	struct auscult_err inner;
	int rc = model_validate(m, &inner);
	if (rc)
		return auscult_fail(err, rc, "model not encoded: %s", inner.msg);
	size_t body = body_size(m);
	size_t total = MODEL_FILE_HEADER_BYTES + body;
	uint8_t *buf = malloc(total);
	if (!buf)
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "model not encoded: out of memory for %zu bytes", total);
	struct writer w = { buf, MODEL_FILE_HEADER_BYTES };
	write_body(&w, m);
	memcpy(buf, MODEL_FILE_MAGIC, MODEL_FILE_MAGIC_BYTES);
	le_put32(buf + 8, model_file_version(m));
	le_put32(buf + 12, crc32_compute(buf + MODEL_FILE_HEADER_BYTES, body));
	le_put32(buf + 16, (uint32_t)body);
	le_put32(buf + 20, (uint32_t)((uint64_t)body >> 32));
	*data = buf;
	*size = total;
	return AUSCULT_OK;
}

/* ---- decoding ---- */

/*
 * Checks the header of a file of file_size bytes, of which the first have_bytes are in hdr:
 * magic, version, body length, and that the file is exactly header + body long. Shared by
 * model_decode and model_load, which runs it before reading (and allocating for) the body.
 */
static int header_check(const uint8_t *hdr, size_t have_bytes, uint64_t file_size, const char *name,
			uint64_t *body_length, uint32_t *version_out, struct auscult_err *err)
{
	if (file_size == 0)
		return auscult_fail(err, AUSCULT_ERR_TRUNCATED,
				    "%s: empty file (0 bytes); " FIX_RECOPY, name);
	size_t magic_have = have_bytes < MODEL_FILE_MAGIC_BYTES ? have_bytes
								: MODEL_FILE_MAGIC_BYTES;
	if (memcmp(hdr, MODEL_FILE_MAGIC, magic_have) != 0)
		return auscult_fail(err, AUSCULT_ERR_FORMAT,
				    "%s: not an auscult model file (it does not start with \"%s\"); "
				    "give the path of a model written by `auscult train`",
				    name, MODEL_FILE_MAGIC);
	if (file_size < MODEL_FILE_HEADER_BYTES || have_bytes < MODEL_FILE_HEADER_BYTES)
		return auscult_fail(err, AUSCULT_ERR_TRUNCATED,
				    "%s: truncated: %llu of at least %u bytes (the header is "
				    "incomplete); " FIX_RECOPY,
				    name, (unsigned long long)file_size, MODEL_FILE_HEADER_BYTES);
	uint32_t version = le_get32(hdr + 8);
	if (version < MODEL_FILE_VERSION_MIN || version > MODEL_FILE_VERSION)
		return auscult_fail(
			err, AUSCULT_ERR_VERSION,
			"%s: unknown format version %u (this auscult %s reads versions %u to %u); "
			"upgrade auscult or retrain the model with this one",
			name, version, AUSCULT_VERSION, MODEL_FILE_VERSION_MIN, MODEL_FILE_VERSION);
	if (version_out)
		*version_out = version;
	uint64_t body = le_get64(hdr + 16);
	if (body > MODEL_MAX_BODY_BYTES)
		return auscult_fail(err, AUSCULT_ERR_FORMAT,
				    "%s: corrupt header: body length %llu bytes is more than the "
				    "%u allowed; " FIX_CORRUPT,
				    name, (unsigned long long)body, MODEL_MAX_BODY_BYTES);
	uint64_t total = MODEL_FILE_HEADER_BYTES + body;
	if (file_size < total)
		return auscult_fail(err, AUSCULT_ERR_TRUNCATED,
				    "%s: truncated: %llu of %llu bytes; " FIX_RECOPY, name,
				    (unsigned long long)file_size, (unsigned long long)total);
	if (file_size > total)
		return auscult_fail(err, AUSCULT_ERR_FORMAT,
				    "%s: trailing garbage: %llu bytes after the model's end at byte "
				    "%llu; the file was damaged or appended to - copy it again or "
				    "retrain",
				    name, (unsigned long long)(file_size - total),
				    (unsigned long long)total);
	*body_length = body;
	return AUSCULT_OK;
}

/* A CRC-valid body whose structure is wrong was written wrongly, not damaged in transit. */
struct reader {
	const uint8_t *p;
	size_t size;
	size_t pos;
	const char *name;
	struct auscult_err *err;
	int rc;
	uint32_t version; /* the file's format version */
};

/* Claims n bytes for `what`; NULL (and the error set once) when the body has fewer left. */
static const uint8_t *take(struct reader *r, size_t n, const char *what)
{
	if (r->rc)
		return NULL;
	if (n > r->size - r->pos) {
		r->rc = auscult_fail(
			r->err, AUSCULT_ERR_FORMAT,
			"%s: corrupt: %s needs %zu bytes at body byte %zu, but the body "
			"ends at byte %zu; " FIX_RETRAIN,
			r->name, what, n, r->pos, r->size);
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

static uint32_t get_u32(struct reader *r, const char *what)
{
	const uint8_t *p = take(r, 4, what);
	return p ? le_get32(p) : 0;
}

static uint64_t get_u64(struct reader *r, const char *what)
{
	const uint8_t *p = take(r, 8, what);
	return p ? le_get64(p) : 0;
}

static float get_f32(struct reader *r, const char *what)
{
	uint32_t bits = get_u32(r, what);
	float v;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* Reads n floats into a new array; the size is checked against the body before allocating. */
static float *get_f32s(struct reader *r, size_t n, const char *what)
{
	if (r->rc)
		return NULL;
	if (n > (r->size - r->pos) / 4) {
		take(r, n * 4, what);
		return NULL;
	}
	float *v = malloc(n * sizeof(*v));
	if (!v) {
		r->rc = auscult_fail(r->err, AUSCULT_ERR_NOMEM,
				     "%s: out of memory for %s (%zu values)", r->name, what, n);
		return NULL;
	}
	const uint8_t *p = take(r, n * 4, what);
	for (size_t i = 0; i < n; i++) {
		uint32_t bits = le_get32(p + 4 * i);
		memcpy(&v[i], &bits, sizeof(bits));
	}
	return v;
}

/* The first layer's width implied by the input mask, or 0 while the mask is bad (model_validate
 * then names that fault). */
static uint32_t input_dim_if_valid(const struct model *m)
{
	uint32_t n_stack = m->features.n_stack;
	if (m->input_frames == 0 || (n_stack < 32 && (m->input_frames >> n_stack) != 0))
		return 0;
	return model_input_dim(m);
}

static int read_layers(struct reader *r, struct model *m)
{
	m->n_layers = get_u32(r, "n_layers");
	if (r->rc)
		return r->rc;
	if (m->n_layers == 0 || m->n_layers > MODEL_MAX_LAYERS)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: n_layers %u is not in [1, %u]; " FIX_RETRAIN, r->name,
			       m->n_layers, MODEL_MAX_LAYERS);
	m->layers = calloc(m->n_layers, sizeof(*m->layers));
	if (!m->layers)
		return r->rc = auscult_fail(r->err, AUSCULT_ERR_NOMEM,
					    "%s: out of memory for %u layers", r->name,
					    m->n_layers);
	uint64_t params = 0;
	for (uint32_t i = 0; i < m->n_layers && !r->rc; i++) {
		struct dense_layer *l = &m->layers[i];
		l->n_in = get_u32(r, "layer n_in");
		l->n_out = get_u32(r, "layer n_out");
		uint32_t act = get_u32(r, "layer activation");
		if (r->rc)
			break;
		if (l->n_in == 0 || l->n_in > MODEL_MAX_DIM || l->n_out == 0 ||
		    l->n_out > MODEL_MAX_DIM)
			return r->rc = auscult_fail(
				       r->err, AUSCULT_ERR_FORMAT,
				       "%s: corrupt: layers[%u] is %u x %u, each side must "
				       "be in [1, %u]; " FIX_RETRAIN,
				       r->name, i, l->n_in, l->n_out, MODEL_MAX_DIM);
		params += (uint64_t)l->n_in * l->n_out + l->n_out;
		if (params > MODEL_MAX_PARAMS)
			return r->rc = auscult_fail(
				       r->err, AUSCULT_ERR_FORMAT,
				       "%s: corrupt: more than %u parameters by layers[%u]; " FIX_RETRAIN,
				       r->name, MODEL_MAX_PARAMS, i);
		/* Checked before the weights are read: a wrong width would misalign every later field. */
		uint32_t want_in = i > 0 ? m->layers[i - 1].n_out : input_dim_if_valid(m);
		if (want_in != 0 && l->n_in != want_in)
			return r->rc = auscult_fail(
				       r->err, AUSCULT_ERR_INVALID,
				       "%s: layers[%u].n_in: %u, expected %u (%s); " FIX_RETRAIN,
				       r->name, i, l->n_in, want_in,
				       i == 0 ? "the input frames x n_mels"
					      : "the previous layer's n_out");
		if (act > (uint32_t)ACTIVATION_RELU)
			return r->rc = auscult_fail(r->err, AUSCULT_ERR_FORMAT,
						    "%s: corrupt: layers[%u].activation %u is not 0 "
						    "(linear) or 1 (relu); " FIX_RETRAIN,
						    r->name, i, act);
		l->activation = (enum activation)act;
		l->weights = get_f32s(r, (size_t)l->n_in * l->n_out, "layer weights");
		l->bias = get_f32s(r, l->n_out, "layer bias");
	}
	return r->rc;
}

/* The window head section (version 2, flag 0x4; n_kept with flag 0x10; the spectrum kind's
 * shape and basis in place of the precision with flag 0x80): shape first, so that the arrays'
 * sizes are checked before anything is allocated for them. */
static int read_head(struct reader *r, struct model *m, bool has_kept, bool spectrum)
{
	struct model_window_head *h = calloc(1, sizeof(*h));
	if (!h)
		return r->rc = auscult_fail(r->err, AUSCULT_ERR_NOMEM,
					    "%s: out of memory for the window head", r->name);
	m->head = h;
	h->n_fft = get_u32(r, "head.n_fft");
	h->hop = get_u32(r, "head.hop");
	h->n_bands = get_u32(r, "head.n_bands");
	h->n_kept = has_kept ? get_u32(r, "head.n_kept") : h->n_bands;
	if (!r->rc && has_kept && !(h->n_kept > 0 && h->n_kept < h->n_bands))
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: head.n_kept %u at body byte %zu is not in [1, n_bands "
			       "%u) (flag 0x10 says the head keeps fewer than its bands); " FIX_RETRAIN,
			       r->name, h->n_kept, r->pos - 4, h->n_bands);
	h->shrinkage = get_f32(r, "head.shrinkage");
	h->std_floor_rel = get_f32(r, "head.std_floor_rel");
	h->ae_median = get_f32(r, "head.ae_median");
	h->head_median = get_f32(r, "head.head_median");
	h->dim = get_u32(r, "head.dim");
	if (r->rc)
		return r->rc;
	if (spectrum) {
		h->kind = WINDOW_HEAD_SPECTRUM;
		if (h->dim < 2 || h->dim > SPECTRUM_HEAD_MAX_BANDS)
			return r->rc = auscult_fail(r->err, AUSCULT_ERR_FORMAT,
						    "%s: corrupt: head.dim %u spectrum bands is not "
						    "in [2, %u]; " FIX_RETRAIN,
						    r->name, h->dim, SPECTRUM_HEAD_MAX_BANDS);
	} else if (h->dim == 0 || h->dim > MODEL_MAX_HEAD_DIM || h->dim != 2 * h->n_kept) {
		return r->rc = auscult_fail(r->err, AUSCULT_ERR_FORMAT,
					    "%s: corrupt: head.dim %u is not 2 x n_kept (%u) in [1, "
					    "%u]; " FIX_RETRAIN,
					    r->name, h->dim, h->n_kept, MODEL_MAX_HEAD_DIM);
	}
	h->mean = get_f32s(r, h->dim, "head.mean");
	h->inv_std = get_f32s(r, h->dim, "head.inv_std");
	if (!spectrum) {
		h->precision = get_f32s(r, (size_t)h->dim * h->dim, "head.precision");
		return r->rc;
	}
	h->spec_band_bins = get_u32(r, "head.spec_band_bins");
	h->spec_rank = get_u32(r, "head.spec_rank");
	h->spec_top_fraction = get_f32(r, "head.spec_top_fraction");
	if (r->rc)
		return r->rc;
	if (h->spec_rank < 1 || h->spec_rank >= h->dim)
		return r->rc = auscult_fail(r->err, AUSCULT_ERR_FORMAT,
					    "%s: corrupt: head.spec_rank %u at body byte %zu is not "
					    "in [1, head.dim - 1 = %u]; " FIX_RETRAIN,
					    r->name, h->spec_rank, r->pos - 8, h->dim - 1);
	h->basis = get_f32s(r, (size_t)h->dim * h->spec_rank, "head.basis");
	return r->rc;
}

/* The training curve section (version 3, flag 0x8): the epoch count is bounded before the
 * losses are allocated (and get_f32s checks them against the body too). */
static int read_curve(struct reader *r, struct model *m)
{
	struct model_training_curve *c = &m->curve;
	uint32_t n = get_u32(r, "curve.n_epochs");
	if (r->rc)
		return r->rc;
	if (n == 0 || n > MODEL_CURVE_MAX_EPOCHS)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: curve.n_epochs %u at body byte %zu is not in [1, "
			       "%u]; " FIX_RETRAIN,
			       r->name, n, r->pos - 4, MODEL_CURVE_MAX_EPOCHS);
	c->train_loss = get_f32s(r, n, "curve.train_loss");
	c->val_loss = get_f32s(r, n, "curve.val_loss");
	if (!r->rc)
		c->n_epochs = n;
	return r->rc;
}

/* One rise head: its dim is checked against want_dim, what the shape gives (in [1,
 * MODEL_MAX_RISE_DIM], read_rise saw to that), before the arrays are allocated (and get_f32s
 * checks them against the body too). */
static int read_rise_head(struct reader *r, struct model_rise_head *h, const char *name,
			  uint32_t want_dim)
{
	char what[64];
	snprintf(what, sizeof(what), "rise.%s.dim", name);
	h->dim = get_u32(r, what);
	if (r->rc)
		return r->rc;
	if (h->dim != want_dim)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: rise.%s.dim %u at body byte %zu is not %u, what the "
			       "section's shape gives; " FIX_RETRAIN,
			       r->name, name, h->dim, r->pos - 4, want_dim);
	snprintf(what, sizeof(what), "rise.%s.mean", name);
	h->mean = get_f32s(r, h->dim, what);
	snprintf(what, sizeof(what), "rise.%s.inv_std", name);
	h->inv_std = get_f32s(r, h->dim, what);
	snprintf(what, sizeof(what), "rise.%s.cal_mean", name);
	h->cal_mean = get_f32(r, what);
	snprintf(what, sizeof(what), "rise.%s.cal_std", name);
	h->cal_std = get_f32(r, what);
	return r->rc;
}

/* The rise heads section (version 5, flag 0x20): the shapes first, so that both heads' sizes
 * are known before anything is allocated for them. */
static int read_rise(struct reader *r, struct model *m)
{
	struct model_rise_heads *rh = calloc(1, sizeof(*rh));
	if (!rh)
		return r->rc = auscult_fail(r->err, AUSCULT_ERR_NOMEM,
					    "%s: out of memory for the rise heads", r->name);
	m->rise = rh;
	size_t at = r->pos;
	rh->env_n_fft = get_u32(r, "rise.env_n_fft");
	rh->env_bin_lo = get_u32(r, "rise.env_bin_lo");
	rh->env_bin_hi = get_u32(r, "rise.env_bin_hi");
	rh->tone_bins = get_u32(r, "rise.tone_bins");
	rh->tone_near = get_u32(r, "rise.tone_near");
	rh->tone_far = get_u32(r, "rise.tone_far");
	rh->top_fraction = get_f32(r, "rise.top_fraction");
	rh->std_floor_rel = get_f32(r, "rise.std_floor_rel");
	rh->gate_z = get_f32(r, "rise.gate_z");
	rh->gate_weight = get_f32(r, "rise.gate_weight");
	if (r->rc)
		return r->rc;
	/* The shape gives both heads' dims, so a shape no dim can match is refused here, by its
	 * own fields; model_validate checks the rest of it against the stages. */
	if (rh->env_bin_hi < rh->env_bin_lo)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: rise.env_bin_hi %u at body byte %zu is below env_bin_lo "
			       "%u: the envelope head has no bin; " FIX_RETRAIN,
			       r->name, rh->env_bin_hi, at + 8, rh->env_bin_lo);
	uint64_t env_dim = ((uint64_t)rh->env_bin_hi - rh->env_bin_lo + 1) * m->head->n_kept;
	if (env_dim == 0 || env_dim > MODEL_MAX_RISE_DIM)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: rise.env_bin_lo %u to env_bin_hi %u at body byte %zu "
			       "of %u kept bands are %llu envelope features, not in [1, %u]; " FIX_RETRAIN,
			       r->name, rh->env_bin_lo, rh->env_bin_hi, at + 4, m->head->n_kept,
			       (unsigned long long)env_dim, MODEL_MAX_RISE_DIM);
	if (rh->tone_bins == 0 || rh->tone_bins > MODEL_MAX_RISE_DIM)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: rise.tone_bins %u at body byte %zu is not in [1, %u]; " FIX_RETRAIN,
			       r->name, rh->tone_bins, at + 12, MODEL_MAX_RISE_DIM);
	if (read_rise_head(r, &rh->envelope, "envelope", (uint32_t)env_dim) == AUSCULT_OK)
		read_rise_head(r, &rh->tones, "tones", rh->tone_bins);
	return r->rc;
}

/* The rise heads' version-6 section (flag 0x40): the steady count (checked by model_validate)
 * and the impulse head's block; when that is not 0, the head's shape, then the head, whose dim
 * the shape gives. */
static int read_rise_v6(struct reader *r, struct model *m)
{
	struct model_rise_heads *rh = m->rise;
	rh->steady = get_u32(r, "rise.steady");
	rh->imp_block = get_u32(r, "rise.imp_block");
	if (r->rc || !rh->imp_block)
		return r->rc;
	size_t at = r->pos;
	rh->imp_n_fft = get_u32(r, "rise.imp_n_fft");
	rh->imp_bin_lo = get_u32(r, "rise.imp_bin_lo");
	rh->imp_bin_hi = get_u32(r, "rise.imp_bin_hi");
	if (r->rc)
		return r->rc;
	uint64_t dim = (uint64_t)rh->imp_bin_hi - rh->imp_bin_lo + 1;
	if (rh->imp_bin_hi < rh->imp_bin_lo || dim > MODEL_MAX_RISE_DIM)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: rise.imp_bin_lo %u to imp_bin_hi %u at body byte %zu "
			       "are not 1 to %u bins; " FIX_RETRAIN,
			       r->name, rh->imp_bin_lo, rh->imp_bin_hi, at + 4, MODEL_MAX_RISE_DIM);
	return read_rise_head(r, &rh->impulses, "impulses", (uint32_t)dim);
}

/* The bursts head's section (version 8, flag 0x100): its bins and bands (checked here, as far
 * as the head's dim needs: model_validate does the rest), its gate, then the head. */
static int read_bursts(struct reader *r, struct model *m)
{
	struct model_rise_heads *rh = m->rise;
	size_t at = r->pos;
	rh->burst_bins = get_u32(r, "rise.burst_bins");
	rh->burst_band_bins = get_u32(r, "rise.burst_band_bins");
	rh->burst_gate_z = get_f32(r, "rise.burst_gate_z");
	if (r->rc)
		return r->rc;
	if (rh->burst_bins < 1 || rh->burst_band_bins < 1 ||
	    rh->burst_bins % rh->burst_band_bins != 0 ||
	    rh->burst_bins / rh->burst_band_bins > MODEL_MAX_RISE_DIM)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: rise.burst_bins %u in bands of %u at body byte %zu are "
			       "not 1 to %u whole bands; " FIX_RETRAIN,
			       r->name, rh->burst_bins, rh->burst_band_bins, at,
			       MODEL_MAX_RISE_DIM);
	return read_rise_head(r, &rh->bursts, "bursts", rh->burst_bins / rh->burst_band_bins);
}

static int read_body(struct reader *r, struct model *m)
{
	struct feature_params *f = &m->features;
	f->sample_rate_hz = get_u32(r, "sample_rate_hz");
	f->n_fft = get_u32(r, "n_fft");
	f->hop_length = get_u32(r, "hop_length");
	f->n_mels = get_u32(r, "n_mels");
	f->fmin_hz = get_f32(r, "fmin_hz");
	f->fmax_hz = get_f32(r, "fmax_hz");
	f->n_stack = get_u32(r, "n_stack");
	m->input_frames = get_u32(r, "input_frames");
	m->target_frames = get_u32(r, "target_frames");
	uint32_t flags = get_u32(r, "flags");
	if (r->rc)
		return r->rc;
	/* Checked first because every later size depends on these (n_mels <= 512, n_stack <= 32). */
	struct auscult_err inner;
	int rc = feature_params_validate(f, &inner);
	if (rc)
		return r->rc = auscult_fail(
			       r->err, rc,
			       "%s: features.%s; this auscult's front end cannot compute "
			       "these features - retrain with supported parameters",
			       r->name, inner.msg);
	uint32_t known = r->version >= 8   ? FLAGS_KNOWN_V8
			 : r->version == 7 ? FLAGS_KNOWN_V7
			 : r->version == 6 ? FLAGS_KNOWN_V6
			 : r->version == 5 ? FLAGS_KNOWN_V5
			 : r->version == 4 ? FLAGS_KNOWN_V4
			 : r->version == 3 ? FLAGS_KNOWN_V3
			 : r->version == 2 ? FLAGS_KNOWN_V2
					   : FLAGS_KNOWN_V1;
	if (flags & ~known)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: flags 0x%x has unknown bits (known in version %u: 0x%x); " FIX_RETRAIN,
			       r->name, flags, r->version, known);
	/* Writers use the lowest version that holds the model, so a higher one means the header
	 * (which the CRC does not cover) was damaged: 1 and 3 are one bit apart. */
	uint32_t need = (flags & FLAG_RISE_BURSTS)      ? 8u
			: (flags & FLAG_SPECTRUM_HEAD)  ? 7u
			: (flags & FLAG_RISE_V6)        ? 6u
			: (flags & FLAG_RISE_HEADS)     ? 5u
			: (flags & FLAG_HEAD_KEPT)      ? 4u
			: (flags & FLAG_TRAINING_CURVE) ? 3u
			: (flags & FLAG_WINDOW_HEAD)    ? 2u
							: 1u;
	if (r->version != need)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt header: format version %u, but flags 0x%x need only "
			       "version %u; " FIX_CORRUPT,
			       r->name, r->version, flags, need);
	if ((flags & FLAG_HEAD_KEPT) && !(flags & FLAG_WINDOW_HEAD))
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: flags 0x%x keep head bands (0x10) but have "
			       "no window head (0x4); " FIX_RETRAIN,
			       r->name, flags);
	if ((flags & FLAG_RISE_HEADS) && !(flags & FLAG_WINDOW_HEAD))
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: flags 0x%x have rise heads (0x20) but no window head "
			       "(0x4), whose bands they use; " FIX_RETRAIN,
			       r->name, flags);
	if ((flags & FLAG_SPECTRUM_HEAD) && !(flags & FLAG_WINDOW_HEAD))
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: flags 0x%x make the window head a spectrum head (0x80) "
			       "but have no window head (0x4); " FIX_RETRAIN,
			       r->name, flags);
	if ((flags & FLAG_RISE_V6) && !(flags & FLAG_RISE_HEADS))
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: flags 0x%x have the rise heads' version-6 section (0x40) "
			       "but no rise heads (0x20); " FIX_RETRAIN,
			       r->name, flags);
	if ((flags & FLAG_RISE_BURSTS) && !(flags & FLAG_RISE_HEADS))
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: flags 0x%x have a bursts head (0x100) but no rise heads "
			       "(0x20); " FIX_RETRAIN,
			       r->name, flags);
	size_t dim = feature_params_vector_dim(f);
	if (flags & FLAG_STANDARDISATION) {
		m->input_mean = get_f32s(r, dim, "input_mean");
		m->input_std = get_f32s(r, dim, "input_std");
	}
	if (flags & FLAG_BAND_WEIGHTS)
		m->band_weights = get_f32s(r, f->n_mels, "band_weights");
	uint32_t agg = get_u32(r, "aggregation");
	m->top_fraction = get_f32(r, "top_fraction");
	if (r->rc)
		return r->rc;
	if (agg > (uint32_t)CLIP_AGG_TOP_MEAN)
		return r->rc = auscult_fail(r->err, AUSCULT_ERR_FORMAT,
					    "%s: corrupt: aggregation %u is not 0 (mean) or 1 (top "
					    "mean); " FIX_RETRAIN,
					    r->name, agg);
	m->aggregation = (enum clip_aggregation)agg;
	if (read_layers(r, m))
		return r->rc;
	m->threshold.gamma_shape = get_f32(r, "threshold.gamma_shape");
	m->threshold.gamma_scale = get_f32(r, "threshold.gamma_scale");
	m->threshold.quantile = get_f32(r, "threshold.quantile");
	m->threshold.threshold = get_f32(r, "threshold.threshold");
	struct model_training_info *t = &m->training;
	t->n_vectors = get_u64(r, "training.n_vectors");
	t->n_files = get_u32(r, "training.n_files");
	t->epochs = get_u32(r, "training.epochs");
	t->batch_size = get_u32(r, "training.batch_size");
	t->learning_rate = get_f32(r, "training.learning_rate");
	t->validation_split = get_f32(r, "training.validation_split");
	t->seed = get_u64(r, "training.seed");
	t->train_loss = get_f32(r, "training.train_loss");
	t->val_loss = get_f32(r, "training.val_loss");
	t->created_unix_s = (int64_t)get_u64(r, "training.created_unix_s");
	const uint8_t *ver = take(r, sizeof(t->tool_version), "training.tool_version");
	if (r->rc)
		return r->rc;
	memcpy(t->tool_version, ver, sizeof(t->tool_version));
	if ((flags & FLAG_WINDOW_HEAD) &&
	    read_head(r, m, (flags & FLAG_HEAD_KEPT) != 0, (flags & FLAG_SPECTRUM_HEAD) != 0))
		return r->rc;
	if ((flags & FLAG_TRAINING_CURVE) && read_curve(r, m))
		return r->rc;
	if ((flags & FLAG_RISE_HEADS) && read_rise(r, m))
		return r->rc;
	if (m->rise)
		m->rise->steady = MODEL_RISE_STEADY_V5; /* what version 5 used; version 6 says */
	if ((flags & FLAG_RISE_V6) && read_rise_v6(r, m))
		return r->rc;
	if ((flags & FLAG_RISE_BURSTS) && read_bursts(r, m))
		return r->rc;
	if (r->pos != r->size)
		return r->rc = auscult_fail(
			       r->err, AUSCULT_ERR_FORMAT,
			       "%s: corrupt: %zu unused bytes at the end of the body; " FIX_RETRAIN,
			       r->name, r->size - r->pos);
	return AUSCULT_OK;
}

int model_decode(struct model *m, const void *data, size_t size, const char *name_for_errors,
		 struct auscult_err *err)
{
	memset(m, 0, sizeof(*m));
	const uint8_t *bytes = data;
	const char *name = name_for_errors ? name_for_errors : "<memory>";
	uint64_t body = 0;
	uint32_t version = 0;
	int rc = header_check(bytes, size, size, name, &body, &version, err);
	if (rc)
		return rc;
	const uint8_t *b = bytes + MODEL_FILE_HEADER_BYTES;
	uint32_t want_crc = le_get32(bytes + 12);
	uint32_t have_crc = crc32_compute(b, (size_t)body);
	if (want_crc != have_crc)
		return auscult_fail(err, AUSCULT_ERR_CHECKSUM,
				    "%s: checksum mismatch: the body's CRC-32 is 0x%08x, the header "
				    "says 0x%08x; " FIX_CORRUPT,
				    name, have_crc, want_crc);
	struct reader r = { b, (size_t)body, 0, name, err, AUSCULT_OK, version };
	rc = read_body(&r, m);
	if (rc)
		goto fail;
	struct auscult_err inner;
	rc = model_validate(m, &inner);
	if (rc) {
		auscult_fail(err, rc, "%s: %s; " FIX_RETRAIN, name, inner.msg);
		goto fail;
	}
	return AUSCULT_OK;
fail:
	model_free(m);
	return rc;
}

/* ---- files ---- */

/* Reads exactly n bytes at offset; returns the count read (short at end of file), or -1. */
static ssize_t read_at(int fd, uint8_t *buf, size_t n, off_t offset)
{
	size_t done = 0;
	while (done < n) {
		ssize_t got = pread(fd, buf + done, n - done, offset + (off_t)done);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

int model_load(struct model *m, const char *path, struct auscult_err *err)
{
	memset(m, 0, sizeof(*m));
	uint8_t *buf = NULL;
	int rc;
	struct stat st;
	int fd = regular_file_open(path, "the model file", &st, &rc, err);
	if (fd < 0)
		return rc;
	uint8_t hdr[MODEL_FILE_HEADER_BYTES];
	ssize_t got = read_at(fd, hdr, sizeof(hdr), 0);
	if (got < 0) {
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot read: %s", path,
				  strerror(errno));
		goto fail;
	}
	uint64_t body = 0;
	rc = header_check(hdr, (size_t)got, (uint64_t)st.st_size, path, &body, NULL, err);
	if (rc)
		goto fail;
	/* Only now is the size known to be sane (header + a bounded body) and worth allocating. */
	size_t total = MODEL_FILE_HEADER_BYTES + (size_t)body;
	buf = malloc(total);
	if (!buf) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory for %zu bytes", path,
				  total);
		goto fail;
	}
	got = read_at(fd, buf, total, 0);
	if (got < 0) {
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot read: %s", path,
				  strerror(errno));
		goto fail;
	}
	if ((size_t)got < total) {
		rc = auscult_fail(
			err, AUSCULT_ERR_TRUNCATED,
			"%s: truncated: %zd of %zu bytes (it shrank while being read); " FIX_RECOPY,
			path, got, total);
		goto fail;
	}
	rc = model_decode(m, buf, total, path, err);
fail:
	free(buf);
	close(fd);
	return rc;
}

int model_save(const struct model *m, const char *path, struct auscult_err *err)
{
	void *data = NULL;
	size_t size = 0;
	struct auscult_err inner;
	int rc = model_encode(m, &data, &size, &inner);
	if (rc) {
		free(data);
		return auscult_fail(err, rc, "%s: %s", path, inner.msg);
	}
	struct atomic_file af;
	rc = atomic_file_open(&af, path, "a temporary file", err);
	if (rc == AUSCULT_OK) {
		if (size > 0 && fwrite(data, 1, size, af.fp) != size) {
			rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot write %s: %s", path,
					  af.tmp, strerror(errno));
			atomic_file_abort(&af);
		} else {
			rc = atomic_file_commit(&af, err);
		}
	}
	free(data);
	return rc;
}
