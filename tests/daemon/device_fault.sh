#!/bin/sh
# device_fault.sh - a capture device that stalls, then disappears, then comes back: its monitor
# goes to `fault` each time (logged once per outage), reopens with back-off and resumes by itself,
# while a second monitor on a looping file keeps publishing scores at its interval throughout.
#
# The device is real PortAudio capture through ALSA with no sound card: a `type file` PCM over
# the `null` PCM (private $HOME/.asoundrc) whose infile is a FIFO. A shell feeder writes float32
# PCM into the FIFO 0.1 s at a time, so the "microphone" runs at about real time:
#   stall      the feeder pauses, the FIFO stays open: the plugin's read(2) blocks, the capture
#              callback stops (and closing that stream blocks until the read returns);
#   disappear  the PCM is taken out of .asoundrc (so reopening fails) and the FIFO's
#              last writer closes it: at end of infile the plugin replays its stale buffer as
#              fast as the CPU goes, which the daemon must recognise as a dead device;
#   come back  writer and PCM are restored;
#   stop       SIGTERM while stalled: the daemon still exits at once.
# The test shell holds the FIFO open read-write on fd 3 so that no open(2) of it ever blocks and
# no write gets SIGPIPE; every child but the feeder is started with fd 3 closed.
. "$(dirname "$0")/lib/common.sh"
: "${AUSCULT_SOURCE_DIR:?set by ctest}"

MODEL="$AUSCULT_SOURCE_DIR/models/pump_id00.am"
[ -f "$MODEL" ] || fail "no shipped model at $MODEL"
# ALSA reads $HOME/.asoundrc: a private HOME keeps the test away from the user's own config.
HOME=$WORK
export HOME
unset JOURNAL_STREAM || true # log lines with time stamps
T0=$(date +%s)

# now: seconds since the test began, with tenths.
now() { awk -v t0="$T0" -v t="$(date +%s.%N)" 'BEGIN { printf "%.1f", t - t0 }'; }
say() { echo "[$(now) s] $*"; }

# 30 s of normal pump sound as raw float32 (the plug PCM passes it through unconverted).
sox "$DATA/normal_id_00_00000010.wav" "$DATA/normal_id_00_00000011.wav" \
	"$DATA/normal_id_00_00000012.wav" -t raw -e floating-point -b 32 -r 16000 -c 1 "$WORK/mic.f32"
CHUNKS=300 # of 0.1 s (6400 bytes)
mkfifo "$WORK/mic.fifo"
# The file monitor's recording: 60 s, so that it does not come round during the test (the
# window starts afresh at each loop, which leaves a gap in its scores of its own).
sox "$DATA/normal_id_00_00000000.wav" "$DATA/normal_id_00_00000001.wav" \
	"$DATA/normal_id_00_00000002.wav" "$DATA/normal_id_00_00000003.wav" \
	"$DATA/normal_id_00_00000004.wav" "$DATA/normal_id_00_00000005.wav" "$WORK/tape.wav"

mic_pcm() {
	cat <<CONF
pcm.auscult_fault_file {
	type file
	slave.pcm "null"
	file "/dev/null"
	infile "$WORK/mic.fifo"
	format "raw"
}
pcm.auscult_fault_mic {
	type plug
	slave { pcm "auscult_fault_file"; format FLOAT_LE; rate 16000; channels 1 }
}
CONF
}
# asoundrc with|without: replaced in one rename, so ALSA sees a new file (new inode) at once.
asoundrc() {
	if [ "$1" = with ]; then mic_pcm >"$WORK/asoundrc.new"; else : >"$WORK/asoundrc.new"; fi
	mv "$WORK/asoundrc.new" "$WORK/.asoundrc"
}

# The feeder writes 0.1 s chunks into the FIFO, looping over mic.f32; it idles while $WORK/pause
# exists. It opens the FIFO write-only: through the test's read-write fd 3 it would be a reader of
# its own, and a write blocked on a full FIFO would never fail once everyone else has gone.
start_feeder() {
	(
		exec 4>"$WORK/mic.fifo" 3>&-
		i=0
		while :; do
			if [ -e "$WORK/pause" ]; then
				sleep 0.1 4>&-
				continue
			fi
			dd if="$WORK/mic.f32" bs=6400 skip=$i count=1 status=none >&4 4>&- 2>/dev/null ||
				exit 0
			i=$(((i + 1) % CHUNKS))
			sleep 0.1 4>&-
		done
	) &
	FEEDER_PID=$!
	track $FEEDER_PID
}
stop_feeder() {
	kill "$FEEDER_PID" 2>/dev/null || true
	wait "$FEEDER_PID" 2>/dev/null || true
}

