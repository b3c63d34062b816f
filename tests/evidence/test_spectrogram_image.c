/* test_spectrogram_image.c - the evidence PNG, decoded back with libpng: its size, a tone in the
 * right rows, the anomaly mark and the score strip where they belong, and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/spectrogram_image.h"
#include "features/logmel.h"

#define RATE 16000u

struct decoded {
	uint32_t width, height;
	uint8_t *rgb;
};

static void decode(const char *path, struct decoded *d)
{
	png_image image;
	memset(&image, 0, sizeof(image));
	image.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_file(&image, path));
	image.format = PNG_FORMAT_RGB;
	d->width = image.width;
	d->height = image.height;
	d->rgb = malloc(PNG_IMAGE_SIZE(image));
	assert_non_null(d->rgb);
	assert_true(png_image_finish_read(&image, NULL, d->rgb, 0, NULL));
}

static const uint8_t *pixel(const struct decoded *d, uint32_t x, uint32_t y)
{
	assert_true(x < d->width && y < d->height);
	return d->rgb + ((size_t)y * d->width + x) * 3;
}

static int is_mark_red(const uint8_t *p)
{
	return p[0] > 200 && p[1] < 80 && p[2] < 80;
}

/* Deterministic noise in [-1, 1). */
static float noise(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float)(*s >> 8) / 8388608.0f - 1.0f;
}

static char tmp_dir[64];

