#!/bin/sh
# learn_mode.sh - a monitor with `learn:` and no model yet: state `learning` with progress, a stop
# in the middle keeps the whole clips, the restart resumes from them, trains, writes the model and
# monitors it (state normal, scores), through the real daemon and a real mosquitto.
. "$(dirname "$0")/lib/common.sh"

command -v sox > /dev/null || { echo "SKIP: sox is missing"; exit 77; }
# 60 s of the machine running normally (six DCASE normals).
sox "$DATA/normal_id_00_00000000.wav" "$DATA/normal_id_00_00000001.wav" \
	"$DATA/normal_id_00_00000002.wav" "$DATA/normal_id_00_00000003.wav" \
	"$DATA/normal_id_00_00000004.wav" "$DATA/normal_id_00_00000005.wav" "$WORK/normal.wav"
# And 60 s more for the restart, so that its clips are not the first run's sound again.
sox "$DATA/normal_id_00_00000006.wav" "$DATA/normal_id_00_00000007.wav" \
	"$DATA/normal_id_00_00000008.wav" "$DATA/normal_id_00_00000009.wav" \
	"$DATA/normal_id_00_00000010.wav" "$DATA/normal_id_00_00000011.wav" "$WORK/normal2.wav"
start_broker
subscribe "$WORK/msgs.txt"
CLIPS="$WORK/model.am.learn"

# A missing model stays an error without `learn:`, and is fine with it.
write_config "$WORK/nolearn.yaml" "{ type: file, path: $WORK/normal.wav }"
if "$AUSCULTD_BIN" --check-config --config "$WORK/nolearn.yaml" > "$WORK/check.log" 2>&1; then
	fail "a missing model without learn: passed the check"
fi
grep -q "model: cannot read the model file '$WORK/model.am'" "$WORK/check.log" ||
	fail "missing model: $(cat "$WORK/check.log")"
write_config "$WORK/short.yaml" "{ type: file, path: $WORK/normal.wav }" "learn: { minutes: 0.1 }"
if "$AUSCULTD_BIN" --check-config --config "$WORK/short.yaml" > "$WORK/check.log" 2>&1; then
	fail "learn.minutes 0.1 passed the check"
fi
grep -q "short.yaml:[0-9]*:[0-9]*: monitors\[0\].learn.minutes: 0.1 is out of range \[0.5, 10080\]" \
	"$WORK/check.log" || fail "learn.minutes 0.1: $(cat "$WORK/check.log")"
write_config "$WORK/first.yaml" "{ type: file, path: $WORK/normal.wav, realtime: true }" \
	"learn: { minutes: 0.5 }"
"$AUSCULTD_BIN" --check-config --config "$WORK/first.yaml" > "$WORK/check.log" 2>&1 ||
	fail "learn: with no model yet refused: $(cat "$WORK/check.log")"
# Two monitors learning one model would mix their clips: refused, naming the second's line.
cp "$WORK/first.yaml" "$WORK/twice.yaml"
cat >>"$WORK/twice.yaml" <<EOC
  - name: fan
    source: { type: file, path: $WORK/normal2.wav }
    model: $WORK/model.am
    learn: { minutes: 0.5 }
EOC
if "$AUSCULTD_BIN" --check-config --config "$WORK/twice.yaml" > "$WORK/check.log" 2>&1; then
	fail "two monitors learning one model passed the check"
fi
grep -q "twice.yaml:[0-9]*:[0-9]*: monitors\[1\].model: monitor 'pump' learns the model '$WORK/model.am' too" \
	"$WORK/check.log" || fail "two learning one model: $(cat "$WORK/check.log")"

# 1. Learning at real time: once the first 10-s clip is whole, stop the daemon.
start_daemon first
wait_for 10 "$WORK/msgs.txt" '^auscult/pump/state learning$'
wait_until 30 sh -c "ls '$CLIPS' 2>/dev/null | grep -q '\.wav$'" || fail "no clip after 30 s"
wait_for 5 "$WORK/msgs.txt" '^auscult/pump/learning {.*"state":"learning","phase":"recording","progress":[0-9.]*,"clips":1,"clips_needed":3}'
# The state is retained: a newcomer (Home Assistant after a restart) sees `learning`.
retained=$(mosquitto_sub -h 127.0.0.1 -p "$PORT" -t auscult/pump/state -C 1 -W 3) ||
	fail "no retained state"
