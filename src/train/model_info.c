/* model_info.c - text and JSON descriptions of a model, for `auscult info` and the daemon's log. */
#include "train/model_info.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "model/model_file.h"
#include "model/rise_heads.h"
#include "model/spectrum_head.h"
#include "model/window_head.h"
#include "common/json_writer.h"
#include "train/threshold_fit.h"

uint64_t model_param_count(const struct model *m)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < m->n_layers; i++)
		n += (uint64_t)m->layers[i].n_in * m->layers[i].n_out + m->layers[i].n_out;
	return n;
}

void model_architecture(const struct model *m, char *buf, size_t size)
{
	if (size == 0)
		return;
	size_t pos = 0;
	int w = snprintf(buf, size, "%u", m->n_layers ? m->layers[0].n_in : model_input_dim(m));
	if (w < 0 || (size_t)w >= size)
		goto cut;
	pos = (size_t)w;
	for (uint32_t i = 0; i < m->n_layers; i++) {
		w = snprintf(buf + pos, size - pos, "-%u", m->layers[i].n_out);
		if (w < 0 || (size_t)w >= size - pos)
			goto cut;
		pos += (size_t)w;
	}
	return;
cut:
	if (size >= 4)
		memcpy(buf + size - 4, "...", 4);
	else
		buf[size - 1] = '\0';
}

void model_format_time_utc(int64_t unix_s, char *buf, size_t size)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	if ((int64_t)t != unix_s || !gmtime_r(&t, &tm) ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%" PRId64, unix_s);
}

static const char *activation_name(enum activation a)
{
	return a == ACTIVATION_RELU ? "relu" : a == ACTIVATION_LINEAR ? "linear" : "unknown";
}

static void print_frames(FILE *out, uint32_t mask, uint32_t n_stack)
{
	fputc('[', out);
	const char *sep = "";
	for (uint32_t f = 0; f < n_stack && f < 32; f++)
		if (mask & (1u << f)) {
			fprintf(out, "%s%u", sep, f);
			sep = ", ";
		}
	fputc(']', out);
}

/* Whether the threshold is the quantile of the windows' tail, not of the gamma whose parameters
 * the model keeps (train/threshold_fit.h). */
static bool threshold_is_tail(const struct model *m)
{
	return threshold_from_tail(m->threshold.threshold, m->threshold.gamma_shape,
				   m->threshold.gamma_scale, m->threshold.quantile);
}

/* The daemon's default windows and hop (pipeline_settings_defaults; train/ is below pipeline/
 * in the folders' order, so the figures are repeated here). */
#define INFO_WINDOW_S 2.0
#define INFO_HOP_S 0.5

/* The head's front end and scores over 10 s, on the daemon's default windows and hop. */
static double head_mflop_per_10s(const struct model *m)
{
	return window_head_flops_per_s(m->head, &m->features, INFO_WINDOW_S, INFO_HOP_S) * 10.0 /
	       1e6;
}

/* The rise heads' features and scores over 10 s, on the daemon's default windows. */
static double rise_mflop_per_10s(const struct model *m)
{
	return rise_heads_flops_per_s(m->rise, m->head, &m->features, INFO_WINDOW_S) * 10.0 / 1e6;
}

/* The rise heads' shape, fit and gate, the impulse head's shape when they have one, then each
 * head's calibration: two or three lines. */
