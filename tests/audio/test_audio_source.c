/* test_audio_source.c - the audio sources: files, raw PCM on stdin/a pipe, PortAudio over ALSA. */
#define _GNU_SOURCE /* F_GETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audio/audio_source.h"
#include "common/clock.h"

static char tmp_dir[256];

static void tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmp_dir, name);
}

/* Reads a whole file into memory (test helper; aborts the test on failure). */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The int16 samples of a 16-bit PCM mono WAV, found by walking its chunks ourselves. */
static int16_t *wav_samples(const char *path, size_t *n)
{
	size_t len;
	unsigned char *b = slurp(path, &len);
	size_t at = 12;
	while (at + 8 <= len) {
		uint32_t size = le32(b + at + 4);
		if (memcmp(b + at, "data", 4) == 0) {
			*n = size / 2;
			int16_t *s = malloc(size);
			assert_non_null(s);
			for (size_t i = 0; i < *n; i++)
				s[i] = (int16_t)(uint16_t)(b[at + 8 + 2 * i] | b[at + 9 + 2 * i]
										       << 8);
			free(b);
			return s;
		}
		at += 8 + size + (size & 1);
	}
	free(b);
	fail_msg("%s: no data chunk", path);
	return NULL;
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v & 255);
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 65535);
	put16(p + 2, v >> 16);
}

/* Opens path and writes a canonical WAV header: format tag (1 PCM, 3 float), bits per sample. */
static FILE *wav_create(const char *path, uint32_t rate, unsigned ch, unsigned tag, unsigned bits,
			uint32_t data_bytes)
{
	unsigned char h[44];
	const unsigned block = ch * bits / 8;
	memcpy(h, "RIFF", 4);
	put32(h + 4, 36 + data_bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 16);
	put16(h + 20, tag);
	put16(h + 22, ch);
	put32(h + 24, rate);
	put32(h + 28, rate * block);
	put16(h + 32, block);
	put16(h + 34, bits);
	memcpy(h + 36, "data", 4);
	put32(h + 40, data_bytes);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(h, 1, 44, f), 44);
	return f;
}

/* Writes interleaved int16 frames as a canonical 16-bit PCM WAV. */
static void write_wav(const char *path, uint32_t rate, unsigned ch, const int16_t *s, size_t frames)
{
	FILE *f = wav_create(path, rate, ch, 1, 16, (uint32_t)(frames * ch * 2));
	for (size_t i = 0; i < frames * ch; i++) {
		unsigned char b[2];
		put16(b, (uint16_t)s[i]);
		assert_int_equal(fwrite(b, 1, 2, f), 2);
	}
	assert_int_equal(fclose(f), 0);
}

/* A file source at its defaults (the test fails if it does not open). */
static struct audio_source *open_file(const char *path)
{
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.path = path;
	struct audio_source *src = NULL;
	struct auscult_err err;
	if (audio_source_open(&src, &cfg, &err) != AUSCULT_OK)
		fail_msg("%s: %s", path, err.msg);
	return src;
}

/* Reads a source to its end; returns the samples (caller frees) and their count. */
static float *read_all(struct audio_source *src, size_t *n_out, size_t block)
{
	size_t cap = 1 << 16, n = 0;
	float *all = malloc(cap * sizeof(float));
	assert_non_null(all);
	struct auscult_err err;
	for (;;) {
		if (n + block > cap) {
			cap *= 2;
			all = realloc(all, cap * sizeof(float));
			assert_non_null(all);
		}
		size_t got = 0;
		int rc = audio_source_read(src, all + n, block, &got, 1000, &err);
		if (rc == AUSCULT_ERR_EOF) {
			assert_int_equal(got, 0);
			break;
		}
		if (rc != AUSCULT_OK)
			fail_msg("read: %s: %s", auscult_strerror(rc), err.msg);
		assert_true(got > 0 && got <= block);
		n += got;
	}
	*n_out = n;
	return all;
}

static size_t zero_crossings(const float *x, size_t from, size_t to)
{
	size_t c = 0;
	for (size_t i = from + 1; i < to; i++)
		if ((x[i - 1] < 0.0f) != (x[i] < 0.0f))
			c++;
	return c;
}

static double rms(const float *x, size_t from, size_t to)
{
	double s = 0.0;
	for (size_t i = from; i < to; i++)
		s += (double)x[i] * x[i];
	return sqrt(s / (double)(to - from));
}

/* ---- files ---- */

static void check_exact(const char *name, size_t block)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/vectors/%s", AUSCULT_SHARED_DIR, name);
	size_t n_ref;
	int16_t *ref = wav_samples(path, &n_ref);

	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.path = path;
	struct audio_source *src = NULL;
	struct auscult_err err;
	int rc = audio_source_open(&src, &cfg, &err);
	if (rc != AUSCULT_OK)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(audio_source_describe(src), "16000 Hz, 1 ch"));
	assert_int_equal(audio_source_input_rate_hz(src), 16000);
	size_t n;
	float *x = read_all(src, &n, block);
	assert_int_equal(n, n_ref);
	/* int16 / 32768 is exact in float32: exact equality is the right test here. */
	for (size_t i = 0; i < n; i++)
		if (x[i] != (float)ref[i] / 32768.0f)
			fail_msg("%s sample %zu: %.9g, expected %d/32768", name, i, x[i], ref[i]);
	/* Reading past the end keeps saying EOF. */
	size_t got = 1;
	assert_int_equal(audio_source_read(src, x, 16, &got, 0, &err), AUSCULT_ERR_EOF);
	assert_int_equal(got, 0);
	audio_source_close(src);
	free(x);
	free(ref);
}

