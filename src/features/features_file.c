/* features_file.c - reads an audio file block by block and feeds it through the feature extractor. */
#include "features/features_file.h"

#include <stdlib.h>
#include <string.h>

#include "audio/audio_source.h"
#include "common/log.h"

size_t features_vector_count(size_t n_frames, const struct feature_params *p)
{
	return n_frames < p->n_stack ? 0 : n_frames - p->n_stack + 1;
}

int features_stream_file(const char *path, const struct feature_params *p, enum framing framing,
			 features_sink_fn sink, void *ctx, size_t *n_samples,
			 struct auscult_err *err)
{
	struct feature_extractor fx;
	struct audio_source_config cfg;
	struct audio_source *src = NULL;
	float *block = NULL, *frames = NULL;
	size_t total = 0;
	int rc;

	memset(&fx, 0, sizeof(fx));
	if (n_samples)
		*n_samples = 0;
	rc = feature_extractor_init(&fx, p, framing, err);
	if (rc != AUSCULT_OK)
		goto fail;
	size_t max_frames = feature_extractor_max_frames(&fx, FEATURES_FILE_BLOCK_SAMPLES);
	block = malloc(FEATURES_FILE_BLOCK_SAMPLES * sizeof(*block));
	frames = malloc(max_frames * p->n_mels * sizeof(*frames));
	if (!block || !frames) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM,
				  "%s: out of memory for the feature buffers", path);
		goto fail;
	}
	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_FILE;
	cfg.path = path;
	cfg.channel = AUDIO_CHANNEL_AVERAGE;
	cfg.output_rate_hz = p->sample_rate_hz;
	rc = audio_source_open(&src, &cfg, err);
	if (rc != AUSCULT_OK)
		goto fail;
	if (audio_source_warning(src))
		log_warn("%s; using the part that is there", audio_source_warning(src));
	for (;;) {
		size_t got = 0;
		rc = audio_source_read(src, block, FEATURES_FILE_BLOCK_SAMPLES, &got, -1, err);
		if (rc == AUSCULT_ERR_EOF)
			break;
		if (rc != AUSCULT_OK)
			goto fail;
		total += got;
		size_t n = feature_extractor_push(&fx, block, got, frames);
		if (n > 0) {
			rc = sink(ctx, frames, n, err);
			if (rc != AUSCULT_OK)
				goto fail;
		}
	}
	size_t n = feature_extractor_finish(&fx, frames);
	if (n > 0) {
		rc = sink(ctx, frames, n, err);
		if (rc != AUSCULT_OK)
			goto fail;
	}
	rc = AUSCULT_OK;
fail:
	if (n_samples)
		*n_samples = total;
	audio_source_close(src);
	free(frames);
	free(block);
	feature_extractor_free(&fx);
	return rc;
}

struct frame_array {
	float *frames;
	size_t n_frames;
	size_t cap_frames;
	size_t n_mels;
	const char *path;
};

static int append_frames(void *ctx, const float *frames, size_t n_frames, struct auscult_err *err)
{
	struct frame_array *a = ctx;
	if (a->n_frames + n_frames > a->cap_frames) {
		size_t cap = a->cap_frames ? a->cap_frames : 64;
		while (cap < a->n_frames + n_frames)
			cap *= 2;
		float *grown = realloc(a->frames, cap * a->n_mels * sizeof(*grown));
		if (!grown)
			return auscult_fail(err, AUSCULT_ERR_NOMEM,
					    "%s: out of memory for %zu frames of features", a->path,
					    cap);
		a->frames = grown;
		a->cap_frames = cap;
	}
	memcpy(a->frames + a->n_frames * a->n_mels, frames, n_frames * a->n_mels * sizeof(*frames));
	a->n_frames += n_frames;
	return AUSCULT_OK;
}

int features_from_file(const char *path, const struct feature_params *p, float **frames,
		       size_t *n_frames, struct auscult_err *err)
{
	struct frame_array a = { .n_mels = p->n_mels, .path = path };
	*frames = NULL;
	*n_frames = 0;
	int rc = features_stream_file(path, p, FRAMING_CENTRED, append_frames, &a, NULL, err);
	if (rc != AUSCULT_OK) {
		free(a.frames);
		return rc;
	}
	*frames = a.frames;
	*n_frames = a.n_frames;
	return AUSCULT_OK;
}
