/* test_dataset.c - collecting training files, stacking their features, and the errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "features/feature_params.h"
#include "train/dataset.h"

#define NORMALS AUSCULT_SHARED_DIR "/data/dcase2020_id00/train"

static char tmpdir[64];

static int make_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dataset.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_empty_folder(void **state)
{
	(void)state;
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct auscult_err err = { { 0 } };
	write_file("notes.txt", "not audio\n");
	assert_int_equal(dataset_add_path(&ds, tmpdir, &err), AUSCULT_ERR_INVALID);
	char want[512];
	snprintf(want, sizeof(want),
		 "%s: no audio files (.wav, .flac, .ogg, .oga, .aif, .aiff, .au) in this folder or "
		 "below it; give a folder of recordings",
		 tmpdir);
	assert_string_equal(err.msg, want);
	assert_int_equal(ds.n_files, 0);
	dataset_free(&ds);
}

static void test_missing_path(void **state)
{
	(void)state;
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct auscult_err err = { { 0 } };
	assert_int_equal(dataset_add_path(&ds, "/nonexistent/recordings", &err), AUSCULT_ERR_IO);
	assert_string_equal(err.msg,
			    "/nonexistent/recordings: No such file or directory; check the path");
	struct feature_params p;
	feature_params_defaults(&p);
	assert_int_equal(dataset_load(&ds, &p, NULL, NULL, &err), AUSCULT_ERR_INVALID);
	assert_string_equal(err.msg, "no training files given; name a folder of recordings of the "
				     "healthy machine");
	dataset_free(&ds);
}

/* A text file named .wav is collected, then refused at load with its name in the message. */
static void test_not_audio(void **state)
{
	(void)state;
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct auscult_err err = { { 0 } };
	write_file("fake.wav", "this is not a RIFF file, just text\n");
	assert_int_equal(dataset_add_path(&ds, tmpdir, &err), AUSCULT_OK);
	assert_int_equal(ds.n_files, 1);
	struct feature_params p;
	feature_params_defaults(&p);
	assert_int_not_equal(dataset_load(&ds, &p, NULL, NULL, &err), AUSCULT_OK);
	if (!strstr(err.msg, "fake.wav"))
		fail_msg("the error does not name the file: %s", err.msg);
	assert_null(ds.vectors);
	assert_int_equal(ds.n_vectors, 0);
	dataset_free(&ds);
}

/* A dangling symlink named like audio is collected, then refused at load with its name. */
static void test_dangling_symlink_is_named(void **state)
{
	(void)state;
	char link[256];
	snprintf(link, sizeof(link), "%s/gone.wav", tmpdir);
	assert_int_equal(symlink("/nonexistent/recording.wav", link), 0);
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct auscult_err err = { { 0 } };
	assert_int_equal(dataset_add_path(&ds, tmpdir, &err), AUSCULT_OK);
	assert_int_equal(ds.n_files, 1);
	assert_string_equal(ds.paths[0], link);
	struct feature_params p;
	feature_params_defaults(&p);
	assert_int_equal(dataset_load(&ds, &p, NULL, NULL, &err), AUSCULT_ERR_IO);
	if (!strstr(err.msg, "gone.wav: cannot open"))
		fail_msg("the error does not name the file: %s", err.msg);
	dataset_free(&ds);
	unlink(link);
}

