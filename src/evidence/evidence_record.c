/* evidence_record.c - the evidence sidecar: a versioned, line-oriented text record.
 *
 * The format, version 3 (one "key value" per line, in this order, '\n' line ends):
 *   auscult-evidence 3
 *   monitor NAME
 *   event_id NAME
 *   audio_file NAME
 *   image_file NAME            "-" when no image was made
 *   audio_start_ms INT         unix ms of the audio file's first sample
 *   sample_rate INT            Hz
 *   n_samples INT
 *   start_ms INT               the anomaly, unix ms
 *   end_ms INT
 *   peak FLOAT
 *   mean FLOAT
 *   threshold FLOAT
 *   bands N                    then N lines: band INDEX HZ_LOW HZ_HIGH SHARE
 *   parts N                    then N lines: part NAME VALUE, NAME one of network,
 *                              window_head, rise, each at most once (not in version 1,
 *                              which this build still reads)
 *   rise_heads N               then N lines: rise_head NAME VALUE HZ BAND_LO BAND_HI, NAME
 *                              one of envelope, tones, impulses, bursts, each at most once: the rise
 *                              part by the head that added it, and where it heard most
 *                              (detector_rise_at; "nan": none) (not in versions 1 and 2,
 *                              which this build still reads)
 *   windows N                  then N lines: window T_S RAW SMOOTHED STATE
 *                              (RAW, SMOOTHED "nan": none, an idle window)
 *   end
 * NAMEs are one token of printable bytes without '/', not starting with '.', so a record can
 * only name files in its own folder. Floats are written with 9 significant digits (a float
 * reads back bit for bit). Text, so that a person can read it and a shell script can grep it.
 */
#include "evidence/evidence_record.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/regular_file.h"

#define RECORD_MAGIC "auscult-evidence"
#define RECORD_VERSION 3
#define RECORD_VERSION_MIN 1 /* version 1: no parts; version 2: no rise heads */
#define RECORD_LINE_MAX 512
/* A 120 s span at a 0.1 s hop is 1200 windows; this bounds what a bad file can allocate. */
#define RECORD_WINDOWS_MAX 1000000u
#define RECORD_RATE_MAX 768000u
#define RECORD_MELS_MAX 512u
#define RECORD_NO_IMAGE "-"

