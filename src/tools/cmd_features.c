/* cmd_features.c - `auscult features`: log-mel frames of an audio file as float32, CSV or a summary. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/atomic_file.h"
#include "common/status.h"
#include "features/feature_params.h"
#include "features/features_file.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

static const char usage_line[] =
	"usage: auscult features FILE [--out OUT.f32] [--csv] [--streaming]";

static void usage(FILE *out)
{
	fprintf(out, "%s\n", usage_line);
	if (out != stdout)
		return;
	fprintf(out,
		"\nComputes the log-mel frames (dB) of an audio file with the baseline front end\n"
		"(16 kHz, n_fft 1024, hop 512, 128 Slaney mel bands 0-8 kHz). Other rates are\n"
		"resampled, channels averaged. Streams the file: memory stays bounded.\n\n"
		"  --out OUT.f32  write the frames as little-endian float32, frames x mels row-major\n"
		"  --csv          print the frames as text, one frame per line, to standard output\n"
		"  --streaming    live-audio framing (no padding: skips the edge frames) instead of\n"
		"                 whole-file centred framing with reflect padding\n"
		"Without --csv a one-line summary goes to standard output.\n");
}

struct features_out {
	const char *out_path;
	FILE *out; /* --out file, or NULL */
	int csv;
	uint32_t n_mels;
	size_t n_frames;
	double sum_db;
	float min_db;
	float max_db;
};

/* Writes n floats little-endian whatever the host's byte order. */
static int write_f32_le(FILE *f, const float *v, size_t n)
{
	unsigned char buf[4096];
	size_t fill = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &v[i], sizeof(u));
		buf[fill++] = (unsigned char)(u & 0xff);
		buf[fill++] = (unsigned char)((u >> 8) & 0xff);
		buf[fill++] = (unsigned char)((u >> 16) & 0xff);
		buf[fill++] = (unsigned char)(u >> 24);
		if (fill == sizeof(buf) || i + 1 == n) {
			if (fwrite(buf, 1, fill, f) != fill)
				return -1;
			fill = 0;
		}
	}
	return 0;
}

static int sink(void *ctx, const float *frames, size_t n_frames, struct auscult_err *err)
{
	struct features_out *o = ctx;
	size_t n = n_frames * o->n_mels;

	if (o->out && write_f32_le(o->out, frames, n) != 0)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: write failed: %s", o->out_path,
				    strerror(errno));
	for (size_t i = 0; i < n; i++) {
		o->sum_db += frames[i];
		if (frames[i] < o->min_db)
			o->min_db = frames[i];
		if (frames[i] > o->max_db)
			o->max_db = frames[i];
	}
	if (o->csv) {
		for (size_t t = 0; t < n_frames; t++) {
			const float *f = frames + t * o->n_mels;
			for (uint32_t m = 0; m < o->n_mels; m++)
				printf(m ? ",%.4f" : "%.4f", (double)f[m]);
			putchar('\n');
		}
		if (ferror(stdout))
			return auscult_fail(err, AUSCULT_ERR_IO,
					    "standard output: write failed: %s", strerror(errno));
	}
	o->n_frames += n_frames;
	return AUSCULT_OK;
}

/* Whether a and b name one existing file (a link, another spelling). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int cmd_features(int argc, char **argv)
{
	const char *in_path = NULL, *out_path = NULL;
	int csv = 0;
	enum framing framing = FRAMING_CENTRED;
	struct cli_command cli = { "features", usage, argc, argv, false };

	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_is_help(argv[i])) {
			usage(stdout);
			return 0;
		} else if ((v = cli_option_value(&cli, &i, "--out"))) {
			out_path = v;
		} else if (cli.failed) {
			return CLI_EXIT_USAGE;
		} else if (strcmp(argv[i], "--csv") == 0) {
			csv = 1;
		} else if (strcmp(argv[i], "--streaming") == 0) {
			framing = FRAMING_STREAMING;
		} else if (cli_is_option(argv[i])) {
			return cli_usage_error(&cli, "unknown option '%s'", argv[i]);
		} else if (in_path) {
			return cli_usage_error(&cli, "one input file only ('%s' and '%s')", in_path,
					       argv[i]);
		} else {
			in_path = argv[i];
		}
	}
	if (!in_path)
		return cli_usage_error(&cli, "no input file");

	struct feature_params p;
	struct auscult_err err;
	struct features_out o = {
		.out_path = out_path, .csv = csv, .min_db = INFINITY, .max_db = -INFINITY
	};
	size_t n_samples = 0;

	feature_params_defaults(&p);
	o.n_mels = p.n_mels;
	auscult_err_clear(&err);
	struct atomic_file af = { 0 };
	if (out_path) {
		if (same_file(in_path, out_path)) {
			fprintf(stderr,
				"auscult features: --out %s is the input recording itself; name "
				"another file for the features\n",
				out_path);
			return 1;
		}
		/* Under a temporary name until complete: a failure leaves the old file as it was. */
		if (atomic_file_open(&af, out_path, "the features file", &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult features: %s\n", err.msg);
			return 1;
		}
		o.out = af.fp;
	}
	int rc = features_stream_file(in_path, &p, framing, sink, &o, &n_samples, &err);
	if (out_path && rc == AUSCULT_OK)
		rc = atomic_file_commit(&af, &err);
	if (rc != AUSCULT_OK) {
		atomic_file_abort(&af);
		fprintf(stderr, "auscult features: %s\n", err.msg);
		return 1;
	}
	if (!csv) {
		size_t n = o.n_frames * o.n_mels;
		printf("%s: %zu frames x %u mels (%.3f s at %u Hz, %s framing)", in_path,
		       o.n_frames, o.n_mels, (double)n_samples / p.sample_rate_hz, p.sample_rate_hz,
		       framing == FRAMING_CENTRED ? "centred" : "streaming");
		if (n > 0)
			printf(", dB min %.2f mean %.2f max %.2f", (double)o.min_db, o.sum_db / n,
			       (double)o.max_db);
		if (out_path)
			printf(" -> %s", out_path);
		putchar('\n');
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "auscult features: standard output: write failed: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}
