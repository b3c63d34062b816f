/* rise_heads.c - the rise heads at run time: a window's envelope spectra and tonal peaks, scored against normal windows and gated into the window score. */
#include "model/rise_heads.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "audio/rate_converter.h"

void rise_heads_config_defaults(struct model_rise_heads *r, const struct feature_params *f,
				uint32_t n_kept)
{
	memset(r, 0, sizeof(*r));
	uint32_t n_fft = f->n_fft;
	r->env_n_fft = RISE_ENV_N_FFT;
	r->env_bin_lo = RISE_ENV_BIN_LO;
	r->env_bin_hi = RISE_ENV_BIN_HI;
	/* the bins whose Hann main lobe (2 bins either side) lies under the rate converter's pass
	 * band, as the window head keeps its bands: a microphone at another rate gives them as a
	 * 16-kHz one does (494 of 512 at 1024 points, to 7.72 kHz) */
	uint32_t below = (uint32_t)floor(RATE_CONVERTER_PASSBAND * (double)(n_fft / 2));
	r->tone_bins = below > 2 + RISE_TONE_FAR + 1 ? below - 2 : RISE_TONE_FAR + 1;
	r->tone_near = RISE_TONE_NEAR;
	r->tone_far = RISE_TONE_FAR;
	r->top_fraction = RISE_TOP_FRACTION;
	r->std_floor_rel = RISE_STD_FLOOR_REL;
	r->gate_z = RISE_GATE_Z;
	r->gate_weight = RISE_GATE_WEIGHT;
	r->steady = RISE_HEADS_STEADY;
	r->envelope.dim = n_kept * (r->env_bin_hi - r->env_bin_lo + 1);
	r->tones.dim = r->tone_bins;
	r->envelope.cal_std = r->tones.cal_std = 1.0f;
	if (f->hop_length % RISE_IMP_BLOCK == 0) {
		r->imp_block = RISE_IMP_BLOCK;
		r->imp_n_fft = RISE_IMP_N_FFT;
		r->imp_bin_lo = RISE_IMP_BIN_LO;
		r->imp_bin_hi = RISE_IMP_BIN_HI;
		r->impulses.dim = r->imp_bin_hi - r->imp_bin_lo + 1;
		r->impulses.cal_std = 1.0f;
	}
}

void rise_heads_add_bursts(struct model_rise_heads *r)
{
	r->burst_band_bins = RISE_BURST_BAND_BINS;
	r->burst_bins = r->tone_bins / RISE_BURST_BAND_BINS * RISE_BURST_BAND_BINS;
	r->burst_gate_z = RISE_BURST_GATE_Z;
	r->bursts.dim = r->burst_bins / r->burst_band_bins;
	r->bursts.cal_std = 1.0f;
}

void rise_heads_each(struct model_rise_heads *r, struct model_rise_head *heads[RISE_N_HEADS])
{
	heads[RISE_ENVELOPE] = &r->envelope;
	heads[RISE_TONES] = &r->tones;
	heads[RISE_IMPULSES] = &r->impulses;
	heads[RISE_BURSTS] = &r->bursts;
}

uint32_t rise_heads_envelope_frames(const struct model_rise_heads *r,
				    const struct model_window_head *h,
				    const struct feature_params *f, uint32_t window_blocks)
{
	uint32_t per_block = h->hop ? f->hop_length / h->hop : 0;
	uint64_t frames = (uint64_t)window_blocks * per_block;
	return frames < r->env_n_fft ? (uint32_t)frames : r->env_n_fft;
}

uint32_t rise_heads_impulse_blocks(const struct model_rise_heads *r, const struct feature_params *f,
				   uint32_t window_blocks)
{
	if (!r->imp_block)
		return 0;
	uint64_t blocks = (uint64_t)window_blocks * (f->hop_length / r->imp_block);
	return blocks < r->imp_n_fft ? (uint32_t)blocks : r->imp_n_fft;
}

