/* fuzz_evidence_record.c - libFuzzer target: the evidence record reader `auscult report` runs on
 * every file of an evidence folder. */
#include "evidence/evidence_record.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write_file(data, size, ".txt");
	struct evidence_record r;
	struct auscult_err err;
	evidence_record_read(path, &r, &err);
	evidence_record_free(&r);
	return 0;
}
