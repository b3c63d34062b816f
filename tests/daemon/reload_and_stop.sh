#!/bin/sh
# reload_and_stop.sh - SIGHUP with a bad file keeps the running config (the log says why); SIGHUP
# with a good, changed file applies it; SIGTERM leaves `offline` retained and exits 0 within 2 s.
. "$(dirname "$0")/lib/common.sh"

make_model
start_broker
subscribe "$WORK/msgs.txt"
src="{ type: file, path: $DATA/normal_id_00_00000000.wav, loop: true, realtime: true }"
write_config "$WORK/d.yaml" "$src"
start_daemon d
wait_for 15 "$WORK/msgs.txt" '^auscult/pump/score '

# A bad file: refused, old config still running.
cp "$WORK/d.yaml" "$WORK/good.yaml"
printf 'log_level: info\nmonitors: 3\n' >"$WORK/d.yaml"
kill -HUP $DPID
wait_for 10 "$WORK/d.daemon.log" 'keeping the running configuration'
grep 'keeping the running configuration' "$WORK/d.daemon.log" | grep -q 'd.yaml:2:11: monitors' \
	|| fail "reload refusal does not say where: $(grep keeping "$WORK/d.daemon.log")"
kill -0 $DPID || fail "daemon died on a bad reload"
n=$(count '^auscult/pump/score ' "$WORK/msgs.txt")
sleep 2.5
[ "$(count '^auscult/pump/score ' "$WORK/msgs.txt")" -gt "$n" ] || fail "no scores after a bad reload"

# A good, changed file: the monitor is renamed; the new one publishes.
sed 's/name: pump$/name: press/' "$WORK/good.yaml" >"$WORK/d.yaml"
kill -HUP $DPID
wait_for 10 "$WORK/d.daemon.log" 'reload: .*applied'
wait_for 15 "$WORK/msgs.txt" '^auscult/press/score '

# SIGTERM: exit 0 within 2 s, `offline` retained on the status topic.
stop_daemon d 5
[ $STOP_MS -le 2000 ] || fail "auscultd took $STOP_MS ms to stop"
retained=$(timeout 5 mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'auscult/status' -C 1 -W 3 || true)
[ "$retained" = offline ] || fail "retained status is '$retained', expected offline"
echo "reload_and_stop: bad reload kept, good reload applied, stopped in $STOP_MS ms: ok"
