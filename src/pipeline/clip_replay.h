/* clip_replay.h - the clip score every tool prints and fits: a head model's clip replayed through the pipeline, one pipeline reused for clip after clip. */
#ifndef AUSCULT_CLIP_REPLAY_H
#define AUSCULT_CLIP_REPLAY_H

#include "common/status.h"
#include "model/autoencoder.h"
#include "model/model.h"
#include "pipeline/pipeline.h"

/* The settings a clip score is replayed with: the daemon's defaults (2-s windows every 0.5 s)
 * with no gate and no settling, so every window of a clip counts, as every vector does in the
 * clip scorer. */
void pipeline_clip_settings(struct pipeline_settings *ps);

/* Scores recordings one after another. Its pipeline (mel bank, FFT plans, window head) is built
 * once and restarted for each recording: building it is about a twentieth of a 10-s clip's
 * score. One thread at a time. */
struct clip_replay;

/* For model m (and, without a head, ae set up for m; ae may be NULL for a head model). Both
 * must outlive r. AUSCULT_OK, or the pipeline's failure (_INVALID, _NOMEM) in err. */
int clip_replay_create(struct clip_replay **r, const struct model *m, struct autoencoder *ae,
		       struct auscult_err *err);

/*
 * The clip score of one recording. A model with a window head: the mean of the window scores
 * (pipeline_window.raw) of the windows that are not idle, replayed through the pipeline with
 * pipeline_clip_settings; a recording shorter than a window is scored on the longest window it
 * holds, halving down to 0.5 s, with a warning. Without a head: the clip scorer's
 * (model/clip_scorer.h). AUSCULT_ERR_INVALID when the recording is too short; the file's own
 * failures otherwise. Reads the file.
 */
int clip_replay_score(struct clip_replay *r, const char *path, float *score,
		      struct auscult_err *err);

/* NULL-safe. */
void clip_replay_destroy(struct clip_replay *r);

/* One recording's clip score (clip_replay_score with a replay of its own). */
int pipeline_clip_score(const struct model *m, struct autoencoder *ae, const char *path,
			float *score, struct auscult_err *err);

#endif
