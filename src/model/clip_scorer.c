/* clip_scorer.c - scores whole audio files: features, autoencoder in batches, clip aggregation. */
#include "model/clip_scorer.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "features/features_file.h"

/* The per-vector scores of one audio file, in time order (*scores malloc'd, the caller frees),
 * before clip_score_file aggregates them. */
static int clip_vector_scores(const struct model *m, struct autoencoder *ae, const char *path,
			      float **scores, size_t *n_scores, float *band_errors,
			      struct auscult_err *err)
{
	const uint32_t n_mels = m->features.n_mels;
	const uint32_t n_stack = m->features.n_stack;
	float *frames = NULL, *vector_scores = NULL, *batch_bands = NULL;
	size_t n_frames = 0;
	int rc;

	*scores = NULL;
	*n_scores = 0;
	if (ae->model != m || ae->max_batch == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: the autoencoder was not initialised for this model", path);
	/* The same whole-file, centred features the trainer learnt from (features_file.h). */
	rc = features_from_file(path, &m->features, &frames, &n_frames, err);
	if (rc)
		goto fail;
	size_t n_vectors = features_vector_count(n_frames, &m->features);
	if (n_vectors == 0) {
		double min_s = (double)((n_stack - 1) * m->features.hop_length) /
			       m->features.sample_rate_hz;
		rc = auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"%s: too short: %zu feature frames, one model vector stacks %u; give "
			"a recording of at least %.2f s",
			path, n_frames, n_stack, min_s);
		goto fail;
	}
	vector_scores = malloc(n_vectors * sizeof(float));
	if (band_errors)
		batch_bands = malloc(ae->max_batch * n_mels * sizeof(float));
	if (!vector_scores || (band_errors && !batch_bands)) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory for %zu vector scores",
				  path, n_vectors);
		goto fail;
	}
	if (band_errors)
		memset(band_errors, 0, n_mels * sizeof(float));
	/* Band sums in double: 300+ vectors of values in the hundreds lose digits in float.
	 * feature_params_validate bounds n_mels by 512, which model_validate checked. */
	double band_sum[512];
	if (band_errors)
		for (uint32_t k = 0; k < n_mels; k++)
			band_sum[k] = 0.0;
	/* Vector t is frames t .. t + n_stack - 1: overlapping views, stride n_mels. */
	for (size_t start = 0; start < n_vectors; start += ae->max_batch) {
		size_t n = n_vectors - start < ae->max_batch ? n_vectors - start : ae->max_batch;
		autoencoder_score(ae, frames + start * n_mels, n_mels, n, vector_scores + start,
				  batch_bands);
		if (band_errors)
			for (size_t i = 0; i < n; i++)
				for (uint32_t k = 0; k < n_mels; k++)
					band_sum[k] += batch_bands[i * n_mels + k];
	}
	if (band_errors)
		for (uint32_t k = 0; k < n_mels; k++)
			band_errors[k] = (float)(band_sum[k] / (double)n_vectors);
	*scores = vector_scores;
	*n_scores = n_vectors;
	vector_scores = NULL;
	rc = AUSCULT_OK;
fail:
	free(batch_bands);
	free(vector_scores);
	free(frames);
	return rc;
}

int clip_score_file(const struct model *m, struct autoencoder *ae, const char *path,
		    float *clip_score, float *band_errors, struct auscult_err *err)
{
	float *vector_scores;
	size_t n_vectors;
	*clip_score = NAN;
	int rc = clip_vector_scores(m, ae, path, &vector_scores, &n_vectors, band_errors, err);
	if (rc)
		return rc;
	float score = model_clip_score(m, vector_scores, n_vectors);
	free(vector_scores);
	if (!isfinite(score))
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"%s: the clip score is %g (not finite): the features or the model "
			"produce non-finite values; check the model with `auscult info`",
			path, (double)score);
	*clip_score = score;
	return AUSCULT_OK;
}

/* Audio file name extensions a folder scan picks up (libsndfile reads them all). */
static const char *const audio_extensions[] = {
	".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au",
};

static bool has_audio_extension(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot)
		return false;
	for (size_t i = 0; i < sizeof(audio_extensions) / sizeof(audio_extensions[0]); i++)
		if (strcasecmp(dot, audio_extensions[i]) == 0)
			return true;
	return false;
}

static int list_push(struct clip_list *l, char *owned_path)
{
	if (l->count == l->capacity) {
		size_t cap = l->capacity ? l->capacity * 2 : 64;
		char **grown = realloc(l->paths, cap * sizeof(*grown));
		if (!grown)
			return AUSCULT_ERR_NOMEM;
		l->paths = grown;
		l->capacity = cap;
	}
	l->paths[l->count++] = owned_path;
	return AUSCULT_OK;
}

static char *join_path(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	int slash = a > 0 && dir[a - 1] != '/';
	char *p = malloc(a + (size_t)slash + b + 1);
	if (!p)
		return NULL;
	memcpy(p, dir, a);
	if (slash)
		p[a] = '/';
	memcpy(p + a + slash, name, b + 1);
	return p;
}

/* Depth bound: a symlink loop must not recurse forever. */
#define CLIP_SCAN_MAX_DEPTH 32

static int scan_dir(struct clip_list *l, const char *dir, int depth, struct auscult_err *err)
{
	if (depth > CLIP_SCAN_MAX_DEPTH)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: folders nested more than %d deep (a symlink loop?)", dir,
				    CLIP_SCAN_MAX_DEPTH);
	DIR *d = opendir(dir);
	if (!d)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot read the folder: %s", dir,
				    strerror(errno));
	int rc = AUSCULT_OK;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue; /* ".", "..", and hidden files such as editors' leftovers */
		char *path = join_path(dir, e->d_name);
		if (!path) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", dir);
			break;
		}
		/* Anything but a folder is listed by its name: a dangling symlink named like audio
		 * is listed too, so that whoever opens it reports it rather than it silently
		 * missing from the results. */
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = scan_dir(l, path, depth + 1, err);
			free(path);
			if (rc)
				break;
		} else if (has_audio_extension(e->d_name)) {
			rc = list_push(l, path);
			if (rc) {
				free(path);
				auscult_fail(err, rc, "%s: out of memory", dir);
				break;
			}
		} else {
			free(path);
		}
		errno = 0;
	}
	if (rc == AUSCULT_OK && errno != 0)
		rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: reading the folder failed: %s", dir,
				  strerror(errno));
	closedir(d);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int clip_list_add(struct clip_list *l, const char *path, struct auscult_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: %s; check the path", path,
				    strerror(errno));
	size_t before = l->count;
	if (!S_ISDIR(st.st_mode)) {
		char *copy = strdup(path);
		if (!copy || list_push(l, copy) != AUSCULT_OK) {
			free(copy);
			return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
		}
		return AUSCULT_OK;
	}
	int rc = scan_dir(l, path, 0, err);
	if (rc == AUSCULT_OK && l->count == before)
		rc = auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"%s: no audio files (.wav, .flac, .ogg, .oga, .aif, .aiff, .au) in "
			"this folder or below it; give a folder of recordings",
			path);
	if (rc != AUSCULT_OK) {
		while (l->count > before)
			free(l->paths[--l->count]);
		return rc;
	}
	qsort(l->paths + before, l->count - before, sizeof(*l->paths), cmp_path);
	return AUSCULT_OK;
}

void clip_list_free(struct clip_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		free(l->paths[i]);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}
