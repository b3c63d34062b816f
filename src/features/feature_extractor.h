/* feature_extractor.h - streaming log-mel front end: framer + logmel under one feature_params. */
#ifndef AUSCULT_FEATURE_EXTRACTOR_H
#define AUSCULT_FEATURE_EXTRACTOR_H

#include <stddef.h>

#include "common/status.h"
#include "features/feature_params.h"
#include "features/framer.h"
#include "features/logmel.h"

/* enum framing (FRAMING_CENTRED, FRAMING_STREAMING) comes from framer.h, which defines it. */

struct feature_extractor {
	struct feature_params params; /* copy of the parameters it was built for */
	enum framing framing;
	struct framer framer;
	struct logmel logmel;
	float *frame; /* n_fft scratch: the current raw frame */
	/* feature_extractor_keep_power: the power spectra of the last power_frames frames, bins
	 * 1..power_bins, a ring (frame f in row f % power_frames); NULL when not kept */
	float *power;
	uint32_t power_bins, power_frames;
	uint64_t power_count; /* frames since the last reset */
};

/*
 * Validates p (feature_params_validate) and allocates everything the extractor will ever need.
 * Returns AUSCULT_OK, or the failing status with err naming the parameter; on failure
 * feature_extractor_free is safe. Call from any thread; the struct belongs to its caller.
 */
int feature_extractor_init(struct feature_extractor *fx, const struct feature_params *p,
			   enum framing framing, struct auscult_err *err);

/* Upper bound on frames a push of n_samples can emit (size your output with it). */
size_t feature_extractor_max_frames(const struct feature_extractor *fx, size_t n_samples);

/*
 * Pushes mono samples at p->sample_rate_hz; writes the frames completed by them (n_mels floats
 * each, dB) to frames_out; returns how many. Never allocates, never fails, never logs.
 */
size_t feature_extractor_push(struct feature_extractor *fx, const float *samples, size_t n_samples,
			      float *frames_out);

/*
 * End of input: CENTRED emits the remaining frames (end reflection); STREAMING emits none.
 * Returns count (at most feature_extractor_max_frames(fx, 0)). Pushes after it are ignored until
 * feature_extractor_reset().
 */
size_t feature_extractor_finish(struct feature_extractor *fx, float *frames_out);

/*
 * From now on, also keeps each frame's power spectrum |X[k]|^2 of bins 1..n_bins (n_bins <=
 * n_fft / 2) for the last n_frames frames, for stages that look at the window's spectrum in
 * finer detail than the mel bands (features/tone_peaks.h). AUSCULT_OK, AUSCULT_ERR_INVALID,
 * AUSCULT_ERR_NOMEM.
 */
int feature_extractor_keep_power(struct feature_extractor *fx, uint32_t n_bins, uint32_t n_frames,
				 struct auscult_err *err);

/* The kept power ring (NULL when none) and the frames since the last reset in *count. */
const float *feature_extractor_power(const struct feature_extractor *fx, uint64_t *count);

/* Starts a new signal: forgets all pushed samples. */
void feature_extractor_reset(struct feature_extractor *fx);

/* Frees everything init allocated. NULL-safe, safe after a failed init. */
void feature_extractor_free(struct feature_extractor *fx);

/* Bytes the extractor allocated on the heap (buffers, filter bank, FFT plan estimate). */
size_t feature_extractor_heap_bytes(const struct feature_extractor *fx);

#endif
