/* level_meter.h - the level of a stretch of audio: RMS, peak, clipped samples. */
#ifndef AUSCULT_LEVEL_METER_H
#define AUSCULT_LEVEL_METER_H

#include <stddef.h>
#include <stdint.h>

/* A sample at or beyond this magnitude (full scale 1.0) counts as clipped: 16-bit full scale
 * less one step, which is where a converter that clips stops. */
#define LEVEL_CLIP_MAGNITUDE (32767.0f / 32768.0f)

/* Running level of the samples pushed since the last reset. Zero it, or level_meter_reset it. */
struct level_meter {
	double sum_sq;    /* of the samples */
	uint64_t n;       /* samples */
	float peak;       /* largest magnitude */
	uint64_t clipped; /* samples at or beyond LEVEL_CLIP_MAGNITUDE */
};

void level_meter_reset(struct level_meter *lm);

/* Adds n samples (full scale 1.0). Never allocates; cannot fail. */
void level_meter_push(struct level_meter *lm, const float *x, size_t n);

/* RMS level in dBFS (a full-scale sine is -3.01); -INFINITY before any sample or for silence. */
double level_meter_rms_dbfs(const struct level_meter *lm);

/* Peak level in dBFS; -INFINITY for silence. */
double level_meter_peak_dbfs(const struct level_meter *lm);

/* Seconds of audio pushed at rate_hz. */
double level_meter_seconds(const struct level_meter *lm, uint32_t rate_hz);

#endif