static void test_file_reads_exact_values(void **state)
{
	(void)state;
	check_exact("sine1k.wav", 512);
	check_exact("pump_normal.wav", 4096);
	check_exact("short.wav", 7); /* 700 samples, odd block size */
	check_exact("noise.wav", 100000);
}

/* 16-bit files take a path of their own (read as integers, scaled here); 24-bit and float ones
 * still come through libsndfile's float reading, with the same values. */
static void test_file_reads_24bit_and_float(void **state)
{
	(void)state;
	enum { N = 5000 };
	static unsigned char pcm24[3 * N], f32[4 * N];
	static float want24[N], want_f[N];
	for (int i = 0; i < N; i++) {
		int32_t v = (int32_t)((i * 2654435761u) >> 8) - (1 << 23); /* 24-bit, all over */
		pcm24[3 * i] = (unsigned char)(v & 255);
		pcm24[3 * i + 1] = (unsigned char)((v >> 8) & 255);
		pcm24[3 * i + 2] = (unsigned char)((v >> 16) & 255);
		want24[i] = (float)v / 8388608.0f;
		want_f[i] = (float)sin(i * 0.01) * 0.75f;
		uint32_t bits;
		memcpy(&bits, &want_f[i], 4);
		put32(f32 + 4 * i, bits);
	}
	const struct {
		const char *name;
		unsigned tag, bits;
		const unsigned char *data;
		const float *want;
	} cases[] = { { "pcm24.wav", 1, 24, pcm24, want24 },
		      { "float32.wav", 3, 32, f32, want_f } };
	for (size_t c = 0; c < 2; c++) {
		char path[512];
		tmp_path(path, sizeof(path), cases[c].name);
		const uint32_t bytes = N * cases[c].bits / 8;
		FILE *f = wav_create(path, 16000, 1, cases[c].tag, cases[c].bits, bytes);
		assert_int_equal(fwrite(cases[c].data, 1, bytes, f), bytes);
		assert_int_equal(fclose(f), 0);
		struct audio_source *src = open_file(path);
		size_t n;
		float *x = read_all(src, &n, 777);
		assert_int_equal(n, N);
		for (int i = 0; i < N; i++)
			if (fabsf(x[i] - cases[c].want[i]) > 1e-7f)
				fail_msg("%s sample %d: %.9g, expected %.9g", cases[c].name, i,
					 x[i], cases[c].want[i]);
		free(x);
		audio_source_close(src);
	}
}
/* 1 s of 48 kHz, 3 channels: 1 kHz sine, 3 kHz sine, the 1 kHz sine inverted. */
static void make_48k_three_channels(char *path, size_t size)
{
	const size_t frames = 48000;
	int16_t *s = malloc(frames * 3 * sizeof(int16_t));
	assert_non_null(s);
	for (size_t i = 0; i < frames; i++) {
		double t = (double)i / 48000.0;
		int16_t a = (int16_t)lrint(16384.0 * sin(2.0 * M_PI * 1000.0 * t));
		s[3 * i] = a;
		s[3 * i + 1] = (int16_t)lrint(16384.0 * sin(2.0 * M_PI * 3000.0 * t + 0.3));
		s[3 * i + 2] = (int16_t)-a;
	}
	tmp_path(path, size, "sines_48k_3ch.wav");
	write_wav(path, 48000, 3, s, frames);
	free(s);
}

