/* config_check.c - loads each distinct model of a config once and checks the monitors by it. */
#include "daemon/config_check.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_source.h"
#include "model/model.h"
#include "model/shared_model.h"
#include "pipeline/pipeline.h"
#include "train/trainer_recipe.h"

int config_check_model_exists(const struct daemon_config *cfg, size_t i, struct auscult_err *err)
{
	const char *path = cfg->monitors[i].model_path;
	char key[64];
	snprintf(key, sizeof(key), "monitors[%zu].model", i);
	struct stat st;
	if (stat(path, &st) != 0 || access(path, R_OK) != 0)
		return daemon_config_fail(cfg, cfg->places[i].model, key, AUSCULT_ERR_IO, err,
					  "cannot read the model file '%s': %s", path,
					  strerror(errno));
	if (S_ISDIR(st.st_mode))
		return daemon_config_fail(cfg, cfg->places[i].model, key, AUSCULT_ERR_IO, err,
					  "'%s' is a directory; expected the model file", path);
	return AUSCULT_OK;
}

/* Loads monitor i's model unless an earlier monitor named the same file: models[i] then holds a
 * reference to that one. */
static int model_of(const struct daemon_config *cfg, size_t i, struct shared_model **models,
		    struct auscult_err *err)
{
	const char *path = cfg->monitors[i].model_path;
	for (size_t j = 0; j < i; j++) {
		if (models[j] && strcmp(shared_model_path(models[j]), path) == 0) {
			models[i] = shared_model_ref(models[j]);
			return AUSCULT_OK;
		}
	}
	int rc = config_check_model_exists(cfg, i, err);
	if (rc)
		return rc;
	struct auscult_err why;
	auscult_err_clear(&why);
	if ((rc = shared_model_load(&models[i], path, &why))) {
		char key[64];
		snprintf(key, sizeof(key), "monitors[%zu].model", i);
		return daemon_config_fail(cfg, cfg->places[i].model, key, rc, err, "%s", why.msg);
	}
	return AUSCULT_OK;
}

static int check_monitor(const struct daemon_config *cfg, size_t i, const struct feature_params *fp,
			 struct auscult_err *err)
{
	const struct monitor_settings *ms = &cfg->monitors[i];
	char key[64];
	if (ms->source_kind == AUDIO_SOURCE_FILE) {
		/* A file that is not audio, or lacks the channel asked for, will not mend itself:
		 * say so now rather than have the monitor retry it for ever. */
		struct audio_source_config asc;
		struct audio_source *src = NULL;
		struct auscult_err why;
		auscult_err_clear(&why);
		monitor_settings_source_config(ms, fp->sample_rate_hz, &asc);
		int rc = audio_source_open(&src, &asc, &why);
		/* A recording cut short still scores, but a monitor fed from it would end early. */
		if (rc == AUSCULT_OK && audio_source_warning(src))
			rc = auscult_fail(&why, AUSCULT_ERR_TRUNCATED, "%s",
					  audio_source_warning(src));
		audio_source_close(src);
		if (rc) {
			snprintf(key, sizeof(key), "monitors[%zu].source.path", i);
			return daemon_config_fail(cfg, cfg->places[i].source_path, key, rc, err,
						  "%s", why.msg);
		}
	}
	double context_s = pipeline_input_s(fp);
	if (ms->pipeline.window_s < context_s) {
		snprintf(key, sizeof(key), "monitors[%zu].window_s", i);
		return daemon_config_fail(cfg, cfg->places[i].window_s, key, AUSCULT_ERR_INVALID,
					  err,
					  "%g s is shorter than one input of the model (%.3f s of "
					  "audio); make window_s at least that",
					  ms->pipeline.window_s, context_s);
	}
	return AUSCULT_OK;
}

/* Learning mode with no model yet (`learn:` set, the model file absent): the model's folder must
 * take the file that training writes. */
static bool learns(const struct monitor_settings *ms)
{
	return ms->learn_minutes > 0.0 && access(ms->model_path, F_OK) != 0 && errno == ENOENT;
}

/* The folder learning records into: learn.dir, or "<model>.learn". */
static void learn_folder(const struct monitor_settings *ms, char *out, size_t cap)
{
	if (ms->learn_dir)
		snprintf(out, cap, "%s", ms->learn_dir);
	else
		snprintf(out, cap, "%s.learn", ms->model_path);
}