/* Paths added one after another keep their order; a failing add keeps what was there. */
static void test_adds_accumulate(void **state)
{
	(void)state;
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct auscult_err err = { { 0 } };
	char dir[256], solo[256];
	snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
	snprintf(solo, sizeof(solo), "%s/solo.txt", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file("sub/b.wav", "x");
	write_file("sub/a.flac", "x");
	write_file("solo.txt", "x");
	assert_int_equal(dataset_add_path(&ds, solo, &err), AUSCULT_OK);
	assert_int_equal(dataset_add_path(&ds, dir, &err), AUSCULT_OK);
	assert_int_equal(dataset_add_path(&ds, "/nonexistent", &err), AUSCULT_ERR_IO);
	for (int i = 0; i < 70; i++) /* past the first 64 slots */
		assert_int_equal(dataset_add_path(&ds, solo, &err), AUSCULT_OK);
	assert_int_equal(ds.n_files, 73);
	assert_string_equal(ds.paths[0], solo);
	assert_non_null(strstr(ds.paths[1], "/sub/a.flac"));
	assert_non_null(strstr(ds.paths[2], "/sub/b.wav"));
	assert_string_equal(ds.paths[72], solo);
	dataset_free(&ds);
}

static void count_calls(void *ctx, uint32_t done, uint32_t total, const char *path)
{
	uint32_t *calls = ctx;
	(*calls)++;
	assert_int_equal(done, *calls);
	assert_int_equal(total, 2);
	assert_non_null(path);
}

/* Two real 10-s recordings: 313 frames, 309 vectors each; folders come back sorted by name. */
static void test_real_files_sorted_and_stacked(void **state)
{
	(void)state;
	char a[256], b[256];
	snprintf(a, sizeof(a), "%s/b_second.wav", tmpdir);
	snprintf(b, sizeof(b), "%s/a_first.wav", tmpdir);
	assert_int_equal(symlink(NORMALS "/normal_id_00_00000001.wav", a), 0);
	assert_int_equal(symlink(NORMALS "/normal_id_00_00000000.wav", b), 0);
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct auscult_err err = { { 0 } };
	assert_int_equal(dataset_add_path(&ds, tmpdir, &err), AUSCULT_OK);
	assert_int_equal(ds.n_files, 2);
	assert_non_null(strstr(ds.paths[0], "a_first.wav"));
	assert_non_null(strstr(ds.paths[1], "b_second.wav"));
	struct feature_params p;
	feature_params_defaults(&p);
	uint32_t calls = 0;
	if (dataset_load(&ds, &p, count_calls, &calls, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(calls, 2);
	assert_int_equal(ds.dim, 640);
	assert_int_equal(ds.n_vectors, 618);
	assert_int_equal(ds.file_first[0], 0);
	assert_int_equal(ds.file_first[1], 309);
	assert_int_equal(ds.file_first[2], 618);
	/* Vector t + 1 starts with vector t's frames 1..4 (exact copies of the same frames). */
	for (uint64_t t = 0; t + 1 < 309; t += 50)
		assert_memory_equal(ds.vectors + (t + 1) * 640, ds.vectors + t * 640 + 128,
				    4 * 128 * sizeof(float));
	/* ... but not across files. */
	assert_memory_not_equal(ds.vectors + 309 * 640, ds.vectors + 308 * 640 + 128,
				4 * 128 * sizeof(float));

	/* Mean/std: finite, std > 0, and the mean of column 0 equals a direct average. */
	float *mean = malloc(640 * sizeof(float)), *sd = malloc(640 * sizeof(float));
	assert_non_null(mean);
	assert_non_null(sd);
	dataset_mean_std(&ds, ds.n_vectors, mean, sd);
	double m0 = 0;
	for (uint64_t r = 0; r < ds.n_vectors; r++)
		m0 += ds.vectors[r * 640];
	m0 /= (double)ds.n_vectors;
	assert_float_equal(mean[0], m0, 1e-4);
	for (int j = 0; j < 640; j++)
		assert_true(sd[j] > 0.0f && isfinite(sd[j]));
	free(mean);
	free(sd);
	dataset_free(&ds);
	assert_null(ds.paths);
	unlink(a);
	unlink(b);
}

/* Against the golden log-mel reference: vector 0 = reference frames 0..4 within 0.002 dB (the
 * float32 FFT's bar) wherever the reference is above -60 dB (../shared/vectors/README.md). */
static void test_matches_reference(void **state)
{
	(void)state;
	struct dataset ds;
	memset(&ds, 0, sizeof(ds));
	struct auscult_err err = { { 0 } };
	assert_int_equal(dataset_add_path(&ds, AUSCULT_SHARED_DIR "/vectors/pump_normal.wav", &err),
			 AUSCULT_OK);
	struct feature_params p;
	feature_params_defaults(&p);
	if (dataset_load(&ds, &p, NULL, NULL, &err))
		fail_msg("%s", err.msg);
	FILE *f = fopen(AUSCULT_SHARED_DIR "/vectors/pump_normal.logmel.f32", "rb");
	assert_non_null(f);
	float ref[5 * 128];
	assert_int_equal(fread(ref, sizeof(float), 5 * 128, f), 5 * 128);
	fclose(f);
	for (int i = 0; i < 5 * 128; i++)
		if (ref[i] > -60.0f && fabsf(ds.vectors[i] - ref[i]) > 2e-3f)
			fail_msg("value %d: %g dB, reference %g dB", i, (double)ds.vectors[i],
				 (double)ref[i]);
	dataset_free(&ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_folder, make_tmp, remove_tmp),
		cmocka_unit_test(test_missing_path),
		cmocka_unit_test_setup_teardown(test_not_audio, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_dangling_symlink_is_named, make_tmp,
						remove_tmp),
		cmocka_unit_test_setup_teardown(test_adds_accumulate, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_real_files_sorted_and_stacked, make_tmp,
						remove_tmp),
		cmocka_unit_test(test_matches_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
