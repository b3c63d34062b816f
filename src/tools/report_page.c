/* report_page.c - writes the evidence report's HTML page (see report_page.h). */
#include "tools/report_page.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/regular_file.h"
#include "tools/svg_report.h"

/* The page's look: readable on a phone and a desk, no web fonts (no network). */
static const char page_style[] =
	"body{font-family:'DejaVu Sans',Arial,sans-serif;margin:0 auto;max-width:1240px;"
	"padding:12px 18px;color:#222;background:#fafafa}\n"
	"h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:0 0 8px}\n"
	".summary{color:#555;margin:0 0 16px}\n"
	"section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 14px;"
	"margin:0 0 16px}\n"
	"section.failed{border-color:#d62728;background:#fff5f5}\n"
	"table.facts{border-collapse:collapse;margin:0 0 10px;font-size:14px}\n"
	"table.facts th{text-align:left;font-weight:normal;color:#666;padding:1px 14px 1px 0}\n"
	"table.facts td{padding:1px 14px 1px 0}\n"
	"img.spectrogram{display:block;max-width:100%;image-rendering:pixelated;margin:8px 0}\n"
	"audio{display:block;width:100%;max-width:720px}\n"
	"svg.timeline,svg.training-curve{display:block;max-width:100%;height:auto}\n"
	".media-error{color:#fff;background:#d62728;padding:4px 8px;border-radius:4px;"
	"display:inline-block;margin:4px 0}\n"
	".source{color:#888;font-size:12px}\n"
	"[hidden]{display:none!important}\n";

/*
 * Counts every <img>/<audio> as loaded or failed once, marks failures visibly, and publishes the
 * counts on <body> when none is pending. An element may have settled before the script runs, so
 * the present state is checked before waiting for the events.
 */
static const char page_script[] =
	"(function(){\n"
	"var media=document.querySelectorAll('img,audio'),pending=media.length,ok=0,bad=0;\n"
	"function publish(){document.body.dataset.mediaLoaded=ok;"
	"document.body.dataset.mediaErrors=bad;\n"
	" if(bad){var b=document.getElementById('media-banner');b.hidden=false;"
	"b.textContent=bad+' of '+media.length+' images and recordings could not be loaded: '"
	"+'their files were moved or deleted.';}}\n"
	"function settle(el,good){if(el.dataset.settled)return;"
	"el.dataset.settled=good?'loaded':'error';\n"
	" if(good){ok++;}else{bad++;var w=document.createElement('div');"
	"w.className='media-error';\n"
	"  w.textContent='Cannot load '+(el.getAttribute('src')||'').slice(0,200);"
	"el.parentNode.insertBefore(w,el.nextSibling);}\n"
	" if(--pending===0)publish();}\n"
	"media.forEach(function(el){\n"
	" if(el.tagName==='IMG'){\n"
	"  if(el.complete){settle(el,el.naturalWidth>0);return;}\n"
	"  el.addEventListener('load',function(){settle(el,true);});\n"
	"  el.addEventListener('error',function(){settle(el,false);});\n"
	" }else{\n"
	"  if(el.error){settle(el,false);return;}\n"
	"  if(el.readyState>=1){settle(el,true);return;}\n"
	"  el.addEventListener('loadedmetadata',function(){settle(el,true);});\n"
	"  el.addEventListener('error',function(){settle(el,false);});\n"
	" }});\n"
	"if(pending===0)publish();\n"
	"})();\n";

/* A relative path as a URL: bytes outside the unreserved set (and '/') percent-encoded. */
static void put_url_path(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c))
			fputc(c, out);
		else
			fprintf(out, "%%%02X", c);
	}
}

static const char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A spectrogram is at most a few hundred kB; this bounds what a wrong path can pull in. */
#define EMBED_MAX_BYTES (32u << 20)

/* The file's bytes as base64 (RFC 4648, padded). */
static int put_base64_file(FILE *out, const char *path, struct auscult_err *err)
{
	int status = AUSCULT_OK;
	struct stat st;
	int fd = regular_file_open(path, "the spectrogram image", &st, &status, err);
	if (fd < 0)
		return status ? status : AUSCULT_ERR_IO;
	size_t size = (size_t)st.st_size;
	unsigned char *buf = st.st_size <= EMBED_MAX_BYTES ? malloc(size + 1) : NULL;
	size_t have = 0;
	int rc = AUSCULT_OK;
	if (!buf)
		rc = auscult_fail(err, AUSCULT_ERR_INVALID, "%s: %lld bytes: too large to embed",
				  path, (long long)st.st_size);
	while (rc == AUSCULT_OK && have < size) {
		ssize_t got = read(fd, buf + have, size - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			rc = auscult_fail(err, AUSCULT_ERR_IO, "%s: cannot read: %s", path,
					  got < 0 ? strerror(errno) : "it shrank while read");
		else
			have += (size_t)got;
	}
	close(fd);
	for (size_t i = 0; rc == AUSCULT_OK && i < size; i += 3) {
		unsigned v = (unsigned)buf[i] << 16;
		v |= i + 1 < size ? (unsigned)buf[i + 1] << 8 : 0u;
		v |= i + 2 < size ? (unsigned)buf[i + 2] : 0u;
		fputc(b64_digits[v >> 18 & 63], out);
		fputc(b64_digits[v >> 12 & 63], out);
		fputc(i + 1 < size ? b64_digits[v >> 6 & 63] : '=', out);
		fputc(i + 2 < size ? b64_digits[v & 63] : '=', out);
	}
	free(buf);
	return rc;
}

static void put_utc(FILE *out, int64_t unix_ms)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	char buf[40];
	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		fputs(buf, out);
	else
		fprintf(out, "%" PRId64 " ms", unix_ms);
}

