#!/bin/sh
# evidence.sh - issue 15 through the real daemon and a real mosquitto: the anomaly of the fault
# recording leaves a FLAC whose samples are the input's over the span (pre-roll before the
# start to post-roll after the end), a PNG and a record; the end event names them and the PNG is
# published retained; retention deletes the oldest over max_files; a read-only evidence folder
# changes nothing that is published but the image and the scores' "evidence" (the fault object
# instead of "ok"); `enabled: false` writes nothing and scores say "off".
. "$(dirname "$0")/lib/common.sh"
require_tools soxi:sox od:coreutils cmp:diffutils

make_model
make_fault_recording "$WORK/rec.wav"
start_broker

# run NAME EVIDENCE_YAML: one daemon run over the recording; messages in $WORK/NAME.msgs.
run() {
	subscribe "$WORK/$1.msgs"
	EVIDENCE_YAML="$2" write_config "$WORK/$1.yaml" "{ type: file, path: $WORK/rec.wav, realtime: false }" "threshold: 105"
	timeout 60 "$AUSCULTD_BIN" --config "$WORK/$1.yaml" >"$WORK/$1.log" 2>&1 || fail "auscultd ($1) exited $?"
	wait_for 5 "$WORK/$1.msgs" '^auscult/status offline'
	kill "$SUB_PID" 2>/dev/null || true
}

