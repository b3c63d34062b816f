/* log.c - terse leveled logging to stderr. */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

static atomic_int current_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, (int)level);
}

int log_level_parse(const char *name)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (name && strcasecmp(name, names[i]) == 0)
			return i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	/* syslog priorities: err=3, warning=4, info=6, debug=7 */
	static const int prio[] = { 3, 4, 6, 7 };
	static const char *const tag[] = { "error", "warn", "info", "debug" };
	if ((int)level > atomic_load(&current_level))
		return;

	char line[1024];
	size_t n;
	if (getenv("JOURNAL_STREAM")) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>", prio[level]);
	} else {
		int64_t ms = clock_wall_ms();
		time_t s = (time_t)(ms / 1000);
		struct tm tm;
		localtime_r(&s, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03d %s: ", (int)(ms % 1000),
				      tag[level]);
	}
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines from different threads do not interleave. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}
