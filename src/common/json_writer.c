/* json_writer.c - a tiny JSON builder into a caller's buffer or a stream. */
#include "common/json_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/utf8.h"

/* Appends n bytes, counting what would have been written past the end (like snprintf). */
static void put(struct json_writer *w, const char *s, size_t n)
{
	if (w->file) {
		if (n > 0 && fwrite(s, 1, n, w->file) != n && w->write_errno == 0)
			w->write_errno = errno ? errno : EIO;
	} else if (w->len < w->cap - 1) {
		size_t room = w->cap - 1 - w->len;
		size_t k = n < room ? n : room;
		memcpy(w->buf + w->len, s, k);
		w->buf[w->len + k] = '\0';
	}
	w->len += n;
}

static void putc1(struct json_writer *w, char c)
{
	put(w, &c, 1);
}

static void misuse(struct json_writer *w, const char *what)
{
	if (!w->misuse)
		w->misuse = what;
}

/* What stands between two tokens: the comma a later item needs, then the layout's white space. */
static void put_gap(struct json_writer *w, bool comma)
{
	if (comma)
		putc1(w, ',');
	if (w->break_pending) {
		putc1(w, '\n');
		for (int i = 0; i < w->break_indent; i++)
			putc1(w, ' ');
		w->break_pending = false;
	} else if (comma && w->spaced) {
		putc1(w, ' ');
	}
}

/* The comma and white space before the next item of the innermost container. */
static void next_item(struct json_writer *w)
{
	int d = w->depth - 1;
	put_gap(w, w->has_items[d]);
	w->has_items[d] = true;
}

/* Everything a value needs before it: a comma in a list, a key in an object. */
static bool before_value(struct json_writer *w)
{
	if (w->done) {
		misuse(w, "a second value after the complete top-level value");
		return false;
	}
	if (w->depth == 0) {
		put_gap(w, false);
		return true;
	}
	if (w->in_object[w->depth - 1]) {
		if (!w->key_pending) {
			misuse(w, "a value inside an object without a key");
			return false;
		}
		w->key_pending = false;
		put_gap(w, false);
		return true;
	}
	next_item(w);
	return true;
}

static void after_value(struct json_writer *w)
{
	if (w->depth == 0)
		w->done = true;
}

void json_writer_init(struct json_writer *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap > 0 ? cap : 1;
	if (buf && cap > 0)
		buf[0] = '\0';
	if (!buf || cap == 0)
		misuse(w, "no output buffer");
}

void json_writer_init_file(struct json_writer *w, FILE *out)
{
	memset(w, 0, sizeof(*w));
	w->cap = 1;
	w->file = out;
	if (!out)
		misuse(w, "no output stream");
}

void json_writer_spaced(struct json_writer *w)
{
	w->spaced = true;
}

void json_line_break(struct json_writer *w, int indent)
{
	w->break_pending = true;
	w->break_indent = indent > 0 ? indent : 0;
}

static void open_container(struct json_writer *w, bool object)
{
	if (!before_value(w))
		return;
	if (w->depth >= JSON_WRITER_MAX_DEPTH) {
		misuse(w, "nesting deeper than JSON_WRITER_MAX_DEPTH");
		return;
	}
	putc1(w, object ? '{' : '[');
	w->in_object[w->depth] = object;
	w->has_items[w->depth] = false;
	w->depth++;
}

static void close_container(struct json_writer *w, bool object)
{
	if (w->depth == 0 || w->in_object[w->depth - 1] != object) {
		misuse(w, object ? "an object closed that is not open"
				 : "an array closed that is not open");
		return;
	}
	if (w->key_pending) {
		misuse(w, "an object closed after a key without its value");
		return;
	}
	put_gap(w, false);
	putc1(w, object ? '}' : ']');
	w->depth--;
	after_value(w);
}

void json_object_open(struct json_writer *w)
{
	open_container(w, true);
}

void json_object_close(struct json_writer *w)
{
	close_container(w, true);
}

void json_array_open(struct json_writer *w)
{
	open_container(w, false);
}

void json_array_close(struct json_writer *w)
{
	close_container(w, false);
}

static void put_escaped(struct json_writer *w, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	putc1(w, '"');
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		/* Copy runs of plain bytes at once; most payload text is plain ASCII. */
		size_t run = i;
		while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		if (run > i) {
			put(w, (const char *)s + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(w, e, 2);
			i++;
		} else if (c < 0x20) {
			const char *named = NULL;
			switch (c) {
			case '\b':
				named = "\\b";
				break;
			case '\f':
				named = "\\f";
				break;
			case '\n':
				named = "\\n";
				break;
			case '\r':
				named = "\\r";
				break;
			case '\t':
				named = "\\t";
				break;
			default:
				break;
			}
			if (named) {
				put(w, named, 2);
			} else {
				char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				put(w, e, 6);
			}
			i++;
		} else {
			size_t len = utf8_valid_len(s + i, n - i);
			if (len == 0) {
				put(w, "\\ufffd", 6);
				i++;
			} else {
				put(w, (const char *)s + i, len);
				i += len;
			}
		}
	}
	putc1(w, '"');
}

