#!/bin/sh
# window_aggregation.sh - a `--aggregate top:F` model: auscultd scores each window with the
# model's own aggregation, as `auscult threshold --window-s` does when it fits the threshold. The
# same recording through both must put the same windows above the threshold, and the windows'
# scores must be those of the largest share (each above the plain mean the daemon gave before).
. "$(dirname "$0")/lib/common.sh"

mkdir -p "$WORK/train"
for i in 00 01 02 03 04 05 06 07 08 09; do ln -s "$DATA/normal_id_00_000000$i.wav" "$WORK/train/"; done
"$AUSCULT_BIN" train --out "$WORK/model.am" --standardize --input-frames 0,1,3,4 \
	--target-frames 2 --band-weights --aggregate top:0.1 --hidden 16 --epochs 5 --seed 1 \
	--threads 1 --quiet "$WORK/train" >"$WORK/train.log" 2>&1 || fail "training the test model"
rec="$DATA/normal_id_00_00000030.wav"
# Quantile 0.5: about half of the 16 windows end up above the threshold, so a difference shows.
# The fit is to the raw window scores (--smoothing none), which the daemon publishes as `raw`.
"$AUSCULT_BIN" threshold --model "$WORK/model.am" --out "$WORK/model.am" --window-s 2 \
	--hop-s 0.5 --smoothing none --fit gamma --quantile 0.5 "$rec" >"$WORK/threshold.log" 2>&1 || fail "threshold refit"
above_tool=$(sed -n 's/.*; \([0-9]*\) of them above it).*/\1/p' "$WORK/threshold.log")
n_tool=$(sed -n 's/.* over \([0-9]*\) raw windows of .*/\1/p' "$WORK/threshold.log")
[ -n "$above_tool" ] && [ -n "$n_tool" ] || fail "unexpected threshold output: $(cat "$WORK/threshold.log")"

start_broker
subscribe "$WORK/msgs.txt"
# Scores are published once per stream hop (0.5 s), so every window's raw score is seen.
write_config "$WORK/d.yaml" "{ type: file, path: $rec, realtime: false }" "publish_interval_s: 0.5"
timeout 60 "$AUSCULTD_BIN" --config "$WORK/d.yaml" >"$WORK/daemon.log" 2>&1 || fail "auscultd exited $?"
wait_for 5 "$WORK/msgs.txt" '^auscult/status offline'
grep '^auscult/pump/score ' "$WORK/msgs.txt" >"$WORK/scores.txt" || true
n_daemon=$(wc -l <"$WORK/scores.txt")
[ "$n_daemon" = "$n_tool" ] || fail "auscultd published $n_daemon window scores, the fit used $n_tool"
above_daemon=$(awk -F'"raw":' '{ split($2, a, ","); split($0, t, "\"threshold\":");
	split(t[2], b, ","); if (a[1] + 0 > b[1] + 0) n++ } END { print n + 0 }' "$WORK/scores.txt")
[ "$above_daemon" = "$above_tool" ] ||
	fail "auscultd put $above_daemon of $n_daemon windows above the threshold, the fit $above_tool"
[ "$above_tool" -gt 0 ] && [ "$above_tool" -lt "$n_tool" ] || fail "$above_tool of $n_tool above: no contrast"
echo "window_aggregation: $above_daemon of $n_daemon windows above the threshold in both: ok"
