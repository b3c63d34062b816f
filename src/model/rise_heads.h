/* rise_heads.h - the rise heads at run time: a window's envelope spectra and tonal peaks, scored against normal windows and gated into the window score. */
#ifndef AUSCULT_RISE_HEADS_H
#define AUSCULT_RISE_HEADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "features/burst_crest.h"
#include "features/envelope_spectrum.h"
#include "features/feature_params.h"
#include "features/impulse_envelope.h"
#include "features/tone_peaks.h"
#include "model/model.h"
#include "model/stats_head.h"

/*
 * What model.h's struct model_rise_heads describes, computed for the window that ends now from
 * two rings the pipeline keeps anyway: the window head's short frames (their band dB, for the
 * envelope spectra) and the front end's frames (their power, for the tonal peaks). The same
 * code gives the features the fit sees and the ones a fitted model scores. Pure stage: init
 * allocates, compute and gate do not, cannot fail, never log. One thread at a time.
 */

/* The defaults of new rise heads, chosen on bench/eval_detector.sh's p2s pass (tuning
 * families): envelope bins 4..61 of 128 points (2-30 Hz at the 62.5-Hz envelope of 64-point
 * frames every 256 samples, 0.49 Hz apart), tonal peaks over the bins under the rate
 * converter's pass band (1..494 at 1024 points, to 7.72 kHz) against the bins 3..12 away,
 * each head the mean of its largest 2% of z-scores (std floor 10% of the median), and a window
 * gaining twice what a head's standardised score exceeds 1. */
#define RISE_ENV_N_FFT 128u
#define RISE_ENV_BIN_LO 4u
#define RISE_ENV_BIN_HI 61u
#define RISE_TONE_NEAR 3u
#define RISE_TONE_FAR 12u
#define RISE_TOP_FRACTION 0.02f
#define RISE_STD_FLOOR_REL 0.1f
#define RISE_GATE_Z 1.0f
#define RISE_GATE_WEIGHT 2.0f

/*
 * The impulse head's defaults (features/impulse_envelope.h): blocks of 128 samples (8 ms, a
 * 125-Hz envelope at 16 kHz, every sample of the window counted), a 2-s window's 250 blocks
 * transformed with 256 points, bins 4..125 (2-61 Hz, 0.49 Hz apart): impacts at a shaft's
 * rate and its multiples, and the lines of slower ones' harmonics. Chosen by a probe on
 * bench/eval_folds.sh's clips before it was built (AUC with the rise heads 0.717 against their
 * 0.701 alone; blocks of 256 samples 0.709, of 64 0.714, of 32 0.710; bins to 30 Hz 0.704; the
 * first difference 0.713, the third 0.711, the raw signal's level as well 0.703).
 */
#define RISE_IMP_BLOCK 128u
#define RISE_IMP_N_FFT 256u
#define RISE_IMP_BIN_LO 4u
#define RISE_IMP_BIN_HI 125u

/*
 * The bursts head's defaults (features/burst_crest.h): bands of 2 front-end bins (31 Hz at 1024
 * points and 16 kHz: a knock's ring is narrower still, the machine's noise in the band is what
 * it must beat) over the tonal peaks' bins, its largest z, gated at 2. Chosen by a probe on
 * bench/eval_folds.sh's clips, the tuning families (harmonics, bearing, knock) deciding: AUC
 * 0.786 there against 0.702 without it (knock 0.83 against 0.55); bands of 1 bin 0.784, of 4
 * 0.783 (of 8, the crest in dB, 0.746); the mean of the 2 largest z 0.777; the crest as the loudest frame's dB
 * over the mean dB 0.769, or over the median's 0.763; in the head's 4-ms frames 0.735; gates
 * 1 and 2 alike (0.786), 2 chosen because it adds to fewer normal windows.
 */
#define RISE_BURST_BAND_BINS 2u
#define RISE_BURST_GATE_Z 2.0f

/*
 * How often a pipeline evaluates the rise heads, seconds: every round(this / hop_s) windows
 * (every other one at the default 0.5-s hop), the windows between carrying the last value. What
 * they hear is steady (periodic impacts, tones), and 2-s envelopes a second apart overlap by
 * half, as Welch's spectra do. Over the 75 normals of bench/eval_folds.sh idnn16-fast-rise
 * ranked AUC 0.696 so and 0.700 on every window, which cost 1.2 times idnn16-fast-stats' CPU per
 * clip in bench_score (before this stage's own speed-ups; now 1.1). Every 2 s ranked alike
 * (0.697) but a value held for four windows outlasts the hysteresis: one high evaluation on an
 * unseen normal raised a false event on 2 seeds of 5 (models/README.md). (Before the steady
 * median below and the envelopes' first differences.)
 */
#define RISE_HEADS_EVERY_S 1.0

