/* make_evidence.c - writes one anomaly's evidence as auscultd keeps it (FLAC, PNG, record) from a
 * recording, for the report tests: the shipped record and image writers, synthetic scores.
 *
 *   make_evidence DIR MONITOR AUDIO START_UNIX_MS SPAN_START_S SPAN_END_S
 *
 * The recording (converted to 16 kHz mono) becomes DIR/MONITOR/<UTC time>-<event id>.flac; the
 * anomaly spans SPAN_START_S..SPAN_END_S of it, and the window scores (every 0.5 s) are 2 inside
 * it and 0.5 outside, against a threshold of 1. Prints the record's path. Not a cmocka test. */
#include <errno.h>
#include <sndfile.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio/audio_source.h"
#include "evidence/evidence_record.h"
#include "evidence/spectrogram_image.h"
#include "learn/clip_writer.h"
#include "publish/payloads.h"

#define RATE 16000u

static int read_all(const char *path, float **x, size_t *n)
{
	struct audio_source_config sc;
	audio_source_config_defaults(&sc);
	sc.path = path;
	sc.output_rate_hz = RATE;
	struct audio_source *src;
	struct auscult_err err;
	if (audio_source_open(&src, &sc, &err) != AUSCULT_OK) {
		fprintf(stderr, "make_evidence: %s\n", err.msg);
		return -1;
	}
	size_t cap = RATE * 70;
	*x = malloc(cap * sizeof(**x));
	*n = 0;
	size_t got = 0;
	int rc = AUSCULT_OK;
	while (*x && *n < cap &&
	       (rc = audio_source_read(src, *x + *n, cap - *n, &got, 1000, &err)) == AUSCULT_OK)
		*n += got;
	audio_source_close(src);
	return *x && *n > 0 && rc == AUSCULT_ERR_EOF ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: make_evidence DIR MONITOR AUDIO START_UNIX_MS SPAN_START_S "
				"SPAN_END_S\n");
		return 2;
	}
	const char *dir = argv[1], *monitor = argv[2];
	int64_t audio_start_ms = strtoll(argv[4], NULL, 10);
	double span0 = atof(argv[5]), span1 = atof(argv[6]);
	float *x = NULL;
	size_t n = 0;
	if (read_all(argv[3], &x, &n) != 0) {
		fprintf(stderr, "make_evidence: %s: cannot read it whole (at most 70 s)\n",
			argv[3]);
		return 1;
	}
	struct evidence_record r;
	memset(&r, 0, sizeof(r));
	snprintf(r.monitor, sizeof(r.monitor), "%s", monitor);
	r.audio_start_ms = audio_start_ms;
	r.start_ms = audio_start_ms + (int64_t)(span0 * 1000.0);
	r.end_ms = audio_start_ms + (int64_t)(span1 * 1000.0);
	payload_event_id(r.event_id, sizeof(r.event_id), monitor, r.start_ms);
	char when[32], base[128], path[1024];
	clip_time_name(when, sizeof(when), r.start_ms);
	snprintf(base, sizeof(base), "%.20s-%.100s", when, r.event_id);
	snprintf(r.audio_file, sizeof(r.audio_file), "%s.flac", base);
	snprintf(r.image_file, sizeof(r.image_file), "%s.png", base);
	r.sample_rate = RATE;
	r.n_samples = n;
	r.peak = 2.0f;
	r.mean = 2.0f;
	r.threshold = 1.0f;
	r.n_bands = 2;
	r.bands[0] = (struct detector_band){ 40, 935.0f, 982.0f, 0.4f };
	r.bands[1] = (struct detector_band){ 89, 3049.0f, 3200.0f, 0.2f };
	r.parts.v[DETECTOR_PART_NETWORK] = 0.5f;
	r.parts.v[DETECTOR_PART_WINDOW_HEAD] = 0.25f;
	r.parts.v[DETECTOR_PART_RISE] = 1.25f;
	r.parts_seen = 7u;
	r.parts.rise[DETECTOR_RISE_ENVELOPE] = 0.0f;
	r.parts.rise[DETECTOR_RISE_TONES] = 1.0f;
	r.parts.rise[DETECTOR_RISE_IMPULSES] = 0.25f;
	r.rise_seen = 7u;
	r.parts.at[DETECTOR_RISE_ENVELOPE] = (struct detector_rise_at){ NAN, NAN, NAN };
	r.parts.at[DETECTOR_RISE_TONES] = (struct detector_rise_at){ 3140.625f, NAN, NAN };
	r.parts.at[DETECTOR_RISE_IMPULSES] = (struct detector_rise_at){ 6.8359375f, NAN, NAN };
	r.n_windows = (size_t)((double)n / RATE / 0.5);
	r.windows = calloc(r.n_windows + 1, sizeof(*r.windows));
	for (size_t i = 0; r.windows && i < r.n_windows; i++) {
		double t = 0.5 * (double)(i + 1);
		float s = t >= span0 && t <= span1 ? 2.0f : 0.5f;
		r.windows[i] = (struct evidence_window){ t, s, s, s > 1.0f ? 2 : 1 };
	}

	snprintf(path, sizeof(path), "%s/%s", dir, monitor);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "make_evidence: %s: %s\n", path, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", dir, monitor, r.audio_file);
	SF_INFO info = { .samplerate = RATE,
			 .channels = 1,
			 .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16 };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	if (!sf || sf_writef_float(sf, x, (sf_count_t)n) != (sf_count_t)n || sf_close(sf) != 0) {
		fprintf(stderr, "make_evidence: %s: %s\n", path, sf_strerror(NULL));
		return 1;
	}
	struct auscult_err err;
	struct spectrogram_marks mk = { span0, span1, r.windows, r.n_windows, r.threshold };
	snprintf(path, sizeof(path), "%s/%s/%s", dir, monitor, r.image_file);
	if (spectrogram_png_write(path, x, n, RATE, &mk, &err) != AUSCULT_OK) {
		fprintf(stderr, "make_evidence: %s\n", err.msg);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s.txt", dir, monitor, base);
	if (evidence_record_write(path, &r, &err) != AUSCULT_OK) {
		fprintf(stderr, "make_evidence: %s\n", err.msg);
		return 1;
	}
	printf("%s\n", path);
	evidence_record_free(&r);
	free(x);
	return 0;
}
