/* test_config_check.c - the checks after loading: each model loaded once, faults at the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/daemon_config.h"
#include "daemon/config_check.h"
#include "model/model.h"
#include "model/model_file.h"
#include "model/shared_model.h"

#define FIXTURE_DIR AUSCULT_FIXTURES "/config_check"
#define MSG_BUF (3 * PATH_MAX) /* room for two paths and a message */

/* A temporary folder per run, with small valid models written through model_save. */
static char tmp_dir[PATH_MAX];

static void join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	assert_true(n > 0 && (size_t)n < size);
}

static void write_text(const char *path, const void *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_str(const char *path, const char *text)
{
	write_text(path, text, strlen(text));
}

/* A WAV file of 0.1 s of silence, 16 kHz mono 16-bit: the config opens a file source to check
 * it is audio. */
static void write_silent_wav(const char *path)
{
	enum { N = 1600 };
	static unsigned char b[44 + 2 * N];
	const uint32_t data = 2 * N, rate = 16000;
	const struct {
		size_t at;
		uint32_t v;
		int bytes;
	} fields[] = { { 4, 36 + data, 4 }, { 16, 16, 4 },   { 20, 1, 2 },
		       { 22, 1, 2 },        { 24, rate, 4 }, { 28, 2 * rate, 4 },
		       { 32, 2, 2 },        { 34, 16, 2 },   { 40, data, 4 } };
	memcpy(b, "RIFF", 4);
	memcpy(b + 8, "WAVEfmt ", 8);
	memcpy(b + 36, "data", 4);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		for (int k = 0; k < fields[i].bytes; k++)
			b[fields[i].at + k] = (unsigned char)(fields[i].v >> (8 * k));
	write_text(path, (const char *)b, sizeof(b));
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A tiny but complete autoencoder (8 mels x n_stack frames -> 4 -> back) that model_load accepts. */
static void save_tiny_model(const char *path, uint32_t n_stack)
{
	struct model m;
	memset(&m, 0, sizeof(m));
	feature_params_defaults(&m.features);
	m.features.n_mels = 8;
	m.features.n_stack = n_stack;
	uint32_t mask = n_stack >= 32 ? 0xffffffffu : (1u << n_stack) - 1u;
	m.input_frames = mask;
	m.target_frames = mask;
	m.aggregation = CLIP_AGG_MEAN;
	m.top_fraction = 1.0f;
	m.n_layers = 2;
	m.layers = calloc(2, sizeof(*m.layers));
	assert_non_null(m.layers);
	uint32_t dim = 8 * n_stack, hidden = 4;
	uint32_t ins[2] = { dim, hidden }, outs[2] = { hidden, dim };
	for (int l = 0; l < 2; l++) {
		struct dense_layer *L = &m.layers[l];
		L->n_in = ins[l];
		L->n_out = outs[l];
		L->activation = l == 0 ? ACTIVATION_RELU : ACTIVATION_LINEAR;
		L->weights = calloc((size_t)L->n_in * L->n_out, sizeof(float));
		L->bias = calloc(L->n_out, sizeof(float));
		assert_non_null(L->weights);
		assert_non_null(L->bias);
		for (size_t i = 0; i < (size_t)L->n_in * L->n_out; i++)
			L->weights[i] = 0.01f * (float)((i % 7) + 1);
	}
	m.threshold.gamma_shape = 2.0f;
	m.threshold.gamma_scale = 1.5f;
	m.threshold.quantile = 0.9f;
	m.threshold.threshold = 5.8f;
	m.training.train_loss = 1.0f;
	m.training.val_loss = NAN;
	m.training.epochs = 1;
	snprintf(m.training.tool_version, sizeof(m.training.tool_version), "test");
	struct auscult_err err;
	int rc = model_save(&m, path, &err);
	if (rc)
		fail_msg("model_save %s: %s", path, err.msg);
	model_free(&m);
}

/* Removes a folder tree (what the tests made: plain files and folders). */
static void remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char child[PATH_MAX];
			snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
			remove_tree(child);
		}
		if (d)
			closedir(d);
	}
	remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/auscult-check-XXXXXX", base);
	if (!mkdtemp(tmp_dir))
		return -1;
	char p[PATH_MAX];
	join(p, sizeof(p), tmp_dir, "pump.am");
	save_tiny_model(p, 5);
	/* 32 stacked frames: 1024 + 31 * 512 samples at 16 kHz = 1.056 s of context */
	join(p, sizeof(p), tmp_dir, "long-context.am");
	save_tiny_model(p, 32);
	join(p, sizeof(p), tmp_dir, "pump.wav");
	write_silent_wav(p);
	join(p, sizeof(p), tmp_dir, "not-audio.wav");
	write_str(p, "RIFF, but no more of a WAV header than that\n");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (tmp_dir[0])
		remove_tree(tmp_dir);
	return 0;
}

