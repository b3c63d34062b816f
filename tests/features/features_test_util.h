/* features_test_util.h - shared helpers of the feature tests: read reference WAVs and .f32 vectors, the front end's power ring. */
#ifndef AUSCULT_FEATURES_TEST_UTIL_H
#define AUSCULT_FEATURES_TEST_UTIL_H

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "features/feature_extractor.h"

/* Reads a mono WAV with libsndfile (int16 / 32768, the reference's scaling); NULL on failure. */
static inline float *util_read_wav(const char *path, size_t *n_samples)
{
	SF_INFO info;
	*n_samples = 0;
	memset(&info, 0, sizeof(info));
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		return NULL;
	if (info.channels != 1 || info.frames < 0) {
		sf_close(sf);
		return NULL;
	}
	float *y = malloc(((size_t)info.frames + 1) * sizeof(*y));
	if (!y) {
		sf_close(sf);
		return NULL;
	}
	*n_samples = (size_t)sf_readf_float(sf, y, info.frames);
	sf_close(sf);
	return y;
}

/* Reads a whole little-endian float32 file; NULL on failure. */
static inline float *util_read_f32(const char *path, size_t *n_values)
{
	struct stat st;
	*n_values = 0;
	if (stat(path, &st) != 0)
		return NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t n = (size_t)st.st_size / sizeof(float);
	float *v = malloc((n + 1) * sizeof(*v));
	if (v && fread(v, sizeof(float), n, f) != n) {
		free(v);
		v = NULL;
	}
	fclose(f);
	*n_values = n;
	return v;
}

/*
 * The parity rule of ../shared/vectors/README.md: within tol_db where the reference is above
 * -60 dB, below -50 dB where it is not. Returns the number of violations and the largest
 * difference seen where the reference is above -60 dB.
 */
static inline size_t util_parity(const float *got, const float *ref, size_t n, double tol_db,
				 double *max_diff_db, size_t *first_bad)
{
	size_t bad = 0;
	*max_diff_db = 0.0;
	for (size_t i = 0; i < n; i++) {
		int ok;
		if (ref[i] > -60.0f) {
			double d = fabs((double)got[i] - (double)ref[i]);
			if (d > *max_diff_db)
				*max_diff_db = d;
			ok = d <= tol_db;
		} else {
			ok = got[i] < -50.0f;
		}
		if (!ok && bad++ == 0)
			*first_bad = i;
	}
	return bad;
}

/* Deterministic white-ish noise in [-amp, amp) (xorshift), so failures reproduce. */
static inline void util_noise(float *y, size_t n, float amp, unsigned seed)
{
	unsigned s = seed ? seed : 1u;
	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		y[i] = amp * ((float)(s & 0xffffff) / 8388608.0f - 1.0f);
	}
}

/*
 * x (n samples at 16 kHz) through a streaming front end of 1024-point frames every 1024 samples
 * that keeps the power of bins 1..bins of its last frames frames (feature_extractor_keep_power,
 * what the rise heads read): fx is set up for the caller to free; the ring, *count its frames.
 * NULL on failure.
 */
static inline const float *util_front_end_power(struct feature_extractor *fx, const float *x,
						size_t n, uint32_t bins, uint32_t frames,
						uint64_t *count)
{
	struct feature_params p;
	struct auscult_err err = { { 0 } };
	feature_params_defaults(&p);
	p.hop_length = 1024;
	if (feature_extractor_init(fx, &p, FRAMING_STREAMING, &err) != AUSCULT_OK ||
	    feature_extractor_keep_power(fx, bins, frames, &err) != AUSCULT_OK)
		return NULL;
	float *mel = malloc(feature_extractor_max_frames(fx, n) * p.n_mels * sizeof(float));
	if (!mel)
		return NULL;
	feature_extractor_push(fx, x, n, mel);
	free(mel);
	return feature_extractor_power(fx, count);
}

#endif
