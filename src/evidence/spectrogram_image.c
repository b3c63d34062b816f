/* spectrogram_image.c - the evidence PNG: log-mel spectrogram by the project's own front end, a
 * viridis-like colour map, the anomaly marked and the score strip under it. */
#include "evidence/spectrogram_image.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"
#include "features/feature_extractor.h"

#define SPECTROGRAM_RANGE_DB 80.0f /* shown below the loudest column value; quieter is black-ish */
#define SPECTROGRAM_CHUNK 4096     /* samples pushed into the front end at a time */

/*
 * Nine anchors of matplotlib's viridis (at 0, 1/8, ..., 1), interpolated linearly: dark blue
 * for quiet, yellow for loud, lightness rising all the way, readable by colour-blind people and
 * in greyscale.
 */
static const uint8_t colour_anchors[][3] = {
	{ 68, 1, 84 },    { 71, 45, 123 }, { 59, 82, 139 },  { 44, 114, 142 }, { 33, 145, 140 },
	{ 40, 174, 128 }, { 94, 201, 98 }, { 173, 220, 48 }, { 253, 231, 37 },
};
#define N_ANCHORS (sizeof(colour_anchors) / sizeof(colour_anchors[0]))

/*
 * The image has a palette, one byte a pixel instead of three: the map's levels first, then the
 * fixed colours of the marks. N_LEVELS levels over SPECTROGRAM_RANGE_DB are 0.32 dB apart,
 * finer than the eye tells on the map, and the file is half its RGB size (21 s: 102 kB, not 211).
 */
enum mark_colour { MARK, BAR_BG, STRIP_BG, STRIP_SPAN, SCORE_LOW, SCORE_HIGH, THRESHOLD, N_MARKS };
static const uint8_t mark_rgb[N_MARKS][3] = {
	[MARK] = { 230, 40, 40 },      /* the anomaly */
	[BAR_BG] = { 32, 32, 32 },     /* mark bar and gap background */
	[STRIP_BG] = { 24, 24, 36 },   /* score strip */
	[STRIP_SPAN] = { 60, 30, 36 }, /* score strip inside the anomaly */
	[SCORE_LOW] = { 110, 170, 210 }, [SCORE_HIGH] = { 240, 90, 60 },
	[THRESHOLD] = { 255, 255, 255 },
};
#define N_LEVELS (256 - N_MARKS) /* palette entries 0 .. N_LEVELS - 1: the map, dark to light */
#define MARK_INDEX(c) ((uint8_t)(N_LEVELS + (c)))

/* v in [0, 1] to a colour of the map. */
static void colour_of(float v, uint8_t *rgb)
{
	float pos = v * (float)(N_ANCHORS - 1);
	size_t i = (size_t)pos;
	if (i >= N_ANCHORS - 1)
		i = N_ANCHORS - 2;
	float f = pos - (float)i;
	for (int c = 0; c < 3; c++)
		rgb[c] = (uint8_t)lrintf((float)colour_anchors[i][c] * (1.0f - f) +
					 (float)colour_anchors[i + 1][c] * f);
}

/* v in [0, 1] (anything else, NaN too, is clamped) to the nearest level of the map. */
static uint8_t level_of(float v)
{
	if (!(v > 0.0f))
		v = 0.0f;
	if (v > 1.0f)
		v = 1.0f;
	return (uint8_t)lrintf(v * (float)(N_LEVELS - 1));
}

static void palette_fill(uint8_t rgb[256 * 3])
{
	for (unsigned i = 0; i < N_LEVELS; i++)
		colour_of((float)i / (float)(N_LEVELS - 1), rgb + 3 * i);
	memcpy(rgb + 3 * N_LEVELS, mark_rgb, sizeof(mark_rgb));
}

uint32_t spectrogram_width(size_t n, uint32_t rate)
{
	double w = rate ? (double)n / rate * SPECTROGRAM_PX_PER_S : 0.0;
	if (!(w >= SPECTROGRAM_MIN_WIDTH))
		return SPECTROGRAM_MIN_WIDTH;
	if (w > SPECTROGRAM_MAX_WIDTH)
		return SPECTROGRAM_MAX_WIDTH;
	return (uint32_t)lround(w);
}

uint32_t spectrogram_column(double t_s, double duration_s, uint32_t width)
{
	double x = duration_s > 0.0 ? floor(t_s / duration_s * width) : 0.0;
	if (!(x >= 0.0))
		return 0;
	return x >= width ? width - 1 : (uint32_t)x;
}

static void put(uint8_t *img, uint32_t width, uint32_t x, uint32_t y, uint8_t index)
{
	img[(size_t)y * width + x] = index;
}