static void print_rise(FILE *out, const struct model *m)
{
	const struct model_rise_heads *r = m->rise;
	const struct feature_params *f = &m->features;
	/* the envelope's frames are the window head's; the tones' bins the front end's */
	double frame_hz = (double)f->sample_rate_hz / m->head->hop;
	double env_bin_hz = frame_hz / r->env_n_fft;
	double tone_bin_hz = (double)f->sample_rate_hz / f->n_fft;
	fprintf(out,
		"rise heads:     envelope spectra of %u band%s, bins %u-%u of %u (%.1f-%.1f Hz at "
		"%g Hz frames), %u features; tonal peaks of %u bins (to %.3g kHz) against bins "
		"%u-%u away; each the mean of its largest %g%% of rises (std floor %g of the "
		"median); gate: %g x (z - %g) above z %g, evaluated every %g s, the median of the "
		"last %u added; %.1f MFLOP per 10-s clip\n",
		m->head->n_kept, m->head->n_kept == 1 ? "" : "s", r->env_bin_lo, r->env_bin_hi,
		r->env_n_fft, env_bin_hz * r->env_bin_lo, env_bin_hz * r->env_bin_hi, frame_hz,
		r->envelope.dim, r->tone_bins, tone_bin_hz * r->tone_bins / 1000.0, r->tone_near,
		r->tone_far, 100.0 * (double)r->top_fraction, (double)r->std_floor_rel,
		(double)r->gate_weight, (double)r->gate_z, (double)r->gate_z, RISE_HEADS_EVERY_S,
		r->steady, rise_mflop_per_10s(m));
	if (r->imp_block) {
		double block_hz = (double)f->sample_rate_hz / r->imp_block;
		double imp_bin_hz = block_hz / r->imp_n_fft;
		fprintf(out,
			"impulse head:   envelope spectrum of the second difference's level over "
			"%u-sample blocks, bins %u-%u of %u (%.1f-%.1f Hz at %g Hz blocks), %u "
			"features, gated with the rise heads\n",
			r->imp_block, r->imp_bin_lo, r->imp_bin_hi, r->imp_n_fft,
			imp_bin_hz * r->imp_bin_lo, imp_bin_hz * r->imp_bin_hi, block_hz,
			r->impulses.dim);
	}
	if (r->burst_bins)
		fprintf(out,
			"bursts head:    the crest (loudest frame over mean power, dB) of %u bands "
			"of %u bin%s (%.4g Hz) to %.3g kHz over the window's frames, %u features, "
			"its largest z; gate: %g x (z - %g) above z %g, every evaluation (no "
			"median)\n",
			r->bursts.dim, r->burst_band_bins, r->burst_band_bins == 1 ? "" : "s",
			tone_bin_hz * r->burst_band_bins, tone_bin_hz * r->burst_bins / 1000.0,
			r->bursts.dim, (double)r->gate_weight, (double)r->burst_gate_z,
			(double)r->burst_gate_z);
	fprintf(out,
		"rise scores:    z = envelope (score - %.6g) / %.6g, tones (score - %.6g) / %.6g",
		(double)r->envelope.cal_mean, (double)r->envelope.cal_std,
		(double)r->tones.cal_mean, (double)r->tones.cal_std);
	if (r->imp_block)
		fprintf(out, ", impulses (score - %.6g) / %.6g", (double)r->impulses.cal_mean,
			(double)r->impulses.cal_std);
	if (r->burst_bins)
		fprintf(out, ", bursts (score - %.6g) / %.6g", (double)r->bursts.cal_mean,
			(double)r->bursts.cal_std);
	fprintf(out, " (mean and std on held-out training windows)\n");
}

void model_curve_summarise(const struct model *m, struct model_curve_summary *s)
{
	memset(s, 0, sizeof(*s));
	const struct model_training_curve *c = &m->curve;
	if (c->n_epochs == 0 || !c->train_loss || !c->val_loss)
		return;
	s->n_epochs = c->n_epochs;
	s->train_first = c->train_loss[0];
	s->train_last = c->train_loss[c->n_epochs - 1];
	s->train_best = c->train_loss[0];
	s->train_best_epoch = 1;
	for (uint32_t e = 0; e < c->n_epochs; e++) {
		if (c->train_loss[e] < s->train_best) {
			s->train_best = c->train_loss[e];
			s->train_best_epoch = e + 1;
		}
		float v = c->val_loss[e];
		if (isnan(v))
			continue;
		if (s->n_val++ == 0) {
			s->val_first = s->val_best = v;
			s->val_best_epoch = e + 1;
		} else if (v < s->val_best) {
			s->val_best = v;
			s->val_best_epoch = e + 1;
		}
		s->val_last = v;
	}
}

