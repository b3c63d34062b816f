/* audio_source.c - opens a backend and turns its frames into mono float32 at the pipeline rate. */
#include "audio/audio_source.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "audio/audio_backend.h"
#include "audio/rate_converter.h"
#include "common/clock.h"

/* Frames pulled from a backend per read when they need converting; 4096 keeps the cost of a call
 * small against the work per sample without holding much memory. */
#define AUDIO_SCRATCH_FRAMES 4096u
_Static_assert(AUDIO_SCRATCH_FRAMES <= RATE_CONVERTER_BLOCK,
	       "the converter is prepared for blocks of at most RATE_CONVERTER_BLOCK samples");

/* audio_source_wait_s: the slack after the samples are due (about one capture period, so the
 * read after the sleep finds them all), and the most of a live input's buffer a sleep may fill. */
#define WAIT_SLACK_S 0.02
#define WAIT_BUFFER_SHARE 0.25

#define AUDIO_RATE_MIN_HZ 1000u
#define AUDIO_RATE_MAX_HZ 384000u

struct audio_source {
	struct audio_backend *be;
	enum audio_source_kind kind;
	int channel;       /* channel kept, or AUDIO_CHANNEL_AVERAGE */
	uint32_t channels; /* backend's channels */
	uint32_t in_rate_hz;
	uint32_t out_rate_hz;
	float *frames;              /* interleaved scratch, AUDIO_SCRATCH_FRAMES * channels */
	struct rate_converter conv; /* when converting */
	int converting;             /* the rates differ */
	float *mono;                /* converter input, AUDIO_SCRATCH_FRAMES samples */
	size_t mono_len;
	size_t mono_pos;
	int in_eof; /* the backend has ended; the converter is being flushed */
	char desc[768];
};

void audio_source_config_defaults(struct audio_source_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = AUDIO_SOURCE_FILE;
	cfg->device_index = -1;
	cfg->channel = AUDIO_CHANNEL_AVERAGE;
	cfg->output_rate_hz = 16000;
	cfg->ring_seconds = 0.0;
}

static const char *backend_describe(const struct audio_backend *be)
{
	return be->ops->describe(be);
}

static int source_finish_open(struct audio_source **out, struct audio_backend *be,
			      const struct audio_source_config *cfg, struct auscult_err *err)
{
	struct audio_source *s = NULL;
	int rc;

	if (cfg->channel != AUDIO_CHANNEL_AVERAGE &&
	    (cfg->channel < 0 || (uint32_t)cfg->channel >= be->channels)) {
		if (be->channels == 1)
			rc = auscult_fail(err, AUSCULT_ERR_INVALID,
					  "%s: channel %d does not exist: the input has 1 channel "
					  "(use channel 0 or 'average')",
					  backend_describe(be), cfg->channel);
		else
			rc = auscult_fail(err, AUSCULT_ERR_INVALID,
					  "%s: channel %d does not exist: the input has %u channels "
					  "(use 0..%u or 'average')",
					  backend_describe(be), cfg->channel, be->channels,
					  be->channels - 1);
		goto fail;
	}
	/*
	 * Converting up cannot make sound that was never recorded: above half the input's rate the
	 * model's top bands would be empty, which it has never heard, so every window would score as
	 * an anomaly (an 8 kHz stream scores 161 against the shipped model's 3.3; 2.4 at 16 kHz).
	 */
	if (be->rate_hz < cfg->output_rate_hz) {
		rc = auscult_fail(
			err, AUSCULT_ERR_UNSUPPORTED,
			"%s: %u Hz audio carries sound up to %u Hz only, and the model listens up "
			"to %u Hz: its top bands would be empty and every window would score as an "
			"anomaly; record or capture at %u Hz or more (a device: rate_hz: %u, 44100 or "
			"48000)",
			backend_describe(be), be->rate_hz, be->rate_hz / 2, cfg->output_rate_hz / 2,
			cfg->output_rate_hz, cfg->output_rate_hz);
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory",
				  backend_describe(be));
		goto fail;
	}
	s->be = be;
	s->kind = cfg->kind;
	s->channel = cfg->channel;
	s->channels = be->channels;
	s->in_rate_hz = be->rate_hz;
	s->out_rate_hz = cfg->output_rate_hz;
	s->frames = malloc((size_t)AUDIO_SCRATCH_FRAMES * be->channels * sizeof(float));
	if (!s->frames) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory for %u-frame buffer",
				  backend_describe(be), AUDIO_SCRATCH_FRAMES);
		goto fail;
	}
	if (be->rate_hz != cfg->output_rate_hz) {
		s->mono = malloc(AUDIO_SCRATCH_FRAMES * sizeof(float));
		if (!s->mono) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory",
					  backend_describe(be));
			goto fail;
		}
		struct auscult_err why;
		rc = rate_converter_init(&s->conv, be->rate_hz, cfg->output_rate_hz, &why);
		if (rc != AUSCULT_OK) {
			rc = auscult_fail(err, rc, "%s: %s", backend_describe(be), why.msg);
			goto fail;
		}
		s->converting = 1;
	}
	const char *ch_text = "average of all channels";
	char ch_buf[32];
	if (be->channels == 1) {
		ch_text = "mono";
	} else if (cfg->channel >= 0) {
		snprintf(ch_buf, sizeof(ch_buf), "channel %d", cfg->channel);
		ch_text = ch_buf;
	}
	if (s->converting)
		snprintf(s->desc, sizeof(s->desc),
			 "%s, %s, converted to %u Hz by %s, ~%.2g%% of a "
			 "core",
			 backend_describe(be), ch_text, s->out_rate_hz, RATE_CONVERTER_NAME,
			 100.0 * s->conv.cost_share);
	else
		snprintf(s->desc, sizeof(s->desc), "%s, %s", backend_describe(be), ch_text);
	*out = s;
	return AUSCULT_OK;
