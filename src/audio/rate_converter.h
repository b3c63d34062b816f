/* rate_converter.h - streaming mono float32 sample-rate conversion (libsoxr), allocation-free. */
#ifndef AUSCULT_RATE_CONVERTER_H
#define AUSCULT_RATE_CONVERTER_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

/* What converts, for logs. */
#define RATE_CONVERTER_NAME "soxr HQ, pass band 97%"

/* The share of the output's Nyquist frequency passed flat (rate_converter.c has the measures):
 * a feature above it differs between a microphone at the model's rate and one converted to it. */
#define RATE_CONVERTER_PASSBAND 0.97

/* The largest input block rate_converter_process is prepared for without allocating. */
#define RATE_CONVERTER_BLOCK 4096u

struct rate_converter {
	void *soxr;        /* the libsoxr converter */
	uint32_t in_hz;    /* input rate, Hz */
	uint32_t out_hz;   /* output rate, Hz */
	uint64_t skip_out; /* output samples of the warm-up's silence still to drop */
	double cost_share; /* CPU converting takes, fraction of one core, measured at init */
};

/*
 * Starts a converter from in_hz to out_hz (ratio within 1/256..256). Does every allocation: the
 * converter is run over silence here so that libsoxr builds its filters and sizes its buffers
 * now, and the silence's output is dropped, so the first sample out is the first of the signal
 * (as from a fresh converter); timing that run gives cost_share, the share of one core the
 * conversion takes here. Returns AUSCULT_OK, or AUSCULT_ERR_UNSUPPORTED / _NOMEM with a
 * message. c is the caller's; rate_converter_free releases what init took.
 */
int rate_converter_init(struct rate_converter *c, uint32_t in_hz, uint32_t out_hz,
			struct auscult_err *err);

/*
 * Converts: takes up to n_in samples of in (sets *used) and writes up to max_out samples to out;
 * returns how many it wrote. in NULL: the input has ended, flush what is left (0 once all is
 * out). It may take input and write nothing while its filter fills, and may hold output back
 * for the next call when max_out is small: call again with n_in 0 to collect it before giving
 * more input. With input blocks of at most RATE_CONVERTER_BLOCK samples, used that way, it never
 * allocates. One thread at a time.
 */
size_t rate_converter_process(struct rate_converter *c, const float *in, size_t n_in, size_t *used,
			      float *out, size_t max_out);

/* Releases what init took. NULL-safe; safe on a zeroed struct. */
void rate_converter_free(struct rate_converter *c);

#endif
