/* test_evidence_retention.c - oldest events deleted first, by count and by size, whole events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evidence_test_util.h"
#include "evidence/evidence_retention.h"

static void put(const char *name, size_t bytes)
{
	char path[PATH_MAX + 264]; /* dir, "/", a name of up to 255 bytes */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < bytes; i++)
		fputc('x', f);
	fclose(f);
}

static bool exists(const char *name)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void event(const char *base, size_t bytes)
{
	char name[256];
	snprintf(name, sizeof(name), "%s.flac", base);
	put(name, bytes);
	snprintf(name, sizeof(name), "%s.png", base);
	put(name, 10);
	snprintf(name, sizeof(name), "%s.txt", base);
	put(name, 10);
}

static void by_count_oldest_first(void **state)
{
	(void)state;
	event("20260101T000003Z-pump-3", 100);
	event("20260101T000001Z-pump-1", 100);
	event("20260101T000002Z-pump-2", 100);
	put("20260101T000004Z-pump-4.flac.tmp", 100); /* being written: not an event */
	put("notes.md", 5);
	size_t deleted = 99;
	struct auscult_err err;
	assert_int_equal(evidence_retention_apply(dir, 2, UINT64_MAX, NULL, 0, &deleted, &err),
			 AUSCULT_OK);
	assert_int_equal(deleted, 1);
	assert_false(exists("20260101T000001Z-pump-1.flac"));
	assert_false(exists("20260101T000001Z-pump-1.png"));
	assert_false(exists("20260101T000001Z-pump-1.txt"));
	assert_true(exists("20260101T000002Z-pump-2.flac"));
	assert_true(exists("20260101T000003Z-pump-3.txt"));
	assert_true(exists("20260101T000004Z-pump-4.flac.tmp"));
	assert_true(exists("notes.md"));
}

/* What a crash or a power cut leaves mid-write is deleted once it is an hour old; what is being
 * written now is not. */
static void stale_temporaries_go(void **state)
{
	(void)state;
	event("20260101T000001Z-pump-1", 100);
	put("20260101T000002Z-pump-2.flac.tmp", 100);
	put("20260101T000002Z-pump-2.png.tmpAbC123", 10);
	put("20260101T000003Z-pump-3.flac.tmp", 100);
	put("notes.tmp", 5);
	const char *old[] = { "20260101T000002Z-pump-2.flac.tmp",
			      "20260101T000002Z-pump-2.png.tmpAbC123", "notes.tmp" };
	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/%s", dir, old[i]);
		struct timespec two_hours_ago[2] = { { time(NULL) - 7200, 0 },
						     { time(NULL) - 7200, 0 } };
		assert_int_equal(utimensat(AT_FDCWD, path, two_hours_ago, 0), 0);
	}
	size_t deleted = 99;
	struct auscult_err err;
	assert_int_equal(evidence_retention_apply(dir, 10, UINT64_MAX, NULL, 0, &deleted, &err),
			 AUSCULT_OK);
	assert_int_equal(deleted, 0);
	assert_false(exists("20260101T000002Z-pump-2.flac.tmp"));
	assert_false(exists("20260101T000002Z-pump-2.png.tmpAbC123"));
	assert_true(exists("20260101T000003Z-pump-3.flac.tmp")); /* being written */
	assert_true(exists("notes.tmp"));                        /* not the writer's */
	assert_true(exists("20260101T000001Z-pump-1.flac"));
}

static void by_size_keeps_the_newest(void **state)
{
	(void)state;
	event("20260101T000001Z-pump-1", 1000);
	event("20260101T000002Z-pump-2", 1000);
	event("20260101T000003Z-pump-3", 5000);
	const char *newest[] = { "20260101T000003Z-pump-3" };
	size_t deleted = 0;
	assert_int_equal(evidence_retention_apply(dir, 100, 6000, newest, 1, &deleted, NULL),
			 AUSCULT_OK);
	assert_int_equal(deleted, 2); /* 7060 bytes: 1 goes (6040), then 2 (5020) */
	assert_false(exists("20260101T000002Z-pump-2.flac"));
	/* Alone over the cap, the newest stays. */
	assert_int_equal(evidence_retention_apply(dir, 100, 10, newest, 1, &deleted, NULL),
			 AUSCULT_OK);
	assert_int_equal(deleted, 0);
	assert_true(exists("20260101T000003Z-pump-3.flac"));
}

/* Every event still being written is kept, the oldest too: the writer finished a newer one
 * first, and retention deleted the older one's sound before its picture and record. */
static void every_open_event_is_kept(void **state)
{
	(void)state;
	event("20260101T000001Z-pump-1", 1000);
	event("20260101T000002Z-pump-2", 1000);
	event("20260101T000003Z-pump-3", 1000);
	const char *open_ones[] = { "20260101T000003Z-pump-3", "20260101T000001Z-pump-1" };
	size_t deleted = 0;
	assert_int_equal(evidence_retention_apply(dir, 1, UINT64_MAX, open_ones, 2, &deleted, NULL),
			 AUSCULT_OK);
	assert_int_equal(deleted, 1);
	assert_true(exists("20260101T000001Z-pump-1.flac"));
	assert_false(exists("20260101T000002Z-pump-2.flac"));
	assert_true(exists("20260101T000003Z-pump-3.flac"));
}

static void missing_folder_is_an_error(void **state)
{
	(void)state;
	struct auscult_err err;
	char missing[PATH_MAX + 16];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	assert_int_equal(evidence_retention_apply(missing, 1, 1, NULL, 0, NULL, &err),
			 AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, "cannot list the evidence folder"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(by_count_oldest_first, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(stale_temporaries_go, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(every_open_event_is_kept, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(by_size_keeps_the_newest, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(missing_folder_is_an_error, scratch_setup,
						scratch_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
