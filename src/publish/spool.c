/* spool.c - the durable event spool: append-only checksummed records, compacted when all done. */
#include "publish/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "model/crc32.h"

#define SPOOL_MAGIC "ASPL"
#define HEADER_BYTES 12u
#define BODY_MAX 65536u /* topics and payloads are far smaller; a larger length is corrupt */
#define KIND_PUT 1u
#define KIND_DONE 2u
#define PUT_FIXED 12u /* kind + id + class + topic length */
#define DONE_BYTES 9u /* kind + id */

struct spool {
	char *dir;
	char *path;
	char *tmp_path;
	int fd;
	size_t max_bytes;
	size_t file_bytes;
	struct spool_record *recs;
	size_t n, cap;
	size_t live;
	uint64_t next_id;
	uint64_t dropped_events, dropped_states;
};

static void put_u16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Bytes a put record of rec takes on disk. */
static size_t put_bytes(const struct spool_record *r)
{
	return HEADER_BYTES + PUT_FIXED + strlen(r->topic) + strlen(r->payload);
}

/* Encodes a put record into a fresh buffer (*len its size); NULL when out of memory. */
static uint8_t *encode_put(const struct spool_record *r, size_t *len)
{
	size_t tl = strlen(r->topic), pl = strlen(r->payload);
	size_t body = PUT_FIXED + tl + pl;
	uint8_t *b = malloc(HEADER_BYTES + body);
	if (!b)
		return NULL;
	uint8_t *q = b + HEADER_BYTES;
	q[0] = KIND_PUT;
	put_u64(q + 1, r->id);
	q[9] = (uint8_t)r->cls;
	put_u16(q + 10, (uint32_t)tl);
	memcpy(q + PUT_FIXED, r->topic, tl);
	memcpy(q + PUT_FIXED + tl, r->payload, pl);
	memcpy(b, SPOOL_MAGIC, 4);
	put_u32(b + 4, (uint32_t)body);
	put_u32(b + 8, crc32_compute(q, body));
	*len = HEADER_BYTES + body;
	return b;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void free_record(struct spool_record *r)
{
	free(r->topic); /* payload shares the allocation */
	r->topic = r->payload = NULL;
}

static int add_record(struct spool *s, uint64_t id, enum message_class cls, const char *topic,
		      size_t tl, const char *payload, size_t pl)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct spool_record *r = realloc(s->recs, cap * sizeof(*r));
		if (!r)
			return AUSCULT_ERR_NOMEM;
		s->recs = r;
		s->cap = cap;
	}
	char *text = malloc(tl + 1 + pl + 1);
	if (!text)
		return AUSCULT_ERR_NOMEM;
	memcpy(text, topic, tl);
	text[tl] = '\0';
	memcpy(text + tl + 1, payload, pl);
	text[tl + 1 + pl] = '\0';
	s->recs[s->n++] = (struct spool_record){
		.id = id, .cls = cls, .topic = text, .payload = text + tl + 1, .done = false
	};
	s->live++;
	if (id >= s->next_id)
		s->next_id = id + 1;
	return AUSCULT_OK;
}

/* The index of the first record (live or done) whose id is id or more (ids ascend); s->n if
 * none. */
static size_t lower_bound(const struct spool *s, uint64_t id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->recs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index of live-or-done record id, or -1. */
static long find(const struct spool *s, uint64_t id)
{
	size_t i = lower_bound(s, id);
	return i < s->n && s->recs[i].id == id ? (long)i : -1;
}

static void mark_done(struct spool *s, size_t i)
{
	if (s->recs[i].done)
		return;
	s->recs[i].done = true;
	s->live--;
}

/* Forgets done records in memory. */
static void forget_done(struct spool *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->recs[i].done)
			free_record(&s->recs[i]);
		else
			s->recs[k++] = s->recs[i];
	}
	s->n = k;
}

static int fail_io(struct auscult_err *err, const char *what, const char *path)
{
	return auscult_fail(err, AUSCULT_ERR_IO,
			    "%s: cannot %s the event spool: %s; check mqtt.spool_dir, its owner "
			    "and the free space",
			    path, what, strerror(errno));
}

