/* test_learner.c - clip writing, the level meter, the silence gate, resuming, and training a model from clips. */
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
#include <sndfile.h>

#include "audio/audio_source.h"
#include "learn/clip_writer.h"
#include "learn/learner.h"
#include "learn/level_meter.h"
#include "model/model.h"
#include "model/model_file.h"

#define RATE 16000
#define NORMALS AUSCULT_SHARED_DIR "/data/dcase2020_id00/train"

/* A fresh empty folder under TMPDIR; the caller removes it with remove_tree. */
static void make_tmp(char *dir, size_t cap)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, cap, "%s/test_learner.XXXXXX", base);
	assert_non_null(mkdtemp(dir));
}

static void remove_tree(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Entries of dir whose names end with suffix; hidden ones counted only when hidden is set. */
static int count_entries(const char *dir, const char *suffix, int hidden)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep %s -- '%s$' | wc -l", dir,
		 hidden ? "'^\\.' | grep" : "-v '^\\.' | grep", suffix);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	int n = -1;
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* A sine of amplitude a, starting at sample offset. */
static void sine(float *x, size_t n, double a, size_t offset)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(a * sin(2.0 * M_PI * 440.0 * (double)(i + offset) / RATE));
}

static void test_level_meter(void **state)
{
	(void)state;
	float x[RATE];
	struct level_meter lm;
	level_meter_reset(&lm);
	assert_true(isinf(level_meter_rms_dbfs(&lm)));
	sine(x, RATE, 0.5, 0);
	level_meter_push(&lm, x, RATE / 2);
	level_meter_push(&lm, x + RATE / 2, RATE / 2);
	/* A sine of amplitude 0.5: mean square 0.125, -9.03 dBFS; peak -6.02 dBFS. */
	assert_true(fabs(level_meter_rms_dbfs(&lm) + 9.031) < 0.01);
	assert_true(fabs(level_meter_peak_dbfs(&lm) + 6.021) < 0.01);
	assert_int_equal(lm.clipped, 0);
	assert_true(fabs(level_meter_seconds(&lm, RATE) - 1.0) < 1e-9);
	x[10] = 1.0f;
	x[11] = -1.2f;
	level_meter_push(&lm, x, 20);
	assert_int_equal(lm.clipped, 2);
	/* The default gate is the number the daemon's config documents. */
	assert_string_equal(PIPELINE_SILENCE_DBFS_DEFAULT_TEXT, "-70");
}

static void test_clip_writer(void **state)
{
	(void)state;
	char dir[256];
	make_tmp(dir, sizeof(dir));
	struct clip_writer *w = NULL;
	struct auscult_err err;
	struct clip_writer_config cfg = { dir, RATE, 10.0 };
	assert_int_equal(clip_writer_create(&w, &cfg, &err), AUSCULT_OK);
	assert_int_equal(clip_writer_clip_samples(w), 10 * RATE);

	/* 25 s in reads of 1,999 samples, starting 2026-12-04 16:15:00.250 UTC. */
	size_t total = 25 * RATE, done = 0;
	float buf[1999];
	uint32_t clips = 0;
	const int64_t t0 = 1796400900250;
	while (done < total) {
		size_t n = total - done < 1999 ? total - done : 1999;
		sine(buf, n, 0.25, done);
		uint32_t c = 0;
		int64_t t = t0 + (int64_t)(done * 1000 / RATE);
		assert_int_equal(clip_writer_push(w, buf, n, t, &c, &err), AUSCULT_OK);
		clips += c;
		done += n;
	}
	assert_int_equal(clips, 2);
	assert_int_equal(clip_writer_partial_samples(w), 5 * RATE);
	char want[512];
	snprintf(want, sizeof(want), "%s/20261204T161510Z.wav", dir);
	assert_string_equal(clip_writer_last_path(w), want);
	/* The clip in progress exists only under its hidden temporary name. */
	assert_int_equal(count_entries(dir, ".wav", 0), 2);
	assert_int_equal(count_entries(dir, ".wav.part", 1), 1);

	/* The second clip holds samples 160000.. as 16-bit PCM. */
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	SNDFILE *sf = sf_open(want, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.samplerate, RATE);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.frames, 10 * RATE);
	assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	float got[1000], ref[1000];
	assert_int_equal(sf_read_float(sf, got, 1000), 1000);
	sf_close(sf);
	sine(ref, 1000, 0.25, 10 * RATE);
	for (int i = 0; i < 1000; i++)
		assert_true(fabsf(got[i] - ref[i]) <= 1.0f / 32768.0f);

	clip_writer_destroy(w); /* drops the partial clip */
	assert_int_equal(count_entries(dir, ".wav.part", 1), 0);

	/* A stale partial clip (a crash) is removed by the scan; whole ones are counted. */
	char stale[512];
	snprintf(stale, sizeof(stale), "%s/.20261204T161520Z.wav.part", dir);
	FILE *f = fopen(stale, "w");
	assert_non_null(f);
	fclose(f);
	uint32_t n = 0;
	assert_int_equal(clip_dir_scan(dir, &n, &err), AUSCULT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(access(stale, F_OK), -1);

	/* Two clips starting in the same second do not overwrite each other. */
	assert_int_equal(clip_writer_create(&w, &cfg, &err), AUSCULT_OK);
	float *clip = calloc(10 * RATE, sizeof(float));
	assert_non_null(clip);
	sine(clip, 10 * RATE, 0.1, 0);
	uint32_t c = 0;
	assert_int_equal(clip_writer_push(w, clip, 10 * RATE, t0, &c, &err), AUSCULT_OK);
	assert_int_equal(c, 1);
	snprintf(want, sizeof(want), "%s/20261204T161500Z-1.wav", dir);
	assert_string_equal(clip_writer_last_path(w), want);
	free(clip);
	clip_writer_destroy(w);

	/* A folder that is not there is named. */
	struct clip_writer_config bad = { "/nonexistent/clips", RATE, 10.0 };
	assert_int_equal(clip_writer_create(&w, &bad, &err), AUSCULT_ERR_IO);
	assert_null(w);
	assert_non_null(strstr(err.msg, "/nonexistent/clips: No such file or directory"));
	remove_tree(dir);
}

