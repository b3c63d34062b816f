/* test_atomic_file.c - a file replaced whole or not at all; /dev/null and FIFOs written in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/atomic_file.h"

static char dir[] = "/tmp/auscult-atomic-XXXXXX";

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char p[512];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static size_t entries(void)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void read_text(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* A commit replaces the old content whole; an abort leaves it as it was and no temporary. */
static void replaced_whole_or_not_at_all(void **state)
{
	(void)state;
	char path[512], text[64];
	snprintf(path, sizeof(path), "%s/model.am", dir);
	struct auscult_err err;
	struct atomic_file af;
	assert_int_equal(atomic_file_open(&af, path, "the test file", &err), AUSCULT_OK);
	fputs("first", af.fp);
	assert_int_equal(atomic_file_commit(&af, &err), AUSCULT_OK);
	read_text(path, text, sizeof(text));
	assert_string_equal(text, "first");

	assert_int_equal(atomic_file_open(&af, path, "the test file", &err), AUSCULT_OK);
	fputs("second, cut short", af.fp);
	atomic_file_abort(&af);
	read_text(path, text, sizeof(text));
	assert_string_equal(text, "first");
	assert_int_equal(entries(), 1);

	snprintf(path, sizeof(path), "%s/no/such/folder.am", dir);
	assert_int_equal(atomic_file_open(&af, path, "the test file", &err), AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, "cannot create the test file beside it"));
}

/* A FIFO (like /dev/null, not a regular file) is written in place and stays a FIFO: a rename
 * used to put a regular file in its place, and `auscult features --out /dev/null`, run as root,
 * turned the machine's /dev/null into a file. */
static void a_fifo_is_written_in_place(void **state)
{
	(void)state;
	char fifo[512], got[512];
	snprintf(fifo, sizeof(fifo), "%s/pipe", dir);
	snprintf(got, sizeof(got), "%s/got", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		int in = open(fifo, O_RDONLY), out = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char buf[256];
		ssize_t n;
		while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(0);
	}
	struct auscult_err err;
	struct atomic_file af;
	assert_int_equal(atomic_file_open(&af, fifo, "the test file", &err), AUSCULT_OK);
	assert_null(af.tmp);
	fputs("through the pipe", af.fp);
	assert_int_equal(atomic_file_commit(&af, &err), AUSCULT_OK);
	int status = 1;
	assert_int_equal(waitpid(reader, &status, 0), reader);
	assert_int_equal(status, 0);
	struct stat st;
	assert_int_equal(stat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	char text[64];
	read_text(got, text, sizeof(text));
	assert_string_equal(text, "through the pipe");
	assert_int_equal(entries(), 3); /* model.am, pipe, got: no temporary */
}

/* A link to a file: the target is replaced, the link stays. A dangling link creates its
 * target. A link through /proc (as /dev/stdout is) is written in place. */
static void links_stay_links(void **state)
{
	(void)state;
	char target[512], link[512], dangling[512], gone[512], text[64];
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(dangling, sizeof(dangling), "%s/dangling", dir);
	snprintf(gone, sizeof(gone), "%s/gone", dir);
	FILE *f = fopen(target, "w");
	assert_non_null(f);
	fputs("old", f);
	fclose(f);
	assert_int_equal(symlink("target", link), 0);
	assert_int_equal(symlink("gone", dangling), 0);
	struct auscult_err err;
	struct atomic_file af;
	assert_int_equal(atomic_file_open(&af, link, "the test file", &err), AUSCULT_OK);
	assert_non_null(af.tmp); /* atomic, beside the target */
	fputs("new", af.fp);
	assert_int_equal(atomic_file_commit(&af, &err), AUSCULT_OK);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	read_text(target, text, sizeof(text));
	assert_string_equal(text, "new");

	assert_int_equal(atomic_file_open(&af, dangling, "the test file", &err), AUSCULT_OK);
	fputs("made", af.fp);
	assert_int_equal(atomic_file_commit(&af, &err), AUSCULT_OK);
	assert_int_equal(lstat(dangling, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	read_text(gone, text, sizeof(text));
	assert_string_equal(text, "made");

	/* stdout redirected to a file, reached through a link into /proc/self/fd. */
	char out_path[512], fd_link[512];
	snprintf(out_path, sizeof(out_path), "%s/redirected", dir);
	snprintf(fd_link, sizeof(fd_link), "%s/stdout", dir);
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	assert_int_equal(symlink(proc, fd_link), 0);
	assert_int_equal(atomic_file_open(&af, fd_link, "the test file", &err), AUSCULT_OK);
	assert_null(af.tmp);
	fputs("through fd", af.fp);
	assert_int_equal(atomic_file_commit(&af, &err), AUSCULT_OK);
	close(fd);
	assert_int_equal(lstat(fd_link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	read_text(out_path, text, sizeof(text));
	assert_string_equal(text, "through fd");
	unlink(fd_link);
	unlink(out_path);
	unlink(link);
	unlink(dangling);
	unlink(target);
	unlink(gone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replaced_whole_or_not_at_all),
		cmocka_unit_test(a_fifo_is_written_in_place),
		cmocka_unit_test(links_stay_links),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
