/* test_gate.c - the machine-off gate: off vectors, the stop run, the settle time, no gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "detect/gate.h"

/* -60 dBFS is a mean square of 1e-6. */
#define LOUD 1e-3
#define QUIET 1e-8

static void init_gate(struct gate *g, uint32_t off_vectors, uint32_t settle_vectors)
{
	struct gate_config cfg;
	gate_config_defaults(&cfg);
	cfg.silence_dbfs = -60.0f;
	cfg.off_vectors = off_vectors;
	cfg.settle_vectors = settle_vectors;
	assert_int_equal(gate_init(g, &cfg, NULL), AUSCULT_OK);
}

static void test_defaults_and_bad_config(void **state)
{
	(void)state;
	struct gate_config cfg;
	struct gate g;
	struct auscult_err err;
	gate_config_defaults(&cfg);
	assert_float_equal(cfg.silence_dbfs, -70.0, 0);
	assert_int_equal(cfg.off_vectors, 32);
	assert_int_equal(cfg.settle_vectors, 94);
	cfg.silence_dbfs = NAN;
	assert_int_equal(gate_init(&g, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "silence_dbfs"));
	gate_config_defaults(&cfg);
	cfg.off_vectors = 0;
	assert_int_equal(gate_init(&g, &cfg, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "off_vectors"));
}

/* A stream starts running: loud vectors count at once; quiet ones never do. */
static void test_levels(void **state)
{
	(void)state;
	struct gate g;
	init_gate(&g, 4, 3);
	assert_int_equal(gate_push(&g, LOUD), 1);
	assert_int_equal(gate_push(&g, QUIET), 0);
	assert_int_equal(gate_push(&g, 1e-6), 1); /* exactly -60 dBFS is not below it */
	assert_int_equal(gate_push(&g, 0.0), 0);
}

/* A quiet run shorter than off_vectors is a dip: no settle after it. A run of off_vectors is a
 * stop: the next settle_vectors running vectors do not count, the one after does. */
static void test_stop_and_settle(void **state)
{
	(void)state;
	struct gate g;
	init_gate(&g, 4, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gate_push(&g, QUIET), 0);
	assert_int_equal(gate_push(&g, LOUD), 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(gate_push(&g, QUIET), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gate_push(&g, LOUD), 0);
	assert_int_equal(gate_push(&g, LOUD), 1);
	/* A quiet vector during the settle does not restart it. */
	for (int i = 0; i < 4; i++)
		gate_push(&g, QUIET);
	assert_int_equal(gate_push(&g, LOUD), 0);
	assert_int_equal(gate_push(&g, QUIET), 0);
	assert_int_equal(gate_push(&g, LOUD), 0);
	assert_int_equal(gate_push(&g, LOUD), 0);
	assert_int_equal(gate_push(&g, LOUD), 1);
	/* Reset: a new stream, taken as running. */
	for (int i = 0; i < 4; i++)
		gate_push(&g, QUIET);
	gate_reset(&g);
	assert_int_equal(gate_push(&g, LOUD), 1);
}

/* -inf dBFS turns the gate off: digital silence counts; settle 0 counts at once after a stop. */
static void test_no_gate_no_settle(void **state)
{
	(void)state;
	struct gate g;
	struct gate_config cfg;
	gate_config_defaults(&cfg);
	cfg.silence_dbfs = -INFINITY;
	assert_int_equal(gate_init(&g, &cfg, NULL), AUSCULT_OK);
	assert_int_equal(gate_push(&g, 0.0), 1);
	init_gate(&g, 2, 0);
	gate_push(&g, QUIET);
	gate_push(&g, QUIET);
	assert_int_equal(gate_push(&g, LOUD), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_bad_config),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_stop_and_settle),
		cmocka_unit_test(test_no_gate_no_settle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
