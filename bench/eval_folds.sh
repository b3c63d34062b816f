#!/usr/bin/env bash
# eval_folds.sh - held-out accuracy over three rotations of the 75 normals: every normal held out once, recipes compared with paired intervals.
#
# bench/eval_detector.sh holds out normals 55..74 only: with 20 normals, AUCs a few hundredths
# apart are often noise (`make_faults compare` says which). This script trains each recipe three
# times with `auscult train`, each time on the 50 normals outside one block of 25 (00-24, 25-49,
# 50-74) of ../shared/data/dcase2020_id00, mixes the same seeded synthetic faults as
# eval_detector.sh into the held-out block (make_faults synth: seven families at three levels,
# each rescaled to its source's RMS), scores the block, and pools the three blocks: 75 normals
# and 1,575 faults per recipe. The three models of a recipe are trained alike, so their scores
# share a scale and one table can pool them. It prints each recipe's AUC table ("default":
# `auscult train` without --recipe), then the default against each other recipe: the AUC difference overall, at the weakest level and
# on the report families, with its 95% interval over draws of the 75 source recordings.
#
# Usage: bench/eval_folds.sh [--seed N] [--keep DIR] [RECIPE...]
#   RECIPE...   the recipes to compare with the default (default: idnn16-spec-rise dcase2020)
#   --seed N    fault seed (default 1)
#   --keep DIR  work in DIR and keep it (models, clips, scores); default: a temporary folder
# Environment: AUSCULT_BUILD (default ./build), AUSCULT_DATA (default ../shared/data/dcase2020_id00)
# One thread; about 3 minutes with dcase2020 (whose three trainings take most of it). Build first:
#   cmake --build build -j2 --target auscult make_faults
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib/eval_setup.sh
. "$here/bench/lib/eval_setup.sh"
build=${AUSCULT_BUILD:-$here/build}
data=${AUSCULT_DATA:-$here/../shared/data/dcase2020_id00}
seed=1
keep=
others=()
while [ $# -gt 0 ]; do
	case $1 in
	--seed) seed=${2:?--seed needs a number}; shift ;;
	--keep) keep=${2:?--keep needs a folder}; shift ;;
	-*) echo "usage: $0 [--seed N] [--keep DIR] [RECIPE...]" >&2; exit 2 ;;
	*) others+=("$1") ;;
	esac
	shift
done
case $seed in '' | *[!0-9]*) echo "$0: --seed $seed: expected a non-negative integer" >&2; exit 2 ;; esac
[ ${#others[@]} -gt 0 ] || others=(idnn16-spec-rise dcase2020)

eval_require_tools "$build" auscult make_faults
eval_require_data "$data/train/normal_id_00_00000074.wav"
eval_work_dir eval_folds "$keep"
export OPENBLAS_NUM_THREADS=1

# "default": `auscult train` without --recipe, whatever its default recipe is
default=default
recipes=("$default" "${others[@]}")
for r in "${recipes[@]}"; do : >"$work/$r.tsv"; done

for block in 0 1 2; do
	held=()
	fit=()
	for i in $(seq -w 0 74); do
		f=$data/train/normal_id_00_000000$i.wav
		if [ $((10#$i / 25)) -eq "$block" ]; then held+=("$f"); else fit+=("$f"); fi
	done
	clips=$work/clips$block
	rm -rf "$clips"
	mkdir -p "$clips"
	"$build/make_faults" synth --seed "$seed" --out "$clips" "${held[@]}"
	for f in "${held[@]}"; do ln -s "$f" "$clips/"; done
	for r in "${recipes[@]}"; do
		recipe=()
		[ "$r" = "$default" ] || recipe=(--recipe "$r")
		"$build/auscult" train --quiet --threads 1 "${recipe[@]}" \
			--out "$work/$r.$block.am" "${fit[@]}" >/dev/null
		"$build/auscult" score --model "$work/$r.$block.am" "$clips" | cut -f1,2 >>"$work/$r.tsv"
	done
	echo "block $block: normals $((block * 25))-$((block * 25 + 24)) held out, ${#fit[@]} trained on"
done
echo

for r in "${recipes[@]}"; do
	"$build/make_faults" report --name "$r" "$work/$r.tsv" | grep -v '^summary'
	echo
done
for r in "${others[@]}"; do
	"$build/make_faults" compare "$work/$default.tsv" "$work/$r.tsv"
done
