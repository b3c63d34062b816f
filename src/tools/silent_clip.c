/* silent_clip.c - a clip's level against the gate, and the note that says what it means. */
#include "tools/silent_clip.h"

#include <stdio.h>

#include "audio/audio_level.h"
#include "pipeline/pipeline.h"

bool silent_clip_note(const char *tool, const char *path, uint32_t rate_hz, const char *what)
{
	struct auscult_err err;
	double dbfs;
	if (audio_file_level_dbfs(path, rate_hz, &dbfs, &err) != AUSCULT_OK ||
	    dbfs >= PIPELINE_SILENCE_DBFS_DEFAULT)
		return false;
	fflush(stdout);
	fprintf(stderr,
		"auscult %s: %s: its level is %.1f dBFS, below the %d dBFS at which auscultd calls "
		"a machine off: %s\n",
		tool, path, dbfs, PIPELINE_SILENCE_DBFS_DEFAULT, what);
	return true;
}
