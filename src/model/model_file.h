/* model_file.h - the versioned, checksummed model file (.am): load, save, encode, decode. */
#ifndef AUSCULT_MODEL_FILE_H
#define AUSCULT_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "model/model.h"

/* The format, byte by byte, is in docs/model-format.md. */
#define MODEL_FILE_MAGIC "AUSCULTM"
#define MODEL_FILE_MAGIC_BYTES 8
/* Version 2 adds the optional window head (flag 0x4), version 3 the optional training curve
 * (flag 0x8), version 4 a head that keeps only its lowest bands (flag 0x10, with n_kept in the
 * head section), version 5 the optional rise heads (flag 0x20, a section after the curve),
 * version 6 their optional impulse head (flag 0x40, a section after theirs), version 7 the
 * window head's spectrum kind (flag 0x80, its shape and basis in the head section in place of
 * the precision), version 8 the rise heads' optional bursts head (flag 0x100, a section after
 * theirs). A file is written in the lowest version that holds what the model has: without any
 * of them, version 1 byte for byte as before, so older auscult still reads it. All eight
 * load. */
#define MODEL_FILE_VERSION 8u
#define MODEL_FILE_VERSION_MIN 1u
#define MODEL_FILE_HEADER_BYTES 24

/* Bounds that keep a corrupt or hostile file from making the loader allocate gigabytes. The
 * baseline (640-128x4-8-128x4-640) has 265,864 parameters: a 1.07 MB body. */
#define MODEL_MAX_DIM 65536u /* n_in, n_out of any layer */
#define MODEL_MAX_LAYERS 256u
#define MODEL_MAX_PARAMS (32u << 20) /* weights + biases of all layers: 128 MB as float32 */
#define MODEL_MAX_BODY_BYTES (160u << 20)

/* The format version m is written in: 8 with a bursts head, 7 with a spectrum head, 6 with the rise heads' impulse head, 5 with rise heads, else 4 with a head that keeps fewer
 * bands than it has, else 3 with a training curve, else 2 with a window head, else 1. */
uint32_t model_file_version(const struct model *m);

/*
 * Loads and fully checks a model file (it passes model_validate). On failure m is zeroed and err
 * names the file and the fault and says what to do, e.g. "pump.am: truncated: 812 of 4096 bytes;
 * the file is incomplete - copy it again or retrain". The caller frees m with model_free.
 * Thread-safe (touches no shared state).
 */
int model_load(struct model *m, const char *path, struct auscult_err *err);

/*
 * Writes m (which must pass model_validate) to path atomically: a temporary file in the same
 * folder, fsync, rename over path, fsync of the folder; a crash leaves the old file or the new
 * one, never a broken one. Nothing is left behind on failure.
 */
int model_save(const struct model *m, const char *path, struct auscult_err *err);

/*
 * Same as model_load, from size bytes in memory; name_for_errors starts each message (a path, or
 * something like "<memory>"). On failure m is zeroed.
 */
int model_decode(struct model *m, const void *data, size_t size, const char *name_for_errors,
		 struct auscult_err *err);

/*
 * Encodes m (which must pass model_validate) into a new malloc'ed buffer: *data (the caller
 * frees it) of *size bytes. On failure *data is NULL and *size 0.
 */
int model_encode(const struct model *m, void **data, size_t *size, struct auscult_err *err);

#endif