/* A NAME as the format allows it: 1..EVIDENCE_RECORD_NAME_MAX-1 printable bytes, no '/', no
 * leading '.', no spaces. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= EVIDENCE_RECORD_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '/')
			return 0;
	}
	return 1;
}

static int check_record(const char *path, const struct evidence_record *r, struct auscult_err *err)
{
	const char *bad = NULL;
	if (!name_ok(r->monitor))
		bad = "monitor";
	else if (!name_ok(r->event_id))
		bad = "event_id";
	else if (!name_ok(r->audio_file))
		bad = "audio_file";
	else if (r->image_file[0] &&
		 (!name_ok(r->image_file) || strcmp(r->image_file, RECORD_NO_IMAGE) == 0))
		bad = "image_file";
	if (bad)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: %s must be one name without spaces, '/' or a leading '.'",
				    path, bad);
	if (r->sample_rate == 0 || r->sample_rate > RECORD_RATE_MAX)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: sample_rate %" PRIu32 " is out of range [1, %u]", path,
				    r->sample_rate, RECORD_RATE_MAX);
	if (r->end_ms < r->start_ms)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: end_ms %" PRId64 " is before start_ms %" PRId64, path,
				    r->end_ms, r->start_ms);
	if (r->n_bands > DETECTOR_TOP_BANDS)
		return auscult_fail(err, AUSCULT_ERR_INVALID, "%s: %" PRIu32 " bands, at most %d",
				    path, r->n_bands, DETECTOR_TOP_BANDS);
	if (r->n_windows > RECORD_WINDOWS_MAX || (r->n_windows && !r->windows))
		return auscult_fail(err, AUSCULT_ERR_INVALID, "%s: %zu windows, at most %u", path,
				    r->n_windows, RECORD_WINDOWS_MAX);
	if (!isfinite(r->peak) || !isfinite(r->mean) || !isfinite(r->threshold))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: peak, mean and threshold must "
				    "be finite",
				    path);
	if (r->parts_seen >> DETECTOR_N_PARTS)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: parts_seen 0x%" PRIx32 " names parts that do not exist",
				    path, r->parts_seen);
	for (int k = 0; k < DETECTOR_N_PARTS; k++)
		if ((r->parts_seen & (1u << k)) && !isfinite(r->parts.v[k]))
			return auscult_fail(err, AUSCULT_ERR_INVALID, "%s: part %s must be finite",
					    path, detector_part_name((enum detector_part)k));
	if (r->rise_seen >> DETECTOR_N_RISE_HEADS)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "%s: rise_seen 0x%" PRIx32
				    " names rise heads that do not exist",
				    path, r->rise_seen);
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++)
		if ((r->rise_seen & (1u << h)) &&
		    (!isfinite(r->parts.rise[h]) || isinf(r->parts.at[h].hz) ||
		     isinf(r->parts.at[h].band_lo_hz) || isinf(r->parts.at[h].band_hi_hz)))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "%s: rise head %s must be finite (its place NaN or "
					    "finite)",
					    path,
					    detector_rise_head_name((enum detector_rise_head)h));
	for (size_t i = 0; i < r->n_windows; i++) {
		const struct evidence_window *w = &r->windows[i];
		if (!isfinite(w->t_s) || isinf(w->raw) || isinf(w->smoothed) ||
		    w->state >= DETECTOR_STATE_COUNT)
			return auscult_fail(
				err, AUSCULT_ERR_INVALID,
				"%s: window %zu has an infinite score, a time that is not finite or a "
				"state out of range",
				path, i);
		if (i > 0 && !(w->t_s > r->windows[i - 1].t_s))
			return auscult_fail(err, AUSCULT_ERR_INVALID,
					    "%s: window %zu is not after window %zu", path, i,
					    i - 1);
	}
	return AUSCULT_OK;
}

/* A window score as written: 9 significant digits, or "nan" for none (printf may say "-nan"). */
static void score_text(char *buf, size_t cap, float v)
{
	if (isnan(v))
		snprintf(buf, cap, "nan");
	else
		snprintf(buf, cap, "%.9g", (double)v);
}

int evidence_record_write(const char *path, const struct evidence_record *r,
			  struct auscult_err *err)
{
	int rc = check_record(path, r, err);
	if (rc != AUSCULT_OK)
		return rc;
	struct atomic_file af;
	if ((rc = atomic_file_open(&af, path, "the evidence record", err)) != AUSCULT_OK)
		return rc;
	FILE *f = af.fp;
	fprintf(f, "%s %d\n", RECORD_MAGIC, RECORD_VERSION);
	fprintf(f, "monitor %s\nevent_id %s\naudio_file %s\nimage_file %s\n", r->monitor,
		r->event_id, r->audio_file, r->image_file[0] ? r->image_file : RECORD_NO_IMAGE);
	fprintf(f, "audio_start_ms %" PRId64 "\nsample_rate %" PRIu32 "\nn_samples %" PRIu64 "\n",
		r->audio_start_ms, r->sample_rate, r->n_samples);
	fprintf(f, "start_ms %" PRId64 "\nend_ms %" PRId64 "\n", r->start_ms, r->end_ms);
	fprintf(f, "peak %.9g\nmean %.9g\nthreshold %.9g\n", (double)r->peak, (double)r->mean,
		(double)r->threshold);
	fprintf(f, "bands %" PRIu32 "\n", r->n_bands);
	for (uint32_t b = 0; b < r->n_bands; b++)
		fprintf(f, "band %" PRIu32 " %.9g %.9g %.9g\n", r->bands[b].band,
			(double)r->bands[b].hz_low, (double)r->bands[b].hz_high,
			(double)r->bands[b].share);
	fprintf(f, "parts %d\n", __builtin_popcount(r->parts_seen));
	for (int k = 0; k < DETECTOR_N_PARTS; k++)
		if (r->parts_seen & (1u << k))
			fprintf(f, "part %s %.9g\n", detector_part_name((enum detector_part)k),
				(double)r->parts.v[k]);
	fprintf(f, "rise_heads %d\n", __builtin_popcount(r->rise_seen));
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++) {
		if (!(r->rise_seen & (1u << h)))
			continue;
		const struct detector_rise_at *at = &r->parts.at[h];
		char hz[32], lo[32], hi[32];
		score_text(hz, sizeof(hz), at->hz);
		score_text(lo, sizeof(lo), at->band_lo_hz);
		score_text(hi, sizeof(hi), at->band_hi_hz);
		fprintf(f, "rise_head %s %.9g %s %s %s\n",
			detector_rise_head_name((enum detector_rise_head)h),
			(double)r->parts.rise[h], hz, lo, hi);
	}
	fprintf(f, "windows %zu\n", r->n_windows);
	for (size_t i = 0; i < r->n_windows; i++) {
		const struct evidence_window *w = &r->windows[i];
		char raw[32], smoothed[32];
		score_text(raw, sizeof(raw), w->raw);
		score_text(smoothed, sizeof(smoothed), w->smoothed);
		fprintf(f, "window %.17g %s %s %u\n", w->t_s, raw, smoothed, (unsigned)w->state);
	}
	fputs("end\n", f);
	return atomic_file_commit(&af, err);
}