void model_curve_summary_text(const struct model *m, char *buf, size_t size)
{
	struct model_curve_summary s;
	model_curve_summarise(m, &s);
	if (size == 0)
		return;
	if (s.n_epochs == 0) {
		snprintf(buf, size, "%s", MODEL_CURVE_ABSENT);
		return;
	}
	int w = snprintf(buf, size,
			 "%u epoch%s; training loss first %.4g, best %.4g (epoch %u), last %.4g; ",
			 s.n_epochs, s.n_epochs == 1 ? "" : "s", (double)s.train_first,
			 (double)s.train_best, s.train_best_epoch, (double)s.train_last);
	if (w < 0 || (size_t)w >= size)
		return;
	if (s.n_val == 0)
		snprintf(buf + w, size - (size_t)w, "validation loss none (nothing held out)");
	else
		snprintf(buf + w, size - (size_t)w,
			 "validation loss first %.4g, best %.4g (epoch %u), last %.4g",
			 (double)s.val_first, (double)s.val_best, s.val_best_epoch,
			 (double)s.val_last);
}

void model_info_print(FILE *out, const struct model *m, const char *path)
{
	const struct feature_params *f = &m->features;
	char arch[1024];
	char created[64];
	model_architecture(m, arch, sizeof(arch));
	model_format_time_utc(m->training.created_unix_s, created, sizeof(created));

	if (path)
		fprintf(out, "model:          %s\n", path);
	fprintf(out, "format:         auscult model, version %u\n", model_file_version(m));
	fprintf(out,
		"features:       %u Hz, n_fft %u, hop %u, %u mel bands %g-%g Hz, %u frames stacked "
		"(%u values per vector)\n",
		f->sample_rate_hz, f->n_fft, f->hop_length, f->n_mels, (double)f->fmin_hz,
		(double)f->fmax_hz, f->n_stack, feature_params_vector_dim(f));
	fprintf(out, "input frames:   ");
	print_frames(out, m->input_frames, f->n_stack);
	fprintf(out, " (mask 0x%x, %u values)\n", m->input_frames, model_input_dim(m));
	fprintf(out, "target frames:  ");
	print_frames(out, m->target_frames, f->n_stack);
	fprintf(out, " (mask 0x%x, %u values)\n", m->target_frames, model_output_dim(m));
	fprintf(out, "standardise:    %s\n",
		m->input_mean ? "yes (per-dimension training mean and std)" : "no");
	fprintf(out, "band weights:   %s\n", m->band_weights ? "yes" : "no");
	if (m->aggregation == CLIP_AGG_TOP_MEAN)
		fprintf(out, "aggregation:    mean of the largest %g%% of vector scores\n",
			100.0 * (double)m->top_fraction);
	else
		fprintf(out, "aggregation:    mean of all vector scores\n");
	fprintf(out, "architecture:   %s (%u dense layers, %" PRIu64 " parameters)\n", arch,
		m->n_layers, model_param_count(m));
	fprintf(out, "activations:   ");
	for (uint32_t i = 0; i < m->n_layers; i++)
		fprintf(out, " %s", activation_name(m->layers[i].activation));
	fputc('\n', out);
	if (threshold_is_tail(m))
		fprintf(out,
			"threshold:      %.6g (quantile %.7g of the scores' exponential tail; the "
			"gamma of all: shape %.6g, scale %.6g)\n",
			(double)m->threshold.threshold, (double)m->threshold.quantile,
			(double)m->threshold.gamma_shape, (double)m->threshold.gamma_scale);
	else
		fprintf(out,
			"threshold:      %.6g (gamma fit: shape %.6g, scale %.6g; quantile %.7g)\n",
			(double)m->threshold.threshold, (double)m->threshold.gamma_shape,
			(double)m->threshold.gamma_scale, (double)m->threshold.quantile);
	if (m->head) {
		const struct model_window_head *h = m->head;
		double band_hz = 0.5 * m->features.sample_rate_hz / h->n_bands;
		double bin_hz = (double)m->features.sample_rate_hz / m->features.n_fft;
		if (h->kind == WINDOW_HEAD_SPECTRUM)
			fprintf(out,
				"window head:    spectrum of each window (its %u-point frames' mean) "
				"in %u bands of %u bins (%.0f-%.0f Hz), the residual off the %u "
				"principal directions of the training windows, each band over its "
				"held-out spread (floor %g of the median), the mean of the largest "
				"%u squared; its short frames (%u-point every %u samples, %u bands) "
				"feed the rise heads; %.1f MFLOP per 10-s clip\n",
				m->features.n_fft, h->dim, h->spec_band_bins, bin_hz,
				bin_hz * (double)h->dim * h->spec_band_bins, h->spec_rank,
				(double)h->std_floor_rel,
				spectrum_head_top_n(h->dim, h->spec_top_fraction), h->n_fft, h->hop,
				h->n_kept, head_mflop_per_10s(m));
		else
			fprintf(out,
				"window head:    band mean and spread of %u of %u linear bands (0-%.0f Hz; "
				"%u-point frames every %u samples) over each window, full-covariance "
				"Gaussian (shrinkage %g, std floor %g of the median); %.1f MFLOP per 10-s "
				"clip\n",
				h->n_kept, h->n_bands, band_hz * h->n_kept, h->n_fft, h->hop,
				(double)h->shrinkage, (double)h->std_floor_rel,
				head_mflop_per_10s(m));
		fprintf(out,
			"window score:   autoencoder / %.6g + head / %.6g (medians on the training "
			"windows)\n",
			(double)h->ae_median, (double)h->head_median);
	}
	if (m->rise && m->head)
		print_rise(out, m);
	const struct model_training_info *t = &m->training;
	fprintf(out,
		"training:       %" PRIu64 " vectors from %u files, %u epochs, batch %u, "
		"learning rate %g, validation split %g, seed %" PRIu64 "\n",
		t->n_vectors, t->n_files, t->epochs, t->batch_size, (double)t->learning_rate,
		(double)t->validation_split, t->seed);
	if (isnan(t->val_loss))
		fprintf(out, "loss:           train %.6g, validation none\n",
			(double)t->train_loss);
	else
		fprintf(out, "loss:           train %.6g, validation %.6g\n", (double)t->train_loss,
			(double)t->val_loss);
	char curve[320];
	model_curve_summary_text(m, curve, sizeof(curve));
	fprintf(out, "training curve: %s\n", curve);
	fprintf(out, "created:        %s by auscult %s\n", created,
		t->tool_version[0] ? t->tool_version : "(unknown)");
}