# last_line FILE: the number of lines in FILE.
last_line() { wc -l <"$1" | tr -d ' '; }
# matches_after FILE LINE ERE: a line after line LINE of FILE matches ERE.
matches_after() {
	awk -v from="$2" -v re="$3" 'NR > from && $0 ~ re { found = 1 } END { exit !found }' "$1"
}
# wait_after SECONDS FILE LINE ERE: until a line after line LINE of FILE matches ERE, or fail.
wait_after() {
	wait_until "$1" matches_after "$2" "$3" "$4" || fail "waited $1 s for /$4/ after line $3 of $2"
}
# lines_between FILE FROM TO ERE: lines FROM < NR <= TO of FILE matching ERE.
lines_between() { awk -v a="$2" -v b="$3" -v re="$4" 'NR > a && NR <= b && $0 ~ re { n++ } END { print n + 0 }' "$1"; }

start_broker
subscribe "$WORK/msgs.txt"
MSGS="$WORK/msgs.txt"
LOG="$WORK/d.daemon.log"
cat >"$WORK/d.yaml" <<EOC
log_level: info
mqtt: { uri: "mqtt://127.0.0.1:$PORT", client_id: "auscult-test-$$", keepalive_s: 5 }
home_assistant: { discovery: false }
evidence: { dir: $WORK/evidence }
monitors:
  - name: dev
    source: { type: device, device: auscult_fault_mic }
    model: $MODEL
  - name: tape
    source: { type: file, path: $WORK/tape.wav, loop: true, realtime: true }
    model: $MODEL
EOC

asoundrc with
exec 3<>"$WORK/mic.fifo"
start_feeder
start_daemon d 3>&- # sets DPID; output to $LOG

STATE_OK='^auscult/dev/state (normal|idle|anomaly)$'
wait_after 15 "$MSGS" 0 "$STATE_OK"
wait_for 5 "$MSGS" '^auscult/tape/score '
say "both monitors publish"
grep -q '^auscult/dev/score ' "$MSGS" || wait_for 5 "$MSGS" '^auscult/dev/score '

# ---- (a) stall: the feeder pauses with the FIFO still open.
sleep 2
m0=$(last_line "$MSGS")
l0=$(last_line "$LOG")
touch "$WORK/pause"
t=$(now)
wait_after 6 "$MSGS" "$m0" '^auscult/dev/state fault$'
say "stall: dev is in fault (paused at $t s)"
sleep 6 # the outage lasts a while: reopening is tried (and must not hang on the stuck stream)
kill -0 $DPID 2>/dev/null || fail "the daemon died during the stall"
m1=$(last_line "$MSGS")
rm -f "$WORK/pause"
say "stall: feeding again"
wait_after 20 "$MSGS" "$m1" "$STATE_OK"
say "stall: dev left fault by itself: $(grep '^auscult/dev/state ' "$MSGS" | tail -n 1)"
wait_after 10 "$LOG" "$l0" 'dev: audio flows again'
m2=$(last_line "$MSGS")
l2=$(last_line "$LOG")
[ "$(lines_between "$LOG" "$l0" "$l2" 'dev: [a-z]+ -> fault')" = 1 ] ||
	fail "stall: expected one '-> fault' log line"
[ "$(lines_between "$LOG" "$l0" "$l2" 'no audio for')" = 1 ] ||
	fail "stall: expected the stall to be logged once"
[ "$(lines_between "$LOG" "$l0" "$l2" 'error: dev:')" -le 6 ] || fail "stall: too many error lines"
[ "$(lines_between "$LOG" "$l0" "$l2" 'dev: audio flows again')" = 1 ] ||
	fail "stall: the recovery is not logged once"
[ "$(lines_between "$MSGS" "$m0" "$m2" '^auscult/dev/state fault$')" = 1 ] ||
	fail "stall: fault published more than once"

