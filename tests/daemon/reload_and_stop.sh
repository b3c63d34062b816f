#!/bin/sh
# reload_and_stop.sh - SIGHUP with a bad file keeps the running config (the log says why), also
# promptly for files that used to stall the main loop; SIGHUP with a good, changed file applies
# it; SIGTERM leaves `offline` retained and exits 0 within 2 s.
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

# Files that used to stall the main loop on reload (issue 14): a named pipe as the model (open()
# blocked for ever), flow YAML nested 100k deep (libyaml took 20 s), 10k monitors (33 s of model
# loads). Each is refused at once: the scores never stop, and a SIGTERM would be heard.
mkfifo "$WORK/fifo"
sed "s|model: .*|model: $WORK/fifo|" "$WORK/good.yaml" >"$WORK/fifo.yaml"
{
	printf 'monitors: '
	head -c 100000 /dev/zero | tr '\0' '['
	head -c 100000 /dev/zero | tr '\0' ']'
	echo
} >"$WORK/deep.yaml"
{
	echo 'monitors:'
	i=0
	while [ $i -lt 10000 ]; do
		echo "  - { name: m$i, source: { type: device }, model: $WORK/model.am }"
		i=$((i + 1))
	done
} >"$WORK/many.yaml"
for bad in fifo:'is a named pipe, not a regular file' deep:'nested more than 32 levels deep' \
	many:'d.yaml:66:5: monitors: 10000 monitors; one daemon runs at most 64'; do
	name=${bad%%:*} want=${bad#*:}
	cp "$WORK/$name.yaml" "$WORK/d.yaml"
	n=$(count '^auscult/pump/score ' "$WORK/msgs.txt")
	t0=$(now_ms)
	kill -HUP $DPID
	wait_until 5 sh -c "grep 'keeping the running configuration' '$WORK/d.daemon.log' | grep -q -- '$want'" \
		|| fail "reload of $name.yaml: no refusal saying '$want' within 5 s: $(tail -3 "$WORK/d.daemon.log")"
	echo "reload of $name.yaml refused in $(($(now_ms) - t0)) ms"
	wait_until 5 sh -c "[ \$(grep -c '^auscult/pump/score ' '$WORK/msgs.txt') -gt $n ]" \
		|| fail "no scores within 5 s of reloading $name.yaml"
done

# A good, changed file: the monitor is renamed, and a second one shares its model (loaded once).
sed 's/name: pump$/name: press/' "$WORK/good.yaml" >"$WORK/d.yaml"
cat >>"$WORK/d.yaml" <<EOC
  - name: press2
    source: { type: file, path: $DATA/normal_id_00_00000000.wav, loop: true, realtime: true }
    model: $WORK/model.am
EOC
kill -HUP $DPID
wait_for 10 "$WORK/d.daemon.log" 'reload: .*applied'
wait_for 15 "$WORK/msgs.txt" '^auscult/press/score '
wait_for 15 "$WORK/msgs.txt" '^auscult/press2/score '
grep -q "model $WORK/model.am: loaded once for 2 monitor(s)" "$WORK/d.daemon.log" \
	|| fail "the shared model was not loaded once: $(grep 'model ' "$WORK/d.daemon.log")"

# SIGTERM: exit 0 within 2 s, `offline` retained on the status topic.
stop_daemon d 5
[ $STOP_MS -le 2000 ] || fail "auscultd took $STOP_MS ms to stop"
retained=$(timeout 5 mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'auscult/status' -C 1 -W 3 || true)
[ "$retained" = offline ] || fail "retained status is '$retained', expected offline"
echo "reload_and_stop: bad reload kept, good reload applied, stopped in $STOP_MS ms: ok"
