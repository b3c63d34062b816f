/* level_meter.c - RMS, peak and clipping of a stretch of audio. */
#include "learn/level_meter.h"

#include <math.h>
#include <string.h>

void level_meter_reset(struct level_meter *lm)
{
	memset(lm, 0, sizeof(*lm));
}

void level_meter_push(struct level_meter *lm, const float *x, size_t n)
{
	double sum = 0.0;
	float peak = lm->peak;
	uint64_t clipped = 0;
	for (size_t i = 0; i < n; i++) {
		float a = fabsf(x[i]);
		sum += (double)x[i] * x[i];
		if (a > peak)
			peak = a;
		clipped += a >= LEVEL_CLIP_MAGNITUDE;
	}
	lm->sum_sq += sum;
	lm->n += n;
	lm->peak = peak;
	lm->clipped += clipped;
}

double level_meter_rms_dbfs(const struct level_meter *lm)
{
	if (lm->n == 0 || lm->sum_sq <= 0.0)
		return -INFINITY;
	return 10.0 * log10(lm->sum_sq / (double)lm->n);
}

double level_meter_peak_dbfs(const struct level_meter *lm)
{
	return lm->peak > 0.0f ? 20.0 * log10((double)lm->peak) : -INFINITY;
}

double level_meter_seconds(const struct level_meter *lm, uint32_t rate_hz)
{
	return rate_hz ? (double)lm->n / (double)rate_hz : 0.0;
}
