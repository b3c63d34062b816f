/* audio_raw.c - the stdin backend: raw signed 16-bit little-endian PCM from a file descriptor. */
#define _GNU_SOURCE /* F_GETPIPE_SZ: a pipe's capacity */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_backend.h"
#include "common/clock.h"
#include "common/log.h"

#define RAW_CHANNELS_MAX 32u
/* Bytes read per read(2); a pipe delivers at most 64 KiB at a time anyway. */
#define RAW_CHUNK_BYTES 16384u
/* The most a pipe is grown to: Linux lets any process go up to /proc/sys/fs/pipe-max-size,
 * 1 MiB unless the administrator lowered it (then the pipe keeps its size). */
#define RAW_PIPE_MAX_BYTES (1u << 20)

/* Bytes read from a descriptor but not yet handed out when its reader closed (the tail of a
 * frame split by the writer, as `ssh host arecord | auscultd` gives): the descriptor's next
 * reader starts with them, so that a reopen after a stall, or a reload, keeps the stream's frame
 * alignment. One carry: only standard input is ever read this way in a daemon. */
static struct {
	pthread_mutex_t lock;
	int fd; /* -1: none */
	unsigned char bytes[RAW_CHUNK_BYTES + 2u * RAW_CHANNELS_MAX];
	size_t n;
} carry = { PTHREAD_MUTEX_INITIALIZER, -1, { 0 }, 0 };

struct audio_raw {
	struct audio_backend base;
	int fd;
	size_t frame_bytes;   /* 2 * channels */
	unsigned char *bytes; /* RAW_CHUNK_BYTES + one partial frame */
	size_t held;          /* bytes in `bytes` not yet converted (< frame_bytes between reads) */
	size_t pipe_bytes;    /* the pipe's capacity, found at open; 0: fd is not a pipe */
	int eof;
	uint64_t frames_read;
	char name[64];
	char desc[128];
};

/* Waits until r->fd has bytes (or its writer is gone), at most until deadline_ns (< 0: for
 * ever). AUSCULT_OK, AUSCULT_ERR_TIMEOUT, or the failure in err. */
static int wait_readable(const struct audio_raw *r, int64_t deadline_ns, struct auscult_err *err)
{
	int left_ms = -1;
	if (deadline_ns >= 0) {
		int64_t left_ns = deadline_ns - clock_mono_ns();
		left_ms = left_ns > 0 ? (int)((left_ns + 999999) / 1000000) : 0;
	}
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	int n = poll(&pfd, 1, left_ms);
	if (n > 0)
		return AUSCULT_OK;
	if (n == 0)
		return AUSCULT_ERR_TIMEOUT;
	if (errno == EINTR)
		return auscult_fail(err, AUSCULT_ERR_INTERRUPTED,
				    "%s: read interrupted by a signal", r->name);
	return auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot wait for input: %s", r->name,
			    strerror(errno));
}

static int raw_read(struct audio_backend *b, float *frames, size_t max_frames, size_t *got,
		    int timeout_ms, struct auscult_err *err)
{
	struct audio_raw *r = (struct audio_raw *)b;
	*got = 0;
	if (r->eof)
		return AUSCULT_ERR_EOF;

	size_t want_bytes = RAW_CHUNK_BYTES - RAW_CHUNK_BYTES % r->frame_bytes;
	if (max_frames < want_bytes / r->frame_bytes)
		want_bytes = max_frames * r->frame_bytes;
	if (want_bytes < r->frame_bytes)
		want_bytes = r->frame_bytes;
	/* A pipe may hand over any number of bytes, odd ones included: read until one whole frame
	 * is in, keep the tail of a split frame for the next call. A writer that stalls (or a
	 * descriptor left non-blocking by whoever shares it) gives AUSCULT_ERR_TIMEOUT after
	 * timeout_ms, so that the caller can tell a stall and stop when asked. */
	int64_t deadline_ns = timeout_ms >= 0 ? clock_mono_ns() + (int64_t)timeout_ms * 1000000
					      : -1;
	while (r->held < r->frame_bytes) {
		int rc = wait_readable(r, deadline_ns, err);
		if (rc != AUSCULT_OK)
			return rc;
		ssize_t n = read(r->fd, r->bytes + r->held, want_bytes - r->held);
		if (n > 0) {
			r->held += (size_t)n;
			continue;
		}
		if (n == 0) {
			r->eof = 1;
			if (r->held > 0)
				log_warn("%s: ended in the middle of a frame: %zu stray byte(s) "
					 "dropped (expected whole %zu-byte frames of %u-channel "
					 "s16le)",
					 r->name, r->held, r->frame_bytes, r->base.channels);
			r->held = 0;
			return AUSCULT_ERR_EOF;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			continue; /* non-blocking, and another reader was first: wait again */
		if (errno == EINTR)
			return auscult_fail(err, AUSCULT_ERR_INTERRUPTED,
					    "%s: read interrupted by a signal", r->name);
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: read failed after %llu frames: %s",
				    r->name, (unsigned long long)r->frames_read, strerror(errno));
	}
	size_t n_frames = r->held / r->frame_bytes;
	if (n_frames > max_frames)
		n_frames = max_frames;
	size_t n_samples = n_frames * r->base.channels;
	const unsigned char *p = r->bytes;
	for (size_t i = 0; i < n_samples; i++, p += 2) {
		int16_t v = (int16_t)(uint16_t)((unsigned)p[0] | ((unsigned)p[1] << 8));
		frames[i] = (float)v * (1.0f / 32768.0f);
	}
	size_t used = n_frames * r->frame_bytes;
	memmove(r->bytes, r->bytes + used, r->held - used);
	r->held -= used;
	r->frames_read += n_frames;
	*got = n_frames;
	return AUSCULT_OK;
}