static float *read_resampled(const char *path, int channel, size_t *n)
{
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.path = path;
	cfg.channel = channel;
	cfg.output_rate_hz = 16000;
	struct audio_source *src = NULL;
	struct auscult_err err;
	if (audio_source_open(&src, &cfg, &err) != AUSCULT_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(audio_source_input_rate_hz(src), 48000);
	assert_int_equal(audio_source_input_channels(src), 3);
	assert_non_null(strstr(audio_source_describe(src), "converted to 16000 Hz by soxr"));
	float *x = read_all(src, n, 1000);
	audio_source_close(src);
	return x;
}

static void test_file_resampled_channels(void **state)
{
	(void)state;
	char path[512];
	make_48k_three_channels(path, sizeof(path));
	size_t n;

	/* Channel 0: 1 kHz at half scale. A sine of f Hz crosses zero 2f times a second; the
	 * count over samples 200..15800 (0.975 s, clear of the filter's edges) must be within
	 * 1% of 2 * f * 0.975, the length 16000 within 2 samples. */
	float *x = read_resampled(path, 0, &n);
	assert_true(n >= 15998 && n <= 16002);
	size_t zc = zero_crossings(x, 200, 15800);
	assert_true(fabs((double)zc - 1950.0) <= 19.5);
	assert_true(fabs(rms(x, 200, 15800) - 0.5 / sqrt(2.0)) < 0.005);
	free(x);

	/* Channel 1: 3 kHz. */
	x = read_resampled(path, 1, &n);
	zc = zero_crossings(x, 200, 15800);
	assert_true(fabs((double)zc - 5850.0) <= 58.5);
	free(x);

	/* Average: the two 1 kHz channels cancel, leaving a third of the 3 kHz sine. */
	x = read_resampled(path, AUDIO_CHANNEL_AVERAGE, &n);
	zc = zero_crossings(x, 200, 15800);
	assert_true(fabs((double)zc - 5850.0) <= 58.5);
	assert_true(fabs(rms(x, 200, 15800) - 0.5 / 3.0 / sqrt(2.0)) < 0.003);
	free(x);
}

static void test_file_channel_selection_no_resampling(void **state)
{
	(void)state;
	char path[512];
	tmp_path(path, sizeof(path), "stereo_16k.wav");
	int16_t s[2 * 1000];
	for (int i = 0; i < 1000; i++) {
		s[2 * i] = (int16_t)(i * 7 - 3000);
		s[2 * i + 1] = (int16_t)(-i * 11 + 5000);
	}
	write_wav(path, 16000, 2, s, 1000);
	for (int ch = -1; ch < 2; ch++) {
		struct audio_source_config cfg;
		audio_source_config_defaults(&cfg);
		cfg.path = path;
		cfg.channel = ch;
		struct audio_source *src = NULL;
		struct auscult_err err;
		assert_int_equal(audio_source_open(&src, &cfg, &err), AUSCULT_OK);
		size_t n;
		float *x = read_all(src, &n, 333);
		assert_int_equal(n, 1000);
		for (int i = 0; i < 1000; i++) {
			float l = (float)s[2 * i] / 32768.0f, r = (float)s[2 * i + 1] / 32768.0f;
			float want = ch == 0 ? l : ch == 1 ? r : (l + r) * 0.5f;
			assert_true(fabsf(x[i] - want) <= 1e-7f);
		}
		free(x);
		audio_source_close(src);
	}
}

struct bad_case {
	const char *fixture; /* under fixtures/audio, or an absolute path */
	int status;
	const char *expect[3];
};

static void expect_open_fails(const char *path, int channel, int status, const char *const *want)
{
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.path = path;
	cfg.channel = channel;
	struct audio_source *src = (struct audio_source *)&cfg; /* must be reset to NULL */
	struct auscult_err err;
	int rc = audio_source_open(&src, &cfg, &err);
	if (rc != status)
		fail_msg("%s: got %s (%s), expected %s", path, auscult_strerror(rc),
			 rc ? err.msg : "", auscult_strerror(status));
	assert_null(src);
	assert_non_null(strstr(err.msg, path));
	for (int i = 0; i < 3 && want[i]; i++)
		if (!strstr(err.msg, want[i]))
			fail_msg("message '%s' lacks '%s'", err.msg, want[i]);
}

static void test_file_bad_inputs(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "missing.wav", AUSCULT_ERR_IO, { "cannot open", "No such file" } },
		{ "not_audio.txt", AUSCULT_ERR_FORMAT, { "not an audio file", "expected WAV" } },
		{ "headerless.raw", AUSCULT_ERR_FORMAT, { "not an audio file", "stdin source" } },
		{ "empty.wav", AUSCULT_ERR_TRUNCATED, { "empty file (0 bytes)" } },
		{ "truncated_header.wav",
		  AUSCULT_ERR_TRUNCATED,
		  { "truncated WAV header", "20 bytes", "incomplete" } },
		{ "header_only.wav", AUSCULT_ERR_TRUNCATED, { "no samples", "empty" } },
		{ "unsupported_codec.wav",
		  AUSCULT_ERR_UNSUPPORTED,
		  { "unsupported audio encoding", "WAV codec 0x2222", "16-bit PCM WAV" } },
		{ "rate_128hz.wav",
		  AUSCULT_ERR_UNSUPPORTED,
		  { "header says 128 Hz, out of range [1000, 384000]", "resample it" } },
		{ "rate_8000hz.wav",
		  AUSCULT_ERR_UNSUPPORTED,
		  { "8000 Hz audio carries sound up to 4000 Hz only", "listens up to 8000 Hz",
		    "16000 Hz or more" } },
		{ "", AUSCULT_ERR_IO, { "is a directory" } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/audio/%s", AUSCULT_FIXTURES, cases[i].fixture);
		expect_open_fails(path, AUDIO_CHANNEL_AVERAGE, cases[i].status, cases[i].expect);
	}
	/* A channel the file does not have. */
	char path[512];
	snprintf(path, sizeof(path), "%s/vectors/sine1k.wav", AUSCULT_SHARED_DIR);
	const char *want[] = { "channel 1 does not exist", "1 channel", NULL };
	expect_open_fails(path, 1, AUSCULT_ERR_INVALID, want);
}

