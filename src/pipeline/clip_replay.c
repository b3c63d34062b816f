/* clip_replay.c - the clip score every tool prints and fits: a head model's clip replayed through the pipeline, one pipeline reused for clip after clip. */
#include "pipeline/clip_replay.h"

#include <math.h>
#include <stdlib.h>

#include "audio/audio_source.h"
#include "common/log.h"
#include "model/clip_scorer.h"

/* The shortest window a clip shorter than the clip settings' window is scored on. */
#define CLIP_MIN_WINDOW_S 0.5

void pipeline_clip_settings(struct pipeline_settings *ps)
{
	pipeline_settings_defaults(ps);
	ps->silence_dbfs = -INFINITY;
	ps->settle_s = 0.0;
}

/* The counted windows of one replay. */
struct clip_sum {
	double sum;
	size_t n;
	size_t n_not_finite; /* windows the model scored NaN or infinite: not counted */
};

struct clip_replay {
	const struct model *m;
	struct autoencoder *ae;
	struct pipeline *pl; /* a head model's, with pipeline_clip_settings; NULL without */
	struct clip_sum sum; /* its windows' */
};

static void add_window(void *ctx, const struct pipeline_window *w)
{
	struct clip_sum *c = ctx;
	if (!w->idle && isfinite(w->raw)) {
		c->sum += w->raw;
		c->n++;
	} else if (!w->idle) {
		c->n_not_finite++;
	}
}

static int create_pipeline(struct pipeline **pl, const struct model *m,
			   const struct pipeline_settings *ps, struct clip_sum *c,
			   struct auscult_err *err)
{
	struct pipeline_config pc = { .model = m, .on_window = add_window, .ctx = c };
	pc.settings = *ps;
	return pipeline_create(pl, &pc, err);
}

/* The windows of one replay of path through pl (which restarts for it) into c; seconds: the
 * recording's length. */
static int replay(struct pipeline *pl, const char *path, enum pipeline_replay_notes notes,
		  struct clip_sum *c, double *seconds, struct auscult_err *err)
{
	c->sum = 0.0;
	c->n = 0;
	c->n_not_finite = 0;
	int rc = pipeline_replay_file(pl, path, AUDIO_CHANNEL_AVERAGE, notes, err);
	if (rc == AUSCULT_OK)
		*seconds = (double)pipeline_stream_end_ms(pl) / 1e3;
	return rc;
}

int clip_replay_create(struct clip_replay **out, const struct model *m, struct autoencoder *ae,
		       struct auscult_err *err)
{
	*out = NULL;
	struct clip_replay *r = calloc(1, sizeof(*r));
	if (!r)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "clip replay: out of memory");
	r->m = m;
	r->ae = ae;
	if (m->head) {
		struct pipeline_settings ps;
		pipeline_clip_settings(&ps);
		int rc = create_pipeline(&r->pl, m, &ps, &r->sum, err);
		if (rc) {
			free(r);
			return rc;
		}
	}
	*out = r;
	return AUSCULT_OK;
}

/* A clip shorter than a window: scored on the longest window it holds (a window's vectors span
 * n_stack - 1 frames more than it), halving down to CLIP_MIN_WINDOW_S, each replay with a
 * pipeline of its own (rare: a rougher score than a whole window's, but the clip's) and without
 * repeating what the first replay said of the file. */
static int replay_short(const struct clip_replay *r, const char *path, double seconds,
			struct clip_sum *c, struct auscult_err *err)
{
	const struct model *m = r->m;
	struct pipeline_settings ps;
	pipeline_clip_settings(&ps);
	const double window_s = ps.window_s;
	const double stack_s = (double)(m->features.n_stack - 1) * m->features.hop_length /
			       m->features.sample_rate_hz;
	int rc = AUSCULT_OK;
	while (rc == AUSCULT_OK && c->n == 0 && ps.window_s / 2.0 >= CLIP_MIN_WINDOW_S) {
		ps.window_s /= 2.0;
		if (ps.window_s + stack_s > seconds && ps.window_s / 2.0 >= CLIP_MIN_WINDOW_S)
			continue;
		if (ps.hop_s > ps.window_s)
			ps.hop_s = ps.window_s;
		struct pipeline *pl = NULL;
		rc = create_pipeline(&pl, m, &ps, c, err);
		if (rc == AUSCULT_OK)
			rc = replay(pl, path, PIPELINE_REPLAY_QUIET, c, &seconds, err);
		pipeline_destroy(pl);
		if (rc == AUSCULT_OK && c->n > 0)
			log_warn("%s: %.3f s, shorter than one %g-s window and its model context "
				 "(%.3f s); scored on windows of %g s",
				 path, seconds, window_s, window_s + stack_s, ps.window_s);
	}
	if (rc == AUSCULT_OK && c->n == 0)
		rc = auscult_fail(err, AUSCULT_ERR_INVALID,
				  "%s: too short for one window of %g s (or of %g s)", path,
				  window_s, ps.window_s);
	return rc;
}

int clip_replay_score(struct clip_replay *r, const char *path, float *score,
		      struct auscult_err *err)
{
	if (!r->pl)
		return clip_score_file(r->m, r->ae, path, score, NULL, err);
	double seconds = 0.0;
	int rc = replay(r->pl, path, PIPELINE_REPLAY_WARN, &r->sum, &seconds, err);
	if (rc == AUSCULT_OK && r->sum.n == 0 && r->sum.n_not_finite > 0)
		rc = auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"%s: the model scored none of its %zu windows with a finite number "
			"(its file is damaged or was not made by auscult train); retrain it",
			path, r->sum.n_not_finite);
	if (rc == AUSCULT_OK && r->sum.n == 0)
		rc = replay_short(r, path, seconds, &r->sum, err);
	if (rc == AUSCULT_OK)
		*score = (float)(r->sum.sum / (double)r->sum.n);
	return rc;
}

void clip_replay_destroy(struct clip_replay *r)
{
	if (!r)
		return;
	pipeline_destroy(r->pl);
	free(r);
}

int pipeline_clip_score(const struct model *m, struct autoencoder *ae, const char *path,
			float *score, struct auscult_err *err)
{
	struct clip_replay *r = NULL;
	int rc = clip_replay_create(&r, m, ae, err);
	if (rc == AUSCULT_OK)
		rc = clip_replay_score(r, path, score, err);
	clip_replay_destroy(r);
	return rc;
}
