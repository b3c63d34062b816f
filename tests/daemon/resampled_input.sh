#!/bin/sh
# resampled_input.sh - the same recording at 16, 22.05, 44.1 and 48 kHz through the real daemon
# (file source, not paced) gives the same window scores within a few percent, the same states and
# the same anomaly events: the daemon's rate converter keeps the bands the model reads.
#
# The recording is samples/demo_pump.wav (60 s: normal pump sound, a synthetic fault at 30-45 s)
# scored by the shipped model. The higher rates are made with sox's very-high-quality converter
# at its widest band (`rate -v -b 99.7`): a microphone at 48 kHz hears all of 0-8 kHz, and sox's
# default 95 % band would itself take the top of the model's last mel band (7.6-8 kHz) away on the
# way up, which is not what the test is about; and without dither (-D), which sox would add with a
# new random seed on every run, so that the files, and the scores, are the same every time.
. "$(dirname "$0")/lib/common.sh"
: "${AUSCULT_SOURCE_DIR:?set by ctest}"

demo="$AUSCULT_SOURCE_DIR/samples/demo_pump.wav"
[ -f "$demo" ] || fail "$demo is missing"
[ -f "$AUSCULT_SOURCE_DIR/models/pump_id00.am" ] || fail "the shipped model is missing"
cp "$AUSCULT_SOURCE_DIR/models/pump_id00.am" "$WORK/model.am"

# run RATE: the demo at RATE Hz through the daemon; its messages in $WORK/RATE.msgs, its window
# scores (raw, one a line) in $WORK/RATE.raw, its states in $WORK/RATE.states. A broker of its
# own each time: the last run's retained messages must not be taken for this one's.
run() {
	if [ "$1" = 16000 ]; then
		cp "$demo" "$WORK/$1.wav"
	else
		sox -D "$demo" -r "$1" "$WORK/$1.wav" rate -v -b 99.7 || fail "sox could not make $1 Hz"
	fi
	start_broker
	# QoS 1 end to end: unpaced, the daemon publishes a minute of scores in a second, more
	# than QoS 0 delivers. Every window's score: a window is stamped with the end of the read
	# that completed it, and reads of converted audio vary in size, so a 0.5 s interval
	# would skip some windows at one rate and not at another.
	mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -v -t 'auscult/#' -T 'auscult/+/evidence/#' >"$WORK/$1.msgs" 2>>"$WORK/sub.log" &
	SUB_PID=$!
	track $SUB_PID
	sleep 0.3
	cat >"$WORK/$1.yaml" <<EOC
log_level: info
mqtt: { uri: "mqtt://127.0.0.1:$PORT", client_id: "auscult-test-$$", qos: 1 }
home_assistant: { discovery: false }
evidence: { dir: $WORK/evidence }
monitors:
  - name: pump
    source: { type: file, path: $WORK/$1.wav, realtime: false }
    model: $WORK/model.am
    publish_interval_s: 0.1
EOC
	timeout 120 "$AUSCULTD_BIN" --config "$WORK/$1.yaml" >"$WORK/$1.log" 2>&1 ||
		fail "auscultd at $1 Hz exited $?"
	wait_for 5 "$WORK/$1.msgs" '^auscult/status offline'
	kill "$SUB_PID" 2>/dev/null || true
	stop_broker
	sed -n 's/^auscult\/pump\/score .*"raw":\([-0-9.e+]*\).*/\1/p' "$WORK/$1.msgs" >"$WORK/$1.raw"
	sed -n 's/^auscult\/pump\/score .*"state":"\([a-z]*\)".*/\1/p' "$WORK/$1.msgs" >"$WORK/$1.states"
	grep '^auscult/pump/event ' "$WORK/$1.msgs" | sed 's/.*"type":"\([a-z]*\)".*/\1/' \
		>"$WORK/$1.events"
	# duration and peak of each anomaly, one a line
	sed -n 's/^auscult\/pump\/event .*"type":"end".*"duration_s":\([0-9.]*\),"peak":\([-0-9.e+]*\).*/\1 \2/p' \
		"$WORK/$1.msgs" >"$WORK/$1.anomalies"
}

