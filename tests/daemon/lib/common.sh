# common.sh - shared helpers of the daemon integration tests: a scratch folder, a real mosquitto
# broker on a free loopback port, a small model trained on the spot, test recordings, waits.
# Sourced by tests/daemon/*.sh (POSIX sh). Every child process is killed on exit.

set -eu
: "${AUSCULT_BIN:?set by ctest}" "${AUSCULTD_BIN:?set by ctest}" "${AUSCULT_SHARED_DIR:?set by ctest}"
. "$(dirname "$0")/../lib/tools.sh"
require_tools mosquitto:mosquitto mosquitto_pub:mosquitto-clients mosquitto_sub:mosquitto-clients sox:sox
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00/train"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/auscult-daemon-test.XXXXXX")
PIDS=""
DAEMONS=""

cleanup() {
	# A daemon from start_daemon still running (a failed check) is killed outright, so that the
	# wait below can never hang on it.
	for d in $DAEMONS; do
		if [ -s "$WORK/$d.pid" ] && [ ! -s "$WORK/$d.exit" ]; then
			kill -KILL "$(cat "$WORK/$d.pid")" 2>/dev/null || true
		fi
	done
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

# subscribe FILE: records every message under auscult/# with its topic (-v) into FILE, but the
# evidence pictures (binary PNG; tests/daemon/evidence.sh fetches them on their own).
subscribe() {
	mosquitto_sub -h 127.0.0.1 -p "$PORT" -v -t 'auscult/#' -T 'auscult/+/evidence/#' >"$1" 2>>"$WORK/sub.log" &
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
	"$AUSCULT_BIN" train --out "$WORK/model.am" --recipe dcase2020 --hidden 64,8,64 \
		--epochs 40 --seed 1 --threads 1 --quiet "$WORK/train" >"$WORK/train.log" 2>&1 || fail "training the test model"
}

# make_fault_recording OUT: 30 s of trained-on normal sound, 15 s of the same machine with a
# synthetic whine and knocks mixed in, 20 s normal again (65 s, 16 kHz mono). Without dither
# (-D): sox would add it with a new random seed each time, and every run would hear other sound.
make_fault_recording() {
	sox "$DATA/normal_id_00_00000000.wav" "$DATA/normal_id_00_00000001.wav" \
		"$DATA/normal_id_00_00000002.wav" "$WORK/part_a.wav"
	sox "$DATA/normal_id_00_00000003.wav" "$DATA/normal_id_00_00000004.wav" "$WORK/b_base.wav" trim 0 15
	sox -D -n -r 16000 -c 1 "$WORK/whine.wav" synth 15 sine 3110-3190 sine 6300 \
		remix 1v0.7,2v0.3 tremolo 7 30 vol 0.03
	sox -D -n -r 16000 -c 1 "$WORK/knock1.wav" synth 0.012 sine 900 fade q 0.001 0.012 0.011 \
		vol 0.2 pad 0 0.238
	sox -D "$WORK/knock1.wav" "$WORK/knocks.wav" repeat 59
	sox -D -m -v 1 "$WORK/b_base.wav" -v 1 "$WORK/whine.wav" -v 1 "$WORK/knocks.wav" -b 16 \
		"$WORK/part_b.wav"
	sox "$DATA/normal_id_00_00000005.wav" "$DATA/normal_id_00_00000006.wav" "$WORK/part_c.wav"
	sox "$WORK/part_a.wav" "$WORK/part_b.wav" "$WORK/part_c.wav" "$1"
}

# write_config FILE SOURCE_YAML [EXTRA_MONITOR_YAML]: a one-monitor config for the test broker.
# Evidence goes to $WORK/evidence unless EVIDENCE_YAML says otherwise.
write_config() {
	_wc_ev="{ dir: $WORK/evidence }"
	[ -z "${EVIDENCE_YAML:-}" ] || _wc_ev=$EVIDENCE_YAML
	cat >"$1" <<EOC
log_level: ${LOG_LEVEL:-info}
mqtt: { uri: "mqtt://127.0.0.1:$PORT", client_id: "auscult-test-$$", keepalive_s: 5 }
home_assistant: { discovery: false }
evidence: $_wc_ev
monitors:
  - name: pump
    source: $2
    model: $WORK/model.am
    hysteresis: { anomaly_after: 3, normal_after: 5 }
    ${3:-}
EOC
}

# now_ms: milliseconds since the epoch.
now_ms() { date +%s%3N; }

# wait_until SECONDS CMD [ARG...]: runs CMD every 0.1 s until it succeeds (status 0), at most
# SECONDS * 10 times more after the first; status 1 when it never did. The caller says what failed:
#   wait_until 5 test -S "$sock" || fail "nothing bound $sock"
wait_until() {
	_wu_left=$(($1 * 10))
	shift
	until "$@"; do
		[ $_wu_left -gt 0 ] || return 1
		_wu_left=$((_wu_left - 1))
		sleep 0.1
	done
}

# wait_for_file SECONDS FILE: until FILE exists and is not empty (a pid or exit file is written
# in one go); status 1 when it did not within SECONDS s.
wait_for_file() { wait_until "$1" test -s "$2"; }

# wait_for SECONDS FILE PATTERN: until grep finds PATTERN in FILE, or fail.
wait_for() { wait_until "$1" grep -q -s -- "$3" "$2" || fail "waited $1 s for '$3' in $2"; }

# count PATTERN FILE: matching lines (0 when none).
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }

# start_daemon NAME [STDIN [VAR=VALUE...]]: auscultd --config $WORK/NAME.yaml in the background,
# stdin from STDIN (empty or none: /dev/null), output to $WORK/NAME.daemon.log, the VAR=VALUE
# pairs added to its environment (WATCHDOG_PID=self: its own pid). Its pid goes to $WORK/NAME.pid
# and DPID. A subshell waits for it and writes "RC END_MS" to $WORK/NAME.exit when it exits, so
# no wait on it is unbounded; one still running when the script exits is killed outright.
# Fails if it has not started within 5 s.
start_daemon() {
	_sd_name=$1
	_sd_in=${2:-/dev/null}
	shift
	[ $# -eq 0 ] || shift
	rm -f "$WORK/$_sd_name.pid" "$WORK/$_sd_name.exit"
	(
		rc=0
		env "$@" sh -c 'echo $$ >"$0.pid"
			[ "${WATCHDOG_PID-}" != self ] || WATCHDOG_PID=$$
			exec "$AUSCULTD_BIN" --config "$0.yaml"' \
			"$WORK/$_sd_name" <"$_sd_in" >"$WORK/$_sd_name.daemon.log" 2>&1 || rc=$?
		echo "$rc $(now_ms)" >"$WORK/$_sd_name.exit"
	) &
	track $!
	DAEMONS="$DAEMONS $_sd_name"
	wait_for_file 5 "$WORK/$_sd_name.pid" || fail "auscultd ($_sd_name) did not start"
	DPID=$(cat "$WORK/$_sd_name.pid")
}

# stop_daemon NAME SECONDS: SIGTERM to the daemon start_daemon NAME began; fails unless it exits 0
# within SECONDS s. Sets TERM_MS (now_ms at the signal) and STOP_MS (from the signal to its exit).
stop_daemon() {
	TERM_MS=$(now_ms)
	kill -TERM "$(cat "$WORK/$1.pid")"
	wait_for_file "$2" "$WORK/$1.exit" || fail "auscultd ($1) still running $2 s after SIGTERM"
	read -r _sd_rc _sd_end <"$WORK/$1.exit"
	[ "$_sd_rc" = 0 ] || fail "auscultd ($1) exited $_sd_rc after SIGTERM"
	STOP_MS=$((_sd_end - TERM_MS))
}
