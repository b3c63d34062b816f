/* ring_sum.c - a window's frames summed bin by bin from a ring of spectra: what the tonal peaks and the spectrum head average. */
#include "features/ring_sum.h"

#include <stddef.h>
#include <string.h>

typedef float v4sf __attribute__((vector_size(16)));

static const float *row_of(const float *ring, uint32_t cap, uint32_t row_len, uint64_t count,
			   uint32_t have, uint32_t t)
{
	return ring + (size_t)((count - have + t) % cap) * row_len;
}

void ring_sum_rows(const float *ring, uint32_t cap, uint32_t row_len, uint64_t count, uint32_t have,
		   uint32_t n_bins, float *out)
{
	uint32_t k = 0;
	for (; k + 16 <= n_bins; k += 16) {
		v4sf a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
		for (uint32_t t = 0; t < have; t++) {
			v4sf b[4];
			memcpy(b, row_of(ring, cap, row_len, count, have, t) + k, sizeof(b));
			a0 += b[0];
			a1 += b[1];
			a2 += b[2];
			a3 += b[3];
		}
		v4sf a[4] = { a0, a1, a2, a3 };
		memcpy(out + k, a, sizeof(a));
	}
	for (; k < n_bins; k++) {
		float a = 0.0f;
		for (uint32_t t = 0; t < have; t++)
			a += row_of(ring, cap, row_len, count, have, t)[k];
		out[k] = a;
	}
}