static void imp_config(const struct model_rise_heads *r, uint32_t frames,
		       struct envelope_spectrum_config *ec)
{
	ec->n_bands = 1;
	ec->n_frames = frames;
	ec->n_fft = r->imp_n_fft;
	ec->bin_lo = r->imp_bin_lo;
	ec->bin_hi = r->imp_bin_hi;
}

static void env_config(const struct model_rise_heads *r, const struct model_window_head *h,
		       uint32_t frames, struct envelope_spectrum_config *ec)
{
	ec->n_bands = h->n_kept;
	ec->n_frames = frames;
	ec->n_fft = r->env_n_fft;
	ec->bin_lo = r->env_bin_lo;
	ec->bin_hi = r->env_bin_hi;
}

static void tone_config(const struct model_rise_heads *r, uint32_t frames,
			struct tone_peaks_config *tc)
{
	tc->n_bins = r->tone_bins;
	tc->n_frames = frames;
	tc->near = r->tone_near;
	tc->far = r->tone_far;
}

static void burst_config(const struct model_rise_heads *r, uint32_t frames,
			 struct burst_crest_config *bc)
{
	bc->n_bins = r->burst_bins;
	bc->band_bins = r->burst_band_bins;
	bc->n_frames = frames;
}

void rise_heads_stats_config(const struct model_rise_heads *r, bool bursts, uint32_t dim,
			     struct stats_head_config *sc)
{
	stats_head_config_defaults(sc);
	sc->dim = dim;
	sc->top_fraction = r->top_fraction;
	sc->top_count = bursts ? 1u : 0u; /* a burst rings one band */
	sc->rise_only = 1;
	sc->std_floor_rel = r->std_floor_rel;
	sc->shrinkage = -1.0f;
}

/* A diagonal, rise-only head with the model's statistics (inverse stds stored as fitted:
 * the floor was applied then, so none is applied again). */
static int restore_head(struct stats_head *sh, const struct model_rise_heads *r,
			const struct model_rise_head *m, struct auscult_err *err)
{
	struct stats_head_config sc;
	rise_heads_stats_config(r, m == &r->bursts, m->dim, &sc);
	sc.std_floor_rel = 0.0f;
	int rc = stats_head_init(sh, &sc, err);
	if (rc)
		return rc;
	float *std = malloc(m->dim * sizeof(float));
	if (!std)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "rise heads: out of memory");
	for (uint32_t i = 0; i < m->dim; i++)
		std[i] = 1.0f / m->inv_std[i];
	rc = stats_head_set(sh, m->mean, std, err);
	free(std);
	return rc;
}