/* A row of the facts table: the value with 4 significant digits and its unit. */
static void put_fact(FILE *out, const char *name, double v, const char *unit)
{
	fprintf(out, "<tr><th>%s</th><td>%.4g%s</td></tr>\n", name, v, unit);
}

static void put_bands(FILE *out, const struct evidence_record *r)
{
	fputs("<tr><th>contributing bands</th><td class=\"bands\">", out);
	if (r->n_bands == 0)
		fputs("none recorded", out);
	for (uint32_t b = 0; b < r->n_bands; b++)
		fprintf(out, "%smel %" PRIu32 " (%.0f\xe2\x80\x93%.0f Hz, %.0f%%)", b ? ", " : "",
			r->bands[b].band, (double)r->bands[b].hz_low, (double)r->bands[b].hz_high,
			100.0 * r->bands[b].share);
	fputs("</td></tr>\n", out);
}

/* The rise heads' shares of their part, largest first, and where each heard most: " (tones 17
 * at 3125 Hz, impulses 4.14 at 6.84/s, envelope 2.65 at 3.91/s in 500-1000 Hz, bursts 3.2 in
 * 406-438 Hz)"; records
 * before version 3 have none. */
static void put_rise_heads(FILE *out, const struct evidence_record *r)
{
	int order[DETECTOR_N_RISE_HEADS] = { 0 }, n = 0;
	for (int h = 0; h < DETECTOR_N_RISE_HEADS; h++) {
		if (!(r->rise_seen & (1u << h)))
			continue;
		int i = n++;
		for (; i > 0 && r->parts.rise[order[i - 1]] < r->parts.rise[h]; i--)
			order[i] = order[i - 1];
		order[i] = h;
	}
	for (int i = 0; i < n; i++) {
		const int h = order[i];
		const struct detector_rise_at *at = &r->parts.at[h];
		fprintf(out, "%s%s %.3g", i ? ", " : " (",
			detector_rise_head_name((enum detector_rise_head)h),
			(double)r->parts.rise[h]);
		/* where: a tone's frequency, or how many times a second (and in which band); a
		 * burst's band */
		if (h == DETECTOR_RISE_TONES && isfinite(at->hz))
			fprintf(out, " at %.0f Hz", (double)at->hz);
		else if (isfinite(at->hz))
			fprintf(out, " at %.3g/s", (double)at->hz);
		if (isfinite(at->band_lo_hz) && isfinite(at->band_hi_hz))
			fprintf(out, " in %.0f\xe2\x80\x93%.0f Hz", (double)at->band_lo_hz,
				(double)at->band_hi_hz);
	}
	if (n)
		fputs(")", out);
}

/* Which part of the detector heard the anomaly (each part's mean raw score over it); records
 * of version 1 and recordings without an anomaly have none. */
static void put_parts(FILE *out, const struct evidence_record *r)
{
	static const char *const shown[DETECTOR_N_PARTS] = {
		[DETECTOR_PART_NETWORK] = "network",
		[DETECTOR_PART_WINDOW_HEAD] = "window head",
		[DETECTOR_PART_RISE] = "rise heads",
	};
	if (!r->parts_seen)
		return;
	fputs("<tr><th>heard by</th><td class=\"parts\">", out);
	const char *sep = "";
	for (int k = 0; k < DETECTOR_N_PARTS; k++) {
		if (!(r->parts_seen & (1u << k)))
			continue;
		fprintf(out, "%s%s %.3g", sep, shown[k], (double)r->parts.v[k]);
		if (k == DETECTOR_PART_RISE)
			put_rise_heads(out, r);
		sep = ", ";
	}
	fputs("</td></tr>\n", out);
}

