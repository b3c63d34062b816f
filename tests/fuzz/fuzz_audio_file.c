/* fuzz_audio_file.c - libFuzzer target: the audio file source (libsndfile behind our checks, the
 * channel mix and the rate converter), read to the end as the daemon reads a file. */
#include "audio/audio_source.h"
#include "fuzz_util.h"

/* Stop after this many samples: a valid header may announce hours; the parsing is what counts. */
#define FUZZ_MAX_SAMPLES (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.path = fuzz_write_file(data, size, ".wav");
	struct audio_source *src = NULL;
	struct auscult_err err;
	if (audio_source_open(&src, &cfg, &err) != AUSCULT_OK)
		return 0;
	(void)audio_source_warning(src);
	float buf[4096];
	size_t got = 0, total = 0;
	while (total < FUZZ_MAX_SAMPLES &&
	       audio_source_read(src, buf, 4096, &got, -1, &err) == AUSCULT_OK)
		total += got;
	audio_source_close(src);
	return 0;
}