static int make_dir(void **state)
{
	(void)state;
	strcpy(tmp_dir, "/tmp/auscult_spectrogram_XXXXXX");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void tone_span_and_scores(void **state)
{
	(void)state;
	const double duration_s = 4.0, tone_hz = 1000.0;
	size_t n = (size_t)(duration_s * RATE);
	float *x = malloc(n * sizeof(*x));
	assert_non_null(x);
	uint32_t seed = 1;
	for (size_t i = 0; i < n; i++)
		x[i] = 0.5f * (float)sin(2.0 * M_PI * tone_hz * (double)i / RATE) +
		       0.001f * noise(&seed);
	struct evidence_window w[8];
	for (int i = 0; i < 8; i++) /* above the threshold (1) from 1.0 s to 2.0 s */
		w[i] = (struct evidence_window){ 0.5 * (i + 1), 0.0f,
						 i >= 1 && i <= 3 ? 2.0f : 0.5f, 1 };
	struct spectrogram_marks mk = { 1.0, 2.0, w, 8, 1.0f };
	char path[128];
	snprintf(path, sizeof(path), "%s/tone.png", tmp_dir);
	struct auscult_err err = { "" };
	assert_int_equal(spectrogram_png_write(path, x, n, RATE, &mk, &err), AUSCULT_OK);
	free(x);

	struct decoded d;
	decode(path, &d);
	assert_int_equal(d.width, spectrogram_width(n, RATE));
	assert_int_equal(d.width, 200); /* 4 s at 50 px/s */
	assert_int_equal(d.height, SPECTROGRAM_HEIGHT);

	/* The tone's band: the one whose triangle peaks nearest 1 kHz. */
	uint32_t band = 0;
	for (uint32_t b = 1; b < SPECTROGRAM_MELS; b++)
		if (fabs(logmel_band_edge_hz(b + 1, SPECTROGRAM_MELS, 0.0, RATE / 2.0) - tone_hz) <
		    fabs(logmel_band_edge_hz(band + 1, SPECTROGRAM_MELS, 0.0, RATE / 2.0) -
			 tone_hz))
			band = b;
	uint32_t want_row = SPECTROGRAM_SPEC_Y + SPECTROGRAM_MELS - 1 - band;
	/* Viridis grows lighter with level: the brightest row of a column is the loudest band. */
	const uint32_t columns[] = { 10, 75, 150, 190 };
	for (size_t c = 0; c < 4; c++) {
		uint32_t best = 0, best_row = 0;
		for (uint32_t y = SPECTROGRAM_SPEC_Y; y < SPECTROGRAM_SPEC_Y + SPECTROGRAM_MELS;
		     y++) {
			const uint8_t *p = pixel(&d, columns[c], y);
			uint32_t light = 2u * p[0] + 7u * p[1] + p[2];
			if (light > best)
				best = light, best_row = y;
		}
		print_message("column %u: brightest row %u, tone's band row %u\n", columns[c],
			      best_row, want_row);
		assert_true(best_row + 1 >= want_row && best_row <= want_row + 1);
		/* Far from the tone the picture is dark (the bottom of the map). */
		const uint8_t *far = pixel(&d, columns[c], SPECTROGRAM_SPEC_Y + 2);
		assert_true(far[1] < 100);
	}

	/* The mark bar is red over 1.0-2.0 s (columns 50-100) and only there. */
	uint32_t x0 = spectrogram_column(1.0, duration_s, d.width);
	uint32_t x1 = spectrogram_column(2.0, duration_s, d.width);
	assert_int_equal(x0, 50);
	assert_int_equal(x1, 100);
	for (uint32_t xx = 0; xx < d.width; xx++)
		assert_int_equal(is_mark_red(pixel(&d, xx, SPECTROGRAM_MARK_H / 2)),
				 xx >= x0 && xx <= x1);

	/* Score strip: bars above the threshold are red-orange, the others blue; the white
	 * threshold line crosses the whole strip. */
	uint32_t bottom = SPECTROGRAM_SCORE_Y + SPECTROGRAM_SCORE_H - 1;
	const uint8_t *hi = pixel(&d, 75, bottom), *lo = pixel(&d, 150, bottom);
	assert_true(hi[0] > 200 && hi[2] < 100);
	assert_true(lo[2] > 150 && lo[0] < 150);
	for (uint32_t xx = 0; xx < d.width; xx += 17) {
		int white = 0;
		for (uint32_t y = SPECTROGRAM_SCORE_Y; y <= bottom; y++) {
			const uint8_t *p = pixel(&d, xx, y);
			white += p[0] == 255 && p[1] == 255 && p[2] == 255;
		}
		assert_int_equal(white, 1);
	}
	free(d.rgb);

	/* No marks at all: no red in the mark bar. */
	x = calloc(RATE, sizeof(*x));
	assert_non_null(x);
	assert_int_equal(spectrogram_png_write(path, x, RATE, RATE, NULL, &err), AUSCULT_OK);
	free(x);
	decode(path, &d);
	for (uint32_t xx = 0; xx < d.width; xx++)
		assert_false(is_mark_red(pixel(&d, xx, 1)));
	free(d.rgb);
}

static void width_is_bounded(void **state)
{
	(void)state;
	assert_int_equal(spectrogram_width(RATE / 10, RATE), SPECTROGRAM_MIN_WIDTH);
	assert_int_equal(spectrogram_width(RATE * 10, RATE), 500);
	assert_int_equal(spectrogram_width((size_t)RATE * 3600, RATE), SPECTROGRAM_MAX_WIDTH);

	/* A 2-minute span of noise (the worst case to compress) stays a small file. */
	size_t n = (size_t)RATE * 120;
	float *x = malloc(n * sizeof(*x));
	assert_non_null(x);
	uint32_t seed = 7;
	for (size_t i = 0; i < n; i++)
		x[i] = 0.3f * noise(&seed);
	char path[128];
	snprintf(path, sizeof(path), "%s/long.png", tmp_dir);
	struct auscult_err err = { "" };
	assert_int_equal(spectrogram_png_write(path, x, n, RATE, NULL, &err), AUSCULT_OK);
	free(x);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	print_message("2 min of noise: %lld bytes\n", (long long)st.st_size);
	assert_true(st.st_size < 800 * 1024);
	struct decoded d;
	decode(path, &d);
	assert_int_equal(d.width, SPECTROGRAM_MAX_WIDTH);
	free(d.rgb);
}

static void errors(void **state)
{
	(void)state;
	float x[RATE];
	memset(x, 0, sizeof(x));
	char path[160];
	snprintf(path, sizeof(path), "%s/bad.png", tmp_dir);
	struct auscult_err err = { "" };
	assert_int_equal(spectrogram_png_write(path, x, RATE, 4000, NULL, &err),
			 AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "4000 Hz"));
	assert_non_null(strstr(err.msg, "bad.png"));
	assert_int_equal(spectrogram_png_write(path, x, RATE, 0, NULL, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(spectrogram_png_write(path, x, 0, RATE, NULL, &err), AUSCULT_ERR_INVALID);
	assert_int_equal(spectrogram_png_write(path, NULL, 10, RATE, NULL, &err),
			 AUSCULT_ERR_INVALID);
	assert_int_equal(access(path, F_OK), -1);

	/* Unwritable: no such folder, and a folder without write permission (unless root). */
	snprintf(path, sizeof(path), "%s/missing/bad.png", tmp_dir);
	assert_int_equal(spectrogram_png_write(path, x, RATE, RATE, NULL, &err), AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, path));
	char ro[128];
	snprintf(ro, sizeof(ro), "%s/ro", tmp_dir);
	assert_int_equal(mkdir(ro, 0500), 0);
	snprintf(path, sizeof(path), "%s/bad.png", ro);
	if (geteuid() != 0) {
		assert_int_equal(spectrogram_png_write(path, x, RATE, RATE, NULL, &err),
				 AUSCULT_ERR_IO);
		assert_non_null(strstr(err.msg, "writable"));
	}
	chmod(ro, 0700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tone_span_and_scores),
		cmocka_unit_test(width_is_bounded),
		cmocka_unit_test(errors),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
