/* fuzz_model.c - libFuzzer target: the model file decoder on raw bytes (header, CRC, body). */
#include "model/model.h"
#include "model/model_file.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m;
	struct auscult_err err;
	if (model_decode(&m, data, size, "fuzz", &err) == AUSCULT_OK)
		model_free(&m);
	return 0;
}
