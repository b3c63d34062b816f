/* evidence_retention.c - oldest-first deletion of whole events from an evidence folder. */
#include "evidence/evidence_retention.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RET_NAME_MAX 256
/* A temporary file untouched this long was left by a crash or a power cut: a capture being
 * written grows every few seconds, and a picture or record is renamed within a second. */
#define RET_STALE_TMP_S 3600

static const char *const event_exts[] = { ".flac", ".png", ".txt" };
#define N_EXTS (sizeof(event_exts) / sizeof(event_exts[0]))

struct ret_event {
	char base[RET_NAME_MAX];
	uint64_t bytes;
};

struct ret_list {
	struct ret_event *v;
	size_t n, cap;
};

/* The base of an event file's name into base; false for any other file. */
static bool event_base(const char *name, char *base)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < N_EXTS; i++) {
		size_t el = strlen(event_exts[i]);
		if (len > el && len - el < RET_NAME_MAX &&
		    strcmp(name + len - el, event_exts[i]) == 0) {
			memcpy(base, name, len - el);
			base[len - el] = '\0';
			return true;
		}
	}
	return false;
}

static int add_file(struct ret_list *l, const char *base, uint64_t bytes)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].base, base) == 0) {
			l->v[i].bytes += bytes;
			return AUSCULT_OK;
		}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ret_event *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return AUSCULT_ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n].base, RET_NAME_MAX, "%s", base);
	l->v[l->n].bytes = bytes;
	l->n++;
	return AUSCULT_OK;
}

static int by_base(const void *a, const void *b)
{
	return strcmp(((const struct ret_event *)a)->base, ((const struct ret_event *)b)->base);
}

/* Whether name is one of the writer's temporary files: <base>.flac.tmp, <base>.png.tmpXXXXXX,
 * <base>.txt.tmpXXXXXX. */
static bool temporary(const char *name)
{
	for (size_t i = 0; i < N_EXTS; i++) {
		char infix[16];
		snprintf(infix, sizeof(infix), "%s.tmp", event_exts[i]);
		if (strstr(name, infix))
			return true;
	}
	return false;
}

/* Removes every file of one event; the first failure goes to err. */
static int remove_event(const char *dir, const char *base, struct auscult_err *err)
{
	int rc = AUSCULT_OK;
	for (size_t i = 0; i < N_EXTS; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s%s", dir, base, event_exts[i]);
		if (unlink(path) != 0 && errno != ENOENT && rc == AUSCULT_OK)
			rc = auscult_fail(err, AUSCULT_ERR_IO,
					  "%s: cannot delete it (evidence retention): %s", path,
					  strerror(errno));
	}
	return rc;
}

static bool kept(const char *base, const char *const *keep, size_t n_keep)
{
	for (size_t k = 0; k < n_keep; k++)
		if (keep[k] && strcmp(base, keep[k]) == 0)
			return true;
	return false;
}

int evidence_retention_apply(const char *dir, size_t max_files, uint64_t max_bytes,
			     const char *const *keep, size_t n_keep, size_t *deleted,
			     struct auscult_err *err)
{
	if (deleted)
		*deleted = 0;
	DIR *d = opendir(dir);
	if (!d)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot list the evidence folder: %s",
				    dir, strerror(errno));
	struct ret_list l = { NULL, 0, 0 };
	int rc = AUSCULT_OK;
	struct dirent *e;
	time_t now = time(NULL);
	while ((e = readdir(d)) != NULL) {
		char base[RET_NAME_MAX], path[4096];
		struct stat st;
		if (temporary(e->d_name)) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    now - st.st_mtime > RET_STALE_TMP_S)
				(void)unlink(path); /* a leftover; failing is for the next pass */
			continue;
		}
		if (!event_base(e->d_name, base))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if ((rc = add_file(&l, base, (uint64_t)st.st_size)) != AUSCULT_OK) {
			rc = auscult_fail(err, rc, "%s: out of memory listing the evidence", dir);
			goto out;
		}
	}
	qsort(l.v, l.n, sizeof(*l.v), by_base);
	uint64_t total = 0;
	for (size_t i = 0; i < l.n; i++)
		total += l.v[i].bytes;
	size_t left = l.n;
	for (size_t i = 0; i < l.n && (left > max_files || total > max_bytes); i++) {
		if (kept(l.v[i].base, keep, n_keep))
			continue;
		int r = remove_event(dir, l.v[i].base, err);
		if (r != AUSCULT_OK) {
			rc = r;
			break;
		}
		total -= l.v[i].bytes;
		left--;
		if (deleted)
			(*deleted)++;
	}
out:
	closedir(d);
	free(l.v);
	return rc;
}
