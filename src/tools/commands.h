/* commands.h - the subcommands of the `auscult` tool, one file each (cmd_<name>.c). */
#ifndef AUSCULT_COMMANDS_H
#define AUSCULT_COMMANDS_H

/*
 * Each takes the arguments after the subcommand name (argv[0] is the subcommand itself) and
 * returns the process exit status: 0 success, 1 failure (message already printed to stderr),
 * 2 usage error.
 */
int cmd_features(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_threshold(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
