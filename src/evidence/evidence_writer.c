/* evidence_writer.c - the writer thread: FLAC from the taps' rings, then PNG, record, retention. */
#define _GNU_SOURCE /* pthread_setname_np: the bench measures the writer thread by name */
#include "evidence/evidence_writer.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/complain.h"
#include "common/log.h"
#include "evidence/evidence_record.h"
#include "evidence/evidence_retention.h"
#include "evidence/spectrogram_image.h"

#define CHUNK_SAMPLES 4096
#define WINDOW_HISTORY 1024 /* recent windows per tap, for the pre-roll's score strip */
#define BUSY_WAIT_MS 50     /* a capture is under way */
#define IDLE_WAIT_MS 1000   /* nothing to do: an event wakes the thread anyway */
#define PATH_CAP 4096

struct hist_window {
	uint64_t sample;
	struct evidence_window w; /* t_s unused here */
};

struct capture {
	uint32_t id;
	char base[EVIDENCE_BASE_MAX];
	uint64_t start, stop;          /* the span; stop UINT64_MAX until the END (or max_s) */
	uint64_t mark_start, mark_end; /* the anomaly; mark_end UINT64_MAX until the END */
	uint64_t pos;                  /* next sample to write */
	SNDFILE *sf;
	bool failed;     /* the file could not be written: the capture is dropped */
	bool audio_done; /* the FLAC is complete and renamed */
	bool ended;      /* the END arrived */
	struct detector_event start_ev, end_ev;
	struct evidence_window *wins;
	size_t n_wins, cap_wins;
	struct capture *next;
};

struct tap_entry {
	struct evidence_tap tap;
	atomic_bool detached;
	struct hist_window hist[WINDOW_HISTORY];
	size_t hist_n, hist_head;
	uint64_t last_window; /* sample of the newest window seen */
	struct capture *captures;
	struct tap_entry *next;
};

struct pending_image {
	char monitor[EVIDENCE_RECORD_NAME_MAX];
	unsigned char *png;
	size_t len;
	struct pending_image *next;
};

struct evidence_writer {
	struct evidence_settings s; /* dir owned */
	pthread_t thread;
	bool started;
	atomic_bool stop;
	pthread_mutex_t lock; /* the tap list, status and images */
	pthread_cond_t cond;  /* wakes the thread (CLOCK_MONOTONIC) */
	pthread_cond_t idle_cond;
	bool busy; /* a capture or queued message exists (under lock) */
	struct tap_entry *taps;
	struct evidence_writer_status st;
	struct pending_image *images;
	size_t leaked_taps;      /* taps of monitors left behind at stop (under lock) */
	bool abandoned;          /* evidence_writer_abandon: destroy frees nothing */
	struct complaint fault;  /* writer thread only */
	struct complaint behind; /* recordings cut short: the writer fell behind (writer thread) */
	float *chunk;            /* CHUNK_SAMPLES */
	short *pcm;              /* CHUNK_SAMPLES */
};

/* ---- faults ---------------------------------------------------------------------------------- */

/* Counts a fault into the status; the first after a success starts a run of faults. */
static void note_fault(struct evidence_writer *w, const char *msg)
{
	pthread_mutex_lock(&w->lock);
	w->st.errors++;
	/* A longer message is cut to the status's field: the log has it whole. */
	size_t len = strnlen(msg, sizeof(w->st.last_error) - 1);
	memcpy(w->st.last_error, msg, len);
	w->st.last_error[len] = '\0';
	if (!w->st.failing) {
		w->st.failing = true;
		w->st.fault_errors = 0;
		w->st.fault_since_ms = clock_wall_ms();
	}
	w->st.fault_errors++;
	pthread_mutex_unlock(&w->lock);
}

__attribute__((format(printf, 2, 3))) static void fault(struct evidence_writer *w, const char *fmt,
							...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note_fault(w, msg);
	complain(&w->fault, clock_mono_s(), LOG_LEVEL_ERROR,
		 "evidence: %s; detection and publishing go on without it", msg);
}

/* A complete evidence record: the run of faults (if any) is over. Writer thread. */
static void note_success(struct evidence_writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->st.events++;
	w->st.failing = false;
	w->st.fault_errors = 0;
	w->st.fault_since_ms = 0;
	pthread_mutex_unlock(&w->lock);
}

static void wake(void *ctx)
{
	struct evidence_writer *w = ctx;
	pthread_cond_signal(&w->cond);
}

