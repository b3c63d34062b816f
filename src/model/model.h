/* model.h - the in-memory autoencoder detector: everything needed to score, as one struct. */
#ifndef AUSCULT_MODEL_H
#define AUSCULT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"
#include "features/feature_params.h"

enum activation {
	ACTIVATION_LINEAR = 0,
	ACTIVATION_RELU = 1,
};

/*
 * One dense layer: out = act(W x + b). Batch normalisation is folded into W and b when a
 * trained network is saved, so inference only ever sees dense layers.
 */
struct dense_layer {
	uint32_t n_in;
	uint32_t n_out;
	enum activation activation;
	float *weights; /* n_out x n_in, row-major (row o holds the weights into output o) */
	float *bias;    /* n_out */
};

/* How a clip's per-vector errors become one clip score. */
enum clip_aggregation {
	CLIP_AGG_MEAN = 0,    /* mean over all vectors: the DCASE baseline */
	CLIP_AGG_TOP_MEAN = 1 /* mean of the largest top_fraction of the vectors */
};

/* A gamma distribution fitted to the training clips' scores, and the threshold drawn from it. */
struct model_threshold {
	float gamma_shape; /* k > 0 */
	float gamma_scale; /* theta > 0 */
	float quantile;    /* in (0, 1): the threshold is the gamma's quantile at this level */
	float threshold;   /* clip score above which a clip is anomalous */
};

/*
 * The optional window-statistics head (model/window_head.h): each band's mean and spread of dB
 * energy over the short frames of a window (features/band_stats.h, no fine spectrum, no
 * modulation), scored by a full-covariance Gaussian fitted on normal windows
 * (model/stats_head.h). The spectrum kind (version 7) scores the window's mean
 * spectrum instead (model/spectrum_head.h); the short frames stay, for the rise heads' envelopes.
 * A window's score is ae / ae_median + ln(1 + head / head_median): each
 * part over its median on the training windows (the head's on windows of recordings its fit
 * left out), so neither scale decides; the log tames the head's heavy tail on new recordings.
 */
enum window_head_kind {
	WINDOW_HEAD_BANDS = 0,   /* band mean and spread, full-covariance Gaussian (versions 2-6) */
	WINDOW_HEAD_SPECTRUM = 1 /* the mean spectrum in narrow bands, residual off the normal
				    windows' principal subspace (model/spectrum_head.h; version 7) */
};

struct model_window_head {
	uint32_t n_fft;      /* short frame FFT size, power of two (256, or 128) */
	uint32_t hop;        /* short frame hop, samples; divides features.hop_length 4+ times;
				above n_fft, frames with gaps between them */
	uint32_t n_bands;    /* linear bands over 0..rate/2; divides n_fft / 2 */
	uint32_t n_kept;     /* the lowest n_kept bands are the features, 1..n_bands (fewer
				leave out the top of the spectrum, which a rate converter's
				roll-off changes when the microphone runs at another rate) */
	float shrinkage;     /* [0, 1]: correlation shrunk toward the identity before inversion */
	float std_floor_rel; /* >= 0: std floor relative to the median std, as fitted */
	float ae_median;     /* > 0: median autoencoder window score on the training windows */
	float head_median;   /* > 0: median head window score on held-out training windows */
	uint32_t dim;        /* BANDS: 2 * n_kept features, band means then band spreads, dB;
				SPECTRUM: its bands, 2..SPECTRUM_HEAD_MAX_BANDS */
	float *mean;         /* dim fitted means, dB */
	float *inv_std;      /* dim 1 / fitted (floored) standard deviations, > 0 */
	float *precision;    /* BANDS: dim x dim inverse shrunk correlation of the standardised
				features; SPECTRUM: NULL */
	enum window_head_kind kind;
	/* SPECTRUM (format version 7): dim bands of spec_band_bins front-end bins from bin 1; mean
	 * their fitted dB, inv_std 1 / their residuals' (floored) spread on held-out windows */
	uint32_t spec_band_bins; /* >= 1; dim x spec_band_bins <= n_fft / 2 of the features */
	uint32_t spec_rank;      /* principal directions projected out, 1..dim - 1 */
	float spec_top_fraction; /* (0, 1]: share of the largest squared residuals averaged */
	float *basis;            /* dim x spec_rank, row-major: the principal directions */
};

