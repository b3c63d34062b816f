/* band_stats.c - window-level spectral statistics (long-term spectrum, band level and spread, envelope modulation) for stationary faults. */
#include "features/band_stats.h"

#include <kiss_fftr.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/logmel.h"

#define BS_PI 3.14159265358979323846
/* Below any real band energy of 16-bit audio; keeps the log finite on digital silence. */
#define BS_FLOOR 1e-12
/* The longest history a caller may ask for: 10 minutes of 64-point frames every 256 samples. */
#define BS_HISTORY_MAX 37500u

void band_stats_config_defaults(struct band_stats_config *cfg)
{
	cfg->sample_rate_hz = 16000;
	cfg->n_fft = 256;
	cfg->hop = 128;
	cfg->n_bands = 16;
	cfg->fine_n_fft = 1024;
	cfg->fine_hop = 512;
	cfg->n_mod = 31;
	cfg->mod_min_hz = 2.0f;
	cfg->mod_max_hz = 62.0f;
	cfg->window_frames = 250;
	cfg->history_frames = 0;
	cfg->history_only = 0;
}

static int is_pow2(uint32_t n)
{
	return n >= 4 && (n & (n - 1)) == 0;
}

static int check(const struct band_stats_config *c, struct auscult_err *err)
{
	if (c->sample_rate_hz < 1000)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "band_stats: sample_rate_hz %u is below 1000",
				    c->sample_rate_hz);
	if (!is_pow2(c->n_fft) || c->n_fft > 65536)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "band_stats: n_fft %u is not a power of two in [4, 65536]",
				    c->n_fft);
	if (c->hop == 0 || c->hop > 65536)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "band_stats: hop %u is out of range [1, 65536]", c->hop);
	if (c->n_bands == 0 || (c->n_fft / 2) % c->n_bands != 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "band_stats: n_bands %u does not divide n_fft / 2 = %u",
				    c->n_bands, c->n_fft / 2);
	if (c->fine_n_fft && (!is_pow2(c->fine_n_fft) || c->fine_n_fft > 65536 ||
			      c->fine_hop == 0 || c->fine_hop > c->fine_n_fft))
		return auscult_fail(
			err, AUSCULT_ERR_INVALID,
			"band_stats: fine_n_fft %u / fine_hop %u: need a power of two in "
			"[4, 65536] and a hop in [1, fine_n_fft]",
			c->fine_n_fft, c->fine_hop);
	if (c->window_frames < 4)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "band_stats: window_frames %u is below 4", c->window_frames);
	if (c->history_frames > BS_HISTORY_MAX)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "band_stats: history_frames %u is above %u", c->history_frames,
				    BS_HISTORY_MAX);
	double nyquist_hz = (double)c->sample_rate_hz / c->hop / 2.0;
	if (c->n_mod &&
	    !(c->mod_min_hz > 0.0f && c->mod_max_hz >= c->mod_min_hz && c->mod_max_hz < nyquist_hz))
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "band_stats: modulation %g..%g Hz: need 0 < min <= max < %g Hz "
				    "(half the envelope rate)",
				    (double)c->mod_min_hz, (double)c->mod_max_hz, nyquist_hz);
	return AUSCULT_OK;
}

uint32_t band_stats_dim(const struct band_stats_config *cfg)
{
	if (check(cfg, NULL) != AUSCULT_OK)
		return 0;
	return cfg->fine_n_fft / 2 + 2 * cfg->n_bands + cfg->n_bands * cfg->n_mod;
}

static float *periodic_hann(uint32_t n)
{
	float *w = malloc(n * sizeof(float));
	for (uint32_t i = 0; w && i < n; i++)
		w[i] = (float)(0.5 - 0.5 * cos(2.0 * BS_PI * i / n));
	return w;
}

int band_stats_init(struct band_stats *bs, const struct band_stats_config *cfg,
		    struct auscult_err *err)
{
	memset(bs, 0, sizeof(*bs));
	int st = check(cfg, err);
	if (st != AUSCULT_OK)
		return st;
	bs->cfg = *cfg;
	bs->dim = band_stats_dim(cfg);
	bs->n_fine = cfg->fine_n_fft / 2;
	uint32_t nb = cfg->n_bands, nm = cfg->n_mod;
	uint32_t big = cfg->fine_n_fft > cfg->n_fft ? cfg->fine_n_fft : cfg->n_fft;