/* The front end at this rate: about 64 ms frames (a power of two), a quarter-frame hop. */
static void front_end_params(struct feature_params *p, uint32_t rate)
{
	feature_params_defaults(p);
	p->sample_rate_hz = rate;
	p->n_fft = 64;
	while ((double)p->n_fft * 2.0 <= rate * 0.064 + 0.5)
		p->n_fft *= 2;
	p->hop_length = p->n_fft / 4;
	p->n_mels = SPECTROGRAM_MELS;
	p->fmin_hz = 0.0f;
	p->fmax_hz = (float)rate / 2.0f;
	p->n_stack = 1;
}

/*
 * Mean dB per column and mel band into col_db (width x SPECTROGRAM_MELS): every frame counts
 * towards the column its centre falls in; a column no frame centre falls in (short clips, wide
 * images) takes its left neighbour's values.
 */
static int column_spectra(const float *samples, size_t n, uint32_t rate, uint32_t width,
			  float *col_db, const char *path, struct auscult_err *err)
{
	struct feature_params p;
	front_end_params(&p, rate);
	struct feature_extractor fx;
	struct auscult_err inner;
	float *frames = NULL;
	uint32_t *count = NULL;
	int rc = feature_extractor_init(&fx, &p, FRAMING_CENTRED, &inner);
	if (rc != AUSCULT_OK) {
		rc = auscult_fail(err, AUSCULT_ERR_INVALID, "%s: %s", path, inner.msg);
		goto out;
	}
	size_t max_frames = feature_extractor_max_frames(&fx, SPECTROGRAM_CHUNK);
	frames = malloc(max_frames * SPECTROGRAM_MELS * sizeof(*frames));
	count = calloc(width, sizeof(*count));
	if (!frames || !count) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	memset(col_db, 0, (size_t)width * SPECTROGRAM_MELS * sizeof(*col_db));
	double duration_s = (double)n / rate;
	uint64_t t = 0; /* centred frame index: frame t is centred on sample t * hop */
	for (size_t at = 0;;) {
		size_t got;
		if (at < n) {
			size_t len = n - at < SPECTROGRAM_CHUNK ? n - at : SPECTROGRAM_CHUNK;
			got = feature_extractor_push(&fx, samples + at, len, frames);
			at += len;
		} else if ((got = feature_extractor_finish(&fx, frames)) == 0) {
			break;
		}
		for (size_t k = 0; k < got; k++, t++) {
			double centre_s = (double)(t * p.hop_length) / rate;
			uint32_t x = spectrogram_column(centre_s, duration_s, width);
			float *col = col_db + (size_t)x * SPECTROGRAM_MELS;
			for (uint32_t m = 0; m < SPECTROGRAM_MELS; m++)
				col[m] += frames[k * SPECTROGRAM_MELS + m];
			count[x]++;
		}
	}
	uint32_t first = 0;
	while (first < width && count[first] == 0)
		first++;
	for (uint32_t x = 0; x < width; x++) {
		float *col = col_db + (size_t)x * SPECTROGRAM_MELS;
		uint32_t from = x < first ? first
					  : x - 1; /* `first` < width: n >= 1 gives a frame */
		if (count[x] == 0) {
			memcpy(col, col_db + (size_t)from * SPECTROGRAM_MELS,
			       SPECTROGRAM_MELS * sizeof(*col));
			continue;
		}
		for (uint32_t m = 0; m < SPECTROGRAM_MELS; m++)
			col[m] /= (float)count[x];
	}
	/* Columns before `first` copied from it before it was averaged: redo them now. */
	for (uint32_t x = 0; x < first; x++)
		memcpy(col_db + (size_t)x * SPECTROGRAM_MELS,
		       col_db + (size_t)first * SPECTROGRAM_MELS,
		       SPECTROGRAM_MELS * sizeof(*col_db));
out:
	free(frames);
	free(count);
	feature_extractor_free(&fx);
	return rc;
}

static void draw_spectrogram(uint8_t *img, uint32_t width, const float *col_db)
{
	float top = -INFINITY;
	for (size_t i = 0; i < (size_t)width * SPECTROGRAM_MELS; i++)
		if (col_db[i] > top)
			top = col_db[i];
	for (uint32_t x = 0; x < width; x++)
		for (uint32_t m = 0; m < SPECTROGRAM_MELS; m++) {
			float v = (col_db[(size_t)x * SPECTROGRAM_MELS + m] - top) /
					  SPECTROGRAM_RANGE_DB +
				  1.0f;
			put(img, width, x, SPECTROGRAM_SPEC_Y + SPECTROGRAM_MELS - 1 - m,
			    level_of(v));
		}
}

/* The smoothed score shown at time t: of the first window that ends at or after t; -1: none. */
static float score_at(const struct spectrogram_marks *mk, double t, size_t *cursor)
{
	while (*cursor < mk->n_windows && mk->windows[*cursor].t_s < t)
		(*cursor)++;
	return *cursor < mk->n_windows ? mk->windows[*cursor].smoothed : -1.0f;
}

