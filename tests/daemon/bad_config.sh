#!/bin/sh
# bad_config.sh - a bad config is refused with its FILE:LINE:COL message, by --check-config
# and at start-up (exit 1, nothing started); a good one passes --check-config.
. "$(dirname "$0")/lib/common.sh"

make_model
PORT=1883
# monitors[0].window_s out of range on line 8, column 15
cat >"$WORK/bad.yaml" <<EOC
log_level: info
mqtt: { uri: "mqtt://127.0.0.1:1883" }
monitors:
  - name: pump
    source: { type: file, path: $DATA/normal_id_00_00000000.wav }
    model: $WORK/model.am

    window_s: -1
EOC
set +e
"$AUSCULTD_BIN" --check-config --config "$WORK/bad.yaml" >"$WORK/check.out" 2>"$WORK/check.log"
rc=$?
set -e
[ $rc = 1 ] || fail "--check-config on a bad file exited $rc, expected 1"
grep -q "bad.yaml:8:15: monitors\[0\]\.window_s: " "$WORK/check.log" || fail "no FILE:LINE:COL message: $(cat "$WORK/check.log")"

set +e
timeout 10 "$AUSCULTD_BIN" --config "$WORK/bad.yaml" >"$WORK/start.log" 2>&1
rc=$?
set -e
[ $rc = 1 ] || fail "start with a bad file exited $rc, expected 1"
grep -q "bad.yaml:8:15: monitors\[0\]\.window_s: " "$WORK/start.log" || fail "start-up message lacks the place"

# A missing file names the file.
set +e
"$AUSCULTD_BIN" --check-config --config "$WORK/nope.yaml" >/dev/null 2>"$WORK/missing.log"
rc=$?
set -e
[ $rc = 1 ] || fail "--check-config on a missing file exited $rc"
grep -q "nope.yaml" "$WORK/missing.log" || fail "missing-file message does not name it"

# Faults in several monitors' files: one run lists each at its key, and the count.
printf 'not audio\n' >"$WORK/notes.wav"
cat >"$WORK/several.yaml" <<EOC
mqtt: { uri: "mqtt://127.0.0.1:1883" }
monitors:
  - { name: a, source: { type: file, path: $DATA/normal_id_00_00000000.wav }, model: $WORK/gone.am }
  - { name: b, source: { type: file, path: $WORK/notes.wav }, model: $WORK/model.am }
  - { name: c, source: { type: file, path: $DATA/normal_id_00_00000000.wav }, model: $WORK/model.am }
  - { name: d, source: { type: file, path: $WORK/gone.wav }, model: $WORK/model.am }
EOC
set +e
"$AUSCULTD_BIN" --check-config --config "$WORK/several.yaml" >/dev/null 2>"$WORK/several.log"
rc=$?
set -e
[ $rc = 1 ] || fail "--check-config on two bad monitors exited $rc, expected 1"
grep -q "several.yaml:3:[0-9]*: monitors\[0\]\.model: cannot read the model file" "$WORK/several.log" ||
	fail "monitor a's missing model not listed: $(cat "$WORK/several.log")"
grep -q "several.yaml:4:[0-9]*: monitors\[1\]\.source\.path: " "$WORK/several.log" ||
	fail "monitor b's non-audio file not listed: $(cat "$WORK/several.log")"
# A recording that is not there is one fault among the others, not the only one said (it was
# refused while the file was read, before any other monitor was looked at).
grep -q "several.yaml:6:[0-9]*: monitors\[3\]\.source\.path: $WORK/gone.wav: cannot open the audio file: No such file" \
	"$WORK/several.log" || fail "monitor d's missing recording not listed: $(cat "$WORK/several.log")"
grep -q "several.yaml: 3 faults, each on a line above" "$WORK/several.log" ||
	fail "no count of the faults: $(cat "$WORK/several.log")"
[ "$(wc -l <"$WORK/several.log")" = 4 ] || fail "expected 4 lines: $(cat "$WORK/several.log")"

write_config "$WORK/good.yaml" "{ type: file, path: $DATA/normal_id_00_00000000.wav }"
"$AUSCULTD_BIN" --check-config --config "$WORK/good.yaml" >"$WORK/good.out" 2>&1 || fail "good config refused: $(cat "$WORK/good.out")"
grep -q "OK (1 monitor: pump)" "$WORK/good.out" || fail "unexpected --check-config output"
"$AUSCULTD_BIN" --version | grep -q '^auscultd [0-9]' || fail "--version"
"$AUSCULTD_BIN" --help | grep -q -- '--check-config' || fail "--help"
echo "bad_config: ok"