[ "$retained" = learning ] || fail "retained state '$retained', expected learning"
stop_daemon first 5
[ ! -e "$WORK/model.am" ] || fail "a model appeared after 1 of 3 clips"
n=$(ls "$CLIPS" | grep -c '^[0-9]\{8\}T[0-9]\{6\}Z\(-[0-9]*\)\?\.wav$' || true)
[ "$n" -ge 1 ] && [ "$n" -lt 3 ] || fail "after the stop: $n clips in $CLIPS"
[ -z "$(ls -A "$CLIPS" | grep '^\.')" ] || fail "partial clip left: $(ls -A "$CLIPS")"
percent=$(grep '"phase":"recording"' "$WORK/msgs.txt" | tail -n 1 | sed 's/.*"progress":\([0-9.]*\).*/\1/')
echo "stopped while learning: $n clip(s) kept, progress $percent%"

# 2. Restart, as fast as the file reads: resumes from the clips on disk, trains, monitors.
subscribe "$WORK/msgs2.txt"
write_config "$WORK/second.yaml" "{ type: file, path: $WORK/normal2.wav, realtime: false }" \
	"learn: { minutes: 0.5 }"
start_daemon second
wait_for_file 120 "$WORK/second.exit" || fail "the second run did not end within 120 s"
read -r rc _ < "$WORK/second.exit"
[ "$rc" = 0 ] || fail "the second run exited $rc"
grep -q "recording 3 clips of the machine running (0.5 min; $n already in $CLIPS)" \
	"$WORK/second.daemon.log" || fail "did not resume from the $n clip(s)"
[ -s "$WORK/model.am" ] || fail "no model written"
"$AUSCULT_BIN" info "$WORK/model.am" > "$WORK/info.txt" || fail "the learned model does not load"
# Learning trains as `auscult train` does: the model keeps its training curve.
grep -q '^training curve: [0-9][0-9]* epochs\{0,1\}; training loss first ' "$WORK/info.txt" ||
	fail "the learned model has no training curve: $(grep '^training curve' "$WORK/info.txt")"
[ "$(ls "$CLIPS" | grep -c '\.wav$')" -eq 3 ] || fail "the clip folder is not 3 clips: $(ls -A "$CLIPS")"
grep -q '"phase":"training","progress":[89]' "$WORK/msgs2.txt" || fail "no training progress"
grep -q '"phase":"done","progress":100' "$WORK/msgs2.txt" || fail "no 100% progress"
grep -q "learned $WORK/model.am in .* fitted to 16 windows of 1 held-out clips" \
	"$WORK/second.daemon.log" || fail "no learned line"
# Then it monitors with the new model: normal state, scores against the refitted threshold
# (`starting` may be superseded in the outbox by the first real state: states are retained).
sed -n 's/^auscult\/pump\/state //p' "$WORK/msgs2.txt" | tr '\n' ' ' > "$WORK/states.txt"
grep -q "^learning .*normal" "$WORK/states.txt" || fail "states: $(cat "$WORK/states.txt")"
threshold=$(sed -n 's/^threshold: *\([0-9.]*\).*/\1/p' "$WORK/info.txt" | head -n 1)
scores=$(count '^auscult/pump/score {.*"smoothed":' "$WORK/msgs2.txt")
[ "$scores" -ge 30 ] || fail "only $scores scores after learning"
# The score topic keeps one schema (Home Assistant's score sensor reads `smoothed`).
! grep -q '^auscult/pump/score .*"phase"' "$WORK/msgs.txt" "$WORK/msgs2.txt" ||
	fail "a progress payload on the score topic"
echo "resumed, learned (threshold $threshold), monitored: states $(cat "$WORK/states.txt"), $scores scores"
echo "ok"
