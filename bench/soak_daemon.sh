#!/bin/sh
# soak_daemon.sh - does auscultd stay flat over a long run with a broker that keeps going away?
# Monitors read a recording with a synthetic fault every minute of audio (so events keep coming)
# and publish to a real local mosquitto that is stopped for OUTAGE_S every CYCLE_S. Prints the
# daemon's RSS, threads and open files every cycle, then checks that every event arrived and
# that memory did not grow after the first cycles.
#
# usage: bench/soak_daemon.sh [BUILD_DIR] [MINUTES] [CYCLE_S] [OUTAGE_S]
#   BUILD_DIR holds auscultd (default: build); MINUTES of run (default 10); a broker outage of
#   OUTAGE_S (default 15) every CYCLE_S (default 60).
#
# Two modes:
# - live (default): one monitor paced to real time (source.realtime: true) for MINUTES.
# - un-paced (AUDIO_HOURS=N): MONITORS monitors (default 3) read the looping file as fast as
#   they can (source.realtime: false), the event spool (mqtt.spool_dir) in the run's temporary
#   folder, SIGHUP every HUP_S (default 60) wall seconds. The run lasts until every monitor has
#   read N hours of audio and MINUTES have passed. Audio read is counted from the daemon's log
#   (log_level debug: one "end of FILE, starting it over" per pass of the 60-s recording), so
#   passes cut short by a reload are not counted: the figure is a lower bound. At the end the
#   monitors are reloaded onto paced normal sound (no new events), the outbox drains, and the
#   daemon must stop on SIGTERM within STOP_S (default 10, 60 under valgrind) s.
#   Checks: RSS growth after warm-up (the first quarter of the run) at most RSS_SLACK_KB
#   (default 2048; not judged under ASan or valgrind); every event (id, type) the daemon's log
#   raised delivered to a subscriber (a persistent QoS 1 session, so none is lost while it
#   reconnects), duplicates counted.
# In either mode the evidence (on by default: each anomaly's sound, picture and record) goes to
# the run's folder, with max_files ev_max_files (100); the summary counts the anomalies whose
# files were written and checks that retention kept every monitor's folder within it. A file
# read faster than real time makes a monitor wait for the evidence writer rather than lose the
# sound it has not saved yet (evidence/evidence_tap.h), so un-paced runs read about a fifth of
# the audio they read with evidence off.
# Environment for either mode: VALGRIND=1 runs the daemon under valgrind memcheck (leak
# summary at the end; about 50 times slower, so give fewer AUDIO_HOURS); a BUILD_DIR configured
# with -DAUSCULT_SANITIZE=ON gives ASan + UBSan, whose reports are looked for in the daemon's
# output. Exit status 0 only if every check passed.
#
# Figures (2-core x86-64 VM shared with builds, nice -n 10; Debian 12), 2026-12-07, evidence on:
#   AUDIO_HOURS=8 nice -n 10 bench/soak_daemon.sh build 15 180 20
#     16.2 min, 123.3 h of audio per monitor (3 monitors), 5 broker restarts, 15 SIGHUPs; 44,599
#     events raised, all delivered (0 duplicates); evidence written for all 22,313 anomalies,
#     22,013 deleted by retention, 100 left per monitor; RSS 43,528 kB after warm-up, 35,824 kB
#     at the end (35,688-43,528 kB after warm-up); 5-8 threads, 7-13 open files; SIGTERM to
#     exit 0.22 s. The same run with evidence off read 48 h of audio a minute (with it 9) at
#     19.0 MB RSS in the first minute (with it 29.0 MB).
#   same with an ASan + UBSan build dir, AUDIO_HOURS=2, 10 min: 55.8 h of audio per monitor,
#     20,446 events raised, all delivered, evidence for all 10,230 anomalies; no sanitizer
#     report; SIGTERM to exit 0.34 s.
# Figures (2-core x86-64 VM shared with fuzzers and builds, nice -n 10; Debian 12), 2026-12-05,
# a build before evidence:
#   AUDIO_HOURS=24 KEEP=1 nice -n 10 bench/soak_daemon.sh build 25 180 20
#     25.9 min, 194.0 h of audio per monitor (3 monitors, ~580 h in all), 8 broker restarts,
#     25 SIGHUPs; 70,808 events raised, all delivered (54 duplicates); RSS 22,736 kB after
#     warm-up, 23,060 kB at the end (between 21,964 and 23,204 kB after warm-up; from 18.9 MB at
#     minute 1 it rose in steps at broker returns, when the 20,000-message outbox had filled);
#     7 threads, 10-11 open files throughout; SIGTERM to exit 0.28 s. 50 (id, type) were raised
#     twice: see the note on ids above the event check.
#   same with an ASan + UBSan build dir (-DAUSCULT_SANITIZE=ON), 15 min:
#     37.2 h of audio per monitor, 13,839 events raised, all delivered; no sanitizer report
#     (LeakSanitizer at exit included); SIGTERM to exit 4.4 s.
#   VALGRIND=1 MONITORS=1 AUDIO_HOURS=0.25 bench/soak_daemon.sh build 8 120 20:
#     1.0 h of audio, 122 events all delivered; ERROR SUMMARY: 0 errors; definitely, indirectly,
#     possibly lost: 0 bytes (104 bytes still reachable).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
minutes=${2:-10}
cycle=${3:-60}
outage=${4:-15}
hours=${AUDIO_HOURS:-}
nmon=${MONITORS:-3}
hup_s=${HUP_S:-60}
stop_s=${STOP_S:-$([ "${VALGRIND:-0}" = 1 ] && echo 60 || echo 10)}
slack_kb=${RSS_SLACK_KB:-2048}
daemon="$build/auscultd"
model="$here/models/pump_id00.am"
data="$here/../shared/data/dcase2020_id00/train"
[ -x "$daemon" ] || { echo "soak_daemon: $daemon not found; build first" >&2; exit 2; }
[ -f "$data/normal_id_00_00000060.wav" ] || { echo "soak_daemon: $data not found" >&2; exit 2; }
for t in sox mosquitto mosquitto_sub bc; do
	command -v $t >/dev/null || { echo "soak_daemon: $t is needed (scripts/install-deps)" >&2; exit 2; }
