#!/usr/bin/env bash
# eval_detector.sh - held-out accuracy of detector recipes on real normals, the real anomaly and seeded synthetic faults.
#
# Trains each recipe with `auscult train` on normals 00..54 of ../shared/data/dcase2020_id00,
# scores with `auscult score` the held-out normals 55..74, the real anomalous recording and, made
# by build/make_faults from those held-out normals, synthetic faults of seven families at three
# levels (each mix rescaled to its source recording's RMS: loudness gives nothing away), and
# prints per recipe: AUC and pAUC (max FPR 0.1) per family and level, pooled over the "tuning"
# families (choose features on these) and the "report" families (never tune on these), the real
# anomaly's rank, MFLOP per 10-s clip and scoring time; then one comparison table.
# When build/bench_detector exists it also runs the window-statistics heads (band_stats +
# stats_head) on the same clips, alone, summed with each autoencoder and in maxima with it (each
# part calibrated on the training recordings' held-out scores: the heads' left out one at a
# time, the autoencoders' from 5 folds) and in gated sums (each network's own score plus what
# its rise heads' windows exceed their normal range by), and prints the table of whichever
# candidate does best on the tuning families. Last, the default against the baseline, the
# network alone, the rise heads' recipe and that candidate (each difference with its 95%
# interval over draws of the source recordings: with 20 normals, AUCs a few hundredths apart
# may be noise), and the
# ceiling: each family and level's best AUC among all the candidates, what an oracle that knew
# the fault would score.
#
# Usage: bench/eval_detector.sh [--quick] [--seed N] [--keep DIR]
#   --quick     10 held-out sources instead of 20 and 20 training epochs instead of 100
#   --seed N    fault seed (default 1); training seeds stay at the tool's default
#   --keep DIR  work in DIR and keep it (models, clips, score files); default: a temporary folder
# Environment: AUSCULT_BUILD (default ./build), AUSCULT_DATA (default ../shared/data/dcase2020_id00)
# Everything runs on one thread. Build first:
#   cmake --build build -j2 --target auscult make_faults bench_detector
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib/eval_setup.sh
. "$here/bench/lib/eval_setup.sh"
build=${AUSCULT_BUILD:-$here/build}
data=${AUSCULT_DATA:-$here/../shared/data/dcase2020_id00}
quick=0
seed=1
keep=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--seed) seed=${2:?--seed needs a number}; shift ;;
	--keep) keep=${2:?--keep needs a folder}; shift ;;
	*) echo "usage: $0 [--quick] [--seed N] [--keep DIR]" >&2; exit 2 ;;
	esac
	shift
done
case $seed in '' | *[!0-9]*) echo "$0: --seed $seed: expected a non-negative integer" >&2; exit 2 ;; esac

eval_require_tools "$build" auscult make_faults
eval_require_data "$data/train/normal_id_00_00000000.wav" "$data/test/anomaly_id_00_00000000.wav"

eval_work_dir eval_detector "$keep"
export OPENBLAS_NUM_THREADS=1

# The recipes: name and `auscult train` options. dcase2020 is the DCASE 2020 Task 2 baseline;
# variant is the best combination of existing options (issue 12), spelled out on the baseline:
# the recipe idnn16 is the same; idnn16-fast is idnn16 on frames every 1024 samples instead of
# 512 (half the work) scored by the largest 20% of a clip's vectors instead of 10%;
# idnn16-fast-stats adds to it the window-statistics head (the mean and spread of 15 bands of
# 0-7.5 kHz over each 2-s window from 64-point frames every 256 samples, a full-covariance
# Gaussian), whose windows `auscult score` sums with the network's;
# idnn16-fast-rise adds the rise heads (each window's envelope spectra and tonal peaks, gated
# into its score); idnn16-spec-rise scores each window's mean spectrum by its residual off the
# normal windows' principal directions in place of the band Gaussian; idnn16-spec-burst, the
# tool's default, adds the bursts head (each 31-Hz band's loudest frame over its mean);
# idnn16-stats is idnn16 with the window head on 256-point frames every 128 samples. MFLOP add
# the heads', as `auscult info --json` counts them.
default_recipe=idnn16-spec-burst
recipes=(
	"dcase2020|--recipe dcase2020"
	"variant|--recipe dcase2020 --standardize --input-frames 0,1,3,4 --target-frames 2 --band-weights --aggregate top:0.1 --hidden 16"
	"idnn16-fast|--recipe idnn16-fast"
	"idnn16-fast-stats|--recipe idnn16-fast-stats"
	"idnn16-fast-rise|--recipe idnn16-fast-rise"
	"idnn16-spec-rise|--recipe idnn16-spec-rise"
	"idnn16-spec-burst|--recipe idnn16-spec-burst"
	"idnn16-stats|--recipe idnn16-stats"
)
epochs=100
folds=5 # the training recordings' held-out scores, for bench_detector's calibration
last=74
if [ "$quick" = 1 ]; then
	epochs=20
	last=64
