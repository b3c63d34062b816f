/* dataset.c - collects training files, computes their features and stacks them into vectors. */
#include "model/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "features/features_file.h"

static const char *const audio_ext[] = { ".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au" };

static int is_audio_name(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(audio_ext) / sizeof(audio_ext[0]); i++) {
		size_t e = strlen(audio_ext[i]);
		if (n > e && strcasecmp(name + n - e, audio_ext[i]) == 0)
			return 1;
	}
	return 0;
}

static int push_path(struct dataset *ds, const char *path)
{
	if (ds->n_files == ds->cap_files) {
		uint32_t cap = ds->cap_files ? ds->cap_files * 2 : 64;
		char **p = realloc(ds->paths, cap * sizeof(*p));
		if (!p)
			return AUSCULT_ERR_NOMEM;
		ds->paths = p;
		ds->cap_files = cap;
	}
	char *copy = strdup(path);
	if (!copy)
		return AUSCULT_ERR_NOMEM;
	ds->paths[ds->n_files++] = copy;
	return AUSCULT_OK;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the audio files under dir, recursively; *found counts them. */
static int add_dir(struct dataset *ds, const char *dir, uint32_t *found, int depth,
		   struct auscult_err *err)
{
	if (depth > 32)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: folders nested more than 32 deep (a symlink loop?)", dir);
	DIR *d = opendir(dir);
	if (!d)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot read the folder: %s", dir,
				    strerror(errno));
	int rc = AUSCULT_OK;
	struct dirent *e;
	char *path = NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		free(path);
		path = malloc(len);
		if (!path) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory listing %s", dir);
			goto done;
		}
		snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue; /* a dangling symlink is not training data */
		if (S_ISDIR(st.st_mode)) {
			rc = add_dir(ds, path, found, depth + 1, err);
			if (rc)
				goto done;
		} else if (S_ISREG(st.st_mode) && is_audio_name(e->d_name)) {
			if (push_path(ds, path)) {
				rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory listing %s",
						  dir);
				goto done;
			}
			(*found)++;
		}
	}
done:
	free(path);
	closedir(d);
	return rc;
}

int dataset_add_path(struct dataset *ds, const char *path, struct auscult_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (push_path(ds, path))
			return auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory adding %s", path);
		return AUSCULT_OK;
	}
	uint32_t before = ds->n_files, found = 0;
	int rc = add_dir(ds, path, &found, 0, err);
	if (rc == AUSCULT_OK && found == 0)
		rc = auscult_fail(err, AUSCULT_ERR_INVALID,
				  "%s: no audio files in this folder (looked for .wav, .flac, .ogg, "
				  ".aif, .au, also in subfolders); give a folder of recordings",
				  path);
	if (rc) {
		/* Leave the list as it was before the call. */
		while (ds->n_files > before)
			free(ds->paths[--ds->n_files]);
		return rc;
	}
	qsort(ds->paths + before, ds->n_files - before, sizeof(char *), cmp_path);
	return AUSCULT_OK;
}