/* Writes the live records to a temporary file, syncs it and renames it over the spool. */
static int rewrite(struct spool *s, struct auscult_err *err)
{
	forget_done(s);
	int fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail_io(err, "create", s->tmp_path);
	size_t total = 0;
	for (size_t i = 0; i < s->n; i++) {
		size_t len;
		uint8_t *b = encode_put(&s->recs[i], &len);
		if (!b) {
			close(fd);
			unlink(s->tmp_path);
			return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", s->path);
		}
		int w = write_all(fd, b, len);
		free(b);
		if (w) {
			int e = errno;
			close(fd);
			unlink(s->tmp_path);
			errno = e;
			return fail_io(err, "write", s->tmp_path);
		}
		total += len;
	}
	if (fdatasync(fd) != 0 || close(fd) != 0) {
		unlink(s->tmp_path);
		return fail_io(err, "sync", s->tmp_path);
	}
	if (rename(s->tmp_path, s->path) != 0) {
		unlink(s->tmp_path);
		return fail_io(err, "replace", s->path);
	}
	int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* the rename itself must survive a power cut */
		close(dfd);
	}
	int nfd = open(s->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (nfd < 0)
		return fail_io(err, "open", s->path);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = nfd;
	s->file_bytes = total;
	return AUSCULT_OK;
}

/* Applies one intact record body; false when its contents make no sense (treated as corrupt). */
static bool apply(struct spool *s, const uint8_t *b, size_t len, int *rc)
{
	*rc = AUSCULT_OK;
	if (len < DONE_BYTES)
		return false;
	uint64_t id = get_u64(b + 1);
	if (b[0] == KIND_DONE && len == DONE_BYTES) {
		long i = find(s, id);
		if (i >= 0)
			mark_done(s, (size_t)i);
		return true;
	}
	if (b[0] != KIND_PUT || len < PUT_FIXED || b[9] > MESSAGE_EVENT || b[9] == MESSAGE_SCORE)
		return false;
	size_t tl = get_u16(b + 10);
	if (PUT_FIXED + tl > len || id == 0 || (s->n && id <= s->recs[s->n - 1].id))
		return false;
	const char *topic = (const char *)b + PUT_FIXED;
	size_t pl = len - PUT_FIXED - tl;
	if (memchr(topic, '\0', tl) || memchr(topic + tl, '\0', pl))
		return false;
	*rc = add_record(s, id, (enum message_class)b[9], topic, tl, topic + tl, pl);
	return true;
}

/* Reads the whole file into *buf (*len bytes). */
static int read_file(const char *path, uint8_t **buf, size_t *len, struct auscult_err *err)
{
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? AUSCULT_OK : fail_io(err, "open", path);
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return auscult_fail(err, AUSCULT_ERR_IO,
				    "%s: the event spool is not a regular file; remove it or "
				    "change mqtt.spool_dir",
				    path);
	}
	size_t size = (size_t)st.st_size;
	uint8_t *b = malloc(size ? size : 1);
	if (!b) {
		close(fd);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory (%zu bytes)", path,
				    size);
	}
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, b + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = got;
	return AUSCULT_OK;
}

/* Scans buf: applies intact records, skips corrupt regions (logged), fills *rep. */
static int scan(struct spool *s, const uint8_t *buf, size_t len, struct spool_open_report *rep)
{
	size_t pos = 0;
	while (pos < len) {
		bool ok = false;
		size_t body = 0;
		if (len - pos >= HEADER_BYTES && memcmp(buf + pos, SPOOL_MAGIC, 4) == 0) {
			body = get_u32(buf + pos + 4);
			ok = body <= BODY_MAX && body <= len - pos - HEADER_BYTES &&
			     crc32_compute(buf + pos + HEADER_BYTES, body) ==
				     get_u32(buf + pos + 8);
		}
		if (ok) {
			int rc;
			ok = apply(s, buf + pos + HEADER_BYTES, body, &rc);
			if (rc)
				return rc;
		}
		if (ok) {
			pos += HEADER_BYTES + body;
			continue;
		}
		/* Resynchronise at the next magic: the records after a bad one are still good. */
		size_t next = pos + 1;
		while (next + 4 <= len && memcmp(buf + next, SPOOL_MAGIC, 4) != 0)
			next++;
		if (next + 4 > len)
			next = len;
		log_warn("%s: skipped %zu corrupt byte(s) at offset %zu (%s); the records around "
			 "them are kept",
			 s->path, next - pos, pos,
			 next == len ? "a record torn at the end, e.g. by a power cut"
				     : "a damaged record");
		rep->corrupt_records++;
		rep->corrupt_bytes += next - pos;
		pos = next;
	}
	return AUSCULT_OK;
}

