/* daemon.h - auscultd's main loop: monitors, MQTT, signals, reload and systemd notifications. */
#ifndef AUSCULT_DAEMON_H
#define AUSCULT_DAEMON_H

#include <stdio.h>

#define AUSCULTD_DEFAULT_CONFIG "/etc/auscult/auscultd.yaml"

/*
 * Loads and validates the config at path (models included) and reports on out: "PATH: OK ..."
 * and 0, or on err_out and 1: the loader's "FILE:LINE:COL: KEY: MESSAGE" error, else each
 * monitor's file fault (config_check_all) on a line of its own. Main thread.
 */
int daemon_check_config(const char *path, FILE *out, FILE *err_out);

/*
 * Runs the daemon until SIGTERM/SIGINT (returns 0 after publishing `offline` and flushing, within
 * about 2 s), or until every monitor's file or stdin input has ended (returns 0 after flushing
 * the messages, 5 s at most). SIGHUP reloads the config: a valid file replaces the running one
 * (every monitor restarts; the MQTT link is rebuilt only when its settings changed), an invalid
 * one is logged and ignored. Returns 1 when the config is invalid or nothing can be started.
 * Installs signal handlers; call once, from the main thread.
 */
int daemon_run(const char *config_path);

#endif