int rise_heads_init(struct rise_heads *rh, const struct model_rise_heads *r,
		    const struct model_window_head *h, const struct feature_params *f,
		    uint32_t window_blocks, struct auscult_err *err)
{
	memset(rh, 0, sizeof(*rh));
	if (window_blocks == 0)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "rise heads: window_blocks must be > 0");
	rh->r = r;
	rh->env_frames = rise_heads_envelope_frames(r, h, f, window_blocks);
	rh->tone_frames = window_blocks;
	struct envelope_spectrum_config ec;
	struct tone_peaks_config tc;
	env_config(r, h, rh->env_frames, &ec);
	tone_config(r, rh->tone_frames, &tc);
	int rc = envelope_spectrum_init(&rh->env, &ec, err);
	if (rc == AUSCULT_OK)
		rc = tone_peaks_init(&rh->tones, &tc, err);
	rh->imp_frames = rise_heads_impulse_blocks(r, f, window_blocks);
	if (rc == AUSCULT_OK && r->imp_block) {
		struct envelope_spectrum_config ic;
		imp_config(r, rh->imp_frames, &ic);
		if ((rc = envelope_spectrum_init(&rh->imp, &ic, err)) == AUSCULT_OK)
			rh->imp_dim = envelope_spectrum_dim(&ic);
	}
	if (rc == AUSCULT_OK && r->burst_bins) {
		struct burst_crest_config bc;
		burst_config(r, rh->tone_frames, &bc);
		if ((rc = burst_crest_init(&rh->bursts, &bc, err)) == AUSCULT_OK)
			rh->burst_dim = burst_crest_dim(&bc);
	}
	if (rc) {
		rise_heads_free(rh);
		return rc;
	}
	rh->env_dim = envelope_spectrum_dim(&ec);
	rh->tone_dim = tone_peaks_dim(&tc);
	rh->tone_hz = (float)f->sample_rate_hz / (float)f->n_fft;
	rh->env_hz = (float)f->sample_rate_hz / (float)h->hop / (float)r->env_n_fft;
	rh->imp_hz = r->imp_block
			     ? (float)f->sample_rate_hz / (float)r->imp_block / (float)r->imp_n_fft
			     : NAN;
	rh->band_hz = 0.5f * (float)f->sample_rate_hz / (float)h->n_bands;
	rh->burst_band_hz = rh->tone_hz * (float)r->burst_band_bins;
	if (rh->env_dim != r->envelope.dim || rh->tone_dim != r->tones.dim ||
	    rh->imp_dim != r->impulses.dim || rh->burst_dim != r->bursts.dim) {
		rc = auscult_fail(err, AUSCULT_ERR_INVALID,
				  "rise heads: dims %u, %u, %u and %u, but the shapes give %u, %u, "
				  "%u and %u",
				  r->envelope.dim, r->tones.dim, r->impulses.dim, r->bursts.dim,
				  rh->env_dim, rh->tone_dim, rh->imp_dim, rh->burst_dim);
		rise_heads_free(rh);
		return rc;
	}
	rh->features = calloc((size_t)rh->env_dim + rh->tone_dim + rh->imp_dim + rh->burst_dim,
			      sizeof(float));
	if (!rh->features) {
		rise_heads_free(rh);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "rise heads: out of memory");
	}
	if (r->envelope.mean && r->tones.mean && (!r->imp_block || r->impulses.mean) &&
	    (!r->burst_bins || r->bursts.mean)) {
		if ((rc = restore_head(&rh->env_head, r, &r->envelope, err)) != AUSCULT_OK ||
		    (rc = restore_head(&rh->tone_head, r, &r->tones, err)) != AUSCULT_OK ||
		    (r->imp_block &&
		     (rc = restore_head(&rh->imp_head, r, &r->impulses, err)) != AUSCULT_OK) ||
		    (r->burst_bins &&
		     (rc = restore_head(&rh->burst_head, r, &r->bursts, err)) != AUSCULT_OK)) {
			rise_heads_free(rh);
			return rc;
		}
		rh->scoring = 1;
	}
	return AUSCULT_OK;
}

void rise_heads_compute(struct rise_heads *rh, const float *history, uint32_t cap, uint32_t row_len,
			uint64_t history_count, const float *power, uint32_t power_row_len,
			uint64_t power_count, const float *power_sums, const float *impulses,
			uint64_t impulse_count)
{
	envelope_spectrum_compute(&rh->env, history, cap, row_len, history_count, rh->features);
	if (power_sums)
		tone_peaks_compute_summed(&rh->tones, power_sums,
					  power_count < rh->tone_frames ? (uint32_t)power_count
									: rh->tone_frames,
					  rh->features + rh->env_dim);
	else
		tone_peaks_compute(&rh->tones, power, rh->tone_frames, power_row_len, power_count,
				   rh->features + rh->env_dim);
	if (rh->imp_dim)
		envelope_spectrum_compute(&rh->imp, impulses, rh->imp_frames, 1, impulse_count,
					  rh->features + rh->env_dim + rh->tone_dim);
	if (rh->burst_dim)
		burst_crest_compute(&rh->bursts, power, rh->tone_frames, power_row_len, power_count,
				    rh->features + rh->env_dim + rh->tone_dim + rh->imp_dim);
}

