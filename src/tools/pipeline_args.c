/* pipeline_args.c - the command-line options that set a scoring pipeline, as auscultd's keys do. */
#include "tools/pipeline_args.h"

#include <math.h>
#include <string.h>

int pipeline_args_option(struct cli_command *cli, int *i, struct pipeline_settings *ps,
			 bool *matched)
{
	const char *v;
	uint64_t u;
	*matched = true;
	if ((v = cli_option_value(cli, i, "--window-s")))
		return cli_parse_double(cli, "--window-s", v, PIPELINE_WINDOW_S_MIN,
					PIPELINE_WINDOW_S_MAX, CLI_CLOSED, &ps->window_s);
	if ((v = cli_option_value(cli, i, "--hop-s")))
		return cli_parse_double(cli, "--hop-s", v, 0.0, PIPELINE_HOP_S_MAX, CLI_LO_OPEN,
					&ps->hop_s);
	if ((v = cli_option_value(cli, i, "--settle-s")))
		return cli_parse_double(cli, "--settle-s", v, 0.0, PIPELINE_SETTLE_S_MAX,
					CLI_CLOSED, &ps->settle_s);
	if ((v = cli_option_value(cli, i, "--threshold"))) {
		ps->threshold_set = true;
		return cli_parse_double(cli, "--threshold", v, 0.0, INFINITY, CLI_LO_OPEN,
					&ps->threshold);
	}
	if ((v = cli_option_value(cli, i, "--silence-dbfs"))) {
		if (strcmp(v, "off") == 0) {
			ps->silence_dbfs = -INFINITY;
			return 0;
		}
		return cli_parse_double(cli, "--silence-dbfs", v, PIPELINE_SILENCE_DBFS_MIN,
					PIPELINE_SILENCE_DBFS_MAX, CLI_CLOSED, &ps->silence_dbfs);
	}
	if ((v = cli_option_value(cli, i, "--smoothing"))) {
		if (strcmp(v, "ema") == 0)
			ps->smoothing = SMOOTHER_EMA;
		else if (strcmp(v, "median") == 0)
			ps->smoothing = SMOOTHER_MEDIAN;
		else if (strcmp(v, "none") == 0)
			ps->smoothing = SMOOTHER_NONE;
		else {
			cli_usage_error(cli, "--smoothing: '%s' is not ema, median or none", v);
			return -1;
		}
		return 0;
	}
	if ((v = cli_option_value(cli, i, "--smoothing-windows"))) {
		if (cli_parse_uint(cli, "--smoothing-windows", v, 1, PIPELINE_SMOOTHING_WINDOWS_MAX,
				   &u))
			return -1;
		ps->smoothing_windows = (uint32_t)u;
		return 0;
	}
	if ((v = cli_option_value(cli, i, "--anomaly-after"))) {
		if (cli_parse_uint(cli, "--anomaly-after", v, 1, PIPELINE_HYSTERESIS_MAX, &u))
			return -1;
		ps->anomaly_after = (uint32_t)u;
		return 0;
	}
	if ((v = cli_option_value(cli, i, "--normal-after"))) {
		if (cli_parse_uint(cli, "--normal-after", v, 1, PIPELINE_HYSTERESIS_MAX, &u))
			return -1;
		ps->normal_after = (uint32_t)u;
		return 0;
	}
	*matched = false;
	return 0;
}

int pipeline_args_check(const struct cli_command *cli, const struct pipeline_settings *ps)
{
	const char *field = NULL;
	struct auscult_err err;
	if (pipeline_settings_validate(ps, &field, &err) == AUSCULT_OK)
		return 0;
	/* "hop_s: ..." or "..." about hop_s: say it as the option, "--hop-s: ...". */
	char opt[40] = "--";
	size_t k = 2;
	for (const char *c = field ? field : "setting"; *c && k + 1 < sizeof(opt); c++)
		opt[k++] = *c == '_' || *c == '.' ? '-' : *c;
	opt[k] = 0;
	const char *msg = err.msg;
	size_t fl = field ? strlen(field) : 0;
	if (fl && strncmp(msg, field, fl) == 0 && msg[fl] == ':')
		msg += fl + 2;
	cli_usage_error(cli, "%s: %s", opt, msg);
	return -1;
}