static void draw_marks(uint8_t *img, uint32_t width, double duration_s,
		       const struct spectrogram_marks *mk)
{
	int has_span = mk && mk->span_end_s >= mk->span_start_s;
	uint32_t x0 = has_span ? spectrogram_column(mk->span_start_s, duration_s, width) : 0;
	uint32_t x1 = has_span ? spectrogram_column(mk->span_end_s, duration_s, width) : 0;
	float top = mk && mk->threshold > 0.0f ? mk->threshold * 1.25f : 0.0f;
	for (size_t i = 0; mk && mk->windows && i < mk->n_windows; i++)
		if (mk->windows[i].smoothed * 1.1f > top)
			top = mk->windows[i].smoothed * 1.1f;
	if (!(top > 0.0f) || !isfinite(top))
		top = 1.0f;
	size_t cursor = 0;
	for (uint32_t x = 0; x < width; x++) {
		int in_span = has_span && x >= x0 && x <= x1;
		for (uint32_t y = 0; y < SPECTROGRAM_MARK_H; y++)
			put(img, width, x, y, MARK_INDEX(in_span ? MARK : BAR_BG));
		if (in_span && (x == x0 || x == x1))
			for (uint32_t y = 0; y < SPECTROGRAM_MELS; y++)
				put(img, width, x, SPECTROGRAM_SPEC_Y + y, MARK_INDEX(MARK));
		for (uint32_t y = 0; y < SPECTROGRAM_GAP_H; y++)
			put(img, width, x, SPECTROGRAM_SPEC_Y + SPECTROGRAM_MELS + y,
			    MARK_INDEX(BAR_BG));
		float s = -1.0f;
		if (mk && mk->windows && mk->n_windows)
			s = score_at(mk, ((double)x + 0.5) * duration_s / width, &cursor);
		float frac = s > 0.0f ? s / top : 0.0f;
		uint32_t bar = (uint32_t)lrintf((frac > 1.0f ? 1.0f : frac) * SPECTROGRAM_SCORE_H);
		uint8_t bar_colour = MARK_INDEX(
			mk && mk->threshold > 0.0f && s > mk->threshold ? SCORE_HIGH : SCORE_LOW);
		for (uint32_t y = 0; y < SPECTROGRAM_SCORE_H; y++) {
			int filled = SPECTROGRAM_SCORE_H - y <= bar;
			uint8_t bg = MARK_INDEX(in_span ? STRIP_SPAN : STRIP_BG);
			put(img, width, x, SPECTROGRAM_SCORE_Y + y, filled ? bar_colour : bg);
		}
		if (mk && mk->threshold > 0.0f) {
			float tf = mk->threshold / top;
			uint32_t ty = (uint32_t)lrintf((1.0f - tf) * (SPECTROGRAM_SCORE_H - 1));
			put(img, width, x, SPECTROGRAM_SCORE_Y + ty, MARK_INDEX(THRESHOLD));
		}
	}
}

int spectrogram_png_write(const char *path, const float *samples, size_t n, uint32_t rate,
			  const struct spectrogram_marks *marks, struct auscult_err *err)
{
	if (!samples || n == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "%s: no samples to draw", path);
	if (rate < 8000 || rate > 192000)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: sample rate %u Hz is out of range [8000, 192000]", path,
				    (unsigned)rate);
	uint32_t width = spectrogram_width(n, rate);
	double duration_s = (double)n / rate;
	float *col_db = malloc((size_t)width * SPECTROGRAM_MELS * sizeof(*col_db));
	uint8_t *img = malloc((size_t)width * SPECTROGRAM_HEIGHT);
	int rc = AUSCULT_OK;
	if (!col_db || !img) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	if ((rc = column_spectra(samples, n, rate, width, col_db, path, err)) != AUSCULT_OK)
		goto out;
	draw_spectrogram(img, width, col_db);
	draw_marks(img, width, duration_s, marks);

	struct atomic_file af;
	if ((rc = atomic_file_open(&af, path, "the spectrogram image", err)) != AUSCULT_OK)
		goto out;
	png_image image;
	memset(&image, 0, sizeof(image));
	image.version = PNG_IMAGE_VERSION;
	image.width = width;
	image.height = SPECTROGRAM_HEIGHT;
	image.format = PNG_FORMAT_RGB_COLORMAP;
	image.colormap_entries = 256;
	uint8_t palette[256 * 3];
	palette_fill(palette);
	if (!png_image_write_to_stdio(&image, af.fp, 0, img, 0, palette)) {
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot write the PNG (libpng: %s)",
				  path, image.message);
		png_image_free(&image);
		atomic_file_abort(&af);
		goto out;
	}
	rc = atomic_file_commit(&af, err);
out:
	free(col_db);
	free(img);
	return rc;
}