/* ---- reading: every line is checked, and a fault names path:line ---- */

struct reader {
	FILE *f;
	const char *path;
	unsigned line_no;
	char line[RECORD_LINE_MAX + 2];
	char *value; /* after "key ", in line */
	struct auscult_err *err;
};

/* Reads the next line, which must be "key value" (or just "key" when want_value is 0). */
static int expect(struct reader *rd, const char *key, int want_value)
{
	rd->line_no++;
	if (!fgets(rd->line, sizeof(rd->line), rd->f)) {
		if (ferror(rd->f))
			return auscult_fail(rd->err, AUSCULT_ERR_IO, "%s:%u: cannot read: %s",
					    rd->path, rd->line_no, strerror(errno));
		return auscult_fail(rd->err, AUSCULT_ERR_TRUNCATED,
				    "%s:%u: the record ends before '%s': it is incomplete; the "
				    "daemon writes records whole, so it was cut or edited",
				    rd->path, rd->line_no, key);
	}
	size_t n = strlen(rd->line);
	if (n == 0 || rd->line[n - 1] != '\n') {
		if (n > RECORD_LINE_MAX)
			return auscult_fail(rd->err, AUSCULT_ERR_FORMAT,
					    "%s:%u: line longer than %d bytes", rd->path,
					    rd->line_no, RECORD_LINE_MAX);
		return auscult_fail(rd->err, AUSCULT_ERR_TRUNCATED,
				    "%s:%u: the last line has no end: the record is incomplete",
				    rd->path, rd->line_no);
	}
	rd->line[n - 1] = '\0';
	if (strlen(rd->line) != n - 1)
		return auscult_fail(rd->err, AUSCULT_ERR_FORMAT, "%s:%u: a NUL byte in the line",
				    rd->path, rd->line_no);
	size_t klen = strlen(key);
	int key_ok = strncmp(rd->line, key, klen) == 0 &&
		     (want_value ? rd->line[klen] == ' ' : rd->line[klen] == '\0');
	if (!key_ok) {
		size_t shown = strcspn(rd->line, " ");
		return auscult_fail(rd->err, AUSCULT_ERR_FORMAT,
				    "%s:%u: expected '%s%s', found '%.*s'", rd->path, rd->line_no,
				    key, want_value ? " VALUE" : "", (int)(shown > 40 ? 40 : shown),
				    rd->line);
	}
	rd->value = rd->line + klen + (want_value ? 1 : 0);
	return AUSCULT_OK;
}

static int bad_value(struct reader *rd, const char *what)
{
	return auscult_fail(rd->err, AUSCULT_ERR_FORMAT, "%s:%u: '%.60s' is not %s", rd->path,
			    rd->line_no, rd->value, what);
}

