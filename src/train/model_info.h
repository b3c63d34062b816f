/* model_info.h - describing a model for people (text) and programs (JSON). */
#ifndef AUSCULT_MODEL_INFO_H
#define AUSCULT_MODEL_INFO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/model.h"

/* Weights plus biases of all layers. */
uint64_t model_param_count(const struct model *m);

/*
 * Writes the widths "640-128-128-128-128-8-128-128-128-128-640" (the input width, then each
 * layer's output width) into buf, NUL-terminated and cut short ("...") if size is too small.
 */
void model_architecture(const struct model *m, char *buf, size_t size);

/* Formats created_unix_s as ISO 8601 UTC ("2024-05-01T12:00:00Z") into buf (>= 32 bytes). */
void model_format_time_utc(int64_t unix_s, char *buf, size_t size);

/* The figures of a training curve people look at first. */
struct model_curve_summary {
	uint32_t n_epochs; /* 0: no curve recorded; nothing else is set */
	float train_first, train_best, train_last;
	uint32_t train_best_epoch; /* 1-based */
	uint32_t n_val;            /* epochs with a validation loss (not NaN); 0: none held out */
	float val_first, val_best, val_last; /* over those epochs */
	uint32_t val_best_epoch;             /* 1-based */
};

/* Summarises m's training curve into s (s->n_epochs 0 when there is none). */
void model_curve_summarise(const struct model *m, struct model_curve_summary *s);

/*
 * Writes the curve's one-line summary (no label, no newline) into buf, NUL-terminated and cut
 * short if size is too small: "100 epochs; training loss first 1.2, best 0.43 (epoch 97), last
 * 0.44; validation loss first 1.3, best 0.5 (epoch 88), last 0.52", or MODEL_CURVE_ABSENT.
 */
void model_curve_summary_text(const struct model *m, char *buf, size_t size);

/* What info says of a model without a curve. */
#define MODEL_CURVE_ABSENT "not recorded (trained before auscult 0.2 or by an older build)"

/*
 * Prints everything the model holds, one labelled line per topic: features, frame masks,
 * standardisation, band weights, aggregation, architecture with activations and parameter count,
 * threshold fit, training metadata and a summary of the training curve. path (may be NULL) is printed as the model's name.
 */
void model_info_print(FILE *out, const struct model *m, const char *path);

/* The same as one JSON object on one line (then a newline); NaN and infinities become null. The
 * training curve is there in full ("training_curve": per-epoch losses, or null). */
void model_info_print_json(FILE *out, const struct model *m, const char *path);

#endif
