/* learn_mode.h - a monitor's learning mode: record the machine, train its model, then hand back. */
#ifndef AUSCULT_LEARN_MODE_H
#define AUSCULT_LEARN_MODE_H

#include <stdbool.h>

#include "common/status.h"
#include "config/daemon_config.h"

/* The state a learning monitor publishes (retained, like the detector's states). */
#define LEARN_STATE "learning"

/* What the monitor lends the learning: its messages, its stop request, its sleep. */
struct learn_host {
	void *ctx;
	/* Queues the monitor's state ("learning", "fault") when state is true, else a JSON
	 * progress payload for the score topic. Never blocks. */
	void (*send)(void *ctx, bool state, const char *payload);
	/* True once the monitor has been asked to stop. */
	bool (*stopping)(void *ctx);
	/* Sleeps up to seconds, waking early when asked to stop; false when stopping. */
	bool (*nap)(void *ctx, double seconds);
	/* Audio flows (true) from the source, or was lost (false). */
	void (*flowing)(void *ctx, bool flowing);
};

/*
 * Learning mode for a monitor configured with `learn.minutes` whose model file does not exist:
 * records ms->learn_minutes of the machine running (silent stretches skipped) from ms's source
 * as 10-s clips into ms->learn_dir (default "<model>.learn"; clips already there count, so a
 * restart resumes; the folder holds at most the clips asked for and is kept afterwards, for
 * `auscult train`), trains a model with the default recipe on one core, fits its threshold to
 * the monitor's windows on the newest 20% of the clips, and writes ms->model_path atomically.
 * Meanwhile publishes state `learning` and progress payloads (docs/mqtt.md); a source that fails
 * gives `fault` and is reopened with back-off. Runs on the monitor's thread, for minutes.
 * Returns AUSCULT_OK once the model is written; AUSCULT_ERR_INTERRUPTED when asked to stop;
 * AUSCULT_ERR_EOF when a file or stdin ended before enough sound came; other failures with err
 * saying what (the folder, the training).
 */
int learn_mode_run(const struct monitor_settings *ms, const struct learn_host *host,
		   struct auscult_err *err);

/*
 * The progress payload: {"time":ISO8601,"monitor":NAME,"state":"learning","phase":"recording"|
 * "training"|"done","progress":PERCENT,"clips":N,"clips_needed":M}, progress 0-80 while
 * recording (by audio collected), 80-100 while training (by epoch). Same buffer rules as
 * payload_score (publish/payloads.h).
 */
int learn_mode_payload_progress(char *buf, size_t cap, int64_t time_ms, const char *monitor,
				const char *phase, double percent, unsigned clips,
				unsigned clips_needed, struct auscult_err *err);

#endif
