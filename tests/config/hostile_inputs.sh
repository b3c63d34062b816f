#!/bin/sh
# hostile_inputs.sh - inputs that used to hang: a named pipe given as the config, the model or the
# audio file, and YAML nested 100k levels deep; and a WAV cut short (a warning when scored, an
# error in --check-config). Each is refused promptly with a message naming
# the file; `timeout` makes a regression fail instead of hanging the test run.
. "$(dirname "$0")/../daemon/lib/common.sh"

PORT=1883
MODEL="$(dirname "$0")/../../models/pump_id00.am"
WAV="$DATA/normal_id_00_00000000.wav"
mkfifo "$WORK/fifo"

# expect_refusal NAME PATTERN CMD...: CMD exits 1 within 10 s and prints PATTERN.
expect_refusal() {
	_name=$1 _pat=$2
	shift 2
	set +e
	timeout 10 "$@" >"$WORK/$_name.out" 2>&1
	_rc=$?
	set -e
	[ $_rc != 124 ] || fail "$_name: still running after 10 s (hangs)"
	[ $_rc = 1 ] || fail "$_name: exited $_rc, expected 1: $(cat "$WORK/$_name.out")"
	grep -q -- "$_pat" "$WORK/$_name.out" || fail "$_name: no '$_pat' in: $(cat "$WORK/$_name.out")"
}

fifo_msg="fifo: is a named pipe, not a regular file; expected"
expect_refusal info_fifo "$fifo_msg the model file" "$AUSCULT_BIN" info "$WORK/fifo"
expect_refusal config_fifo "$fifo_msg the config file" \
	"$AUSCULTD_BIN" --check-config --config "$WORK/fifo"

cat >"$WORK/model_fifo.yaml" <<EOC
mqtt: { uri: "mqtt://127.0.0.1:1883" }
monitors:
  - name: pump
    source: { type: file, path: $WAV }
    model: $WORK/fifo
EOC
expect_refusal model_fifo "model_fifo.yaml:5:12: monitors\[0\]\.model: .*$fifo_msg the model file" \
	"$AUSCULTD_BIN" --check-config --config "$WORK/model_fifo.yaml"

cat >"$WORK/source_fifo.yaml" <<EOC
mqtt: { uri: "mqtt://127.0.0.1:1883" }
monitors:
  - name: pump
    source: { type: file, path: $WORK/fifo }
    model: $MODEL
EOC
expect_refusal source_fifo "source_fifo.yaml:4:33: monitors\[0\]\.source\.path: .*$fifo_msg the audio file" \
	"$AUSCULTD_BIN" --check-config --config "$WORK/source_fifo.yaml"
expect_refusal score_fifo "$fifo_msg the audio file" \
	"$AUSCULT_BIN" score --model "$MODEL" "$WORK/fifo"

cat >"$WORK/password_fifo.yaml" <<EOC
mqtt: { uri: "mqtt://127.0.0.1:1883", username: u, password_file: $WORK/fifo }
monitors:
  - name: pump
    source: { type: file, path: $WAV }
    model: $MODEL
EOC
expect_refusal password_fifo "password_fifo.yaml:1:67: mqtt\.password_file: .*fifo' is a named pipe, not a regular file; expected the password file" \
	"$AUSCULTD_BIN" --check-config --config "$WORK/password_fifo.yaml"

# 100k levels of flow nesting took libyaml 20 s; the depth limit stops it at level 32.
{
	printf 'monitors: '
	head -c 100000 /dev/zero | tr '\0' '['
	head -c 100000 /dev/zero | tr '\0' ']'
	echo
} >"$WORK/deep_flow.yaml"
expect_refusal deep_flow "deep_flow.yaml:1:42: nested more than 32 levels deep" \
	"$AUSCULTD_BIN" --check-config --config "$WORK/deep_flow.yaml"
# The same in block style ("- - - ..." on one line).
{
	echo 'monitors:'
	i=0
	while [ $i -lt 20000 ]; do printf -- '- '; i=$((i + 1)); done
	echo x
} >"$WORK/deep_block.yaml"
expect_refusal deep_block "deep_block.yaml:2:63: nested more than 32 levels deep" \
	"$AUSCULTD_BIN" --check-config --config "$WORK/deep_block.yaml"
# A WAV cut short: refused by --check-config with the place, scored with a warning by the tool.
FIX="$(cd "$(dirname "$0")/../fixtures/audio" && pwd)"
cat >"$WORK/short_wav.yaml" <<EOC
mqtt: { uri: "mqtt://127.0.0.1:1883" }
monitors:
  - name: pump
    source: { type: file, path: $FIX/cut_in_half.wav }
    model: $MODEL
EOC
short_msg="cut_in_half.wav: truncated: the header announces 2.000 s of audio (64000 data bytes), the file holds 1.000 s (32000 bytes)"
expect_refusal short_wav "short_wav.yaml:4:33: monitors\[0\]\.source\.path: .*$short_msg" \
	"$AUSCULTD_BIN" --check-config --config "$WORK/short_wav.yaml"
timeout 20 "$AUSCULT_BIN" score --model "$MODEL" "$FIX/cut_in_half.wav" >"$WORK/score.out" 2>"$WORK/score.err" ||
	fail "score of a short WAV failed: $(cat "$WORK/score.err")"
# (the clip scorer uses "the part that is there", the pipeline a head model's clips go through
# scores it)
grep "warn: " "$WORK/score.err" | grep -F "$short_msg" | grep -Eq "; (using|scoring) the part that is there" ||
	fail "no warning for a short WAV: $(cat "$WORK/score.err")"
# once, although a head model replays a clip shorter than its window again on shorter windows
[ "$(grep -cF "$short_msg" "$WORK/score.err")" -eq 1 ] ||
	fail "the short WAV's warning is not said exactly once: $(cat "$WORK/score.err")"
grep -q "cut_in_half.wav	" "$WORK/score.out" || fail "the short WAV was not scored: $(cat "$WORK/score.out")"
echo "hostile_inputs: ok"
