/* status.c - status texts and the error-message helper. */
#include "common/status.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const status_text[AUSCULT_STATUS_COUNT] = {
	[AUSCULT_OK] = "success",
	[AUSCULT_ERR_NOMEM] = "out of memory",
	[AUSCULT_ERR_IO] = "input/output error",
	[AUSCULT_ERR_FORMAT] = "bad format",
	[AUSCULT_ERR_TRUNCATED] = "truncated input",
	[AUSCULT_ERR_VERSION] = "unknown format version",
	[AUSCULT_ERR_CHECKSUM] = "checksum mismatch",
	[AUSCULT_ERR_INVALID] = "invalid value",
	[AUSCULT_ERR_UNSUPPORTED] = "unsupported",
	[AUSCULT_ERR_DEVICE] = "audio device error",
	[AUSCULT_ERR_TIMEOUT] = "timed out",
	[AUSCULT_ERR_EOF] = "end of stream",
	[AUSCULT_ERR_INTERRUPTED] = "interrupted",
	[AUSCULT_ERR_MQTT] = "MQTT error",
};

const char *auscult_strerror(int status)
{
	if (status < 0 || status >= AUSCULT_STATUS_COUNT || !status_text[status])
		return "unknown error";
	return status_text[status];
}

int auscult_fail(struct auscult_err *err, int status, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return status;
}

void auscult_err_clear(struct auscult_err *err)
{
	if (err)
		err->msg[0] = '\0';
}
