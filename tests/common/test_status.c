/* test_status.c - the status texts and the error-message helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/status.h"

static void every_status_has_text(void **state)
{
	(void)state;
	for (int s = 0; s < AUSCULT_STATUS_COUNT; s++)
		assert_string_not_equal(auscult_strerror(s), "unknown error");
	assert_string_equal(auscult_strerror(-1), "unknown error");
	assert_string_equal(auscult_strerror(AUSCULT_STATUS_COUNT), "unknown error");
}

static void fail_formats_and_returns_status(void **state)
{
	(void)state;
	struct auscult_err err;
	int rc = auscult_fail(&err, AUSCULT_ERR_TRUNCATED, "%s: truncated at byte %d", "m.am", 12);
	assert_int_equal(rc, AUSCULT_ERR_TRUNCATED);
	assert_string_equal(err.msg, "m.am: truncated at byte 12");
	assert_int_equal(auscult_fail(NULL, AUSCULT_ERR_IO, "ignored"), AUSCULT_ERR_IO);
	auscult_err_clear(&err);
	assert_string_equal(err.msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_status_has_text),
		cmocka_unit_test(fail_formats_and_returns_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
