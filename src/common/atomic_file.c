/* atomic_file.c - temporary name, fsync, rename, fsync of the folder (see atomic_file.h). */
#include "common/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens path itself for writing, for a target a rename must not replace. */
static int open_in_place(struct atomic_file *af, const char *path, const char *what,
			 struct auscult_err *err)
{
	af->path = strdup(path);
	af->fp = af->path ? fopen(path, "wb") : NULL;
	if (!af->fp) {
		int rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot open %s: %s", path, what,
				      af->path ? strerror(errno) : "out of memory");
		atomic_file_abort(af);
		return rc;
	}
	return AUSCULT_OK;
}

int atomic_file_open(struct atomic_file *af, const char *path, const char *what,
		     struct auscult_err *err)
{
	memset(af, 0, sizeof(*af));
	/* /dev/null, a FIFO, a terminal, /dev/stdout: written in place. A rename would put a
	 * regular file in their place (as root, a /dev/null that is a file breaks the system). */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return open_in_place(af, path, what, err);
	/* A symbolic link: the rename goes beside its target, which keeps the link; through
	 * /proc (/dev/stdout redirected to a file) or dangling, it is written in place. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		char link[16] = { 0 };
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		bool via_proc = n >= 6 && strncmp(link, "/proc/", 6) == 0;
		char *target = via_proc ? NULL : realpath(path, NULL);
		if (!target || strncmp(target, "/proc/", 6) == 0) {
			free(target);
			return open_in_place(af, path, what, err);
		}
		int rc = atomic_file_open(af, target, what, err);
		free(target);
		return rc;
	}
	size_t len = strlen(path);
	af->path = malloc(len + 1);
	af->tmp = malloc(len + sizeof(".tmpXXXXXX"));
	if (!af->path || !af->tmp) {
		atomic_file_abort(af);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
	}
	memcpy(af->path, path, len + 1);
	memcpy(af->tmp, path, len);
	memcpy(af->tmp + len, ".tmpXXXXXX", sizeof(".tmpXXXXXX"));
	int fd = mkstemp(af->tmp);
	if (fd < 0) {
		int rc = auscult_fail(err, AUSCULT_ERR_IO,
				      "%s: cannot create %s beside it: %s; check that the folder "
				      "exists and is writable",
				      path, what, strerror(errno));
		free(af->tmp);
		af->tmp = NULL; /* nothing was created, so abort must not unlink the pattern */
		atomic_file_abort(af);
		return rc;
	}
	if (fchmod(fd, 0644) != 0 || !(af->fp = fdopen(fd, "wb"))) {
		int rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot open %s: %s", af->tmp, what,
				      strerror(errno));
		close(fd);
		atomic_file_abort(af);
		return rc;
	}
	return AUSCULT_OK;
}

/* Makes the rename itself survive a power cut. */
static int sync_folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
	char *dir = malloc(len + 2);
	if (!dir) {
		errno = ENOMEM;
		return -1;
	}
	if (len == 0) {
		strcpy(dir, ".");
	} else {
		memcpy(dir, path, len);
		dir[len] = '\0';
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int atomic_file_commit(struct atomic_file *af, struct auscult_err *err)
{
	int rc = AUSCULT_OK;
	bool in_place = !af->tmp;
	int bad = fflush(af->fp) != 0 || ferror(af->fp) ||
		  (!in_place && fsync(fileno(af->fp)) != 0);
	int saved = errno;
	int closed = fclose(af->fp);
	af->fp = NULL;
	if (bad || closed != 0) {
		rc = auscult_fail(err, AUSCULT_ERR_IO,
				  "%s: cannot write %s: %s; check the free space", af->path,
				  in_place ? "it" : af->tmp, strerror(bad ? saved : errno));
	} else if (in_place) {
		/* written where it goes: nothing to rename, no folder entry to sync */
	} else if (rename(af->tmp, af->path) != 0) {
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot rename %s over it: %s", af->path,
				  af->tmp, strerror(errno));
	} else {
		free(af->tmp);
		af->tmp = NULL; /* in place now: nothing left to remove */
		if (sync_folder_of(af->path) != 0)
			rc = auscult_fail(err, AUSCULT_ERR_IO,
					  "%s: written, but its folder cannot be synced: %s",
					  af->path, strerror(errno));
	}
	atomic_file_abort(af);
	return rc;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (!af)
		return;
	if (af->fp)
		fclose(af->fp);
	if (af->tmp)
		unlink(af->tmp);
	free(af->tmp);
	free(af->path);
	memset(af, 0, sizeof(*af));
}