/* ---- paths ----------------------------------------------------------------------------------- */

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0755);
		*p = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void monitor_dir(const struct evidence_writer *w, const struct evidence_tap *t, char *buf)
{
	snprintf(buf, PATH_CAP, "%s/%s", w->s.dir, t->monitor);
}

static void file_path(const struct evidence_writer *w, const struct evidence_tap *t,
		      const struct capture *c, const char *ext, char *buf)
{
	snprintf(buf, PATH_CAP, "%s/%s/%s%s", w->s.dir, t->monitor, c->base, ext);
}

/* ---- captures -------------------------------------------------------------------------------- */

static void add_window(struct capture *c, const struct hist_window *h)
{
	if (h->sample < c->start || h->sample > c->stop || c->audio_done)
		return;
	if (c->n_wins == c->cap_wins) {
		size_t cap = c->cap_wins ? c->cap_wins * 2 : 256;
		struct evidence_window *v = realloc(c->wins, cap * sizeof(*v));
		if (!v)
			return; /* the score strip misses a window: no reason to lose the audio */
		c->wins = v;
		c->cap_wins = cap;
	}
	c->wins[c->n_wins] = h->w;
	/* t_s from the audio file's first sample; fixed up to the file's rate in finish. */
	c->wins[c->n_wins].t_s = (double)(h->sample - c->start);
	c->n_wins++;
}

static void free_capture(struct capture *c)
{
	if (c->sf)
		sf_close(c->sf);
	free(c->wins);
	free(c);
}

static void begin(struct evidence_writer *w, struct tap_entry *e, const struct evidence_msg *m)
{
	struct capture *c = calloc(1, sizeof(*c));
	if (!c) {
		fault(w, "%s: out of memory for a capture", e->tap.monitor);
		return;
	}
	c->id = m->capture;
	snprintf(c->base, sizeof(c->base), "%s", m->base);
	c->start = m->sample;
	c->pos = m->sample;
	c->stop = m->sample + e->tap.max_len;
	c->mark_start = m->mark;
	c->mark_end = UINT64_MAX;
	c->start_ev = m->ev;
	char dir[PATH_CAP], path[PATH_CAP];
	monitor_dir(w, &e->tap, dir);
	file_path(w, &e->tap, c, ".flac.tmp", path);
	SF_INFO info = { .samplerate = (int)e->tap.rate_hz,
			 .channels = 1,
			 .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16 };
	if (mkdir_p(dir) != 0) {
		fault(w, "%s: cannot create the folder: %s", dir, strerror(errno));
		c->failed = true;
	} else if (!(c->sf = sf_open(path, SFM_WRITE, &info))) {
		fault(w, "%s: cannot write it: %s", path, sf_strerror(NULL));
		c->failed = true;
	}
	if (c->failed)
		atomic_store_explicit(&e->tap.failed, c->id, memory_order_release);
	for (size_t i = 0; i < e->hist_n; i++)
		add_window(c, &e->hist[(e->hist_head + WINDOW_HISTORY - e->hist_n + i) %
				       WINDOW_HISTORY]);
	c->next = e->captures;
	e->captures = c;
}

static void end(struct tap_entry *e, const struct evidence_msg *m)
{
	for (struct capture *c = e->captures; c; c = c->next) {
		if (c->id != m->capture)
			continue;
		if (!c->audio_done && m->sample < c->stop)
			c->stop = m->sample > c->pos ? m->sample : c->pos;
		/* Windows queued before the END may lie past the span it set (t_s is in samples
		 * until finish). */
		while (c->n_wins && c->wins[c->n_wins - 1].t_s > (double)(c->stop - c->start))
			c->n_wins--;
		c->mark_end = m->mark;
		c->end_ev = m->ev;
		c->ended = true;
	}
}

static void window(struct tap_entry *e, const struct evidence_msg *m)
{
	struct hist_window h = { m->sample, { 0.0, m->raw, m->smoothed, m->state } };
	e->hist[e->hist_head] = h;
	e->hist_head = (e->hist_head + 1) % WINDOW_HISTORY;
	if (e->hist_n < WINDOW_HISTORY)
		e->hist_n++;
	e->last_window = m->sample;
	for (struct capture *c = e->captures; c; c = c->next)
		add_window(c, &h);
}

