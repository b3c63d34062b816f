/* clip_writer.h - a stream of mono samples cut into fixed-length 16-bit WAV clips named by their UTC start time. */
#ifndef AUSCULT_CLIP_WRITER_H
#define AUSCULT_CLIP_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* Clip length `auscult record` and the daemon's learning mode use: the length of the DCASE clips
 * the default recipe was designed on. */
#define CLIP_WRITER_DEFAULT_S 10.0

/* Room for a clip's path: the folder plus "/20261204T161500Z-99.wav". */
#define CLIP_WRITER_PATH_MAX 4096

struct clip_writer_config {
	const char *dir;  /* existing folder the clips go to */
	uint32_t rate_hz; /* rate of the samples, written into the WAV header */
	double clip_s;    /* clip length, seconds (> 0) */
};

/*
 * A resource owner. Each clip is written as it comes in to a hidden temporary file in dir
 * (".20261204T161500Z.wav.part", which the training tools skip), and when it holds clip_s seconds
 * it is flushed to disk and renamed to "20261204T161500Z.wav" (its first sample's UTC time; a
 * "-1", "-2" ... suffix when that name is taken). A clip is therefore either complete under its
 * final name or absent; a crash leaves at most one ".part" file (clip_dir_scan removes it).
 */
struct clip_writer;

/* Checks cfg and dir and allocates. On failure *out is NULL and err names the folder. */
int clip_writer_create(struct clip_writer **out, const struct clip_writer_config *cfg,
		       struct auscult_err *err);

/*
 * Appends n samples (full scale 1.0; beyond it they are clipped to 16 bits). first_ms is the UTC
 * time of x[0] in unix milliseconds: a clip started by x[i] is named after
 * first_ms + i * 1000 / rate_hz. *completed (may be NULL) receives the number of clips finished
 * during the call. Returns AUSCULT_OK or AUSCULT_ERR_IO (err names the file; the partial clip is
 * removed). One thread at a time.
 */
int clip_writer_push(struct clip_writer *w, const float *x, size_t n, int64_t first_ms,
		     uint32_t *completed, struct auscult_err *err);

/* Discards the clip in progress (its temporary file is removed). NULL-safe. */
void clip_writer_abort(struct clip_writer *w);

/* Samples held in the clip in progress. */
size_t clip_writer_partial_samples(const struct clip_writer *w);

/* Samples in a whole clip. */
size_t clip_writer_clip_samples(const struct clip_writer *w);

/* Path of the last completed clip ("" before the first). Owned by w. */
const char *clip_writer_last_path(const struct clip_writer *w);

/* Discards the clip in progress and frees. NULL-safe. */
void clip_writer_destroy(struct clip_writer *w);

/*
 * Counts the complete clips in dir (visible *.wav files) into *n_clips and removes the temporary
 * files a stopped writer left (hidden *.wav.part). Returns AUSCULT_OK or AUSCULT_ERR_IO (dir
 * cannot be read; the message names it).
 */
int clip_dir_scan(const char *dir, uint32_t *n_clips, struct auscult_err *err);

/* "20261204T161500Z" for unix_ms into buf (at least 17 bytes). */
void clip_time_name(char *buf, size_t cap, int64_t unix_ms);

#endif