static int check_learning(const struct daemon_config *cfg, size_t i, struct auscult_err *err)
{
	const char *path = cfg->monitors[i].model_path;
	char dir[PATH_MAX], key[64];
	/* Two runs on one model or one folder would take each other's clips and write one
	 * model from both machines. */
	char mine[PATH_MAX], theirs[PATH_MAX];
	learn_folder(&cfg->monitors[i], mine, sizeof(mine));
	for (size_t j = 0; j < i; j++) {
		if (!learns(&cfg->monitors[j]))
			continue;
		learn_folder(&cfg->monitors[j], theirs, sizeof(theirs));
		bool same_model = strcmp(cfg->monitors[j].model_path, path) == 0;
		if (!same_model && strcmp(theirs, mine) != 0)
			continue;
		snprintf(key, sizeof(key), "monitors[%zu].model", i);
		return daemon_config_fail(cfg, cfg->places[i].model, key, AUSCULT_ERR_INVALID, err,
					  "monitor '%s' learns %s '%s' too: two learning runs "
					  "would mix their clips into one model; give each monitor "
					  "its own model file (and learn.dir)",
					  cfg->monitors[j].name, same_model ? "the model" : "into",
					  same_model ? path : mine);
	}
	const char *slash = strrchr(path, '/');
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	if (access(dir, W_OK | X_OK) == 0)
		return AUSCULT_OK;
	snprintf(key, sizeof(key), "monitors[%zu].model", i);
	return daemon_config_fail(cfg, cfg->places[i].model, key, AUSCULT_ERR_IO, err,
				  "the model does not exist yet and learning cannot write it into "
				  "'%s': %s",
				  dir, strerror(errno));
}

void config_check_release(struct shared_model **models, size_t n)
{
	for (size_t i = 0; models && i < n; i++) {
		shared_model_unref(models[i]);
		models[i] = NULL;
	}
}

/* Checks monitor i: its model (or, for one that learns it, the folder that will take it), then
 * its source and window by the model's features. own[i] gets the model's reference. */
static int check_one(const struct daemon_config *cfg, size_t i, struct shared_model **own,
		     struct auscult_err *err)
{
	const struct feature_params *fp = NULL;
	struct train_options recipe;
	int rc;
	if (learns(&cfg->monitors[i])) {
		/* The model learning will write has the default recipe's features. */
		train_options_defaults(&recipe);
		fp = &recipe.features;
		rc = check_learning(cfg, i, err);
	} else if ((rc = model_of(cfg, i, own, err)) == AUSCULT_OK) {
		fp = &shared_model_get(own[i])->features;
	}
	if (rc == AUSCULT_OK)
		rc = check_monitor(cfg, i, fp, err);
	return rc;
}

/* A zeroed array of n model references, or NULL with err set. */
static struct shared_model **model_slots(const struct daemon_config *cfg, size_t n,
					 struct auscult_err *err)
{
	struct shared_model **own = calloc(n ? n : 1, sizeof(*own));
	if (!own)
		auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", cfg->path);
	return own;
}

int config_check_files_keep(const struct daemon_config *cfg, struct shared_model **models,
			    struct auscult_err *err)
{
	struct shared_model **own = models;
	if (!own && !(own = model_slots(cfg, cfg->n_monitors, err)))
		return AUSCULT_ERR_NOMEM;
	for (size_t i = 0; i < cfg->n_monitors; i++)
		own[i] = NULL;
	int rc = AUSCULT_OK;
	for (size_t i = 0; i < cfg->n_monitors && rc == AUSCULT_OK; i++)
		rc = check_one(cfg, i, own, err);
	if (rc != AUSCULT_OK || !models)
		config_check_release(own, cfg->n_monitors);
	if (!models)
		free(own);
	return rc;
}

size_t config_check_all(const struct daemon_config *cfg, config_fault_fn report, void *ctx)
{
	struct auscult_err err;
	size_t faults = 0;
	struct shared_model **own = model_slots(cfg, cfg->n_monitors, &err);
	if (!own) {
		report(ctx, &err);
		return 1;
	}
	for (size_t i = 0; i < cfg->n_monitors; i++) {
		if (check_one(cfg, i, own, &err) != AUSCULT_OK) {
			report(ctx, &err);
			faults++;
		}
	}
	config_check_release(own, cfg->n_monitors);
	free(own);
	return faults;
}

int config_check_files(const struct daemon_config *cfg, struct auscult_err *err)
{
	return config_check_files_keep(cfg, NULL, err);
}
