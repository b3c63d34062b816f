/* cmd_devices.c - `auscult devices`: list capture devices, or listen to one and print its level. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio_source.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#define LISTEN_RATE_HZ 16000u
#define LISTEN_BLOCK 1024

static void devices_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult devices [--listen DEVICE [--seconds S] [--rate HZ] [--channels N]]\n"
		"\n"
		"Without options, lists capture devices: index, name, host API, input channels,\n"
		"default rate and which of 8000/16000/22050/44100/48000 Hz they take; exits 1\n"
		"when there is none.\n"
		"\n"
		"  --listen DEVICE  record from DEVICE (an index, part of a listed name, or an ALSA\n"
		"                   PCM such as hw:1,0 or one defined in ~/.asoundrc) and print how\n"
		"                   many samples came and their level in dBFS\n"
		"  --seconds S      how long to listen (default 3, at most 3600)\n"
		"  --rate HZ        open the device at this rate (default: 16000 if it can)\n"
		"  --channels N     open N channels and average them (default 1)\n");
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) * 1e-9;
}

static double to_dbfs(double amplitude)
{
	return amplitude > 0.0 ? 20.0 * log10(amplitude) : -INFINITY;
}

/*
 * PortAudio's ALSA host API prints lines of its own on stderr while it probes and opens devices
 * ("Expression '...' failed in 'src/hostapi/alsa/pa_linux_alsa.c'"), which bury our message; the
 * failure they describe is in that message. fd 2 goes to /dev/null meanwhile: mute_stderr
 * returns the saved descriptor (-1 when it could not), unmute_stderr puts it back.
 */
static int mute_stderr(void)
{
	fflush(stderr);
	int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved < 0 || null_fd < 0 || dup2(null_fd, STDERR_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		saved = -1;
	}
	if (null_fd >= 0)
		close(null_fd);
	return saved;
}

static void unmute_stderr(int saved)
{
	if (saved < 0)
		return;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

static int listen(const char *device, double seconds, uint32_t rate_hz, uint32_t channels)
{
	struct audio_source_config cfg;
	struct audio_source *src = NULL;
	struct auscult_err err;
	float buf[LISTEN_BLOCK];
	double sum_sq = 0.0;
	float peak = 0.0f;
	uint64_t total = 0;
	const uint64_t want = (uint64_t)(seconds * LISTEN_RATE_HZ);
	int status = 1;

	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_PORTAUDIO;
	char *end = NULL;
	long index = strtol(device, &end, 10);
	if (end && *end == '\0' && end != device && index >= 0) {
		cfg.device_index = (int)index;
	} else {
		cfg.device_name = device;
	}
	cfg.input_rate_hz = rate_hz;
	cfg.input_channels = channels;
	cfg.channel = AUDIO_CHANNEL_AVERAGE;
	cfg.output_rate_hz = LISTEN_RATE_HZ;

	int muted = mute_stderr();
	int rc = audio_source_open(&src, &cfg, &err);
	unmute_stderr(muted);
	if (rc != AUSCULT_OK) {
		fprintf(stderr, "auscult devices: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "listening to %s for %.1f s\n", audio_source_describe(src), seconds);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (total < want) {
		size_t got = 0;
		size_t ask = want - total < LISTEN_BLOCK ? (size_t)(want - total) : LISTEN_BLOCK;
		rc = audio_source_read(src, buf, ask, &got, 500, &err);
		if (rc == AUSCULT_ERR_TIMEOUT) {
			if (seconds_since(&start) > seconds + 5.0) {
				fprintf(stderr,
					"auscult devices: %s: only %llu of %llu samples came "
					"in %.1f s: the device delivers too slowly or not at all\n",
					audio_source_describe(src), (unsigned long long)total,
					(unsigned long long)want, seconds_since(&start));
				goto done;
			}
			continue;
		}
		if (rc != AUSCULT_OK) {
			fprintf(stderr, "auscult devices: %s\n",
				rc == AUSCULT_ERR_EOF ? "the device ended" : err.msg);
			goto done;
		}
		for (size_t i = 0; i < got; i++) {
			sum_sq += (double)buf[i] * buf[i];
			float a = fabsf(buf[i]);
			if (a > peak)
				peak = a;
		}
		total += got;
	}
	double rms = sqrt(sum_sq / (double)total);
	printf("device: %s\nsamples: %llu at %u Hz (%.2f s in %.2f s)\nrms_dbfs: %.2f\n"
	       "peak_dbfs: %.2f\noverruns: %llu\n",
	       audio_source_describe(src), (unsigned long long)total, LISTEN_RATE_HZ,
	       (double)total / LISTEN_RATE_HZ, seconds_since(&start), to_dbfs(rms), to_dbfs(peak),
	       (unsigned long long)audio_source_overruns(src));
	status = 0;
done:
	audio_source_close(src);
	return status;
}

int cmd_devices(int argc, char **argv)
{
	const char *device = NULL;
	double seconds = 3.0;
	uint64_t rate_hz = 0;
	uint64_t channels = 1;
	struct cli_command cli = { "devices", devices_usage, argc, argv, false };

	for (int i = 1; i < argc; i++) {
		const char *v;
		int bad = 0;
		if (cli_is_help(argv[i])) {
			devices_usage(stdout);
			return 0;
		} else if ((v = cli_option_value(&cli, &i, "--listen"))) {
			device = v;
		} else if ((v = cli_option_value(&cli, &i, "--seconds"))) {
			bad = cli_parse_double(&cli, "--seconds", v, 0.0, 3600.0, CLI_LO_OPEN,
					       &seconds);
		} else if ((v = cli_option_value(&cli, &i, "--rate"))) {
			bad = cli_parse_uint(&cli, "--rate", v, 0, 384000, &rate_hz);
		} else if ((v = cli_option_value(&cli, &i, "--channels"))) {
			bad = cli_parse_uint(&cli, "--channels", v, 1, 64, &channels);
		} else if (cli.failed) {
			return CLI_EXIT_USAGE;
		} else {
			return cli_usage_error(&cli, "unknown option '%s'", argv[i]);
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	if (device)
		return listen(device, seconds, (uint32_t)rate_hz, (uint32_t)channels);

	struct auscult_err err;
	auscult_err_clear(&err);
	int muted = mute_stderr();
	int rc = audio_list_devices(stdout, &err);
	unmute_stderr(muted);
	if (rc != AUSCULT_OK) {
		fprintf(stderr, "auscult devices: %s\n", err.msg);
		if (rc == AUSCULT_ERR_DEVICE)
			fprintf(stderr,
				"auscult devices: plug in a microphone (`arecord -l` lists the "
				"cards ALSA sees), check that this user is in the `audio` "
				"group, or name an ALSA PCM with --listen\n");
		return 1;
	}
	return 0;
}
