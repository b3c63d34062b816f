/* cmd_report.c - `auscult report`: one self-contained HTML page over an evidence folder written
 * by auscultd, or over recordings scored with a model. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_source.h"
#include "common/atomic_file.h"
#include "evidence/evidence_record.h"
#include "evidence/spectrogram_image.h"
#include "model/autoencoder.h"
#include "model/clip_scorer.h"
#include "model/model.h"
#include "model/model_file.h"
#include "pipeline/pipeline.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tools/pipeline_args.h"
#include "tools/report_page.h"
#include "train/model_info.h"

/* Longest recording drawn as a spectrogram (it is held in memory whole): 20 min. */
#define REPORT_CLIP_MAX_S 1200.0
#define REPORT_READ_SAMPLES 8192

static void report_usage(FILE *out)
{
	fprintf(out,
		"usage: auscult report DIR --out PAGE.html\n"
		"       auscult report --model MODEL [SCORING OPTIONS] --out PAGE.html "
		"FILES_OR_DIRS...\n"
		"\n"
		"Writes one self-contained HTML page (no server, no network) to browse anomalies:\n"
		"per anomaly its time (UTC), monitor, peak and mean score, threshold, the mel bands\n"
		"that contributed most, the parts of the detector that heard it, an audio player,\n"
		"the spectrogram and the score timeline.\n"
		"\n"
		"With DIR, the page shows the evidence auscultd kept (evidence.dir): every record\n"
		"DIR/MONITOR/*.txt, newest first; the audio and spectrograms are linked by paths\n"
		"relative to the page, so keep the page where it can reach them.\n"
		"\n"
		"With --model, each recording (folders: every audio file in them) is scored as\n"
		"`auscult score` and `auscult score --windows` do, with the daemon's default\n"
		"scoring or the options below; its spectrogram is embedded in the page and the\n"
		"recording linked relatively. The model's training curve (training and validation\n"
		"loss per epoch, kept in the model file) is drawn above them.\n"
		"\n"
		"  --out PAGE.html  the page to write (replaced whole)\n"
		"  --model MODEL    model file written by `auscult train` (.am)\n" PIPELINE_ARGS_USAGE
		"\n"
		"A record or recording that cannot be read is listed on the page with its error and\n"
		"on stderr; the page is still written and the exit status is 1.\n");
}

/* ---- what the page shows ---------------------------------------------------------------------- */

struct entry {
	struct evidence_record rec;
	bool ok;
	char *source;
	char *error;
	char *audio_href, *image_href, *image_embed;
	double clip_score;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static struct entry *entries_add(struct entries *es, const char *source)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 16;
		struct entry *v = realloc(es->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		es->v = v;
		es->cap = cap;
	}
	struct entry *e = &es->v[es->n];
	memset(e, 0, sizeof(*e));
	e->clip_score = NAN;
	if (!(e->source = strdup(source)))
		return NULL;
	es->n++;
	return e;
}

static void entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		struct entry *e = &es->v[i];
		evidence_record_free(&e->rec);
		if (e->image_embed)
			unlink(e->image_embed);
		free(e->source);
		free(e->error);
		free(e->audio_href);
		free(e->image_href);
		free(e->image_embed);
	}
	free(es->v);
	memset(es, 0, sizeof(*es));
}

static char *join_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s/%s", dir, name);
	return p;
}

/*
 * The path of `to` (absolute, canonical) relative to the folder from_dir (absolute, canonical),
 * for a link in a page in from_dir: "pump1/x.flac", "../clips/a.wav". Allocated; NULL: no memory.
 */
static char *relative_path(const char *from_dir, const char *to)
{
	size_t k = 0, common = 0;
	while (from_dir[k] && from_dir[k] == to[k])
		if (from_dir[k++] == '/')
			common = k;
	if (from_dir[k] == '\0' && to[k] == '/')
		common = k + 1;
	/* from_dir whole and a '/' after it in to: common is one past from_dir's end */
	size_t from_len = strlen(from_dir);
	size_t ups = 0;
	for (const char *s = from_dir + (common < from_len ? common : from_len); *s;) {
		ups++;
		s += strcspn(s, "/");
		s += strspn(s, "/");
	}
	const char *rest = to + common;
	char *out = malloc(ups * 3 + strlen(rest) + 1);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < ups; i++)
		strcat(out, "../");
	strcat(out, rest);
	return out;
}

