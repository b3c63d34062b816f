/* test_svg_report.c - the training curve chart of `auscult report --model`: one point per epoch,
 * NaN breaks, log scale, no NaN or infinity in the drawing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/svg_report.h"

/* Not inlined: GCC otherwise takes open_memstream's hold on `text` for a dangling pointer. */
__attribute__((noinline)) static char *draw(const float *train, const float *val, size_t n)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	struct svg_curve c = { train, val, n };
	struct auscult_err err;
	assert_int_equal(svg_curve_write(f, &c, &err), AUSCULT_OK);
	fclose(f);
	assert_null(strstr(text, "nan"));
	assert_null(strstr(text, "inf"));
	return text;
}

/* The points of the k-th polyline of class cls (0-based) into x, y; returns their count, or -1
 * when there is no such polyline. */
static int polyline(const char *svg, const char *cls, int k, double *x, double *y, int max)
{
	char key[64];
	snprintf(key, sizeof(key), "<polyline class=\"%s\"", cls);
	const char *p = svg;
	for (int i = 0; i <= k; i++) {
		p = strstr(p, key);
		if (!p)
			return -1;
		p += strlen(key);
	}
	p = strstr(p, "points=\"");
	assert_non_null(p);
	p += 8;
	int n = 0;
	while (*p != '"') {
		char *end;
		double px = strtod(p, &end);
		assert_int_equal(*end, ',');
		double py = strtod(end + 1, &end);
		assert_true(n < max);
		x[n] = px;
		y[n] = py;
		n++;
		p = end;
		while (*p == ' ')
			p++;
	}
	return n;
}

static int count(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void one_point_per_epoch_on_a_log_scale(void **state)
{
	(void)state;
	/* Each epoch's loss a tenth of the one before: equal steps on a log scale. */
	const float train[5] = { 100.0f, 10.0f, 1.0f, 0.1f, 0.01f };
	const float val[5] = { 200.0f, 20.0f, 2.0f, 0.5f, 0.6f };
	char *svg = draw(train, val, 5);
	double x[8], y[8];
	assert_int_equal(polyline(svg, "train-loss", 0, x, y, 8), 5);
	assert_int_equal(polyline(svg, "train-loss", 1, x, y, 8), -1);
	assert_int_equal(polyline(svg, "train-loss", 0, x, y, 8), 5);
	for (int e = 1; e < 5; e++) {
		assert_true(x[e] > x[e - 1]); /* epochs left to right */
		assert_true(y[e] > y[e - 1]); /* smaller losses lower */
		double step = y[e] - y[e - 1];
		assert_true(fabs(step - (y[1] - y[0])) < 0.2); /* log: equal steps, to rounding */
	}
	assert_int_equal(polyline(svg, "val-loss", 0, x, y, 8), 5);
	assert_non_null(strstr(svg, "<svg class=\"training-curve\""));
	assert_non_null(strstr(svg, ">epoch</text>"));
	assert_non_null(strstr(svg, ">loss (MSE)</text>"));
	assert_non_null(strstr(svg, ">training loss</text>"));
	assert_non_null(strstr(svg, ">validation loss (best: epoch 4)</text>"));
	assert_int_equal(count(svg, "class=\"best-val\""), 1);
	/* Over 4 decades, a tick per decade: 0.01 to 100. */
	assert_non_null(strstr(svg, ">0.01</text>"));
	assert_non_null(strstr(svg, ">100</text>"));
	free(svg);
}

static void nan_validation_breaks_or_drops_the_line(void **state)
{
	(void)state;
	const float train[5] = { 5.0f, 4.0f, 3.0f, 2.5f, 2.0f };
	const float some[5] = { 6.0f, 5.0f, NAN, 4.0f, 3.5f };
	char *svg = draw(train, some, 5);
	double x[8], y[8];
	assert_int_equal(polyline(svg, "val-loss", 0, x, y, 8), 2);
	assert_int_equal(polyline(svg, "val-loss", 1, x, y, 8), 2);
	assert_int_equal(polyline(svg, "val-loss", 2, x, y, 8), -1);
	assert_non_null(strstr(svg, ">validation loss (best: epoch 5)</text>"));
	free(svg);

	const float none[5] = { NAN, NAN, NAN, NAN, NAN };
	svg = draw(train, none, 5);
	assert_int_equal(polyline(svg, "train-loss", 0, x, y, 8), 5);
	assert_int_equal(polyline(svg, "val-loss", 0, x, y, 8), -1);
	assert_non_null(strstr(svg, ">validation loss: none held out</text>"));
	assert_null(strstr(svg, "best-val"));
	free(svg);
}

static void one_epoch_flat_or_zero_losses_still_draw(void **state)
{
	(void)state;
	double x[4], y[4];
	const float one_t[1] = { 0.5f }, one_v[1] = { 0.75f };
	char *svg = draw(one_t, one_v, 1);
	assert_int_equal(polyline(svg, "train-loss", 0, x, y, 4), 1);
	assert_int_equal(count(svg, "<circle "), 2); /* the dots show what a line cannot */
	assert_non_null(strstr(svg, ">1</text>"));   /* the only epoch */
	free(svg);

	/* A perfect fit (0) sits on the axis's floor; a flat curve gets a readable range. */
	const float flat[3] = { 1.0f, 1.0f, 0.0f }, val[3] = { 1.0f, 1.0f, 1.0f };
	svg = draw(flat, val, 3);
	assert_int_equal(polyline(svg, "train-loss", 0, x, y, 4), 3);
	assert_true(y[2] > y[1]);
	assert_non_null(strstr(svg, ">1</text>")); /* a tick at the losses' level */
	free(svg);
}

/* Text from file names: the XML specials escaped, tab kept, a control byte and invalid UTF-8
 * replaced (XML cannot hold them: the picture would not open), valid UTF-8 kept whole. */
static void escaping_keeps_the_xml_well_formed(void **state)
{
	(void)state;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	svg_put_escaped(f, "m\xff\x01<&>\"'\tpump\xc3\xa9\xe2\x82\xac\xc3");
	fclose(f);
	assert_string_equal(text, "m\xef\xbf\xbd\xef\xbf\xbd&lt;&amp;&gt;&quot;&apos;\tpump"
				  "\xc3\xa9\xe2\x82\xac\xef\xbf\xbd");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_point_per_epoch_on_a_log_scale),
		cmocka_unit_test(nan_validation_breaks_or_drops_the_line),
		cmocka_unit_test(one_epoch_flat_or_zero_losses_still_draw),
		cmocka_unit_test(escaping_keeps_the_xml_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
