#!/bin/sh
# soak_daemon.sh - does auscultd stay flat over a long run with a broker that keeps going away?
# One live-paced monitor on a recording with a synthetic fault every minute (so events keep
# coming), against a real local mosquitto that is stopped for OUTAGE_S every CYCLE_S. Prints the
# daemon's RSS, threads and open files every cycle, then checks that every event arrived once
# (start/end pairs, in order) and that memory did not grow after the first cycles.
#
# usage: bench/soak_daemon.sh [BUILD_DIR] [MINUTES] [CYCLE_S] [OUTAGE_S]
#   BUILD_DIR holds auscultd (default: build); MINUTES of run (default 10); a broker outage of
#   OUTAGE_S (default 15) every CYCLE_S (default 60).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
minutes=${2:-10}
cycle=${3:-60}
outage=${4:-15}
daemon="$build/auscultd"
model="$here/models/pump_id00.am"
data="$here/../shared/data/dcase2020_id00/train"
[ -x "$daemon" ] || { echo "soak_daemon: $daemon not found; build first" >&2; exit 2; }
[ -f "$data/normal_id_00_00000060.wav" ] || { echo "soak_daemon: $data not found" >&2; exit 2; }
command -v sox >/dev/null || { echo "soak_daemon: sox is needed (scripts/install-deps)" >&2; exit 2; }

work=$(mktemp -d)
pids=""
broker=""
cleanup() {
	for p in $pids $broker; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 60 s: 40 s of real normal sound, then 20 s of it with the demo's kind of synthetic whine.
sox "$data/normal_id_00_00000060.wav" "$data/normal_id_00_00000061.wav" \
	"$data/normal_id_00_00000062.wav" "$data/normal_id_00_00000063.wav" "$work/normal.wav"
sox "$data/normal_id_00_00000064.wav" "$data/normal_id_00_00000065.wav" "$work/base.wav"
sox -n -r 16000 -c 1 "$work/whine.wav" synth 20 sine 3110-3190 sine 6300 remix 1v0.7,2v0.3 \
	tremolo 7 30 vol 0.03
sox -m "$work/base.wav" "$work/whine.wav" -b 16 "$work/fault.wav"
sox "$work/normal.wav" "$work/fault.wav" "$work/cycle.wav"

port=$(( 20000 + $$ % 20000 ))
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
start_broker() {
	mosquitto -c "$work/mosquitto.conf" >>"$work/mosquitto.log" 2>&1 &
	broker=$!
	sleep 0.3
	# The recorder subscribes at once; the daemon's next reconnection is at least a second
	# away (back-off), so it finds the recorder there.
	mosquitto_sub -h 127.0.0.1 -p "$port" -v -q 1 -t 'soak/+/event' >>"$work/events.txt" 2>/dev/null &
	sub=$!
}
stop_broker() {
	kill "$sub" "$broker" 2>/dev/null || true
	wait "$sub" "$broker" 2>/dev/null || true
	broker=""
}

cat >"$work/soak.yaml" <<EOF
log_level: info
mqtt: { uri: "mqtt://127.0.0.1:$port", client_id: "soak", topic_prefix: soak }
home_assistant: { discovery: false }
monitors:
  - name: pump
    source: { type: file, path: $work/cycle.wav, loop: true, realtime: true }
    model: $model
EOF
start_broker
"$daemon" --config "$work/soak.yaml" 2>"$work/daemon.log" &
dpid=$!
pids="$pids $dpid"

kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
printf '%7s %9s %9s %8s %6s %7s\n' minute "RSS kB" "peak kB" threads fds events
end=$(( $(date +%s) + minutes * 60 ))
t0=$(date +%s)
first_rss=""
while [ "$(date +%s)" -lt "$end" ]; do
	sleep $((cycle - outage))
	stop_broker
	sleep "$outage"
	start_broker
	kill -0 $dpid 2>/dev/null || { echo "soak_daemon: auscultd died" >&2; tail "$work/daemon.log" >&2; exit 1; }
	rss=$(kb $dpid VmRSS)
	[ -n "$first_rss" ] || first_rss=$rss
	printf '%7.1f %9d %9d %8d %6d %7d\n' "$(echo "($(date +%s) - $t0) / 60" | bc -l)" "$rss" \
		"$(kb $dpid VmHWM)" "$(kb $dpid Threads)" "$(ls /proc/$dpid/fd | wc -l)" \
		"$(grep -c '"type"' "$work/events.txt" || true)"
done
sleep $((outage + 5)) # let the last outage's events arrive
kill -TERM $dpid
wait $dpid || { echo "soak_daemon: auscultd exited $? on SIGTERM" >&2; exit 1; }
last_rss=$rss

# Events: ids must come in start/end pairs, each once (a re-send after a lost PUBACK would show
# as a duplicate id with the same type, which at-least-once delivery allows but we count).
sed -n 's/.*"id":"\([^"]*\)","type":"\([a-z]*\)".*/\1 \2/p' "$work/events.txt" >"$work/ids.txt"
starts=$(grep -c ' start$' "$work/ids.txt" || true)
ends=$(grep -c ' end$' "$work/ids.txt" || true)
dups=$(sort "$work/ids.txt" | uniq -d | wc -l)
echo "events: $starts starts, $ends ends, $dups duplicates; daemon log: $(grep -c 'mqtt: connected' "$work/daemon.log") reconnections, $(grep -c -i 'error' "$work/daemon.log") error lines"
echo "RSS: $first_rss kB after the first cycle, $last_rss kB at the end ($(( last_rss - first_rss )) kB)"