/* A link to file (which may not exist) from a page in page_dir: canonical folder + name. */
static char *link_to(const char *page_dir, const char *file)
{
	char *slash = strrchr(file, '/');
	char *dir = slash ? strndup(file, (size_t)(slash - file) + (slash == file)) : strdup(".");
	char *canon = dir ? realpath(dir, NULL) : NULL;
	char *abs = canon ? join_path(canon, slash ? slash + 1 : file) : NULL;
	char *rel = abs ? relative_path(page_dir, abs) : NULL;
	free(dir);
	free(canon);
	free(abs);
	return rel;
}

static int set_error(struct entry *e, const char *msg)
{
	free(e->error);
	e->error = strdup(msg);
	e->ok = false;
	return e->error ? 0 : -1;
}

/* ---- evidence folders ------------------------------------------------------------------------- */

static bool is_record_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".txt") == 0;
}

/* Reads one record into a new entry; a bad record becomes an entry with its error. */
static int add_record(struct entries *es, const char *dir, const char *name, const char *page_dir)
{
	char *path = join_path(dir, name);
	struct entry *e = path ? entries_add(es, path) : NULL;
	free(path);
	if (!e)
		return -1;
	struct auscult_err err;
	if (evidence_record_read(e->source, &e->rec, &err) != AUSCULT_OK) {
		evidence_record_free(&e->rec);
		fprintf(stderr, "auscult report: %s\n", err.msg);
		return set_error(e, err.msg);
	}
	e->ok = true;
	char *audio = join_path(dir, e->rec.audio_file);
	e->audio_href = audio ? link_to(page_dir, audio) : NULL;
	free(audio);
	if (!e->audio_href)
		return -1;
	if (e->rec.image_file[0]) {
		char *image = join_path(dir, e->rec.image_file);
		e->image_href = image ? link_to(page_dir, image) : NULL;
		free(image);
		if (!e->image_href)
			return -1;
	}
	return 0;
}

/* Every record in dir (not recursing); with recurse, also in each of its folders. */
static int scan_folder(struct entries *es, const char *dir, bool recurse, const char *page_dir,
		       struct auscult_err *err)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return auscult_fail(err, AUSCULT_ERR_IO,
				    "%s: cannot read the folder: %s; expected an evidence folder "
				    "(auscultd's evidence.dir)",
				    dir, strerror(errno));
	int rc = AUSCULT_OK;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (rc != AUSCULT_OK || name[0] == '.')
			continue;
		char *path = join_path(dir, name);
		struct stat st;
		if (!path) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory");
		} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (recurse)
				rc = scan_folder(es, path, false, page_dir, err);
		} else if (is_record_name(name) && add_record(es, dir, name, page_dir) != 0) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory");
		}
		free(path);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Newest anomaly first; records that failed last, by path. */
static int by_time_desc(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->ok != y->ok)
		return x->ok ? -1 : 1;
	if (!x->ok || x->rec.start_ms == y->rec.start_ms)
		return strcmp(x->source, y->source);
	return x->rec.start_ms > y->rec.start_ms ? -1 : 1;
}

/* ---- recordings scored with a model ----------------------------------------------------------- */

struct clip_run {
	struct evidence_window *w;
	size_t n, cap;
	bool oom;
	bool anomaly;                /* an anomaly started */
	struct detector_event event; /* its latest event (END has the final figures) */
	int64_t start_ms, end_ms;    /* stream ms: the first anomaly's start, the last one's end */
};

static void collect_window(void *ctx, const struct pipeline_window *pw)
{
	struct clip_run *c = ctx;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct evidence_window *v = realloc(c->w, cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			return;
		}
		c->w = v;
		c->cap = cap;
	}
	c->w[c->n++] = (struct evidence_window){ pw->stream_s, pw->raw, pw->smoothed,
						 (uint8_t)pw->det.state };
	if (!pw->det.has_event)
		return;
	if (!c->anomaly)
		c->start_ms = pw->det.event.start_ms;
	c->anomaly = true;
	c->event = pw->det.event;
	c->end_ms = pw->det.event.end_ms;
}