static int put_item(FILE *out, const struct report_item *it, size_t index, struct auscult_err *err)
{
	const struct evidence_record *r = it->rec;
	double duration_s = r->sample_rate ? (double)r->n_samples / r->sample_rate : 0.0;
	int anomaly = r->end_ms >= r->start_ms && r->start_ms != INT64_MIN;
	fprintf(out, "<section class=\"event\" id=\"item-%zu\">\n<h2>", index);
	put_utc(out, anomaly ? r->start_ms : r->audio_start_ms);
	fputs(" \xe2\x80\x94 ", out);
	svg_put_escaped(out, r->monitor);
	fputs("</h2>\n<table class=\"facts\">\n", out);
	if (!isnan(it->clip_score))
		put_fact(out, "clip score", it->clip_score, "");
	put_fact(out, "peak score", r->peak, "");
	put_fact(out, "mean score", r->mean, "");
	put_fact(out, "threshold", r->threshold, "");
	if (anomaly)
		put_fact(out, "anomaly", (double)(r->end_ms - r->start_ms) / 1000.0, " s");
	else
		fputs("<tr><th>anomaly</th><td>none</td></tr>\n", out);
	put_bands(out, r);
	put_parts(out, r);
	if (r->event_id[0]) {
		fputs("<tr><th>event</th><td>", out);
		svg_put_escaped(out, r->event_id);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
	if (it->audio_href) {
		fputs("<audio controls preload=\"metadata\" src=\"", out);
		put_url_path(out, it->audio_href);
		fputs("\"></audio>\n", out);
	}
	if (it->image_href || it->image_embed) {
		fputs("<img class=\"spectrogram\" alt=\"spectrogram (mel bands over time, the anomaly "
		      "marked red above it, the window scores under it)\" src=\"",
		      out);
		if (it->image_embed) {
			fputs("data:image/png;base64,", out);
			int rc = put_base64_file(out, it->image_embed, err);
			if (rc != AUSCULT_OK)
				return rc;
		} else {
			put_url_path(out, it->image_href);
		}
		fputs("\">\n", out);
	}
	struct svg_timeline tl = {
		.windows = r->windows,
		.n_windows = r->n_windows,
		.duration_s = duration_s,
		.span_start_s = anomaly ? (double)(r->start_ms - r->audio_start_ms) / 1000.0 : 1.0,
		.span_end_s = anomaly ? (double)(r->end_ms - r->audio_start_ms) / 1000.0 : 0.0,
		.threshold = r->threshold,
	};
	int rc = svg_timeline_write(out, &tl, err);
	fputs("<div class=\"source\">", out);
	svg_put_escaped(out, it->source);
	fputs("</div>\n</section>\n", out);
	return rc;
}

static int put_curve(FILE *out, const struct report_curve *c, struct auscult_err *err)
{
	if (c->n_epochs == 0) {
		fputs("<p class=\"curve-absent\">no training curve recorded in ", out);
		svg_put_escaped(out, c->model_name);
		fputs("</p>\n", out);
		return AUSCULT_OK;
	}
	fputs("<section class=\"curve\" id=\"training-curve\">\n<h2>Training curve of ", out);
	svg_put_escaped(out, c->model_name);
	fputs("</h2>\n<p class=\"summary\">", out);
	svg_put_escaped(out, c->summary);
	fputs("</p>\n", out);
	struct svg_curve sc = { c->train_loss, c->val_loss, c->n_epochs };
	int rc = svg_curve_write(out, &sc, err);
	fputs("</section>\n", out);
	return rc;
}

int report_page_write(FILE *out, const struct report_page *p, struct auscult_err *err)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      out);
	svg_put_escaped(out, p->title);
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", page_style);
	svg_put_escaped(out, p->title);
	fputs("</h1>\n<p class=\"summary\">", out);
	svg_put_escaped(out, p->summary);
	fputs("</p>\n<div id=\"media-banner\" class=\"media-error\" hidden></div>\n", out);
	if (p->curve) {
		int rc = put_curve(out, p->curve, err);
		if (rc != AUSCULT_OK)
			return rc;
	}
	size_t failed = 0;
	for (size_t i = 0; i < p->n_items; i++) {
		if (!p->items[i].rec) {
			failed++;
			continue;
		}
		int rc = put_item(out, &p->items[i], i, err);
		if (rc != AUSCULT_OK)
			return rc;
	}
	if (failed) {
		fprintf(out, "<section class=\"failed\">\n<h2>%zu could not be shown</h2>\n<ul>\n",
			failed);
		for (size_t i = 0; i < p->n_items; i++) {
			if (p->items[i].rec)
				continue;
			fputs("<li>", out);
			svg_put_escaped(out,
					p->items[i].error ? p->items[i].error : "unknown error");
			fputs("</li>\n", out);
		}
		fputs("</ul>\n</section>\n", out);
	}
	fprintf(out, "<script>\n%s</script>\n</body>\n</html>\n", page_script);
	if (ferror(out))
		return auscult_fail(err, AUSCULT_ERR_IO, "writing the page failed: %s",
				    strerror(errno));
	return AUSCULT_OK;
}