/* Opens DIR/NAME, reads it to the end and returns the frames read; the warning goes to want_warning
 * (NULL: none expected). */
static size_t open_and_read_all(const char *dir, const char *name, const char *want_warning)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct audio_source *src = open_file(path);
	const char *w = audio_source_warning(src);
	if (!want_warning) {
		assert_null(w);
	} else {
		assert_non_null(w);
		char want[1024];
		snprintf(want, sizeof(want), "%s: truncated: %s", path, want_warning);
		assert_string_equal(w, want);
	}
	struct auscult_err err;
	float buf[4096];
	size_t total = 0, got = 0;
	int rc;
	while ((rc = audio_source_read(src, buf, 4096, &got, -1, &err)) == AUSCULT_OK)
		total += got;
	assert_int_equal(rc, AUSCULT_ERR_EOF);
	audio_source_close(src);
	return total;
}

/* A WAV cut short opens (its samples still score) but says so, with the announced and real length. */
static void test_file_cut_short(void **state)
{
	(void)state;
	assert_int_equal(
		open_and_read_all(AUSCULT_FIXTURES "/audio", "claims_4gb.wav",
				  "the header announces 134217.728 s of audio (4294967280 "
				  "data bytes), the file holds 1.000 s (32000 bytes); it was "
				  "cut short - copy or record it again"),
		16000);
	assert_int_equal(
		open_and_read_all(AUSCULT_FIXTURES "/audio", "cut_in_half.wav",
				  "the header announces 2.000 s of audio (64000 data bytes), "
				  "the file holds 1.000 s (32000 bytes); it was cut short - "
				  "copy or record it again"),
		16000);
	/* A WAV written as a stream, its length never filled in, is whole: no warning. */
	assert_int_equal(open_and_read_all(AUSCULT_FIXTURES "/audio", "streamed.wav", NULL), 16000);
	/* A whole WAV has no warning. */
	assert_int_equal(open_and_read_all(AUSCULT_SHARED_DIR "/vectors", "short.wav", NULL), 700);
}

/* A float recording with a NaN opens, and its read fails at that sample, naming it: the front end
 * would take it as a finite ~385 dB. What was read before it is delivered. */
static void test_file_nan_sample(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/audio/nan_sample.wav", AUSCULT_FIXTURES);
	struct audio_source *src = open_file(path);
	float buf[400];
	size_t got = 0, total = 0;
	struct auscult_err err;
	int rc;
	while ((rc = audio_source_read(src, buf, 400, &got, 0, &err)) == AUSCULT_OK)
		total += got;
	assert_int_equal(rc, AUSCULT_ERR_FORMAT);
	assert_int_equal(total, 400); /* the first read; the second holds the NaN */
	assert_non_null(strstr(err.msg, "nan_sample.wav: sample 500 (at 0.031 s) is not a number "
					"(NaN): the file is damaged; export or record it again"));
	audio_source_close(src);
}

static void test_file_read_speed(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/vectors/pump_normal.wav", AUSCULT_SHARED_DIR);
	float buf[512];
	struct timespec t0, t1;
	size_t total = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int rep = 0; rep < 20; rep++) {
		struct audio_source_config cfg;
		audio_source_config_defaults(&cfg);
		cfg.path = path;
		struct audio_source *src = NULL;
		struct auscult_err err;
		assert_int_equal(audio_source_open(&src, &cfg, &err), AUSCULT_OK);
		size_t got;
		while (audio_source_read(src, buf, 512, &got, 0, &err) == AUSCULT_OK)
			total += got;
		audio_source_close(src);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	assert_int_equal(total, 20 * 160000);
	print_message("file reading: %.0fx real time (%zu samples in %.3f s, open+read+close)\n",
		      (double)total / 16000.0 / s, total, s);
}

/* ---- raw PCM (stdin) ---- */

struct writer_args {
	int fd;
	const unsigned char *bytes;
	size_t len;
};

/* Writes in awkward chunk sizes (1, 2, 3, ... 13 bytes) so frames split across reads. */
static void *odd_writer(void *arg)
{
	struct writer_args *w = arg;
	size_t at = 0, chunk = 1;
	while (at < w->len) {
		size_t n = chunk < w->len - at ? chunk : w->len - at;
		ssize_t k = write(w->fd, w->bytes + at, n);
		if (k <= 0)
			break;
		at += (size_t)k;
		chunk = chunk % 13 + 1;
	}
	close(w->fd);
	return NULL;
}

/* A pipe says what it holds and how much it can (what the daemon's monitor sleeps on); a file
 * cannot say. */
/* Raw s16le PCM of rate and channels on fd, as the daemon's stdin source opens it. */
static struct audio_source *open_raw(int fd, uint32_t rate_hz, uint32_t channels)
{
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_STDIN;
	cfg.input_rate_hz = rate_hz;
	cfg.input_channels = channels;
	struct audio_source *src = NULL;
	struct auscult_err err;
	if (audio_source_open_fd(&src, &cfg, fd, "test pipe", &err) != AUSCULT_OK)
		fail_msg("%s", err.msg);
	return src;
}

