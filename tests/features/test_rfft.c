/* test_rfft.c - the kissfft power spectrum: against a double DFT, a sine's bin, sizes it refuses. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "features/rfft.h"
#include "features_test_util.h"

/* |DFT|^2 of x w in double, straight from the definition. */
static void naive_power(const float *x, const double *w, uint32_t n, double *out)
{
	for (uint32_t k = 0; k <= n / 2; k++) {
		double re = 0.0, im = 0.0;
		for (uint32_t t = 0; t < n; t++) {
			double a = -2.0 * M_PI * (double)((uint64_t)k * t % n) / n;
			re += (double)x[t] * w[t] * cos(a);
			im += (double)x[t] * w[t] * sin(a);
		}
		out[k] = re * re + im * im;
	}
}

/* Noise through a Hann window, at power-of-two and mixed-radix sizes: every bin within float
 * rounding of the exact value, relative to the frame's total power (the float transform's error
 * scales with the frame, not with the bin). */
static void test_matches_double_dft(void **state)
{
	(void)state;
	const uint32_t sizes[] = { 4, 6, 64, 1024, 1000 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t n = sizes[s];
		float *x = malloc(n * sizeof(*x));
		double *w = malloc(n * sizeof(*w));
		double *got = malloc((n / 2 + 1) * sizeof(*got));
		double *want = malloc((n / 2 + 1) * sizeof(*want));
		assert_true(x && w && got && want);
		util_noise(x, n, 0.5f, 7u + n);
		for (uint32_t t = 0; t < n; t++)
			w[t] = 0.5 - 0.5 * cos(2.0 * M_PI * t / n);
		struct rfft f;
		assert_int_equal(rfft_init(&f, n, NULL), AUSCULT_OK);
		assert_true(rfft_heap_bytes(&f) >= n * sizeof(float));
		rfft_power(&f, x, w, got);
		naive_power(x, w, n, want);
		double total = 0.0, max_err = 0.0;
		for (uint32_t k = 0; k <= n / 2; k++)
			total += want[k];
		for (uint32_t k = 0; k <= n / 2; k++) {
			double e = fabs(got[k] - want[k]) / total;
			if (e > max_err)
				max_err = e;
		}
		print_message("n %4u: max |error| %.2e of the frame's power\n", n, max_err);
		assert_true(max_err < 1e-6);
		rfft_free(&f);
		free(x);
		free(w);
		free(got);
		free(want);
	}
}

/* A cosine on bin 16 of 256 with a rectangular window: N^2 A^2 / 4 in bin 16, nothing elsewhere
 * but float rounding (about 140 dB down). */
static void test_cosine_lands_in_its_bin(void **state)
{
	(void)state;
	enum { N = 256 };
	float x[N];
	double w[N], p[N / 2 + 1];
	for (int t = 0; t < N; t++) {
		x[t] = (float)(0.25 * cos(2.0 * M_PI * 16 * t / N));
		w[t] = 1.0;
	}
	struct rfft f;
	assert_int_equal(rfft_init(&f, N, NULL), AUSCULT_OK);
	rfft_power(&f, x, w, p);
	double peak = pow(0.25 * N / 2, 2);
	assert_true(fabs(p[16] - peak) < 1e-5 * peak);
	for (int k = 0; k <= N / 2; k++)
		if (k != 16)
			assert_true(p[k] < 1e-12 * peak);
	rfft_free(&f);
}

static void test_rejects_sizes(void **state)
{
	(void)state;
	struct rfft f;
	struct auscult_err err;
	assert_int_equal(rfft_init(&f, 1023, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "rfft: size 1023 is not an even number in [4, 1048576]");
	rfft_free(&f);
	assert_int_equal(rfft_init(&f, 2, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "rfft: size 2 is not an even number in [4, 1048576]");
	rfft_free(&f);
	rfft_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_double_dft),
		cmocka_unit_test(test_cosine_lands_in_its_bin),
		cmocka_unit_test(test_rejects_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
