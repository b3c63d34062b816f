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

/*
 * Prints everything the model holds, one labelled line per topic: features, frame masks,
 * standardisation, band weights, aggregation, architecture with activations and parameter count,
 * threshold fit, training metadata. path (may be NULL) is printed as the model's name.
 */
void model_info_print(FILE *out, const struct model *m, const char *path);

/* The same as one JSON object on one line (then a newline); NaN and infinities become null. */
void model_info_print_json(FILE *out, const struct model *m, const char *path);

#endif