/* %.9g round-trips a float exactly; NaN and infinities become null. */
static void json_field_f32(struct json_writer *w, const char *key, float v)
{
	json_field_double_digits(w, key, (double)v, 9);
}

static void json_rise_head(struct json_writer *w, const char *key, const struct model_rise_head *h)
{
	json_key(w, key);
	json_object_open(w);
	json_field_uint(w, "dim", h->dim);
	json_field_f32(w, "cal_mean", h->cal_mean);
	json_field_f32(w, "cal_std", h->cal_std);
	json_object_close(w);
}

static void json_field_frames(struct json_writer *w, const char *key, uint32_t mask,
			      uint32_t n_stack)
{
	json_key(w, key);
	json_array_open(w);
	for (uint32_t f = 0; f < n_stack && f < 32; f++)
		if (mask & (1u << f))
			json_uint(w, f);
	json_array_close(w);
}

void model_info_print_json(FILE *out, const struct model *m, const char *path)
{
	const struct feature_params *f = &m->features;
	const struct model_training_info *t = &m->training;
	char arch[1024];
	char created[64];
	model_architecture(m, arch, sizeof(arch));
	model_format_time_utc(t->created_unix_s, created, sizeof(created));
	char version[sizeof(t->tool_version) + 1];
	memcpy(version, t->tool_version, sizeof(t->tool_version));
	version[sizeof(t->tool_version)] = '\0';

	struct json_writer w;
	json_writer_init_file(&w, out);
	json_object_open(&w);
	if (path)
		json_field_string(&w, "path", path);
	json_field_uint(&w, "format_version", model_file_version(m));
	json_key(&w, "features");
	json_object_open(&w);
	json_field_uint(&w, "sample_rate_hz", f->sample_rate_hz);
	json_field_uint(&w, "n_fft", f->n_fft);
	json_field_uint(&w, "hop_length", f->hop_length);
	json_field_uint(&w, "n_mels", f->n_mels);
	json_field_f32(&w, "fmin_hz", f->fmin_hz);
	json_field_f32(&w, "fmax_hz", f->fmax_hz);
	json_field_uint(&w, "n_stack", f->n_stack);
	json_field_uint(&w, "vector_dim", feature_params_vector_dim(f));
	json_object_close(&w);
	json_field_frames(&w, "input_frames", m->input_frames, f->n_stack);
	json_field_frames(&w, "target_frames", m->target_frames, f->n_stack);
	json_field_uint(&w, "input_dim", model_input_dim(m));
	json_field_uint(&w, "output_dim", model_output_dim(m));
	json_field_bool(&w, "standardisation", m->input_mean != NULL);
	json_field_bool(&w, "band_weights", m->band_weights != NULL);
	json_field_string(&w, "aggregation",
			  m->aggregation == CLIP_AGG_TOP_MEAN ? "top_mean" : "mean");
	json_field_f32(&w, "top_fraction", m->top_fraction);
	json_field_string(&w, "architecture", arch);
	json_key(&w, "layers");
	json_array_open(&w);
	for (uint32_t i = 0; i < m->n_layers; i++) {
		json_object_open(&w);
		json_field_uint(&w, "n_in", m->layers[i].n_in);
		json_field_uint(&w, "n_out", m->layers[i].n_out);
		json_field_string(&w, "activation", activation_name(m->layers[i].activation));
		json_object_close(&w);
	}
	json_array_close(&w);
	json_field_uint(&w, "parameters", model_param_count(m));
	json_key(&w, "threshold");
	json_object_open(&w);
	json_field_f32(&w, "gamma_shape", m->threshold.gamma_shape);
	json_field_f32(&w, "gamma_scale", m->threshold.gamma_scale);
	json_field_f32(&w, "quantile", m->threshold.quantile);
	json_field_f32(&w, "threshold", m->threshold.threshold);
	json_field_string(&w, "fit", threshold_is_tail(m) ? "tail" : "gamma");
	json_object_close(&w);
	if (m->head) {
		const struct model_window_head *h = m->head;
		json_key(&w, "head");
		json_object_open(&w);
		json_field_uint(&w, "n_fft", h->n_fft);
		json_field_uint(&w, "hop", h->hop);
		json_field_uint(&w, "n_bands", h->n_bands);
		json_field_uint(&w, "n_kept", h->n_kept);
		json_field_uint(&w, "dim", h->dim);
		json_field_string(&w, "kind",
				  h->kind == WINDOW_HEAD_SPECTRUM ? "spectrum" : "bands");
		json_field_f32(&w, "shrinkage", h->shrinkage);
		json_field_f32(&w, "std_floor_rel", h->std_floor_rel);
		json_field_f32(&w, "ae_median", h->ae_median);
		json_field_f32(&w, "head_median", h->head_median);
		if (h->kind == WINDOW_HEAD_SPECTRUM) {
			json_field_uint(&w, "spec_band_bins", h->spec_band_bins);
			json_field_uint(&w, "spec_rank", h->spec_rank);
			json_field_f32(&w, "spec_top_fraction", h->spec_top_fraction);
		}
		json_field_double_digits(&w, "mflop_per_10s", head_mflop_per_10s(m), 4);
		json_object_close(&w);
	}
	if (m->rise && m->head) {
		const struct model_rise_heads *r = m->rise;
		json_key(&w, "rise_heads");
		json_object_open(&w);
		json_field_uint(&w, "env_n_fft", r->env_n_fft);
		json_field_uint(&w, "env_bin_lo", r->env_bin_lo);
		json_field_uint(&w, "env_bin_hi", r->env_bin_hi);
		json_field_uint(&w, "tone_bins", r->tone_bins);
		json_field_uint(&w, "tone_near", r->tone_near);
		json_field_uint(&w, "tone_far", r->tone_far);
		json_field_f32(&w, "top_fraction", r->top_fraction);
		json_field_f32(&w, "std_floor_rel", r->std_floor_rel);
		json_field_f32(&w, "gate_z", r->gate_z);
		json_field_f32(&w, "gate_weight", r->gate_weight);
		json_field_uint(&w, "steady", r->steady);
		json_rise_head(&w, "envelope", &r->envelope);
		json_rise_head(&w, "tones", &r->tones);
		if (r->imp_block) {
			json_field_uint(&w, "imp_block", r->imp_block);
			json_field_uint(&w, "imp_n_fft", r->imp_n_fft);
			json_field_uint(&w, "imp_bin_lo", r->imp_bin_lo);
			json_field_uint(&w, "imp_bin_hi", r->imp_bin_hi);
			json_rise_head(&w, "impulses", &r->impulses);
		}
		if (r->burst_bins) {
			json_field_uint(&w, "burst_bins", r->burst_bins);
			json_field_uint(&w, "burst_band_bins", r->burst_band_bins);
			json_field_f32(&w, "burst_gate_z", r->burst_gate_z);
			json_rise_head(&w, "bursts", &r->bursts);
		}
		json_field_double_digits(&w, "mflop_per_10s", rise_mflop_per_10s(m), 4);
		json_object_close(&w);
	}
	json_key(&w, "training");
	json_object_open(&w);
	json_field_uint(&w, "n_vectors", t->n_vectors);
	json_field_uint(&w, "n_files", t->n_files);
	json_field_uint(&w, "epochs", t->epochs);
	json_field_uint(&w, "batch_size", t->batch_size);
	json_field_f32(&w, "learning_rate", t->learning_rate);
	json_field_f32(&w, "validation_split", t->validation_split);
	json_field_uint(&w, "seed", t->seed);
	json_field_f32(&w, "train_loss", t->train_loss);
	json_field_f32(&w, "val_loss", t->val_loss);
	json_field_int(&w, "created_unix_s", t->created_unix_s);
	json_field_string(&w, "created", created);
	json_field_string(&w, "tool_version", version);
	json_object_close(&w);
	json_key(&w, "training_curve");
	if (m->curve.n_epochs == 0) {
		json_null(&w);
	} else {
		struct model_curve_summary s;
		model_curve_summarise(m, &s);
		json_object_open(&w);
		json_field_uint(&w, "epochs", s.n_epochs);
		json_field_uint(&w, "best_train_epoch", s.train_best_epoch);
		json_key(&w, "best_val_epoch");
		if (s.n_val)
			json_uint(&w, s.val_best_epoch);
		else
			json_null(&w);
		json_key(&w, "train_loss");
		json_array_open(&w);
		for (uint32_t e = 0; e < m->curve.n_epochs; e++)
			json_double_digits(&w, (double)m->curve.train_loss[e], 9);
		json_array_close(&w);
		json_key(&w, "val_loss");
		json_array_open(&w);
		for (uint32_t e = 0; e < m->curve.n_epochs; e++)
			json_double_digits(&w, (double)m->curve.val_loss[e], 9);
		json_array_close(&w);
		json_object_close(&w);
	}
	json_object_close(&w);
	fputc('\n', out);
}
