/* clock.h - the process's two clocks: monotonic for intervals and deadlines, wall for stamps. */
#ifndef AUSCULT_CLOCK_H
#define AUSCULT_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in seconds: intervals, back-offs, rate limits. Any thread. */
double clock_mono_s(void);

/* CLOCK_MONOTONIC in nanoseconds: absolute deadlines (pacing, timed waits). Any thread. */
int64_t clock_mono_ns(void);

/* CLOCK_REALTIME in unix milliseconds: time stamps in payloads and logs. Any thread. */
int64_t clock_wall_ms(void);

#endif
