/* shared_model.h - one loaded model file, shared read-only by every monitor that names it. */
#ifndef AUSCULT_SHARED_MODEL_H
#define AUSCULT_SHARED_MODEL_H

#include <stdint.h>

#include "common/status.h"
#include "model/model.h"

/*
 * Scoring never writes to a model (each pipeline's autoencoder has its own scratch buffers), so
 * monitors that name the same file can share one loaded copy: a config of many monitors on one
 * model reads, checks and holds the file once. Reference-counted, so a monitor whose thread is
 * slow to end keeps its model alive on its own.
 */
struct shared_model;

/* Loads path (model_load) into a new shared model with one reference. Any thread. */
int shared_model_load(struct shared_model **out, const char *path, struct auscult_err *err);

/* The model, read-only, valid while a reference is held. */
const struct model *shared_model_get(const struct shared_model *sm);

/* The path it was loaded from. */
const char *shared_model_path(const struct shared_model *sm);

/* Takes one more reference and returns sm. Any thread. */
struct shared_model *shared_model_ref(struct shared_model *sm);

/* Drops a reference; the last one frees the model. NULL-safe; any thread. */
void shared_model_unref(struct shared_model *sm);

/* Model files loaded by shared_model_load in this process so far (for tests and logs). */
uint64_t shared_model_loads(void);

#endif