/* The FLAC is complete (or cut short): close it and give it its name. */
static void close_audio(struct evidence_writer *w, struct tap_entry *e, struct capture *c)
{
	c->audio_done = true;
	c->stop = c->pos;
	if (c->failed || !c->sf)
		return;
	int rc = sf_close(c->sf);
	c->sf = NULL;
	char tmp[PATH_CAP], path[PATH_CAP];
	file_path(w, &e->tap, c, ".flac.tmp", tmp);
	file_path(w, &e->tap, c, ".flac", path);
	if (rc != 0) {
		fault(w, "%s: cannot finish it: %s", tmp, sf_error_number(rc));
		c->failed = true;
		atomic_store(&e->tap.failed, c->id);
	} else if (rename(tmp, path) != 0) {
		fault(w, "%s: cannot rename it: %s", tmp, strerror(errno));
		c->failed = true;
		atomic_store(&e->tap.failed, c->id);
	}
	if (c->failed)
		unlink(tmp);
}

/* Streams what the ring has of the span into the FLAC; final: the tap has no more to come. */
static void pump(struct evidence_writer *w, struct tap_entry *e, struct capture *c, bool final)
{
	struct evidence_tap *t = &e->tap;
	bool lost = false;
	/* Before its END the span's end is unknown: stay lag behind, where no END can cut. */
	uint64_t until = c->stop;
	if (!c->ended && !final) {
		uint64_t written = atomic_load_explicit(&t->written, memory_order_acquire);
		uint64_t safe = written > t->lag ? written - t->lag : 0;
		if (safe < until)
			until = safe;
	}
	while (!c->audio_done && c->pos < until) {
		uint64_t want = until - c->pos;
		size_t got = evidence_tap_read(t, c->pos, w->chunk,
					       want < CHUNK_SAMPLES ? (size_t)want : CHUNK_SAMPLES,
					       &lost);
		if (lost) {
			pthread_mutex_lock(&w->lock);
			w->st.cut_short++;
			pthread_mutex_unlock(&w->lock);
			/* Rate-limited: a writer behind a fast input (a file read faster than
			 * real time) would say it for every anomaly. cut_short counts them all. */
			complain(&w->behind, clock_mono_s(), LOG_LEVEL_WARN,
				 "evidence: %s/%s: the writer fell behind the audio; the recording "
				 "ends at %.1f s",
				 t->monitor, c->base, (double)(c->pos - c->start) / t->rate_hz);
			break;
		}
		if (got == 0)
			break;
		if (!c->failed && c->sf) {
			for (size_t i = 0; i < got; i++) {
				/* Exactly the 16-bit samples a 16-bit input had: x * 32768. */
				float v = nearbyintf(w->chunk[i] * 32768.0f);
				w->pcm[i] = (short)(v > 32767.0f    ? 32767
						    : v < -32768.0f ? -32768
								    : v);
			}
			if (sf_write_short(c->sf, w->pcm, (sf_count_t)got) != (sf_count_t)got) {
				char path[PATH_CAP];
				file_path(w, &e->tap, c, ".flac.tmp", path);
				fault(w, "%s: cannot write it: %s", path, sf_strerror(c->sf));
				c->failed = true;
				atomic_store(&e->tap.failed, c->id);
				sf_close(c->sf);
				c->sf = NULL;
				unlink(path);
			}
		}
		c->pos += got;
	}
	if (!c->audio_done && (c->pos >= c->stop || final || lost))
		close_audio(w, e, c);
}

/* Reads the FLAC back for the picture: what the file holds is what is drawn. */
static float *read_back(const char *path, size_t *n)
{
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		return NULL;
	float *x = info.frames > 0 ? malloc((size_t)info.frames * sizeof(float)) : NULL;
	sf_count_t got = x ? sf_readf_float(sf, x, info.frames) : 0;
	sf_close(sf);
	if (got <= 0) {
		free(x);
		return NULL;
	}
	*n = (size_t)got;
	return x;
}

static void hand_image(struct evidence_writer *w, const struct evidence_tap *t, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	unsigned char *buf = NULL;
	long len = -1;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len)) && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (!buf)
		return;
	pthread_mutex_lock(&w->lock);
	struct pending_image *p = w->images;
	while (p && strcmp(p->monitor, t->monitor) != 0)
		p = p->next;
	if (!p && (p = calloc(1, sizeof(*p)))) {
		snprintf(p->monitor, sizeof(p->monitor), "%s", t->monitor);
		p->next = w->images;
		w->images = p;
	}
	if (p) {
		free(p->png);
		p->png = buf;
		p->len = (size_t)len;
		buf = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	free(buf);
}

