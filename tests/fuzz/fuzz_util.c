/* fuzz_util.c - the scratch file the libFuzzer targets hand to the parsers (see fuzz_util.h). */
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[4096];

static void remove_scratch(void)
{
	if (scratch[0])
		unlink(scratch);
}

const char *fuzz_write_file(const uint8_t *data, size_t size, const char *suffix)
{
	if (!scratch[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(scratch, sizeof(scratch), "%s/auscult-fuzz-%ld%s", tmp ? tmp : "/tmp",
			 (long)getpid(), suffix);
		atexit(remove_scratch);
	}
	FILE *f = fopen(scratch, "wb");
	if (!f || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(scratch);
		abort();
	}
	return scratch;
}
