/* auscult_main.c - entry point of the `auscult` tool: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "model/autoencoder.h"
#include "tools/commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "features", cmd_features, "compute log-mel features of an audio file" },
	{ "devices", cmd_devices, "list audio capture devices and their rates" },
	{ "record", cmd_record, "record a machine as 10-s WAV clips to train on" },
	{ "train", cmd_train, "train a model on recordings of a healthy machine" },
	{ "score", cmd_score, "score recordings with a model" },
	{ "eval", cmd_eval, "AUC and pAUC of a model on a DCASE-style labelled folder" },
	{ "threshold", cmd_threshold, "refit a model's threshold on unseen normal recordings" },
	{ "info", cmd_info, "print what a model file holds" },
	{ "report", cmd_report, "an HTML page to browse anomalies: audio, spectrogram, scores" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: auscult COMMAND [OPTIONS] [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`auscult COMMAND --help` describes one command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("auscult %s\n", AUSCULT_VERSION);
		return 0;
	}
	/* Every command scores on one BLAS thread: more only spin beside calls this small (auscult
	 * score of 441 clips: 1.1-1.7 s of CPU with OpenBLAS's default, 0.53 s with one, no
	 * faster). train sets its own (--threads). */
	autoencoder_set_blas_threads(1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "auscult: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
