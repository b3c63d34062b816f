/* rate_converter.c - streaming mono float32 sample-rate conversion (libsoxr), allocation-free. */
#include "audio/rate_converter.h"

#include <soxr.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * libsoxr's high-quality recipe (20-bit precision) with the pass band widened from its 0.913 to
 * 0.97 of the new Nyquist frequency. bench/bench_resample measured, for 48, 44.1 and 22.05 kHz
 * -> 16 kHz: flat (-0.1 dB) to 7.80 kHz, -3 dB at 7.86 kHz, sines at 8.5-12 kHz rejected by
 * 135-138 dB, 0.16-0.26 ms of a core per second of audio. The model's top mel band is 7.6-8 kHz:
 * libsamplerate's SINC_FASTEST (-3 dB at 6.4 kHz, 2.5-4 ms/s) emptied it, and the model, which
 * had never seen it empty, alarmed on every normal sound. SINC_BEST reaches 7.69 kHz at 20-36
 * ms/s. A 0.95 band (sox's default) raised the demo's scores by 1.3 % against the 16 kHz
 * original, 0.97 by 0.2 %; 0.99 gains 0.2 % more for 2-3 times the CPU.
 */
#define CONVERTER_RECIPE SOXR_HQ

#define CONVERTER_BLOCK RATE_CONVERTER_BLOCK
/* Silence the warm-up converts: at least this many blocks. */
#define CONVERTER_WARM_BLOCKS 48u

static soxr_t converter_create(uint32_t in_hz, uint32_t out_hz, soxr_error_t *e)
{
	soxr_quality_spec_t q = soxr_quality_spec(CONVERTER_RECIPE, 0);
	q.passband_end = RATE_CONVERTER_PASSBAND;
	/* One thread: one monitor's conversion is far too small to share out. */
	soxr_runtime_spec_t rt = soxr_runtime_spec(1);
	*e = NULL;
	return soxr_create((double)in_hz, (double)out_hz, 1, e, NULL, &q, &rt);
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * Runs silence through c so that libsoxr designs its filters and grows its FIFOs now. A FIFO of
 * libsoxr grows when a block does not fit behind what it holds, so the warm-up gives it the
 * mixes a reader makes: full and odd-sized blocks, output taken in full or held back (a reader
 * with a small buffer), then drained. The silence lasts a whole number of periods of the ratio,
 * so its output is a whole number of samples: those not out yet are dropped later.
 */
static int converter_warm_up(struct rate_converter *c, struct auscult_err *err)
{
	soxr_t s = c->soxr;
	uint64_t period = c->in_hz / gcd_u64(c->in_hz, c->out_hz);
	uint64_t total = (CONVERTER_WARM_BLOCKS * CONVERTER_BLOCK + period - 1) / period * period;
	size_t out_cap = (size_t)((uint64_t)CONVERTER_BLOCK * c->out_hz / c->in_hz) * 8 + 64;
	float *in = calloc(CONVERTER_BLOCK, sizeof(float));
	float *out = malloc(out_cap * sizeof(float));
	uint64_t fed = 0, made_total = 0, timed = 0;
	double t0 = 0.0;
	int rc = AUSCULT_OK;
	if (!in || !out) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "rate converter: out of memory");
		goto done;
	}
	for (unsigned i = 0; fed < total; i++) {
		size_t take = i % 3 == 1 ? 1 + (size_t)i * 1409 % CONVERTER_BLOCK : CONVERTER_BLOCK;
		if (take > total - fed)
			take = (size_t)(total - fed);
		size_t room = i % 4 >= 2 ? 1 : out_cap;
		size_t used = 0, made = 0;
		soxr_error_t e = soxr_process(s, in, take, &used, out, room, &made);
		if (e) {
			rc = auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
					  "rate converter: %u Hz to %u "
					  "Hz: libsoxr: %s",
					  c->in_hz, c->out_hz, e);
			goto done;
		}
		fed += used;
		made_total += made;
		/* The first block designs the filters: a cost of the open, not of the stream. */
		if (i == 0)
			t0 = thread_cpu_s();
		else
			timed += used;
		if (i % 4 != 3)
			continue;
		/* Drain what was held back. */
		for (;;) {
			if (soxr_process(s, in, 0, &used, out, out_cap, &made) || made == 0)
				break;
			made_total += made;
		}
	}
	for (;;) {
		size_t used = 0, made = 0;
		if (soxr_process(s, in, 0, &used, out, out_cap, &made) || made == 0)
			break;
		made_total += made;
	}
	/* libsoxr's work does not depend on the samples: silence costs what sound does. */
	if (timed > 0)
		c->cost_share = (thread_cpu_s() - t0) / ((double)timed / c->in_hz);
	uint64_t due = total * c->out_hz / c->in_hz;
	c->skip_out = due > made_total ? due - made_total : 0;
done:
	free(in);
	free(out);
	return rc;
}

int rate_converter_init(struct rate_converter *c, uint32_t in_hz, uint32_t out_hz,
			struct auscult_err *err)
{
	memset(c, 0, sizeof(*c));
	if (in_hz == 0 || out_hz == 0 || (double)out_hz / in_hz < 1.0 / 256.0 ||
	    (double)out_hz / in_hz > 256.0)
		return auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
				    "cannot convert %u Hz to %u Hz "
				    "(ratio beyond 1/256..256)",
				    in_hz, out_hz);
	c->in_hz = in_hz;
	c->out_hz = out_hz;
	soxr_error_t e = NULL;
	c->soxr = converter_create(in_hz, out_hz, &e);
	if (!c->soxr)
		return auscult_fail(err, AUSCULT_ERR_NOMEM,
				    "cannot start the rate converter "
				    "(libsoxr: %s)",
				    e ? e : "out of memory");
	int rc = converter_warm_up(c, err);
	if (rc != AUSCULT_OK)
		rate_converter_free(c);
	return rc;
}

size_t rate_converter_process(struct rate_converter *c, const float *in, size_t n_in, size_t *used,
			      float *out, size_t max_out)
{
	static const float nothing[1];
	size_t made = 0;
	*used = 0;
	for (;;) {
		size_t took = 0;
		/* libsoxr reads a NULL input as the end; no new input is an empty one. */
		const float *p = in ? (n_in > 0 ? in : nothing) : NULL;
		if (soxr_process(c->soxr, p, in ? n_in : 0, in ? &took : NULL, out, max_out, &made))
			return 0;
		*used += took;
		n_in -= took;
		if (in)
			in += took;
		if (c->skip_out == 0 || made == 0)
			return made;
		size_t drop = made < c->skip_out ? made : (size_t)c->skip_out;
		c->skip_out -= drop;
		if (drop < made) {
			memmove(out, out + drop, (made - drop) * sizeof(float));
			return made - drop;
		}
		/* All dropped: go on, with what input is left, for samples of the signal. */
	}
}

void rate_converter_free(struct rate_converter *c)
{
	if (!c)
		return;
	if (c->soxr)
		soxr_delete(c->soxr);
	c->soxr = NULL;
}