# ---- (b) disappear: the PCM leaves .asoundrc, and the FIFO's writers all close (end of infile).
sleep 2
l3=$(last_line "$LOG")
m3=$(last_line "$MSGS")
asoundrc without
stop_feeder
exec 3>&-
t=$(now)
wait_after 6 "$MSGS" "$m3" '^auscult/dev/state fault$'
say "disappear: dev is in fault (gone at $t s)"
# Reopening fails each time, with back-off: after 1 s, 2 s more, 4 s more.
wait_after 12 "$LOG" "$l3" 'dev: cannot open the audio source: .*retrying in 4 s'
say "disappear: reopening backs off"
kill -0 $DPID 2>/dev/null || fail "the daemon died while the device was away"

# ---- (c) come back: writer first (so no open of the FIFO can block), then the PCM.
m4=$(last_line "$MSGS")
exec 3<>"$WORK/mic.fifo"
start_feeder
asoundrc with
say "come back: restored"
wait_after 20 "$MSGS" "$m4" "$STATE_OK"
say "come back: dev left fault by itself: $(grep '^auscult/dev/state ' "$MSGS" | tail -n 1)"
sleep 2
kill -0 $DPID 2>/dev/null || fail "the daemon died"
l5=$(last_line "$LOG")
m5=$(last_line "$MSGS")
[ "$(lines_between "$LOG" "$l3" "$l5" 'dev: [a-z]+ -> fault')" = 1 ] ||
	fail "disappear: expected one '-> fault' log line"
[ "$(lines_between "$LOG" "$l3" "$l5" 'error: dev:')" -le 8 ] || fail "disappear: too many error lines"
[ "$(lines_between "$MSGS" "$m3" "$m5" '^auscult/dev/state fault$')" = 1 ] ||
	fail "disappear: fault published more than once"
# The back-off doubles: the failure says 1 s, the failed reopens after it 2 s, then 4 s.
awk -v a="$l3" -v b="$l5" 'NR > a && NR <= b' "$LOG" >"$WORK/outage2.log"
grep -q 'error: dev: .*reopening it in 1 s$' "$WORK/outage2.log" || fail "no 1 s back-off"
for d in 2 4; do
	grep -q "error: dev: cannot open the audio source: .*retrying in $d s" "$WORK/outage2.log" ||
		fail "no reopen attempt with a $d s back-off"
done
# Audio flows again for good: more scores after the return.
n=$(count '^auscult/dev/score ' "$MSGS")
sleep 2
[ "$(count '^auscult/dev/score ' "$MSGS")" -gt "$n" ] || fail "dev publishes no scores after its return"

# ---- the file monitor was never disturbed: no fault, and no gap in its scores.
[ "$(count '^auscult/tape/state fault' "$MSGS")" = 0 ] || fail "the file monitor went to fault"
grep '^auscult/tape/score ' "$MSGS" | sed 's/.*"time":"[^"]*T\([0-9]*\):\([0-9]*\):\([0-9.]*\)Z".*/\1 \2 \3/' |
	awk '{ t = $1 * 3600 + $2 * 60 + $3; if (NR > 1 && t - p > gap) gap = t - p; p = t; n++ }
	     END { printf "%d %.2f\n", n, gap }' >"$WORK/gaps"
read -r n_tape gap <"$WORK/gaps"
awk -v g="$gap" 'BEGIN { exit !(g <= 2.0) }' || fail "the file monitor's scores paused for $gap s"
secs=$(( $(date +%s) - T0 ))
[ "$n_tape" -ge $((secs - 12)) ] || fail "only $n_tape file scores in $secs s"
say "tape: $n_tape scores, largest gap $gap s, never in fault"

# ---- (d) stopped while the device is stalled: the stuck stream must not hold up the exit.
m6=$(last_line "$MSGS")
touch "$WORK/pause"
wait_after 6 "$MSGS" "$m6" '^auscult/dev/state fault$'
sleep 0.5
stop_daemon d 10
took=$(awk -v ms="$STOP_MS" 'BEGIN { printf "%.1f", ms / 1000 }')
say "stopped during a stall in $took s"
awk -v d="$took" 'BEGIN { exit !(d <= 3) }' || fail "stopping during a stall took $took s"
if grep -q 'leaving it behind' "$LOG"; then fail "a monitor thread was stuck at exit"; fi
echo "device_fault: stall, disappearance and return handled in $(now) s: ok"
