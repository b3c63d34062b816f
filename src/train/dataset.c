/* dataset.c - collects training files, computes their features and stacks them into vectors. */
#include "train/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/features_file.h"
#include "model/clip_scorer.h"

int dataset_add_path(struct dataset *ds, const char *path, struct auscult_err *err)
{
	/* The files `auscult score` would score for the same path: one way to collect recordings. */
	struct clip_list found = { 0 };
	int rc = clip_list_add(&found, path, err);
	if (rc)
		return rc;
	if (found.count > UINT32_MAX / 2 - ds->n_files) {
		clip_list_free(&found);
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: too many files (%zu) to train on", path, found.count);
	}
	uint32_t need = ds->n_files + (uint32_t)found.count;
	if (need > ds->cap_files) {
		uint32_t cap = ds->cap_files ? ds->cap_files * 2 : 64;
		if (cap < need)
			cap = need;
		char **grown = realloc(ds->paths, cap * sizeof(*grown));
		if (!grown) {
			clip_list_free(&found);
			return auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory adding %s",
					    path);
		}
		ds->paths = grown;
		ds->cap_files = cap;
	}
	/* The strings move to ds; only the list's array is freed. */
	memcpy(ds->paths + ds->n_files, found.paths, found.count * sizeof(*found.paths));
	ds->n_files = need;
	free(found.paths);
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
			memcpy(ds->vectors + (ds->n_vectors + t) * ds->dim, frames + t * p->n_mels,
			       ds->dim * sizeof(float));
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
			std[j] = (float)(s > MODEL_INPUT_STD_MIN ? s : MODEL_INPUT_STD_MIN);
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
		std[j] = (float)(s > MODEL_INPUT_STD_MIN ? s : MODEL_INPUT_STD_MIN);
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