	bs->fft = kiss_fftr_alloc((int)cfg->n_fft, 0, NULL, NULL);
	bs->hann = periodic_hann(cfg->n_fft);
	bs->buf = calloc(cfg->n_fft, sizeof(float));
	bs->frame = calloc(big, sizeof(float));
	bs->spec = calloc(big / 2 + 1, sizeof(kiss_fft_cpx));
	bs->band_sum = calloc(nb, sizeof(double));
	bs->band_sumsq = calloc(nb, sizeof(double));
	bs->band_ref = calloc(nb, sizeof(double));
	bs->band_db = calloc(nb, sizeof(float));
	bs->mod_re = calloc((size_t)nb * nm + 1, sizeof(double));
	bs->mod_im = calloc((size_t)nb * nm + 1, sizeof(double));
	bs->rot_re = calloc(nm + 1, sizeof(double));
	bs->rot_im = calloc(nm + 1, sizeof(double));
	bs->ph_re = calloc(nm + 1, sizeof(double));
	bs->ph_im = calloc(nm + 1, sizeof(double));
	bs->time_hann = malloc(cfg->window_frames * sizeof(float));
	if (!bs->fft || !bs->hann || !bs->buf || !bs->frame || !bs->spec || !bs->band_sum ||
	    !bs->band_sumsq || !bs->band_ref || !bs->band_db || !bs->mod_re || !bs->mod_im ||
	    !bs->rot_re || !bs->rot_im || !bs->ph_re || !bs->ph_im || !bs->time_hann)
		goto nomem;
	if (cfg->history_frames) {
		bs->history = calloc((size_t)cfg->history_frames * nb, sizeof(float));
		if (!bs->history)
			goto nomem;
	}
	if (cfg->fine_n_fft) {
		bs->fine_fft = kiss_fftr_alloc((int)cfg->fine_n_fft, 0, NULL, NULL);
		bs->fine_hann = periodic_hann(cfg->fine_n_fft);
		bs->fine_buf = calloc(cfg->fine_n_fft, sizeof(float));
		bs->fine_power = calloc(bs->n_fine, sizeof(double));
		if (!bs->fine_fft || !bs->fine_hann || !bs->fine_buf || !bs->fine_power)
			goto nomem;
	}
	double rate_hz = (double)cfg->sample_rate_hz / cfg->hop;
	for (uint32_t m = 0; m < nm; m++) {
		double f = nm == 1 ? cfg->mod_min_hz
				   : cfg->mod_min_hz +
					     (cfg->mod_max_hz - cfg->mod_min_hz) * m / (nm - 1);
		bs->rot_re[m] = cos(2.0 * BS_PI * f / rate_hz);
		bs->rot_im[m] = -sin(2.0 * BS_PI * f / rate_hz);
	}
	/* symmetric Hann over the window's frames: sidelobes keep the envelope's DC out of the
	 * lowest modulation frequencies */
	for (uint32_t t = 0; t < cfg->window_frames; t++)
		bs->time_hann[t] = (float)(0.5 -
					   0.5 * cos(2.0 * BS_PI * (t + 0.5) / cfg->window_frames));
	band_stats_reset(bs);
	return AUSCULT_OK;
nomem:
	band_stats_free(bs);
	return auscult_fail(err, AUSCULT_ERR_NOMEM, "band_stats: out of memory");
}

size_t band_stats_max_windows(const struct band_stats *bs, size_t n_samples)
{
	size_t frames = (bs->fill + n_samples) / bs->cfg.hop + 1;
	return frames / bs->cfg.window_frames + 1;
}

static void start_window(struct band_stats *bs)
{
	uint32_t nb = bs->cfg.n_bands, nm = bs->cfg.n_mod;
	bs->frames = 0;
	bs->fine_frames = 0;
	memset(bs->band_sum, 0, nb * sizeof(double));
	memset(bs->band_sumsq, 0, nb * sizeof(double));
	memset(bs->mod_re, 0, ((size_t)nb * nm + 1) * sizeof(double));
	memset(bs->mod_im, 0, ((size_t)nb * nm + 1) * sizeof(double));
	if (bs->fine_power)
		memset(bs->fine_power, 0, bs->n_fine * sizeof(double));
	for (uint32_t m = 0; m < nm; m++) {
		bs->ph_re[m] = 1.0;
		bs->ph_im[m] = 0.0;
	}
}

void band_stats_reset(struct band_stats *bs)
{
	bs->fill = 0;
	bs->skip = 0;
	bs->fine_fill = 0;
	memset(bs->band_ref, 0, bs->cfg.n_bands * sizeof(double));
	bs->have_ref = 0;
	bs->history_count = 0;
	start_window(bs);
}

