/* audio_level.h - the level of a whole audio file, as the pipeline hears it. */
#ifndef AUSCULT_AUDIO_LEVEL_H
#define AUSCULT_AUDIO_LEVEL_H

#include <stdint.h>

#include "common/status.h"

/*
 * The RMS level of the audio file at path in dBFS (full scale = 1.0; -INFINITY for digital
 * silence), over its channels averaged and converted to rate_hz, as the pipeline reads it. Reads
 * the whole file in bounded memory. Returns AUSCULT_OK, or the audio layer's status with err
 * naming the file.
 */
int audio_file_level_dbfs(const char *path, uint32_t rate_hz, double *dbfs,
			  struct auscult_err *err);

#endif
