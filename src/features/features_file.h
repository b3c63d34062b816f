/* features_file.h - log-mel frames of a whole audio file, read in bounded memory through audio_source. */
#ifndef AUSCULT_FEATURES_FILE_H
#define AUSCULT_FEATURES_FILE_H

#include <stddef.h>

#include "common/status.h"
#include "features/feature_extractor.h"
#include "features/feature_params.h"

/*
 * Whole-file centred log-mel frames (n_frames x n_mels, row-major, malloc'd, caller frees) of an
 * audio file read through audio_source (file kind; channels averaged, resampled to
 * p->sample_rate_hz). Errors name the file. On failure *frames is NULL and *n_frames 0.
 */
int features_from_file(const char *path, const struct feature_params *p, float **frames,
		       size_t *n_frames, struct auscult_err *err);

/*
 * Stacked vectors are overlapping views into contiguous frames: vector t = frames + t * n_mels,
 * n_stack*n_mels floats; count = n_frames - n_stack + 1 (0 if fewer frames).
 */
size_t features_vector_count(size_t n_frames, const struct feature_params *p);

/*
 * Receives frames as they are made: n_frames x n_mels dB, valid only during the call. Returns
 * AUSCULT_OK to go on, anything else (with err filled) to stop the stream with that status.
 */
typedef int (*features_sink_fn)(void *ctx, const float *frames, size_t n_frames,
				struct auscult_err *err);

/* Samples read per block by features_stream_file (64 KiB of float). */
#define FEATURES_FILE_BLOCK_SAMPLES 16384

/*
 * Streams a file through a feature extractor of the given framing, in blocks of
 * FEATURES_FILE_BLOCK_SAMPLES, handing each block's frames to sink: memory stays bounded however
 * long the file (about 100 KiB plus the audio layer's own buffers). The path `auscult features`
 * and features_from_file both use. Returns AUSCULT_OK, the audio layer's status (message names
 * the file), or the sink's status. *n_samples (may be NULL) gets the samples read.
 */
int features_stream_file(const char *path, const struct feature_params *p, enum framing framing,
			 features_sink_fn sink, void *ctx, size_t *n_samples,
			 struct auscult_err *err);

#endif
