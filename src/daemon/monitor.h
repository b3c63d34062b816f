/* monitor.h - one monitored machine: a thread from audio source to detector, messages out. */
#ifndef AUSCULT_MONITOR_H
#define AUSCULT_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"
#include "config/daemon_config.h"
#include "daemon/message_queue.h"
#include "detect/detector.h"
#include "model/shared_model.h"
#include "evidence/evidence_writer.h"

/*
 * A resource owner. The thread reads the audio source, pushes the samples through the scoring
 * pipeline (pipeline/pipeline.h: the same one `auscult score --windows` replays files through)
 * and turns its windows into score/state/event payloads in the message queue (it never touches
 * MQTT or the disk itself). An idle window (machine off or settling) publishes no score.
 *
 * Faults: a device error, or no samples for more than MONITOR_STALL_S, publishes `fault`, closes
 * the source and reopens it with back-off (1 s doubling to 30 s); the monitor resumes on its own.
 * A file (or stdin) that ends stops the thread cleanly (state unchanged, logged), unless the file
 * loops. Sources with `realtime` are paced to the audio's own rate.
 */
struct monitor;

#define MONITOR_STALL_S 2.0
#define MONITOR_BACKOFF_MIN_S 1.0
#define MONITOR_BACKOFF_MAX_S 30.0

/*
 * Sets up every stage from ms (copied: ms may be freed after) and model, and starts the thread.
 * model, already loaded from ms->model_path, is shared: the monitor takes a reference of its own.
 * NULL: the monitor loads the file itself (or learns it first, in learning mode). q must outlive
 * the monitor; so must evidence (NULL: no evidence), to which the monitor attaches its tap
 * (evidence/evidence_tap.h) and from which it detaches when freed. time_floor_ms (NULL: none) is
 * shared by every monitor of a daemon run and must outlive them: a monitor on stream time (a
 * file or stdin read faster than real time) raises it to each window's time and starts its
 * stream no earlier than it, so that after a reload its times, and so its event ids
 * ("<monitor>-<start ms>"), never go back to ones given before. On failure *out is NULL and err
 * names the monitor and the fault. Main thread.
 */
int monitor_create(struct monitor **out, const struct monitor_settings *ms,
		   struct shared_model *model, struct message_queue *q,
		   struct evidence_writer *evidence, _Atomic int64_t *time_floor_ms,
		   struct auscult_err *err);

/* A snapshot for the systemd status line and the main loop. */
struct monitor_status {
	enum detector_state state;
	float smoothed; /* last smoothed window score (NaN before the first) */
	float threshold;
	bool audio_flowing; /* samples have arrived since the last (re)open */
	bool ended;         /* the thread finished: its file or stdin ended (or it was stopped) */
	uint64_t windows;   /* windows scored since start */
};

/* Copies the current status. Any thread. */
void monitor_get_status(struct monitor *m, struct monitor_status *out);

/* The monitor's name (owned by the monitor). */
const char *monitor_name(const struct monitor *m);

/* Asks the thread to stop (returns at once). Any thread. */
void monitor_request_stop(struct monitor *m);

/*
 * Stops the thread (waiting at most timeout_ms for it), then frees everything. Returns true when
 * freed; false when the thread is stuck in a blocking read (stdin), in which case the monitor is
 * left allocated (the process is about to exit or the thread will finish on its own). NULL-safe.
 */
bool monitor_destroy(struct monitor *m, int timeout_ms);

#endif
