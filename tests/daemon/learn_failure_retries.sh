#!/bin/sh
# learn_failure_retries.sh - a learning run that fails (its clip folder gone: a full or unplugged
# SD card) publishes `fault` and is tried again with back-off; the daemon keeps running and the
# run resumes once the folder can be written. The monitor used to end, and with every input
# ended the daemon exited 0, which systemd's Restart=on-failure does not restart.
. "$(dirname "$0")/lib/common.sh"

command -v sox > /dev/null || { echo "SKIP: sox is missing"; exit 77; }
sox "$DATA/normal_id_00_00000000.wav" "$DATA/normal_id_00_00000001.wav" \
	"$DATA/normal_id_00_00000002.wav" "$DATA/normal_id_00_00000003.wav" \
	"$DATA/normal_id_00_00000004.wav" "$DATA/normal_id_00_00000005.wav" "$WORK/normal.wav"
start_broker
subscribe "$WORK/msgs.txt"
CLIPS="$WORK/clips"
write_config "$WORK/learn.yaml" "{ type: file, path: $WORK/normal.wav, realtime: true }" \
	"learn: { minutes: 0.5, dir: $CLIPS }"
start_daemon learn
wait_for 10 "$WORK/msgs.txt" '^auscult/pump/state learning$'
wait_until 15 sh -c "ls '$CLIPS'/*.wav > /dev/null 2>&1" || fail "no clip recorded in 15 s"

# The folder goes, and a file takes its name: the next clip cannot be written.
rm -rf "$CLIPS"
echo "not a folder" > "$CLIPS"
wait_for 15 "$WORK/learn.daemon.log" 'learning: .*; trying again in 5 s'
wait_for 3 "$WORK/msgs.txt" '^auscult/pump/state fault$'
sleep 2
[ -s "$WORK/learn.exit" ] && fail "the daemon exited after the learning failure: $(cat "$WORK/learn.exit")"
echo "fault published; the daemon keeps running"

# The card is back: the retry records again.
rm -f "$CLIPS"
n_learning=$(count '^auscult/pump/state learning$' "$WORK/msgs.txt")
wait_until 20 sh -c "[ \$(grep -c '^auscult/pump/state learning\$' '$WORK/msgs.txt') -gt $n_learning ]" ||
	fail "learning did not start again within 20 s of the folder coming back"
wait_until 15 sh -c "ls '$CLIPS'/*.wav > /dev/null 2>&1" || fail "no clip recorded after the retry"
stop_daemon learn 5
echo "PASS: a failed learning run is retried, and records again once it can"