/* Pushes the samples of an audio file into the learner in reads of 1,600. */
static void feed_file(struct learner *l, const char *path, int64_t t_ms, uint32_t *clips)
{
	struct audio_source_config sc;
	audio_source_config_defaults(&sc);
	sc.kind = AUDIO_SOURCE_FILE;
	sc.path = path;
	struct audio_source *src = NULL;
	struct auscult_err err;
	assert_int_equal(audio_source_open(&src, &sc, &err), AUSCULT_OK);
	float buf[1600];
	size_t got;
	uint64_t done = 0;
	while (audio_source_read(src, buf, 1600, &got, 250, &err) == AUSCULT_OK) {
		uint32_t c = 0;
		assert_int_equal(learner_push(l, buf, got, t_ms + (int64_t)(done * 1000 / RATE), &c,
					      &err),
				 AUSCULT_OK);
		*clips += c;
		done += got;
	}
	audio_source_close(src);
}

static void learner_setup(struct learner_config *c, char *dir, size_t cap, char *model,
			  size_t model_cap, double minutes)
{
	make_tmp(dir, cap);
	snprintf(model, model_cap, "%s/new.am", dir);
	learner_config_defaults(c);
	c->model_path = model;
	static char clips[300];
	snprintf(clips, sizeof(clips), "%s/new.am.learn", dir);
	c->dir = clips;
	c->minutes = minutes;
	/* Small and quick: the recipe is the tool's, the size is the test's. */
	c->train.trainer.epochs = 3;
	c->train.trainer.threads = 1;
	struct auscult_err err;
	assert_int_equal(trainer_parse_hidden(&c->train.trainer, "32,8,32", &err), AUSCULT_OK);
}