const float *band_stats_history(const struct band_stats *bs, uint64_t *count)
{
	*count = bs->history_count;
	return bs->history;
}

/* Windowed power spectrum of n samples into bs->frame/spec; returns the cpx bins. */
static const kiss_fft_cpx *spectrum(struct band_stats *bs, kiss_fftr_cfg fft, const float *x,
				    const float *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		bs->frame[i] = x[i] * w[i];
	kiss_fftr(fft, bs->frame, bs->spec);
	return bs->spec;
}

/* This short frame's band energies, dB, into bs->band_db. */
static void band_levels(struct band_stats *bs)
{
	const struct band_stats_config *c = &bs->cfg;
	const kiss_fft_cpx *X = spectrum(bs, bs->fft, bs->buf, bs->hann, c->n_fft);
	uint32_t per_band = c->n_fft / 2 / c->n_bands;
	float *band_db = bs->band_db;
	for (uint32_t b = 0; b < c->n_bands; b++) {
		float e = 0.0f;
		/* bins 1..n/2 (DC left out, Nyquist in): band b holds per_band of them */
		for (uint32_t k = b * per_band + 1; k <= (b + 1) * per_band; k++)
			e += X[k].r * X[k].r + X[k].i * X[k].i;
		band_db[b] = e + (float)BS_FLOOR;
	}
	/* the front end's dB, four bands at a time (a call of log10 per band was a third of this
	 * frame's cost) */
	logmel_db_array(band_db, c->n_bands);
}

static void short_frame(struct band_stats *bs)
{
	const struct band_stats_config *c = &bs->cfg;
	float *row = bs->history ? bs->history + (size_t)(bs->history_count % c->history_frames) *
							 c->n_bands
				 : NULL;
	if (c->history_only) { /* the history is all anyone reads; without one, only the count */
		if (row) {
			band_levels(bs);
			memcpy(row, bs->band_db, c->n_bands * sizeof(float));
		}
		bs->history_count++;
		bs->frames++;
		return;
	}
	band_levels(bs);
	uint32_t nm = c->n_mod;
	double wt = bs->time_hann[bs->frames];
	const float *band_db = bs->band_db;
	for (uint32_t b = 0; b < c->n_bands; b++) {
		double db = band_db[b];
		if (row)
			row[b] = (float)db;
		if (!bs->have_ref)
			bs->band_ref[b] = db; /* no window yet: the first frame is the offset */
		bs->band_sum[b] += db;
		bs->band_sumsq[b] += db * db;
		double v = wt * (db - bs->band_ref[b]);
		double *re = bs->mod_re + (size_t)b * nm, *im = bs->mod_im + (size_t)b * nm;
		for (uint32_t m = 0; m < nm; m++) {
			re[m] += v * bs->ph_re[m];
			im[m] += v * bs->ph_im[m];
		}
	}
	bs->have_ref = 1;
	bs->history_count++;
	for (uint32_t m = 0; m < nm; m++) {
		double r = bs->ph_re[m] * bs->rot_re[m] - bs->ph_im[m] * bs->rot_im[m];
		bs->ph_im[m] = bs->ph_re[m] * bs->rot_im[m] + bs->ph_im[m] * bs->rot_re[m];
		bs->ph_re[m] = r;
	}
	bs->frames++;
}

static void fine_frame(struct band_stats *bs)
{
	const kiss_fft_cpx *X = spectrum(bs, bs->fine_fft, bs->fine_buf, bs->fine_hann,
					 bs->cfg.fine_n_fft);
	for (uint32_t k = 0; k < bs->n_fine; k++)
		bs->fine_power[k] += (double)X[k + 1].r * X[k + 1].r +
				     (double)X[k + 1].i * X[k + 1].i;
	bs->fine_frames++;
}

static void emit(struct band_stats *bs, float *out)
{
	const struct band_stats_config *c = &bs->cfg;
	uint32_t nb = c->n_bands, nm = c->n_mod, o = 0;
	double n = bs->frames, fn = bs->fine_frames ? bs->fine_frames : 1;
	for (uint32_t k = 0; k < bs->n_fine; k++)
		out[o++] = (float)(10.0 * log10(bs->fine_power[k] / fn + BS_FLOOR));
	for (uint32_t b = 0; b < nb; b++)
		out[o + b] = (float)(bs->band_sum[b] / n);
	o += nb;
	for (uint32_t b = 0; b < nb; b++) {
		double mean = bs->band_sum[b] / n, var = bs->band_sumsq[b] / n - mean * mean;
		out[o++] = (float)sqrt(var > 0.0 ? var : 0.0);
	}
	for (uint32_t i = 0; i < nb * nm; i++) {
		double p = (bs->mod_re[i] * bs->mod_re[i] + bs->mod_im[i] * bs->mod_im[i]) /
			   (n * n);
		out[o++] = (float)(10.0 * log10(p + BS_FLOOR));
	}
	for (uint32_t b = 0; b < nb; b++)
		bs->band_ref[b] = bs->band_sum[b] / n;
	start_window(bs);
}

