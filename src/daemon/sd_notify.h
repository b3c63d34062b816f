/* sd_notify.h - systemd READY/STATUS/WATCHDOG over $NOTIFY_SOCKET, without libsystemd. */
#ifndef AUSCULT_SD_NOTIFY_H
#define AUSCULT_SD_NOTIFY_H

#include <stdint.h>

/*
 * Sends state (e.g. "READY=1", "STATUS=2 monitors: ...", "WATCHDOG=1") as one datagram to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@' for the abstract namespace).
 * Returns 1 when sent, 0 when not under systemd (no NOTIFY_SOCKET), -errno on failure.
 * Any thread; opens and closes its own socket per call (a few calls per second at most).
 */
int sd_notify_send(const char *state);

/*
 * The watchdog interval systemd asks for, from $WATCHDOG_USEC (and $WATCHDOG_PID, which must be
 * ours when set), in microseconds; 0 when the watchdog is off.
 */
uint64_t sd_watchdog_usec(void);

#endif
