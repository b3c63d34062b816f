#!/bin/sh
# machine_off_on.sh - a machine switched off and on again raises no anomaly (issue 9, part 2):
# 10 s of normal sound, 20 s of silence, 10 s of normal sound, with hard cuts and with 3-s fades,
# through the daemon and through `auscult score --windows`: no event, states normal -> idle ->
# normal, and no score published while idle. The demo's fault placed right after a switch-on is
# still caught once the settle time has passed.
. "$(dirname "$0")/lib/common.sh"
: "${AUSCULT_SOURCE_DIR:?set by ctest}"
MODEL="$AUSCULT_SOURCE_DIR/models/pump_id00.am"
DEMO="$AUSCULT_SOURCE_DIR/samples/demo_pump.wav"

# Held-out normals (the shipped model is trained on 00..54).
sox "$DATA/normal_id_00_00000060.wav" "$WORK/a.wav"
sox "$DATA/normal_id_00_00000061.wav" "$WORK/b.wav"
sox -n -r 16000 -c 1 -b 16 "$WORK/silence.wav" trim 0 20
sox "$WORK/a.wav" "$WORK/silence.wav" "$WORK/b.wav" "$WORK/cut.wav"
sox "$WORK/a.wav" "$WORK/a_fade.wav" fade t 0 10 3
sox "$WORK/b.wav" "$WORK/b_fade.wav" fade t 3
sox "$WORK/a_fade.wav" "$WORK/silence.wav" "$WORK/b_fade.wav" "$WORK/fade.wav"
# samples/README.md: the demo's synthetic fault is at 30..45 s; switch on right into it. The 15 s
# of normal sound after it see the anomaly end: the rise heads hold a steady fault until four of
# their last seven evaluations (a second apart, each of the last 2 s) no longer hear it.
sox "$DEMO" "$WORK/n1.wav" trim 0 10
sox "$DEMO" "$WORK/fault.wav" trim 30 15
sox "$DEMO" "$WORK/n2.wav" trim 45 15
sox "$WORK/n1.wav" "$WORK/silence.wav" "$WORK/fault.wav" "$WORK/n2.wav" "$WORK/on_fault.wav"

start_broker
# run_daemon NAME: plays $WORK/NAME.wav into the daemon; its messages in $WORK/NAME.msgs.
run_daemon() {
	subscribe "$WORK/$1.msgs"
	cat >"$WORK/$1.yaml" <<EOC
log_level: info
mqtt: { uri: "mqtt://127.0.0.1:$PORT", client_id: "auscult-test-$$-$1", keepalive_s: 5 }
home_assistant: { discovery: false }
evidence: { dir: $WORK/evidence }
monitors:
  - name: $1
    source: { type: file, path: $WORK/$1.wav, realtime: false }
    model: $MODEL
    publish_interval_s: 0.1
EOC
	timeout 60 "$AUSCULTD_BIN" --config "$WORK/$1.yaml" >"$WORK/$1.log" 2>&1 ||
		fail "$1: auscultd exited $?"
	wait_for 5 "$WORK/$1.msgs" '^auscult/status offline'
	"$AUSCULT_BIN" score --windows --config "$WORK/$1.yaml" --monitor "$1" "$WORK/$1.wav" \
		>"$WORK/$1.tsv" 2>"$WORK/$1.replay.log" || fail "$1: score --windows exited $?"
}

# states NAME: the daemon's state sequence after `starting`, one line, from its log (unpaced, the
# file is through before the broker connection is up, and the retained state keeps the last).
states() { sed -n "s/.* info: $1: [a-z]* -> \([a-z]*\)\$/\1/p" "$WORK/$1.log" | tr '\n' ' '; }
# replay_states NAME: the replay's state sequence, runs collapsed.
replay_states() { awk -F'\t' 'NR > 1 { print $5 }' "$WORK/$1.tsv" | uniq | tr '\n' ' '; }

for case in cut fade; do
	run_daemon $case
	[ "$(count "^auscult/$case/event " "$WORK/$case.msgs")" = 0 ] ||
		fail "$case: the daemon published events: $(grep "/event " "$WORK/$case.msgs" | head -n 2)"
	[ "$(states $case)" = "normal idle normal " ] || fail "$case: daemon states '$(states $case)'"
	grep "^auscult/$case/score " "$WORK/$case.msgs" | grep -q '"state":"idle"' &&
		fail "$case: a score was published in idle"
	awk -F'\t' 'NR > 1 && $6 != "-"' "$WORK/$case.tsv" | grep -q . &&
		fail "$case: score --windows reports events: $(awk -F'\t' '$6 != "-"' "$WORK/$case.tsv")"
	[ "$(replay_states $case)" = "normal idle normal " ] ||
		fail "$case: score --windows states '$(replay_states $case)'"
done

run_daemon on_fault
grep "^auscult/on_fault/event " "$WORK/on_fault.msgs" | sed 's/.*"type":"\([a-z]*\)".*/\1/' |
	tr '\n' ' ' >"$WORK/ev.txt"
[ "$(cat "$WORK/ev.txt")" = "start end " ] || fail "on_fault: daemon events '$(cat "$WORK/ev.txt")'"
[ "$(states on_fault)" = "normal idle normal anomaly normal " ] ||
	fail "on_fault: daemon states '$(states on_fault)'"
# The events say which rise heads heard the fault: the shipped model has all four, and they sum
# to the rise part.
for type in start end; do
	ev=$(grep "^auscult/on_fault/event {[^ ]*\"type\":\"$type\"" "$WORK/on_fault.msgs")
	printf '%s\n' "$ev" | awk '{
		r = $0; sub(/.*"parts":\{[^}]*"rise":/, "", r); sub(/[},].*/, "", r)
		h = $0; if (!sub(/.*"rise_heads":\{"envelope":/, "", h)) exit 1
		sub(/\}.*/, "", h); gsub(/"tones":|"impulses":|"bursts":/, "", h); n = split(h, v, ",")
		d = v[1] + v[2] + v[3] + v[4] - r; if (d < 0) d = -d
		exit !(n == 4 && r > 0 && d < 2e-3 * (r > 1 ? r : 1))
	}' || fail "on_fault: the $type event's rise heads do not split its rise part: $ev"
done
# ... and where: the demo fault's whine (3110-3190 Hz, samples/README.md) is the tone.
tone=$(grep '^auscult/on_fault/event {[^ ]*"type":"end"' "$WORK/on_fault.msgs" |
	sed -n 's/.*"rise_at":{[^ ]*"tones":{"hz":\([0-9.]*\)}.*/\1/p')
awk -v t="$tone" 'BEGIN { exit !(t >= 3100 && t <= 3200) }' ||
	fail "on_fault: the end event's tone at '$tone' Hz, the demo's whine is at 3110-3190 Hz"
# The start comes after the switch-on (30 s) and the settle time, within the fault (30..45 s).
t=$(awk -F'\t' '$6 == "start" { print $2 }' "$WORK/on_fault.tsv")
awk -v t="$t" 'BEGIN { exit !(t >= 33 && t <= 40) }' || fail "on_fault: replay start at '$t' s"
echo "machine_off_on: cut and fade: no event, normal -> idle -> normal; fault after switch-on at $t s: ok"