static uint64_t raw_overruns(const struct audio_backend *b)
{
	(void)b;
	return 0;
}

static const char *raw_describe(const struct audio_backend *b)
{
	return ((const struct audio_raw *)b)->desc;
}

static void raw_close(struct audio_backend *b)
{
	struct audio_raw *r = (struct audio_raw *)b;
	if (!r)
		return;
	pthread_mutex_lock(&carry.lock);
	carry.fd = -1;
	carry.n = 0;
	if (r->held > 0 && !r->eof && r->held <= sizeof(carry.bytes)) {
		carry.fd = r->fd;
		memcpy(carry.bytes, r->bytes, r->held);
		carry.n = r->held;
	}
	pthread_mutex_unlock(&carry.lock);
	free(r->bytes);
	free(r);
}

/* A pipe's content and capacity (what `arecord | auscultd` buffers); other inputs cannot say. */
static int raw_buffered(const struct audio_backend *b, size_t *ready, size_t *capacity)
{
	const struct audio_raw *r = (const struct audio_raw *)b;
	int in_pipe = 0;
	if (r->pipe_bytes == 0 || ioctl(r->fd, FIONREAD, &in_pipe) != 0 || in_pipe < 0)
		return 0;
	*ready = ((size_t)in_pipe + r->held) / r->frame_bytes;
	*capacity = r->pipe_bytes / r->frame_bytes;
	return 1;
}

static const struct audio_backend_ops raw_ops = {
	.read = raw_read,
	.overruns = raw_overruns,
	.buffered = raw_buffered,
	.describe = raw_describe,
	.close = raw_close,
};

int audio_raw_open_fd(struct audio_backend **out, const struct audio_source_config *cfg, int fd,
		      const char *name, struct auscult_err *err)
{
	struct audio_raw *r = NULL;
	int rc;

	*out = NULL;
	if (cfg->input_rate_hz < AUDIO_INPUT_RATE_MIN_HZ ||
	    cfg->input_rate_hz > AUDIO_INPUT_RATE_MAX_HZ)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: raw PCM rate %u Hz is out of range [%u, %u]: give the rate "
				    "the s16le stream was recorded at (e.g. 16000)",
				    name, cfg->input_rate_hz, AUDIO_INPUT_RATE_MIN_HZ,
				    AUDIO_INPUT_RATE_MAX_HZ);
	if (cfg->input_channels < 1 || cfg->input_channels > RAW_CHANNELS_MAX)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: raw PCM channel count %u is out of range [1, %u]: give the "
				    "number of interleaved channels in the s16le stream",
				    name, cfg->input_channels, RAW_CHANNELS_MAX);
	if (fd < 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "%s: no file descriptor", name);
	r = calloc(1, sizeof(*r));
	if (!r)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", name);
	r->frame_bytes = 2u * cfg->input_channels;
	r->bytes = malloc(RAW_CHUNK_BYTES + r->frame_bytes);
	if (!r->bytes) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", name);
		goto fail;
	}
	r->fd = fd;
	pthread_mutex_lock(&carry.lock);
	if (carry.fd == fd && carry.n <= RAW_CHUNK_BYTES) {
		memcpy(r->bytes, carry.bytes, carry.n);
		r->held = carry.n;
	}
	carry.fd = -1;
	carry.n = 0;
	pthread_mutex_unlock(&carry.lock);
	/* A pipe holds 64 KiB by default, a third of a second of 48-kHz stereo: grown to the ring's
	 * seconds of this stream, so that the reader may sleep through a window hop (a quarter of
	 * it) and the writer need not wait. Failing is harmless: the reader sleeps less. */
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		double want = audio_ring_seconds(cfg) * cfg->input_rate_hz * (double)r->frame_bytes;
		int size = fcntl(fd, F_GETPIPE_SZ);
		if (size > 0 && want > (double)size)
			(void)fcntl(fd, F_SETPIPE_SZ,
				    (int)(want < RAW_PIPE_MAX_BYTES ? want : RAW_PIPE_MAX_BYTES));
		size = fcntl(fd, F_GETPIPE_SZ);
		r->pipe_bytes = size > 0 ? (size_t)size : 0;
	}
	r->base.ops = &raw_ops;
	r->base.rate_hz = cfg->input_rate_hz;
	r->base.channels = cfg->input_channels;
	r->base.honours_timeout = 1;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->desc, sizeof(r->desc), "%s (raw s16le, %u Hz, %u ch)", name, cfg->input_rate_hz,
		 cfg->input_channels);
	*out = &r->base;
	return AUSCULT_OK;
fail:
	free(r->bytes);
	free(r);
	return rc;
}
