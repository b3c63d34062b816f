#!/bin/sh
# loop_stream_time.sh - a looping file read un-paced whose anomaly runs into the next pass: the
# stream time goes on across the loop, so the end event comes after its start and lasts about
# as long as the fault (the soak found ends stamped before their starts, "duration_s":0).
. "$(dirname "$0")/lib/common.sh"

make_model
make_fault_recording "$WORK/full.wav"
# 30 s normal, then 15 s of fault up to the end of the file: the loop starts inside the anomaly.
sox "$WORK/full.wav" "$WORK/rec.wav" trim 0 45
start_broker
subscribe "$WORK/msgs.txt"
write_config "$WORK/d.yaml" "{ type: file, path: $WORK/rec.wav, loop: true, realtime: false }" \
	"threshold: 105"
start_daemon d
wait_until 60 sh -c "[ \$(grep -c '\"type\":\"end\"' '$WORK/msgs.txt') -ge 3 ]" ||
	fail "fewer than 3 end events in 60 s"
stop_daemon d 10

grep '^auscult/pump/event {[^ ]*"type":"end"' "$WORK/msgs.txt" | head -n 3 >"$WORK/ends"
while read -r _topic json; do
	start=$(echo "$json" | sed 's/.*"start":"\([^"]*\)".*/\1/')
	end=$(echo "$json" | sed 's/.*"end":"\([^"]*\)".*/\1/')
	dur=$(echo "$json" | sed 's/.*"duration_s":\([0-9.]*\).*/\1/')
	[ "$(printf '%s\n%s\n' "$start" "$end" | sort | head -n 1)" = "$start" ] &&
		[ "$start" != "$end" ] || fail "an anomaly ends at $end, not after its start $start"
	awk -v d="$dur" 'BEGIN { exit !(d >= 8 && d <= 25) }' ||
		fail "an anomaly across the loop lasted $dur s, expected 8..25 (the fault is 15 s)"
done <"$WORK/ends"
# Each pass's anomaly is its own: three different ids.
[ "$(sed 's/.*"id":"\([^"]*\)".*/\1/' "$WORK/ends" | sort -u | wc -l)" = 3 ] ||
	fail "the end events do not have three different ids"
echo "loop_stream_time: 3 anomalies across the loop, each ending after its start: ok"
