/* framer.h - cuts a sample stream into overlapping analysis frames, centred (reflect-padded) or streaming. */
#ifndef AUSCULT_FRAMER_H
#define AUSCULT_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * How frames are placed on the signal. Both number frames like librosa's centred STFT: frame t
 * covers samples [t * hop - n_fft / 2, t * hop + n_fft / 2) of the un-padded signal.
 *
 * CENTRED: whole-file framing. The signal is padded by n_fft / 2 samples at both ends by
 * reflection exactly as numpy.pad(mode="reflect") does (y[pad] .. y[1] | y .. | y[N-2] ..; for
 * signals shorter than the pad the reflection repeats with period 2 (N - 1); a one-sample signal
 * is repeated), giving 1 + N / hop frames (integer division) for N >= 1 samples and none for 0.
 * Frames that need the end reflection come out only from framer_finish().
 *
 * STREAMING: live audio, no look-ahead and no padding. It emits exactly the centred frames that
 * touch neither pad: frames t >= t0 = ceil((n_fft / 2) / hop) whose last sample has arrived.
 * The k-th streaming frame (k = 0, 1, ...) is centred frame t0 + k and covers samples
 * [(t0 + k) * hop - n_fft / 2, (t0 + k) * hop + n_fft / 2); for the baseline (n_fft 1024, hop
 * 512) that is [512 + 512 k, 1536 + 512 k): the first frame is out once 1536 samples are in.
 * framer_finish() emits nothing.
 *
 * In both modes the frames do not depend on how the input is split into pushes.
 */
enum framing { FRAMING_CENTRED = 0, FRAMING_STREAMING = 1 };

struct framer_config {
	uint32_t n_fft;      /* frame length, samples (even, >= 2) */
	uint32_t hop_length; /* samples between frame starts, 1..n_fft */
	enum framing framing;
};

struct framer {
	uint32_t n_fft;
	uint32_t hop_length;
	uint32_t pad; /* n_fft / 2, samples */
	enum framing framing;
	float *buf;          /* holds samples [buf_base, n_seen) of the signal */
	size_t buf_cap;      /* samples buf can hold (2 n_fft) */
	uint64_t buf_base;   /* signal index of buf[0] */
	uint64_t n_seen;     /* samples pushed since init/reset */
	uint64_t next_frame; /* centred index t of the next frame to emit */
	int finished;        /* framer_finish() was called: input has ended */
};

/* Baseline framing: n_fft 1024, hop 512, centred. */
void framer_config_defaults(struct framer_config *cfg);

/*
 * Checks cfg and allocates the framer's buffer (2 n_fft floats). Returns AUSCULT_OK, or
 * AUSCULT_ERR_INVALID / AUSCULT_ERR_NOMEM with a message in err; on failure fr holds nothing to
 * free (framer_free is still safe).
 */
int framer_init(struct framer *fr, const struct framer_config *cfg, struct auscult_err *err);

/*
 * Consumes samples until one frame is complete or the input is used up. When a frame completed,
 * its n_fft samples are written to frame_out and *got_frame is 1, else *got_frame is 0.
 * Returns how many samples were consumed; call again with the rest. Never allocates, never fails.
 */
size_t framer_push(struct framer *fr, const float *samples, size_t n_samples, float *frame_out,
		   int *got_frame);

/*
 * End of input. CENTRED: writes the next frame that needs the end reflection (or, for signals too
 * short to have emitted anything yet, any frame) and returns 1; returns 0 when none is left.
 * Call until it returns 0. STREAMING: returns 0. Further pushes after finish are ignored until
 * framer_reset().
 */
int framer_finish(struct framer *fr, float *frame_out);

/* Forgets all input: the next push starts a new signal. */
void framer_reset(struct framer *fr);

/* Frames of framing a whole signal of n_samples (centred: 1 + n / hop, 0 for n = 0). */
uint64_t framer_frame_count(const struct framer *fr, uint64_t n_samples);

/* Frees the buffer. NULL-safe, and safe on a zeroed or failed-init framer. */
void framer_free(struct framer *fr);

#endif
