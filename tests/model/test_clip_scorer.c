/* test_clip_scorer.c - clip scores of real WAV files against the reference log-mel vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/autoencoder.h"
#include "model/clip_scorer.h"
#include "model/model.h"

#define PUMP_WAV AUSCULT_SHARED_DIR "/vectors/pump_normal.wav"
#define PUMP_REF AUSCULT_SHARED_DIR "/vectors/pump_normal.logmel.f32"
#define N_MELS 128
#define N_STACK 5
#define DIM (N_MELS * N_STACK)

/*
 * Reference features agree with ours within 0.002 dB (vectors/README.md), and on this real,
 * broadband recording within 1e-5 dB; squared dB values of it are in the hundreds, so clip scores
 * built from them agree to about 1e-5 relative. 1e-4 relative leaves room for float32 summation
 * order.
 */
#define REL_TOL 1e-4

static float *read_reference(size_t *n_frames)
{
	FILE *f = fopen(PUMP_REF, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long bytes = ftell(f);
	fseek(f, 0, SEEK_SET);
	assert_true(bytes > 0 && bytes % (N_MELS * 4) == 0);
	float *v = malloc((size_t)bytes);
	assert_non_null(v);
	assert_int_equal(fread(v, 1, (size_t)bytes, f), (size_t)bytes);
	fclose(f);
	*n_frames = (size_t)bytes / (N_MELS * 4);
	return v;
}

/* A baseline-shaped model: 640 in, 640 out, one linear layer of all-zero weights unless filled. */
static void make_model(struct model *m, uint32_t hidden)
{
	memset(m, 0, sizeof(*m));
	feature_params_defaults(&m->features);
	m->input_frames = 0x1f;
	m->target_frames = 0x1f;
	m->aggregation = CLIP_AGG_MEAN;
	m->threshold = (struct model_threshold){
		.gamma_shape = 2.0f, .gamma_scale = 1.0f, .quantile = 0.9f, .threshold = 3.0f
	};
	m->training.val_loss = NAN;
	m->n_layers = hidden ? 2 : 1;
	m->layers = calloc(m->n_layers, sizeof(*m->layers));
	assert_non_null(m->layers);
	uint32_t widths[3] = { DIM, hidden ? hidden : DIM, DIM };
	uint64_t s = 0x2545f4914f6cdd1dull;
	for (uint32_t i = 0; i < m->n_layers; i++) {
		struct dense_layer *l = &m->layers[i];
		l->n_in = widths[i];
		l->n_out = hidden ? widths[i + 1] : DIM;
		l->activation = hidden && i == 0 ? ACTIVATION_RELU : ACTIVATION_LINEAR;
		l->weights = calloc((size_t)l->n_in * l->n_out, sizeof(float));
		l->bias = calloc(l->n_out, sizeof(float));
		assert_non_null(l->weights);
		assert_non_null(l->bias);
		if (!hidden)
			continue;
		/* Small pseudo-random weights so the network does real work in the batching test. */
		for (size_t k = 0; k < (size_t)l->n_in * l->n_out; k++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			l->weights[k] = ((float)(s % 2001) - 1000.0f) * 1e-5f;
		}
		for (size_t k = 0; k < l->n_out; k++)
			l->bias[k] = (float)k * 0.01f;
	}
}

/* With all-zero weights the reconstruction is 0, so a vector's score is the mean of x^2. */
static double zero_model_vector_score(const float *frames, size_t t)
{
	double sum = 0;
	for (size_t i = 0; i < DIM; i++)
		sum += (double)frames[t * N_MELS + i] * frames[t * N_MELS + i];
	return sum / DIM;
}

static void zero_model_matches_reference(void **state)
{
	(void)state;
	size_t n_frames;
	float *ref = read_reference(&n_frames);
	size_t n_vec = n_frames - N_STACK + 1;
	assert_int_equal(n_vec, 309); /* 10 s clip: 313 frames, 309 vectors */

	double want = 0, band_want[N_MELS] = { 0 };
	for (size_t t = 0; t < n_vec; t++) {
		want += zero_model_vector_score(ref, t);
		for (size_t f = 0; f < N_STACK; f++)
			for (size_t k = 0; k < N_MELS; k++) {
				double x = ref[(t + f) * N_MELS + k];
				band_want[k] += x * x / N_STACK;
			}
	}
	want /= (double)n_vec;

	struct model m;
	make_model(&m, 0);
	struct autoencoder ae;
	struct auscult_err err = { { 0 } };
	assert_int_equal(autoencoder_init(&ae, &m, 64, &err), AUSCULT_OK);
	float score = NAN, bands[N_MELS];
	int rc = clip_score_file(&m, &ae, PUMP_WAV, &score, bands, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_true(fabs(score - want) <= REL_TOL * want);
	for (size_t k = 0; k < N_MELS; k++) {
		double b = band_want[k] / (double)n_vec;
		assert_true(fabs(bands[k] - b) <= REL_TOL * b + 1e-3);
	}

	/* The largest 10%: k = ceil(0.1 x 309) = 31 vectors. */
	double *per = malloc(n_vec * sizeof(double));
	assert_non_null(per);
	for (size_t t = 0; t < n_vec; t++)
		per[t] = zero_model_vector_score(ref, t);
	double top = 0;
	for (size_t r = 0; r < 31; r++) {
		size_t best = 0;
		for (size_t t = 1; t < n_vec; t++)
			if (per[t] > per[best])
				best = t;
		top += per[best];
		per[best] = -1;
	}
	top /= 31;
	m.aggregation = CLIP_AGG_TOP_MEAN;
	m.top_fraction = 0.1f;
	assert_int_equal(clip_score_file(&m, &ae, PUMP_WAV, &score, NULL, &err), AUSCULT_OK);
	assert_true(fabs(score - top) <= REL_TOL * top);
	assert_true(top > want); /* the test can tell the aggregations apart */

	free(per);
	autoencoder_free(&ae);
	model_free(&m);
	free(ref);
}

static void batch_size_does_not_change_the_score(void **state)
{
	(void)state;
	struct model m;
	make_model(&m, 8);
	float scores[3];
	const size_t batches[3] = { 1, 7, 400 };
	for (int i = 0; i < 3; i++) {
		struct autoencoder ae;
		struct auscult_err err;
		assert_int_equal(autoencoder_init(&ae, &m, batches[i], &err), AUSCULT_OK);
		int rc = clip_score_file(&m, &ae, PUMP_WAV, &scores[i], NULL, &err);
		if (rc)
			fail_msg("%s", err.msg);
		autoencoder_free(&ae);
	}
	assert_true(isfinite(scores[0]) && scores[0] > 0);
	assert_true(fabsf(scores[1] - scores[0]) <= 1e-5f * scores[0]);
	assert_true(fabsf(scores[2] - scores[0]) <= 1e-5f * scores[0]);
	model_free(&m);
}

/* Runs clip_score_file on path and checks it fails with a message holding each needle. */
static void expect_failure(const char *path, const char *needle1, const char *needle2)
{
	struct model m;
	make_model(&m, 0);
	struct autoencoder ae;
	struct auscult_err err = { { 0 } };
	assert_int_equal(autoencoder_init(&ae, &m, 16, &err), AUSCULT_OK);
	float score = 1.0f;
	int rc = clip_score_file(&m, &ae, path, &score, NULL, &err);
	assert_int_not_equal(rc, AUSCULT_OK);
	if (!strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
		fail_msg("message '%s' lacks '%s' / '%s'", err.msg, needle1,
			 needle2 ? needle2 : "");
	autoencoder_free(&ae);
	model_free(&m);
}

static void bad_files_are_named(void **state)
{
	(void)state;
	expect_failure(AUSCULT_FIXTURES "/eval/does_not_exist.wav", "does_not_exist.wav", NULL);
	expect_failure(AUSCULT_FIXTURES "/eval/not_audio.wav", "not_audio.wav", NULL);
	expect_failure(AUSCULT_FIXTURES "/eval/empty.wav", "empty.wav", NULL);
	/* 700 samples make 2 frames: fewer than the 5 one vector stacks. */
	expect_failure(AUSCULT_SHARED_DIR "/vectors/short.wav", "short.wav", "too short");
}

static void make_file(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static void list_scans_folders_sorted(void **state)
{
	(void)state;
	char root[] = "/tmp/test_clip_scorer_XXXXXX";
	assert_non_null(mkdtemp(root));
	char p[512];
	snprintf(p, sizeof(p), "%s/sub", root);
	assert_int_equal(mkdir(p, 0700), 0);
	const char *files[] = { "b.wav",       "a.WAV",      "notes.txt",
				".hidden.wav", "sub/c.flac", "sub/readme" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, files[i]);
		make_file(p);
	}
	struct clip_list l = { 0 };
	struct auscult_err err;
	assert_int_equal(clip_list_add(&l, root, &err), AUSCULT_OK);
	assert_int_equal(l.count, 3);
	snprintf(p, sizeof(p), "%s/a.WAV", root);
	assert_string_equal(l.paths[0], p);
	snprintf(p, sizeof(p), "%s/b.wav", root);
	assert_string_equal(l.paths[1], p);
	snprintf(p, sizeof(p), "%s/sub/c.flac", root);
	assert_string_equal(l.paths[2], p);

	/* A file is taken as given, whatever its name: the scorer reports it if it is not audio. */
	snprintf(p, sizeof(p), "%s/notes.txt", root);
	assert_int_equal(clip_list_add(&l, p, &err), AUSCULT_OK);
	assert_int_equal(l.count, 4);
	assert_string_equal(l.paths[3], p);

	/* Missing paths and folders without audio are errors naming the path; the list is kept. */
	snprintf(p, sizeof(p), "%s/missing", root);
	assert_int_equal(clip_list_add(&l, p, &err), AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, p));
	snprintf(p, sizeof(p), "%s/empty", root);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(clip_list_add(&l, p, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "no audio files"));
	assert_int_equal(l.count, 4);
	clip_list_free(&l);
	assert_int_equal(l.count, 0);
	clip_list_free(&l); /* safe twice */

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/empty", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/sub", root);
	rmdir(p);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero_model_matches_reference),
		cmocka_unit_test(batch_size_does_not_change_the_score),
		cmocka_unit_test(bad_files_are_named),
		cmocka_unit_test(list_scans_folders_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