fail:
	if (s) {
		rate_converter_free(&s->conv);
		free(s->mono);
		free(s->frames);
		free(s);
	}
	be->ops->close(be);
	return rc;
}

static int check_output_rate(const struct audio_source_config *cfg, struct auscult_err *err)
{
	if (cfg->output_rate_hz < AUDIO_RATE_MIN_HZ || cfg->output_rate_hz > AUDIO_RATE_MAX_HZ)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "audio source: output rate %u Hz is out of range [%u, %u]",
				    cfg->output_rate_hz, AUDIO_RATE_MIN_HZ, AUDIO_RATE_MAX_HZ);
	return AUSCULT_OK;
}

/* Opens the backend cfg->kind names. */
static int backend_open(struct audio_backend **be, const struct audio_source_config *cfg,
			struct auscult_err *err)
{
	switch (cfg->kind) {
	case AUDIO_SOURCE_FILE:
		return audio_file_open(be, cfg, err);
	case AUDIO_SOURCE_STDIN:
		return audio_raw_open_fd(be, cfg, 0, "stdin", err);
	case AUDIO_SOURCE_PORTAUDIO:
		return audio_portaudio_open(be, cfg, err);
	default:
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "audio source: unknown kind %d (expected file, stdin or device)",
				    (int)cfg->kind);
	}
}

/* Both public openers: the raw backend on fd when fd_name is not NULL, else the backend
 * cfg->kind names; the output rate is checked before anything is opened. */
static int source_open(struct audio_source **out, const struct audio_source_config *cfg, int fd,
		       const char *fd_name, struct auscult_err *err)
{
	struct audio_backend *be = NULL;
	int rc;

	*out = NULL;
	auscult_err_clear(err);
	rc = check_output_rate(cfg, err);
	if (rc != AUSCULT_OK)
		return rc;
	if (fd_name)
		rc = audio_raw_open_fd(&be, cfg, fd, fd_name, err);
	else
		rc = backend_open(&be, cfg, err);
	if (rc != AUSCULT_OK)
		return rc;
	return source_finish_open(out, be, cfg, err);
}

int audio_source_open(struct audio_source **out, const struct audio_source_config *cfg,
		      struct auscult_err *err)
{
	return source_open(out, cfg, -1, NULL, err);
}

int audio_source_open_fd(struct audio_source **out, const struct audio_source_config *cfg, int fd,
			 const char *name, struct auscult_err *err)
{
	return source_open(out, cfg, fd, name ? name : "raw input", err);
}

/* Keeps one channel, or the mean of all, of n interleaved frames. */
static void to_mono(const struct audio_source *s, const float *frames, size_t n, float *mono)
{
	const uint32_t ch = s->channels;
	if (s->channel >= 0) {
		const float *p = frames + s->channel;
		for (size_t i = 0; i < n; i++)
			mono[i] = p[i * ch];
		return;
	}
	const float scale = 1.0f / (float)ch;
	for (size_t i = 0; i < n; i++) {
		const float *f = frames + i * ch;
		float sum = 0.0f;
		for (uint32_t c = 0; c < ch; c++)
			sum += f[c];
		mono[i] = sum * scale;
	}
}

