/* framer.c - centred (reflect-padded) and streaming framing with chunk-size-independent output. */
#include "features/framer.h"

#include <stdlib.h>
#include <string.h>

void framer_config_defaults(struct framer_config *cfg)
{
	cfg->n_fft = 1024;
	cfg->hop_length = 512;
	cfg->framing = FRAMING_CENTRED;
}

/* First centred frame that touches no padding: ceil(pad / hop). */
static uint64_t first_streaming_frame(const struct framer *fr)
{
	return ((uint64_t)fr->pad + fr->hop_length - 1) / fr->hop_length;
}

int framer_init(struct framer *fr, const struct framer_config *cfg, struct auscult_err *err)
{
	memset(fr, 0, sizeof(*fr));
	/* Even: a frame is n_fft / 2 samples either side of its centre. */
	if (cfg->n_fft < 2 || cfg->n_fft > (1u << 20) || cfg->n_fft % 2 != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "framer: n_fft %u is not an even number in [2, 1048576]",
				    cfg->n_fft);
	if (cfg->hop_length == 0 || cfg->hop_length > cfg->n_fft)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "framer: hop_length %u is out of range [1, n_fft=%u]",
				    cfg->hop_length, cfg->n_fft);
	if (cfg->framing != FRAMING_CENTRED && cfg->framing != FRAMING_STREAMING)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "framer: framing %d is neither centred (0) nor streaming (1)",
				    (int)cfg->framing);
	fr->n_fft = cfg->n_fft;
	fr->hop_length = cfg->hop_length;
	fr->pad = cfg->n_fft / 2;
	fr->framing = cfg->framing;
	/* Eight frames: the last n_fft samples are always kept (the end reflection needs up to
	 * pad + 1 of them), and compaction, a copy of n_fft samples, then happens once per 7 n_fft
	 * samples (with twice the frame, once per n_fft: a copy of every sample once more). */
	fr->buf_cap = 8 * (size_t)cfg->n_fft;
	fr->buf = malloc(fr->buf_cap * sizeof(*fr->buf));
	if (!fr->buf)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "framer: out of memory for %zu samples",
				    fr->buf_cap);
	framer_reset(fr);
	return AUSCULT_OK;
}

void framer_reset(struct framer *fr)
{
	fr->buf_base = 0;
	fr->n_seen = 0;
	fr->finished = 0;
	fr->next_frame = fr->framing == FRAMING_STREAMING ? first_streaming_frame(fr) : 0;
}

uint64_t framer_frame_count(const struct framer *fr, uint64_t n_samples)
{
	if (fr->framing == FRAMING_CENTRED)
		return n_samples == 0 ? 0 : 1 + n_samples / fr->hop_length;
	if (n_samples < fr->pad)
		return 0;
	uint64_t last = (n_samples - fr->pad) / fr->hop_length; /* last t with t*hop + pad <= n */
	uint64_t t0 = first_streaming_frame(fr);
	return last < t0 ? 0 : last - t0 + 1;
}

/* Signal index of the first sample of centred frame t (negative inside the start pad). */
static int64_t frame_start(const struct framer *fr, uint64_t t)
{
	return (int64_t)(t * fr->hop_length) - (int64_t)fr->pad;
}

/*
 * Samples that must have arrived before the next frame can go out without the end reflection:
 * its last sample, and for frames reaching into the start pad also y[pad], the deepest sample
 * the start reflection mirrors (only frame 0 reaches it, and it needs one sample more).
 */
static uint64_t ready_at(const struct framer *fr)
{
	uint64_t end = fr->next_frame * fr->hop_length + fr->pad;
	return end < (uint64_t)fr->pad + 1 ? (uint64_t)fr->pad + 1 : end;
}

size_t framer_push(struct framer *fr, const float *samples, size_t n_samples, float *frame_out,
		   int *got_frame)
{
	size_t used = 0;

	*got_frame = 0;
	if (fr->finished)
		return n_samples;
	for (;;) {
		uint64_t need = ready_at(fr);
		if (fr->n_seen >= need) {
			int64_t start = frame_start(fr, fr->next_frame);
			if (start >= 0) {
				memcpy(frame_out, fr->buf + (start - (int64_t)fr->buf_base),
				       fr->n_fft * sizeof(*frame_out));
			} else {
				/* Start reflection: y[-j] for j < 0; every such frame lies in the
				 * first n_fft samples, which stay at buf[0..] until it is out. */
				for (uint32_t i = 0; i < fr->n_fft; i++) {
					int64_t j = start + i;
					frame_out[i] = fr->buf[j < 0 ? -j : j];
				}
			}
			fr->next_frame++;
			*got_frame = 1;
			return used;
		}
		if (used == n_samples)
			return used;
		size_t held = (size_t)(fr->n_seen - fr->buf_base);
		if (held == fr->buf_cap) {
			/* Full and no frame ready: the next frame starts within the last n_fft
			 * samples, and the end reflection needs nothing older either. */
			size_t drop = held - fr->n_fft;
			memmove(fr->buf, fr->buf + drop, fr->n_fft * sizeof(*fr->buf));
			fr->buf_base += drop;
			held = fr->n_fft;
		}
		size_t k = fr->buf_cap - held;
		if ((uint64_t)k > need - fr->n_seen)
			k = (size_t)(need - fr->n_seen);
		if (k > n_samples - used)
			k = n_samples - used;
		memcpy(fr->buf + held, samples + used, k * sizeof(*samples));
		used += k;
		fr->n_seen += k;
	}
}

/* numpy's reflect padding of an n-sample signal extended to any index: period 2 (n - 1). */
static uint64_t reflect_index(int64_t j, uint64_t n)
{
	if (n == 1)
		return 0;
	uint64_t period = 2 * (n - 1);
	uint64_t a = (uint64_t)(j < 0 ? -j : j) % period;
	return a < n ? a : period - a;
}

int framer_finish(struct framer *fr, float *frame_out)
{
	fr->finished = 1;
	if (fr->framing != FRAMING_CENTRED)
		return 0;
	if (fr->next_frame >= framer_frame_count(fr, fr->n_seen))
		return 0;
	int64_t start = frame_start(fr, fr->next_frame);
	for (uint32_t i = 0; i < fr->n_fft; i++) {
		uint64_t j = reflect_index(start + i, fr->n_seen);
		frame_out[i] = fr->buf[j - fr->buf_base];
	}
	fr->next_frame++;
	return 1;
}

void framer_free(struct framer *fr)
{
	if (!fr)
		return;
	free(fr->buf);
	fr->buf = NULL;
}