static struct audio_source *open_raw_mono(int fd)
{
	return open_raw(fd, 16000, 1);
}

static void test_raw_pipe_buffered(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	static unsigned char bytes[3200]; /* 1600 mono frames: 0.1 s at 16 kHz */
	assert_int_equal(write(p[1], bytes, sizeof(bytes)), (ssize_t)sizeof(bytes));
	struct audio_source *src = open_raw_mono(p[0]);
	struct auscult_err err;
	double ready_s = -1.0, capacity_s = -1.0;
	assert_int_equal(audio_source_buffered(src, &ready_s, &capacity_s), 1);
	assert_true(fabs(ready_s - 0.1) < 1e-9);
	const double pipe_s = (double)fcntl(p[0], F_GETPIPE_SZ) / 2.0 / 16000.0;
	assert_true(fabs(capacity_s - pipe_s) < 1e-9);
	/* A reader that wants 0.1 s reads now; 0.5 s, it sleeps 0.4 s and the 20-ms slack; 2 s,
	 * no longer than a quarter of the pipe. */
	double wait_s = -1.0;
	assert_int_equal(audio_source_wait_s(src, 1600, &wait_s), 1);
	assert_true(wait_s == 0.0);
	assert_int_equal(audio_source_wait_s(src, 8000, &wait_s), 1);
	assert_true(fabs(wait_s - fmin(0.42, 0.25 * pipe_s)) < 1e-9);
	assert_int_equal(audio_source_wait_s(src, 32000, &wait_s), 1);
	assert_true(fabs(wait_s - 0.25 * pipe_s) < 1e-9);
	float x[1000];
	size_t got = 0;
	assert_int_equal(audio_source_read(src, x, 1000, &got, 0, &err), AUSCULT_OK);
	assert_int_equal(got, 1000);
	assert_int_equal(audio_source_buffered(src, &ready_s, &capacity_s), 1);
	assert_true(fabs(ready_s - 600.0 / 16000.0) < 1e-9);
	audio_source_close(src);
	close(p[0]);
	close(p[1]);

	char path[512];
	snprintf(path, sizeof(path), "%s/vectors/short.wav", AUSCULT_SHARED_DIR);
	/* 48-kHz stereo would fill the default 64 KiB in a third of a second: the pipe is grown to
	 * hold the ring's 2 s. */
	assert_int_equal(pipe(p), 0);
	src = open_raw(p[0], 48000, 2);
	assert_int_equal(audio_source_buffered(src, &ready_s, &capacity_s), 1);
	assert_true(capacity_s >= AUDIO_RING_SECONDS_DEFAULT);
	assert_true(fabs(capacity_s - (double)fcntl(p[0], F_GETPIPE_SZ) / 4.0 / 48000.0) < 1e-9);
	audio_source_close(src);
	close(p[0]);
	close(p[1]);

	src = open_file(path);
	assert_int_equal(audio_source_buffered(src, &ready_s, &capacity_s), 0);
	assert_int_equal(audio_source_wait_s(src, 8000, &wait_s), 0);
	audio_source_close(src);
}
static void test_raw_pipe_odd_chunks(void **state)
{
	(void)state;
	/* 3000 stereo frames + 3 stray bytes at the end (an incomplete frame). */
	const size_t frames = 3000;
	size_t len = frames * 4 + 3;
	unsigned char *bytes = malloc(len);
	assert_non_null(bytes);
	for (size_t i = 0; i < frames * 2; i++)
		put16(bytes + 2 * i, (uint16_t)(int16_t)((int)(i * 37 % 65536) - 32768));
	memset(bytes + frames * 4, 0x7f, 3);

	int p[2];
	assert_int_equal(pipe(p), 0);
	struct writer_args w = { p[1], bytes, len };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, odd_writer, &w), 0);

	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_STDIN;
	cfg.input_rate_hz = 16000;
	cfg.input_channels = 2;
	cfg.channel = 1;
	struct audio_source *src = NULL;
	struct auscult_err err;
	int rc = audio_source_open_fd(&src, &cfg, p[0], "test pipe", &err);
	if (rc != AUSCULT_OK)
		fail_msg("%s", err.msg);
	assert_non_null(
		strstr(audio_source_describe(src), "test pipe (raw s16le, 16000 Hz, 2 ch)"));
	size_t n;
	float *x = read_all(src, &n, 5);
	assert_int_equal(n, frames);
	for (size_t i = 0; i < frames; i++) {
		int16_t v = (int16_t)(uint16_t)(bytes[4 * i + 2] | bytes[4 * i + 3] << 8);
		assert_true(x[i] == (float)v / 32768.0f);
	}
	pthread_join(th, NULL);
	audio_source_close(src);
	close(p[0]);
	free(x);
	free(bytes);
}

/* A writer that stalls with the pipe open (a hung `arecord | auscultd`) gives a timeout, so that
 * the monitor can say `fault` and stop when asked; it used to block in read(2) for ever. A
 * descriptor left non-blocking by whoever shares it waits the same way instead of failing. */
