/* fuzz_util.h - what the libFuzzer targets share: the input written to a file the parsers open. */
#ifndef AUSCULT_FUZZ_UTIL_H
#define AUSCULT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes data to this process's scratch file (in $TMPDIR, created on first use, removed at exit)
 * and returns its path; aborts if the file cannot be written, since every later run would be
 * meaningless. suffix names the kind (".yaml", ".wav"): libsndfile looks at contents, not names.
 */
const char *fuzz_write_file(const uint8_t *data, size_t size, const char *suffix);

/* libFuzzer's entry point, declared here because it has no header of its own. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
