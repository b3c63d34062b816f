/* cmd_info.c - `auscult info MODEL [--json]`: print what a model file holds. */
#include <stdio.h>
#include <string.h>

#include "model/model.h"
#include "model/model_file.h"
#include "model/model_info.h"
#include "tools/commands.h"

static void info_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult info MODEL [--json]\n"
		"\n"
		"Checks a model file and prints what it holds: feature parameters, frame masks,\n"
		"standardisation, band weights, clip aggregation, network, threshold fit and how it\n"
		"was trained.\n"
		"\n"
		"  --json   print one JSON object instead of text\n");
}

int cmd_info(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			info_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "auscult info: unknown option '%s'\n\n", argv[i]);
			info_usage(stderr);
			return 2;
		} else if (path) {
			fprintf(stderr, "auscult info: one model at a time ('%s' and '%s')\n\n", path,
				argv[i]);
			info_usage(stderr);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "auscult info: no model file given\n\n");
		info_usage(stderr);
		return 2;
	}
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
