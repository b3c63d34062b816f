/* feature_params.h - the log-mel front end's parameters, in one struct a model carries with it. */
#ifndef AUSCULT_FEATURE_PARAMS_H
#define AUSCULT_FEATURE_PARAMS_H

#include <stdint.h>

#include "common/status.h"

/*
 * The DCASE 2020 Task 2 baseline definition (see ../shared/vectors/README.md):
 * 16 kHz, n_fft 1024, hop 512, periodic Hann, power spectrum, 128 Slaney mel bands 0-8 kHz with
 * Slaney area normalisation, 10*log10(mel + DBL_EPSILON), 5 frames stacked into 640-value vectors.
 */
struct feature_params {
	uint32_t sample_rate_hz; /* rate the front end works at (input is resampled to it) */
	uint32_t n_fft;          /* FFT size = frame length, samples; a power of two */
	uint32_t hop_length;     /* samples between frame starts */
	uint32_t n_mels;         /* mel bands */
	float fmin_hz;           /* lowest mel filter edge, Hz */
	float fmax_hz;           /* highest mel filter edge, Hz; at most sample_rate_hz / 2 */
	uint32_t n_stack;        /* consecutive frames stacked into one model vector */
};

/* Fills p with the baseline definition above. */
void feature_params_defaults(struct feature_params *p);

/* Values per stacked vector: n_stack * n_mels (640 for the baseline). */
static inline uint32_t feature_params_vector_dim(const struct feature_params *p)
{
	return p->n_stack * p->n_mels;
}

/* Model vectors (one per frame hop) in `seconds` of audio, rounded, at least 1: how auscultd
 * turns window_s and hop_s into its window scorer's sizes. */
uint32_t feature_params_vectors_in(const struct feature_params *p, double seconds);

/*
 * Checks that the front end can do these parameters (rate 8-192 kHz, n_fft a power of two
 * 64..16384, 0 < hop <= n_fft, 1..512 mels, 0 <= fmin < fmax <= rate/2, 1..32 stacked frames).
 * Returns AUSCULT_OK or AUSCULT_ERR_UNSUPPORTED with a message naming the parameter.
 */
int feature_params_validate(const struct feature_params *p, struct auscult_err *err);

#endif
