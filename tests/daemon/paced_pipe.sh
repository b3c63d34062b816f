#!/bin/sh
# paced_pipe.sh - audio arriving in 10-ms pieces at real time through a pipe (as from `arecord |
# auscultd`): the daemon wakes about once a window hop, not once a piece, and still raises the
# demo's anomaly. Reading each piece as it came woke its monitor thread 100 times a second.
. "$(dirname "$0")/lib/common.sh"
: "${AUSCULT_SOURCE_DIR:?set by ctest}" "${AUSCULT_BUILD_DIR:?set by ctest}"
PACE="$AUSCULT_BUILD_DIR/pace_pcm"
[ -x "$PACE" ] || { echo "SKIP: $PACE not built" >&2; exit 77; }
cp "$AUSCULT_SOURCE_DIR/models/pump_id00.am" "$WORK/model.am"

# samples/README.md: the demo's synthetic fault is at 30..45 s. From 20 s on: 10 s of normal
# sound, then the fault.
sox "$AUSCULT_SOURCE_DIR/samples/demo_pump.wav" -t raw -e signed-integer -b 16 "$WORK/demo.raw" trim 20
mkfifo "$WORK/pcm.fifo"
# shellcheck disable=SC2086 # the emulator's command line is words
${AUSCULT_EMULATOR:-} "$PACE" 16000 1 "$WORK/demo.raw" >"$WORK/pcm.fifo" &
track $!

start_broker
subscribe "$WORK/msgs"
write_config "$WORK/pipe.yaml" "{ type: stdin, rate_hz: 16000 }"
start_daemon pipe "$WORK/pcm.fifo"
wait_for 20 "$WORK/msgs" '^auscult/pump/score '

# Voluntary context switches of all the daemon's threads: each is a wake-up after a wait.
switches() {
	cat /proc/"$DPID"/task/*/status 2>/dev/null |
		awk '$1 == "voluntary_ctxt_switches:" { s += $2 } END { print s + 0 }'
}
s0=$(switches)
sleep 5
s1=$(switches)
per_s=$(((s1 - s0) / 5))
echo "wake-ups: $per_s a second (all threads; the monitor about 2, the main loop and Paho's two threads the rest)"
# One a window hop (0.5 s) for the monitor, a few for the main loop and Paho's threads: about 10.
[ "$per_s" -lt 30 ] || fail "$per_s wake-ups a second with audio in 10-ms pieces (expected about 10)"

wait_for 30 "$WORK/msgs" '^auscult/pump/event .*"type":"start"'
stop_daemon pipe 5
grep -q "error" "$WORK/pipe.daemon.log" && fail "the daemon logged an error: $(grep error "$WORK/pipe.daemon.log")"
echo "PASS: anomaly raised from the paced pipe"