/* The recording as mono samples at rate, as the pipeline reads it. */
static int read_samples(const char *path, uint32_t rate, float **out, size_t *n,
			struct auscult_err *err)
{
	struct audio_source_config sc;
	audio_source_config_defaults(&sc);
	sc.path = path;
	sc.output_rate_hz = rate;
	struct audio_source *src = NULL;
	int rc = audio_source_open(&src, &sc, err);
	size_t cap = 0, max = (size_t)(REPORT_CLIP_MAX_S * rate);
	*out = NULL;
	*n = 0;
	while (rc == AUSCULT_OK) {
		if (cap - *n < REPORT_READ_SAMPLES) {
			cap = cap ? cap * 2 : (size_t)rate * 16;
			float *v = realloc(*out, cap * sizeof(*v));
			if (!v) {
				rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory",
						  path);
				break;
			}
			*out = v;
		}
		size_t got = 0;
		rc = audio_source_read(src, *out + *n, REPORT_READ_SAMPLES, &got, 1000, err);
		*n += got;
		if (rc == AUSCULT_ERR_TIMEOUT)
			rc = AUSCULT_OK;
		if (*n > max)
			rc = auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
					  "%s: longer than %.0f min; cut it into shorter "
					  "recordings to draw it",
					  path, REPORT_CLIP_MAX_S / 60.0);
	}
	audio_source_close(src);
	if (rc == AUSCULT_ERR_EOF && *n > 0)
		return AUSCULT_OK;
	if (rc == AUSCULT_ERR_EOF)
		rc = auscult_fail(err, AUSCULT_ERR_INVALID, "%s: holds no audio", path);
	free(*out);
	*out = NULL;
	return rc;
}

/* The page's facts for a clip: the anomaly's figures when there was one, else the windows'. */
static void clip_record(struct evidence_record *r, const struct clip_run *c, const char *path,
			int64_t mtime_ms, uint32_t rate, size_t n, float threshold)
{
	const char *base = strrchr(path, '/');
	snprintf(r->monitor, sizeof(r->monitor), "%s", base ? base + 1 : path);
	r->sample_rate = rate;
	r->n_samples = n;
	r->threshold = threshold;
	r->audio_start_ms = mtime_ms - (int64_t)llround((double)n * 1000.0 / rate);
	r->start_ms = 1;
	r->end_ms = 0; /* none */
	double sum = 0.0;
	size_t counted = 0;
	r->peak = 0.0f;
	for (size_t i = 0; i < c->n; i++) {
		if (!isfinite(c->w[i].smoothed))
			continue;
		sum += c->w[i].smoothed;
		counted++;
		if (c->w[i].smoothed > r->peak)
			r->peak = c->w[i].smoothed;
	}
	r->mean = counted ? (float)(sum / (double)counted) : NAN;
	if (c->anomaly) {
		r->start_ms = r->audio_start_ms + c->start_ms;
		r->end_ms = r->audio_start_ms +
			    (c->end_ms >= 0 ? c->end_ms : (int64_t)llround(1000.0 * n / rate));
		r->peak = c->event.peak;
		r->mean = c->event.mean;
		r->n_bands = c->event.n_bands;
		memcpy(r->bands, c->event.bands, sizeof(r->bands));
		r->parts = c->event.parts;
		r->parts_seen = c->event.parts_seen;
		r->rise_seen = c->event.rise_seen;
	}
}

struct scoring {
	const struct model *m;
	struct autoencoder *ae;
	struct pipeline_settings ps;
	const char *page_dir;
	const char *image_tmp_prefix; /* spectrograms go to PREFIX<i>.png until embedded */
};

/* Scores one recording into e: clip score, windows, anomaly, spectrogram. */
static int score_clip(const struct scoring *s, struct entry *e, size_t index,
		      struct auscult_err *err)
{
	struct clip_run c = { 0 };
	struct pipeline *pl = NULL;
	float *x = NULL;
	size_t n = 0;
	float score;
	struct pipeline_config pc = {
		.model = s->m, .settings = s->ps, .on_window = collect_window, .ctx = &c
	};
	int rc = clip_score_file(s->m, s->ae, e->source, &score, NULL, err);
	if (rc == AUSCULT_OK)
		rc = pipeline_create(&pl, &pc, err);
	if (rc == AUSCULT_OK)
		rc = pipeline_replay_file(pl, e->source, AUDIO_CHANNEL_AVERAGE,
					  PIPELINE_REPLAY_WARN, err);
	if (rc == AUSCULT_OK && c.oom)
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", e->source);
	if (rc == AUSCULT_OK)
		rc = read_samples(e->source, s->m->features.sample_rate_hz, &x, &n, err);
	if (rc != AUSCULT_OK)
		goto out;
	struct stat st;
	int64_t mtime_ms = stat(e->source, &st) == 0 ? (int64_t)st.st_mtime * 1000 : 0;
	clip_record(&e->rec, &c, e->source, mtime_ms, s->m->features.sample_rate_hz, n,
		    pipeline_threshold(pl));
	e->rec.windows = c.w;
	e->rec.n_windows = c.n;
	c.w = NULL;
	e->clip_score = score;

