#!/bin/sh
# alsa_file_pcm.sh - real PortAudio capture through ALSA, no sound card: a `type file` PCM replays a raw file as a microphone.
set -eu

: "${AUSCULT_BIN:?set AUSCULT_BIN to the auscult tool}"
. "$(dirname "$0")/../lib/tools.sh"
require_tools sox:sox
tmp=$(mktemp -d "${TMPDIR:-/tmp}/auscult-alsa.XXXXXX")
writer=
trap 'if [ -n "$writer" ]; then kill "$writer" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# ALSA reads $HOME/.asoundrc: a private HOME keeps the test away from the user's own config.
HOME=$tmp
export HOME
# 180 s: listing probes every rate of every PCM, minutes under AddressSanitizer on a busy machine.
run() { timeout 180 "$AUSCULT_BIN" "$@"; }

# With no PCM of ours defined: a list, or (CI has no sound card) exit 1 and our own message
# only, none of PortAudio's probing noise.
rc=0
run devices > "$tmp/list0.txt" 2> "$tmp/list0.err" || rc=$?
if [ $rc = 0 ]; then
	grep -q "index" "$tmp/list0.txt" || fail "devices printed: $(cat "$tmp/list0.txt")"
	[ ! -s "$tmp/list0.err" ] || fail "devices was noisy on stderr: $(cat "$tmp/list0.err")"
else
	[ $rc = 1 ] || fail "devices without cards exited $rc, want 1"
	grep -q "^auscult devices: no capture device found" "$tmp/list0.err" ||
		fail "devices without cards said: $(cat "$tmp/list0.err")"
	! grep -v "^auscult devices: " "$tmp/list0.err" >/dev/null ||
		fail "devices was noisy on stderr: $(cat "$tmp/list0.err")"
fi

# 5 s of a 440 Hz sine at amplitude 0.25: RMS 0.25/sqrt(2) = -15.05 dBFS.
sox -n -r 16000 -c 1 -b 16 -e signed-integer -t raw "$tmp/tone.raw" synth 5 sine 440 vol 0.25

cat > "$tmp/.asoundrc" <<CONF
# The file plugin reads infile as the captured data; the null PCM below it supplies the clock.
pcm.auscult_test_file {
	type file
	slave.pcm "null"
	file "/dev/null"
	infile "$tmp/tone.raw"
	format "raw"
}
# plug converts the raw s16le file to whatever format, rate and channels PortAudio asks for.
pcm.auscult_test_mic {
	type plug
	slave { pcm "auscult_test_file"; format S16_LE; rate 16000; channels 1 }
	hint { show on description "auscult test microphone" }
}
CONF

run devices > "$tmp/list.txt" || fail "devices failed"
grep -q "auscult_test_mic .*ALSA .* 16000" "$tmp/list.txt" || fail "the test PCM is not listed: $(cat "$tmp/list.txt")"

# check_level ARGS...: listens for 1 s and checks sample count and level against the file's.
check_level() {
	run devices --listen auscult_test_mic --seconds 1 "$@" > "$tmp/listen.txt" 2> "$tmp/listen.err" ||
		fail "listen $*: $(cat "$tmp/listen.err")"
	grep -q "^samples: 16000 at 16000 Hz" "$tmp/listen.txt" || fail "listen $*: $(cat "$tmp/listen.txt")"
	level=$(sed -n 's/^rms_dbfs: //p' "$tmp/listen.txt")
	awk -v l="$level" 'BEGIN { d = l + 15.05; exit !(d < 0.2 && d > -0.2) }' ||
		fail "listen $*: level $level dBFS, expected -15.05 +- 0.2"
	echo "listen $*: $level dBFS"
}
check_level
check_level --rate 48000 --channels 2   # resampled 48 kHz -> 16 kHz, two channels averaged
# Asked for 8 kHz, the device would bring nothing above 4 kHz, where the model listens: refused.
if run devices --listen auscult_test_mic --seconds 1 --rate 8000 >"$tmp/listen.txt" 2>"$tmp/listen.err"; then
	fail "listen --rate 8000 was accepted: $(cat "$tmp/listen.txt")"
fi
grep -q "8000 Hz audio carries sound up to 4000 Hz only" "$tmp/listen.err" ||
	fail "listen --rate 8000: expected the low-rate refusal, got: $(cat "$tmp/listen.err")"
echo "listen --rate 8000: refused"

# A microphone whose hardware runs at 48 kHz only (the plug's slave is fixed at 48000): opened
# with no rate, it is opened at its native 48 kHz and auscult converts (the log says so); asked
# for 16 kHz, ALSA's plug converts, and says nothing. 1.5 s files: the file PCM replays them
# unpaced into the 2-s capture ring, which then holds all of it unbroken.
sox -n -r 48000 -c 1 -b 16 -e signed-integer -t raw "$tmp/7k.raw" synth 1.5 sine 7000 vol 0.25
sox -n -r 48000 -c 1 -b 16 -e signed-integer -t raw "$tmp/10k.raw" synth 1.5 sine 10000 vol 0.25 fade h 0.2
for tone in 7k 10k; do
	cat >> "$tmp/.asoundrc" <<CONF
