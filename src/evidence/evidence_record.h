/* evidence_record.h - the sidecar that describes one anomaly's evidence files; auscultd writes
 * it beside the FLAC and the PNG, `auscult report` reads it. */
#ifndef AUSCULT_EVIDENCE_RECORD_H
#define AUSCULT_EVIDENCE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "detect/detector.h"

/*
 * One anomaly's evidence is three files in evidence.dir/<monitor>/, sharing one base name
 * "<UTC time of the anomaly's start, YYYYmmddTHHMMSSZ>-<event id>":
 *   <base>.flac  the audio from pre_roll_s before the start to post_roll_s after the end
 *   <base>.png   its spectrogram (evidence/spectrogram_image.h)
 *   <base>.txt   this record: a versioned, line-oriented text file (see evidence_record.c)
 * The record is written last, so a folder scan that finds a record finds complete files.
 */

#define EVIDENCE_RECORD_NAME_MAX 160

/* One scored window inside the recorded span. */
struct evidence_window {
	double t_s;     /* the window's end, seconds from the audio file's first sample */
	float raw;      /* the window's raw score (mean over counted vectors); NaN: none */
	float smoothed; /* the smoothed score the detector compared with the threshold; NaN when
			   the window was idle (the machine off or settling) */
	uint8_t state;  /* enum detector_state after this window */
};

struct evidence_record {
	char monitor[EVIDENCE_RECORD_NAME_MAX];
	char event_id[EVIDENCE_RECORD_NAME_MAX];   /* payload_event_id(): "<monitor>-<start ms>" */
	char audio_file[EVIDENCE_RECORD_NAME_MAX]; /* "<base>.flac", relative to the record */
	char image_file[EVIDENCE_RECORD_NAME_MAX]; /* "<base>.png"; "" when none was made */
	int64_t audio_start_ms;                    /* unix ms of the audio file's first sample */
	uint32_t sample_rate;                      /* of the audio file, Hz */
	uint64_t n_samples;                        /* in the audio file (mono) */
	int64_t start_ms;                          /* the anomaly's start, unix ms */
	int64_t end_ms;                            /* its end, unix ms */
	float peak, mean, threshold;
	uint32_t n_bands; /* <= DETECTOR_TOP_BANDS */
	struct detector_band bands[DETECTOR_TOP_BANDS];
	struct detector_parts parts; /* the event's parts (detect/detector.h; version 2) and its
					rise part by head (version 3) */
	uint32_t parts_seen;         /* bit k: parts.v[k] holds a mean; 0 in a version-1 record */
	uint32_t rise_seen; /* bit h: parts.rise[h] holds a mean; 0 in records before version 3 */
	size_t n_windows;
	struct evidence_window *windows; /* owned; n_windows entries, in time order */
};

/*
 * Writes r to path atomically (path.tmp, fsync, rename). Returns AUSCULT_OK, or
 * AUSCULT_ERR_IO / AUSCULT_ERR_INVALID with err naming the path and the fault.
 */
int evidence_record_write(const char *path, const struct evidence_record *r,
			  struct auscult_err *err);

/*
 * Reads a record written by evidence_record_write into *r (zeroed first; free with
 * evidence_record_free, also on failure). Never trusts the file: a wrong version, a missing or
 * malformed field, or windows out of order is AUSCULT_ERR_FORMAT / AUSCULT_ERR_VERSION, a record
 * cut short AUSCULT_ERR_TRUNCATED, with err naming the path and the line ("path:12: ..."); a
 * missing or non-regular file is AUSCULT_ERR_IO. Any thread.
 */
int evidence_record_read(const char *path, struct evidence_record *r, struct auscult_err *err);

/* Frees the windows and zeroes *r. NULL-safe. */
void evidence_record_free(struct evidence_record *r);

#endif