run 16000
n16=$(wc -l <"$WORK/16000.raw")
[ "$n16" -ge 100 ] || fail "16000 Hz: only $n16 window scores"
starts=$(grep -c start "$WORK/16000.events" || true)
[ "$starts" -ge 1 ] || fail "16000 Hz: the demo's fault raised no anomaly event"
grep -q anomaly "$WORK/16000.states" || fail "16000 Hz: no window in anomaly"

for rate in 22050 44100 48000; do
	run $rate
	grep -q "listening to file .*($rate Hz, 1 ch), mono, converted to 16000 Hz by soxr HQ" \
		"$WORK/$rate.log" || fail "$rate Hz: the log does not say which converter runs"
	n=$(wc -l <"$WORK/$rate.raw")
	d=$((n - n16))
	[ "$d" -ge -1 ] && [ "$d" -le 1 ] || fail "$rate Hz: $n window scores, 16000 Hz had $n16"
	# Window by window: the median relative difference within 1 %, every window within 4 %
	# (at 48 kHz the worst are two windows just after the fault, 3.2 %: the rise heads' median
	# of five evaluations still holds the fault's end there, and a small change of their gate
	# moves a score that is otherwise small).
	paste "$WORK/16000.raw" "$WORK/$rate.raw" | awk -v rate="$rate" '
		NF == 2 { d = ($2 - $1) / $1; if (d < 0) d = -d; diff[++n] = d; if (d > worst) worst = d }
		END {
			# insertion sort: a few hundred values
			for (i = 2; i <= n; i++) { v = diff[i]; j = i - 1
				while (j > 0 && diff[j] > v) { diff[j + 1] = diff[j]; j-- } diff[j + 1] = v }
			med = diff[int((n + 1) / 2)]
			printf "%s Hz: %d windows, window scores differ from 16000 Hz by ", rate, n
			printf "%.2f %% (median), %.2f %% (worst)\n", 100 * med, 100 * worst
			exit !(med <= 0.01 && worst <= 0.04)
		}' || fail "$rate Hz: window scores differ from the 16 kHz run"
	# The same states window by window (the last window may be missing), except on a window
	# next to a change of state at 16 kHz: there the smoothed score crosses the threshold, and
	# a score within the 4 % above may cross it one window sooner or later (the anomaly's
	# duration is held to one hop below). The same events.
	m=$n16
	[ "$n" -lt "$m" ] && m=$n
	head -n "$m" "$WORK/16000.states" >"$WORK/a.states"
	head -n "$m" "$WORK/$rate.states" >"$WORK/b.states"
	paste "$WORK/a.states" "$WORK/b.states" | awk -v rate="$rate" '
		{ a[NR] = $1; b[NR] = $2 }
		END {
			for (i = 1; i <= NR; i++) {
				if (a[i] == b[i]) continue
				edge = (i > 1 && a[i - 1] != a[i]) || (i < NR && a[i + 1] != a[i])
				printf "%s Hz: window %d is %s, at 16000 Hz %s%s\n", rate, i, b[i], a[i],
					edge ? " (next to a change of state)" : ""
				if (!edge) bad = 1
			}
			exit bad
		}' || fail "$rate Hz: states differ from 16000 Hz away from a change of state"
	cmp -s "$WORK/16000.events" "$WORK/$rate.events" ||
		fail "$rate Hz: events $(tr '\n' ' ' <"$WORK/$rate.events"), 16000 Hz had $(tr '\n' ' ' <"$WORK/16000.events")"
	# Each anomaly lasts as long, within a window hop (0.5 s), and peaks as high, within 3 %.
	paste "$WORK/16000.anomalies" "$WORK/$rate.anomalies" | awk -v rate="$rate" '
		{ dd = $3 - $1; dp = ($4 - $2) / $2; if (dd < 0) dd = -dd; if (dp < 0) dp = -dp
		  printf "%s Hz: anomaly of %.2f s (16000 Hz: %.2f s), peak %.2f (%.2f)\n", rate, $3, $1, $4, $2
		  if (NF != 4 || dd > 0.5 || dp > 0.03) bad = 1 }
		END { exit bad }' || fail "$rate Hz: the anomaly differs from the 16 kHz run"
done
echo "resampled_input: 22.05, 44.1 and 48 kHz score, decide and raise events as 16 kHz: ok"
