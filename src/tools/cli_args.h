/* cli_args.h - what the auscult subcommands share in reading their arguments, and the messages. */
#ifndef AUSCULT_CLI_ARGS_H
#define AUSCULT_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The exit status for a command line that cannot be used (the usage went to stderr). */
#define CLI_EXIT_USAGE 2

/*
 * One subcommand's arguments and how it names itself. Messages go to stderr and start
 * "auscult NAME: ". Main thread only, like everything the tools do with their arguments.
 */
struct cli_command {
	const char *name;         /* "score" */
	void (*usage)(FILE *out); /* prints the subcommand's usage */
	int argc;
	char **argv;
	bool failed; /* cli_option_value met an option without its value */
};

/* True for "--help" and "-h". */
bool cli_is_help(const char *arg);

/* True for an argument that looks like an option ("-x", "--x"); "-" alone is an operand. */
bool cli_is_option(const char *arg);

/*
 * The value of option name ("--model") when argv[*i] is "--model VALUE" (then *i moves to the
 * value) or "--model=VALUE". NULL when argv[*i] is any other argument, and NULL with
 * cli->failed set when it is this option as the last argument: the usage error has then been
 * printed and the caller returns CLI_EXIT_USAGE. The value points into argv.
 */
const char *cli_option_value(struct cli_command *cli, int *i, const char *name);

/*
 * Prints "auscult NAME: MESSAGE", a blank line and the usage to stderr. Returns CLI_EXIT_USAGE,
 * so that a subcommand can `return cli_usage_error(...)`.
 */
int cli_usage_error(const struct cli_command *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Which ends of a range belong to it; open ends are excluded. */
enum cli_ends {
	CLI_CLOSED = 0,  /* [lo, hi] */
	CLI_LO_OPEN = 1, /* (lo, hi] */
	CLI_HI_OPEN = 2, /* [lo, hi) */
	CLI_OPEN = 3,    /* (lo, hi) */
};

/*
 * Reads text, the value of option opt, as a finite number in the range lo..hi (infinite bounds:
 * any finite number). Returns 0 with *out set, or prints "auscult NAME: OPT: 'TEXT' is not a
 * number in (0, 1)" (unbounded: "is not a finite number") and returns -1.
 */
int cli_parse_double(const struct cli_command *cli, const char *opt, const char *text, double lo,
		     double hi, enum cli_ends ends, double *out);

/*
 * cli_parse_double for a value kept as a float (in a model): the float too must lie in the range
 * (1e-50 is a double > 0, but the float 0; 0.99999999 the float 1), or it prints why and
 * returns -1.
 */
int cli_parse_float(const struct cli_command *cli, const char *opt, const char *text, double lo,
		    double hi, enum cli_ends ends, float *out);

/*
 * Reads text, the value of option opt, as a whole decimal number in [lo, hi]. Returns 0 with
 * *out set, or prints "auscult NAME: OPT: 'TEXT' is not a whole number in [LO, HI]" and returns -1.
 */
int cli_parse_uint(const struct cli_command *cli, const char *opt, const char *text, uint64_t lo,
		   uint64_t hi, uint64_t *out);

#endif
