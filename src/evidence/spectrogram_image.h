/* spectrogram_image.h - a PNG picture of a stretch of audio: its log-mel spectrogram, the
 * anomalous span marked, and the window scores drawn under it. */
#ifndef AUSCULT_SPECTROGRAM_IMAGE_H
#define AUSCULT_SPECTROGRAM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "evidence/evidence_record.h"

/* What is drawn over and under the spectrogram. All times are seconds from samples[0]. */
struct spectrogram_marks {
	double span_start_s, span_end_s; /* the anomaly, shaded; span_end_s < span_start_s: none */
	const struct evidence_window *windows; /* the score strip under the image; may be NULL */
	size_t n_windows;
	float threshold; /* drawn as a line across the score strip; <= 0: none */
};

/*
 * Renders n mono samples at rate Hz (time on x, mel frequency on y, low at the bottom, a
 * perceptual colour map) with the marks and writes it to path as PNG (libpng), atomically
 * (path.tmp, rename). The width follows the duration, bounded so that a 2-minute span stays a
 * small file. Returns AUSCULT_OK, or AUSCULT_ERR_INVALID (no samples, bad rate),
 * AUSCULT_ERR_IO or AUSCULT_ERR_NOMEM with err naming the path. Allocates; not for the audio
 * thread.
 */
int spectrogram_png_write(const char *path, const float *samples, size_t n, uint32_t rate,
			  const struct spectrogram_marks *marks, struct auscult_err *err);

#endif