/* Only the latest state per topic matters (it is retained): older ones are done. */
static size_t supersede_states(struct spool *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->recs[i].done || s->recs[i].cls != MESSAGE_STATE)
			continue;
		for (size_t j = i + 1; j < s->n; j++) {
			if (!s->recs[j].done && s->recs[j].cls == MESSAGE_STATE &&
			    strcmp(s->recs[j].topic, s->recs[i].topic) == 0) {
				mark_done(s, i);
				n++;
				break;
			}
		}
	}
	return n;
}

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int spool_open(struct spool **out, const char *dir, size_t max_bytes,
	       struct spool_open_report *report, struct auscult_err *err)
{
	*out = NULL;
	struct spool_open_report scratch;
	if (!report)
		report = &scratch;
	memset(report, 0, sizeof(*report));
	if (!dir || !dir[0])
		return auscult_fail(err, AUSCULT_ERR_INVALID, "spool: no folder given");
	struct spool *s = calloc(1, sizeof(*s));
	if (!s)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "spool: out of memory");
	s->fd = -1;
	s->max_bytes = max_bytes;
	s->next_id = 1;
	s->dir = strdup(dir);
	s->path = join_path(dir, SPOOL_FILE_NAME);
	s->tmp_path = join_path(dir, SPOOL_FILE_NAME ".tmp");
	int rc;
	uint8_t *buf = NULL;
	size_t len = 0;
	if (!s->dir || !s->path || !s->tmp_path) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "spool: out of memory");
		goto fail;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = fail_io(err, "create the folder of", dir);
		goto fail;
	}
	if ((rc = read_file(s->path, &buf, &len, err)))
		goto fail;
	if ((rc = scan(s, buf, len, report))) {
		rc = auscult_fail(err, rc, "%s: out of memory reading the event spool", s->path);
		goto fail;
	}
	free(buf);
	buf = NULL;
	report->superseded = supersede_states(s);
	report->replayed = s->live;
	/* Rewrite now, so appends never land behind a torn record or acknowledged ones. */
	if ((rc = rewrite(s, err)))
		goto fail;
	*out = s;
	return AUSCULT_OK;
fail:
	free(buf);
	spool_close(s);
	return rc;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	for (size_t i = 0; i < s->n; i++)
		free_record(&s->recs[i]);
	free(s->recs);
	free(s->dir);
	free(s->path);
	free(s->tmp_path);
	free(s);
}

size_t spool_count(const struct spool *s)
{
	return s ? s->n : 0;
}

const struct spool_record *spool_record_at(const struct spool *s, size_t i)
{
	return s && i < s->n ? &s->recs[i] : NULL;
}

const struct spool_record *spool_next_live(const struct spool *s, uint64_t id)
{
	if (!s)
		return NULL;
	for (size_t i = lower_bound(s, id); i < s->n; i++)
		if (!s->recs[i].done)
			return &s->recs[i];
	return NULL;
}

size_t spool_live_events_from(const struct spool *s, uint64_t id)
{
	size_t n = 0;
	if (!s || id == 0)
		return 0;
	for (size_t i = lower_bound(s, id); i < s->n; i++)
		n += !s->recs[i].done && s->recs[i].cls == MESSAGE_EVENT;
	return n;
}

size_t spool_live(const struct spool *s)
{
	return s ? s->live : 0;
}

size_t spool_file_bytes(const struct spool *s)
{
	return s ? s->file_bytes : 0;
}

uint64_t spool_dropped_events(const struct spool *s)
{
	return s ? s->dropped_events : 0;
}

uint64_t spool_dropped_states(const struct spool *s)
{
	return s ? s->dropped_states : 0;
}

/* Bytes the live records take once compacted. */
static size_t live_bytes(const struct spool *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!s->recs[i].done)
			n += put_bytes(&s->recs[i]);
	return n;
}

