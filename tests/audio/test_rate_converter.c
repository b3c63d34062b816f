/* test_rate_converter.c - the rate converter: pass band, aliasing, timing, streaming, no malloc. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audio/rate_converter.h"

/*
 * Counting allocations: the process's malloc family is wrapped here (glibc's own entry points do
 * the work) and counted while `counting` is set. AddressSanitizer brings its own malloc, so under
 * it the count is not taken.
 */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCATIONS 0
#else
#define COUNT_ALLOCATIONS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
void *memalign(size_t align, size_t n); /* glibc's <malloc.h>, which would clash with ours */
static int counting;
static long allocations;

void *malloc(size_t n)
{
	allocations += counting;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	allocations += counting;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	allocations += counting;
	return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	allocations += counting;
	return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n)
{
	allocations += counting;
	return __libc_memalign(align, n);
}

int posix_memalign(void **p, size_t align, size_t n)
{
	allocations += counting;
	*p = __libc_memalign(align, n);
	return *p ? 0 : 12; /* ENOMEM */
}
#endif

static const uint32_t in_rates_hz[] = { 48000, 44100, 22050 };
#define N_RATES (sizeof(in_rates_hz) / sizeof(in_rates_hz[0]))

static float *sine(uint32_t rate_hz, double f_hz, double seconds, double amplitude, size_t *n)
{
	*n = (size_t)(seconds * rate_hz);
	float *x = malloc(*n * sizeof(float));
	assert_non_null(x);
	for (size_t i = 0; i < *n; i++)
		x[i] = (float)(amplitude * sin(2.0 * M_PI * f_hz * (double)i / rate_hz));
	return x;
}

/* Converts all of x in blocks of `block` samples, output `room` at a time, then flushes; the
 * caller frees the result. */
static float *convert(uint32_t in_hz, uint32_t out_hz, const float *x, size_t n, size_t block,
		      size_t room, size_t *n_out)
{
	struct rate_converter c;
	struct auscult_err err;
	if (rate_converter_init(&c, in_hz, out_hz, &err) != AUSCULT_OK)
		fail_msg("%s", err.msg);
	size_t cap = (size_t)((double)n * out_hz / in_hz) + 4096;
	float *y = malloc(cap * sizeof(float));
	assert_non_null(y);
	size_t pos = 0, got = 0;
	while (pos < n) {
		size_t take = n - pos < block ? n - pos : block, used = 0;
		got += rate_converter_process(&c, x + pos, take, &used, y + got,
					      room < cap - got ? room : cap - got);
		pos += used;
		/* Collect what it holds back before giving more. */
		for (size_t k; (k = rate_converter_process(&c, x + pos, 0, &used, y + got,
							   room < cap - got ? room : cap - got));)
			got += k;
	}
	for (size_t k; (k = rate_converter_process(&c, NULL, 0, &pos, y + got, cap - got));)
		got += k;
	rate_converter_free(&c);
	*n_out = got;
	return y;
}

static double rms(const float *x, size_t from, size_t to)
{
	double s = 0.0;
	for (size_t i = from; i < to; i++)
		s += (double)x[i] * x[i];
	return sqrt(s / (double)(to - from));
}

/* A 7 kHz sine keeps its level within 0.1 dB (the model's top band is 7.6-8 kHz: 7.6 kHz within
 * 1 dB); the output has the length of the input, in time, within a sample. */
static void test_pass_band(void **state)
{
	(void)state;
	const double f_hz[] = { 1000.0, 7000.0, 7600.0 };
	const double tol_db[] = { 0.1, 0.1, 1.0 };
	for (size_t r = 0; r < N_RATES; r++) {
		for (size_t k = 0; k < 3; k++) {
			size_t n, m;
			float *x = sine(in_rates_hz[r], f_hz[k], 1.0, 0.5, &n);
			float *y = convert(in_rates_hz[r], 16000, x, n, 4096, 100000, &m);
			assert_true(m >= 15999 && m <= 16001);
			double db = 20.0 * log10(rms(y, 2000, 14000) / (0.5 / sqrt(2.0)));
			if (fabs(db) > tol_db[k])
				fail_msg(
					"%u Hz: a %.0f Hz sine comes out at %.3f dB, expected 0 +- %.1f",
					in_rates_hz[r], f_hz[k], db, tol_db[k]);
			free(x);
			free(y);
		}
	}
}

/* Sines above the new Nyquist frequency (8 kHz) would fold back into the bands the model
 * reads: at 8.5 kHz and above, what is left is more than 100 dB down (bench_resample: 134). */
static void test_alias_rejection(void **state)
{
	(void)state;
	const double f_hz[] = { 8500.0, 10000.0, 10900.0 };
	for (size_t r = 0; r < N_RATES; r++) {
		for (size_t k = 0; k < 3; k++) {
			size_t n, m;
			float *x = sine(in_rates_hz[r], f_hz[k], 1.0, 0.5, &n);
			float *y = convert(in_rates_hz[r], 16000, x, n, 4096, 100000, &m);
			double db = 20.0 * log10(rms(y, 2000, 14000) / (0.5 / sqrt(2.0)) + 1e-20);
			if (db > -100.0)
				fail_msg("%u Hz: a %.0f Hz sine leaves %.1f dB, expected below -100",
					 in_rates_hz[r], f_hz[k], db);
			free(x);
			free(y);
		}
	}
}

