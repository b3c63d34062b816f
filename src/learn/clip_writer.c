/* clip_writer.c - 16-bit WAV clips written to a temporary name, synced, then renamed into place. */
#include "learn/clip_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct clip_writer {
	char *dir;
	uint32_t rate_hz;
	size_t clip_samples;
	SNDFILE *sf;   /* the clip in progress, or NULL */
	size_t have;   /* samples in it */
	char name[32]; /* its time name, "20261204T161500Z" */
	char tmp_path[CLIP_WRITER_PATH_MAX];
	char last_path[CLIP_WRITER_PATH_MAX];
};

void clip_time_name(char *buf, size_t cap, int64_t unix_ms)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y%m%dT%H%M%SZ", &tm);
}

int clip_writer_create(struct clip_writer **out, const struct clip_writer_config *cfg,
		       struct auscult_err *err)
{
	*out = NULL;
	if (!cfg->dir || !*cfg->dir)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "clip writer: no folder given");
	if (cfg->rate_hz == 0 || !(cfg->clip_s > 0.0) || cfg->clip_s * cfg->rate_hz < 1.0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "clip writer: clips of %g s at %u Hz hold no sample",
				    cfg->clip_s, cfg->rate_hz);
	struct stat st;
	if (stat(cfg->dir, &st) != 0)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: %s", cfg->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: not a folder", cfg->dir);
	if (access(cfg->dir, W_OK | X_OK) != 0)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot write in it: %s", cfg->dir,
				    strerror(errno));
	if (strlen(cfg->dir) + 40 > CLIP_WRITER_PATH_MAX)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "%.80s...: the path is too long",
				    cfg->dir);
	struct clip_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->dir = strdup(cfg->dir))) {
		free(w);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "clip writer: out of memory");
	}
	w->rate_hz = cfg->rate_hz;
	w->clip_samples = (size_t)llround(cfg->clip_s * cfg->rate_hz);
	*out = w;
	return AUSCULT_OK;
}

static int begin_clip(struct clip_writer *w, int64_t start_ms, struct auscult_err *err)
{
	clip_time_name(w->name, sizeof(w->name), start_ms);
	snprintf(w->tmp_path, sizeof(w->tmp_path), "%s/.%s.wav.part", w->dir, w->name);
	int fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot create: %s", w->tmp_path,
				    strerror(errno));
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	info.samplerate = (int)w->rate_hz;
	info.channels = 1;
	info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
	w->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
	if (!w->sf) {
		int rc = auscult_fail(err, AUSCULT_ERR_IO,
				      "%s: cannot write a WAV file (libsndfile: %s)", w->tmp_path,
				      sf_strerror(NULL));
		close(fd);
		unlink(w->tmp_path);
		return rc;
	}
	/* Samples beyond full scale become full scale, not wrapped to the other sign. */
	sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	w->have = 0;
	return AUSCULT_OK;
}

void clip_writer_abort(struct clip_writer *w)
{
	if (!w || !w->sf)
		return;
	sf_close(w->sf);
	w->sf = NULL;
	w->have = 0;
	unlink(w->tmp_path);
}

/* Header, data and folder entry on disk, then the final name: a clip is whole or absent. */
static int finish_clip(struct clip_writer *w, struct auscult_err *err)
{
	sf_command(w->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
	sf_write_sync(w->sf);
	int e = sf_close(w->sf);
	w->sf = NULL;
	w->have = 0;
	if (e != 0) {
		unlink(w->tmp_path);
		return auscult_fail(err, AUSCULT_ERR_IO,
				    "%s: cannot finish the file (libsndfile: %s)", w->tmp_path,
				    sf_error_number(e));
	}
	char path[CLIP_WRITER_PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s.wav", w->dir, w->name);
	for (int k = 1; lstat(path, &st) == 0 && k < 100; k++)
		snprintf(path, sizeof(path), "%s/%s-%d.wav", w->dir, w->name, k);
	if (rename(w->tmp_path, path) != 0) {
		int rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot rename to %s: %s",
				      w->tmp_path, path, strerror(errno));
		unlink(w->tmp_path);
		return rc;
	}
	int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	snprintf(w->last_path, sizeof(w->last_path), "%s", path);
	return AUSCULT_OK;
}

int clip_writer_push(struct clip_writer *w, const float *x, size_t n, int64_t first_ms,
		     uint32_t *completed, struct auscult_err *err)
{
	uint32_t done = 0;
	size_t i = 0;
	int rc = AUSCULT_OK;
	while (i < n) {
		if (!w->sf) {
			int64_t at_ms = first_ms + (int64_t)((double)i * 1000.0 / w->rate_hz);
			if ((rc = begin_clip(w, at_ms, err)) != AUSCULT_OK)
				break;
		}
		size_t take = w->clip_samples - w->have;
		if (take > n - i)
			take = n - i;
		if (sf_write_float(w->sf, x + i, (sf_count_t)take) != (sf_count_t)take) {
			rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: write failed (libsndfile: %s)",
					  w->tmp_path, sf_strerror(w->sf));
			clip_writer_abort(w);
			break;
		}
		w->have += take;
		i += take;
		if (w->have == w->clip_samples) {
			if ((rc = finish_clip(w, err)) != AUSCULT_OK)
				break;
			done++;
		}
	}
	if (completed)
		*completed = done;
	return rc;
}

size_t clip_writer_partial_samples(const struct clip_writer *w)
{
	return w->sf ? w->have : 0;
}

size_t clip_writer_clip_samples(const struct clip_writer *w)
{
	return w->clip_samples;
}

const char *clip_writer_last_path(const struct clip_writer *w)
{
	return w->last_path;
}

void clip_writer_destroy(struct clip_writer *w)
{
	if (!w)
		return;
	clip_writer_abort(w);
	free(w->dir);
	free(w);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

int clip_dir_scan(const char *dir, uint32_t *n_clips, struct auscult_err *err)
{
	*n_clips = 0;
	DIR *d = opendir(dir);
	if (!d)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot read the folder: %s", dir,
				    strerror(errno));
	struct dirent *e;
	char path[CLIP_WRITER_PATH_MAX];
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			if (has_suffix(e->d_name, ".wav.part")) {
				snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
				unlink(path);
			}
			continue;
		}
		if (has_suffix(e->d_name, ".wav"))
			(*n_clips)++;
	}
	closedir(d);
	return AUSCULT_OK;
}
