/*
 * fuzz_model_body.c - libFuzzer target: the model file's body. A mutated file almost never keeps
 * its CRC, so the raw target rarely gets past the header; this one rewrites the header (magic,
 * version, length, CRC) around whatever follows the first 24 bytes, so every input is parsed.
 * The seeds are whole model files.
 */
#include <stdlib.h>
#include <string.h>

#include "model/crc32.h"
#include "model/model.h"
#include "model/model_file.h"
#include "fuzz_util.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < MODEL_FILE_HEADER_BYTES)
		return 0;
	size_t body = size - MODEL_FILE_HEADER_BYTES;
	uint8_t *file = malloc(size);
	if (!file)
		return 0;
	memcpy(file, data, size);
	memcpy(file, MODEL_FILE_MAGIC, MODEL_FILE_MAGIC_BYTES);
	/* The input's own version when it is one the reader knows: the reader refuses a version
	 * higher than the body's flags need, so a fixed one would cut the older bodies short. */
	uint32_t version = (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
			   (uint32_t)data[11] << 24;
	if (version < MODEL_FILE_VERSION_MIN || version > MODEL_FILE_VERSION)
		version = MODEL_FILE_VERSION;
	put_le(file + 8, version, 4);
	put_le(file + 12, crc32_compute(file + MODEL_FILE_HEADER_BYTES, body), 4);
	put_le(file + 16, body, 8);
	struct model m;
	struct auscult_err err;
	if (model_decode(&m, file, size, "fuzz", &err) == AUSCULT_OK)
		model_free(&m);
	free(file);
	return 0;
}
