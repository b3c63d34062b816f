/* test_spsc_ring.c - the lock-free capture ring: wraparound, overrun counting, two-thread order. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "audio/spsc_ring.h"

static void test_capacity_rounds_up(void **state)
{
	(void)state;
	struct spsc_ring r;
	struct auscult_err err;
	assert_int_equal(spsc_ring_init(&r, 1000, 2, &err), AUSCULT_OK);
	assert_int_equal(r.capacity_frames, 1024);
	assert_int_equal(spsc_ring_writable(&r), 1024);
	assert_int_equal(spsc_ring_readable(&r), 0);
	spsc_ring_free(&r);
	assert_int_equal(spsc_ring_init(&r, 1024, 1, &err), AUSCULT_OK);
	assert_int_equal(r.capacity_frames, 1024);
	spsc_ring_free(&r);
	spsc_ring_free(&r); /* twice is harmless */

	assert_int_equal(spsc_ring_init(&r, 0, 1, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "expected at least 1 frame"));
	assert_int_equal(spsc_ring_init(&r, 16, 0, &err), AUSCULT_ERR_INVALID);
	/* One frame over the limit (1 << 26): a value that also fits a 32-bit size_t (armhf). */
	assert_int_equal(spsc_ring_init(&r, ((size_t)1 << 26) + 1, 1, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "more than the limit"));
}

static void test_wraparound_keeps_order(void **state)
{
	(void)state;
	struct spsc_ring r;
	struct auscult_err err;
	assert_int_equal(spsc_ring_init(&r, 8, 2, &err), AUSCULT_OK);
	float in[2 * 5], out[2 * 8];
	float next = 0.0f, expect = 0.0f;
	/* Write 5, read 3, repeatedly: the indices cross the end of the buffer at every phase. */
	for (int round = 0; round < 50; round++) {
		size_t can = spsc_ring_writable(&r);
		size_t n = can < 5 ? can : 5;
		for (size_t i = 0; i < 2 * n; i++)
			in[i] = next++;
		assert_int_equal(spsc_ring_write(&r, in, n), n);
		size_t got = spsc_ring_read(&r, out, 3);
		assert_true(got <= 3);
		for (size_t i = 0; i < 2 * got; i++)
			assert_true(out[i] == expect++);
	}
	size_t got;
	while ((got = spsc_ring_read(&r, out, 8)) > 0)
		for (size_t i = 0; i < 2 * got; i++)
			assert_true(out[i] == expect++);
	assert_true(expect == next);
	assert_int_equal(spsc_ring_overruns(&r), 0);
	spsc_ring_free(&r);
}

static void test_full_ring_counts_overruns(void **state)
{
	(void)state;
	struct spsc_ring r;
	struct auscult_err err;
	assert_int_equal(spsc_ring_init(&r, 16, 1, &err), AUSCULT_OK);
	float in[40], out[40];
	for (int i = 0; i < 40; i++)
		in[i] = (float)i;
	/* 40 into 16: 16 kept (the oldest, never overwritten), 24 dropped and counted. */
	assert_int_equal(spsc_ring_write(&r, in, 40), 16);
	assert_int_equal(spsc_ring_overruns(&r), 24);
	assert_int_equal(spsc_ring_writable(&r), 0);
	assert_int_equal(spsc_ring_write(&r, in, 3), 0);
	assert_int_equal(spsc_ring_overruns(&r), 27);
	assert_int_equal(spsc_ring_writes(&r), 2);
	assert_int_equal(spsc_ring_read(&r, out, 40), 16);
	for (int i = 0; i < 16; i++)
		assert_true(out[i] == (float)i);
	assert_int_equal(spsc_ring_read(&r, out, 40), 0);
	assert_int_equal(spsc_ring_write(&r, in + 20, 10), 10);
	assert_int_equal(spsc_ring_read(&r, out, 4), 4);
	assert_true(out[0] == 20.0f && out[3] == 23.0f);
	assert_int_equal(spsc_ring_overruns(&r), 27);
	spsc_ring_free(&r);
}

/* 2 million frames of 2 floats; float holds integers exactly up to 2^24, so the counter wraps at
 * 2^23 and the second float carries the wrap count. */
#define STRESS_FRAMES 2000000u
#define STRESS_WRAP 8388608u

struct stress {
	struct spsc_ring ring;
	size_t produced;
};

static void *producer(void *arg)
{
	struct stress *s = arg;
	float chunk[2 * 97];
	size_t i = 0, step = 1;
	while (i < STRESS_FRAMES) {
		size_t n = step;
		if (n > STRESS_FRAMES - i)
			n = STRESS_FRAMES - i;
		size_t can = spsc_ring_writable(&s->ring);
		if (can == 0) {
			sched_yield(); /* wait: the test wants every frame, not drops */
			continue;
		}
		if (n > can)
			n = can;
		for (size_t k = 0; k < n; k++) {
			chunk[2 * k] = (float)((i + k) % STRESS_WRAP);
			chunk[2 * k + 1] = (float)((i + k) / STRESS_WRAP);
		}
		size_t w = spsc_ring_write(&s->ring, chunk, n);
		i += w;
		step = step % 97 + 1;
	}
	s->produced = i;
	return NULL;
}

static void test_two_threads_keep_order(void **state)
{
	(void)state;
	static struct stress s;
	struct auscult_err err;
	assert_int_equal(spsc_ring_init(&s.ring, 256, 2, &err), AUSCULT_OK);
	pthread_t th;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&th, NULL, producer, &s), 0);
	float out[2 * 61];
	size_t expect = 0, want = 1;
	while (expect < STRESS_FRAMES) {
		size_t got = spsc_ring_read(&s.ring, out, want);
		if (got == 0)
			sched_yield();
		for (size_t k = 0; k < got; k++, expect++) {
			if (out[2 * k] != (float)(expect % STRESS_WRAP) ||
			    out[2 * k + 1] != (float)(expect / STRESS_WRAP))
				fail_msg("frame %zu: got (%g, %g)", expect, out[2 * k],
					 out[2 * k + 1]);
		}
		want = want % 61 + 1;
	}
	pthread_join(th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(s.produced, STRESS_FRAMES);
	assert_int_equal(spsc_ring_overruns(&s.ring), 0);
	assert_int_equal(spsc_ring_readable(&s.ring), 0);
	double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	print_message("%u frames through a 256-frame ring in %.3f s\n", STRESS_FRAMES, sec);
	spsc_ring_free(&s.ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_rounds_up),
		cmocka_unit_test(test_wraparound_keeps_order),
		cmocka_unit_test(test_full_ring_counts_overruns),
		cmocka_unit_test(test_two_threads_keep_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
