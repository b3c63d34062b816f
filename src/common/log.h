/* log.h - terse leveled logging to stderr, with journald priority prefixes under systemd. */
#ifndef AUSCULT_LOG_H
#define AUSCULT_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the most verbose level printed (default INFO). Call from the main thread at start-up. */
void log_set_level(enum log_level level);

/* Parses "error", "warn", "info", "debug"; returns -1 for anything else. */
int log_level_parse(const char *name);

/*
 * Prints one line. Thread-safe (one write(2) per line). Never call from an audio callback or a
 * signal handler. When stderr is the journal (JOURNAL_STREAM set), lines carry "<N>" priority
 * prefixes instead of a timestamp.
 */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
