#!/bin/sh
# minutes_curve.sh - how many minutes of normal sound a model needs: AUC against minutes of training audio.
# Trains the baseline recipe on the first N normals of machine id 00 (10 s each) for several N and
# seeds, and prints the AUC of the unseen normals 55..74 against the real anomaly (auscult eval).
# Usage: bench/minutes_curve.sh [BUILD_DIR [SHARED_DIR]]  (one thread per training; ~10 min CPU)
set -eu
build=${1:-build}
shared=${2:-$(dirname "$0")/../../shared}
auscult=$build/auscult
data=$shared/data/dcase2020_id00
[ -x "$auscult" ] || { echo "no $auscult: build first" >&2; exit 1; }
[ -d "$data/train" ] || { echo "no $data/train: give the shared folder" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/minutes_curve.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

mkdir "$tmp/eval"
for i in $(seq 55 74); do ln -s "$data/train/normal_id_00_000000$i.wav" "$tmp/eval/"; done
ln -s "$data/test/anomaly_id_00_00000000.wav" "$tmp/eval/"
printf 'clips\tminutes\tseed\tAUC\n'
for n in ${CLIPS:-6 12 18 30 42 54}; do
	rm -rf "$tmp/train"
	mkdir "$tmp/train"
	i=0
	while [ "$i" -lt "$n" ]; do
		ln -s "$(printf '%s/train/normal_id_00_%08d.wav' "$data" "$i")" "$tmp/train/"
		i=$((i + 1))
	done
	for seed in ${SEEDS:-0 1 2}; do
		"$auscult" train --recipe dcase2020 --quiet --threads 1 --seed "$seed" --out "$tmp/m.am" "$tmp/train" \
			> /dev/null
		auc=$("$auscult" eval --model "$tmp/m.am" "$tmp/eval" | awk '$1 == "all" { print $4 }')
		printf '%s\t%s\t%s\t%s\n' "$n" "$(awk -v n="$n" 'BEGIN { print n / 6 }')" "$seed" "$auc"
	done
done