/*
 * What a window adds is the median of the last RISE_HEADS_STEADY evaluations' gates (those
 * before a (re)start count as 0): a steady fault, what these heads are for, is heard in every
 * evaluation, while an unseen normal's brief sound is heard only in the evaluations whose 2-s
 * windows hold it: two, at one a second. Seven, so that a median needs four: with three, a
 * sound near the end of normal 62 held two evaluations high and, normals 55..74 laid end to
 * end, lifted the smoothed score to 10.9-11.2 on every seed of models/README.md (the real
 * anomaly: 14.9); five held that to 8.9-9.2 (the anomaly 14.7-14.8), until the impulse head,
 * which hears that sound too, in three evaluations of five (normal 62's last 3.5 s): 12.9-13.0
 * against thresholds of 13.6-13.9 (the anomaly 24.5-24.7). With seven the normals' highest is
 * 8.4-8.5 against thresholds of 11.2-12.5 (the anomaly 23.9-24.1), and the ranking did not
 * move (AUC 0.716 against 0.714 with five, not a difference, on bench/eval_folds.sh; before the
 * impulse head 0.701 with five, 0.700 with three, 0.696 with one evaluation, no median). The
 * price: a steady fault adds to the score from its fourth evaluation, about 4 s after it starts.
 */
#define RISE_HEADS_STEADY 7u
#if RISE_HEADS_STEADY > MODEL_RISE_STEADY_MAX
#error "RISE_HEADS_STEADY exceeds what a model file may hold"
#endif

/*
 * Where a head rose most, the feature of its largest z: [RISE_AT_HZ] a tone's frequency (tones),
 * how many times a second the level rose and fell (envelope, impulses); [RISE_AT_BAND_LO],
 * [RISE_AT_BAND_HI] the edges of the band whose level it was (envelope; NaN for the others).
 * Hz; NaN for a head the model lacks.
 */
enum { RISE_AT_HZ, RISE_AT_BAND_LO, RISE_AT_BAND_HI, RISE_AT_N };

/* The heads, in the order of their features, terms and detector/detector.h's rise heads; the
 * first RISE_N_STEADY go through the steady median, the bursts head adds every evaluation. */
enum { RISE_ENVELOPE, RISE_TONES, RISE_IMPULSES, RISE_BURSTS, RISE_N_HEADS };
#define RISE_N_STEADY 3

struct rise_heads {
	struct envelope_spectrum env;
	struct tone_peaks tones;
	struct envelope_spectrum imp;                    /* with an impulse head */
	struct burst_crest bursts;                       /* with a bursts head */
	struct stats_head env_head, tone_head, imp_head; /* set up only when scoring */
	struct stats_head burst_head;
	uint32_t env_frames;  /* short frames the envelope spans (the window's, at most n_fft) */
	uint32_t tone_frames; /* front-end frames the mean spectrum spans (the window's) */
	uint32_t imp_frames;  /* impulse blocks its envelope spans (the window's, at most n_fft) */
	uint32_t env_dim, tone_dim, imp_dim; /* imp_dim 0 without an impulse head */
	uint32_t burst_dim;                  /* 0 without a bursts head */
	float *features; /* env_dim + tone_dim + imp_dim + burst_dim: the last computed window's,
			    in order */
	/* the last gate's (rise_heads_gate): each head's term, NaN for a head the model lacks, and
	 * where it rose most (RISE_AT_*) */
	float terms[RISE_N_HEADS];
	float at[RISE_N_HEADS][RISE_AT_N];
	struct {
		float gate;
		float terms[RISE_N_HEADS];
		float at[RISE_N_HEADS][RISE_AT_N];
	} recent[MODEL_RISE_STEADY_MAX]; /* the last `steady` evaluations, newest last */
	uint32_t n_recent;
	/* the evaluation the last rise_heads_steady returned: its terms, where its heads rose most */
	float steady_terms[RISE_N_HEADS];
	float steady_at[RISE_N_HEADS][RISE_AT_N];
	/* where the features lie: Hz per tone bin, per envelope bin and per impulse bin, and a
	 * band's width (the window head's linear bands; the bursts head's) */
	float tone_hz, env_hz, imp_hz, band_hz, burst_band_hz;
	const struct model_rise_heads *r;
	int scoring; /* statistics restored from the model: rise_heads_gate works */
};

/* New rise heads' shape and gate (the defaults above) for features f (tone_bins: the bins of
 * its spectra under the rate converter's pass band; an impulse head when RISE_IMP_BLOCK divides
 * its hop), no fitted statistics, the heads' dims set for a window head keeping n_kept bands. */
void rise_heads_config_defaults(struct model_rise_heads *r, const struct feature_params *f,
				uint32_t n_kept);

/* The configuration of a rise head's diagonal Gaussian (model/stats_head.h): rises only, the
 * mean of the largest top_fraction of z (the bursts head: its largest z alone), r's floor. */
void rise_heads_stats_config(const struct model_rise_heads *r, bool bursts, uint32_t dim,
			     struct stats_head_config *sc);

