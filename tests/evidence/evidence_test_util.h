/* evidence_test_util.h - a scratch folder per cmocka test for the evidence tests (header only). */
#ifndef AUSCULT_EVIDENCE_TEST_UTIL_H
#define AUSCULT_EVIDENCE_TEST_UTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* The test's folder, made by scratch_setup and removed with its contents by scratch_teardown. */
static char dir[PATH_MAX];

static int scratch_setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/auscult-evidence.XXXXXX", tmp);
	return mkdtemp(dir) ? 0 : -1;
}

static int scratch_teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