/* Loads path (which must load) and runs the checks; returns their status. */
static int check_path(const char *path, struct auscult_err *err)
{
	struct daemon_config cfg;
	int rc = daemon_config_load(&cfg, path, err);
	if (rc)
		fail_msg("the loader refused %s: %s", path, err->msg);
	rc = config_check_files(&cfg, err);
	daemon_config_free(&cfg);
	return rc;
}

static int check_text(const char *name, const char *text, struct auscult_err *err)
{
	char p[PATH_MAX];
	join(p, sizeof(p), tmp_dir, name);
	write_str(p, text);
	return check_path(p, err);
}

/* Writes text as TMPDIR/name and loads it into cfg (the loader must take it). */
static void load_text(struct daemon_config *cfg, const char *name, const char *text)
{
	char p[PATH_MAX];
	struct auscult_err err;
	join(p, sizeof(p), tmp_dir, name);
	write_str(p, text);
	if (daemon_config_load(cfg, p, &err) != AUSCULT_OK)
		fail_msg("the loader refused %s: %s", p, err.msg);
}

/* Asserts text loads but fails the checks with exactly "TMPDIR/name:" + expect. */
static void expect_check_fails(const char *name, const char *text, int status, const char *expect)
{
	struct auscult_err err;
	char want[MSG_BUF];
	assert_int_equal(check_text(name, text, &err), status);
	snprintf(want, sizeof(want), "%s/%s:%s", tmp_dir, name, expect);
	assert_string_equal(err.msg, want);
}

/* The fixtures: the loader takes them (a model path is only a string to it); the checks do not. */
static void model_fixtures(void **state)
{
	(void)state;
	char path[PATH_MAX], dir[PATH_MAX], want[MSG_BUF + PATH_MAX];
	struct auscult_err err;
	assert_non_null(realpath(FIXTURE_DIR, dir));

	join(path, sizeof(path), FIXTURE_DIR, "model_file_missing.yaml");
	assert_int_equal(check_path(path, &err), AUSCULT_ERR_IO);
	snprintf(want, sizeof(want),
		 "%s:4:12: monitors[0].model: cannot read the model file '%s/no-such-model.am': No "
		 "such file or directory",
		 path, dir);
	assert_string_equal(err.msg, want);

	join(path, sizeof(path), FIXTURE_DIR, "model_file_invalid.yaml");
	assert_int_equal(check_path(path, &err), AUSCULT_ERR_FORMAT);
	snprintf(
		want, sizeof(want),
		"%s:4:12: monitors[0].model: %s/not_a_model.am: not an auscult model file (it does "
		"not start with \"AUSCULTM\"); give the path of a model written by `auscult train`",
		path, dir);
	assert_string_equal(err.msg, want);
}

/* The existence check alone, as a monitor that may lack its model would skip it. */
static void model_exists_is_one_check(void **state)
{
	(void)state;
	struct daemon_config cfg;
	struct auscult_err err;
	load_text(&cfg, "exists.yaml",
		  "monitors:\n"
		  "  - { name: a, source: { type: device }, model: pump.am }\n"
		  "  - { name: b, source: { type: device }, model: gone.am }\n"
		  "  - { name: c, source: { type: device }, model: . }\n");
	assert_int_equal(config_check_model_exists(&cfg, 0, &err), AUSCULT_OK);
	assert_int_equal(config_check_model_exists(&cfg, 1, &err), AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, "exists.yaml:3:49: monitors[1].model: cannot read the "
					"model file '"));
	assert_int_equal(config_check_model_exists(&cfg, 2, &err), AUSCULT_ERR_IO);
	assert_non_null(strstr(err.msg, "exists.yaml:4:49: monitors[2].model: '"));
	assert_non_null(strstr(err.msg, "' is a directory; expected the model file"));
	daemon_config_free(&cfg);
}

