/* band_spread.c - how much a machine's band levels differ between its recordings and within one: why weak faults under its loudest bands stay hidden. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_source.h"
#include "features/rfft.h"

/*
 * usage: band_spread FILE...   (normal recordings of one machine, at least 3, each 4 s or more)
 *
 * Each recording is read at 16 kHz (channels averaged, higher rates converted) and cut into
 * 1024-point Hann frames that abut. Per band it prints the band's share of the recordings' energy,
 * the standard deviation over recordings of the band's level (dB, the whole recording), and the
 * mean over recordings of the standard deviation of its level over the recording's whole 2-s
 * windows. A fault adding p percent of a recording's power to a band holding s percent raises it
 * by 10 log10(1 + p / s) dB: it shows when that stands out of the first spread, which is what a
 * model of other recordings must allow, or of the second, what a model of the machine itself
 * allows. models/README.md quotes its output on the 75 normals of ../shared/data.
 */

#define RATE_HZ 16000u
#define N_FFT 1024u
#define WINDOW_FRAMES 31u /* 2-s windows of whole frames (31 x 1024 samples = 1.98 s) */
#define MAX_WINDOWS 4096u

static const double EDGES_HZ[] = { 0, 500, 1000, 1500, 2500, 4000, 8000 };
#define N_BANDS (sizeof(EDGES_HZ) / sizeof(EDGES_HZ[0]) - 1)

struct recording_bands {
	double total[N_BANDS];  /* power summed over the recording */
	double within[N_BANDS]; /* std of the 2-s windows' band level, dB */
};

static double db(double p)
{
	return 10.0 * log10(p > 1e-30 ? p : 1e-30);
}

static double std_of(const double *x, size_t n)
{
	double m = 0.0, v = 0.0;
	for (size_t i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	for (size_t i = 0; i < n; i++)
		v += (x[i] - m) * (x[i] - m);
	return sqrt(v / (double)(n - 1));
}

/* Reads path and fills r; 0, or -1 after printing why. */
static int measure(const char *path, struct rfft *fft, const double *hann,
		   struct recording_bands *r)
{
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_FILE;
	cfg.path = path;
	cfg.channel = AUDIO_CHANNEL_AVERAGE;
	cfg.output_rate_hz = RATE_HZ;
	struct audio_source *src = NULL;
	struct auscult_err err;
	if (audio_source_open(&src, &cfg, &err) != AUSCULT_OK) {
		fprintf(stderr, "band_spread: %s\n", err.msg);
		return -1;
	}
	static float frame[N_FFT];
	static double power[N_FFT / 2 + 1];
	static double win_level[N_BANDS][MAX_WINDOWS];
	double win_power[N_BANDS] = { 0 };
	size_t fill = 0, frames = 0, windows = 0;
	memset(r, 0, sizeof(*r));
	int rc;
	for (;;) {
		size_t got = 0;
		rc = audio_source_read(src, frame + fill, N_FFT - fill, &got, -1, &err);
		if (rc != AUSCULT_OK)
			break;
		fill += got;
		if (fill < N_FFT)
			continue;
		fill = 0;
		rfft_power(fft, frame, hann, power);
		for (uint32_t k = 1; k <= N_FFT / 2; k++) {
			double hz = (double)k * RATE_HZ / N_FFT;
			for (size_t b = 0; b < N_BANDS; b++)
				if (hz > EDGES_HZ[b] && hz <= EDGES_HZ[b + 1]) {
					r->total[b] += power[k];
					win_power[b] += power[k];
				}
		}
		if (++frames % WINDOW_FRAMES == 0 && windows < MAX_WINDOWS) {
			for (size_t b = 0; b < N_BANDS; b++) {
				win_level[b][windows] = db(win_power[b]);
				win_power[b] = 0.0;
			}
			windows++;
		}
	}
	audio_source_close(src);
	if (rc != AUSCULT_ERR_EOF) {
		fprintf(stderr, "band_spread: %s\n", err.msg);
		return -1;
	}
	if (windows < 2) {
		fprintf(stderr, "band_spread: %s: %zu whole 2-s window(s); need 2 (4 s or more)\n",
			path, windows);
		return -1;
	}
	for (size_t b = 0; b < N_BANDS; b++)
		r->within[b] = std_of(win_level[b], windows);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: band_spread FILE...   (3 or more normal recordings of one "
				"machine, 4 s or more each)\n");
		return 2;
	}
	size_t n = (size_t)argc - 1;
	struct recording_bands *rec = calloc(n, sizeof(*rec));
	double *level = calloc(n, sizeof(*level));
	double hann[N_FFT];
	struct rfft fft;
	struct auscult_err err;
	if (!rec || !level || rfft_init(&fft, N_FFT, &err) != AUSCULT_OK) {
		fprintf(stderr, "band_spread: out of memory\n");
		return 1;
	}
	for (uint32_t i = 0; i < N_FFT; i++)
		hann[i] = 0.5 - 0.5 * cos(2.0 * M_PI * i / N_FFT);
	for (size_t f = 0; f < n; f++)
		if (measure(argv[f + 1], &fft, hann, &rec[f]) != 0)
			return 1;

	printf("%zu recordings, 1024-point Hann frames at %u Hz, 2-s windows\n", n, RATE_HZ);
	printf("%-14s %8s %22s %22s\n", "band", "energy", "between recordings", "within one (2 s)");
	for (size_t b = 0; b < N_BANDS; b++) {
		double share = 0.0, within = 0.0;
		for (size_t f = 0; f < n; f++) {
			double all = 0.0;
			for (size_t c = 0; c < N_BANDS; c++)
				all += rec[f].total[c];
			share += rec[f].total[b] / all;
			level[f] = db(rec[f].total[b]);
			within += rec[f].within[b];
		}
		char name[32];
		snprintf(name, sizeof(name), "%.0f-%.0f Hz", EDGES_HZ[b], EDGES_HZ[b + 1]);
		printf("%-14s %7.1f%% %19.2f dB %19.2f dB\n", name, 100.0 * share / (double)n,
		       std_of(level, n), within / (double)n);
	}
	printf("(energy: the band's mean share of a recording's power; the spreads are standard "
	       "deviations of the band's level)\n");
	rfft_free(&fft);
	free(rec);
	free(level);
	return 0;
}
