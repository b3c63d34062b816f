/* auscultd_main.c - entry point of the auscultd daemon: options, then daemon_run. */
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: auscultd [--config FILE] [--check-config]\n"
		"Listens to machines through microphones (or files) and publishes anomaly scores,\n"
		"states and events over MQTT.\n"
		"\n"
		"  -c, --config FILE   configuration file (default %s)\n"
		"      --check-config  validate the configuration (and its model files), print each\n"
		"                      monitor's problem as FILE:LINE:COL: KEY: MESSAGE (a syntax\n"
		"                      error in the file: the first), exit 0 or 1\n"
		"      --version       print the version\n"
		"  -h, --help          this help\n"
		"\n"
		"Signals: SIGHUP reloads the configuration (an invalid file is logged and ignored);\n"
		"SIGTERM/SIGINT publish `offline` and exit.\n",
		AUSCULTD_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	const char *config = AUSCULTD_DEFAULT_CONFIG;
	int check = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "auscultd: %s needs a file name\n", a);
				return 2;
			}
			config = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			config = a + 9;
		} else if (strcmp(a, "--check-config") == 0) {
			check = 1;
		} else if (strcmp(a, "--version") == 0) {
			printf("auscultd %s\n", AUSCULT_VERSION);
			return 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "auscultd: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (check)
		return daemon_check_config(config, stdout, stderr);
	return daemon_run(config);
}