fi

train=()
for i in $(seq -w 0 54); do train+=("$data/train/normal_id_00_000000$i.wav"); done
held=()
for i in $(seq 55 "$last"); do held+=("$data/train/normal_id_00_000000$i.wav"); done

clips=$work/clips
rm -rf "$clips"
mkdir -p "$clips"
"$build/make_faults" families
"$build/make_faults" synth --seed "$seed" --out "$clips" "${held[@]}"
for f in "${held[@]}" "$data/test/anomaly_id_00_00000000.wav"; do ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$clips/"; done
n_clips=$(find -L "$clips" -name '*.wav' | wc -l)
n_faults=$(find "$clips" -name 'fault_*.wav' | wc -l)
echo "clips: $n_clips ($n_faults faults, ${#held[@]} held-out normals," \
	"1 real anomaly); training: 55 normals, $epochs epochs, 1 thread"
echo

# MFLOP per 10-s clip (160000 samples): the log-mel front end, 1 + 160000 / hop frames (313 at
# hop 512) of a 1024-point real FFT (2.5 N log2 N), window, power and mel weights, about 31 kFLOP
# each (9.7 MFLOP at hop 512); the network, 2 FLOP per weight for each of the clip's stacked
# vectors (frames - 4).
summaries=$work/summaries.tsv
: >"$summaries"
ae_args=()
for r in "${recipes[@]}"; do
	name=${r%%|*}
	opts=${r#*|}
	TIMEFORMAT=%R
	# shellcheck disable=SC2086 # the options are words
	train_s=$({ time "$build/auscult" train --quiet --threads 1 --epochs "$epochs" $opts \
		--out "$work/$name.am" "${train[@]}" >/dev/null; } 2>&1)
	TIMEFORMAT='%U %S'
	cpu=$({ time "$build/auscult" score --model "$work/$name.am" "$clips" >"$work/$name.tsv"; } 2>&1)
	info=$("$build/auscult" info --json "$work/$name.am")
	params=$(echo "$info" | sed 's/.*"parameters":\([0-9]*\).*/\1/')
	hop=$(echo "$info" | sed 's/.*"hop_length":\([0-9]*\).*/\1/')
	# the window head's and the rise heads' front ends and scores, as `auscult info` counts them
	head_mf=$(echo "$info" | awk '{
		while (match($0, /"mflop_per_10s":[0-9.]+/)) {
			s += substr($0, RSTART + 16, RLENGTH - 16)
			$0 = substr($0, RSTART + RLENGTH)
		} } END { print s + 0 }')
	mflop=$(awk -v p="$params" -v h="$head_mf" -v hop="$hop" 'BEGIN {
		frames = 1 + int(160000 / hop)
		printf "%.1f", frames * 31e3 / 1e6 + 2 * p * (frames - 4) / 1e6 + h }')
	ms=$(echo "$cpu" | awk -v n="$n_clips" '{ printf "%.2f", ($1 + $2) * 1000 / n }')
	report=$("$build/make_faults" report --name "$name" "$work/$name.tsv")
	echo "$report" | grep -v '^summary'
	echo "  $name: $mflop MFLOP per 10-s clip ($params weights); scoring $ms ms CPU per clip" \
		"(WAV decoding included); training ${train_s} s"
	echo
	echo "$report" | grep '^summary' |
		awk -v m="$mflop" -v t="$ms" 'BEGIN { FS = OFS = "\t" } { print $0, m, t }' >>"$summaries"
	if [ -x "$build/bench_detector" ]; then
		# The training recordings' scores for the heads' sums and maxima to calibrate on,
		# each from a model trained on the other folds: what a normal it never heard scores.
		: >"$work/$name.train.tsv"
		for ((k = 0; k < folds; k++)); do
			fit=()
			held_out=()
			for i in "${!train[@]}"; do
				if ((i % folds == k)); then held_out+=("${train[$i]}"); else fit+=("${train[$i]}"); fi
			done
			# shellcheck disable=SC2086 # the options are words
			"$build/auscult" train --quiet --threads 1 --epochs "$epochs" $opts \
				--out "$work/$name.fold.am" "${fit[@]}" >/dev/null
			"$build/auscult" score --model "$work/$name.fold.am" "${held_out[@]}" \
				>>"$work/$name.train.tsv"
		done
		ae_args+=(--ae "$name" "$work/$name.tsv" "$work/$name.train.tsv" "$mflop" "$ms")
	fi
done

# The window-statistics heads (band_stats + stats_head) alone and summed with each autoencoder,
# over the daemon's 2-s windows and over whole 10-s clips (a long-term accumulator).
if [ -x "$build/bench_detector" ]; then
	printf '%s\n' "${train[@]}" >"$work/train.txt"
	# w2s and w10s: bench_detector's own front end (256-point frames every 128 samples, a
	# 1024-point spectrum every 512, envelope frequencies 2-62 Hz every 2 Hz). p2s: only frames
	# the pipeline already computes (the window head's 64-point frames every 256 samples, the
	# log-mel front end's 1024-point frames every 1024), envelope frequencies every 0.5 Hz to
	# 30 Hz, the rise heads alone: what a recipe could add at little cost.
	for w in "250:w2s:" "1249:w10s:" \
		"125:p2s:--frame 64 256 --fine 1024 1024 --mod 2 30 57 --only mod-rise,peak-rise"; do
		frames=${w%%:*}
		rest=${w#*:}
		tag=${rest%%:*}
		read -r -a extra <<<"${rest#*:}"
		mkdir -p "$work/$tag"
		"$build/bench_detector" --train "$work/train.txt" --clips "$clips" --out "$work/$tag" \
			--window-frames "$frames" "${extra[@]}" "${ae_args[@]}"
		for f in "$work/$tag"/head_*.tsv; do
			case $f in *.train.tsv) continue ;; esac
			name=$(basename "$f" .tsv)
			name=$tag:${name#head_}
			cp "$f" "$work/$name.tsv"
			read -r m t <"${f%.tsv}.cost"
			"$build/make_faults" report --name "$name" "$f" | grep '^summary' |
				awk -v m="$m" -v t="$t" 'BEGIN { FS = OFS = "\t" } { print $0, m, t }' \
				>>"$summaries"
		done
	done
	echo
	# Chosen on the TUNING families only (column 6 of the summaries); its table shows how it
	# does on the report families it was not chosen on.
	best=$(awk 'BEGIN { FS = "\t" } $6 > b { b = $6; n = $2 } END { print n }' "$summaries")
	echo "best on the tuning families: $best"
	"$build/make_faults" report --name "$best" "$work/$best.tsv" | grep -v '^summary'
	echo
fi

echo "comparison (AUC unless pAUC; hard = level l1; stat-l1 = stationary faults at l1;" \
	"ms = CPU per 10-s clip, WAV decoding included)"
printf '%-40s %7s %7s %7s %7s %7s %7s %6s %6s %7s\n' recipe overall pAUC hard tuning report \
	stat-l1 real MFLOP ms
awk 'BEGIN { FS = "\t" } { printf "%-40s %7s %7s %7s %7s %7s %7s %6s %6s %7s\n",
	$2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' "$summaries"

# Whether the default's lead is more than the benchmark's noise: its AUC against the baseline,
# the network alone, the rise heads' recipe and the best candidate on the tuning families, each
# difference with its interval over draws of the source recordings.
echo
for other in dcase2020 idnn16-fast idnn16-fast-stats ${best:+"$best"}; do
	[ "$other" = "$default_recipe" ] ||
		"$build/make_faults" compare "$work/$default_recipe.tsv" "$work/$other.tsv"
done

# What the candidates could give at most: each family and level scored by the candidate that
# hears it best (an oracle told the fault). The gap between it and the best single candidate is
# what a better combination of these features could still win; below a target, only features
# that hear more can reach it.
echo
cands=()
while IFS=$'\t' read -r _ name _; do cands+=("$work/$name.tsv"); done <"$summaries"
"$build/make_faults" ceiling "${cands[@]}" | grep -v '^ceiling	'
