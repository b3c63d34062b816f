/* evidence_retention.h - keeps one monitor's evidence folder within its file count and size. */
#ifndef AUSCULT_EVIDENCE_RETENTION_H
#define AUSCULT_EVIDENCE_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/*
 * Deletes the oldest events in dir until at most max_files events remain and their files take
 * at most max_bytes. An event is the files sharing one base name (<base>.flac, .png, .txt; see
 * evidence_record.h); base names start with the UTC time, so the oldest sorts first. The n_keep
 * bases of keep (events still being written: their sound may be in place before their picture
 * and record) are never deleted, even when they alone are over max_bytes. The writer's temporary
 * files (<base>.flac.tmp, .png.tmp*, .txt.tmp*) are being written, and left alone, unless
 * untouched for an hour: then a crash or a power cut left them, and they are deleted (not
 * counted in *deleted). Files of other names are left alone. *deleted (may be NULL) gets the events removed.
 * Returns AUSCULT_OK, or AUSCULT_ERR_IO / NOMEM with err naming the folder or file. Allocates;
 * the writer thread only.
 */
int evidence_retention_apply(const char *dir, size_t max_files, uint64_t max_bytes,
			     const char *const *keep, size_t n_keep, size_t *deleted,
			     struct auscult_err *err);

#endif
