/* impulse_envelope.c - the level of a signal's high frequencies over short contiguous blocks: every impact leaves its mark, however brief. */
#include "features/impulse_envelope.h"

#include <stdlib.h>
#include <string.h>

#include "features/logmel.h"

/* Below any block energy real audio gives; keeps the log finite on silence. */
#define IE_FLOOR 1e-12f

int impulse_envelope_init(struct impulse_envelope *ie, uint32_t block, uint32_t cap,
			  struct auscult_err *err)
{
	memset(ie, 0, sizeof(*ie));
	if (block < 2 || block > 65536)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "impulse_envelope: block %u is out of range [2, 65536]", block);
	if (cap < 1 || cap > 65536)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "impulse_envelope: cap %u is out of range [1, 65536]", cap);
	ie->ring = calloc(cap, sizeof(float));
	if (!ie->ring)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "impulse_envelope: out of memory");
	ie->block = block;
	ie->cap = cap;
	return AUSCULT_OK;
}

typedef float v4sf __attribute__((vector_size(16))); /* SSE2 on x86-64, NEON on aarch64 */

static inline v4sf load4(const float *p)
{
	v4sf v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* The energy of the second differences of x[i] for i in [0, n), x[-1] and x[-2] readable: eight
 * at a time in two four-lane sums (GCC/clang vector extensions: loops over float lanes stayed
 * scalar, and this runs on every sample). */
static double second_difference_energy(const float *x, size_t n)
{
	v4sf acc0 = { 0 }, acc1 = { 0 };
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		v4sf d0 = load4(x + i) - 2.0f * load4(x + i - 1) + load4(x + i - 2);
		v4sf d1 = load4(x + i + 4) - 2.0f * load4(x + i + 3) + load4(x + i + 2);
		acc0 += d0 * d0;
		acc1 += d1 * d1;
	}
	float tail = 0.0f;
	for (; i < n; i++) {
		float d = x[i] - 2.0f * x[i - 1] + x[i - 2];
		tail += d * d;
	}
	v4sf acc = acc0 + acc1;
	return ((double)acc[0] + acc[1]) + ((double)acc[2] + acc[3]) + tail;
}

/* Adds the energy of n samples' differences to the block being summed, closing it when full. */
static void add_energy(struct impulse_envelope *ie, double energy, size_t n)
{
	ie->energy += energy;
	ie->fill += (uint32_t)n;
	if (ie->fill == ie->block) {
		ie->ring[ie->count % ie->cap] = (float)ie->energy + IE_FLOOR;
		ie->count++;
		ie->fill = 0;
		ie->energy = 0.0;
	}
}

void impulse_envelope_push(struct impulse_envelope *ie, const float *x, size_t n)
{
	/* the blocks this push completes hold their energies until the end, then become dB four
	 * at a time (a scalar log per block cost as much as the differences) */
	uint64_t first = ie->count;
	/* the first two samples' differences reach into the previous push */
	size_t i = 0;
	float p1 = ie->prev[0], p2 = ie->prev[1];
	for (; i < n && i < 2; i++) {
		float d = x[i] - 2.0f * p1 + p2;
		p2 = p1;
		p1 = x[i];
		add_energy(ie, (double)d * d, 1);
	}
	/* then whole runs to each block's end, every sample's two before it in x */
	while (i < n) {
		size_t take = ie->block - ie->fill;
		if (take > n - i)
			take = n - i;
		add_energy(ie, second_difference_energy(x + i, take), take);
		i += take;
	}
	if (n >= 2) {
		ie->prev[0] = x[n - 1];
		ie->prev[1] = x[n - 2];
	} else if (n == 1) {
		ie->prev[1] = ie->prev[0];
		ie->prev[0] = x[0];
	}
	uint64_t done = ie->count - first;
	if (done > ie->cap) /* a push longer than the ring: only its last cap blocks are kept */
		done = ie->cap;
	uint32_t at = (uint32_t)((ie->count - done) % ie->cap);
	uint32_t run = done < ie->cap - at ? (uint32_t)done : ie->cap - at;
	logmel_db_array(ie->ring + at, run);
	logmel_db_array(ie->ring, (uint32_t)done - run);
}

const float *impulse_envelope_ring(const struct impulse_envelope *ie, uint64_t *count)
{
	*count = ie->count;
	return ie->ring;
}

void impulse_envelope_reset(struct impulse_envelope *ie)
{
	ie->count = 0;
	ie->fill = 0;
	ie->energy = 0.0;
	ie->prev[0] = ie->prev[1] = 0.0f;
}

void impulse_envelope_free(struct impulse_envelope *ie)
{
	if (!ie)
		return;
	free(ie->ring);
	memset(ie, 0, sizeof(*ie));
}

double impulse_envelope_flops_per_sample(void)
{
	return 4.0; /* the difference (two adds, a multiply folded in) and the square summed */
}