static void test_gate(void **state)
{
	(void)state;
	char dir[256], model[300];
	struct learner_config c;
	learner_setup(&c, dir, sizeof(dir), model, sizeof(model), 0.5);
	struct learner *l = NULL;
	struct auscult_err err;
	assert_int_equal(learner_create(&l, &c, &err), AUSCULT_OK);
	assert_int_equal(learner_clips_needed(l), 3);
	assert_int_equal(learner_clips(l), 0);

	/* 6 s running, 1 s off, 12 s running: the off second drops the 6 s and itself. */
	float *x = calloc(20 * RATE, sizeof(float));
	assert_non_null(x);
	sine(x, 6 * RATE, 0.1, 0);
	sine(x + 7 * RATE, 12 * RATE, 0.1, 0);
	x[6 * RATE + 5] = 1e-5f; /* not digital zero, but far below -70 dBFS */
	uint32_t c1 = 0;
	assert_int_equal(learner_push(l, x, 19 * RATE, 1796400900000, &c1, &err), AUSCULT_OK);
	assert_int_equal(c1, 1);
	assert_int_equal(learner_clips(l), 1);
	assert_true(fabs(learner_skipped_s(l) - 1.0) < 1e-9);
	/* One clip and 2 s of three clips. */
	assert_true(fabs(learner_collected_share(l) - 12.0 / 30.0) < 1e-6);
	/* A reopened source: the 2 s in progress are dropped. */
	learner_break(l);
	assert_true(fabs(learner_collected_share(l) - 10.0 / 30.0) < 1e-6);
	learner_destroy(l);

	/* A restart resumes: the whole clip on disk counts, nothing partial is left. */
	assert_int_equal(learner_create(&l, &c, &err), AUSCULT_OK);
	assert_int_equal(learner_clips(l), 1);
	assert_int_equal(count_entries(c.dir, ".part", 1), 0);
	/* Enough: samples beyond the last clip are ignored and the folder stays bounded. */
	uint32_t c2 = 0;
	sine(x, 20 * RATE, 0.1, 0);
	assert_int_equal(learner_push(l, x, 20 * RATE, 1796400960000, &c2, &err), AUSCULT_OK);
	assert_int_equal(c2, 2);
	assert_int_equal(learner_push(l, x, 20 * RATE, 1796400990000, &c2, &err), AUSCULT_OK);
	assert_int_equal(c2, 0);
	assert_int_equal(learner_clips(l), 3);
	assert_true(learner_collected_share(l) == 1.0);
	assert_int_equal(count_entries(c.dir, ".wav", 0), 3);
	assert_int_equal(count_entries(c.dir, ".part", 1), 0);
	learner_destroy(l);
	free(x);

	/* Nonsense is refused with the values named. */
	c.minutes = 0.0;
	assert_int_equal(learner_create(&l, &c, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "0 min"));
	remove_tree(dir);
}

static bool stop_at_2(void *ctx, uint32_t epoch, uint32_t epochs)
{
	uint32_t *seen = ctx;
	*seen = epoch;
	assert_int_equal(epochs, 3);
	return epoch >= 2;
}

static bool count_epochs(void *ctx, uint32_t epoch, uint32_t epochs)
{
	(void)epochs;
	uint32_t *seen = ctx;
	*seen = epoch;
	return false;
}

static void test_train(void **state)
{
	(void)state;
	char dir[256], model[300];
	struct learner_config c;
	learner_setup(&c, dir, sizeof(dir), model, sizeof(model), 0.5);
	struct learner *l = NULL;
	struct auscult_err err;
	assert_int_equal(learner_create(&l, &c, &err), AUSCULT_OK);

	/* Two clips are not enough to train and fit. */
	uint32_t clips = 0;
	feed_file(l, NORMALS "/normal_id_00_00000000.wav", 1796400900000, &clips);
	feed_file(l, NORMALS "/normal_id_00_00000001.wav", 1796400910000, &clips);
	assert_int_equal(clips, 2);
	struct learner_result res;
	assert_int_equal(learner_train(l, NULL, NULL, &res, &err), AUSCULT_ERR_INVALID);
	assert_non_null(strstr(err.msg, "2 clip(s), and learning needs at least 3"));

	feed_file(l, NORMALS "/normal_id_00_00000002.wav", 1796400920000, &clips);
	assert_int_equal(learner_clips(l), 3);

	/* Stopped after epoch 2 of 3: no model. */
	uint32_t seen = 0;
	assert_int_equal(learner_train(l, stop_at_2, &seen, &res, &err), AUSCULT_ERR_INTERRUPTED);
	assert_int_equal(seen, 2);
	assert_int_equal(access(model, F_OK), -1);

	/* Trained on 2 clips, fitted on the third's 16 windows of 2 s every 0.5 s. */
	assert_int_equal(learner_train(l, count_epochs, &seen, &res, &err), AUSCULT_OK);
	assert_int_equal(seen, 3);
	assert_int_equal(res.train_clips, 2);
	assert_int_equal(res.holdout_clips, 1);
	assert_int_equal(res.epochs, 3);
	assert_int_equal(res.windows, 16);
	/* The recipe's high quantile of a fit to 16 windows: rarely, if ever, one above it. */
	assert_true(res.windows_above <= 1);
	struct model m;
	struct train_options recipe;
	train_options_defaults(&recipe);
	assert_int_equal(model_load(&m, model, &err), AUSCULT_OK);
	assert_true(fabsf(m.threshold.threshold - res.threshold) < 1e-6f * res.threshold);
	assert_true(fabsf(m.threshold.quantile - (float)recipe.window_quantile) < 1e-6f);
	assert_int_equal(m.n_layers, 4);
	assert_int_equal(m.features.sample_rate_hz, RATE);
	model_free(&m);
	learner_destroy(l);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_meter),
		cmocka_unit_test(test_clip_writer),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_train),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
