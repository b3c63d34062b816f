#!/bin/sh
# stdin_stall.sh - a writer on the daemon's stdin that stalls with the pipe still open (a hung
# `arecord | auscultd`, an ssh link gone quiet): the monitor publishes `fault` within a few
# seconds, a reload and a stop during the stall leave no thread behind, and the monitor scores
# again by itself when audio flows. stdin used to block in read(2) for ever: no fault, and each
# reload left a thread reading fd 0 beside the new one.
. "$(dirname "$0")/lib/common.sh"
: "${AUSCULT_SOURCE_DIR:?set by ctest}" "${AUSCULT_BUILD_DIR:?set by ctest}"
PACE="$AUSCULT_BUILD_DIR/pace_pcm"
[ -x "$PACE" ] || { echo "SKIP: $PACE not built" >&2; exit 77; }
cp "$AUSCULT_SOURCE_DIR/models/pump_id00.am" "$WORK/model.am"

sox "$DATA/normal_id_00_00000020.wav" -t raw -e signed-integer -b 16 "$WORK/normal.raw"
mkfifo "$WORK/pcm.fifo"
# 4 s of sound, then nothing for 9 s with the pipe open, then 12 s more, then the pipe stays
# open (an end of input would stop the monitor). pace_pcm loops its file until it is stopped.
(
	# shellcheck disable=SC2086 # the emulator's command line is words
	timeout 4 ${AUSCULT_EMULATOR:-} "$PACE" 16000 1 "$WORK/normal.raw" || true # stopped by timeout: 124
	echo 1 >"$WORK/stalled"
	sleep 9
	echo 1 >"$WORK/resumed"
	# shellcheck disable=SC2086
	timeout 12 ${AUSCULT_EMULATOR:-} "$PACE" 16000 1 "$WORK/normal.raw" || true # stopped by timeout: 124
	sleep 60
) >"$WORK/pcm.fifo" &
track $!

start_broker
subscribe "$WORK/msgs"
write_config "$WORK/stall.yaml" "{ type: stdin, rate_hz: 16000 }"
start_daemon stall "$WORK/pcm.fifo"

wait_for_file 10 "$WORK/stalled" || fail "the writer did not get through its first 4 s"
wait_for 6 "$WORK/msgs" '^auscult/pump/state fault$'
wait_for 2 "$WORK/stall.daemon.log" 'no audio for 2 s from stdin'
echo "fault published during the stall"

kill -HUP "$DPID"
wait_for 5 "$WORK/stall.daemon.log" 'reload: .* applied'
sleep 1
grep -q 'leaving it behind' "$WORK/stall.daemon.log" &&
	fail "a reload during the stall left a monitor thread behind: $(grep 'blocked' "$WORK/stall.daemon.log")"

wait_for_file 10 "$WORK/resumed" || fail "the writer did not resume"
n_scores=$(count '^auscult/pump/score ' "$WORK/msgs")
wait_until 15 sh -c "[ \$(grep -c '^auscult/pump/score ' '$WORK/msgs') -gt $n_scores ]" ||
	fail "no score within 15 s of the audio flowing again"
echo "scores again once audio flows"

stop_daemon stall 5
grep -q 'leaving it behind' "$WORK/stall.daemon.log" &&
	fail "the stop left a monitor thread behind"
echo "PASS: a stalled stdin writer gives fault, reload and stop stay prompt, scoring resumes (stopped in $STOP_MS ms)"
