/* report_page.h - the self-contained HTML page of `auscult report`: one section per anomaly or
 * clip, with its audio, spectrogram and score timeline. */
#ifndef AUSCULT_REPORT_PAGE_H
#define AUSCULT_REPORT_PAGE_H

#include <stddef.h>
#include <stdio.h>

#include "common/status.h"
#include "evidence/evidence_record.h"

/* One section of the page. Pointers are borrowed for the duration of the call. */
struct report_item {
	const struct evidence_record *rec; /* what is shown; NULL: the source failed (error) */
	const char *source;                /* the record or clip path, as given */
	const char *error;                 /* rec == NULL: why the source could not be shown */
	const char *audio_href;            /* path of the audio relative to the page, or NULL */
	const char *image_href;            /* path of the PNG relative to the page, or NULL */
	const char *image_embed;           /* a PNG file embedded as a data: URI instead, or NULL */
	double clip_score;                 /* the clip's score (offline clips); NaN: none */
};

/* The model's training curve, shown above the recordings (report --model). */
struct report_curve {
	const char *model_name; /* the model file's name, for "no training curve recorded in" */
	const char *summary;    /* one line of figures (model_curve_summary_text); escaped */
	const float *train_loss, *val_loss; /* n_epochs each; n_epochs 0: none recorded */
	size_t n_epochs;
};

struct report_page {
	const char *title;   /* the page's heading; escaped on output */
	const char *summary; /* one line under it ("3 anomalies in evidence/"); escaped */
	const struct report_curve *curve; /* NULL: no model, no curve section */
	const struct report_item *items;
	size_t n_items;
};

/*
 * Writes the page as one HTML5 document without any network reference: the training curve (an
 * inline SVG chart, or one line saying there is none) when p->curve is set, then sections in
 * the order given, failed sources listed at the end with their error. A small inline script marks every
 * <img> and <audio> that fails to load with a visible warning, and once all have settled sets
 * document.body.dataset.mediaLoaded and .mediaErrors to their counts (what tests read).
 * Returns AUSCULT_OK, or AUSCULT_ERR_IO (the stream failed, or an image to embed cannot be read,
 * err naming it).
 */
int report_page_write(FILE *out, const struct report_page *p, struct auscult_err *err);

#endif