static int read_name(struct reader *rd, const char *key, char *out, int may_be_none)
{
	int rc = expect(rd, key, 1);
	if (rc != AUSCULT_OK)
		return rc;
	if (may_be_none && strcmp(rd->value, RECORD_NO_IMAGE) == 0) {
		out[0] = '\0';
		return AUSCULT_OK;
	}
	if (!name_ok(rd->value))
		return bad_value(rd, "a name (printable, no spaces or '/', no leading '.')");
	snprintf(out, EVIDENCE_RECORD_NAME_MAX, "%s", rd->value);
	return AUSCULT_OK;
}

/* One signed integer token in [lo, hi], ending at *end (space or NUL). */
static int int_token(const char *s, const char **end, int64_t lo, int64_t hi, int64_t *out)
{
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (errno || e == s || (*e != ' ' && *e != '\0') || v < lo || v > hi)
		return -1;
	*out = v;
	*end = e;
	return 0;
}

/* One finite float token, ending at *end. */
static int float_token(const char *s, const char **end, double *out)
{
	if (!(*s == '-' || *s == '.' || (*s >= '0' && *s <= '9')))
		return -1;
	char *e;
	errno = 0;
	double v = strtod(s, &e);
	if (errno || e == s || (*e != ' ' && *e != '\0') || !isfinite(v) || fabs(v) > 3.4e38)
		return -1;
	*out = v;
	*end = e;
	return 0;
}

static int read_int(struct reader *rd, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	int rc = expect(rd, key, 1);
	const char *e;
	if (rc == AUSCULT_OK && (int_token(rd->value, &e, lo, hi, out) != 0 || *e))
		rc = bad_value(rd, "an integer in range");
	return rc;
}

static int read_float(struct reader *rd, const char *key, float *out)
{
	int rc = expect(rd, key, 1);
	const char *e;
	double v = 0.0; /* set when float_token succeeds; GCC -O2 cannot tell */
	if (rc == AUSCULT_OK && (float_token(rd->value, &e, &v) != 0 || *e))
		rc = bad_value(rd, "a finite number");
	if (rc == AUSCULT_OK)
		*out = (float)v;
	return rc;
}

/* "band INDEX HZ_LOW HZ_HIGH SHARE" */
static int read_band(struct reader *rd, struct detector_band *b)
{
	int rc = expect(rd, "band", 1);
	if (rc != AUSCULT_OK)
		return rc;
	const char *s = rd->value;
	int64_t idx;
	double lo, hi, share;
	if (int_token(s, &s, 0, RECORD_MELS_MAX - 1, &idx) != 0 || *s++ != ' ' ||
	    float_token(s, &s, &lo) != 0 || *s++ != ' ' || float_token(s, &s, &hi) != 0 ||
	    *s++ != ' ' || float_token(s, &s, &share) != 0 || *s)
		return bad_value(rd, "'INDEX HZ_LOW HZ_HIGH SHARE'");
	if (lo < 0.0 || !(hi > lo) || share < 0.0 || share > 1.0)
		return bad_value(rd, "a band with 0 <= HZ_LOW < HZ_HIGH and SHARE in [0, 1]");
	*b = (struct detector_band){ (uint32_t)idx, (float)lo, (float)hi, (float)share };
	return AUSCULT_OK;
}

/* A window score: a finite number, or "nan" for none. */
static int score_token(const char *s, const char **end, double *out)
{
	if (strncmp(s, "nan", 3) == 0 && (s[3] == ' ' || s[3] == '\0')) {
		*out = NAN;
		*end = s + 3;
		return 0;
	}
	return float_token(s, end, out);
}

/*
 * "KEY NAME VALUE": one of the event's terms first .. first + n - 1 (detect/detector.h: a part,
 * or a rise head), each named once: *seen gets its bit (from bit 0 for term first). names lists
 * them for the message.
 */
