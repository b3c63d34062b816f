/* silent_clip.c - a clip's level against the gate, and the note that says what it means. */
#include "tools/silent_clip.h"

#include <math.h>
#include <stdio.h>

#include "audio/audio_source.h"
#include "learn/level_meter.h"
#include "pipeline/pipeline.h"

#define LEVEL_BLOCK_SAMPLES 4096 /* 16 KiB on the stack */

/* The whole file's RMS level as the model reads it (channels averaged, at rate_hz), or NAN when
 * it cannot be read. */
static double file_rms_dbfs(const char *path, uint32_t rate_hz)
{
	struct audio_source_config cfg;
	struct audio_source *src = NULL;
	struct level_meter lm;
	struct auscult_err err;
	float block[LEVEL_BLOCK_SAMPLES];

	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_FILE;
	cfg.path = path;
	cfg.output_rate_hz = rate_hz;
	level_meter_reset(&lm);
	int rc = audio_source_open(&src, &cfg, &err);
	while (rc == AUSCULT_OK) {
		size_t got = 0;
		rc = audio_source_read(src, block, LEVEL_BLOCK_SAMPLES, &got, -1, &err);
		if (rc == AUSCULT_OK)
			level_meter_push(&lm, block, got);
	}
	audio_source_close(src);
	return rc == AUSCULT_ERR_EOF ? level_meter_rms_dbfs(&lm) : NAN;
}

bool silent_clip_note(const char *tool, const char *path, uint32_t rate_hz, const char *what)
{
	double dbfs = file_rms_dbfs(path, rate_hz);
	if (!(dbfs < PIPELINE_SILENCE_DBFS_DEFAULT)) /* NAN: unreadable, reported already */
		return false;
	fflush(stdout);
	fprintf(stderr,
		"auscult %s: %s: its level is %.1f dBFS, below the %d dBFS at which auscultd calls "
		"a machine off: %s\n",
		tool, path, dbfs, PIPELINE_SILENCE_DBFS_DEFAULT, what);
	return true;
}
