/* impulse_envelope.h - the level of a signal's high frequencies over short contiguous blocks: every impact leaves its mark, however brief. */
#ifndef AUSCULT_IMPULSE_ENVELOPE_H
#define AUSCULT_IMPULSE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * A bearing's impacts ring a resonance for a millisecond or two, and the window head's short
 * frames (4 ms every 16) miss three impacts of four; their rate, up to the rotation rate and its
 * multiples, is above those frames' 31-Hz Nyquist rate as well. This stage sees every sample:
 * the energy of the signal's second difference (a high-pass of 12 dB per octave, so the pump's
 * loud low frequencies weigh little and an impact's ring much) over contiguous blocks of
 * `block` samples, as dB, into a ring of the last `cap` blocks. Its envelope spectrum
 * (features/envelope_spectrum.h, one band) shows periodic impacts as lines at their rate and
 * its multiples.
 * Pure stage: init allocates, push and reset do not; O(1) work per sample, any push size.
 */
struct impulse_envelope {
	uint32_t block; /* samples per block, >= 2 */
	uint32_t cap;   /* blocks the ring keeps, >= 1 */
	float *ring;    /* cap blocks' dB, block k at k % cap */
	uint64_t count; /* blocks completed since the last reset */
	uint32_t fill;  /* samples in the block being summed */
	double energy;  /* its second differences' energy so far */
	float prev[2];  /* the last two samples pushed, newest first (0 after a reset) */
};

/* Checks the sizes and allocates. AUSCULT_OK, AUSCULT_ERR_INVALID naming the field, or
 * AUSCULT_ERR_NOMEM; impulse_envelope_free is safe after a failure. */
int impulse_envelope_init(struct impulse_envelope *ie, uint32_t block, uint32_t cap,
			  struct auscult_err *err);

/* Pushes samples. Never allocates, never fails. */
void impulse_envelope_push(struct impulse_envelope *ie, const float *x, size_t n);

/* The ring (cap rows of one float, block k at row k % cap) and the blocks completed since the
 * last reset (*count). */
const float *impulse_envelope_ring(const struct impulse_envelope *ie, uint64_t *count);

/* Starts a new signal: forgets the partial block, the ring and the last samples. */
void impulse_envelope_reset(struct impulse_envelope *ie);

/* Frees everything. NULL-safe, safe after a failed init. */
void impulse_envelope_free(struct impulse_envelope *ie);

/* FLOPs per input sample (for cost tables). */
double impulse_envelope_flops_per_sample(void);

#endif
