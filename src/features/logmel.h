/* logmel.h - one frame to log-mel: periodic Hann window, real FFT power, sparse Slaney mel bank, dB. */
#ifndef AUSCULT_LOGMEL_H
#define AUSCULT_LOGMEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "features/feature_params.h"
#include "features/rfft.h"

/* The floor added before the log (numpy's float64 epsilon, as librosa's baseline used). */
#define LOGMEL_FLOOR 2.220446049250313e-16

struct logmel_config {
	uint32_t sample_rate_hz; /* rate of the frames' samples */
	uint32_t n_fft;          /* frame length = FFT size; even */
	uint32_t n_mels;         /* mel bands */
	float fmin_hz;           /* lower edge of the lowest band, Hz */
	float fmax_hz;           /* upper edge of the highest band, Hz; at most rate / 2 */
};

struct logmel {
	uint32_t n_fft;
	uint32_t n_bins; /* n_fft / 2 + 1 spectrum bins */
	uint32_t n_mels;
	double *window; /* n_fft periodic Hann coefficients; double because a float-rounded
				     window leaks a flat floor that shows 80 dB under the peak */
	double *power;  /* n_bins scratch: |X[k]|^2 of the windowed frame */
	uint32_t *band_first_bin; /* n_mels: first bin with a nonzero weight in each band */
	uint32_t *band_n_bins;    /* n_mels: nonzero bins in each band (0 for an empty band) */
	uint32_t *band_offset;    /* n_mels: index of each band's first weight in weights */
	float *weights;           /* the nonzero filter weights, band after band */
	size_t n_weights;
	struct rfft fft; /* kissfft real FFT (float; see rfft.h for the accuracy) */
};

/* Baseline: 16 kHz, n_fft 1024, 128 mels over 0-8 kHz. */
void logmel_config_defaults(struct logmel_config *cfg);

/* The logmel part of a feature_params. */
void logmel_config_from_params(struct logmel_config *cfg, const struct feature_params *p);

/*
 * Checks cfg, builds the window and the mel filter bank (computed in double as librosa does, then
 * stored as float, only each band's nonzero run) and the FFT plan. Returns AUSCULT_OK, or
 * AUSCULT_ERR_INVALID / AUSCULT_ERR_NOMEM with a message in err; on failure logmel_free is safe.
 */
int logmel_init(struct logmel *lm, const struct logmel_config *cfg, struct auscult_err *err);

/*
 * frame: n_fft samples (not yet windowed); mel_db_out: n_mels values,
 * 10 log10(mel power + LOGMEL_FLOOR). Never allocates, never fails. One thread at a time per
 * struct (it uses the struct's scratch buffers).
 */
void logmel_process(struct logmel *lm, const float *frame, float *mel_db_out);

/* Writes the filter bank as a dense n_mels x n_bins row-major matrix (zeros outside the runs). */
void logmel_filterbank_dense(const struct logmel *lm, float *out);

/*
 * Edge i (0 .. n_mels + 1) of the Slaney mel filter bank over [fmin_hz, fmax_hz], Hz: band b's
 * triangle rises from edge b, peaks at b + 1 and falls to b + 2. The one mel scale of the tree.
 */
double logmel_band_edge_hz(uint32_t i, uint32_t n_mels, double fmin_hz, double fmax_hz);

/* Frees everything init allocated. NULL-safe, safe after a failed init. */
void logmel_free(struct logmel *lm);

/* 10 log10(x) for x > 0 normal floats, within 1e-5 dB of the exact value; what logmel uses. */
float logmel_db(float x);

/* logmel_db of each of x[0..n), in place, four at a time: each value bit-identical to
 * logmel_db's (the rise heads' spectra and the mel bands both use it). */
void logmel_db_array(float *x, uint32_t n);

#endif
