/* model_info.c - text and JSON descriptions of a model, for `auscult info` and the daemon's log. */
#include "model/model_info.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "model/model_file.h"

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

void model_info_print(FILE *out, const struct model *m, const char *path)
{
	const struct feature_params *f = &m->features;
	char arch[1024];
	char created[64];
	model_architecture(m, arch, sizeof(arch));
	model_format_time_utc(m->training.created_unix_s, created, sizeof(created));

	if (path)
		fprintf(out, "model:          %s\n", path);
	fprintf(out, "format:         auscult model, version %u\n", MODEL_FILE_VERSION);
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
	fprintf(out,
		"threshold:      %.6g (gamma fit: shape %.6g, scale %.6g; quantile %.6g)\n",
		(double)m->threshold.threshold, (double)m->threshold.gamma_shape,
		(double)m->threshold.gamma_scale, (double)m->threshold.quantile);
	const struct model_training_info *t = &m->training;
	fprintf(out,
		"training:       %" PRIu64 " vectors from %u files, %u epochs, batch %u, "
		"learning rate %g, validation split %g, seed %" PRIu64 "\n",
		t->n_vectors, t->n_files, t->epochs, t->batch_size, (double)t->learning_rate,
		(double)t->validation_split, t->seed);
	if (isnan(t->val_loss))
		fprintf(out, "loss:           train %.6g, validation none\n", (double)t->train_loss);
	else
		fprintf(out, "loss:           train %.6g, validation %.6g\n", (double)t->train_loss,
			(double)t->val_loss);
	fprintf(out, "created:        %s by auscult %s\n", created,
		t->tool_version[0] ? t->tool_version : "(unknown)");
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* %.9g round-trips a float exactly; JSON has no NaN or infinity. */
static void json_float(FILE *out, float v)
{
	if (isfinite(v))
		fprintf(out, "%.9g", (double)v);
	else
		fputs("null", out);
}

static void json_frames(FILE *out, uint32_t mask, uint32_t n_stack)
{
	fputc('[', out);
	const char *sep = "";
	for (uint32_t f = 0; f < n_stack && f < 32; f++)
		if (mask & (1u << f)) {
			fprintf(out, "%s%u", sep, f);
			sep = ",";
		}
	fputc(']', out);
}

void model_info_print_json(FILE *out, const struct model *m, const char *path)
{
	const struct feature_params *f = &m->features;
	const struct model_training_info *t = &m->training;
	char arch[1024];
	char created[64];
	model_architecture(m, arch, sizeof(arch));
	model_format_time_utc(t->created_unix_s, created, sizeof(created));

	fputc('{', out);
	if (path) {
		fputs("\"path\":", out);
		json_string(out, path);
		fputc(',', out);
	}
	fprintf(out, "\"format_version\":%u,", MODEL_FILE_VERSION);
	fprintf(out,
		"\"features\":{\"sample_rate_hz\":%u,\"n_fft\":%u,\"hop_length\":%u,\"n_mels\":%u,"
		"\"fmin_hz\":",
		f->sample_rate_hz, f->n_fft, f->hop_length, f->n_mels);
	json_float(out, f->fmin_hz);
	fputs(",\"fmax_hz\":", out);
	json_float(out, f->fmax_hz);
	fprintf(out, ",\"n_stack\":%u,\"vector_dim\":%u},", f->n_stack, feature_params_vector_dim(f));
	fputs("\"input_frames\":", out);
	json_frames(out, m->input_frames, f->n_stack);
	fputs(",\"target_frames\":", out);
	json_frames(out, m->target_frames, f->n_stack);
	fprintf(out, ",\"input_dim\":%u,\"output_dim\":%u,", model_input_dim(m), model_output_dim(m));
	fprintf(out, "\"standardisation\":%s,\"band_weights\":%s,",
		m->input_mean ? "true" : "false", m->band_weights ? "true" : "false");
	fprintf(out, "\"aggregation\":\"%s\",\"top_fraction\":",
		m->aggregation == CLIP_AGG_TOP_MEAN ? "top_mean" : "mean");
	json_float(out, m->top_fraction);
	fputs(",\"architecture\":", out);
	json_string(out, arch);
	fputs(",\"layers\":[", out);
	for (uint32_t i = 0; i < m->n_layers; i++)
		fprintf(out, "%s{\"n_in\":%u,\"n_out\":%u,\"activation\":\"%s\"}", i ? "," : "",
			m->layers[i].n_in, m->layers[i].n_out,
			activation_name(m->layers[i].activation));
	fprintf(out, "],\"parameters\":%" PRIu64 ",", model_param_count(m));
	fputs("\"threshold\":{\"gamma_shape\":", out);
	json_float(out, m->threshold.gamma_shape);
	fputs(",\"gamma_scale\":", out);
	json_float(out, m->threshold.gamma_scale);
	fputs(",\"quantile\":", out);
	json_float(out, m->threshold.quantile);
	fputs(",\"threshold\":", out);
	json_float(out, m->threshold.threshold);
	fprintf(out,
		"},\"training\":{\"n_vectors\":%" PRIu64 ",\"n_files\":%u,\"epochs\":%u,"
		"\"batch_size\":%u,\"learning_rate\":",
		t->n_vectors, t->n_files, t->epochs, t->batch_size);
	json_float(out, t->learning_rate);
	fputs(",\"validation_split\":", out);
	json_float(out, t->validation_split);
	fprintf(out, ",\"seed\":%" PRIu64 ",\"train_loss\":", t->seed);
	json_float(out, t->train_loss);
	fputs(",\"val_loss\":", out);
	json_float(out, t->val_loss);
	fprintf(out, ",\"created_unix_s\":%" PRId64 ",\"created\":", t->created_unix_s);
	json_string(out, created);
	fputs(",\"tool_version\":", out);
	char version[sizeof(t->tool_version) + 1];
	memcpy(version, t->tool_version, sizeof(t->tool_version));
	version[sizeof(t->tool_version)] = '\0';
	json_string(out, version);
	fputs("}}\n", out);
}