/* No delay and no lost or extra sample at the start: a 1 kHz sine comes out in phase with the
 * same sine computed at 16 kHz (a sample off would be 22 degrees, an error of 0.19). */
static void test_timing(void **state)
{
	(void)state;
	for (size_t r = 0; r < N_RATES; r++) {
		size_t n, m;
		float *x = sine(in_rates_hz[r], 1000.0, 0.5, 0.5, &n);
		float *y = convert(in_rates_hz[r], 16000, x, n, 4096, 100000, &m);
		double worst = 0.0;
		for (size_t i = 200; i < 7800; i++) {
			double want = 0.5 * sin(2.0 * M_PI * 1000.0 * (double)i / 16000.0);
			worst = fmax(worst, fabs(y[i] - want));
		}
		if (worst > 1e-3)
			fail_msg("%u Hz: the 1 kHz sine is off by up to %.4f", in_rates_hz[r],
				 worst);
		free(x);
		free(y);
	}
}

/* Block and buffer sizes do not change the result: odd blocks and a reader that takes 7 samples
 * at a time give what 4096-sample blocks give, and upsampling works too. */
static void test_streaming(void **state)
{
	(void)state;
	size_t n, m1, m2;
	float *x = sine(44100, 3000.0, 0.7, 0.5, &n);
	float *a = convert(44100, 16000, x, n, 4096, 100000, &m1);
	float *b = convert(44100, 16000, x, n, 333, 7, &m2);
	assert_int_equal(m1, m2);
	for (size_t i = 0; i < m1; i++)
		assert_true(fabsf(a[i] - b[i]) < 1e-5f);
	free(a);
	free(b);
	free(x);

	x = sine(8000, 1000.0, 0.5, 0.5, &n);
	a = convert(8000, 16000, x, n, 1000, 100000, &m1);
	assert_true(m1 >= 7999 && m1 <= 8001);
	assert_true(fabs(rms(a, 1000, 7000) - 0.5 / sqrt(2.0)) < 0.005);
	free(a);
	free(x);
}

/* After init, converting never allocates: blocks up to RATE_CONVERTER_BLOCK, any reader. */
static void test_no_allocation(void **state)
{
	(void)state;
#if COUNT_ALLOCATIONS
	for (size_t r = 0; r < N_RATES; r++) {
		struct rate_converter c;
		struct auscult_err err;
		assert_int_equal(rate_converter_init(&c, in_rates_hz[r], 16000, &err), AUSCULT_OK);
		static float in[RATE_CONVERTER_BLOCK], out[RATE_CONVERTER_BLOCK];
		uint32_t seed = 7;
		allocations = 0;
		counting = 1;
		for (int block = 0; block < 2000; block++) {
			/* Blocks of random size, half of them full; a reader taking 1, 13, 500 or
			 * 4096 samples at a time. */
			seed = seed * 1664525u + 1013904223u;
			size_t take = seed >> 31 ? RATE_CONVERTER_BLOCK
						 : 1 + (seed >> 8) % RATE_CONVERTER_BLOCK;
			static const size_t rooms[] = { 1, 13, 500, RATE_CONVERTER_BLOCK };
			size_t room = rooms[(seed >> 4) % 4];
			for (size_t i = 0; i < take; i++) {
				seed = seed * 1664525u + 1013904223u;
				in[i] = (float)((double)(seed >> 8) / (double)(1u << 24) - 0.5);
			}
			size_t pos = 0, used = 0;
			while (pos < take) {
				rate_converter_process(&c, in + pos, take - pos, &used, out, room);
				pos += used;
				while (rate_converter_process(&c, in, 0, &used, out, room) > 0)
					;
			}
		}
		counting = 0;
		rate_converter_free(&c);
		if (allocations != 0)
			fail_msg("%u Hz: %ld allocations while converting", in_rates_hz[r],
				 allocations);
	}
#else
	skip();
#endif
}

static void test_bad_ratio(void **state)
{
	(void)state;
	struct rate_converter c;
	struct auscult_err err;
	assert_int_equal(rate_converter_init(&c, 384000, 1000, &err), AUSCULT_ERR_UNSUPPORTED);
	assert_string_equal(err.msg,
			    "cannot convert 384000 Hz to 1000 Hz (ratio beyond 1/256..256)");
	rate_converter_free(&c);
	rate_converter_free(NULL);
}

/* The measured cost is a plausible share of a core: above 0, under 5 %. */
static void test_cost(void **state)
{
	(void)state;
	struct rate_converter c;
	struct auscult_err err;
	assert_int_equal(rate_converter_init(&c, 48000, 16000, &err), AUSCULT_OK);
	printf("soxr 48 kHz -> 16 kHz: %.4f%% of a core\n", 100.0 * c.cost_share);
	assert_true(c.cost_share > 0.0 && c.cost_share < 0.05);
	rate_converter_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_band),     cmocka_unit_test(test_alias_rejection),
		cmocka_unit_test(test_timing),        cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_no_allocation), cmocka_unit_test(test_bad_ratio),
		cmocka_unit_test(test_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
