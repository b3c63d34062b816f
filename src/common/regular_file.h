/* regular_file.h - open a path from outside only if it is a regular file, without ever blocking. */
#ifndef AUSCULT_REGULAR_FILE_H
#define AUSCULT_REGULAR_FILE_H

#include <sys/stat.h>

#include "common/status.h"

/*
 * Opens path read-only (close-on-exec) and returns the descriptor, or -1 with err set to
 * "PATH: is a named pipe, not a regular file; expected WHAT" and the like. A FIFO, a device or a directory is refused
 * before a single byte is read, so a named pipe never blocks the caller (open uses O_NONBLOCK,
 * cleared again for the regular file). `what` names the file expected ("the model file"); a failed open gives "PATH: cannot open WHAT: errno text". If st is
 * not NULL it receives the file's fstat. *status (may be NULL) receives the auscult status.
 * Any thread.
 */
int regular_file_open(const char *path, const char *what, struct stat *st, int *status,
		      struct auscult_err *err);

/* "a named pipe", "a directory", ...: what a non-regular st_mode is, for messages. */
const char *regular_file_kind(mode_t mode);

#endif
