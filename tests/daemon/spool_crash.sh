#!/bin/sh
# spool_crash.sh - the durable spool with a real daemon and a real mosquitto: with the broker
# down, two anomalies are raised (4 events), the daemon is killed with SIGKILL, restarted (broker
# still down) and killed again; a torn record is put in the middle of the spool file; the daemon
# starts a third time and the broker comes back: every event raised arrives, in order, with the
# ids raised (duplicates allowed, none missing), and the torn record is skipped with a warning.
. "$(dirname "$0")/lib/common.sh"

make_model
make_fault_recording "$WORK/rec1.wav"
sox "$WORK/rec1.wav" "$WORK/rec1.wav" "$WORK/rec.wav" # two faults: start end start end
start_broker
stop_broker # PORT now has no broker
SPOOL="$WORK/spool/events.spool"

# spooled_config NAME SOURCE: write_config with mqtt.spool_dir set.
spooled_config() {
	write_config "$WORK/$1.yaml" "$2" "threshold: 105"
	sed -i "s|keepalive_s: 5 }|keepalive_s: 5, spool_dir: $WORK/spool, spool_max_mb: 1 }|" \
		"$WORK/$1.yaml"
	grep -q spool_dir "$WORK/$1.yaml" || fail "could not set mqtt.spool_dir in $1.yaml"
}
# events_in FILE: "id type" of every event in FILE (a spool or subscriber output), in order.
events_in() {
	grep -a -o '"id":"[^"]*","type":"[a-z]*"' "$1" | sed 's/"id":"\([^"]*\)","type":"\([a-z]*\)"/\1 \2/'
}

# Run 1: the whole recording, un-paced, with the broker down; then SIGKILL.
spooled_config d1 "{ type: file, path: $WORK/rec.wav, realtime: false }"
start_daemon d1
wait_until 60 sh -c "[ \$(grep -c 'anomaly ended' '$WORK/d1.daemon.log') -ge 2 ]" ||
	fail "the daemon did not raise two anomalies"
wait_until 10 sh -c "[ \$(grep -a -c '\"type\":\"end\"' '$SPOOL') -ge 1 ] && [ \$(grep -a -o '\"type\":\"end\"' '$SPOOL' | wc -l) -ge 2 ]" ||
	fail "the two end events are not in $SPOOL"
kill -KILL "$DPID"
wait_for_file 5 "$WORK/d1.exit" || fail "auscultd survived SIGKILL"
raised_starts=$(count 'anomaly started' "$WORK/d1.daemon.log")
raised_ends=$(count 'anomaly ended' "$WORK/d1.daemon.log")
[ "$raised_starts" = 2 ] && [ "$raised_ends" = 2 ] ||
	fail "expected 2 starts and 2 ends raised, the log says $raised_starts and $raised_ends"
events_in "$SPOOL" >"$WORK/raised"
[ "$(cut -d' ' -f2 "$WORK/raised" | tr '\n' ' ')" = "start end start end " ] ||
	fail "the spool holds $(cat "$WORK/raised" | tr '\n' ';'), expected start end start end"
[ "$(cut -d' ' -f1 "$WORK/raised" | sort -u | wc -l)" = 2 ] || fail "expected two anomaly ids"
# The log names each event's id, so a log can be matched with what subscribers got (the soak).
logged=$(sed -n 's/.*anomaly \(started\|ended after\) .*; id \([^)]*\))$/\2/p' "$WORK/d1.daemon.log" | tr '\n' ' ')
[ "$logged" = "$(cut -d' ' -f1 "$WORK/raised" | tr '\n' ' ')" ] ||
	fail "the log names the events $logged, the spool holds $(cat "$WORK/raised" | tr '\n' ';')"

# Run 2: restarted with the broker still down (normal sound only: no new events), killed again.
spooled_config d2 "{ type: file, path: $DATA/normal_id_00_00000007.wav, realtime: true }"
start_daemon d2
wait_for 10 "$WORK/d2.daemon.log" '4 undelivered message\|undelivered message(s) to send again'
sleep 1
kill -KILL "$DPID"
wait_for_file 5 "$WORK/d2.exit" || fail "auscultd survived SIGKILL"
events_in "$SPOOL" >"$WORK/after2"
cmp -s "$WORK/raised" "$WORK/after2" || fail "the spool changed across a restart: $(cat "$WORK/after2" | tr '\n' ';')"

# A torn record in the middle: the first 30 bytes of a record (magic, length, CRC, a little of
# the body) put before the second record, as a write cut short and then appended after.
off=$(grep -a -b -o ASPL "$SPOOL" | sed -n 2p | cut -d: -f1)
[ -n "$off" ] || fail "no second record in $SPOOL"
{ head -c "$off" "$SPOOL"; head -c 30 "$SPOOL"; tail -c +"$((off + 1))" "$SPOOL"; } >"$WORK/torn"
cp "$WORK/torn" "$SPOOL"

# Run 3: the broker is back; the daemon starts and sends what the spool holds.
restart_broker
subscribe "$WORK/msgs.txt"
spooled_config d3 "{ type: file, path: $DATA/normal_id_00_00000008.wav, realtime: true }"
start_daemon d3
wait_until 30 sh -c "[ \$(grep -c '\"type\":\"end\"' '$WORK/msgs.txt') -ge 2 ]" ||
	fail "the spooled events did not arrive: $(cat "$WORK/msgs.txt")"
sleep 1
grep -q 'skipped 30 corrupt byte(s)' "$WORK/d3.daemon.log" || fail "the torn record was not reported"
kill -0 "$DPID" || fail "daemon died"
grep '^auscult/pump/event ' "$WORK/msgs.txt" >"$WORK/events.txt" || true
events_in "$WORK/events.txt" >"$WORK/delivered"
# Duplicates are allowed (at-least-once): drop repeats of a line seen before, keep the order.
awk '!seen[$0]++' "$WORK/delivered" >"$WORK/delivered.uniq"
cmp -s "$WORK/raised" "$WORK/delivered.uniq" ||
	fail "delivered $(tr '\n' ';' <"$WORK/delivered"), raised $(tr '\n' ';' <"$WORK/raised")"
# Once acknowledged, the spool is empty.
wait_until 10 sh -c "[ ! -s '$SPOOL' ]" || fail "$SPOOL still holds $(wc -c <"$SPOOL") bytes"
stop_daemon d3 30
echo "spool_crash: $(wc -l <"$WORK/raised") events raised with the broker down, 2 SIGKILLs, a torn record: all delivered in order ($(wc -l <"$WORK/delivered") messages): ok"