/*
 * The optional rise heads (model/rise_heads.h), on a model with a window head: two diagonal
 * Gaussians of window features, each scoring a window by the mean of its largest top_fraction
 * of z-scores, rises only (model/stats_head.h):
 *   envelope: each of the window head's kept bands, its dB envelope over the head's short frames
 *             transformed with env_n_fft points (the window's last env_n_fft frames at most),
 *             dB power at bins env_bin_lo..env_bin_hi (features/envelope_spectrum.h): periodic
 *             impacts, rubs;
 *   tones:    bins 1..tone_bins of the window's mean front-end spectrum, each bin's rise over
 *             the bins tone_near..tone_far away (features/tone_peaks.h): new tones;
 *   impulses: (optional, format version 6) the dB energy of the signal's second difference
 *             over contiguous blocks of imp_block samples (features/impulse_envelope.h), the
 *             window's last imp_n_fft blocks at most transformed with imp_n_fft points, dB
 *             power at bins imp_bin_lo..imp_bin_hi: impacts too brief or too frequent for the
 *             envelope head's frames.
 *   bursts:   (optional, format version 8) bands of burst_band_bins front-end spectrum bins,
 *             1..burst_bins: each band's crest over the window's frames, dB of its loudest
 *             frame's power over its mean power (features/burst_crest.h): a knock, a crack, a
 *             hiss of steam that lasts a frame or two in one narrow band. Its score is its
 *             largest z, and it is gated by burst_gate_z into every evaluation, not through the
 *             steady median, which is there to silence what lasts as briefly.
 * Each head's window score is standardised by cal_mean and cal_std (its scores on windows of
 * training recordings its fit left out), and a window's score gains gate_weight x what each
 * standardised score exceeds gate_z: a normal window seldom passes, so the score keeps its scale
 * and its threshold; a window a head hears adds to it.
 */
struct model_rise_head {
	uint32_t dim;   /* features */
	float *mean;    /* dim fitted means, dB */
	float *inv_std; /* dim 1 / fitted (floored) standard deviations, > 0 */
	float cal_mean; /* the head's mean window score on held-out training windows */
	float cal_std;  /* their standard deviation, > 0 */
};

/* The rise heads' steady median: what format version 5 files used (they do not record it), and
 * the most a file may ask for. */
#define MODEL_RISE_STEADY_V5 5u
#define MODEL_RISE_STEADY_MAX 15u

struct model_rise_heads {
	uint32_t env_n_fft;  /* envelope transform size, power of two in [4, 65536] */
	uint32_t env_bin_lo; /* lowest envelope bin kept, >= 1 */
	uint32_t env_bin_hi; /* highest, env_bin_lo..env_n_fft / 2 - 1 */
	uint32_t tone_bins;  /* front-end spectrum bins 1..tone_bins, 2..n_fft / 2 */
	uint32_t tone_near;  /* nearest neighbour a bin is compared with, >= 1 */
	uint32_t tone_far;   /* farthest, tone_near..tone_bins - 1 */
	float top_fraction;  /* (0, 1]: share of the largest z averaged into a head's score */
	float std_floor_rel; /* >= 0: std floor relative to the median std, as fitted */
	float gate_z;        /* standardised score a head must exceed to count, finite */
	float gate_weight;   /* >= 0: what each unit above gate_z adds to the window score */
	uint32_t steady;     /* a window adds the median of the last `steady` evaluations' gates,
				1..MODEL_RISE_STEADY_MAX (format version 5 files: MODEL_RISE_STEADY_V5) */
	uint32_t imp_block;  /* impulse envelope block, samples; 0: no impulse head */
	uint32_t imp_n_fft;  /* its transform size, power of two in [4, 65536] */
	uint32_t imp_bin_lo; /* lowest bin kept, >= 1 */
	uint32_t imp_bin_hi; /* highest, imp_bin_lo..imp_n_fft / 2 - 1 */
	uint32_t burst_bins; /* bursts head: front-end spectrum bins 1..burst_bins, at most
				     n_fft / 2; 0: no bursts head (format version 8) */
	uint32_t burst_band_bins;        /* its bands' width in bins, >= 1, divides burst_bins */
	float burst_gate_z;              /* its own gate (it adds every evaluation, not the steady
				     median), finite; it shares gate_weight */
	struct model_rise_head envelope; /* dim = head n_kept x (env_bin_hi - env_bin_lo + 1) */
	struct model_rise_head tones;    /* dim = tone_bins */
	struct model_rise_head impulses; /* dim = imp_bin_hi - imp_bin_lo + 1; 0 without */
	struct model_rise_head bursts;   /* dim = burst_bins / burst_band_bins; 0 without */
};

struct model_training_info {
	uint64_t n_vectors; /* training vectors (after the validation split) */
	uint32_t n_files;   /* training files */
	uint32_t epochs;    /* epochs run */
	uint32_t batch_size;
	float learning_rate;
	float validation_split; /* share of vectors held out */
	uint64_t seed;
	float train_loss;       /* final epoch's mean training loss */
	float val_loss;         /* final epoch's validation loss (NaN when none held out) */
	int64_t created_unix_s; /* creation time, seconds since the epoch */
	char tool_version[32];  /* auscult version that wrote the file, NUL-terminated */
};

/* The most epochs a training curve holds (and `auscult train --epochs` runs): a bound, so that a
 * hostile model file cannot make the loader allocate much (2 x 4 bytes per epoch). */
