/* fuzz_raw.c - libFuzzer target: the raw PCM reader (what `source: stdin` reads). The first two
 * bytes choose the channel count and rate, so odd layouts and rates are covered too. */
#include <fcntl.h>
#include <unistd.h>

#include "audio/audio_source.h"
#include "fuzz_util.h"

static const uint32_t rates_hz[] = { 8000, 11025, 16000, 22050, 44100, 48000, 96000, 1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct audio_source_config cfg;
	audio_source_config_defaults(&cfg);
	cfg.input_channels = (uint32_t)(data[0] % 9); /* 0 and 8 channels: limits */
	cfg.input_rate_hz = rates_hz[data[1] % (sizeof(rates_hz) / sizeof(rates_hz[0]))];
	cfg.channel = (data[0] >> 4) % 3 == 2 ? AUDIO_CHANNEL_AVERAGE : (int)((data[0] >> 4) % 3);
	int fd = open(fuzz_write_file(data + 2, size - 2, ".raw"), O_RDONLY);
	if (fd < 0)
		return 0;
	struct audio_source *src = NULL;
	struct auscult_err err;
	if (audio_source_open_fd(&src, &cfg, fd, "fuzz", &err) == AUSCULT_OK) {
		float buf[4096];
		size_t got = 0;
		while (audio_source_read(src, buf, 4096, &got, -1, &err) == AUSCULT_OK)
			;
		audio_source_close(src);
	}
	close(fd);
	return 0;
}
