/* audio_backend.h - the private table of functions every audio source backend fills in. */
#ifndef AUSCULT_AUDIO_BACKEND_H
#define AUSCULT_AUDIO_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "audio/audio_source.h"
#include "common/status.h"

struct audio_backend;

/* Input rates a file or raw PCM may have: below 1 kHz nothing is a recording of a machine, and
 * converting from so far below the pipeline rate costs seconds per file (found by fuzzing). */
#define AUDIO_INPUT_RATE_MIN_HZ 1000u
#define AUDIO_INPUT_RATE_MAX_HZ 384000u

/* The seconds of audio a live input holds for its reader: the config's, or the default. */
static inline double audio_ring_seconds(const struct audio_source_config *cfg)
{
	return cfg->ring_seconds > 0 ? cfg->ring_seconds : AUDIO_RING_SECONDS_DEFAULT;
}

/*
 * What a backend does. Backends deliver interleaved float32 frames at their own rate and channel
 * count; audio_source.c does the channel selection and the rate conversion for all of them.
 */
struct audio_backend_ops {
	/*
	 * Reads up to max_frames interleaved frames into frames. Same return contract as
	 * audio_source_read, counted in frames. Only devices honour timeout_ms.
	 */
	int (*read)(struct audio_backend *b, float *frames, size_t max_frames, size_t *got_frames,
		    int timeout_ms, struct auscult_err *err);
	/* Frames dropped because the reader fell behind (0 for files and pipes). */
	uint64_t (*overruns)(const struct audio_backend *b);
	/*
	 * A live input's buffer: the frames a read would take at once now (*ready), and how many it
	 * holds before the input is lost or its writer waits (*capacity). Returns 0 when the input
	 * cannot say (a file, a terminal); NULL for backends that never can.
	 */
	int (*buffered)(const struct audio_backend *b, size_t *ready, size_t *capacity);
	/* "file pump.wav (16000 Hz, 1 ch)"; owned by the backend. */
	const char *(*describe)(const struct audio_backend *b);
	/* Releases everything, including b itself. */
	void (*close)(struct audio_backend *b);
};

/* The part every backend shares; each backend's own struct starts with it. */
struct audio_backend {
	const struct audio_backend_ops *ops;
	uint32_t rate_hz;    /* rate the frames come at */
	uint32_t channels;   /* samples per frame */
	int honours_timeout; /* 1 for devices: reads may return AUSCULT_ERR_TIMEOUT */
	const char *
		warning; /* NULL, or why the input is doubtful ("PATH: truncated: ..."); owned by the backend */
};

/* Opens a file through libsndfile (cfg->path). */
int audio_file_open(struct audio_backend **out, const struct audio_source_config *cfg,
		    struct auscult_err *err);

/*
 * Opens raw signed 16-bit little-endian PCM read from fd (not closed on close), at
 * cfg->input_rate_hz with cfg->input_channels; name is used in messages ("stdin").
 */
int audio_raw_open_fd(struct audio_backend **out, const struct audio_source_config *cfg, int fd,
		      const char *name, struct auscult_err *err);

/* Opens a PortAudio capture device (cfg->device_name or cfg->device_index). */
int audio_portaudio_open(struct audio_backend **out, const struct audio_source_config *cfg,
			 struct auscult_err *err);

#endif
