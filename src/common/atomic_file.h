/* atomic_file.h - write a file under a temporary name, sync it, and rename it into place. */
#ifndef AUSCULT_ATOMIC_FILE_H
#define AUSCULT_ATOMIC_FILE_H

#include <stdio.h>

#include "common/status.h"

/* A file being written: readers of `path` see the old file or the whole new one, never a part.
 * A path that exists and is not a regular file (/dev/null, a FIFO), a link through /proc
 * (/dev/stdout) and a dangling link are written in place; a link to a regular file is replaced
 * beside its target, so the link stays. */
struct atomic_file {
	FILE *fp;   /* write the content here (binary stream) */
	char *path; /* the final name */
	char *tmp;  /* "<path>.tmpXXXXXX" beside it, so the rename stays on one file system;
		       NULL when written in place */
};

/*
 * Creates the temporary file beside path (mode 0644) and opens af->fp on it. `what` names the
 * file for messages ("the evidence record"). Returns AUSCULT_OK, or AUSCULT_ERR_IO /
 * AUSCULT_ERR_NOMEM with err naming path and the fix; on failure *af holds nothing.
 * Any thread; af belongs to its caller.
 */
int atomic_file_open(struct atomic_file *af, const char *path, const char *what,
		     struct auscult_err *err);

/*
 * Flushes and fsyncs the content, closes it, renames it over path and fsyncs the folder.
 * Returns AUSCULT_OK, or AUSCULT_ERR_IO with err naming the path (a write error on the stream,
 * a full disk, a failed rename); on failure the temporary file is removed. Either way af is
 * released.
 */
int atomic_file_commit(struct atomic_file *af, struct auscult_err *err);

/* Closes and removes the temporary file and releases af. NULL-safe, safe twice. */
void atomic_file_abort(struct atomic_file *af);

#endif