	char num[32];
	snprintf(num, sizeof(num), "%zu.png", index);
	e->image_embed = malloc(strlen(s->image_tmp_prefix) + sizeof(num));
	char *abs = realpath(e->source, NULL);
	e->audio_href = abs ? relative_path(s->page_dir, abs) : NULL;
	free(abs);
	if (!e->image_embed || !e->audio_href) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", e->source);
		goto out;
	}
	sprintf(e->image_embed, "%s%s", s->image_tmp_prefix, num);
	struct spectrogram_marks mk = {
		.span_start_s = (double)(e->rec.start_ms - e->rec.audio_start_ms) / 1000.0,
		.span_end_s = (double)(e->rec.end_ms - e->rec.audio_start_ms) / 1000.0,
		.windows = e->rec.windows,
		.n_windows = e->rec.n_windows,
		.threshold = e->rec.threshold,
	};
	rc = spectrogram_png_write(e->image_embed, x, n, e->rec.sample_rate, &mk, err);
	if (rc != AUSCULT_OK) {
		free(e->image_embed);
		e->image_embed = NULL;
	}
	e->ok = rc == AUSCULT_OK;
out:
	pipeline_destroy(pl);
	free(c.w);
	free(x);
	return rc;
}

/* ---- the command ------------------------------------------------------------------------------ */

/* The canonical folder the page goes in (it must exist), for relative links. */
static char *page_folder(const char *out_path, struct auscult_err *err)
{
	const char *slash = strrchr(out_path, '/');
	char *dir = slash ? strndup(out_path, (size_t)(slash - out_path) + (slash == out_path))
			  : strdup(".");
	char *canon = dir ? realpath(dir, NULL) : NULL;
	if (!canon)
		auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot use the folder '%s' for the page: %s",
			     out_path, dir ? dir : "?", dir ? strerror(errno) : "out of memory");
	free(dir);
	return canon;
}

static int write_page(const char *out_path, const struct entries *es, const char *title,
		      const char *summary, const struct report_curve *curve,
		      struct auscult_err *err)
{
	struct report_item *items = calloc(es->n ? es->n : 1, sizeof(*items));
	if (!items)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i];
		items[i] = (struct report_item){
			e->ok ? &e->rec : NULL, e->source,      e->error,     e->audio_href,
			e->image_href,          e->image_embed, e->clip_score
		};
	}
	struct report_page page = { title, summary, curve, items, es->n };
	struct atomic_file af;
	int rc = atomic_file_open(&af, out_path, "the report page", err);
	if (rc == AUSCULT_OK) {
		rc = report_page_write(af.fp, &page, err);
		if (rc == AUSCULT_OK)
			rc = atomic_file_commit(&af, err);
		else
			atomic_file_abort(&af);
	}
	free(items);
	return rc;
}

