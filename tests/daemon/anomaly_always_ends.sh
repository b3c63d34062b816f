#!/bin/sh
# anomaly_always_ends.sh - every anomaly that starts gets its end event, whatever stops the
# monitor: a reload (SIGHUP), a stop (SIGTERM), the end of its input, a stalled input. A pager
# or a Node-RED flow that pairs starts with ends used to keep an incident open for ever after
# a reload or a stop during an anomaly. The end says why (`ended_by`), comes after its start on
# the monitor's own clock (an input read faster than real time is ahead of the wall clock: a
# stall used to end its anomaly at the wall clock, before it started), and precedes `offline`.
. "$(dirname "$0")/lib/common.sh"

make_model
make_fault_recording "$WORK/rec.wav" # the fault from 30 s to 45 s
start_broker
subscribe "$WORK/msgs"

# ends_of CAUSE: the ids of the end events received with ended_by CAUSE.
ends_of() {
	grep '^auscult/pump/event .*"type":"end"' "$WORK/msgs" | grep "\"ended_by\":\"$1\"" |
		sed 's/.*"id":"\([^"]*\)".*/\1/' | sort -u
}
starts() {
	grep '^auscult/pump/event .*"type":"start"' "$WORK/msgs" |
		sed 's/.*"id":"\([^"]*\)".*/\1/' | sort -u
}
# check_order ID: the end event of ID has an end at or after its start, and a duration >= 0.
check_order() {
	line=$(grep "^auscult/pump/event .*\"id\":\"$1\",\"type\":\"end\"" "$WORK/msgs" | head -n 1)
	start=$(echo "$line" | sed 's/.*"start":"\([^"]*\)".*/\1/')
	end=$(echo "$line" | sed 's/.*"end":"\([^"]*\)".*/\1/')
	[ "$(printf '%s\n%s\n' "$start" "$end" | sort | head -n 1)" = "$start" ] ||
		fail "anomaly $1 ends ($end) before it starts ($start)"
}

# 1. A reload, then a stop, each during an anomaly: 28 s into the recording, paced, the fault
# 2 s after the monitor starts listening.
sox "$WORK/rec.wav" "$WORK/late.wav" trim 28
EVIDENCE_YAML="{ dir: $WORK/evidence }" write_config "$WORK/d.yaml" \
	"{ type: file, path: $WORK/late.wav, realtime: true, loop: true }" "threshold: 105"
start_daemon d
wait_for 30 "$WORK/d.daemon.log" 'anomaly started'
kill -HUP "$DPID"
wait_for 10 "$WORK/d.daemon.log" 'reload: .* applied'
wait_until 30 sh -c "[ \$(grep -c 'anomaly started' '$WORK/d.daemon.log') -ge 2 ]" ||
	fail "no anomaly within 30 s of the reload"
stop_daemon d 15
[ "$(ends_of stopped | wc -l)" -eq 2 ] ||
	fail "expected 2 ends 'stopped' (the reload's, the stop's), got: $(ends_of stopped)"
grep -q 'anomaly ended after .* s, the monitor stopped listening' "$WORK/d.daemon.log" ||
	fail "the log does not say why the anomaly ended"
# The stop's end before `offline`; the reload's before the new monitor's `starting`.
last_end=$(grep -n '^auscult/pump/event .*"ended_by":"stopped"' "$WORK/msgs" | tail -n 1 | cut -d: -f1)
offline=$(grep -n '^auscult/status offline' "$WORK/msgs" | tail -n 1 | cut -d: -f1)
[ -n "$offline" ] && [ "$last_end" -lt "$offline" ] ||
	fail "the stop's end event (line $last_end) is not before offline (line ${offline:-none})"
echo "reload and stop during an anomaly: both ended (stopped), before offline"

# 2. The input ends during an anomaly: 40 s of the recording on stdin, read faster than real
# time (stream time), then end of file. The daemon exits by itself once delivered.
sox "$WORK/rec.wav" -t raw -e signed-integer -b 16 "$WORK/first40.raw" trim 0 40
write_config "$WORK/e.yaml" "{ type: stdin, rate_hz: 16000 }" "threshold: 105"
start_daemon e "$WORK/first40.raw"
wait_for_file 30 "$WORK/e.exit" || fail "auscultd did not exit at the end of its input"
read -r rc _ <"$WORK/e.exit"
[ "$rc" = 0 ] || fail "auscultd exited $rc at the end of its input"
grep -q 'anomaly started' "$WORK/e.daemon.log" || fail "no anomaly in the first 40 s"
[ "$(ends_of stopped | wc -l)" -eq 3 ] ||
	fail "the end of input did not end its anomaly (ends 'stopped': $(ends_of stopped | wc -l))"
echo "end of input during an anomaly: ended (stopped)"

# 3. The stdin writer stalls during an anomaly: the fault ends it, on stream time.
mkfifo "$WORK/pcm.fifo"
(
	cat "$WORK/first40.raw"
	sleep 8
) >"$WORK/pcm.fifo" &
track $!
write_config "$WORK/f.yaml" "{ type: stdin, rate_hz: 16000 }" "threshold: 105"
start_daemon f "$WORK/pcm.fifo"
wait_for 20 "$WORK/f.daemon.log" 'no audio for 2 s from stdin'
wait_until 5 sh -c "[ -n \"\$(grep '\"ended_by\":\"fault\"' '$WORK/msgs')\" ]" ||
	fail "the stall did not end the anomaly with ended_by fault"
stop_daemon f 15

# Every start has its end; every end comes after its start.
starts >"$WORK/starts"
grep '^auscult/pump/event .*"type":"end"' "$WORK/msgs" | sed 's/.*"id":"\([^"]*\)".*/\1/' |
	sort -u >"$WORK/ends"
[ -z "$(comm -23 "$WORK/starts" "$WORK/ends")" ] ||
	fail "starts without an end: $(comm -23 "$WORK/starts" "$WORK/ends" | head -n 3)"
for id in $(cat "$WORK/ends"); do check_order "$id"; done
echo "anomaly_always_ends: $(wc -l <"$WORK/starts") anomalies, each ended after its start: ok"
