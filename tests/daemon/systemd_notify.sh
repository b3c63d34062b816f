#!/bin/sh
# systemd_notify.sh - auscultd started as systemd starts a Type=notify service with a watchdog
# (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID), with tests/daemon/notify_listener.c playing
# systemd: READY=1 only once audio flows and again after each RELOADING=1 (a refused reload too),
# STATUS= naming the monitor and its state, WATCHDOG=1 at half of WATCHDOG_USEC all along and
# never when WATCHDOG_PID is another process, every message from the main pid (NotifyAccess=main),
# STOPPING=1 and exit 0 within 2 s of SIGTERM.
. "$(dirname "$0")/lib/common.sh"
: "${AUSCULT_NOTIFY_LISTENER:?set by ctest}" "${AUSCULT_SOURCE_DIR:?set by ctest}"

WD_USEC=1000000
# A WATCHDOG=1 may come this much later than WATCHDOG_USEC/2 (systemd itself only acts after a
# whole WATCHDOG_USEC): a reload stops and starts the monitors in the main thread.
WD_SLACK_MS=${WD_SLACK_MS:-250}
WAV="$DATA/normal_id_00_00000000.wav"
ln -s "$AUSCULT_SOURCE_DIR/models/pump_id00.am" "$WORK/model.am"

# start_listener NAME: systemd's notify socket $WORK/NAME.sock, messages to $WORK/NAME.notify.log.
start_listener() {
	"$AUSCULT_NOTIFY_LISTENER" "$WORK/$1.sock" 300 >"$WORK/$1.notify.log" \
		2>>"$WORK/listener.log" &
	track $!
	wait_until 5 test -S "$WORK/$1.sock" || fail "notify_listener did not bind $WORK/$1.sock"
}

# start_notified NAME WATCHDOG_PID [STDIN]: start_daemon NAME in systemd's environment, the
# notify socket $WORK/NAME.sock; WATCHDOG_PID empty means the daemon's own pid. Sets DPID.
start_notified() {
	start_daemon "$1" "${3:-}" NOTIFY_SOCKET="$WORK/$1.sock" WATCHDOG_USEC=$WD_USEC \
		WATCHDOG_PID="${2:-self}"
}

# stop_notified NAME: SIGTERM; exit 0 within 2 s, STOPPING=1 sent once, after the signal.
# Sets STOP_MS.
stop_notified() {
	stop_daemon "$1" 5
	[ $STOP_MS -le 2000 ] || fail "auscultd ($1) took $STOP_MS ms to exit after SIGTERM"
	[ "$(count ' STOPPING=1$' "$WORK/$1.notify.log")" = 1 ] || fail "($1) expected one STOPPING=1"
	t_stopping=$(sed -n 's/^\([0-9.]*\) .* STOPPING=1$/\1/p' "$WORK/$1.notify.log")
	awk -v a="$t_stopping" -v b="$TERM_MS" 'BEGIN { exit !(a >= b) }' \
		|| fail "($1) STOPPING=1 at $t_stopping, before SIGTERM at $TERM_MS"
}

# only_from NAME PID: systemd (NotifyAccess=main) ignores messages from any other process.
only_from() {
	others=$(awk -v p="$2" '$2 != p' "$WORK/$1.notify.log")
	[ -z "$others" ] || fail "($1) messages not from the main pid $2: $others"
}

# ready_sequence NAME: READY=1 and RELOADING=1 in the order they came, on one line.
ready_sequence() {
	awk '$4 == "READY=1" || $4 == "RELOADING=1" { printf "%s ", $4 }' "$WORK/$1.notify.log"
}

# sequence_is NAME SEQUENCE: ready_sequence NAME is SEQUENCE.
sequence_is() { [ "$(ready_sequence "$1")" = "$2" ]; }

# wait_sequence SECONDS NAME SEQUENCE: until ready_sequence NAME is SEQUENCE, or fail.
wait_sequence() {
	wait_until "$1" sequence_is "$2" "$3" ||
		fail "($2) waited $1 s for '$3', got '$(ready_sequence "$2")'"
}

start_broker

# --- 1. A file source, the watchdog ours: ready, status, two reloads, stop ----------------------
start_listener b
write_config "$WORK/b.yaml" "{ type: file, path: $WAV, loop: true, realtime: true }"
t_start=$(now_ms)
start_notified b ""
wait_sequence 20 b "READY=1 "
# (Part 2 shows that READY=1 waits for audio.)
wait_for 15 "$WORK/b.notify.log" \
	' STATUS=1 monitor: pump \(normal\|anomaly\|idle\)[ 0-9.x]*; mqtt connected$'
