#!/bin/sh
# event_ids.sh - event ids never repeat within a daemon run, a SIGHUP reload included: a looping
# file read un-paced runs its stream time ahead of the wall clock, and a reload used to start the
# monitor again at the wall clock, behind it, so a new anomaly could get an earlier one's id
# ("<monitor>-<start ms>"; the soak found 50 of 70,808). Start and end of one anomaly share it,
# and every start has its end.
. "$(dirname "$0")/lib/common.sh"

make_model
make_fault_recording "$WORK/rec.wav" # one anomaly per pass: 30 s to 45 s of 65 s
start_broker
subscribe "$WORK/msgs.txt"
EVIDENCE_YAML="{ enabled: false }" write_config "$WORK/d.yaml" \
	"{ type: file, path: $WORK/rec.wav, loop: true, realtime: false }" "threshold: 105"
LOG="$WORK/d.daemon.log"
start_daemon d
wait_until 60 sh -c "[ \$(grep -c 'anomaly started' '$LOG') -ge 3 ]" ||
	fail "fewer than 3 anomalies in 60 s before the reload"
kill -HUP "$DPID"
wait_for 10 "$LOG" 'reload: .*applied'
wait_until 60 sh -c "[ \$(sed -n '/reload: .*applied/,\$p' '$LOG' | grep -c 'anomaly started') -ge 3 ]" ||
	fail "fewer than 3 anomalies in 60 s after the reload"
stop_daemon d 10

# The log, in the order the monitor threads saw them: start times after the reload are later
# than every one before it (the stream time goes on), so no id can come back. Before: up to
# "reload: reading" (the old monitor); after: from "applied" (the new one; what is logged in
# between may be either).
ms() { sed -n 's/.*anomaly started .*; id pump-\([0-9]*\))$/\1/p'; }
sed '/reload: reading/q' "$LOG" | ms >"$WORK/before"
sed -n '/reload: .*applied/,$p' "$LOG" | ms >"$WORK/after"
ms <"$LOG" >"$WORK/all"
[ -s "$WORK/before" ] && [ -s "$WORK/after" ] || fail "no anomaly ids in the log around the reload"
last=$(sort -n "$WORK/before" | tail -n 1)
first=$(sort -n "$WORK/after" | head -n 1)
[ "$first" -gt "$last" ] ||
	fail "after the reload an anomaly starts at $first ms, not after the last one before ($last ms)"
sort "$WORK/all" | uniq -d >"$WORK/dup_log"
[ ! -s "$WORK/dup_log" ] || fail "anomalies logged with the same id: $(cat "$WORK/dup_log")"

# What a subscriber got: one start and one end per id (an identical message delivered twice is
# the same message), and every end's id is a start's.
grep '^auscult/pump/event ' "$WORK/msgs.txt" | sort -u |
	sed 's/.*"id":"\([^"]*\)","type":"\([a-z]*\)".*/\1 \2/' >"$WORK/pairs"
sort "$WORK/pairs" | uniq -d >"$WORK/dup_msgs"
[ ! -s "$WORK/dup_msgs" ] || fail "distinct events share an id: $(head -n 3 "$WORK/dup_msgs")"
grep ' start$' "$WORK/pairs" | cut -d' ' -f1 | sort >"$WORK/starts"
grep ' end$' "$WORK/pairs" | cut -d' ' -f1 | sort >"$WORK/ends"
n=$(wc -l <"$WORK/starts")
[ "$n" -ge 6 ] || fail "only $n start events received"
[ -z "$(comm -13 "$WORK/starts" "$WORK/ends")" ] ||
	fail "end events whose id no start had: $(comm -13 "$WORK/starts" "$WORK/ends" | head -n 3)"
# And every start has its end: the reload and the stop end an anomaly in progress.
[ -z "$(comm -23 "$WORK/starts" "$WORK/ends")" ] ||
	fail "start events without an end: $(comm -23 "$WORK/starts" "$WORK/ends" | head -n 3)"
echo "event_ids: $n anomalies ($(wc -l <"$WORK/before") before the reload, $(wc -l <"$WORK/after") after), ids unique, starts after the reload from +$((first - last)) ms: ok"