void json_key(struct json_writer *w, const char *key)
{
	if (w->depth == 0 || !w->in_object[w->depth - 1]) {
		misuse(w, "a key outside an object");
		return;
	}
	if (w->key_pending) {
		misuse(w, "two keys in a row");
		return;
	}
	if (!key) {
		misuse(w, "a NULL key");
		return;
	}
	next_item(w);
	put_escaped(w, key);
	put(w, ": ", w->spaced ? 2 : 1);
	w->key_pending = true;
}

static void put_raw_value(struct json_writer *w, const char *text, size_t n)
{
	if (!before_value(w))
		return;
	put(w, text, n);
	after_value(w);
}

/* A number snprintf formatted: %g follows LC_NUMERIC; JSON needs a '.' whatever the locale says. */
static void put_number(struct json_writer *w, char *text, int n)
{
	for (int i = 0; i < n; i++)
		if (text[i] == ',')
			text[i] = '.';
	put_raw_value(w, text, (size_t)n);
}

void json_string(struct json_writer *w, const char *s)
{
	if (!s) {
		json_null(w);
		return;
	}
	if (!before_value(w))
		return;
	put_escaped(w, s);
	after_value(w);
}

void json_double_digits(struct json_writer *w, double v, int significant_digits)
{
	if (!isfinite(v)) {
		json_null(w);
		return;
	}
	if (significant_digits < 1)
		significant_digits = 1;
	if (significant_digits > 17)
		significant_digits = 17;
	char text[40];
	int n = snprintf(text, sizeof(text), "%.*g", significant_digits, v);
	put_number(w, text, n);
}

void json_double(struct json_writer *w, double v)
{
	json_double_digits(w, v, 10);
}

void json_float(struct json_writer *w, float v)
{
	if (!isfinite(v)) {
		json_null(w);
		return;
	}
	char text[40];
	int n = 0;
	for (int digits = 6; digits <= 9; digits++) {
		n = snprintf(text, sizeof(text), "%.*g", digits, (double)v);
		if (strtof(text, NULL) == v)
			break; /* 9 digits always round-trip a float */
	}
	put_number(w, text, n);
}

void json_int(struct json_writer *w, int64_t v)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%" PRId64, v);
	put_raw_value(w, text, (size_t)n);
}

void json_uint(struct json_writer *w, uint64_t v)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%" PRIu64, v);
	put_raw_value(w, text, (size_t)n);
}

void json_bool(struct json_writer *w, bool v)
{
	if (v)
		put_raw_value(w, "true", 4);
	else
		put_raw_value(w, "false", 5);
}

void json_null(struct json_writer *w)
{
	put_raw_value(w, "null", 4);
}

void json_time_ms(struct json_writer *w, int64_t unix_ms)
{
	/* Floor division, so times before 1970 still get a millisecond part in [0, 999]. */
	int64_t secs = unix_ms / 1000;
	int64_t ms = unix_ms % 1000;
	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	char text[48];
	if (!gmtime_r(&t, &tm)) {
		json_null(w);
		return;
	}
	size_t n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text + n, sizeof(text) - n, ".%03dZ", (int)ms);
	json_string(w, text);
}

void json_field_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

void json_field_double(struct json_writer *w, const char *key, double v)
{
	json_key(w, key);
	json_double(w, v);
}

void json_field_double_digits(struct json_writer *w, const char *key, double v,
			      int significant_digits)
{
	json_key(w, key);
	json_double_digits(w, v, significant_digits);
}

void json_field_float(struct json_writer *w, const char *key, float v)
{
	json_key(w, key);
	json_float(w, v);
}

void json_field_int(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_int(w, v);
}

void json_field_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

void json_field_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

void json_field_time_ms(struct json_writer *w, const char *key, int64_t unix_ms)
{
	json_key(w, key);
	json_time_ms(w, unix_ms);
}

int json_writer_finish(struct json_writer *w, size_t *len_out, struct auscult_err *err)
{
	if (w->misuse)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "JSON writer misuse: %s", w->misuse);
	if (w->depth != 0 || !w->done)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "JSON writer misuse: %d container(s) left open", w->depth);
	if (w->write_errno)
		return auscult_fail(err, AUSCULT_ERR_IO, "writing the JSON output failed: %s",
				    strerror(w->write_errno));
	if (!w->file && w->len > w->cap - 1)
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "JSON payload needs %zu bytes but the buffer holds %zu; "
				    "enlarge the buffer",
				    w->len + 1, w->cap);
	if (len_out)
		*len_out = w->len;
	return AUSCULT_OK;
}
