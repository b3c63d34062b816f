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
"$AUSCULTD_BIN" --config "$WORK/d.yaml" >"$WORK/daemon.log" 2>&1 &
DPID=$!
track $DPID
wait_for 30 "$WORK/daemon.log" 'every input has ended; 2 event(s) still wait for the broker'
sleep 8             # longer than the 5 s the daemon used to wait before giving up
kill -0 $DPID 2>/dev/null || fail "the daemon exited with its events undelivered"

restart_broker
subscribe "$WORK/msgs.txt"
i=0
while kill -0 $DPID 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 400 ] || fail "the daemon did not exit within 40 s of the broker's return"
	sleep 0.1
done
rc=0
wait $DPID || rc=$?
[ $rc = 0 ] || fail "auscultd exited $rc after delivering"
grep -q 'every input has ended and its events are delivered; exiting' "$WORK/daemon.log" ||
	fail "no final log line"
[ "$(count '"type":"start"' "$WORK/msgs.txt")" = 1 ] || fail "expected 1 start event"
[ "$(count '"type":"end"' "$WORK/msgs.txt")" = 1 ] || fail "expected 1 end event"
grep '^auscult/pump/event' "$WORK/msgs.txt" | sed 's/.*"type":"\([a-z]*\)".*/\1/' | tr '\n' ' ' >"$WORK/order"
[ "$(cat "$WORK/order")" = "start end " ] || fail "events out of order: $(cat "$WORK/order")"
grep -q '^auscult/status offline' "$WORK/msgs.txt" || fail "no offline status at the end"

# The same wait, given up by SIGTERM: exit 0 within 2 s, the loss said in the log.
stop_broker
"$AUSCULTD_BIN" --config "$WORK/d.yaml" >"$WORK/daemon2.log" 2>&1 &
DPID=$!
track $DPID
wait_for 30 "$WORK/daemon2.log" 'event(s) still wait for the broker'
t0=$(date +%s%N)
kill -TERM $DPID
rc=0
wait $DPID || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 0 ] || fail "auscultd exited $rc after SIGTERM"
[ $ms -le 2000 ] || fail "SIGTERM took $ms ms"
grep -q 'shutting down with 2 event(s) not delivered' "$WORK/daemon2.log" || fail "the loss is not logged"
echo "ended_input_waits: events delivered after the broker's return; SIGTERM in $ms ms: ok"