#define MODEL_CURVE_MAX_EPOCHS 100000u

/*
 * The training curve: each finished epoch's losses, as the trainer printed them (what the
 * reference system showed in TensorBoard). n_epochs 0: not recorded (models from before
 * auscult 0.2, or built by hand); then both arrays are NULL.
 */
struct model_training_curve {
	uint32_t n_epochs; /* 0, or in [1, MODEL_CURVE_MAX_EPOCHS]; equals training.epochs */
	float *train_loss; /* n_epochs: epoch e's mean training loss (MSE), finite, >= 0; owned */
	float *val_loss;   /* n_epochs: its validation loss (MSE, >= 0), NaN when none held out;
			    * owned */
};

/*
 * The whole detector. The network's input is the stacked log-mel vector (n_stack * n_mels values,
 * frame-major: frame 0's n_mels bands, then frame 1's, ...), standardised when input_mean is set,
 * restricted to the frames in input_frames; its output must reconstruct the (standardised) frames
 * in target_frames. Baseline: all five in, all five out. IDNN-style interpolation: frames 0,1,3,4
 * in (0x1b), frame 2 out (0x04).
 */
/* The floor of a fitted input standard deviation: a constant input (a band of digital silence)
 * must not make 1 / std overflow into infinite scores. */
#define MODEL_INPUT_STD_MIN 1e-6f

struct model {
	struct feature_params features;
	uint32_t input_frames;  /* bit f set: stacked frame f is part of the network input */
	uint32_t target_frames; /* bit f set: stacked frame f must be reconstructed */

	float *input_mean; /* NULL, or n_stack * n_mels training means (standardisation) */
	float *input_std;  /* NULL, or n_stack * n_mels training standard deviations
			      (>= MODEL_INPUT_STD_MIN) */

	/* NULL, or n_mels weights: each band's squared error is multiplied by its weight
	 * (1 / the band's mean squared error on the training data for band-normalised error). */
	float *band_weights;

	enum clip_aggregation aggregation;
	float top_fraction; /* for CLIP_AGG_TOP_MEAN: in (0, 1], e.g. 0.1 for the largest 10% */

	uint32_t n_layers;
	struct dense_layer *layers; /* n_layers, owned */

	struct model_threshold threshold;
	struct model_training_info training;
	struct model_training_curve curve; /* n_epochs 0: none recorded */

	struct model_window_head *head; /* NULL: the autoencoder alone; owned */
	struct model_rise_heads *rise;  /* NULL: none; only with a head; owned */
};

/* Number of set bits among the low n_stack bits of a frame mask. */
uint32_t model_frame_count(uint32_t frames_mask, uint32_t n_stack);

/* Network input width: frames in input_frames x n_mels. */
uint32_t model_input_dim(const struct model *m);

/* Network output width: frames in target_frames x n_mels. */
uint32_t model_output_dim(const struct model *m);

/*
 * Checks everything a loaded or freshly trained model must satisfy: feature parameters the front
 * end can do, non-empty frame masks within n_stack, layer sizes chained from model_input_dim to
 * model_output_dim, known activations, all values finite, std > 0, threshold sane.
 * Returns AUSCULT_OK or AUSCULT_ERR_INVALID/UNSUPPORTED with a message naming the field.
 */
int model_validate(const struct model *m, struct auscult_err *err);

/*
 * Checks a window head against the model's features (the part of model_validate for m->head):
 * band_stats can do its frames, its blocks tile the features' hop, sizes agree, every value is
 * finite, stds and medians > 0. AUSCULT_OK or AUSCULT_ERR_INVALID naming the field.
 */
int model_window_head_validate(const struct model_window_head *h, const struct feature_params *f,
			       struct auscult_err *err);

/* Frees a head and its arrays. NULL-safe. */
void model_window_head_free(struct model_window_head *h);

/*
 * Checks rise heads against the model's window head h (required) and features (the part of
 * model_validate for m->rise): transform sizes and bins the stages can do, dims that follow from
 * them, every value finite, stds > 0. AUSCULT_OK or AUSCULT_ERR_INVALID naming the field.
 */
int model_rise_heads_validate(const struct model_rise_heads *r, const struct model_window_head *h,
			      const struct feature_params *f, struct auscult_err *err);

/* Frees rise heads and their arrays. NULL-safe. */
void model_rise_heads_free(struct model_rise_heads *r);

/*
 * What makes b score windows differently from a, apart from what either learned: NULL when they
 * are alike (the same front end, frames, aggregation, window head shape, rise heads' shape, gate
 * and steady count, impulse head), else the first difference, in a few words ("the rise heads:
 * one has them"). A fold model must be alike for `auscult threshold --fold` to pool its scores.
 */
const char *model_scoring_difference(const struct model *a, const struct model *b);

/* Frees everything the model owns and zeroes it. NULL-safe; safe on a zeroed model. */
void model_free(struct model *m);

#endif
