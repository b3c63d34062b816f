#!/bin/sh
# replay_agrees.sh - the daemon's published scores and `auscult score --windows` agree on the
# shipped demo recording: the same windows (times), the same raw and smoothed values within float
# rounding, the same states and the same events. Both run the one pipeline (src/pipeline).
. "$(dirname "$0")/lib/common.sh"
: "${AUSCULT_SOURCE_DIR:?set by ctest}"
MODEL="$AUSCULT_SOURCE_DIR/models/pump_id00.am"
WAV="$AUSCULT_SOURCE_DIR/samples/demo_pump.wav"

start_broker
subscribe "$WORK/msgs.txt"
cat >"$WORK/d.yaml" <<EOC
log_level: info
mqtt: { uri: "mqtt://127.0.0.1:$PORT", client_id: "auscult-test-$$", keepalive_s: 5 }
home_assistant: { discovery: false }
evidence: { dir: $WORK/evidence }
monitors:
  - name: pump
    source: { type: file, path: $WAV, realtime: false }
    model: $MODEL
    publish_interval_s: 0.1
EOC
timeout 60 "$AUSCULTD_BIN" --config "$WORK/d.yaml" >"$WORK/daemon.log" 2>&1 || fail "auscultd exited $?"
wait_for 5 "$WORK/msgs.txt" '^auscult/status offline'
"$AUSCULT_BIN" score --windows --config "$WORK/d.yaml" --monitor pump "$WAV" >"$WORK/replay.tsv" \
	2>"$WORK/replay.log" || fail "score --windows exited $?"

# Daemon: time (ms), raw, smoothed, state per score message.
grep '^auscult/pump/score ' "$WORK/msgs.txt" | while IFS= read -r line; do
	t=$(echo "$line" | sed 's/.*"time":"\([^"]*\)".*/\1/')
	v=$(echo "$line" | sed 's/.*"raw":\([^,]*\),"smoothed":\([^,]*\),.*"state":"\([a-z]*\)".*/\2 \1 \3/')
	echo "$(date -d "$t" +%s%3N) $v"
done >"$WORK/daemon.txt"
# Replay: the windows the daemon publishes a score for (not idle).
awk -F'\t' 'NR > 1 && $4 != "-" { printf "%.0f %s %s %s\n", $2 * 1000, $4, $3, $5 }' \
	"$WORK/replay.tsv" >"$WORK/replay.txt"
nd=$(wc -l <"$WORK/daemon.txt")
nr=$(wc -l <"$WORK/replay.txt")
[ "$nd" -ge 100 ] || fail "the daemon published $nd scores, expected over 100"
[ "$nd" = "$nr" ] || fail "the daemon published $nd scores, score --windows gave $nr windows"
paste -d' ' "$WORK/daemon.txt" "$WORK/replay.txt" | awk '
	NR == 1 { t0 = $1; r0 = $5 }
	function off(a, b) { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; return d > 1e-5 * m + 1e-6 }
	{
		if (($1 - t0) - ($5 - r0) > 1 || ($5 - r0) - ($1 - t0) > 1) { print "window " NR ": time " $1 - t0 " ms vs " $5 - r0; bad = 1 }
		if (off($2, $6) || off($3, $7)) { print "window " NR ": smoothed/raw " $2 "/" $3 " vs " $6 "/" $7; bad = 1 }
		if ($4 != $8) { print "window " NR ": state " $4 " vs " $8; bad = 1 }
	}
	END { exit bad }' >"$WORK/diff.txt" || fail "they differ: $(head -n 5 "$WORK/diff.txt")"

# Events: the same starts and ends, in the same order.
grep '^auscult/pump/event ' "$WORK/msgs.txt" | sed 's/.*"type":"\([a-z]*\)".*/\1/' >"$WORK/ev_d.txt"
awk -F'\t' 'NR > 1 && $6 != "-" { print $6 }' "$WORK/replay.tsv" >"$WORK/ev_r.txt"
[ -s "$WORK/ev_d.txt" ] || fail "the daemon published no event on the demo's fault"
cmp -s "$WORK/ev_d.txt" "$WORK/ev_r.txt" ||
	fail "events differ: daemon $(tr '\n' ' ' <"$WORK/ev_d.txt"), replay $(tr '\n' ' ' <"$WORK/ev_r.txt")"
echo "replay_agrees: $nd windows, events $(tr '\n' ' ' <"$WORK/ev_d.txt")agree"
