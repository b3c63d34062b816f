/* regular_file.c - open a path from outside only if it is a regular file (see regular_file.h). */
#include "common/regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

const char *regular_file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a named pipe";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISREG(mode))
		return "a regular file";
	return "not a regular file";
}

int regular_file_open(const char *path, const char *what, struct stat *st, int *status,
		      struct auscult_err *err)
{
	struct stat own;
	if (!st)
		st = &own;
	/* O_NONBLOCK: opening a FIFO with no writer would otherwise wait for ever. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	int rc = AUSCULT_OK;
	if (fd < 0) {
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot open %s: %s", path, what,
				  strerror(errno));
		goto out;
	}
	if (fstat(fd, st) != 0) {
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot stat: %s", path,
				  strerror(errno));
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: is %s, not a regular file; expected %s",
				  path, regular_file_kind(st->st_mode), what);
		goto out;
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot set blocking reads: %s", path,
				  strerror(errno));
		goto out;
	}
out:
	if (rc != AUSCULT_OK && fd >= 0) {
		close(fd);
		fd = -1;
	}
	if (status)
		*status = rc;
	return fd;
}