uint32_t rise_heads_feature_dim(const struct rise_heads *rh)
{
	return rh->env_dim + rh->tone_dim + rh->imp_dim + rh->burst_dim;
}

static float standardised(struct stats_head *sh, const struct model_rise_head *m, const float *x)
{
	return (stats_head_score(sh, x) - m->cal_mean) / m->cal_std;
}

/* rh->at of the heads just scored: their features of the largest z (stats_head's top), in Hz. */
static void where_rose(struct rise_heads *rh)
{
	const struct model_rise_heads *r = rh->r;
	const uint32_t env_bins = r->env_bin_hi - r->env_bin_lo + 1;
	const uint32_t env_top = rh->env_head.top, band = env_top / env_bins;
	rh->at[0][RISE_AT_HZ] = (float)(r->env_bin_lo + env_top % env_bins) * rh->env_hz;
	rh->at[0][RISE_AT_BAND_LO] = (float)band * rh->band_hz;
	rh->at[0][RISE_AT_BAND_HI] = (float)(band + 1) * rh->band_hz;
	rh->at[1][RISE_AT_HZ] = (float)(rh->tone_head.top + 1) * rh->tone_hz; /* bins 1.. */
	rh->at[2][RISE_AT_HZ] = rh->imp_dim ? (float)(r->imp_bin_lo + rh->imp_head.top) * rh->imp_hz
					    : NAN;
	for (int i = 1; i < 3; i++)
		rh->at[i][RISE_AT_BAND_LO] = rh->at[i][RISE_AT_BAND_HI] = NAN;
	/* a burst's band (bins 1..), no rate */
	const float lo = ((float)rh->burst_head.top * (float)r->burst_band_bins + 0.5f) *
			 rh->tone_hz;
	rh->at[RISE_BURSTS][RISE_AT_HZ] = NAN;
	rh->at[RISE_BURSTS][RISE_AT_BAND_LO] = rh->burst_dim ? lo : NAN;
	rh->at[RISE_BURSTS][RISE_AT_BAND_HI] = rh->burst_dim ? lo + rh->burst_band_hz : NAN;
}

float rise_heads_gate(struct rise_heads *rh, float z[RISE_N_HEADS])
{
	if (!rh->scoring)
		return NAN;
	const struct model_rise_heads *r = rh->r;
	const float *x = rh->features;
	float zs[RISE_N_HEADS];
	zs[RISE_ENVELOPE] = standardised(&rh->env_head, &r->envelope, x);
	zs[RISE_TONES] = standardised(&rh->tone_head, &r->tones, x + rh->env_dim);
	x += rh->env_dim + rh->tone_dim;
	zs[RISE_IMPULSES] = rh->imp_dim ? standardised(&rh->imp_head, &r->impulses, x) : NAN;
	zs[RISE_BURSTS] = rh->burst_dim ? standardised(&rh->burst_head, &r->bursts, x + rh->imp_dim)
					: NAN;
	where_rose(rh);
	float gate = 0.0f;
	for (int i = 0; i < RISE_N_HEADS; i++) {
		if (z)
			z[i] = zs[i];
		const float gate_z = i == RISE_BURSTS ? r->burst_gate_z : r->gate_z;
		/* NaN stays NaN: a head the model lacks adds nothing */
		rh->terms[i] = isnan(zs[i])     ? NAN
			       : zs[i] > gate_z ? r->gate_weight * (zs[i] - gate_z)
						: 0.0f;
		if (i < RISE_N_STEADY && !isnan(rh->terms[i]))
			gate += rh->terms[i];
	}
	return gate;
}