static void test_raw_pipe_stall_times_out(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct audio_source *src = open_raw_mono(p[0]);
	float x[16];
	size_t got = 99;
	struct auscult_err err;
	double t0 = clock_mono_s();
	assert_int_equal(audio_source_read(src, x, 16, &got, 200, &err), AUSCULT_ERR_TIMEOUT);
	double waited = clock_mono_s() - t0;
	assert_int_equal(got, 0);
	assert_true(waited >= 0.15 && waited < 5.0);

	assert_int_equal(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK), 0);
	assert_int_equal(audio_source_read(src, x, 16, &got, 50, &err), AUSCULT_ERR_TIMEOUT);
	const unsigned char two[4] = { 0x01, 0x00, 0xff, 0x7f };
	assert_int_equal(write(p[1], two, sizeof(two)), 4);
	assert_int_equal(audio_source_read(src, x, 16, &got, 1000, &err), AUSCULT_OK);
	assert_int_equal(got, 2);
	assert_true(x[0] == 1.0f / 32768.0f && x[1] == 32767.0f / 32768.0f);
	audio_source_close(src);
	close(p[0]);
	close(p[1]);
}

/* Reads n samples, however the pipe splits them. */
static void read_exactly(struct audio_source *src, float *x, size_t n)
{
	size_t have = 0;
	struct auscult_err err;
	while (have < n) {
		size_t got = 0;
		int rc = audio_source_read(src, x + have, n - have, &got, 1000, &err);
		if (rc != AUSCULT_OK)
			fail_msg("read: %s: %s", auscult_strerror(rc), err.msg);
		have += got;
	}
}

/* The monitor reopens stdin after a stall and on every reload: the tail of a frame the writer
 * split goes to the next reader, so the samples keep their alignment. It was dropped, and every
 * later sample read as two halves of its neighbours (loud noise, an anomaly for ever). */
static void test_raw_reopen_keeps_frame_alignment(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	const unsigned char first[3] = { 0x34, 0x12, 0x78 };
	assert_int_equal(write(p[1], first, sizeof(first)), 3);
	struct audio_source *src = open_raw_mono(p[0]);
	float x[3];
	read_exactly(src, x, 1);
	assert_true(x[0] == (float)0x1234 / 32768.0f);
	audio_source_close(src);

	src = open_raw_mono(p[0]);
	const unsigned char rest[5] = { 0x56, 0x11, 0x11, 0x22, 0x22 };
	assert_int_equal(write(p[1], rest, sizeof(rest)), 5);
	read_exactly(src, x, 3);
	assert_true(x[0] == (float)0x5678 / 32768.0f);
	assert_true(x[1] == (float)0x1111 / 32768.0f);
	assert_true(x[2] == (float)0x2222 / 32768.0f);
	audio_source_close(src);
	close(p[0]);
	close(p[1]);
}

/* The real stdin path: a child reads fd 0 from a pipe, resampling 48 kHz to 16 kHz. */
static void test_stdin_child_resampled(void **state)
{
	(void)state;
	const size_t frames = 48000;
	unsigned char *bytes = malloc(frames * 2);
	assert_non_null(bytes);
	for (size_t i = 0; i < frames; i++)
		put16(bytes + 2 * i, (uint16_t)(int16_t)lrint(8192.0 * sin(2.0 * M_PI * 500.0 *
									   (double)i / 48000.0)));
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		if (dup2(p[0], 0) < 0)
			_exit(10);
		struct audio_source_config cfg;
		audio_source_config_defaults(&cfg);
		cfg.kind = AUDIO_SOURCE_STDIN;
		cfg.input_rate_hz = 48000;
		cfg.input_channels = 1;
		struct audio_source *src = NULL;
		struct auscult_err err;
		if (audio_source_open(&src, &cfg, &err) != AUSCULT_OK)
			_exit(11);
		static float x[20000];
		size_t n = 0, got;
		int rc;
		while ((rc = audio_source_read(src, x + n, 256, &got, 0, &err)) == AUSCULT_OK)
			n += got;
		audio_source_close(src);
		if (rc != AUSCULT_ERR_EOF)
			_exit(12);
		if (n < 15998 || n > 16002)
			_exit(13);
		/* 500 Hz: 975 crossings in 0.975 s, within 1%. */
		size_t zc = zero_crossings(x, 200, 15800);
		if (zc < 965 || zc > 985)
			_exit(14);
		if (fabs(rms(x, 200, 15800) - 0.25 / sqrt(2.0)) > 0.003)
			_exit(15);
		_exit(0);
	}
	close(p[0]);
	size_t at = 0;
	while (at < frames * 2) {
		ssize_t k = write(p[1], bytes + at, frames * 2 - at);
		assert_true(k > 0);
		at += (size_t)k;
	}
	close(p[1]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("child failed with code %d", WEXITSTATUS(status));
	free(bytes);
}

