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
 * The picture, top to bottom: a mark bar (red over the anomalous span), the spectrogram
 * (SPECTROGRAM_MELS Slaney mel bands from 0 Hz to rate / 2, one pixel row each, the highest band
 * on top), a gap, and the score strip (the smoothed window scores as bars, red above the
 * threshold, and the threshold as a white line). Column x shows the time
 * [x, x + 1) * duration / width; the width is SPECTROGRAM_PX_PER_S pixels a second, bounded to
 * [SPECTROGRAM_MIN_WIDTH, SPECTROGRAM_MAX_WIDTH].
 */
#define SPECTROGRAM_MELS 128
#define SPECTROGRAM_PX_PER_S 50.0
#define SPECTROGRAM_MIN_WIDTH 200u
#define SPECTROGRAM_MAX_WIDTH 1200u
#define SPECTROGRAM_MARK_H 6u
#define SPECTROGRAM_GAP_H 2u
#define SPECTROGRAM_SCORE_H 40u
#define SPECTROGRAM_SPEC_Y SPECTROGRAM_MARK_H
#define SPECTROGRAM_SCORE_Y (SPECTROGRAM_SPEC_Y + SPECTROGRAM_MELS + SPECTROGRAM_GAP_H)
#define SPECTROGRAM_HEIGHT (SPECTROGRAM_SCORE_Y + SPECTROGRAM_SCORE_H)

/* The image width for n samples at rate Hz (rate > 0). */
uint32_t spectrogram_width(size_t n, uint32_t rate);

/* The column that shows time t_s (seconds from samples[0]) in an image of that width. */
uint32_t spectrogram_column(double t_s, double duration_s, uint32_t width);

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
