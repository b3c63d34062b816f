/* cli_args.c - option values, numbers with their ranges, and usage errors for the subcommands. */
#include "tools/cli_args.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

bool cli_is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0';
}

const char *cli_option_value(struct cli_command *cli, int *i, const char *name)
{
	size_t len = strlen(name);
	const char *arg = cli->argv[*i];
	if (strncmp(arg, name, len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len] != '\0')
		return NULL;
	if (*i + 1 >= cli->argc) {
		cli->failed = true;
		cli_usage_error(cli, "%s needs a value", name);
		return NULL;
	}
	return cli->argv[++(*i)];
}

int cli_usage_error(const struct cli_command *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "auscult %s: ", cli->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	cli->usage(stderr);
	return CLI_EXIT_USAGE;
}

static bool in_range(double v, double lo, double hi, enum cli_ends ends)
{
	bool lo_open = ends & CLI_LO_OPEN, hi_open = ends & CLI_HI_OPEN;
	return isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
}

int cli_parse_double(const struct cli_command *cli, const char *opt, const char *text, double lo,
		     double hi, enum cli_ends ends, double *out)
{
	bool lo_open = ends & CLI_LO_OPEN, hi_open = ends & CLI_HI_OPEN;
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	bool ok = !errno && end != text && *end == '\0' && in_range(v, lo, hi, ends);
	if (ok) {
		*out = v;
		return 0;
	}
	if (isinf(lo) && isinf(hi))
		fprintf(stderr, "auscult %s: %s: '%s' is not a finite number (e.g. 12.5)\n",
			cli->name, opt, text);
	else
		fprintf(stderr, "auscult %s: %s: '%s' is not a number in %c%g, %g%c\n", cli->name,
			opt, text, lo_open || isinf(lo) ? '(' : '[', lo, hi,
			hi_open || isinf(hi) ? ')' : ']');
	return -1;
}

int cli_parse_float(const struct cli_command *cli, const char *opt, const char *text, double lo,
		    double hi, enum cli_ends ends, float *out)
{
	double v;
	if (cli_parse_double(cli, opt, text, lo, hi, ends, &v))
		return -1;
	float f = (float)v;
	if (!in_range(f, lo, hi, ends)) {
		fprintf(stderr,
			"auscult %s: %s: '%s' becomes %.9g as the 32-bit float a model keeps, which "
			"is not in %c%g, %g%c; give a value further inside\n",
			cli->name, opt, text, (double)f, ends & CLI_LO_OPEN ? '(' : '[', lo, hi,
			ends & CLI_HI_OPEN ? ')' : ']');
		return -1;
	}
	*out = f;
	return 0;
}

int cli_parse_uint(const struct cli_command *cli, const char *opt, const char *text, uint64_t lo,
		   uint64_t hi, uint64_t *out)
{
	/* strtoull would take "-1" as 2^64 - 1: a sign is refused before it looks. */
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (*p != '-' && !errno && end != text && *end == '\0' && v >= lo && v <= hi) {
		*out = v;
		return 0;
	}
	fprintf(stderr,
		"auscult %s: %s: '%s' is not a whole number in [%" PRIu64 ", %" PRIu64 "]\n",
		cli->name, opt, text, lo, hi);
	return -1;
}