/* The audio is done and the anomaly over: picture, record (last), retention. */
static void finish(struct evidence_writer *w, struct tap_entry *e, struct capture *c)
{
	struct evidence_tap *t = &e->tap;
	if (c->failed)
		return;
	double rate = t->rate_hz;
	for (size_t i = 0; i < c->n_wins; i++)
		c->wins[i].t_s /= rate;
	char flac[PATH_CAP], png[PATH_CAP], txt[PATH_CAP], dir[PATH_CAP];
	file_path(w, t, c, ".flac", flac);
	file_path(w, t, c, ".png", png);
	file_path(w, t, c, ".txt", txt);
	monitor_dir(w, t, dir);
	const struct detector_event *ev = c->ended ? &c->end_ev : &c->start_ev;
	float threshold = ev->threshold;
	struct evidence_record r;
	memset(&r, 0, sizeof(r));
	snprintf(r.monitor, sizeof(r.monitor), "%s", t->monitor);
	const char *dash = strchr(c->base, '-');
	snprintf(r.event_id, sizeof(r.event_id), "%s", dash ? dash + 1 : c->base);
	snprintf(r.audio_file, sizeof(r.audio_file), "%s.flac", c->base);
	r.sample_rate = t->rate_hz;
	r.n_samples = c->pos - c->start;
	r.start_ms = c->start_ev.start_ms;
	r.audio_start_ms = r.start_ms -
			   (int64_t)llround((double)(c->mark_start - c->start) * 1000.0 / rate);
	r.end_ms = c->ended ? c->end_ev.end_ms
			    : r.audio_start_ms +
				      (int64_t)llround((double)r.n_samples * 1000.0 / rate);
	r.peak = ev->peak;
	r.mean = ev->mean;
	r.threshold = threshold;
	r.n_bands = ev->n_bands;
	memcpy(r.bands, ev->bands, sizeof(r.bands));
	r.parts = ev->parts;
	r.parts_seen = ev->parts_seen;
	r.rise_seen = ev->rise_seen;
	r.n_windows = c->n_wins;
	r.windows = c->wins;

	size_t n = 0;
	float *x = read_back(flac, &n);
	struct auscult_err err;
	bool pictured = false;
	if (!x) {
		fault(w, "%s: cannot read it back for its picture", flac);
	} else {
		uint64_t mark_end = c->mark_end == UINT64_MAX ? c->pos : c->mark_end;
		struct spectrogram_marks marks = {
			.span_start_s = (double)(c->mark_start - c->start) / rate,
			.span_end_s = (double)(mark_end - c->start) / rate,
			.windows = c->wins,
			.n_windows = c->n_wins,
			.threshold = threshold,
		};
		if (spectrogram_png_write(png, x, n, t->rate_hz, &marks, &err) == AUSCULT_OK) {
			snprintf(r.image_file, sizeof(r.image_file), "%s.png", c->base);
			hand_image(w, t, png);
			pictured = true;
		} else {
			fault(w, "%s", err.msg);
		}
		free(x);
	}
	if (evidence_record_write(txt, &r, &err) != AUSCULT_OK) {
		fault(w, "%s", err.msg);
		return;
	}
	/* Works again only when all three are there: a picture that failed stays a fault. */
	if (pictured) {
		complain_clear(&w->fault, LOG_LEVEL_INFO, "evidence: writing works again (%s)",
			       txt);
		note_success(w);
	}
	log_info("evidence: %s/%s.flac: %.1f s (stream samples %llu..%llu), %s.txt", t->monitor,
		 c->base, (double)r.n_samples / rate, (unsigned long long)c->start,
		 (unsigned long long)c->pos, pictured ? ".png, " : "no picture, ");
	/* Every capture of this tap still open is kept, not this one alone: an older one finished
	 * after it (one pass finishes the newest first) has its sound in place already, and the
	 * oldest-first deletion took it before its picture and record were made. */
	size_t n_live = 0;
	for (const struct capture *k = e->captures; k; k = k->next)
		n_live++;
	const char *own = c->base;
	const char **keep = malloc(n_live * sizeof(*keep));
	size_t n_keep = 0;
	for (const struct capture *k = e->captures; keep && k; k = k->next)
		keep[n_keep++] = k->base;
	size_t deleted = 0;
	int rc = evidence_retention_apply(dir, (size_t)w->s.max_files,
					  (uint64_t)w->s.max_mb * 1024u * 1024u, keep ? keep : &own,
					  keep ? n_keep : 1, &deleted, &err);
	free(keep);
	if (rc != AUSCULT_OK)
		fault(w, "%s", err.msg);
	else if (deleted)
		log_info("evidence: %s: deleted the %zu oldest event(s) (max_files %d, max_mb %d)",
			 t->monitor, deleted, w->s.max_files, w->s.max_mb);
}