float rise_heads_steady(struct rise_heads *rh, float gate)
{
	const uint32_t n = rh->r->steady;
	memmove(rh->recent, rh->recent + 1, (n - 1) * sizeof(rh->recent[0]));
	rh->recent[n - 1].gate = gate;
	memcpy(rh->recent[n - 1].terms, rh->terms, sizeof(rh->terms));
	memcpy(rh->recent[n - 1].at, rh->at, sizeof(rh->at));
	if (rh->n_recent < n)
		rh->n_recent++;
	/* the evaluations' gates and slots in recent, those older than the restart as 0 (slot n) */
	uint32_t slot[MODEL_RISE_STEADY_MAX] = { 0 };
	float v[MODEL_RISE_STEADY_MAX] = { 0 };
	for (uint32_t i = 0; i < n; i++) {
		bool kept = i + rh->n_recent >= n;
		slot[i] = kept ? i : n;
		v[i] = kept ? rh->recent[i].gate : 0.0f;
	}
	/* the median of a handful by insertion sort */
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			float t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
			uint32_t a = slot[j];
			slot[j] = slot[j - 1];
			slot[j - 1] = a;
		}
	const uint32_t m = slot[n / 2];
	for (int h = 0; h < RISE_N_STEADY; h++) {
		rh->steady_terms[h] = m < n                 ? rh->recent[m].terms[h]
				      : isnan(rh->terms[h]) ? NAN
							    : 0.0f;
		for (int a = 0; a < RISE_AT_N; a++)
			rh->steady_at[h][a] = m < n ? rh->recent[m].at[h][a] : NAN;
	}
	/* the bursts head: this evaluation's, as it is */
	const float burst = rh->terms[RISE_BURSTS];
	rh->steady_terms[RISE_BURSTS] = burst;
	memcpy(rh->steady_at[RISE_BURSTS], rh->at[RISE_BURSTS], sizeof(rh->at[RISE_BURSTS]));
	return v[n / 2] + (isnan(burst) ? 0.0f : burst);
}

void rise_heads_restart(struct rise_heads *rh)
{
	rh->n_recent = 0;
	if (rh->burst_dim)
		burst_crest_reset(&rh->bursts);
}

void rise_heads_free(struct rise_heads *rh)
{
	if (!rh)
		return;
	envelope_spectrum_free(&rh->env);
	tone_peaks_free(&rh->tones);
	envelope_spectrum_free(&rh->imp);
	burst_crest_free(&rh->bursts);
	stats_head_free(&rh->env_head);
	stats_head_free(&rh->tone_head);
	stats_head_free(&rh->imp_head);
	stats_head_free(&rh->burst_head);
	free(rh->features);
	memset(rh, 0, sizeof(*rh));
}

double rise_heads_flops_per_window(const struct model_rise_heads *r,
				   const struct model_window_head *h,
				   const struct feature_params *f, uint32_t window_blocks)
{
	struct envelope_spectrum_config ec;
	struct tone_peaks_config tc;
	env_config(r, h, rise_heads_envelope_frames(r, h, f, window_blocks), &ec);
	tone_config(r, window_blocks, &tc);
	double imp = 0.0, bursts = 0.0;
	if (r->imp_block) {
		struct envelope_spectrum_config ic;
		imp_config(r, rise_heads_impulse_blocks(r, f, window_blocks), &ic);
		imp = envelope_spectrum_flops(&ic);
	}
	if (r->burst_bins) {
		struct burst_crest_config bc;
		burst_config(r, window_blocks, &bc);
		bursts = burst_crest_flops(&bc);
	}
	/* each head: the z-scores (3 a feature) and the selection of the largest (about 2) */
	return envelope_spectrum_flops(&ec) + tone_peaks_flops(&tc) + imp + bursts +
	       5.0 * (r->envelope.dim + r->tones.dim + r->impulses.dim + r->bursts.dim);
}

double rise_heads_flops_per_s(const struct model_rise_heads *r, const struct model_window_head *h,
			      const struct feature_params *f, double window_s)
{
	double per_sample = r->imp_block ? impulse_envelope_flops_per_sample() : 0.0;
	return rise_heads_flops_per_window(r, h, f, feature_params_vectors_in(f, window_s)) /
		       RISE_HEADS_EVERY_S +
	       per_sample * f->sample_rate_hz;
}