static void test_stdin_bad_config(void **state)
{
	(void)state;
	struct {
		uint32_t rate, channels;
		int channel;
		int status;
		const char *expect;
	} cases[] = {
		{ 0, 1, AUDIO_CHANNEL_AVERAGE, AUSCULT_ERR_INVALID,
		  "stdin: raw PCM rate 0 Hz is out of range [1000, 384000]" },
		{ 500000, 1, AUDIO_CHANNEL_AVERAGE, AUSCULT_ERR_INVALID,
		  "stdin: raw PCM rate 500000 Hz is out of range" },
		{ 16000, 0, AUDIO_CHANNEL_AVERAGE, AUSCULT_ERR_INVALID,
		  "stdin: raw PCM channel count 0 is out of range [1, 32]" },
		{ 16000, 33, AUDIO_CHANNEL_AVERAGE, AUSCULT_ERR_INVALID,
		  "channel count 33 is out of range" },
		{ 16000, 2, 2, AUSCULT_ERR_INVALID,
		  "channel 2 does not exist: the input has 2 channels (use 0..1 or 'average')" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audio_source_config cfg;
		audio_source_config_defaults(&cfg);
		cfg.kind = AUDIO_SOURCE_STDIN;
		cfg.input_rate_hz = cases[i].rate;
		cfg.input_channels = cases[i].channels;
		cfg.channel = cases[i].channel;
		struct audio_source *src = NULL;
		struct auscult_err err;
		int rc = audio_source_open(&src, &cfg, &err);
		assert_int_equal(rc, cases[i].status);
		assert_null(src);
		if (!strstr(err.msg, cases[i].expect))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].expect);
	}
}

/* ---- PortAudio over ALSA, with an .asoundrc in a private HOME (set in main) ---- */

static char tone_path[512];

static struct audio_source *open_device(const char *name, uint32_t rate, int *rc,
					struct auscult_err *err)
{
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_PORTAUDIO;
	cfg.device_name = name;
	cfg.input_rate_hz = rate;
	struct audio_source *src = NULL;
	*rc = audio_source_open(&src, &cfg, err);
	return src;
}

static void test_device_missing(void **state)
{
	(void)state;
	struct auscult_err err;
	int rc;
	struct audio_source *src = open_device("no_such_microphone", 0, &rc, &err);
	assert_null(src);
	assert_int_equal(rc, AUSCULT_ERR_DEVICE);
	assert_non_null(strstr(err.msg, "device 'no_such_microphone': no capture device or ALSA "
					"PCM has this name"));
	assert_non_null(strstr(err.msg, "auscult devices"));

	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_PORTAUDIO;
	cfg.device_index = 999;
	rc = audio_source_open(&src, &cfg, &err);
	assert_int_equal(rc, AUSCULT_ERR_DEVICE);
	assert_non_null(strstr(err.msg, "device #999: no such device"));
}

static void test_device_bad_rate(void **state)
{
	(void)state;
	struct auscult_err err;
	int rc;
	/* ALSA's null PCM (under the file PCM) refuses rates this low. */
	struct audio_source *src = open_device("auscult_test_mic", 100, &rc, &err);
	assert_null(src);
	assert_int_equal(rc, AUSCULT_ERR_DEVICE);
	assert_non_null(strstr(err.msg, "device 'auscult_test_mic': cannot capture at 100 Hz"));
	assert_non_null(strstr(err.msg, "16000"));
}

static void test_device_file_pcm_level(void **state)
{
	(void)state;
	struct auscult_err err;
	int rc;
	struct audio_source *src = open_device("auscult_test_mic", 0, &rc, &err);
	if (rc != AUSCULT_OK)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(audio_source_describe(src), "device 'auscult_test_mic' (16000 Hz"));
	static float x[16000];
	size_t n = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n < 16000) {
		size_t got = 0;
		rc = audio_source_read(src, x + n, 16000 - n, &got, 500, &err);
		if (rc == AUSCULT_ERR_TIMEOUT)
			continue;
		if (rc != AUSCULT_OK)
			fail_msg("%s", err.msg);
		n += got;
	}
	/* The file PCM replays a 440 Hz sine of amplitude 0.25 (RMS -15.05 dBFS): the first
	 * second of it fits the 2-s ring even though ALSA's null PCM runs faster than real time. */
	double level_db = 20.0 * log10(rms(x, 0, n));
	assert_true(fabs(level_db - (-15.05)) < 0.1);
	/* In order and exact at the start: ALSA's null PCM delivers faster than real time and
	 * PortAudio's over-run recovery later skips a stretch of the file (at sample 2298 here), so
	 * exactness is asserted over the first 1024 samples and the level over the whole second. */
	for (size_t i = 0; i < 1024; i++) {
		float want = (float)lrint(8192.0 * sin(2.0 * M_PI * 440.0 * (double)i / 16000.0)) /
			     32768.0f;
		if (fabsf(x[i] - want) > 1e-6f)
			fail_msg("sample %zu: %g, expected %g", i, x[i], want);
	}
	print_message("file PCM through PortAudio: %.2f dBFS (file: -15.05)\n", level_db);
	/* The capture ring says what it holds: 2 s at the device's rate, rounded up to a power of
	 * two frames (32768 at 16 kHz). */
	double ready_s = -1.0, capacity_s = -1.0;
	assert_int_equal(audio_source_buffered(src, &ready_s, &capacity_s), 1);
	assert_true(fabs(capacity_s - 32768.0 / 16000.0) < 1e-9);
	assert_true(ready_s >= 0.0 && ready_s <= capacity_s);
	audio_source_close(src);
}