# 1. The evidence of one anomaly.
EV="$WORK/ev"
run on "{ dir: $EV, pre_roll_s: 4, post_roll_s: 2 }"
end=$(grep '^auscult/pump/event {[^ ]*"type":"end"' "$WORK/on.msgs") || fail "no end event"
audio=$(printf '%s\n' "$end" | sed -n 's/.*"evidence":{"audio":"\([^"]*\)".*/\1/p')
image=$(printf '%s\n' "$end" | sed -n 's/.*"image":"\([^"]*\)".*/\1/p')
record=$(printf '%s\n' "$end" | sed -n 's/.*"record":"\([^"]*\)".*/\1/p')
[ -n "$audio" ] && [ -n "$image" ] && [ -n "$record" ] || fail "end event names no evidence: $end"
case "$audio" in pump/*-pump-*.flac) ;; *) fail "audio '$audio' is not pump/<time>-<id>.flac" ;; esac
for f in "$audio" "$image" "$record"; do [ -s "$EV/$f" ] || fail "$EV/$f missing or empty"; done
[ -z "$(find "$EV" -name '*.tmp')" ] || fail "temporary files left: $(find "$EV" -name '*.tmp')"
head -c 8 "$EV/$image" | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a' || fail "$image is not a PNG"
# The record names the parts that heard the anomaly, as the end event does.
head -n 1 "$EV/$record" | grep -qx 'auscult-evidence 3' || fail "record version: $(head -n 1 "$EV/$record")"
net=$(sed -n 's/^part network //p' "$EV/$record")
[ -n "$net" ] && printf '%s\n' "$end" | grep -q "\"parts\":{\"network\":" ||
	fail "the record's parts: $(grep '^part' "$EV/$record"), the event: $end"
# A model without rise heads: no split of a rise part it does not have.
! printf '%s\n' "$end" | grep -q '"rise_heads"' || fail "a network-only model's event has rise heads: $end"

# The span: the daemon logs it in stream samples, which for one file are the input's.
span=$(sed -n 's/.*stream samples \([0-9]*\)\.\.\([0-9]*\)).*/\1 \2/p' "$WORK/on.log")
[ -n "$span" ] || fail "no span in the log"
first=${span% *}
last=${span#* }
n=$((last - first))
[ "$(soxi -s "$EV/$audio")" = "$n" ] || fail "FLAC has $(soxi -s "$EV/$audio") samples, span $n"
[ "$(soxi -r "$EV/$audio")" = 16000 ] || fail "FLAC rate $(soxi -r "$EV/$audio")"
# Length: pre-roll + the anomaly (start to end) + post-roll, in samples (1 ms rounding).
dur=$(printf '%s\n' "$end" | sed 's/.*"duration_s":\([0-9.]*\).*/\1/')
awk -v n="$n" -v d="$dur" 'BEGIN { e = (4 + d + 2) * 16000; exit !(n >= e - 40 && n <= e + 40) }' ||
	fail "span of $n samples, expected (4 + $dur + 2) s"
# The anomaly (the fault is from 30 s to 45 s) starts inside the span, 4 s after its first sample.
awk -v f="$first" 'BEGIN { s = f / 16000 + 4; exit !(s >= 28 && s <= 46) }' ||
	fail "the span starts at sample $first, not 4 s before the fault"
# Samples: the FLAC decodes to exactly the input's 16-bit samples over the span.
sox "$EV/$audio" -t s16 -e signed -L "$WORK/flac.raw"
sox "$WORK/rec.wav" -t s16 -e signed -L "$WORK/in.raw" trim "${first}s" "${n}s"
cmp "$WORK/flac.raw" "$WORK/in.raw" || fail "the FLAC's samples differ from the input's span"

# The image, retained: a late subscriber gets it, byte for byte the PNG.
mosquitto_sub -h 127.0.0.1 -p "$PORT" -t auscult/pump/evidence/image -C 1 -W 5 -N >"$WORK/image.png" ||
	fail "no retained image on auscult/pump/evidence/image"
cmp "$WORK/image.png" "$EV/$image" || fail "the retained image differs from $image"
echo "evidence: $audio ($n samples = input $first..$last), $image, $record: ok"

# every_score FILE PATTERN WHAT: every score message in FILE matches PATTERN (and there are some).
every_score() {
	_es_n=$(count '^auscult/pump/score ' "$1")
	[ "$_es_n" -gt 0 ] || fail "no score messages in $1"
	_es_bad=$(grep '^auscult/pump/score ' "$1" | grep -v -e "$2" | head -n 1)
	[ -z "$_es_bad" ] || fail "a score without $3: $_es_bad"
	echo "evidence: $_es_n scores carry $3: ok"
}
every_score "$WORK/on.msgs" '"state":"[a-z]*","evidence":"ok"}$' '"evidence":"ok"'

# 2. Retention: three runs with max_files 2 keep the newest two events.
for i in 1 2; do
	run "keep$i" "{ dir: $EV, pre_roll_s: 4, post_roll_s: 2, max_files: 2 }"
done
[ "$(find "$EV/pump" -name '*.flac' | wc -l)" = 2 ] || fail "retention kept $(find "$EV/pump" -name '*.flac' | wc -l) events, expected 2"
[ -e "$EV/$audio" ] && fail "retention kept the oldest event $audio"
[ "$(find "$EV/pump" -name '*.txt' | wc -l)" = 2 ] || fail "retention left records behind"
echo "evidence: retention keeps the newest 2: ok"

# 3. A read-only evidence folder: scores, and the same states and events (evidence null).
mkdir -p "$WORK/ro"
chmod 555 "$WORK/ro"
if [ "$(id -u)" = 0 ]; then RO="/proc/ro-evidence"; else RO="$WORK/ro"; fi
run ro "{ dir: $RO }"
grep -q 'evidence: .*detection and publishing go on' "$WORK/ro.log" || fail "no log line on the read-only folder"
grep '"type":"end"' "$WORK/ro.msgs" | grep -q '"evidence":null' || fail "the end event names files that could not be written"
# Events, and the last state (scores are thinned and queued states coalesced by timing while
# the broker connects: not comparable). Times are stream times from the daemon's start: they
# differ between runs, and are left out.
strip() {
	{ grep '^auscult/pump/event ' "$1"; grep '^auscult/pump/state ' "$1" | tail -n 1; } |
		sed 's/"evidence":{[^}]*}//; s/"evidence":null//; s/"\(time\|start\|end\|id\)":"[^"]*"//g'
}
[ "$(grep -c '^auscult/pump/score ' "$WORK/ro.msgs")" -gt 0 ] || fail "no scores with a read-only folder"
# Every score says so, from the first (the folder is made and checked as the monitor starts),
# with the folder's error text; one run of faults, so one "since" throughout.
every_score "$WORK/ro.msgs" "\"evidence\":{\"fault\":\"$RO/pump: cannot create the folder: [^\"]*\",\"errors\":[1-9][0-9]*,\"since\":\"20[0-9-]*T[0-9:.]*Z\"}}\$" 'the read-only fault'
since=$(grep '^auscult/pump/score ' "$WORK/ro.msgs" | sed 's/.*"since":"\([^"]*\)".*/\1/' | sort -u)
[ "$(printf '%s\n' "$since" | wc -l)" = 1 ] || fail "the fault's since changed within one run: $since"
run off0 "{ enabled: false }"
strip "$WORK/off0.msgs" >"$WORK/a.txt"
strip "$WORK/ro.msgs" >"$WORK/b.txt"
cmp "$WORK/a.txt" "$WORK/b.txt" || fail "a read-only evidence folder changed what was published"
echo "evidence: read-only folder: same messages, logged: ok"

# 4. Off: nothing written, no image.
rm -rf "$WORK/off"
run off "{ enabled: false, dir: $WORK/off }"
[ ! -e "$WORK/off" ] || fail "evidence off wrote $WORK/off"
grep -q '"evidence":null' "$WORK/off.msgs" || fail "end event without evidence null when off"
every_score "$WORK/off.msgs" '"state":"[a-z]*","evidence":"off"}$' '"evidence":"off"'
echo "evidence: off writes nothing: ok"