sleep 2

# A reload the daemon refuses: systemd still needs READY=1 after the RELOADING=1.
cp "$WORK/b.yaml" "$WORK/good.yaml"
printf 'log_level: info\nmonitors: 3\n' >"$WORK/b.yaml"
t_hup=$(now_ms)
kill -HUP "$DPID"
wait_for 10 "$WORK/b.daemon.log" 'keeping the running configuration'
wait_sequence 10 b "READY=1 RELOADING=1 READY=1 "
t_reloading=$(awk '$4 == "RELOADING=1" { print $1; exit }' "$WORK/b.notify.log")
awk -v a="$t_reloading" -v b="$t_hup" 'BEGIN { exit !(a >= b) }' \
	|| fail "RELOADING=1 at $t_reloading, before SIGHUP at $t_hup"

# A reload that applies (the monitor renamed): RELOADING=1, then READY=1 once audio flows again.
sed 's/name: pump$/name: press/' "$WORK/good.yaml" >"$WORK/b.yaml"
kill -HUP "$DPID"
wait_for 10 "$WORK/b.daemon.log" 'reload: .*applied'
wait_sequence 10 b "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 "
wait_for 15 "$WORK/b.notify.log" ' STATUS=1 monitor: press \(starting\|normal\|anomaly\|idle\)'
sleep 1
stop_notified b
only_from b "$DPID"

# The watchdog: from start-up to STOPPING=1, never a gap over WATCHDOG_USEC/2 + slack.
awk -v t0="$t_start" -v every=$((WD_USEC / 2000)) -v slack="$WD_SLACK_MS" '
	$4 == "WATCHDOG=1" {
		if (n == 0 && $1 - t0 > 2000) {
			printf "the first WATCHDOG=1 %.0f ms after start\n", $1 - t0
			bad = 1
		}
		if (n > 0 && $1 - last > max) max = $1 - last
		last = $1; n++
	}
	$4 == "STOPPING=1" { if (n > 0 && $1 - last > max) max = $1 - last; stop = $1 }
	END {
		if (n < 10) { printf "only %d WATCHDOG=1\n", n; exit 1 }
		if (max > every + slack) {
			printf "a WATCHDOG=1 gap of %.0f ms (limit %d + %d)\n", max, every, slack
			exit 1
		}
		printf "%d WATCHDOG=1 over %.1f s, longest gap %.0f ms\n", n, (stop - t0) / 1000, max
		exit bad
	}' "$WORK/b.notify.log" >"$WORK/wd.txt" || fail "watchdog: $(cat "$WORK/wd.txt")"

# --- 2. stdin held silent, the watchdog someone else's: no READY=1 before audio, no WATCHDOG=1 --
start_listener a
mkfifo "$WORK/pcm.fifo"
write_config "$WORK/a.yaml" "{ type: stdin, rate_hz: 16000, realtime: true }"
# The writer holds the pipe open and sends audio only once $WORK/go exists.
(
	wait_until 30 test -e "$WORK/go" || :
	exec sox "$WAV" -t raw -e signed-integer -b 16 -L -
) >"$WORK/pcm.fifo" 2>>"$WORK/sox.log" &
track $!
start_notified a $$ "$WORK/pcm.fifo"
wait_for 10 "$WORK/a.notify.log" ' STATUS=1 monitor: pump starting; mqtt connected$'
sleep 1
[ "$(count ' READY=1$' "$WORK/a.notify.log")" = 0 ] || fail "READY=1 before any audio arrived"
t_go=$(now_ms)
touch "$WORK/go"
wait_for 10 "$WORK/a.notify.log" ' READY=1$'
t_ready=$(awk '$4 == "READY=1" { print $1; exit }' "$WORK/a.notify.log")
awk -v a="$t_ready" -v b="$t_go" 'BEGIN { exit !(a >= b) }' || fail "READY=1 before the audio"
sleep 1.5
stop_notified a
only_from a "$DPID"
[ "$(count ' WATCHDOG=1$' "$WORK/a.notify.log")" = 0 ] \
	|| fail "WATCHDOG=1 sent although WATCHDOG_PID names another process"

echo "systemd_notify: $(cat "$WORK/wd.txt"); READY=1 after audio and after each RELOADING=1;" \
	"stopped in $STOP_MS ms; no WATCHDOG=1 for another pid: ok"