int dataset_load(struct dataset *ds, const struct feature_params *p, dataset_progress_fn progress,
		 void *ctx, struct auscult_err *err)
{
	if (ds->n_files == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "no training files given; name a folder of recordings of the "
				    "healthy machine");
	int rc = feature_params_validate(p, err);
	if (rc)
		return rc;
	free(ds->vectors);
	free(ds->file_first);
	ds->vectors = NULL;
	ds->n_vectors = 0;
	ds->features = *p;
	ds->dim = feature_params_vector_dim(p);
	ds->file_first = calloc((size_t)ds->n_files + 1, sizeof(uint64_t));
	if (!ds->file_first)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory loading the dataset");
	uint64_t cap = 0;
	float *frames = NULL;
	for (uint32_t f = 0; f < ds->n_files; f++) {
		size_t n_frames = 0;
		frames = NULL;
		rc = features_from_file(ds->paths[f], p, &frames, &n_frames, err);
		if (rc)
			goto fail;
		if (n_frames < p->n_stack) {
			rc = auscult_fail(err, AUSCULT_ERR_INVALID,
					  "%s: %zu log-mel frames; at least %u are needed for one "
					  "vector (the recording is too short to train on)",
					  ds->paths[f], n_frames, p->n_stack);
			goto fail;
		}
		uint64_t n_vec = n_frames - p->n_stack + 1;
		if (ds->n_vectors + n_vec > cap) {
			uint64_t want = cap ? cap * 2 : n_vec * ds->n_files;
			if (want < ds->n_vectors + n_vec)
				want = ds->n_vectors + n_vec;
			float *v = realloc(ds->vectors, want * ds->dim * sizeof(float));
			if (!v) {
				rc = auscult_fail(err, AUSCULT_ERR_NOMEM,
						  "out of memory: %llu vectors of %u floats",
						  (unsigned long long)want, ds->dim);
				goto fail;
			}
			ds->vectors = v;
			cap = want;
		}
		/* Consecutive frames are contiguous, so vector t is frames + t * n_mels. */
		for (uint64_t t = 0; t < n_vec; t++)
			memcpy(ds->vectors + (ds->n_vectors + t) * ds->dim,
			       frames + t * p->n_mels, ds->dim * sizeof(float));
		for (uint64_t i = 0; i < n_vec * ds->dim; i++) {
			float x = ds->vectors[ds->n_vectors * ds->dim + i];
			if (!isfinite(x)) {
				rc = auscult_fail(err, AUSCULT_ERR_FORMAT,
						  "%s: a log-mel value is not finite (%g)",
						  ds->paths[f], (double)x);
				goto fail;
			}
		}
		ds->n_vectors += n_vec;
		ds->file_first[f + 1] = ds->n_vectors;
		free(frames);
		frames = NULL;
		if (progress)
			progress(ctx, f + 1, ds->n_files, ds->paths[f]);
	}
	if (cap > ds->n_vectors) {
		/* Give back the doubling slack: the array is most of the trainer's memory. */
		float *v = realloc(ds->vectors, ds->n_vectors * ds->dim * sizeof(float));
		if (v)
			ds->vectors = v;
	}
	return AUSCULT_OK;
fail:
	free(frames);
	free(ds->vectors);
	ds->vectors = NULL;
	ds->n_vectors = 0;
	return rc;
}

void dataset_mean_std(const struct dataset *ds, uint64_t n_rows, float *mean, float *std)
{
	uint32_t d = ds->dim;
	double *sum = calloc(2 * (size_t)d, sizeof(double));
	if (sum) {
		double *sq = sum + d;
		for (uint64_t r = 0; r < n_rows; r++)
			for (uint32_t j = 0; j < d; j++)
				sum[j] += ds->vectors[r * d + j];
		for (uint32_t j = 0; j < d; j++)
			sum[j] /= (double)n_rows;
		for (uint64_t r = 0; r < n_rows; r++)
			for (uint32_t j = 0; j < d; j++) {
				double dev = ds->vectors[r * d + j] - sum[j];
				sq[j] += dev * dev;
			}
		for (uint32_t j = 0; j < d; j++) {
			mean[j] = (float)sum[j];
			double s = sqrt(sq[j] / (double)n_rows);
			std[j] = (float)(s > 1e-6 ? s : 1e-6);
		}
		free(sum);
		return;
	}
	/* Out of memory for 2 x dim doubles: a slower float pass per column still works. */
	for (uint32_t j = 0; j < d; j++) {
		double m = 0, s = 0;
		for (uint64_t r = 0; r < n_rows; r++)
			m += ds->vectors[r * d + j];
		m /= (double)n_rows;
		for (uint64_t r = 0; r < n_rows; r++)
			s += (ds->vectors[r * d + j] - m) * (ds->vectors[r * d + j] - m);
		mean[j] = (float)m;
		s = sqrt(s / (double)n_rows);
		std[j] = (float)(s > 1e-6 ? s : 1e-6);
	}
}

void dataset_free(struct dataset *ds)
{
	if (!ds)
		return;
	for (uint32_t i = 0; i < ds->n_files; i++)
		free(ds->paths[i]);
	free(ds->paths);
	free(ds->vectors);
	free(ds->file_first);
	memset(ds, 0, sizeof(*ds));
}