int audio_source_read(struct audio_source *s, float *buf, size_t max_samples, size_t *got,
		      int timeout_ms, struct auscult_err *err)
{
	struct audio_backend *be = s->be;
	size_t n = 0;
	int rc;

	*got = 0;
	if (max_samples == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "%s: read of 0 samples", s->desc);

	if (!s->converting) {
		if (s->channels == 1)
			return be->ops->read(be, buf, max_samples, got, timeout_ms, err);
		size_t want = max_samples < AUDIO_SCRATCH_FRAMES ? max_samples
								 : AUDIO_SCRATCH_FRAMES;
		rc = be->ops->read(be, s->frames, want, &n, timeout_ms, err);
		if (rc != AUSCULT_OK)
			return rc;
		to_mono(s, s->frames, n, buf);
		*got = n;
		return AUSCULT_OK;
	}

	const int64_t start_ns = clock_mono_ns();
	for (;;) {
		/* What the converter holds, and what is left of the last block, go first: new
		 * input only when both are spent (the converter's buffers were sized for that). */
		size_t used = 0;
		const float *in = s->in_eof && s->mono_pos == s->mono_len ? NULL
									  : s->mono + s->mono_pos;
		size_t made = rate_converter_process(&s->conv, in, s->mono_len - s->mono_pos, &used,
						     buf, max_samples);
		s->mono_pos += used;
		if (made > 0) {
			*got = made;
			return AUSCULT_OK;
		}
		if (in && used == 0 && s->mono_pos < s->mono_len)
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "%s: the rate converter takes "
					    "no more input (libsoxr failed)",
					    s->desc);
		if (s->in_eof) {
			if (!in)
				return AUSCULT_ERR_EOF;
			continue;
		}
		if (s->mono_pos < s->mono_len)
			continue;
		int left_ms = timeout_ms;
		if (be->honours_timeout && timeout_ms > 0) {
			left_ms = timeout_ms - (int)((clock_mono_ns() - start_ns) / 1000000);
			if (left_ms < 0)
				left_ms = 0;
		}
		rc = be->ops->read(be, s->frames, AUDIO_SCRATCH_FRAMES, &n, left_ms, err);
		if (rc == AUSCULT_ERR_EOF) {
			s->in_eof = 1;
			n = 0;
		} else if (rc != AUSCULT_OK) {
			return rc;
		}
		if (s->channels == 1)
			memcpy(s->mono, s->frames, n * sizeof(float));
		else
			to_mono(s, s->frames, n, s->mono);
		s->mono_len = n;
		s->mono_pos = 0;
	}
}

uint64_t audio_source_overruns(const struct audio_source *s)
{
	return s->be->ops->overruns(s->be);
}

int audio_source_buffered(const struct audio_source *s, double *ready_s, double *capacity_s)
{
	const struct audio_backend *be = s->be;
	size_t ready, capacity;
	if (!be->ops->buffered || !be->ops->buffered(be, &ready, &capacity))
		return 0;
	/* frames at the input's rate; the block already read waits for the converter */
	size_t held = s->converting ? s->mono_len - s->mono_pos : 0;
	*ready_s = (double)(ready + held) / be->rate_hz;
	*capacity_s = (double)capacity / be->rate_hz;
	return 1;
}

int audio_source_wait_s(const struct audio_source *s, size_t n_samples, double *wait_s)
{
	double ready_s, capacity_s;
	if (!audio_source_buffered(s, &ready_s, &capacity_s))
		return 0;
	double short_s = (double)n_samples / s->out_rate_hz - ready_s;
	*wait_s = short_s > 0.0 ? fmin(short_s + WAIT_SLACK_S, WAIT_BUFFER_SHARE * capacity_s)
				: 0.0;
	return 1;
}

const char *audio_source_describe(const struct audio_source *s)
{
	return s->desc;
}

const char *audio_source_warning(const struct audio_source *s)
{
	return s->be->warning;
}

uint32_t audio_source_input_rate_hz(const struct audio_source *s)
{
	return s->in_rate_hz;
}

uint32_t audio_source_input_channels(const struct audio_source *s)
{
	return s->channels;
}

void audio_source_close(struct audio_source *s)
{
	if (!s)
		return;
	s->be->ops->close(s->be);
	rate_converter_free(&s->conv);
	free(s->mono);
	free(s->frames);
	free(s);
}
