/* evidence_writer.h - the one thread that turns every monitor's anomalies into evidence files. */
#ifndef AUSCULT_EVIDENCE_WRITER_H
#define AUSCULT_EVIDENCE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "evidence/evidence_tap.h"

/* YAML section `evidence:`; defaults and bounds are in the config loader's option table. */
struct evidence_settings {
	bool enabled;
	char *dir;          /* owned; monitors write to dir/<monitor>/ */
	double pre_roll_s;  /* audio kept before an anomaly's start */
	double post_roll_s; /* and after its end */
	double max_s;       /* one file's span at most */
	int max_mb;         /* per monitor: the oldest events go beyond this many MiB */
	int max_files;      /* per monitor: ... or beyond this many events */
};

/*
 * A resource owner shared by all monitors. Each monitor attaches a tap (evidence_tap.h); on an
 * anomaly's start the thread streams the span from the tap's ring into
 * dir/<monitor>/<base>.flac.tmp (FLAC, 16 bit) as the audio arrives and renames it to .flac
 * when the span is complete (or cut short: the ring overwrote samples the writer had not read,
 * which is logged); after the anomaly's end it writes <base>.png (spectrogram_png_write, from the
 * FLAC read back) and then <base>.txt (evidence_record_write), and applies retention
 * (evidence_retention.h). Disk faults are logged with back-off and counted
 * (evidence_writer_get_status); they never reach the monitors.
 */
struct evidence_writer;

/* Copies s, starts the thread. Returns AUSCULT_OK or NOMEM/INVALID with err set. Main thread. */
int evidence_writer_create(struct evidence_writer **out, const struct evidence_settings *s,
			   struct auscult_err *err);

/*
 * Finishes every capture with the audio there is (detach the taps first), stops the thread and
 * frees everything; a tap still attached (a monitor thread left behind, stuck in a read) keeps
 * itself and the writer allocated, so that monitor may still push and read the status.
 * NULL-safe. Main thread.
 */
void evidence_writer_destroy(struct evidence_writer *w);

/* As evidence_writer_destroy, but frees nothing: a monitor thread left behind may still attach
 * to w (a learning run that ends after the stop) or use its tap. The memory is given up (a rare
 * reload or stop with a stuck thread). NULL-safe. Main thread. */
void evidence_writer_abandon(struct evidence_writer *w);

/*
 * A new tap for one monitor: cfg's monitor, rate_hz, latency_s and lossless are used, the rest
 * comes from the settings. The writer owns the tap; the monitor uses it as its producer until
 * evidence_writer_detach. Also creates dir/<monitor>/ and checks it is writable, so that a
 * read-only or missing disk shows in the status (and the log, once) before the first anomaly;
 * that failure is a fault, not an error of the attach. Any thread but the writer's.
 */
int evidence_writer_attach(struct evidence_writer *w, const struct evidence_tap_config *cfg,
			   struct evidence_tap **out, struct auscult_err *err);

/* The producer is done with t: its captures end with the audio pushed so far; the writer frees
 * it. NULL-safe. */
void evidence_writer_detach(struct evidence_writer *w, struct evidence_tap *t);

struct evidence_writer_status {
	uint64_t events;      /* evidence records written */
	uint64_t cut_short;   /* spans ended early: the writer fell behind the ring */
	uint64_t errors;      /* disk faults (cannot write, cannot create, full) */
	char last_error[256]; /* the last fault's text, "" when none yet */
	/* The current run of faults: from the first fault after a success (or the start) until
	 * the next complete evidence record. */
	bool failing;           /* the last attempt failed */
	uint64_t fault_errors;  /* faults in the current run (0 when not failing) */
	int64_t fault_since_ms; /* unix ms (wall clock) of its first fault; 0 when not failing */
};

/*
 * A snapshot: a short copy under the writer's lock, which the writer thread never holds across
 * disk I/O, so a monitor thread may call it as it builds a score payload. Any thread.
 */
void evidence_writer_get_status(struct evidence_writer *w, struct evidence_writer_status *out);

/*
 * The newest spectrogram image written since the last call, for publication: *png (malloc'd,
 * the caller frees) with *len bytes, and the monitor's name into monitor (cap bytes). Returns
 * false when there is none. Any thread (the main loop).
 */
bool evidence_writer_take_image(struct evidence_writer *w, char *monitor, size_t cap,
				unsigned char **png, size_t *len);

/* Waits up to timeout_ms until no capture is in progress and every queue is empty (tests, end
 * of input). Returns true when idle. Any thread. */
bool evidence_writer_wait_idle(struct evidence_writer *w, int timeout_ms);

#endif
