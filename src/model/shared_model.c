/* shared_model.c - one loaded model file, shared read-only by every monitor that names it. */
#include "model/shared_model.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_file.h"

struct shared_model {
	atomic_int refs;
	struct model model;
	char *path;
};

static atomic_uint_least64_t loads;

int shared_model_load(struct shared_model **out, const char *path, struct auscult_err *err)
{
	*out = NULL;
	struct shared_model *sm = calloc(1, sizeof(*sm));
	char *copy = strdup(path);
	if (!sm || !copy) {
		free(sm);
		free(copy);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
	}
	int rc = model_load(&sm->model, path, err);
	if (rc != AUSCULT_OK) {
		free(sm);
		free(copy);
		return rc;
	}
	atomic_fetch_add(&loads, 1);
	atomic_init(&sm->refs, 1);
	sm->path = copy;
	*out = sm;
	return AUSCULT_OK;
}

const struct model *shared_model_get(const struct shared_model *sm)
{
	return &sm->model;
}

const char *shared_model_path(const struct shared_model *sm)
{
	return sm->path;
}

struct shared_model *shared_model_ref(struct shared_model *sm)
{
	atomic_fetch_add(&sm->refs, 1);
	return sm;
}

void shared_model_unref(struct shared_model *sm)
{
	if (!sm || atomic_fetch_sub(&sm->refs, 1) != 1)
		return;
	model_free(&sm->model);
	free(sm->path);
	free(sm);
}

uint64_t shared_model_loads(void)
{
	return atomic_load(&loads);
}