done
if [ "${VALGRIND:-0}" = 1 ]; then
	command -v valgrind >/dev/null || { echo "soak_daemon: valgrind is not installed" >&2; exit 2; }
fi
[ "$outage" -lt "$cycle" ] || { echo "soak_daemon: OUTAGE_S must be below CYCLE_S" >&2; exit 2; }

work=$(mktemp -d)
dpid=""
broker=""
sub=""
cleanup() {
	for p in $dpid $sub $broker; do kill "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] && echo "soak_daemon: files kept in $work" >&2 || rm -rf "$work"
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
loop_s=60

port=$(( 20000 + $$ % 20000 ))
# Anomalies kept per monitor's evidence folder: the config says it, the summary checks it.
ev_max_files=100
# The broker keeps the recorder's persistent session (and what is queued for it) across its
# restarts, so an event the daemon delivers while the recorder is reconnecting still reaches it.
# The recorder runs throughout (mosquitto_sub reconnects by itself): killing it with the broker
# lost 2 of 91,992 events in a 25-min run, each raised within 50 ms of a broker stop.
cat >"$work/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/
max_queued_messages 0
EOF
start_broker() {
	mosquitto -c "$work/mosquitto.conf" >>"$work/mosquitto.log" 2>&1 &
	broker=$!
	sleep 0.3
	if [ -z "$sub" ] || ! kill -0 "$sub" 2>/dev/null; then
		mosquitto_sub -h 127.0.0.1 -p "$port" -v -q 1 -c -i soak-recorder -t 'soak/+/event' \
			>>"$work/events.txt" 2>>"$work/sub.log" &
		sub=$!
	fi
}
stop_broker() {
	kill "$broker" 2>/dev/null || true
	wait "$broker" 2>/dev/null || true
	broker=""
}

# write_config SOURCE: the daemon's config with MONITORS monitors reading SOURCE.
write_config() {
	{
		printf 'log_level: %s\n' "$([ -n "$hours" ] && echo debug || echo info)"
		printf 'mqtt: { uri: "mqtt://127.0.0.1:%s", client_id: "soak", topic_prefix: soak' "$port"
		[ -n "$hours" ] && printf ', spool_dir: %s/spool, offline_buffer: 20000' "$work"
		printf ' }\nhome_assistant: { discovery: false }\n'
		# Evidence is on by default: its files go to the run's folder, not the system's.
		printf 'evidence: { dir: %s/evidence, max_files: %s }\nmonitors:\n' "$work" "$ev_max_files"
		i=1
		while [ $i -le "$nmon" ]; do
			printf '  - name: m%s\n    source: %s\n    model: %s\n' $i "$1" "$model"
			i=$((i + 1))
		done
	} >"$work/soak.yaml.new"
	mv "$work/soak.yaml.new" "$work/soak.yaml"
}
if [ -n "$hours" ]; then
	write_config "{ type: file, path: $work/cycle.wav, loop: true, realtime: false }"
else
	nmon=1
	write_config "{ type: file, path: $work/cycle.wav, loop: true, realtime: true }"
fi

start_broker
if [ "${VALGRIND:-0}" = 1 ]; then
	valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --log-file="$work/valgrind.log" \
		"$daemon" --config "$work/soak.yaml" 2>"$work/daemon.log" &
else
	"$daemon" --config "$work/soak.yaml" 2>"$work/daemon.log" &
fi
dpid=$!

kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
# audio_h NAME: hours of audio the monitor NAME has read (whole passes of the recording).
audio_h() {
	echo "$(grep -c ": $1: end of " "$work/daemon.log" || true) * $loop_s / 3600" | bc -l
}
# min_audio_h: the least audio_h over the monitors.
min_audio_h() {
	i=1
	while [ $i -le "$nmon" ]; do
		audio_h m$i
		i=$((i + 1))
	done | sort -g | head -n 1
}
raised() { grep -c 'anomaly started\|anomaly ended' "$work/daemon.log" || true; }
delivered() { grep -c '"type"' "$work/events.txt" || true; }
rows=""
report() {
	kill -0 "$dpid" 2>/dev/null || { echo "soak_daemon: auscultd died" >&2; tail "$work/daemon.log" >&2; exit 1; }
	rss=$(kb "$dpid" VmRSS)
	line=$(printf '%7.1f %9s %9d %9d %8d %6d %8d %9d %s' \
		"$(echo "($(date +%s) - $t0) / 60" | bc -l)" \
		"$([ -n "$hours" ] && printf '%.1f' "$(min_audio_h)" || echo -)" "$rss" \
		"$(kb "$dpid" VmHWM)" "$(kb "$dpid" Threads)" "$(ls "/proc/$dpid/fd" | wc -l)" \
		"$(raised)" "$(delivered)" "$1")
	echo "$line"
	rows="$rows$line
"
}

printf '%7s %9s %9s %9s %8s %6s %8s %9s %s\n' minute "audio h" "RSS kB" "peak kB" threads fds \
	raised delivered note
t0=$(date +%s)
if [ -z "$hours" ]; then
	end=$(( t0 + minutes * 60 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep $((cycle - outage))
		stop_broker
		sleep "$outage"
		start_broker
		report "broker restarted"
	done
	sleep $((outage + 5)) # let the last outage's events arrive
else
	next_outage=$((cycle - outage))
	up_at=-1
	next_hup=$hup_s
	hups=0
	restarts=0
	while :; do
		sleep 1
		t=$(( $(date +%s) - t0 ))
		if [ "$up_at" -ge 0 ] && [ "$t" -ge "$up_at" ]; then
			start_broker
			up_at=-1
			restarts=$((restarts + 1))
			report "broker back"
		elif [ "$up_at" -lt 0 ] && [ "$t" -ge "$next_outage" ]; then
			stop_broker
			up_at=$((t + outage))
			next_outage=$((next_outage + cycle))
		fi
		if [ "$t" -ge "$next_hup" ]; then
			kill -HUP "$dpid"
			hups=$((hups + 1))
			next_hup=$((next_hup + hup_s))
			report "SIGHUP"
		fi
		if [ "$t" -ge $((minutes * 60)) ] && [ "$up_at" -lt 0 ] &&
			[ "$(echo "$(min_audio_h) >= $hours" | bc)" = 1 ]; then
			break
		fi
	done
	audio_total=$(min_audio_h)
	# Paced normal sound: the monitors keep running but raise nothing new, so the outbox and
	# the spool can drain before the stop.
	write_config "{ type: file, path: $work/normal.wav, loop: true, realtime: true }"
	kill -HUP "$dpid"
	n=0
	until [ "$(delivered)" -ge "$(raised)" ] || [ $n -ge 120 ]; do
		sleep 1
		n=$((n + 1))
	done
	sleep 2
	report "drained"
fi

stop_t0=$(date +%s.%N)
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
stop_took=$(echo "$(date +%s.%N) - $stop_t0" | bc -l)
dpid=""
sleep 1 # the last acknowledged events reach the recorder
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ "$rc" = 0 ] || fail "auscultd exited $rc on SIGTERM"
printf 'stop: SIGTERM to exit took %.2f s\n' "$stop_took"
[ "$(echo "$stop_took <= $stop_s" | bc)" = 1 ] || fail "auscultd took $stop_took s to stop (allowed $stop_s)"

# Events: (id, type) raised in the daemon's log against those delivered to the recorder.
sed -n 's/.*anomaly started (.*; id \([^)]*\))$/\1 start/p; s/.*anomaly ended after .*; id \([^)]*\))$/\1 end/p' \
	"$work/daemon.log" >"$work/raised.txt"
sed -n 's/.*"id":"\([^"]*\)","type":"\([a-z]*\)".*/\1 \2/p' "$work/events.txt" >"$work/ids.txt"
sort -u "$work/raised.txt" >"$work/raised.sorted"
# Un-paced stream time runs ahead of the wall clock, and a reload starts it again from the wall
# clock, so a new monitor can (rarely) give an anomaly the id one of its predecessors gave.
reused=$(( $(wc -l <"$work/raised.txt") - $(wc -l <"$work/raised.sorted") ))
sort -u "$work/ids.txt" >"$work/delivered.sorted"
missing=$(comm -23 "$work/raised.sorted" "$work/delivered.sorted" | wc -l)
unknown=$(comm -13 "$work/raised.sorted" "$work/delivered.sorted" | wc -l)
dups=$(( $(wc -l <"$work/ids.txt") - $(wc -l <"$work/delivered.sorted") ))
echo "events: $(wc -l <"$work/raised.txt") raised ($(grep -c ' start$' "$work/raised.txt" || true) starts), $(wc -l <"$work/ids.txt") delivered, $dups duplicates, $missing missing, $unknown not raised; $reused (id, type) raised twice"
echo "daemon log: $(grep -c 'mqtt: connected' "$work/daemon.log" || true) connections, $(grep -c ' error: ' "$work/daemon.log" || true) error lines, $(grep -c ' warn: ' "$work/daemon.log" || true) warnings ($(grep ' warn: ' "$work/daemon.log" | grep -c -v 'anomaly started' || true) not about anomalies)"
[ "$missing" = 0 ] || fail "$missing events raised but never delivered, e.g. $(comm -23 "$work/raised.sorted" "$work/delivered.sorted" | head -n 3 | tr '\n' ';')"
[ "$unknown" = 0 ] || fail "$unknown events delivered that the log did not raise"
[ "$(wc -l <"$work/raised.txt")" -gt 0 ] || fail "no event was raised"

# Evidence: the anomalies' sound, picture and record written, and retention keeping each
# monitor's folder within max_files.
ev_written=$(grep -c ' info: evidence: m[0-9]*/.*\.flac' "$work/daemon.log" || true)
ev_deleted=$(sed -n 's/.* info: evidence: m[0-9]*: deleted the \([0-9]*\) oldest.*/\1/p' \
	"$work/daemon.log" | awk '{ s += $1 } END { print s + 0 }')
ev_most=0
for d in "$work"/evidence/*/; do
	[ -d "$d" ] || continue
	ev_n=$(find "$d" -name '*.txt' | wc -l)
	[ "$ev_n" -le "$ev_most" ] || ev_most=$ev_n
done
echo "evidence: $ev_written anomalies' files written, $ev_deleted deleted by retention, at most $ev_most anomalies in a monitor's folder at the end"
[ "$ev_written" -gt 0 ] || fail "no evidence was written"
[ "$ev_most" -le "$ev_max_files" ] ||
	fail "a monitor's evidence folder holds $ev_most anomalies (max_files $ev_max_files)"

# Memory: after warm-up (the first quarter of the report rows) against the last row.
n_rows=$(printf '%s' "$rows" | grep -c . || true)
warm_row=$(( n_rows / 4 + 1 ))
warm_rss=$(printf '%s' "$rows" | sed -n "${warm_row}p" | awk '{ print $3 }')
last_rss=$(printf '%s' "$rows" | tail -n 1 | awk '{ print $3 }')
min_rss=$(printf '%s' "$rows" | tail -n +"$warm_row" | awk '{ print $3 }' | sort -n | head -n 1)
max_rss=$(printf '%s' "$rows" | tail -n +"$warm_row" | awk '{ print $3 }' | sort -n | tail -n 1)
echo "RSS: $warm_rss kB after warm-up (row $warm_row of $n_rows), $last_rss kB at the end ($(( last_rss - warm_rss )) kB); after warm-up between $min_rss and $max_rss kB"
if [ "${VALGRIND:-0}" = 1 ] || grep -q -a __asan_init "$daemon"; then
	# ASan keeps freed memory in quarantine (256 MB) and valgrind has its own heap: not judged.
	echo "RSS: not judged under a sanitizer or valgrind"
elif [ $(( last_rss - warm_rss )) -gt "$slack_kb" ]; then
	fail "RSS grew by $(( last_rss - warm_rss )) kB after warm-up (allowed $slack_kb)"
fi
if [ -n "$hours" ]; then
	echo "run: $(printf '%.1f' "$(echo "($(date +%s) - $t0) / 60" | bc -l)") min, $(printf '%.1f' "$audio_total") h of audio per monitor at least ($nmon monitors), $restarts broker restarts, $hups SIGHUPs"
	[ "$(echo "$audio_total >= $hours" | bc)" = 1 ] || fail "only $audio_total h of audio"
fi

# Sanitizers and valgrind.
if grep -q 'Sanitizer\|runtime error:' "$work/daemon.log"; then
	fail "sanitizer report:"
	grep -A 12 'Sanitizer\|runtime error:' "$work/daemon.log" | head -n 40
fi
if [ "${VALGRIND:-0}" = 1 ]; then
	grep 'ERROR SUMMARY\|definitely lost\|indirectly lost\|possibly lost\|still reachable' "$work/valgrind.log" | sed 's/^==[0-9]*== */valgrind: /'
	grep -q 'ERROR SUMMARY: 0 errors' "$work/valgrind.log" || {
		fail "valgrind found errors"
		head -n 60 "$work/valgrind.log"
	}
fi
[ "$fails" = 0 ] && echo "PASS" || { echo "soak_daemon: $fails check(s) failed"; exit 1; }
