/* audio_level.c - reads a file through audio_source and sums its squares. */
#include "audio/audio_level.h"

#include <math.h>

#include "audio/audio_source.h"

#define LEVEL_BLOCK_SAMPLES 4096 /* 16 KiB on the stack */

int audio_file_level_dbfs(const char *path, uint32_t rate_hz, double *dbfs, struct auscult_err *err)
{
	struct audio_source_config cfg;
	struct audio_source *src = NULL;
	float block[LEVEL_BLOCK_SAMPLES];
	double sum = 0.0;
	size_t n = 0;

	audio_source_config_defaults(&cfg);
	cfg.kind = AUDIO_SOURCE_FILE;
	cfg.path = path;
	cfg.output_rate_hz = rate_hz;
	int rc = audio_source_open(&src, &cfg, err);
	while (rc == AUSCULT_OK) {
		size_t got = 0;
		rc = audio_source_read(src, block, LEVEL_BLOCK_SAMPLES, &got, -1, err);
		if (rc != AUSCULT_OK)
			break;
		for (size_t i = 0; i < got; i++)
			sum += (double)block[i] * block[i];
		n += got;
	}
	audio_source_close(src);
	if (rc != AUSCULT_ERR_EOF)
		return rc;
	*dbfs = n > 0 && sum > 0.0 ? 10.0 * log10(sum / (double)n) : -INFINITY;
	return AUSCULT_OK;
}
