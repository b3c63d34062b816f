/* audio_source.h - one small interface over audio files, raw stdin PCM and PortAudio capture. */
#ifndef AUSCULT_AUDIO_SOURCE_H
#define AUSCULT_AUDIO_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/status.h"

enum audio_source_kind {
	AUDIO_SOURCE_FILE = 0,  /* any file libsndfile reads (WAV, FLAC, ...) */
	AUDIO_SOURCE_STDIN,     /* raw signed 16-bit little-endian PCM on standard input */
	AUDIO_SOURCE_PORTAUDIO, /* a capture device through PortAudio */
};

/* How much audio a live input holds while its reader sleeps, unless the config says: a device's
 * capture ring, a pipe's capacity (a reader sleeps up to a quarter of it, audio_source_wait_s). */
#define AUDIO_RING_SECONDS_DEFAULT 2.0

/* Channel selection: a channel index >= 0, or this to average all channels. */
#define AUDIO_CHANNEL_AVERAGE (-1)

struct audio_source_config {
	enum audio_source_kind kind;
	const char *path;        /* FILE: the file's path */
	const char *device_name; /* PORTAUDIO: a device name (substring match) or an ALSA PCM name
				     such as "hw:1,0" or a PCM defined in .asoundrc; NULL: use
				     device_index */
	int device_index;        /* PORTAUDIO: PortAudio device index; -1 with no name: default */
	uint32_t input_rate_hz;  /* STDIN: rate of the raw PCM; PORTAUDIO: rate to open the device
				     at (0: the pipeline rate if the device can, else its default) */
	uint32_t input_channels; /* STDIN: channels of the raw PCM; PORTAUDIO: 0 = 1 channel */
	int channel;             /* channel to keep, or AUDIO_CHANNEL_AVERAGE */
	uint32_t output_rate_hz; /* the pipeline's rate; higher rates are converted (libsoxr), lower
				     ones refused (they lack the top of the band) */
	double ring_seconds;     /* PORTAUDIO: capture ring length; STDIN from a pipe: the pipe's
				    capacity to ask for; seconds (0: AUDIO_RING_SECONDS_DEFAULT) */
	int real_time_only;      /* PORTAUDIO: 1 = a device that delivers far more than its rate
				     (over 2x, beyond 2 s of slack) is broken: reads fail with
				     AUSCULT_ERR_DEVICE. An ALSA `type file` PCM replays its infile
				     unpaced, and past its end repeats stale data for ever. 0 (the
				     default): take audio as fast as it comes (tests, tools) */
};

/* Fills cfg with defaults: FILE kind, channel AVERAGE, output 16 kHz, device_index -1. */
void audio_source_config_defaults(struct audio_source_config *cfg);

struct audio_source;

/*
 * Opens a source. On failure *out is NULL and err names the file or device, what it is, and what
 * was expected ("x.wav: not an audio file (libsndfile: Format not recognised)").
 */
int audio_source_open(struct audio_source **out, const struct audio_source_config *cfg,
		      struct auscult_err *err);

/*
 * Reads up to max_samples mono float32 samples at output_rate_hz into buf, waiting at most
 * timeout_ms for at least one (files and stdin ignore the timeout and block on I/O).
 * Returns AUSCULT_OK with *got > 0; AUSCULT_ERR_TIMEOUT with *got == 0 when nothing came in time;
 * AUSCULT_ERR_EOF when a file or stdin has ended (no more samples will come); AUSCULT_ERR_DEVICE
 * (message in err) when the device failed or disappeared - close and reopen it.
 */
int audio_source_read(struct audio_source *src, float *buf, size_t max_samples, size_t *got,
		      int timeout_ms, struct auscult_err *err);

/* Capture overruns (samples dropped because the reader fell behind) since open. */
uint64_t audio_source_overruns(const struct audio_source *src);

/*
 * A live input's buffer, in seconds of audio: what a read would take at once now (*ready_s, the
 * samples the source holds for the converter included) and how much the input holds before it
 * loses audio or its writer has to wait (*capacity_s): a device's capture ring, a pipe's
 * capacity. Returns 0 when the source cannot say (files, terminals, regular files on stdin). A
 * reader may sleep until a window's worth is there instead of waking for every piece.
 */
int audio_source_buffered(const struct audio_source *src, double *ready_s, double *capacity_s);

/*
 * For a reader that wants n_samples (at the output rate) from a live input that delivers in
 * pieces: *wait_s is how long to sleep before reading them so that they are all there (one
 * wake-up; a converting source still hands them out in a few reads of its blocks), until they
 * should be in plus about one capture period, and never longer than a quarter of what
 * the input holds (so that nothing is lost and no writer waits); 0 when they are there. Returns 0
 * when the source cannot say (audio_source_buffered), and the reader reads as the audio comes.
 */
int audio_source_wait_s(const struct audio_source *src, size_t n_samples, double *wait_s);

/*
 * A short description for logs: what is read, at which rate and how it reaches the pipeline's
 * rate, with the converter's measured cost: "file pump.wav (16000 Hz, 1 ch), mono",
 * "device 'hw:1,0' (48000 Hz native, 1 ch), mono, converted to 16000 Hz by soxr HQ, pass band
 * 97%, ~0.02% of a core". Owned by src.
 */
const char *audio_source_describe(const struct audio_source *src);

/*
 * NULL, or why the input opened but is doubtful, e.g. a WAV file cut short: "pump.wav: truncated:
 * the header announces 120.000 s of audio (...), the file holds 60.000 s (...); ...". Its frames
 * are still usable: a tool warns, a config check refuses. Owned by src.
 */
const char *audio_source_warning(const struct audio_source *src);

/*
 * Closes and frees. NULL-safe. A device whose stream does not stop within 250 ms (its capture
 * thread is stuck in the driver, as an ALSA file PCM on a stalled FIFO is) finishes closing on a
 * thread of its own; opening the same device fails with AUSCULT_ERR_DEVICE until it has.
 */
void audio_source_close(struct audio_source *src);

/* Prints capture devices (index, name, host API, channels, default rate, supported rates).
 * Returns AUSCULT_ERR_DEVICE, having printed nothing, when there is none. */
int audio_list_devices(FILE *out, struct auscult_err *err);

/*
 * Additions beyond the original contract.
 */

/*
 * Like audio_source_open for raw signed 16-bit little-endian PCM, read from fd instead of
 * standard input (cfg->kind is ignored; input_rate_hz and input_channels describe the PCM).
 * fd stays open after audio_source_close. name is used in messages (NULL: "raw input").
 * A read interrupted by a signal returns AUSCULT_ERR_INTERRUPTED with *got == 0.
 */
int audio_source_open_fd(struct audio_source **out, const struct audio_source_config *cfg, int fd,
			 const char *name, struct auscult_err *err);

/* The rate the backend delivers before conversion, Hz (file rate, device rate, stdin rate). */
uint32_t audio_source_input_rate_hz(const struct audio_source *src);

/* Channels the backend delivers before channel selection. */
uint32_t audio_source_input_channels(const struct audio_source *src);

#endif
