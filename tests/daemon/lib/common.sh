# common.sh - shared helpers of the daemon integration tests: a scratch folder, a real mosquitto
# broker on a free loopback port, a small model trained on the spot, test recordings, waits.
# Sourced by tests/daemon/*.sh (POSIX sh). Every child process is killed on exit.

set -eu
: "${AUSCULT_BIN:?set by ctest}" "${AUSCULTD_BIN:?set by ctest}" "${AUSCULT_SHARED_DIR:?set by ctest}"
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00/train"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/auscult-daemon-test.XXXXXX")
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$WORK"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 40 lines)" >&2
		tail -n 40 "$f" >&2
	done
	exit 1
}

# track PID: kill it at exit.
track() { PIDS="$PIDS $1"; }

# start_broker: mosquitto on a free 127.0.0.1 port; sets PORT and BROKER_PID.
start_broker() {
	tries=0
	while [ $tries -lt 20 ]; do
		PORT=$(( 20000 + ($$ * 7 + tries * 131 + $(date +%N | sed 's/^0*//;s/^$/0/') % 997) % 30000 ))
		printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" \
			>"$WORK/mosquitto.conf"
		mosquitto -c "$WORK/mosquitto.conf" >>"$WORK/mosquitto.log" 2>&1 &
		BROKER_PID=$!
		track $BROKER_PID
		sleep 0.3
		if kill -0 "$BROKER_PID" 2>/dev/null && mosquitto_pub -p "$PORT" -h 127.0.0.1 -t probe -m x 2>/dev/null; then
			return 0
		fi
		tries=$((tries + 1))
	done
	fail "could not start mosquitto on a free port"
}

stop_broker() {
	kill "$BROKER_PID" 2>/dev/null || true
	wait "$BROKER_PID" 2>/dev/null || true
}

# restart_broker: same port again (after stop_broker).
restart_broker() {
	i=0
	while [ $i -lt 50 ]; do
		mosquitto -c "$WORK/mosquitto.conf" >>"$WORK/mosquitto.log" 2>&1 &
		BROKER_PID=$!
		track $BROKER_PID
		sleep 0.3
		kill -0 "$BROKER_PID" 2>/dev/null && return 0
		i=$((i + 1))
	done
	fail "could not restart mosquitto on port $PORT"
}

# subscribe FILE: records every message under auscult/# with its topic (-v) into FILE.
subscribe() {
	mosquitto_sub -h 127.0.0.1 -p "$PORT" -v -t 'auscult/#' >"$1" 2>>"$WORK/sub.log" &
	SUB_PID=$!
	track $SUB_PID
	sleep 0.3
}

# make_model: $WORK/model.am, a small autoencoder trained on normals 00..19 (a few seconds;
# the same bits every time: fixed seed, one thread).
make_model() {
	mkdir -p "$WORK/train"
	for i in 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19; do
		ln -s "$DATA/normal_id_00_000000$i.wav" "$WORK/train/"
	done
	"$AUSCULT_BIN" train --out "$WORK/model.am" --hidden 64,8,64 --epochs 40 --seed 1 \
		--threads 1 --quiet "$WORK/train" >"$WORK/train.log" 2>&1 || fail "training the test model"
}

# make_fault_recording OUT: 30 s of trained-on normal sound, 15 s of the same machine with a
# synthetic whine and knocks mixed in, 20 s normal again (65 s, 16 kHz mono).
make_fault_recording() {
	sox "$DATA/normal_id_00_00000000.wav" "$DATA/normal_id_00_00000001.wav" \
		"$DATA/normal_id_00_00000002.wav" "$WORK/part_a.wav"
	sox "$DATA/normal_id_00_00000003.wav" "$DATA/normal_id_00_00000004.wav" "$WORK/b_base.wav" trim 0 15
	sox -n -r 16000 -c 1 "$WORK/whine.wav" synth 15 sine 3110-3190 sine 6300 \
		remix 1v0.7,2v0.3 tremolo 7 30 vol 0.03
	sox -n -r 16000 -c 1 "$WORK/knock1.wav" synth 0.012 sine 900 fade q 0.001 0.012 0.011 \
		vol 0.2 pad 0 0.238
	sox "$WORK/knock1.wav" "$WORK/knocks.wav" repeat 59
	sox -m -v 1 "$WORK/b_base.wav" -v 1 "$WORK/whine.wav" -v 1 "$WORK/knocks.wav" -b 16 \
		"$WORK/part_b.wav"
	sox "$DATA/normal_id_00_00000005.wav" "$DATA/normal_id_00_00000006.wav" "$WORK/part_c.wav"
	sox "$WORK/part_a.wav" "$WORK/part_b.wav" "$WORK/part_c.wav" "$1"
}

# write_config FILE SOURCE_YAML [EXTRA_MONITOR_YAML]: a one-monitor config for the test broker.
write_config() {
	cat >"$1" <<EOC
log_level: ${LOG_LEVEL:-info}
mqtt: { uri: "mqtt://127.0.0.1:$PORT", client_id: "auscult-test-$$", keepalive_s: 5 }
home_assistant: { discovery: false }
monitors:
  - name: pump
    source: $2
    model: $WORK/model.am
    hysteresis: { anomaly_after: 3, normal_after: 5 }
    ${3:-}
EOC
}

# wait_for SECONDS FILE PATTERN: until grep finds PATTERN in FILE, or fail.
wait_for() {
	n=0
	limit=$(($1 * 10))
	while ! grep -q -- "$3" "$2" 2>/dev/null; do
		n=$((n + 1))
		[ $n -le "$limit" ] || fail "waited $1 s for '$3' in $2"
		sleep 0.1
	done
}

# count PATTERN FILE: matching lines (0 when none).
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }
