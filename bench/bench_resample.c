/* bench_resample.c - rate converters for 48/44.1/22.05 kHz -> 16 kHz: pass band, aliasing, CPU. */
#include <alsa/asoundlib.h>
#include <math.h>
#include <samplerate.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Every converter runs as the daemon runs it: streaming, fed blocks of BLOCK input frames.
 * Pass band: a sine stepped up in STEP_HZ steps, its level after conversion against its level
 * before (1 s of it, the first 0.3 s skipped for the filter's delay and start); the -0.1, -1 and
 * -3 dB points are interpolated between steps. Aliasing: sines above the new Nyquist frequency
 * (8.5 kHz up to 12 kHz or the input's Nyquist), the worst level any of them leaves in the output.
 * CPU: thread CPU time to convert 10 s of white noise, median of REPEATS, per second of audio.
 * ALSA's plug layer is measured on the same signals, read through a `type plug` PCM opened at
 * 16 kHz over a `type file` PCM that replays them at the input rate (no sound card needed).
 */
#define OUT_HZ 16000.0
#define BLOCK 4096
#define STEP_HZ 25.0
#define TONE_S 1.3
#define SKIP_S 0.3
#define NOISE_S 10.0
#define REPEATS 7
#define AMPLITUDE 0.5

enum lib { LIB_LSR, LIB_SOXR, LIB_ALSA_PLUG };

struct converter {
	const char *name;
	enum lib lib;
	int type;            /* libsamplerate converter or soxr recipe */
	double passband_end; /* soxr: 0 dB bandwidth, fraction of the new Nyquist (0: the recipe's) */
};

static const struct converter converters[] = {
	{ "libsamplerate SINC_FASTEST", LIB_LSR, SRC_SINC_FASTEST, 0.0 },
	{ "libsamplerate SINC_MEDIUM", LIB_LSR, SRC_SINC_MEDIUM_QUALITY, 0.0 },
	{ "libsamplerate SINC_BEST", LIB_LSR, SRC_SINC_BEST_QUALITY, 0.0 },
	{ "soxr MQ", LIB_SOXR, SOXR_MQ, 0.0 },
	{ "soxr HQ", LIB_SOXR, SOXR_HQ, 0.0 },
	{ "soxr VHQ", LIB_SOXR, SOXR_VHQ, 0.0 },
	{ "soxr HQ, pass band 0.95", LIB_SOXR, SOXR_HQ, 0.95 },
	{ "soxr VHQ, pass band 0.95", LIB_SOXR, SOXR_VHQ, 0.95 },
	{ "soxr HQ, pass band 0.97", LIB_SOXR, SOXR_HQ, 0.97 },
	{ "soxr HQ, pass band 0.99", LIB_SOXR, SOXR_HQ, 0.99 },
	{ "ALSA plug (default)", LIB_ALSA_PLUG, 0, 0.0 },
};
#define N_CONVERTERS (sizeof(converters) / sizeof(converters[0]))

static const double in_rates_hz[] = { 48000.0, 44100.0, 22050.0 };

static char tmp_dir[64];

/* ALSA prints why a plug refused; the table says it (nan). */
static void alsa_quiet(const char *file, int line, const char *function, int errcode,
		       const char *fmt, ...)
{
	(void)file;
	(void)line;
	(void)function;
	(void)errcode;
	(void)fmt;
}

/* Converts n input samples at in_hz to OUT_HZ in BLOCK-frame pieces, flushing at the end.
 * Returns the output samples written to out (at most cap), or (size_t)-1 on failure. */
static size_t convert(const struct converter *c, double in_hz, const float *in, size_t n,
		      float *out, size_t cap)
{
	size_t done_out = 0, pos = 0;
	if (c->lib == LIB_LSR) {
		int e = 0;
		SRC_STATE *s = src_new(c->type, 1, &e);
		if (!s)
			return (size_t)-1;
		for (;;) {
			size_t take = n - pos < BLOCK ? n - pos : BLOCK;
			SRC_DATA d;
			memset(&d, 0, sizeof(d));
			d.data_in = in + pos;
			d.input_frames = (long)take;
			d.data_out = out + done_out;
			d.output_frames = (long)(cap - done_out);
			d.end_of_input = pos + take == n;
			d.src_ratio = OUT_HZ / in_hz;
			if (src_process(s, &d) != 0)
				break;
			pos += (size_t)d.input_frames_used;
			done_out += (size_t)d.output_frames_gen;
			if (pos == n && d.output_frames_gen == 0)
				break;
		}
		src_delete(s);
		return done_out;
	}
	soxr_quality_spec_t q = soxr_quality_spec((unsigned long)c->type, 0);
	if (c->passband_end > 0.0)
		q.passband_end = c->passband_end;
	soxr_runtime_spec_t r = soxr_runtime_spec(1);
	soxr_error_t e = NULL;
	soxr_t s = soxr_create(in_hz, OUT_HZ, 1, &e, NULL, &q, &r);
	if (!s)
		return (size_t)-1;
	while (pos < n) {
		size_t take = n - pos < BLOCK ? n - pos : BLOCK, used = 0, made = 0;
		if (soxr_process(s, in + pos, take, &used, out + done_out, cap - done_out, &made))
			break;
		pos += used;
		done_out += made;
	}
	for (;;) {
		size_t made = 0;
		if (soxr_process(s, NULL, 0, NULL, out + done_out, cap - done_out, &made) || !made)
			break;
		done_out += made;
	}
	soxr_delete(s);
	return done_out;
}

/*
 * Reads n_out samples at OUT_HZ of the raw s16 file `path` (recorded at in_hz) through ALSA's
 * plug layer. Returns the samples read, or (size_t)-1 when ALSA refused.
 */
static size_t plug_read(const char *path, double in_hz, float *out, size_t n_out)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "pcm.bench_file { type file slave.pcm \"null\" file \"/dev/null\" infile \"%s\" "
		 "format \"raw\" }\n"
		 "pcm.bench_plug { type plug slave { pcm \"bench_file\" format S16_LE rate %.0f "
		 "channels 1 } }\n",
		 path, in_hz);
	snd_config_t *cfg = NULL;
	snd_input_t *inp = NULL;
	snd_pcm_t *pcm = NULL;
	size_t got = (size_t)-1;
	if (snd_config_update() < 0 || snd_config_copy(&cfg, snd_config) < 0)
		return got;
	if (snd_input_buffer_open(&inp, text, (ssize_t)strlen(text)) < 0)
		goto done;
	if (snd_config_load(cfg, inp) < 0)
		goto done;
	if (snd_pcm_open_lconf(&pcm, "bench_plug", SND_PCM_STREAM_CAPTURE, 0, cfg) < 0)
		goto done;
	if (snd_pcm_set_params(pcm, SND_PCM_FORMAT_FLOAT_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1,
			       (unsigned)OUT_HZ, 1, 100000) < 0)
		goto done;
	got = 0;
	while (got < n_out) {
		snd_pcm_sframes_t k = snd_pcm_readi(pcm, out + got, n_out - got);
		if (k < 0 && snd_pcm_recover(pcm, (int)k, 1) == 0)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
done:
	if (pcm)
		snd_pcm_close(pcm);
	if (inp)
		snd_input_close(inp);
	if (cfg)
		snd_config_delete(cfg);
	return got;
}

/* The plug path on n samples of in (written as s16 to a file the file PCM replays). */
static size_t convert_plug(double in_hz, const float *in, size_t n, float *out, size_t cap)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/in.raw", tmp_dir);
	FILE *f = fopen(path, "wb");
	if (!f)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		long v = lrint(in[i] * 32767.0);
		int16_t s = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		fwrite(&s, sizeof(s), 1, f);
	}
	fclose(f);
	size_t want = (size_t)((double)n * OUT_HZ / in_hz);
	return plug_read(path, in_hz, out, want < cap ? want : cap);
}

static size_t run(const struct converter *c, double in_hz, const float *in, size_t n, float *out,
		  size_t cap)
{
	if (c->lib == LIB_ALSA_PLUG)
		return convert_plug(in_hz, in, n, out, cap);
	return convert(c, in_hz, in, n, out, cap);
}

/* Level, dB, of a sine of f_hz after conversion, against its level before. */
static double tone_gain_db(const struct converter *c, double in_hz, double f_hz, float *in,
			   float *out, size_t cap)
{
	size_t n = (size_t)(TONE_S * in_hz);
	for (size_t i = 0; i < n; i++)
		in[i] = (float)(AMPLITUDE * sin(2.0 * M_PI * f_hz * (double)i / in_hz));
	size_t got = run(c, in_hz, in, n, out, cap);
	size_t from = (size_t)(SKIP_S * OUT_HZ), to = (size_t)((TONE_S - 0.1) * OUT_HZ);
	if (got == (size_t)-1 || got < to)
		return NAN;
	double sum = 0.0;
	for (size_t i = from; i < to; i++)
		sum += (double)out[i] * out[i];
	double rms = sqrt(sum / (double)(to - from));
	return 20.0 * log10(rms / (AMPLITUDE / sqrt(2.0)) + 1e-12);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Median CPU seconds per second of audio. The plug path's time includes ALSA's file reading
 * and format conversion, as it would on a device. */
static double cpu_per_s(const struct converter *c, double in_hz, float *in, float *out, size_t cap)
{
	size_t n = (size_t)(NOISE_S * in_hz);
	unsigned seed = 12345;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		in[i] = (float)(AMPLITUDE * ((double)(seed >> 8) / (double)(1u << 24) - 0.5));
	}
	double t[REPEATS];
	for (int r = 0; r < REPEATS; r++) {
		double t0 = thread_cpu_s();
		if (run(c, in_hz, in, n, out, cap) == (size_t)-1)
			return NAN;
		t[r] = (thread_cpu_s() - t0) / NOISE_S;
	}
	qsort(t, REPEATS, sizeof(double), cmp_double);
	return t[REPEATS / 2];
}

/* Frequency where the response, stepped in STEP_HZ, first falls below level_db (linear
 * interpolation between the two steps around it); NAN when it never does below 8 kHz. */
static double crossing_hz(const double *f, const double *g, size_t n, double level_db)
{
	for (size_t i = 1; i < n; i++) {
		if (g[i] < level_db && g[i - 1] >= level_db)
			return f[i - 1] +
			       (f[i] - f[i - 1]) * (g[i - 1] - level_db) / (g[i - 1] - g[i]);
		if (g[i] < level_db)
			return f[i];
	}
	return NAN;
}

int main(void)
{
	snd_lib_error_set_handler(alsa_quiet);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/bench_resample.XXXXXX");
	if (!mkdtemp(tmp_dir)) {
		perror("bench_resample: mkdtemp");
		return 1;
	}
	size_t in_cap = (size_t)(NOISE_S * 48000.0) + BLOCK;
	size_t out_cap = (size_t)(NOISE_S * OUT_HZ * 2.0) + BLOCK;
	float *in = malloc(in_cap * sizeof(float));
	float *out = malloc(out_cap * sizeof(float));
	if (!in || !out) {
		fprintf(stderr, "bench_resample: out of memory\n");
		return 1;
	}
	printf("# rate conversion to %.0f Hz: pass band (levels of sines after conversion), aliasing "
	       "(worst level left by a sine at 8.5-12 kHz), CPU (median of %d x %.0f s of noise, one "
	       "thread)\n",
	       OUT_HZ, REPEATS, NOISE_S);
	printf("%-8s %-27s %8s %8s %8s %9s %9s %10s %9s %10s\n", "in Hz", "converter", "-0.1dB",
	       "-1dB", "-3dB", "7.6k dB", "7.9k dB", "alias dB", "10k dB", "ms CPU/s");
	for (size_t ri = 0; ri < sizeof(in_rates_hz) / sizeof(in_rates_hz[0]); ri++) {
		double in_hz = in_rates_hz[ri];
		for (size_t ci = 0; ci < N_CONVERTERS; ci++) {
			const struct converter *c = &converters[ci];
			enum { N_STEPS = 161 }; /* 4000 .. 8000 Hz */
			double f[N_STEPS], g[N_STEPS];
			for (size_t i = 0; i < N_STEPS; i++) {
				f[i] = 4000.0 + STEP_HZ * (double)i;
				if (f[i] >= OUT_HZ / 2.0)
					f[i] = OUT_HZ / 2.0 - 5.0;
				g[i] = tone_gain_db(c, in_hz, f[i], in, out, out_cap);
			}
			double worst = -INFINITY;
			for (double fa = 8500.0; fa <= 12000.0 && fa < in_hz / 2.0 - 100.0;
			     fa += 250.0) {
				double a = tone_gain_db(c, in_hz, fa, in, out, out_cap);
				if (isnan(a) || a > worst)
					worst = a;
			}
			double a10 = tone_gain_db(c, in_hz, 10000.0, in, out, out_cap);
			double g76 = tone_gain_db(c, in_hz, 7600.0, in, out, out_cap);
			double g79 = tone_gain_db(c, in_hz, 7900.0, in, out, out_cap);
			double cpu = cpu_per_s(c, in_hz, in, out, out_cap);
			printf("%-8.0f %-27s %8.0f %8.0f %8.0f %9.2f %9.2f %10.1f %9.1f %10.3f\n",
			       in_hz, c->name, crossing_hz(f, g, N_STEPS, -0.1),
			       crossing_hz(f, g, N_STEPS, -1.0), crossing_hz(f, g, N_STEPS, -3.0),
			       g76, g79, -worst, -a10, cpu * 1000.0);
			fflush(stdout);
		}
	}
	printf("(pass band columns: Hz where the level falls 0.1/1/3 dB; alias dB: rejection of the "
	       "worst sine at 8.5-12 kHz, larger is better; ms CPU/s: ms of one core per second of "
	       "audio; 10 ms/s = 1%% of a core)\n");
	char path[128];
	snprintf(path, sizeof(path), "%s/in.raw", tmp_dir);
	unlink(path);
	rmdir(tmp_dir);
	free(in);
	free(out);
	return 0;
}
