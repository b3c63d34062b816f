/* ring_sum.h - a window's frames summed bin by bin from a ring of spectra: what the tonal peaks and the spectrum head average. */
#ifndef AUSCULT_RING_SUM_H
#define AUSCULT_RING_SUM_H

#include <stdint.h>

/*
 * Sums bins 0..n_bins-1 of the last have rows of ring (cap rows of row_len >= n_bins floats,
 * count rows pushed so far, row f in row f % cap; have <= min(count, cap)) into out (n_bins),
 * frame by frame in time order, sixteen bins at a time held in registers across the frames, in
 * float: a window's powers lose nothing a dB shows, and a sum converted to double value by
 * value or written back frame by frame cost most of a head's time. The same rows give the same
 * bits whoever sums them. Never allocates, never fails.
 */
void ring_sum_rows(const float *ring, uint32_t cap, uint32_t row_len, uint64_t count, uint32_t have,
		   uint32_t n_bins, float *out);

#endif
