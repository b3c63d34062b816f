/* complain.h - rate-limited complaints about repeated failures (log once, back off, log the fix). */
#ifndef AUSCULT_COMPLAIN_H
#define AUSCULT_COMPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/log.h"

/*
 * One failing condition (broker unreachable, device gone). The first failure is logged, repeats
 * are logged only after a back-off that doubles from interval_min_s to interval_max_s, with the
 * number of silenced repeats; when the condition clears it is logged once more. Times are
 * monotonic seconds passed in by the caller, so tests can inject a clock. Not thread-safe: one
 * owner thread per complaint (or the owner's lock).
 */
struct complaint {
	double interval_min_s; /* first wait before a repeat is logged */
	double interval_max_s; /* the wait doubles up to this */
	double interval_s;     /* current wait */
	double next_s;         /* a repeat may be logged at or after this time */
	uint64_t failures;     /* failures since the condition began */
	uint64_t suppressed;   /* failures not logged since the last logged line */
	bool active;           /* the condition is failing */
};

/* Sets up c (inactive). interval_min_s > 0, interval_max_s >= interval_min_s; bad values are
 * clamped (min 1 s, max >= min). */
void complaint_init(struct complaint *c, double interval_min_s, double interval_max_s);

/*
 * Records one failure at now_s. Returns true when the caller should log it now: the first
 * failure of a condition, or the first repeat after the back-off expired (the back-off then
 * doubles). *suppressed_out (may be NULL) gets the number of failures silenced since the last
 * logged line.
 */
bool complaint_failed(struct complaint *c, double now_s, uint64_t *suppressed_out);

/*
 * Records that the condition cleared. Returns true exactly once per failing condition (the
 * caller logs the recovery); *failures_out (may be NULL) gets how many failures it lasted.
 */
bool complaint_cleared(struct complaint *c, uint64_t *failures_out);

/* complaint_failed + log_msg: logs fmt at level when due, adding " (N similar messages
 * suppressed)" when repeats were silenced. */
void complain(struct complaint *c, double now_s, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* complaint_cleared + log_msg: logs fmt at level once when an active condition clears. */
void complain_clear(struct complaint *c, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