pcm.auscult_file_$tone { type file; slave.pcm "null"; file "/dev/null"; infile "$tmp/$tone.raw"; format "raw" }
pcm.auscult_48k_$tone { type plug; slave { pcm "auscult_file_$tone"; format S16_LE; rate 48000; channels 1 } }
CONF
done
# listen_48k TONE [ARGS...]: listens 1 s; sets level (rms dBFS) and desc (the device line).
listen_48k() {
	tone=$1
	shift
	run devices --listen "auscult_48k_$tone" --seconds 1 "$@" > "$tmp/listen.txt" 2> "$tmp/listen.err" ||
		fail "listen 48k $tone $*: $(cat "$tmp/listen.err")"
	level=$(sed -n 's/^rms_dbfs: //p' "$tmp/listen.txt")
	desc=$(sed -n 's/^device: //p' "$tmp/listen.txt")
	echo "48 kHz $tone $*: $level dBFS: $desc"
}
listen_48k 7k
case $desc in
*"(48000 Hz native, 1 ch), mono, converted to 16000 Hz by soxr HQ"*) ;;
*) fail "48 kHz device without a rate: '$desc', expected it opened at its native 48000 Hz and converted by soxr" ;;
esac
awk -v l="$level" 'BEGIN { d = l + 15.05; exit !(d < 0.3 && d > -0.3) }' ||
	fail "a 7 kHz sine through the 48 kHz device: $level dBFS, expected -15.05 +- 0.3"
listen_48k 7k --rate 16000
case $desc in
*"(16000 Hz from ALSA's plug converting its native 48000 Hz with no anti-alias filter"*) ;;
*) fail "48 kHz device opened at 16 kHz: '$desc', expected it to name ALSA's plug conversion" ;;
esac
# A 10 kHz sine has no place at 16 kHz. ALSA's plug folds it to 6 kHz at full level; auscult's
# converter removes it (its own test measures > 100 dB; here the file PCM's start-up glitches
# leave about -40 dBFS).
listen_48k 10k --rate 16000
awk -v l="$level" 'BEGIN { exit !(l > -16.5) }' ||
	fail "10 kHz through ALSA's plug: $level dBFS; the plug was measured passing it at -15 dBFS"
plug_level=$level
listen_48k 10k
awk -v l="$level" -v p="$plug_level" 'BEGIN { exit !(l < p - 20) }' ||
	fail "10 kHz through auscult's converter: $level dBFS, expected 20 dB below the plug's $plug_level"

# expect_error ARGS -- TEXT: the command fails with exit 1 and TEXT on stderr.
expect_error() {
	text=$1
	shift
	if run devices "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"; then
		fail "devices $* succeeded"
	fi
	grep -qF -- "$text" "$tmp/err.txt" || fail "devices $*: stderr lacks '$text': $(cat "$tmp/err.txt")"
	! grep -q "^Expression" "$tmp/err.txt" || fail "devices $*: PortAudio's noise on stderr: $(cat "$tmp/err.txt")"
}
expect_error "device 'no_such_pcm': no capture device or ALSA PCM has this name" --listen no_such_pcm
expect_error "device 'hw:7,0': no capture device or ALSA PCM has this name" --listen hw:7,0
expect_error "device 'auscult_test_mic': cannot capture at 100 Hz" --listen auscult_test_mic --rate 100
expect_error "device #42: no such device" --listen 42
expect_error "--seconds: 'x' is not a number" --listen auscult_test_mic --seconds x

# A device that stalls: the file PCM reads a FIFO that holds 1 s of sound (consumed at once, the
# null PCM being faster than real time) and then nothing, its writer (fd 3 of this shell) staying
# open. The capture callback stops being called; reading must fail with a device error after
# about 2 s instead of waiting for ever. (Stopping the stream waits for the plugin's blocked
# read(2); the close gives up after 250 ms and finishes in the background once fd 3 is closed
# after the error is out; a real card does not block there.)
mkfifo "$tmp/fifo"
cat >> "$tmp/.asoundrc" <<CONF
pcm.auscult_stall_file {
	type file
	slave.pcm "null"
	file "/dev/null"
	infile "$tmp/fifo"
	format "raw"
}
pcm.auscult_stall_mic {
	type plug
	slave { pcm "auscult_stall_file"; format S16_LE; rate 16000; channels 1 }
}
CONF
exec 3<>"$tmp/fifo"
head -c 32000 "$tmp/tone.raw" >&3
start=$(date +%s)
"$AUSCULT_BIN" devices --listen auscult_stall_mic --seconds 30 3>&- > "$tmp/out.txt" 2> "$tmp/err.txt" &
writer=$!
i=0
while ! grep -q "no audio for" "$tmp/err.txt" && [ "$i" -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
took=$(( $(date +%s) - start ))
exec 3>&-
status=0
wait "$writer" || status=$?
writer=
[ "$status" -eq 1 ] || fail "stalled device: exit status $status, expected 1: $(cat "$tmp/err.txt")"
grep -qF "device 'auscult_stall_mic': no audio for 2." "$tmp/err.txt" ||
	fail "stalled device: $(cat "$tmp/err.txt")"
[ "$took" -le 8 ] || fail "the stalled device took $took s to report"
echo "stalled device reported after at most $took s"
echo "ok"