/* Drops the oldest live record of class cls; false when there is none. */
static bool drop_oldest(struct spool *s, enum message_class cls, struct spool_drop *drop)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->recs[i].done && s->recs[i].cls == cls) {
			mark_done(s, i);
			if (cls == MESSAGE_EVENT) {
				s->dropped_events++;
				drop->events++;
			} else {
				s->dropped_states++;
				drop->states++;
			}
			return true;
		}
	}
	return false;
}

/* Makes room for need more bytes: compaction first, then the oldest events, then states. */
static int make_room(struct spool *s, size_t need, struct spool_drop *drop, struct auscult_err *err)
{
	if (s->file_bytes + need <= s->max_bytes)
		return AUSCULT_OK;
	size_t have = live_bytes(s);
	while (have + need > s->max_bytes) {
		if (!drop_oldest(s, MESSAGE_EVENT, drop) && !drop_oldest(s, MESSAGE_STATE, drop))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "%s: a %zu-byte message does not fit in "
					    "mqtt.spool_max_mb",
					    s->path, need);
		have = live_bytes(s);
	}
	return rewrite(s, err);
}

int spool_append(struct spool *s, enum message_class cls, const char *topic, const char *payload,
		 uint64_t *id_out, struct spool_drop *drop, struct auscult_err *err)
{
	struct spool_drop scratch;
	if (!drop)
		drop = &scratch;
	memset(drop, 0, sizeof(*drop));
	size_t tl = strlen(topic), pl = strlen(payload);
	if (cls == MESSAGE_SCORE || tl > 0xffff || PUT_FIXED + tl + pl > BODY_MAX)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: %s cannot be spooled (a score, or over %u bytes)", s->path,
				    topic, BODY_MAX);
	struct spool_record r = { .id = s->next_id, .cls = cls };
	r.topic = (char *)(uintptr_t)topic;
	r.payload = (char *)(uintptr_t)payload;
	int rc = make_room(s, put_bytes(&r), drop, err);
	if (rc)
		return rc;
	size_t len;
	uint8_t *b = encode_put(&r, &len);
	if (!b)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", s->path);
	if (write_all(s->fd, b, len) != 0 || fdatasync(s->fd) != 0) {
		rc = fail_io(err, "write", s->path);
		free(b);
		/* Cut a partial record off, so the next append starts clean. */
		if (ftruncate(s->fd, (off_t)s->file_bytes) != 0)
			log_warn("%s: cannot cut a partly written record: %s", s->path,
				 strerror(errno));
		return rc;
	}
	free(b);
	s->file_bytes += len;
	if ((rc = add_record(s, r.id, cls, topic, tl, payload, pl)))
		return auscult_fail(err, rc, "%s: out of memory", s->path);
	*id_out = r.id;
	return AUSCULT_OK;
}

int spool_done(struct spool *s, uint64_t id, struct auscult_err *err)
{
	if (!s)
		return AUSCULT_OK;
	long i = find(s, id);
	if (i < 0 || s->recs[i].done)
		return AUSCULT_OK;
	mark_done(s, (size_t)i);
	if (s->live == 0) {
		/* Compaction: everything was delivered, the log starts again empty. */
		forget_done(s);
		if (ftruncate(s->fd, 0) != 0)
			return fail_io(err, "truncate", s->path);
		s->file_bytes = 0;
		return AUSCULT_OK;
	}
	uint8_t b[HEADER_BYTES + DONE_BYTES];
	uint8_t *q = b + HEADER_BYTES;
	q[0] = KIND_DONE;
	put_u64(q + 1, id);
	memcpy(b, SPOOL_MAGIC, 4);
	put_u32(b + 4, DONE_BYTES);
	put_u32(b + 8, crc32_compute(q, DONE_BYTES));
	if (write_all(s->fd, b, sizeof(b)) != 0) {
		int rc = fail_io(err, "write", s->path);
		if (ftruncate(s->fd, (off_t)s->file_bytes) != 0)
			log_warn("%s: cannot cut a partly written record: %s", s->path,
				 strerror(errno));
		return rc;
	}
	s->file_bytes += sizeof(b);
	/* Done records pile up while some message stays unacknowledged: compact now and then. */
	if (s->n > 256 && s->live < s->n / 2)
		return rewrite(s, err);
	return AUSCULT_OK;
}