/* ---- the thread ------------------------------------------------------------------------------ */

/* Drains e's queue, moves its captures on, finishes those that are complete. Returns true
 * while e has work left. */
static bool serve(struct evidence_writer *w, struct tap_entry *e, bool stopping)
{
	struct evidence_msg m;
	bool detached = atomic_load(&e->detached) || stopping;
	/* Read before the queue: a message queued before the close is taken below. */
	bool closed = atomic_load(&e->tap.closed);
	while (evidence_tap_take(&e->tap, &m)) {
		if (m.kind == EVIDENCE_MSG_WINDOW)
			window(e, &m);
		else if (m.kind == EVIDENCE_MSG_BEGIN)
			begin(w, e, &m);
		else
			end(e, &m);
	}
	uint64_t hold = UINT64_MAX;
	struct capture **link = &e->captures;
	while (*link) {
		struct capture *c = *link;
		pump(w, e, c, detached || closed);
		/* The windows lag the audio (gate.settle_s): wait for those up to the span's end. */
		bool windows_in = e->last_window >= c->stop || detached || closed;
		if (c->audio_done && (c->ended || detached || closed) && windows_in) {
			finish(w, e, c);
			*link = c->next;
			free_capture(c);
			continue;
		}
		if (!c->audio_done && c->pos < hold)
			hold = c->pos;
		link = &c->next;
	}
	atomic_store_explicit(&e->tap.hold_from, hold, memory_order_release);
	return e->captures != NULL;
}

static void *writer_thread(void *arg)
{
	struct evidence_writer *w = arg;
	for (;;) {
		bool stopping = atomic_load(&w->stop);
		bool busy = false;
		pthread_mutex_lock(&w->lock);
		struct tap_entry *list = w->taps;
		pthread_mutex_unlock(&w->lock);
		/* Entries are only unlinked here, so the list can be walked without the lock;
		 * new ones are added at the head. */
		for (struct tap_entry *e = list; e; e = e->next)
			busy |= serve(w, e, stopping);
		pthread_mutex_lock(&w->lock);
		struct tap_entry **link = &w->taps;
		while (*link) {
			struct tap_entry *e = *link;
			bool queued = atomic_load(&e->tap.msg_head) !=
				      atomic_load(&e->tap.msg_tail);
			busy |= queued;
			bool detached = atomic_load(&e->detached);
			if ((detached || stopping) && !e->captures && !queued) {
				*link = e->next;
				if (detached) {
					evidence_tap_free(&e->tap);
					free(e);
				} else {
					/* A monitor thread left behind (stuck in a read) may still
					 * push: its tap is leaked, not freed under it. */
					e->tap.wake = NULL;
					w->leaked_taps++;
				}
				continue;
			}
			link = &e->next;
		}
		w->busy = busy;
		if (!busy)
			pthread_cond_broadcast(&w->idle_cond);
		if (stopping && !w->taps) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		long ms = busy ? BUSY_WAIT_MS : IDLE_WAIT_MS;
		ts.tv_nsec += (ms % 1000) * 1000000L;
		ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (!atomic_load(&w->stop))
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

int evidence_writer_create(struct evidence_writer **out, const struct evidence_settings *s,
			   struct auscult_err *err)
{
	*out = NULL;
	struct evidence_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "evidence: out of memory");
	w->s = *s;
	w->s.dir = s->dir ? strdup(s->dir) : NULL;
	w->chunk = malloc(CHUNK_SAMPLES * sizeof(float));
	w->pcm = malloc(CHUNK_SAMPLES * sizeof(short));
	if (!w->s.dir || !w->chunk || !w->pcm) {
		free(w->s.dir);
		free(w->chunk);
		free(w->pcm);
		free(w);
		return auscult_fail(err, s->dir ? AUSCULT_ERR_NOMEM : AUSCULT_ERR_INVALID,
				    "evidence: %s", s->dir ? "out of memory" : "no evidence.dir");
	}
	complaint_init(&w->fault, 10.0, 600.0);
	complaint_init(&w->behind, 10.0, 600.0);
	atomic_init(&w->stop, false);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, &ca);
	pthread_cond_init(&w->idle_cond, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&w->thread, NULL, writer_thread, w);
	if (rc != 0) {
		w->started = false;
		evidence_writer_destroy(w);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "evidence: cannot start its thread: %s",
				    strerror(rc));
	}
	w->started = true;
	pthread_setname_np(w->thread, "evidence"); /* bench/bench_daemon.sh reads its CPU apart */
	*out = w;
	return AUSCULT_OK;
}

