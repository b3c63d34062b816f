/* pipeline_args.h - command-line options that set a scoring pipeline (score --windows, threshold) */
#ifndef AUSCULT_PIPELINE_ARGS_H
#define AUSCULT_PIPELINE_ARGS_H

#include <stdbool.h>

#include "pipeline/pipeline.h"
#include "tools/cli_args.h"

/* The options, for usage texts: one per auscultd key of a monitor's scoring. */
#define PIPELINE_ARGS_USAGE                                                                    \
	"  --window-s S            scoring window, seconds (auscultd's window_s, default 2)\n" \
	"  --hop-s H               between windows (hop_s, default 0.5)\n"                     \
	"  --smoothing M           ema, median or none (smoothing.method, default ema)\n"      \
	"  --smoothing-windows N   windows smoothed over (smoothing.windows, default 4)\n"     \
	"  --threshold X           instead of the model's (threshold)\n"                       \
	"  --anomaly-after N       windows above to enter anomaly (default 3)\n"               \
	"  --normal-after N        windows below to return to normal (default 5)\n"            \
	"  --silence-dbfs DB|off   machine-off level (silence_dbfs, default -70)\n"            \
	"  --settle-s S            ignored around a start or stop (gate.settle_s, default 3)\n"

/*
 * When argv[*i] is one of the options above, parses its value into ps, sets *matched and returns
 * 0 (or prints the usage error and returns -1). Otherwise *matched is false and it returns 0
 * (cli->failed set when an option lacked its value). Main thread.
 */
int pipeline_args_option(struct cli_command *cli, int *i, struct pipeline_settings *ps,
			 bool *matched);

/*
 * Validates ps (pipeline_settings_validate); on a fault prints it as a usage error naming the
 * option ("--hop-s: ...") and returns -1, else 0.
 */
int pipeline_args_check(const struct cli_command *cli, const struct pipeline_settings *ps);

#endif
