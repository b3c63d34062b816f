#!/bin/sh
# ended_input_waits.sh - a file input that ends while the broker is away: the daemon does not exit
# with events undelivered; it waits, delivers both events once, in order, when the broker comes
# back, and only then exits 0. SIGTERM still ends such a wait at once.
. "$(dirname "$0")/lib/common.sh"
make_model
make_fault_recording "$WORK/rec.wav"
start_broker
stop_broker         # the port is known and nothing listens on it

# Unpaced: the whole 65 s recording (fault from 30 s to 45 s) is scored in about a second.
write_config "$WORK/d.yaml" "{ type: file, path: $WORK/rec.wav, realtime: false }" "threshold: 105"
start_daemon d
wait_for 30 "$WORK/d.daemon.log" 'every input has ended; 2 event(s) still wait for the broker'
sleep 8             # longer than the 5 s the daemon used to wait before giving up
kill -0 $DPID 2>/dev/null || fail "the daemon exited with its events undelivered"

restart_broker
subscribe "$WORK/msgs.txt"
wait_for_file 40 "$WORK/d.exit" || fail "the daemon did not exit within 40 s of the broker's return"
read -r rc _end_ms <"$WORK/d.exit"
[ $rc = 0 ] || fail "auscultd exited $rc after delivering"
grep -q 'every input has ended and its events are delivered; exiting' "$WORK/d.daemon.log" ||
	fail "no final log line"
[ "$(count '"type":"start"' "$WORK/msgs.txt")" = 1 ] || fail "expected 1 start event"
[ "$(count '"type":"end"' "$WORK/msgs.txt")" = 1 ] || fail "expected 1 end event"
grep '^auscult/pump/event' "$WORK/msgs.txt" | sed 's/.*"type":"\([a-z]*\)".*/\1/' | tr '\n' ' ' >"$WORK/order"
[ "$(cat "$WORK/order")" = "start end " ] || fail "events out of order: $(cat "$WORK/order")"
grep -q '^auscult/status offline' "$WORK/msgs.txt" || fail "no offline status at the end"

# The same wait, given up by SIGTERM: exit 0 within 2 s, the loss said in the log.
stop_broker
cp "$WORK/d.yaml" "$WORK/d2.yaml"
start_daemon d2
wait_for 30 "$WORK/d2.daemon.log" 'event(s) still wait for the broker'
stop_daemon d2 5
[ $STOP_MS -le 2000 ] || fail "SIGTERM took $STOP_MS ms"
grep -q 'shutting down with 2 event(s) not delivered' "$WORK/d2.daemon.log" || fail "the loss is not logged"
echo "ended_input_waits: events delivered after the broker's return; SIGTERM in $STOP_MS ms: ok"
