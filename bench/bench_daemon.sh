#!/bin/sh
# bench_daemon.sh - auscultd's cost on live-paced audio (16 kHz or converted): CPU time over
# wall time and memory (RSS now and peak) for 1, 4 and 16 monitors in one process, against a real
# local mosquitto.
#
# usage: bench/bench_daemon.sh [BUILD_DIR] [SECONDS_1] [SECONDS_N] [RATE_HZ]
#   BUILD_DIR  holds auscultd (default: build)
#   SECONDS_1  how long the 1-monitor run lasts (default 180)
#   SECONDS_N  how long the 4- and 16-monitor runs last (default 60)
#   RATE_HZ    the recording's rate (default 16000, the model's); another rate is made with sox
#              (rate -v at its widest band), so the daemon converts it as from a microphone
# Each monitor reads a real 10 s recording in a loop, paced to real time (realtime: true), with
# the shipped model (models/pump_id00.am). The first 10 s of each run (start-up, model loading)
# are excluded from the CPU figure. Environment: AUSCULT_MODEL (another model, e.g. one trained
# with --recipe dcase2020, to compare), MONITORS (the counts to run; default "1 4 16"), EVIDENCE
# (default "off on": each count runs with evidence.enabled false, then true; the recording is
# normal, so "on" costs the pre-roll copy, the window queue and the writer's idle wake-ups; the
# writer thread's own CPU is shown apart), SOURCE (default "file"; "pipe": one monitor whose
# audio comes through its stdin in 10-ms pieces at real time, written by build/pace_pcm, as from
# `arecord -t raw | auscultd`, the way a device delivers it). Targets for one monitor: <= 0.2 % of
# one core, <= 16 MB RSS; evidence on: under 0.01 % of a core more than off.
#
# Measured 2026-12-07, SOURCE=pipe, one monitor, evidence off, 60 s: before the monitor slept
# until a window's audio was in, it woke for every piece (107 wake-ups a second in all) and the
# daemon took 0.400 % of a core here (`perf stat --per-thread`: the monitor thread 0.48 %, the
# process 0.52 %); since, 0.100 % (0.055 % and 0.095 %, 10 wake-ups a second), as with a paced
# file (0.100 % in the same session).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
secs1=${2:-180}
secsn=${3:-60}
rate=${4:-16000}
daemon="$build/auscultd"
model=${AUSCULT_MODEL:-"$here/models/pump_id00.am"}
wav="$here/../shared/data/dcase2020_id00/train/normal_id_00_00000060.wav"
[ -x "$daemon" ] || { echo "bench_daemon: $daemon not found; build first" >&2; exit 2; }
[ -f "$model" ] || { echo "bench_daemon: $model not found (scripts/train-shipped-model)" >&2; exit 2; }
[ -f "$wav" ] || { echo "bench_daemon: $wav not found" >&2; exit 2; }
source_kind=${SOURCE:-file}
case $source_kind in
file) monitor_counts=${MONITORS:-1 4 16} ;;
pipe)
	monitor_counts=${MONITORS:-1}
	[ "$monitor_counts" = 1 ] || { echo "bench_daemon: SOURCE=pipe feeds one monitor (one stdin)" >&2; exit 2; }
	[ -x "$build/pace_pcm" ] || { echo "bench_daemon: $build/pace_pcm not found; build first" >&2; exit 2; }
	;;
*) echo "bench_daemon: SOURCE '$source_kind': expected file or pipe" >&2; exit 2 ;;
esac

work=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$rate" != 16000 ]; then
	sox "$wav" -r "$rate" "$work/input.wav" rate -v -b 99.7 || { echo "bench_daemon: sox failed" >&2; exit 2; }
	wav="$work/input.wav"
fi
if [ "$source_kind" = pipe ]; then
	sox "$wav" -t raw -e signed-integer -b 16 "$work/input.raw" || { echo "bench_daemon: sox failed" >&2; exit 2; }
fi
echo "input: $(basename "$wav") at $rate Hz ($source_kind); model: $model"

port=$(( 20000 + $$ % 20000 ))
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids="$pids $!"
sleep 0.5

tck=$(getconf CLK_TCK)
# cpu_ticks PID: utime + stime of the whole process (all threads), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# thread_ticks PID NAME: utime + stime of the process's threads called NAME, in clock ticks.
thread_ticks() {
	t=0
	for f in /proc/"$1"/task/*; do
		[ "$(cat "$f/comm" 2>/dev/null)" = "$2" ] && t=$((t + $(awk '{ print $14 + $15 }' "$f/stat")))
	done
	echo $t
}

if [ "$source_kind" = pipe ]; then
	src="{ type: stdin, rate_hz: $rate }"
else
	src="{ type: file, path: $wav, loop: true, realtime: true }"
fi
printf '%-9s %-8s %8s %12s %12s %10s %10s %12s\n' monitors evidence seconds "cpu % core" "per monitor" \
	"RSS MB" "peak MB" "writer %"
for n in $monitor_counts; do
for ev in ${EVIDENCE:-off on}; do
	secs=$secsn
	[ "$n" = 1 ] && secs=$secs1
	{
		printf 'log_level: warn\nmqtt: { uri: "mqtt://127.0.0.1:%s", client_id: "bench-%s" }\n' "$port" "$n"
		printf 'home_assistant: { discovery: false }\n'
		if [ "$ev" = on ]; then
			printf 'evidence: { dir: %s/evidence }\n' "$work"
		else
			printf 'evidence: { enabled: false }\n'
		fi
		printf 'monitors:\n'
		i=0
		while [ $i -lt "$n" ]; do
			printf '  - name: m%d\n    source: %s\n    model: %s\n' $i "$src" "$model"
			i=$((i + 1))
		done
	} >"$work/bench.yaml"
	if [ "$source_kind" = pipe ]; then
		# $! is the pipeline's last command, the daemon; the writer ends when it does.
		"$build/pace_pcm" "$rate" 1 "$work/input.raw" |
			"$daemon" --config "$work/bench.yaml" 2>"$work/daemon-$n.log" &
	else
		"$daemon" --config "$work/bench.yaml" 2>"$work/daemon-$n.log" &
	fi
	dpid=$!
	pids="$pids $dpid"
	sleep 10
	c0=$(cpu_ticks $dpid)
	w0=$(thread_ticks $dpid evidence)
	t0=$(date +%s%N)
	sleep "$secs"
	c1=$(cpu_ticks $dpid)
	w1=$(thread_ticks $dpid evidence)
	t1=$(date +%s%N)
	rss=$(kb $dpid VmRSS)
	hwm=$(kb $dpid VmHWM)
	kill -TERM $dpid
	wait $dpid || true
	awk -v c="$((c1 - c0))" -v tck="$tck" -v ns="$((t1 - t0))" -v n="$n" -v rss="$rss" -v hwm="$hwm" \
		-v s="$secs" -v ev="$ev" -v w="$((w1 - w0))" 'BEGIN {
		pct = 100 * (c / tck) / (ns / 1e9)
		printf "%-9d %-8s %8d %11.3f%% %11.3f%% %10.1f %10.1f %11.3f%%\n", n, ev, s, pct, pct / n,
			rss / 1024, hwm / 1024, 100 * (w / tck) / (ns / 1e9)
	}'
done
done
echo "(cpu % core: process CPU time / wall time, one core = 100 %; clock tick $((1000 / tck)) ms)"
