#!/bin/sh
# anomaly_events.sh - normal sound, then a (synthetic) fault, then normal again, through the real
# daemon and a real mosquitto: exactly one anomaly start and one end event, matching ids, the
# state back to normal, and the daemon exits 0 by itself when its file has ended.
. "$(dirname "$0")/lib/common.sh"

make_model
make_fault_recording "$WORK/rec.wav"
start_broker
subscribe "$WORK/msgs.txt"
write_config "$WORK/d.yaml" "{ type: file, path: $WORK/rec.wav, realtime: false }" "threshold: 105"

timeout 60 "$AUSCULTD_BIN" --config "$WORK/d.yaml" >"$WORK/daemon.log" 2>&1 || fail "auscultd exited $?"
wait_for 5 "$WORK/msgs.txt" '^auscult/status offline'

starts=$(count '^auscult/pump/event {[^ ]*"type":"start"' "$WORK/msgs.txt")
ends=$(count '^auscult/pump/event {[^ ]*"type":"end"' "$WORK/msgs.txt")
[ "$starts" = 1 ] || fail "expected 1 start event, got $starts"
[ "$ends" = 1 ] || fail "expected 1 end event, got $ends"
id_start=$(grep '"type":"start"' "$WORK/msgs.txt" | sed 's/.*"id":"\([^"]*\)".*/\1/')
id_end=$(grep '"type":"end"' "$WORK/msgs.txt" | sed 's/.*"id":"\([^"]*\)".*/\1/')
[ "$id_start" = "$id_end" ] || fail "start id $id_start differs from end id $id_end"
# The fault lasts 15 s of stream time: the anomaly must last at least 8 s and at most 25 s.
dur=$(grep '"type":"end"' "$WORK/msgs.txt" | sed 's/.*"duration_s":\([0-9.]*\).*/\1/')
awk -v d="$dur" 'BEGIN { exit !(d >= 8 && d <= 25) }' || fail "anomaly lasted $dur s, expected 8..25"
grep '"type":"end"' "$WORK/msgs.txt" | grep -q '"bands":\[{"band":' || fail "end event names no bands"
# A network-only model: the event's parts are the network alone, its mean raw score (over 105).
net=$(grep '"type":"end"' "$WORK/msgs.txt" | sed -n 's/.*"parts":{"network":\([0-9.e+]*\)}.*/\1/p')
awk -v n="$net" 'BEGIN { exit !(n > 105) }' || fail "end event parts: '$net', expected the network's mean over 105"
# Order: start before end, and the last state published is normal.
grep -n '"type":"start"' "$WORK/msgs.txt" | cut -d: -f1 >"$WORK/ls"
grep -n '"type":"end"' "$WORK/msgs.txt" | cut -d: -f1 >"$WORK/le"
[ "$(cat "$WORK/ls")" -lt "$(cat "$WORK/le")" ] || fail "end event before start event"
last_state=$(grep '^auscult/pump/state ' "$WORK/msgs.txt" | tail -n 1 | cut -d' ' -f2)
[ "$last_state" = normal ] || fail "last state '$last_state', expected normal"
[ "$(count '^auscult/pump/score {' "$WORK/msgs.txt")" -ge 50 ] || fail "too few score messages"
grep -q 'every input has ended' "$WORK/daemon.log" || fail "no end-of-input log line"
echo "anomaly_events: 1 start, 1 end ($dur s), state normal: ok"
