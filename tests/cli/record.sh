#!/bin/sh
# record.sh - `auscult record` through real PortAudio reading an ALSA `type file` PCM: clips, names, lengths, levels, Ctrl-C, errors.
set -eu

: "${AUSCULT_BIN:?set AUSCULT_BIN to the auscult tool}" "${AUSCULT_SHARED_DIR:?}"
command -v sox > /dev/null || { echo "SKIP: sox is missing (apt-get install sox)"; exit 77; }
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00/train"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/auscult-record.XXXXXX")
recorder=
feeder=
cleanup() {
	[ -z "$recorder" ] || kill "$recorder" 2>/dev/null || true
	[ -z "$feeder" ] || kill "$feeder" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# ALSA reads $HOME/.asoundrc: a private HOME keeps the test away from the user's own config.
HOME=$tmp
export HOME
run() { timeout 60 "$AUSCULT_BIN" "$@"; }

# 40 s of real pump sound (four DCASE normals) and 12 s of digital silence, as raw s16le.
sox "$DATA/normal_id_00_00000000.wav" "$DATA/normal_id_00_00000001.wav" \
	"$DATA/normal_id_00_00000002.wav" "$DATA/normal_id_00_00000003.wav" \
	-t raw -e signed-integer -b 16 "$tmp/pump.raw"
sox -n -r 16000 -c 1 -b 16 -e signed-integer -t raw "$tmp/silence.raw" trim 0 12

# pcm_for NAME INFILE: a capture PCM NAME that replays INFILE (16 kHz mono s16le).
pcm_for() {
	cat >> "$tmp/.asoundrc" <<CONF
pcm.${1}_file {
	type file
	slave.pcm "null"
	file "/dev/null"
	infile "$2"
	format "raw"
}
pcm.$1 {
	type plug
	slave { pcm "${1}_file"; format S16_LE; rate 16000; channels 1 }
}
CONF
}
pcm_for rec_pump "$tmp/pump.raw"
pcm_for rec_silence "$tmp/silence.raw"

# check_clip FILE: a 10-s 16 kHz mono 16-bit WAV named with its UTC time.
check_clip() {
	base=$(basename "$1")
	echo "$base" | grep -Eq '^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\.wav$' || fail "clip name $base"
	[ "$(soxi -r "$1")" = 16000 ] || fail "$base: rate $(soxi -r "$1")"
	[ "$(soxi -c "$1")" = 1 ] || fail "$base: channels $(soxi -c "$1")"
	[ "$(soxi -b "$1")" = 16 ] || fail "$base: bits $(soxi -b "$1")"
	[ "$(soxi -s "$1")" = 160000 ] || fail "$base: $(soxi -s "$1") samples, expected 160000"
}

# 1. Half a minute from the pump PCM: three whole clips, in time order, at the pump's level.
# (A file PCM is unpaced: the capture ring overflows, so the clips are not the file bit for bit.)
run record --device rec_pump --minutes 0.5 --out "$tmp/clips" > "$tmp/out.txt" 2> "$tmp/err.txt" ||
	fail "record exited $?: $(cat "$tmp/err.txt")"
cat "$tmp/err.txt"
ls "$tmp/clips" > "$tmp/names.txt"
[ "$(wc -l < "$tmp/names.txt")" -eq 3 ] || fail "expected 3 clips: $(cat "$tmp/names.txt")"
[ -z "$(ls -A "$tmp/clips" | grep '^\.')" ] || fail "temporary files left: $(ls -A "$tmp/clips")"
for f in "$tmp"/clips/*.wav; do check_clip "$f"; done
[ "$(sort -u "$tmp/names.txt" | wc -l)" -eq 3 ] || fail "clip names repeat"
grep -q "^3 clips (0.5 min) in $tmp/clips" "$tmp/out.txt" || fail "summary: $(cat "$tmp/out.txt")"
grep -q "^clip 3/3: .*level -[0-9.]* dBFS" "$tmp/err.txt" || fail "no per-clip level lines"
if grep -q "warning at" "$tmp/err.txt"; then fail "warned on a healthy pump: $(cat "$tmp/err.txt")"; fi
for f in "$tmp"/clips/*.wav; do
	# The DCASE normals sit at about -40 dBFS RMS.
	rms=$(sox "$f" -n stats 2>&1 | sed -n 's/^RMS lev dB *//p')
	awk -v l="$rms" 'BEGIN { exit !(l > -42 && l < -38) }' || fail "$f: RMS $rms dBFS"
done

# The same from a file: paced by the reader, so the clips are the audio bit for bit.
sox -t raw -r 16000 -c 1 -e signed-integer -b 16 "$tmp/pump.raw" "$tmp/pump.wav"
run record --file "$tmp/pump.wav" --minutes 0.3 --out "$tmp/fclips" > /dev/null 2> "$tmp/err.txt" ||
	fail "record --file exited $?: $(cat "$tmp/err.txt")"
[ "$(ls "$tmp/fclips" | wc -l)" -eq 2 ] || fail "0.3 min is not rounded up to 2 clips"
first=$(ls "$tmp/fclips" | head -n 1)
second=$(ls "$tmp/fclips" | sed -n 2p)
sox "$tmp/fclips/$first" -t raw "$tmp/first.raw"
head -c 320000 "$tmp/pump.raw" | cmp -s - "$tmp/first.raw" || fail "clip 1 is not the first 10 s"
sox "$tmp/fclips/$second" -t raw "$tmp/second.raw"
tail -c +320001 "$tmp/pump.raw" | head -c 320000 | cmp -s - "$tmp/second.raw" ||
	fail "clip 2 is not the next 10 s"
echo "3 clips: $(tr '\n' ' ' < "$tmp/names.txt")"

# 2. The machine off: digital silence is recorded but flagged as below the silence gate.
run record --device rec_silence --minutes 0.1 --out "$tmp/off" > /dev/null 2> "$tmp/err.txt" ||
	fail "silent record exited $?: $(cat "$tmp/err.txt")"
# (within the first second: a loaded machine reads the first block a little late)
grep -Eq "warning at 0\.[0-9] s: below the silence gate \(-70 dBFS\): the machine seems off" \
	"$tmp/err.txt" || fail "no silence warning: $(cat "$tmp/err.txt")"
grep -q "1 of 1 clips had a level warning" "$tmp/err.txt" || fail "no summary warning"
[ "$(ls "$tmp/off" | wc -l)" -eq 1 ] || fail "silent clip missing"
echo "silence: warned"

# 3. Levels from files: a quiet tone is low, a full-scale square wave clips.
sox -n -r 16000 -c 1 -b 16 "$tmp/quiet.wav" synth 11 sine 440 vol 0.001
sox -n -r 16000 -c 1 -b 16 "$tmp/loud.wav" synth 11 sine 440 vol 2 2> /dev/null
run record --file "$tmp/quiet.wav" --minutes 0.1 --out "$tmp/q" > /dev/null 2> "$tmp/err.txt" ||
	fail "quiet: exited $?"
grep -q "warning at 0.5 s: level low" "$tmp/err.txt" || fail "quiet: $(cat "$tmp/err.txt")"
run record --file "$tmp/loud.wav" --minutes 0.1 --out "$tmp/l" > /dev/null 2> "$tmp/err.txt" ||
	fail "loud: exited $?"
grep -q "warning at 0.5 s: clipped" "$tmp/err.txt" || fail "loud: $(cat "$tmp/err.txt")"
echo "low and clipped levels: warned"

# 4. Errors: a device that does not exist, and a command line without its parts.
status=0
run record --device no_such_pcm --minutes 1 --out "$tmp/none" > /dev/null 2> "$tmp/err.txt" ||
	status=$?
[ "$status" -eq 1 ] || fail "missing device: exit $status, expected 1"
grep -qF "auscult record: device 'no_such_pcm': no capture device or ALSA PCM has this name" \
	"$tmp/err.txt" || fail "missing device: $(cat "$tmp/err.txt")"
[ -z "$(ls -A "$tmp/none")" ] || fail "missing device left files"
status=0
run record --device rec_pump --out "$tmp/x" > /dev/null 2> "$tmp/err.txt" || status=$?
[ "$status" -eq 2 ] && grep -q "minutes N is required" "$tmp/err.txt" || fail "no --minutes: $status"
status=0
run record --device rec_pump --minutes 0 --out "$tmp/x" > /dev/null 2> "$tmp/err.txt" || status=$?
[ "$status" -eq 2 ] || fail "--minutes 0: exit $status"
echo "errors: exit 1 for a missing device, 2 for usage"

# 5. Ctrl-C (last: the FIFO PCM it defines would block PortAudio's probing once its writer is gone): a device fed at about real time (1 s every second through a FIFO); SIGINT once a
# clip is complete keeps it whole and removes the clip in progress.
mkfifo "$tmp/fifo"
exec 3<> "$tmp/fifo"
# Defined only now: PortAudio opens every PCM when it starts, and a FIFO without a writer blocks.
pcm_for rec_slow "$tmp/fifo"
(
	i=0
	while [ "$i" -lt 40 ]; do
		tail -c +$((i * 32000 + 1)) "$tmp/pump.raw" | head -c 32000 || exit 0
		sleep 0.5
		i=$((i + 1))
	done
) >&3 &
feeder=$!
"$AUSCULT_BIN" record --device rec_slow --minutes 1 --out "$tmp/int" 3>&- > "$tmp/out.txt" \
	2> "$tmp/err.txt" &
recorder=$!
i=0
until ls "$tmp/int" 2>/dev/null | grep -q '\.wav$' || [ "$i" -ge 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$i" -lt 300 ] || fail "no clip after 30 s: $(cat "$tmp/err.txt")"
sleep 1
kill -INT "$recorder"
status=0
wait "$recorder" || status=$?
recorder=
kill "$feeder" 2>/dev/null || true
feeder=
exec 3>&-
[ "$status" -eq 130 ] || fail "after SIGINT: exit $status, expected 130: $(cat "$tmp/err.txt")"
grep -q "stopped by Interrupt" "$tmp/err.txt" || fail "no stop message: $(cat "$tmp/err.txt")"
grep -q "dropped the incomplete last clip" "$tmp/err.txt" || fail "no partial: $(cat "$tmp/err.txt")"
[ -z "$(ls -A "$tmp/int" | grep -v '\.wav$')" ] || fail "left behind: $(ls -A "$tmp/int")"
n=$(ls "$tmp/int" | wc -l)
[ "$n" -ge 1 ] || fail "no clip kept"
for f in "$tmp"/int/*.wav; do check_clip "$f"; done
echo "Ctrl-C: exit 130, $n whole clip(s) kept, the partial one removed"
echo "ok"