/* Adds a bursts head of the defaults above (no fitted statistics) to rise heads r set up by
 * rise_heads_config_defaults: bands of RISE_BURST_BAND_BINS bins over the tonal peaks' bins. */
void rise_heads_add_bursts(struct model_rise_heads *r);

/* The heads of r in feature order (RISE_ENVELOPE..RISE_BURSTS); a head the model lacks has
 * dim 0. */
void rise_heads_each(struct model_rise_heads *r, struct model_rise_head *heads[RISE_N_HEADS]);

/* Short frames of the window head the envelope needs for windows of window_blocks feature hops
 * (the pipeline's window_head history): min(env_n_fft, the window's frames). */
uint32_t rise_heads_envelope_frames(const struct model_rise_heads *r,
				    const struct model_window_head *h,
				    const struct feature_params *f, uint32_t window_blocks);

/* Impulse blocks the impulse head needs for windows of window_blocks feature hops (the ring
 * the pipeline's impulse_envelope keeps): min(imp_n_fft, the window's blocks); 0 without. */
uint32_t rise_heads_impulse_blocks(const struct model_rise_heads *r, const struct feature_params *f,
				   uint32_t window_blocks);

/*
 * Sets up the stage for rise heads r of a model with window head h and features f, over windows
 * of window_blocks feature hops; when r's means are set, their statistics too, for scoring.
 * AUSCULT_OK, AUSCULT_ERR_INVALID naming the field, AUSCULT_ERR_NOMEM. rise_heads_free is safe
 * after a failure.
 */
int rise_heads_init(struct rise_heads *rh, const struct model_rise_heads *r,
		    const struct model_window_head *h, const struct feature_params *f,
		    uint32_t window_blocks, struct auscult_err *err);

/*
 * The features of the window that ends now: history (the window head's band dB ring: cap rows of
 * row_len, history_count frames so far), power (the front end's ring: tone_frames rows of
 * power_row_len >= tone_bins, power_count frames so far; power_sums, when not NULL, the last
 * tone_frames rows already summed bin by bin, tone_peaks_compute_summed; the bursts head reads
 * the rows) and impulses (the impulse envelope's ring of imp_frames blocks, impulse_count so
 * far; ignored without an impulse head). Fills rh->features. Never allocates, never fails.
 */
void rise_heads_compute(struct rise_heads *rh, const float *history, uint32_t cap, uint32_t row_len,
			uint64_t history_count, const float *power, uint32_t power_row_len,
			uint64_t power_count, const float *power_sums, const float *impulses,
			uint64_t impulse_count);

/* Floats in rh->features: every head's features, in order. */
uint32_t rise_heads_feature_dim(const struct rise_heads *rh);

/* What the last computed window's steady heads add to its score: the sum over them of their
 * terms, gate_weight x max(0, (score - cal_mean) / cal_std - gate_z), each kept in rh->terms
 * (envelope, tones, impulses; NaN for a head the model lacks) and where it rose most in rh->at.
 * The bursts head's term (its own burst_gate_z) goes to rh->terms[RISE_BURSTS] only: it is not
 * in the value returned, rise_heads_steady adds it. Each head's standardised score in
 * z[RISE_*] (NaN without) when z is not NULL. NaN when not scoring. */
float rise_heads_gate(struct rise_heads *rh, float z[RISE_N_HEADS]);

/* Takes an evaluation's gate (rise_heads_gate, whose rh->terms and rh->at go with it) and
 * returns what the window adds: the median of the last rh->r->steady gates (the model's;
 * RISE_HEADS_STEADY for new ones), 0 for those before the last rise_heads_restart, plus this
 * evaluation's bursts term (a burst is brief: the median would drop it).
 * rh->steady_terms gets the steady heads' terms of the evaluation the median is (all 0 for one
 * before the restart; NaN for a head the model lacks) and this evaluation's bursts term: what
 * each head added, summing to the value returned; rh->steady_at where its heads rose most (NaN
 * before the restart). */
float rise_heads_steady(struct rise_heads *rh, float gate);

/* Forgets the gates taken and the frames the bursts head banded: the machine stopped, or the
 * stream starts again. */
void rise_heads_restart(struct rise_heads *rh);

/* Frees everything. NULL-safe, safe after a failed init. */
void rise_heads_free(struct rise_heads *rh);

/* FLOPs of one window's features and scores (for `auscult info` and cost tables). */
double rise_heads_flops_per_window(const struct model_rise_heads *r,
				   const struct model_window_head *h,
				   const struct feature_params *f, uint32_t window_blocks);

/* FLOPs per second of audio: a window of window_s evaluated once every RISE_HEADS_EVERY_S (as
 * window_head_flops_per_s is for the window head), and the impulse envelope of every sample. */
double rise_heads_flops_per_s(const struct model_rise_heads *r, const struct model_window_head *h,
			      const struct feature_params *f, double window_s);

#endif