/* A device that delivers far faster than its clock is broken: with real_time_only set, the file
 * PCM (whose null PCM runs unpaced, and which replays its last buffer for ever once the infile
 * ends) must fail with a device error within a few seconds instead of feeding garbage. */
static void test_device_too_fast_is_an_error(void **state)
{
	(void)state;
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_PORTAUDIO;
	cfg.device_name = "auscult_test_mic";
	cfg.real_time_only = 1;
	struct audio_source *src = NULL;
	struct auscult_err err;
	int rc = audio_source_open(&src, &cfg, &err);
	if (rc != AUSCULT_OK)
		fail_msg("%s", err.msg);
	static float x[4096];
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double waited_s = 0.0;
	do {
		size_t got = 0;
		rc = audio_source_read(src, x, 4096, &got, 250, &err);
		clock_gettime(CLOCK_MONOTONIC, &t);
		waited_s = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9;
	} while ((rc == AUSCULT_OK || rc == AUSCULT_ERR_TIMEOUT) && waited_s < 10.0);
	assert_int_equal(rc, AUSCULT_ERR_DEVICE);
	assert_non_null(strstr(err.msg, "device 'auscult_test_mic': "));
	assert_non_null(strstr(err.msg, "far faster than its 16000 Hz"));
	print_message("unpaced PCM refused after %.2f s: %s\n", waited_s, err.msg);
	audio_source_close(src);
}

static void test_list_devices(void **state)
{
	(void)state;
	char path[512];
	tmp_path(path, sizeof(path), "devices.txt");
	FILE *f = fopen(path, "w+");
	assert_non_null(f);
	struct auscult_err err;
	assert_int_equal(audio_list_devices(f, &err), AUSCULT_OK);
	rewind(f);
	char text[4096] = { 0 };
	size_t len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	assert_true(len > 0);
	assert_non_null(strstr(text, "auscult_test_mic"));
	assert_non_null(strstr(text, "ALSA"));
	assert_non_null(strstr(text, "16000"));
}

/* ---- set-up ---- */

static int write_asoundrc(void)
{
	char path[512];
	snprintf(tone_path, sizeof(tone_path), "%s/tone.raw", tmp_dir);
	FILE *f = fopen(tone_path, "wb");
	if (!f)
		return -1;
	for (int i = 0; i < 16000 * 4; i++) {
		int16_t v = (int16_t)lrint(8192.0 * sin(2.0 * M_PI * 440.0 * i / 16000.0));
		unsigned char b[2];
		put16(b, (uint16_t)v);
		fwrite(b, 1, 2, f);
	}
	if (fclose(f) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/.asoundrc", tmp_dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"pcm.auscult_test_file {\n"
		"\ttype file\n\tslave.pcm \"null\"\n\tfile \"/dev/null\"\n"
		"\tinfile \"%s\"\n\tformat \"raw\"\n}\n"
		"pcm.auscult_test_mic {\n"
		"\ttype plug\n"
		"\tslave { pcm \"auscult_test_file\"; format S16_LE; rate 16000; channels 1 }\n"
		"\thint { show on description \"auscult test microphone\" }\n}\n",
		tone_path);
	return fclose(f);
}

static void remove_tree(const char *dir)
{
	const char *names[] = { "tone.raw",  ".asoundrc",   "sines_48k_3ch.wav", "stereo_16k.wav",
				"pcm24.wav", "float32.wav", "devices.txt" };
	char path[512];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/auscult-audio-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp_dir)) {
		perror("mkdtemp");
		return 1;
	}
	/* ALSA reads ~/.asoundrc: point HOME at ours before anything touches ALSA. */
	setenv("HOME", tmp_dir, 1);
	if (write_asoundrc() != 0) {
		perror("asoundrc");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_reads_exact_values),
		cmocka_unit_test(test_file_reads_24bit_and_float),
		cmocka_unit_test(test_file_resampled_channels),
		cmocka_unit_test(test_file_channel_selection_no_resampling),
		cmocka_unit_test(test_file_bad_inputs),
		cmocka_unit_test(test_file_cut_short),
		cmocka_unit_test(test_file_nan_sample),
		cmocka_unit_test(test_file_read_speed),
		cmocka_unit_test(test_raw_pipe_odd_chunks),
		cmocka_unit_test(test_raw_pipe_buffered),
		cmocka_unit_test(test_raw_pipe_stall_times_out),
		cmocka_unit_test(test_raw_reopen_keeps_frame_alignment),
		cmocka_unit_test(test_stdin_child_resampled),
		cmocka_unit_test(test_stdin_bad_config),
		cmocka_unit_test(test_device_missing),
		cmocka_unit_test(test_device_bad_rate),
		cmocka_unit_test(test_device_file_pcm_level),
		cmocka_unit_test(test_device_too_fast_is_an_error),
		cmocka_unit_test(test_list_devices),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	remove_tree(tmp_dir);
	return failed;
}