static int report_clips(const char *model_path, const struct pipeline_settings *ps, char **inputs,
			int n_inputs, const char *out_path, const char *page_dir)
{
	struct model m = { 0 };
	struct autoencoder ae = { 0 };
	struct clip_list list = { 0 };
	struct entries es = { 0 };
	struct auscult_err err;
	char *prefix = NULL;
	int status = 1;
	bool any_failed = false;
	if (model_load(&m, model_path, &err) != AUSCULT_OK ||
	    autoencoder_init(&ae, &m, 256, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult report: %s\n", err.msg);
		goto done;
	}
	for (int i = 0; i < n_inputs; i++) {
		int rc = clip_list_add(&list, inputs[i], &err);
		if (rc == AUSCULT_ERR_NOMEM)
			goto nomem;
		if (rc != AUSCULT_OK) {
			fprintf(stderr, "auscult report: %s\n", err.msg);
			struct entry *e = entries_add(&es, inputs[i]);
			if (!e || set_error(e, err.msg) != 0)
				goto nomem;
		}
	}
	size_t plen = strlen(page_dir) + 64;
	if (!(prefix = malloc(plen)))
		goto nomem;
	snprintf(prefix, plen, "%s/.auscult-report-%ld-", page_dir, (long)getpid());
	struct scoring s = { &m, &ae, *ps, page_dir, prefix };
	for (size_t i = 0; i < list.count; i++) {
		struct entry *e = entries_add(&es, list.paths[i]);
		if (!e)
			goto nomem;
		if (score_clip(&s, e, i, &err) != AUSCULT_OK) {
			fprintf(stderr, "auscult report: %s\n", err.msg);
			if (set_error(e, err.msg) != 0)
				goto nomem;
		}
	}
	for (size_t i = 0; i < es.n; i++)
		any_failed |= !es.v[i].ok;
	char title[256], summary[256];
	const char *mbase = strrchr(model_path, '/');
	snprintf(title, sizeof(title), "auscult: recordings scored with %s",
		 mbase ? mbase + 1 : model_path);
	snprintf(summary, sizeof(summary), "%zu recording(s), threshold %.4g", list.count,
		 ps->threshold_set ? ps->threshold : (double)m.threshold.threshold);
	char curve_summary[320];
	model_curve_summary_text(&m, curve_summary, sizeof(curve_summary));
	struct report_curve curve = { mbase ? mbase + 1 : model_path, curve_summary,
				      m.curve.train_loss, m.curve.val_loss, m.curve.n_epochs };
	if (write_page(out_path, &es, title, summary, &curve, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult report: %s\n", err.msg);
		goto done;
	}
	status = any_failed ? 1 : 0;
	goto done;
nomem:
	fprintf(stderr, "auscult report: out of memory\n");
done:
	entries_free(&es);
	free(prefix);
	clip_list_free(&list);
	autoencoder_free(&ae);
	model_free(&m);
	return status;
}

static int report_folder(const char *dir, const char *out_path, const char *page_dir)
{
	struct entries es = { 0 };
	struct auscult_err err;
	int status = 1;
	if (scan_folder(&es, dir, true, page_dir, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult report: %s\n", err.msg);
		goto done;
	}
	if (es.n > 1)
		qsort(es.v, es.n, sizeof(es.v[0]), by_time_desc);
	size_t good = 0;
	for (size_t i = 0; i < es.n; i++)
		good += es.v[i].ok;
	char title[256], summary[320];
	snprintf(title, sizeof(title), "auscult: anomalies in %.200s", dir);
	if (es.n == 0)
		snprintf(summary, sizeof(summary),
			 "No anomaly recorded yet (no DIR/MONITOR/*.txt).");
	else
		snprintf(summary, sizeof(summary), "%zu anomal%s, newest first%s", good,
			 good == 1 ? "y" : "ies",
			 good < es.n ? "; some records could not be read (listed at the end)" : "");
	if (write_page(out_path, &es, title, summary, NULL, &err) != AUSCULT_OK) {
		fprintf(stderr, "auscult report: %s\n", err.msg);
		goto done;
	}
	status = good < es.n ? 1 : 0;
done:
	entries_free(&es);
	return status;
}

int cmd_report(int argc, char **argv)
{
	struct cli_command cli = { "report", report_usage, argc, argv, false };
	const char *model_path = NULL, *out_path = NULL;
	struct pipeline_settings ps;
	pipeline_settings_defaults(&ps);
	/* Operands and options may mix (`report DIR --out x.html`); after "--" all are operands. */
	char **operands = calloc((size_t)argc, sizeof(*operands));
	int n_operands = 0, status = CLI_EXIT_USAGE;
	char *page_dir = NULL;
	if (!operands) {
		fprintf(stderr, "auscult report: out of memory\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *v;
		bool matched = false;
		if (cli_is_help(argv[i])) {
			report_usage(stdout);
			status = 0;
			goto done;
		} else if ((v = cli_option_value(&cli, &i, "--out"))) {
			out_path = v;
		} else if ((v = cli_option_value(&cli, &i, "--model"))) {
			model_path = v;
		} else if (cli.failed || pipeline_args_option(&cli, &i, &ps, &matched) != 0) {
			goto done;
		} else if (matched) {
			continue;
		} else if (cli.failed) {
			goto done;
		} else if (strcmp(argv[i], "--") == 0) {
			while (++i < argc)
				operands[n_operands++] = argv[i];
		} else if (cli_is_option(argv[i])) {
			status = cli_usage_error(&cli, "unknown option '%s'", argv[i]);
			goto done;
		} else {
			operands[n_operands++] = argv[i];
		}
	}
	if (!out_path) {
		status = cli_usage_error(&cli, "--out PAGE.html is required");
		goto done;
	}
	if (n_operands == 0) {
		status = cli_usage_error(&cli, model_path ? "no recordings to score"
							  : "no evidence folder given");
		goto done;
	}
	if (!model_path && n_operands > 1) {
		status = cli_usage_error(&cli, "one evidence folder, or --model MODEL with "
					       "recordings");
		goto done;
	}
	if (pipeline_args_check(&cli, &ps) != 0)
		goto done;
	struct auscult_err err;
	status = 1;
	if (!(page_dir = page_folder(out_path, &err))) {
		fprintf(stderr, "auscult report: %s\n", err.msg);
		goto done;
	}
	if (model_path)
		status = report_clips(model_path, &ps, operands, n_operands, out_path, page_dir);
	else
		status = report_folder(operands[0], out_path, page_dir);
done:
	free(page_dir);
	free(operands);
	return status;
}