size_t band_stats_process(struct band_stats *bs, const float *samples, size_t n_samples, float *out)
{
	const struct band_stats_config *c = &bs->cfg;
	size_t done = 0;
	/* Runs of samples up to the next frame end or end of a gap (of either frame), copied
	 * whole: the frames complete in the same order as sample by sample. */
	for (size_t i = 0; i < n_samples;) {
		size_t take = n_samples - i;
		uint32_t room = bs->skip ? bs->skip : c->n_fft - bs->fill;
		if (take > room)
			take = room;
		if (bs->fine_buf && take > c->fine_n_fft - bs->fine_fill)
			take = c->fine_n_fft - bs->fine_fill;
		if (bs->skip) {
			bs->skip -= (uint32_t)take;
		} else {
			memcpy(bs->buf + bs->fill, samples + i, take * sizeof(float));
			bs->fill += (uint32_t)take;
		}
		if (bs->fine_buf) {
			memcpy(bs->fine_buf + bs->fine_fill, samples + i, take * sizeof(float));
			bs->fine_fill += (uint32_t)take;
			if (bs->fine_fill == c->fine_n_fft) {
				fine_frame(bs);
				memmove(bs->fine_buf, bs->fine_buf + c->fine_hop,
					(c->fine_n_fft - c->fine_hop) * sizeof(float));
				bs->fine_fill = c->fine_n_fft - c->fine_hop;
			}
		}
		if (bs->fill == c->n_fft) {
			short_frame(bs);
			if (c->hop < c->n_fft) {
				memmove(bs->buf, bs->buf + c->hop,
					(c->n_fft - c->hop) * sizeof(float));
				bs->fill = c->n_fft - c->hop;
			} else {
				bs->fill = 0;
				bs->skip = c->hop - c->n_fft;
			}
			if (bs->frames == c->window_frames && c->history_only) {
				bs->frames = 0;
				done++;
			} else if (bs->frames == c->window_frames) {
				emit(bs, out + (done++) * bs->dim);
			}
		}
		i += take;
	}
	return done;
}

void band_stats_free(struct band_stats *bs)
{
	if (!bs)
		return;
	kiss_fftr_free(bs->fft);
	kiss_fftr_free(bs->fine_fft);
	free(bs->hann);
	free(bs->fine_hann);
	free(bs->buf);
	free(bs->fine_buf);
	free(bs->frame);
	free(bs->spec);
	free(bs->fine_power);
	free(bs->band_sum);
	free(bs->band_sumsq);
	free(bs->band_ref);
	free(bs->band_db);
	free(bs->mod_re);
	free(bs->mod_im);
	free(bs->rot_re);
	free(bs->rot_im);
	free(bs->ph_re);
	free(bs->ph_im);
	free(bs->time_hann);
	free(bs->history);
	memset(bs, 0, sizeof(*bs));
}

uint32_t band_stats_offset_mean(const struct band_stats *bs)
{
	return bs->n_fine;
}

uint32_t band_stats_offset_spread(const struct band_stats *bs)
{
	return bs->n_fine + bs->cfg.n_bands;
}

uint32_t band_stats_offset_mod(const struct band_stats *bs)
{
	return bs->n_fine + 2 * bs->cfg.n_bands;
}

double band_stats_flops_per_s(const struct band_stats_config *cfg)
{
	double fps = (double)cfg->sample_rate_hz / cfg->hop;
	double n = cfg->n_fft;
	/* window, FFT, power and band sums, log, the modulation MACs and phasor rotations */
	double per = n + 2.5 * n * log2(n) + 2.0 * n + cfg->n_bands * (4.0 + 4.0 * cfg->n_mod) +
		     6.0 * cfg->n_mod;
	double flops = fps * per;
	if (cfg->fine_n_fft) {
		double fn = cfg->fine_n_fft;
		flops += (double)cfg->sample_rate_hz / cfg->fine_hop *
			 (fn + 2.5 * fn * log2(fn) + 2.0 * fn);
	}
	return flops;
}
