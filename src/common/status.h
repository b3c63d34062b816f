/* status.h - the one status enum of auscult, and an error-message buffer that names the fault. */
#ifndef AUSCULT_STATUS_H
#define AUSCULT_STATUS_H

#include <stddef.h>

enum auscult_status {
	AUSCULT_OK = 0,
	AUSCULT_ERR_NOMEM,       /* an allocation failed */
	AUSCULT_ERR_IO,          /* open/read/write failed (errno text in the message) */
	AUSCULT_ERR_FORMAT,      /* the bytes are not what the format says */
	AUSCULT_ERR_TRUNCATED,   /* the input ends before the format says it should */
	AUSCULT_ERR_VERSION,     /* a format version this build does not know */
	AUSCULT_ERR_CHECKSUM,    /* CRC mismatch */
	AUSCULT_ERR_INVALID,     /* a value out of range or inconsistent */
	AUSCULT_ERR_UNSUPPORTED, /* valid, but not something this build can do */
	AUSCULT_ERR_DEVICE,      /* a capture device failed, vanished or refused */
	AUSCULT_ERR_TIMEOUT,     /* nothing arrived in time */
	AUSCULT_ERR_EOF,         /* the stream ended cleanly */
	AUSCULT_ERR_INTERRUPTED, /* stopped by a signal or a request */
	AUSCULT_ERR_MQTT,        /* the MQTT client library refused */
	AUSCULT_STATUS_COUNT
};

/* Short English text for a status ("truncated input"); never NULL. */
const char *auscult_strerror(int status);

/*
 * A message that says what went wrong, where, and what was expected, e.g.
 * "models/pump.am: truncated at byte 812 of 4096: the file is incomplete; retrain or re-copy it".
 * Functions that can fail take a `struct auscult_err *` (may be NULL) and fill it once, at the
 * place where the fault is best understood.
 */
#define AUSCULT_ERR_MSG_MAX 512
struct auscult_err {
	char msg[AUSCULT_ERR_MSG_MAX];
};

/* Formats into err (NULL-safe) and returns status, so callers can `return auscult_fail(...)`. */
int auscult_fail(struct auscult_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clears the message. */
void auscult_err_clear(struct auscult_err *err);

#endif