/* Monitors sharing a model: the fault of a later monitor is still found at its own key. */
static void shared_model_checked_per_monitor(void **state)
{
	(void)state;
	expect_check_fails(
		"shared.yaml",
		"monitors:\n"
		"  - { name: a, source: { type: device }, model: long-context.am }\n"
		"  - { name: b, source: { type: device }, model: pump.am }\n"
		"  - name: c\n"
		"    source: { type: device }\n"
		"    model: long-context.am\n"
		"    window_s: 0.5\n"
		"    hop_s: 0.25\n",
		AUSCULT_ERR_INVALID,
		"7:15: monitors[2].window_s: 0.5 s is shorter than one input of the model "
		"(1.056 s of audio); make window_s at least that");
}

/* --check-config's pass: every monitor is checked past a fault, each fault at its own key. */
struct fault_list {
	char msg[4][MSG_BUF];
	size_t n;
};

static void collect_fault(void *ctx, const struct auscult_err *fault)
{
	struct fault_list *l = ctx;
	assert_true(l->n < 4);
	snprintf(l->msg[l->n++], MSG_BUF, "%s", fault->msg);
}

static void every_monitor_fault_is_listed(void **state)
{
	(void)state;
	struct daemon_config cfg;
	struct auscult_err err;
	struct fault_list l = { .n = 0 };
	load_text(&cfg, "several.yaml",
		  "monitors:\n"
		  "  - { name: a, source: { type: device }, model: gone.am }\n"
		  "  - { name: b, source: { type: device }, model: pump.am }\n"
		  "  - { name: c, source: { type: device }, model: long-context.am, "
		  "window_s: 0.5, hop_s: 0.25 }\n"
		  "  - { name: d, source: { type: device }, model: gone.am }\n");
	assert_int_equal(config_check_all(&cfg, collect_fault, &l), 3);
	assert_int_equal(l.n, 3);
	assert_non_null(strstr(l.msg[0], "several.yaml:2:49: monitors[0].model: cannot read the "
					 "model file '"));
	assert_non_null(strstr(l.msg[1], "several.yaml:4:"));
	assert_non_null(strstr(l.msg[1], "monitors[2].window_s: 0.5 s is shorter than one input"));
	assert_non_null(strstr(l.msg[2], "several.yaml:5:49: monitors[3].model: cannot read the "
					 "model file '"));
	/* The start-up check stops at the first, as before. */
	assert_int_equal(config_check_files(&cfg, &err), AUSCULT_ERR_IO);
	assert_string_equal(err.msg, l.msg[0]);
	daemon_config_free(&cfg);

	/* A good file: nothing reported. */
	l.n = 0;
	load_text(&cfg, "fine.yaml",
		  "monitors:\n"
		  "  - { name: a, source: { type: device }, model: pump.am }\n"
		  "  - { name: b, source: { type: device }, model: long-context.am }\n");
	assert_int_equal(config_check_all(&cfg, collect_fault, &l), 0);
	assert_int_equal(l.n, 0);
	daemon_config_free(&cfg);
}

/* Many monitors on one model: the file is loaded once, and every monitor gets that copy. */
static void many_monitors_load_a_model_once(void **state)
{
	(void)state;
	char p[PATH_MAX];
	join(p, sizeof(p), tmp_dir, "many.yaml");
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "monitors:\n");
	for (int i = 0; i < DAEMON_MONITORS_MAX; i++)
		fprintf(f, "  - { name: m%d, source: { type: device }, model: %s }\n", i,
			i == 1 ? "long-context.am" : "pump.am");
	fclose(f);
	struct daemon_config cfg;
	struct auscult_err err;
	assert_int_equal(daemon_config_load(&cfg, p, &err), AUSCULT_OK);
	struct shared_model *models[DAEMON_MONITORS_MAX];
	uint64_t before = shared_model_loads();
	assert_int_equal(config_check_files_keep(&cfg, models, &err), AUSCULT_OK);
	assert_true(shared_model_loads() - before == 2); /* pump.am and long-context.am */
	for (int i = 2; i < DAEMON_MONITORS_MAX; i++)
		assert_ptr_equal(models[i], models[0]);
	assert_ptr_not_equal(models[1], models[0]);
	config_check_release(models, cfg.n_monitors);
	for (int i = 0; i < DAEMON_MONITORS_MAX; i++)
		assert_null(models[i]);
	/* config_check_files keeps nothing, and loads the same way. */
	before = shared_model_loads();
	assert_int_equal(config_check_files(&cfg, &err), AUSCULT_OK);
	assert_true(shared_model_loads() - before == 2);
	daemon_config_free(&cfg);
}

/* A file source that is not audio, or lacks the channel asked for, is refused at start (it would
 * never mend by itself), with the path's place in the file. */
