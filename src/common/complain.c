/* complain.c - rate-limited complaints about repeated failures. */
#include "common/complain.h"

#include <stdarg.h>
#include <stdio.h>

void complaint_init(struct complaint *c, double interval_min_s, double interval_max_s)
{
	if (!(interval_min_s > 0.0))
		interval_min_s = 1.0;
	if (!(interval_max_s >= interval_min_s))
		interval_max_s = interval_min_s;
	c->interval_min_s = interval_min_s;
	c->interval_max_s = interval_max_s;
	c->interval_s = interval_min_s;
	c->next_s = 0.0;
	c->failures = 0;
	c->suppressed = 0;
	c->active = false;
}

bool complaint_failed(struct complaint *c, double now_s, uint64_t *suppressed_out)
{
	c->failures++;
	if (!c->active) {
		c->active = true;
		c->interval_s = c->interval_min_s;
		c->next_s = now_s + c->interval_s;
		c->suppressed = 0;
		if (suppressed_out)
			*suppressed_out = 0;
		return true;
	}
	if (now_s < c->next_s) {
		c->suppressed++;
		return false;
	}
	if (suppressed_out)
		*suppressed_out = c->suppressed;
	c->suppressed = 0;
	c->interval_s *= 2.0;
	if (c->interval_s > c->interval_max_s)
		c->interval_s = c->interval_max_s;
	c->next_s = now_s + c->interval_s;
	return true;
}

bool complaint_cleared(struct complaint *c, uint64_t *failures_out)
{
	if (!c->active)
		return false;
	if (failures_out)
		*failures_out = c->failures;
	c->active = false;
	c->failures = 0;
	c->suppressed = 0;
	c->interval_s = c->interval_min_s;
	return true;
}

/* Logs one formatted line, naming how many like it were held back since the last one. */
__attribute__((format(printf, 3, 0))) static void log_complaint(enum log_level level,
								uint64_t suppressed,
								const char *fmt, va_list ap)
{
	char line[768];
	vsnprintf(line, sizeof(line), fmt, ap);
	if (suppressed > 0)
		log_msg(level, "%s (%llu similar messages suppressed)", line,
			(unsigned long long)suppressed);
	else
		log_msg(level, "%s", line);
}

void complain(struct complaint *c, double now_s, enum log_level level, const char *fmt, ...)
{
	uint64_t suppressed = 0;
	if (!complaint_failed(c, now_s, &suppressed))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_complaint(level, suppressed, fmt, ap);
	va_end(ap);
}

void complain_clear(struct complaint *c, enum log_level level, const char *fmt, ...)
{
	if (!complaint_cleared(c, NULL))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_complaint(level, 0, fmt, ap);
	va_end(ap);
}