static int read_term(struct reader *rd, const char *key, int first, int n, uint32_t *seen,
		     struct detector_parts *parts, const char *names)
{
	int rc = expect(rd, key, 1);
	if (rc != AUSCULT_OK)
		return rc;
	const char *s = rd->value;
	size_t len = strcspn(s, " ");
	int k = 0;
	while (k < n && !(strlen(detector_term_name(first + k)) == len &&
			  strncmp(s, detector_term_name(first + k), len) == 0))
		k++;
	/* a rise head's place after its value: HZ BAND_LO BAND_HI, each a number or nan */
	const int rise = first >= DETECTOR_N_PARTS;
	double v, at[3] = { NAN, NAN, NAN };
	const char *e;
	int bad = k == n || s[len] != ' ' || float_token(s + len + 1, &e, &v) != 0;
	for (int i = 0; rise && i < 3 && !bad; i++)
		bad = *e++ != ' ' || score_token(e, &e, &at[i]) != 0;
	if (bad || *e) {
		char want[128];
		snprintf(want, sizeof(want), "'NAME VALUE%s' (NAME %s)",
			 rise ? " HZ BAND_LO BAND_HI" : "", names);
		return bad_value(rd, want);
	}
	if (*seen & (1u << k))
		return bad_value(rd, "a NAME not named before");
	if (first + k < DETECTOR_N_PARTS)
		parts->v[first + k] = (float)v;
	else {
		parts->rise[first + k - DETECTOR_N_PARTS] = (float)v;
		parts->at[first + k - DETECTOR_N_PARTS] =
			(struct detector_rise_at){ (float)at[0], (float)at[1], (float)at[2] };
	}
	*seen |= 1u << k;
	return AUSCULT_OK;
}

/* "window T_S RAW SMOOTHED STATE", T_S after the previous window's. */
static int read_window(struct reader *rd, struct evidence_window *w, const double *prev_t_s)
{
	int rc = expect(rd, "window", 1);
	if (rc != AUSCULT_OK)
		return rc;
	const char *s = rd->value;
	double t, raw, smoothed;
	int64_t state;
	if (float_token(s, &s, &t) != 0 || *s++ != ' ' || score_token(s, &s, &raw) != 0 ||
	    *s++ != ' ' || score_token(s, &s, &smoothed) != 0 || *s++ != ' ' ||
	    int_token(s, &s, 0, DETECTOR_STATE_COUNT - 1, &state) != 0 || *s)
		return bad_value(rd, "'T_S RAW SMOOTHED STATE' (STATE 0..4)");
	if (prev_t_s && !(t > *prev_t_s))
		return auscult_fail(rd->err, AUSCULT_ERR_FORMAT,
				    "%s:%u: window at %g s is not after the one before (%g s): "
				    "windows must be in time order",
				    rd->path, rd->line_no, t, *prev_t_s);
	*w = (struct evidence_window){ t, (float)raw, (float)smoothed, (uint8_t)state };
	return AUSCULT_OK;
}

