/* feature_extractor.c - glues the framer to logmel so callers push samples and get dB frames. */
#include "features/feature_extractor.h"

#include <stdlib.h>
#include <string.h>

int feature_extractor_init(struct feature_extractor *fx, const struct feature_params *p,
			   enum framing framing, struct auscult_err *err)
{
	struct framer_config fc;
	struct logmel_config lc;
	int rc;

	memset(fx, 0, sizeof(*fx));
	rc = feature_params_validate(p, err);
	if (rc != AUSCULT_OK)
		return rc;
	fx->params = *p;
	fx->framing = framing;
	fc.n_fft = p->n_fft;
	fc.hop_length = p->hop_length;
	fc.framing = framing;
	rc = framer_init(&fx->framer, &fc, err);
	if (rc != AUSCULT_OK)
		goto fail;
	logmel_config_from_params(&lc, p);
	rc = logmel_init(&fx->logmel, &lc, err);
	if (rc != AUSCULT_OK)
		goto fail;
	fx->frame = malloc(p->n_fft * sizeof(*fx->frame));
	if (!fx->frame) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM,
				  "feature extractor: out of memory for a %u-sample frame",
				  p->n_fft);
		goto fail;
	}
	return AUSCULT_OK;
fail:
	feature_extractor_free(fx);
	return rc;
}

size_t feature_extractor_max_frames(const struct feature_extractor *fx, size_t n_samples)
{
	/* A push completes one frame per hop, plus one for frame 0 (it needs only pad + 1
	 * samples); finish adds at most the frames within a pad of the end. */
	size_t hop = fx->params.hop_length;
	return n_samples / hop + 2 + (fx->params.n_fft / 2) / hop + 1;
}

typedef double v4d __attribute__((vector_size(32)));
typedef float v4sf __attribute__((vector_size(16)));

/* One frame out: its log-mel bands, and its power into the ring when kept. */
static void process_frame(struct feature_extractor *fx, float *mel_out)
{
	logmel_process(&fx->logmel, fx->frame, mel_out);
	if (!fx->power)
		return;
	float *row = fx->power + (size_t)(fx->power_count % fx->power_frames) * fx->power_bins;
	const double *power = fx->logmel.power + 1;
	uint32_t k = 0;
	for (; k + 4 <= fx->power_bins; k += 4) { /* four at a time: this runs every frame */
		v4d d;
		memcpy(&d, power + k, sizeof(d));
		v4sf f = __builtin_convertvector(d, v4sf);
		memcpy(row + k, &f, sizeof(f));
	}
	for (; k < fx->power_bins; k++)
		row[k] = (float)power[k];
	fx->power_count++;
}

int feature_extractor_keep_power(struct feature_extractor *fx, uint32_t n_bins, uint32_t n_frames,
				 struct auscult_err *err)
{
	if (n_bins < 1 || n_bins > fx->params.n_fft / 2 || n_frames < 1 || n_frames > 65536)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "feature_extractor: power of %u bins over %u frames: need 1..%u "
				    "bins and 1..65536 frames",
				    n_bins, n_frames, fx->params.n_fft / 2);
	float *ring = calloc((size_t)n_bins * n_frames, sizeof(float));
	if (!ring)
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "feature_extractor: out of memory for the power ring");
	free(fx->power);
	fx->power = ring;
	fx->power_bins = n_bins;
	fx->power_frames = n_frames;
	fx->power_count = 0;
	return AUSCULT_OK;
}

const float *feature_extractor_power(const struct feature_extractor *fx, uint64_t *count)
{
	*count = fx->power_count;
	return fx->power;
}

size_t feature_extractor_push(struct feature_extractor *fx, const float *samples, size_t n_samples,
			      float *frames_out)
{
	size_t n_frames = 0, used = 0;
	int got;

	if (!fx->frame)
		return 0;
	do {
		used += framer_push(&fx->framer, samples + used, n_samples - used, fx->frame, &got);
		if (got) {
			process_frame(fx, frames_out + n_frames * fx->params.n_mels);
			n_frames++;
		}
	} while (got);
	return n_frames;
}

size_t feature_extractor_finish(struct feature_extractor *fx, float *frames_out)
{
	size_t n_frames = 0;

	if (!fx->frame)
		return 0;
	while (framer_finish(&fx->framer, fx->frame)) {
		process_frame(fx, frames_out + n_frames * fx->params.n_mels);
		n_frames++;
	}
	return n_frames;
}

void feature_extractor_reset(struct feature_extractor *fx)
{
	framer_reset(&fx->framer);
	fx->power_count = 0;
}

void feature_extractor_free(struct feature_extractor *fx)
{
	if (!fx)
		return;
	framer_free(&fx->framer);
	logmel_free(&fx->logmel);
	free(fx->frame);
	fx->frame = NULL;
	free(fx->power);
	fx->power = NULL;
}

size_t feature_extractor_heap_bytes(const struct feature_extractor *fx)
{
	const struct logmel *lm = &fx->logmel;
	size_t n = 0;

	n += fx->framer.buf_cap * sizeof(float);
	n += (size_t)fx->params.n_fft * sizeof(float); /* frame */
	n += (size_t)lm->n_fft * sizeof(double);       /* window */
	n += (size_t)lm->n_bins * sizeof(double);      /* power */
	n += 3 * (size_t)lm->n_mels * sizeof(uint32_t);
	n += (lm->n_weights + 1) * sizeof(float);
	n += rfft_heap_bytes(&lm->fft);
	return n;
}
