/* config_check.h - the checks of a loaded config that need the files it names: models, audio. */
#ifndef AUSCULT_CONFIG_CHECK_H
#define AUSCULT_CONFIG_CHECK_H

#include <stddef.h>

#include "common/status.h"
#include "config/daemon_config.h"
#include "model/shared_model.h"

/*
 * The one existence check of a monitor's model file: it must be a readable file. On a fault
 * returns AUSCULT_ERR_IO with err "FILE:LINE:COL: monitors[i].model: cannot read the model file
 * 'PATH': REASON" (the place of the monitor's `model` key). Any thread.
 */
int config_check_model_exists(const struct daemon_config *cfg, size_t i, struct auscult_err *err);

/*
 * What auscultd checks before it starts (and before a reload is applied), in monitor order:
 * each model exists and loads, loading each distinct model file once however many monitors
 * share it; a scoring window holds at least one input of the model; a file source opens as
 * audio at the model's rate. Faults point at the monitor's key in the config file, like the
 * loader's: "FILE:LINE:COL: monitors[i].model: ...". Reads files; main thread.
 */
int config_check_files(const struct daemon_config *cfg, struct auscult_err *err);

/*
 * config_check_files, keeping what it loaded for the monitors to share: models has
 * cfg->n_monitors entries; on success models[i] is a reference to monitor i's model (one loaded
 * copy per distinct file), NULL for a monitor that learns its model first. The caller drops them
 * with config_check_release. On failure every entry is NULL. Main thread.
 */
int config_check_files_keep(const struct daemon_config *cfg, struct shared_model **models,
			    struct auscult_err *err);

/* Receives each fault config_check_all finds; fault is valid during the call only. */
typedef void (*config_fault_fn)(void *ctx, const struct auscult_err *fault);

/*
 * The checks of config_check_files, going on past a fault, for `auscultd --check-config`: every
 * monitor is checked, in order, and each fault handed to report (one per monitor at most: its
 * first). A model file that fails is tried, and reported, again for each monitor that names it,
 * at that monitor's key. Keeps nothing. Returns the number of faults; 0: the files are fine.
 */
size_t config_check_all(const struct daemon_config *cfg, config_fault_fn report, void *ctx);

/* Drops the n references of models (NULL entries skipped) and sets them to NULL. NULL-safe. */
void config_check_release(struct shared_model **models, size_t n);

#endif
