/* cmd_info.c - `auscult info MODEL [--json]`: print what a model file holds. */
#include <stdio.h>
#include <string.h>

#include "model/model.h"
#include "model/model_file.h"
#include "train/model_info.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

static void info_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult info MODEL [--json]\n"
		"\n"
		"Checks a model file and prints what it holds: feature parameters, frame masks,\n"
		"standardisation, band weights, clip aggregation, network, threshold fit, how it\n"
		"was trained and a summary of its training curve (loss per epoch).\n"
		"\n"
		"  --json   print one JSON object instead of text (with the whole curve)\n");
}

int cmd_info(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0;
	struct cli_command cli = { "info", info_usage, argc, argv, false };
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			info_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (cli_is_option(argv[i])) {
			return cli_usage_error(&cli, "unknown option '%s'", argv[i]);
		} else if (path) {
			return cli_usage_error(&cli, "one model at a time ('%s' and '%s')", path,
					       argv[i]);
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return cli_usage_error(&cli, "no model file given");
	struct model m;
	struct auscult_err err;
	if (model_load(&m, path, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult info: %s\n", err.msg);
		return 1;
	}
	if (json)
		model_info_print_json(stdout, &m, path);
	else
		model_info_print(stdout, &m, path);
	model_free(&m);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("auscult info: stdout");
		return 1;
	}
	return 0;
}
