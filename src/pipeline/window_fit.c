/* window_fit.c - the scores a threshold is fitted to: recordings replayed through the pipeline. */
#include "pipeline/window_fit.h"

#include <stdbool.h>
#include <stdlib.h>

#include "audio/audio_source.h"

struct kept_scores {
	double *v;
	size_t n, capacity;
	size_t file_windows; /* of the recording being replayed */
	bool oom;
};

static void keep_window(void *ctx, const struct pipeline_window *w)
{
	struct kept_scores *k = ctx;
	if (w->idle || k->oom)
		return;
	if (k->n == k->capacity) {
		size_t cap = k->capacity ? k->capacity * 2 : 1024;
		double *grown = realloc(k->v, cap * sizeof(*grown));
		if (!grown) {
			k->oom = true;
			return;
		}
		k->v = grown;
		k->capacity = cap;
	}
	k->v[k->n++] = w->smoothed;
	k->file_windows++;
}

int window_fit_scores(const struct model *m, const struct pipeline_settings *ps, char *const *paths,
		      size_t n_paths, double **scores, size_t *n_scores, struct auscult_err *err)
{
	*scores = NULL;
	*n_scores = 0;
	struct kept_scores k = { 0 };
	struct pipeline *pl = NULL;
	struct pipeline_config pc = {
		.model = m, .settings = *ps, .on_window = keep_window, .ctx = &k
	};
	int rc = pipeline_create(&pl, &pc, err);
	for (size_t f = 0; f < n_paths && rc == AUSCULT_OK; f++) {
		k.file_windows = 0;
		rc = pipeline_replay_file(pl, paths[f], AUDIO_CHANNEL_AVERAGE, PIPELINE_REPLAY_WARN,
					  err);
		if (rc == AUSCULT_OK && k.oom)
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM,
					  "out of memory for window scores");
		if (rc == AUSCULT_OK && k.file_windows == 0)
			rc = auscult_fail(err, AUSCULT_ERR_INVALID,
					  "%s: the recording is shorter than one window of %g s (or "
					  "silent); give longer recordings or a smaller window",
					  paths[f], ps->window_s);
	}
	pipeline_destroy(pl);
	if (rc != AUSCULT_OK) {
		free(k.v);
		return rc;
	}
	*scores = k.v;
	*n_scores = k.n;
	return AUSCULT_OK;
}