static int read_body(struct reader *rd, struct evidence_record *r)
{
	int rc = expect(rd, RECORD_MAGIC, 1);
	if (rc != AUSCULT_OK) {
		if (rc == AUSCULT_ERR_FORMAT)
			auscult_fail(rd->err, rc,
				     "%s:1: not an auscult evidence record (no '%s' line)",
				     rd->path, RECORD_MAGIC);
		return rc;
	}
	const char *e;
	int64_t version, v;
	if (int_token(rd->value, &e, 0, INT32_MAX, &version) != 0 || *e)
		return bad_value(rd, "a version number");
	if (version < RECORD_VERSION_MIN || version > RECORD_VERSION)
		return auscult_fail(rd->err, AUSCULT_ERR_VERSION,
				    "%s:1: record version %" PRId64
				    ", this build reads versions %d "
				    "to %d; update auscult",
				    rd->path, version, RECORD_VERSION_MIN, RECORD_VERSION);
	if ((rc = read_name(rd, "monitor", r->monitor, 0)) ||
	    (rc = read_name(rd, "event_id", r->event_id, 0)) ||
	    (rc = read_name(rd, "audio_file", r->audio_file, 0)) ||
	    (rc = read_name(rd, "image_file", r->image_file, 1)))
		return rc;
	if ((rc = read_int(rd, "audio_start_ms", INT64_MIN, INT64_MAX, &r->audio_start_ms)))
		return rc;
	if ((rc = read_int(rd, "sample_rate", 1, RECORD_RATE_MAX, &v)))
		return rc;
	r->sample_rate = (uint32_t)v;
	if ((rc = read_int(rd, "n_samples", 0, INT64_MAX, &v)))
		return rc;
	r->n_samples = (uint64_t)v;
	if ((rc = read_int(rd, "start_ms", INT64_MIN, INT64_MAX, &r->start_ms)) ||
	    (rc = read_int(rd, "end_ms", r->start_ms, INT64_MAX, &r->end_ms)))
		return rc;
	if ((rc = read_float(rd, "peak", &r->peak)) || (rc = read_float(rd, "mean", &r->mean)) ||
	    (rc = read_float(rd, "threshold", &r->threshold)))
		return rc;
	if ((rc = read_int(rd, "bands", 0, DETECTOR_TOP_BANDS, &v)))
		return rc;
	r->n_bands = (uint32_t)v;
	for (uint32_t b = 0; b < r->n_bands; b++)
		if ((rc = read_band(rd, &r->bands[b])))
			return rc;
	for (int k = 0; k < DETECTOR_N_PARTS; k++)
		r->parts.v[k] = NAN;
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++) {
		r->parts.rise[h] = NAN;
		r->parts.at[h] = (struct detector_rise_at){ NAN, NAN, NAN };
	}
	if (version >= 2) {
		if ((rc = read_int(rd, "parts", 0, DETECTOR_N_PARTS, &v)))
			return rc;
		for (int64_t k = 0; k < v; k++)
			if ((rc = read_term(rd, "part", 0, DETECTOR_N_PARTS, &r->parts_seen,
					    &r->parts, "network, window_head or rise")))
				return rc;
	}
	if (version >= 3) {
		if ((rc = read_int(rd, "rise_heads", 0, DETECTOR_N_RISE_HEADS, &v)))
			return rc;
		for (int64_t k = 0; k < v; k++)
			if ((rc = read_term(rd, "rise_head", DETECTOR_N_PARTS,
					    DETECTOR_N_RISE_HEADS, &r->rise_seen, &r->parts,
					    "envelope, tones, impulses or bursts")))
				return rc;
	}
	if ((rc = read_int(rd, "windows", 0, RECORD_WINDOWS_MAX, &v)))
		return rc;
	if (v > 0 && !(r->windows = calloc((size_t)v, sizeof(*r->windows))))
		return auscult_fail(rd->err, AUSCULT_ERR_NOMEM, "%s:%u: out of memory", rd->path,
				    rd->line_no);
	for (size_t i = 0; i < (size_t)v; i++) {
		if ((rc = read_window(rd, &r->windows[i], i ? &r->windows[i - 1].t_s : NULL)))
			return rc;
		r->n_windows = i + 1;
	}
	if ((rc = expect(rd, "end", 0)))
		return rc;
	char extra[2];
	if (fgets(extra, sizeof(extra), rd->f))
		return auscult_fail(rd->err, AUSCULT_ERR_FORMAT,
				    "%s:%u: text after 'end': the record was edited or appended to",
				    rd->path, rd->line_no + 1);
	return AUSCULT_OK;
}

int evidence_record_read(const char *path, struct evidence_record *r, struct auscult_err *err)
{
	memset(r, 0, sizeof(*r));
	int status = AUSCULT_OK;
	int fd = regular_file_open(path, "an evidence record (.txt)", NULL, &status, err);
	if (fd < 0)
		return status ? status : AUSCULT_ERR_IO;
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		int rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	struct reader rd = { .f = f, .path = path, .err = err };
	int rc = read_body(&rd, r);
	fclose(f);
	return rc;
}

void evidence_record_free(struct evidence_record *r)
{
	if (!r)
		return;
	free(r->windows);
	memset(r, 0, sizeof(*r));
}
