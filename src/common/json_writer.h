/* json_writer.h - a tiny JSON builder into a caller's buffer or a stream: escaping, finite numbers. */
#ifndef AUSCULT_JSON_WRITER_H
#define AUSCULT_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/status.h"

#define JSON_WRITER_MAX_DEPTH 16

/*
 * Writes one JSON value (usually an object) into buf. Calls never fail on their own: misuse
 * (a value in an object without a key, unbalanced close, nesting deeper than
 * JSON_WRITER_MAX_DEPTH) and overflow are remembered and reported by json_writer_finish, so a
 * payload is built with straight-line code and checked once. Never allocates, never logs; one
 * writer per thread. Strings are escaped per RFC 8259; bytes that are not valid UTF-8 become
 * U+FFFD. Numbers that are NaN or infinite are written as null. The output is compact unless
 * json_writer_spaced / json_line_break ask for a layout people read.
 */
struct json_writer {
	char *buf;       /* buffer output, or NULL when writing to file */
	size_t cap;      /* bytes in buf, including room for the final NUL */
	size_t len;      /* bytes the output needs so far (may exceed cap - 1 on overflow) */
	FILE *file;      /* stream output (json_writer_init_file), or NULL */
	int write_errno; /* errno of the first failed write to file, 0 if none */
	int depth;
	bool in_object[JSON_WRITER_MAX_DEPTH]; /* per level: object (true) or array */
	bool has_items[JSON_WRITER_MAX_DEPTH]; /* per level: a comma is due before the next item */
	bool key_pending;                      /* a key was written; its value comes next */
	bool done;                             /* the top-level value is complete */
	bool spaced;                           /* ", " between items and ": " after keys */
	bool break_pending; /* the next item or closing bracket starts a new line */
	int break_indent;   /* spaces at the start of that line */
	const char *misuse; /* first misuse, NULL if none */
};

/* Starts writing into buf (cap bytes, cap >= 1). buf is always NUL-terminated. */
void json_writer_init(struct json_writer *w, char *buf, size_t cap);

/*
 * Starts writing to out as the calls come (no buffer, no size limit), for output that streams:
 * a tool's results written as each is ready. The caller keeps out open until
 * json_writer_finish and flushes it; out stays the caller's.
 */
void json_writer_init_file(struct json_writer *w, FILE *out);

/* Layout for people: ", " between items and ": " after keys instead of "," and ":". */
void json_writer_spaced(struct json_writer *w);

/*
 * Starts the next item or closing bracket on a new line indented by indent spaces (after the
 * item's comma, in place of the space json_writer_spaced puts there).
 */
void json_line_break(struct json_writer *w, int indent);

void json_object_open(struct json_writer *w);
void json_object_close(struct json_writer *w);
void json_array_open(struct json_writer *w);
void json_array_close(struct json_writer *w);

/* Writes an object key (escaped); the next call must write its value. */
void json_key(struct json_writer *w, const char *key);

/* Values. json_string(w, NULL) writes null. json_double writes up to 10 significant digits
 * (enough to round-trip a float); json_double_digits chooses 1..17. */
void json_string(struct json_writer *w, const char *s);
void json_double(struct json_writer *w, double v);
void json_double_digits(struct json_writer *w, double v, int significant_digits);
/* The shortest text (6..9 significant digits) that reads back as exactly the same float:
 * 0.1f is written 0.1, not 0.1000000015. Scores and thresholds are floats. */
void json_float(struct json_writer *w, float v);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* A string "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, milliseconds) for unix_ms since the epoch. */
void json_time_ms(struct json_writer *w, int64_t unix_ms);

/* Key plus value, for flat objects. */
void json_field_string(struct json_writer *w, const char *key, const char *s);
void json_field_double(struct json_writer *w, const char *key, double v);
void json_field_double_digits(struct json_writer *w, const char *key, double v,
			      int significant_digits);
void json_field_float(struct json_writer *w, const char *key, float v);
void json_field_int(struct json_writer *w, const char *key, int64_t v);
void json_field_uint(struct json_writer *w, const char *key, uint64_t v);
void json_field_bool(struct json_writer *w, const char *key, bool v);
void json_field_time_ms(struct json_writer *w, const char *key, int64_t unix_ms);

/*
 * Checks the result. Returns AUSCULT_OK with *len_out (may be NULL) = strlen(buf) (for a
 * file: the bytes written) when one complete value fitted; AUSCULT_ERR_NOMEM when it did not
 * fit (err says how many bytes it needs); AUSCULT_ERR_INVALID on misuse (err names it);
 * AUSCULT_ERR_IO when a write to the file failed (err has the errno text; a failure that only
 * shows when the caller flushes the stream is the caller's to check). On failure buf holds a
 * truncated, NUL-terminated prefix that must not be sent.
 */
int json_writer_finish(struct json_writer *w, size_t *len_out, struct auscult_err *err);

#endif
