/* config_check.h - the checks of a loaded config that need the files it names: models, audio. */
#ifndef AUSCULT_CONFIG_CHECK_H
#define AUSCULT_CONFIG_CHECK_H

#include <stddef.h>

#include "common/status.h"
#include "config/daemon_config.h"

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

#endif