void evidence_writer_abandon(struct evidence_writer *w)
{
	if (!w)
		return;
	w->abandoned = true;
	evidence_writer_destroy(w);
}

void evidence_writer_destroy(struct evidence_writer *w)
{
	if (!w)
		return;
	if (w->started) {
		atomic_store(&w->stop, true);
		pthread_mutex_lock(&w->lock);
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	/* A monitor left behind still holds its tap and may still read the status as it scores:
	 * the writer stays allocated (its thread is gone), as the tap does. */
	if (w->leaked_taps > 0 || w->abandoned)
		return;
	while (w->taps) { /* only when the thread never ran */
		struct tap_entry *e = w->taps;
		w->taps = e->next;
		while (e->captures) {
			struct capture *c = e->captures;
			e->captures = c->next;
			free_capture(c);
		}
		evidence_tap_free(&e->tap);
		free(e);
	}
	while (w->images) {
		struct pending_image *p = w->images;
		w->images = p->next;
		free(p->png);
		free(p);
	}
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->idle_cond);
	pthread_mutex_destroy(&w->lock);
	free(w->chunk);
	free(w->pcm);
	free(w->s.dir);
	free(w);
}

/* The monitor's folder, made and checked as a monitor starts: a read-only or missing disk is in
 * the status (and the score payloads) from the start, not only from the first anomaly. The
 * complaint is the writer thread's, so this logs on its own: once per monitor and start. */
static void probe_folder(struct evidence_writer *w, const struct evidence_tap *t)
{
	char dir[PATH_CAP], msg[PATH_CAP + 128];
	monitor_dir(w, t, dir);
	const char *cannot = mkdir_p(dir) != 0        ? "create"
			     : access(dir, W_OK) != 0 ? "write in"
						      : NULL;
	if (!cannot)
		return;
	snprintf(msg, sizeof(msg), "%s: cannot %s the folder: %s", dir, cannot, strerror(errno));
	note_fault(w, msg);
	log_error("evidence: %s; detection and publishing go on without it", msg);
}

int evidence_writer_attach(struct evidence_writer *w, const struct evidence_tap_config *cfg,
			   struct evidence_tap **out, struct auscult_err *err)
{
	*out = NULL;
	struct tap_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: evidence: out of memory",
				    cfg->monitor);
	struct evidence_tap_config c = *cfg;
	c.pre_roll_s = w->s.pre_roll_s;
	c.post_roll_s = w->s.post_roll_s;
	c.max_s = w->s.max_s;
	int rc = evidence_tap_init(&e->tap, &c, err);
	if (rc != AUSCULT_OK) {
		free(e);
		return rc;
	}
	e->tap.wake = wake;
	e->tap.wake_ctx = w;
	atomic_init(&e->detached, false);
	probe_folder(w, &e->tap);
	pthread_mutex_lock(&w->lock);
	e->next = w->taps;
	w->taps = e;
	pthread_mutex_unlock(&w->lock);
	*out = &e->tap;
	return AUSCULT_OK;
}

void evidence_writer_detach(struct evidence_writer *w, struct evidence_tap *t)
{
	if (!w || !t)
		return;
	struct tap_entry *e = (struct tap_entry *)((char *)t - offsetof(struct tap_entry, tap));
	atomic_store(&e->detached, true);
	pthread_cond_signal(&w->cond);
}

void evidence_writer_get_status(struct evidence_writer *w, struct evidence_writer_status *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->st;
	pthread_mutex_unlock(&w->lock);
}

bool evidence_writer_take_image(struct evidence_writer *w, char *monitor, size_t cap,
				unsigned char **png, size_t *len)
{
	pthread_mutex_lock(&w->lock);
	struct pending_image *p = w->images;
	if (p)
		w->images = p->next;
	pthread_mutex_unlock(&w->lock);
	if (!p)
		return false;
	snprintf(monitor, cap, "%s", p->monitor);
	*png = p->png;
	*len = p->len;
	free(p);
	return true;
}

bool evidence_writer_wait_idle(struct evidence_writer *w, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	pthread_cond_signal(&w->cond);
	w->busy = true; /* until the thread has looked */
	int rc = 0;
	while (w->busy && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->idle_cond, &w->lock, &ts);
	bool idle = !w->busy;
	pthread_mutex_unlock(&w->lock);
	return idle;
}