static void file_source_must_be_audio(void **state)
{
	(void)state;
	char expect[MSG_BUF];
	char real_tmp[PATH_MAX];
	assert_non_null(realpath(tmp_dir, real_tmp));
	snprintf(expect, sizeof(expect),
		 "3:33: monitors[0].source.path: %s/not-audio.wav: damaged WAV file (libsndfile: "
		 "Format not recognised.): expected a RIFF/WAVE file with fmt and data chunks; "
		 "re-copy or re-record it",
		 real_tmp);
	expect_check_fails("not-audio.yaml",
			   "monitors:\n"
			   "  - name: m\n"
			   "    source: { type: file, path: not-audio.wav }\n"
			   "    model: pump.am\n",
			   AUSCULT_ERR_FORMAT, expect);
	snprintf(expect, sizeof(expect),
		 "3:33: monitors[0].source.path: file %s/pump.wav (16000 Hz, 1 ch): channel 2 does "
		 "not exist: the input has 1 channel (use channel 0 or 'average')",
		 real_tmp);
	expect_check_fails("no-channel.yaml",
			   "monitors:\n"
			   "  - name: m\n"
			   "    source: { type: file, path: pump.wav, channel: 2 }\n"
			   "    model: pump.am\n",
			   AUSCULT_ERR_INVALID, expect);
}

static void window_shorter_than_model_context(void **state)
{
	(void)state;
	expect_check_fails(
		"short-window.yaml",
		"monitors:\n"
		"  - name: m\n"
		"    source: { type: device }\n"
		"    model: long-context.am\n"
		"    window_s: 0.5\n"
		"    hop_s: 0.25\n",
		AUSCULT_ERR_INVALID,
		"5:15: monitors[0].window_s: 0.5 s is shorter than one input of the model "
		"(1.056 s of audio); make window_s at least that");
	/* the same model with a long enough window passes */
	struct auscult_err err;
	int rc = check_text("long-window.yaml",
			    "monitors:\n  - name: m\n    source: { type: device }\n"
			    "    model: long-context.am\n    window_s: 1.1\n",
			    &err);
	if (rc)
		fail_msg("%s", err.msg);
}

static void truncated_model_names_the_model(void **state)
{
	(void)state;
	char src[PATH_MAX], dst[PATH_MAX];
	join(src, sizeof(src), tmp_dir, "pump.am");
	join(dst, sizeof(dst), tmp_dir, "cut.am");
	size_t len;
	char *bytes = read_all(src, &len);
	write_text(dst, bytes, len / 2);
	free(bytes);
	struct auscult_err err;
	int rc = check_text(
		"cut.yaml",
		"monitors:\n  - name: m\n    source: { type: device }\n    model: cut.am\n", &err);
	assert_int_equal(rc, AUSCULT_ERR_TRUNCATED);
	char real_tmp[PATH_MAX], want[MSG_BUF];
	assert_non_null(realpath(tmp_dir, real_tmp));
	snprintf(want, sizeof(want), "%s/cut.yaml:4:12: monitors[0].model: %s/cut.am: ", tmp_dir,
		 real_tmp);
	assert_memory_equal(err.msg, want, strlen(want));
}

/* The example config in the tree passes once the shipped model exists; until then the only
 * fault may be that model. */
static void example_config_in_tree(void **state)
{
	(void)state;
	char path[PATH_MAX], model[PATH_MAX];
	join(path, sizeof(path), AUSCULT_SOURCE_DIR, "config/auscultd.yaml");
	join(model, sizeof(model), AUSCULT_SOURCE_DIR, "models/pump_id00.am");
	struct auscult_err err;
	int rc = check_path(path, &err);
	if (access(model, F_OK) == 0) {
		if (rc)
			fail_msg("%s", err.msg);
	} else {
		assert_int_equal(rc, AUSCULT_ERR_IO);
		assert_non_null(
			strstr(err.msg, ": monitors[0].model: cannot read the model file '"));
		assert_non_null(strstr(err.msg, "/config/../models/pump_id00.am': No such file"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(model_fixtures),
		cmocka_unit_test(model_exists_is_one_check),
		cmocka_unit_test(shared_model_checked_per_monitor),
		cmocka_unit_test(every_monitor_fault_is_listed),
		cmocka_unit_test(many_monitors_load_a_model_once),
		cmocka_unit_test(file_source_must_be_audio),
		cmocka_unit_test(window_shorter_than_model_context),
		cmocka_unit_test(truncated_model_names_the_model),
		cmocka_unit_test(example_config_in_tree),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
