/* fuzz_config.c - libFuzzer target: the YAML config loader, from the file's bytes to the struct. */
#include "config/daemon_config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write_file(data, size, ".yaml");
	struct daemon_config cfg;
	struct auscult_err err;
	if (daemon_config_load(&cfg, path, &err) == AUSCULT_OK)
		daemon_config_free(&cfg);
	return 0;
}
