#!/bin/sh
# cli_features.sh - `auscult features`: output layout and size, CSV, framings, errors, bounded memory.
set -u
: "${AUSCULT_BIN:?AUSCULT_BIN must point at the auscult binary}"
: "${AUSCULT_SHARED_DIR:?}"
: "${AUSCULT_FIXTURES:?}"
VEC="$AUSCULT_SHARED_DIR/vectors"
FIX="$AUSCULT_FIXTURES/features"
. "$(dirname "$0")/../lib/tools.sh"
# /usr/bin/time (not the shell keyword) gives the peak RSS of the bounded-memory check.
require_tools sox:sox /usr/bin/time:time
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cli_features.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
fails=0
passes=0

ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
size_of() { wc -c < "$1" | tr -d ' '; }

# 1. --out writes frames x 128 float32: 10 s -> 313 frames centred, 311 streaming.
if "$AUSCULT_BIN" features "$VEC/pump_normal.wav" --out "$TMP/p.f32" > "$TMP/summary" 2> "$TMP/err"; then
	[ "$(size_of "$TMP/p.f32")" = $((313 * 128 * 4)) ] && ok || bad "pump_normal.f32 is $(size_of "$TMP/p.f32") bytes, want $((313 * 128 * 4))"
	grep -q "313 frames x 128 mels (10.000 s at 16000 Hz, centred framing)" "$TMP/summary" && ok || bad "summary: $(cat "$TMP/summary")"
else
	bad "features --out failed: $(cat "$TMP/err")"
fi
# Same layout as the reference: the first value is frame 0 band 0 (-1.6200 dB for short.wav).
"$AUSCULT_BIN" features "$VEC/short.wav" --out "$TMP/s.f32" > /dev/null 2>&1 || bad "short.wav failed"
[ "$(size_of "$TMP/s.f32")" = $((2 * 128 * 4)) ] && ok || bad "short.f32 size $(size_of "$TMP/s.f32")"
first=$(od -An -t f4 -N 4 "$TMP/s.f32" | awk '{ printf "%.3f", $1 }')
[ "$first" = "-1.620" ] && ok || bad "first value of short.f32 is $first, want -1.620 (reference layout)"
# Byte-order independent check that the file matches the reference within 0.001 dB above -60 dB.
od -An -v -t f4 -w4 "$TMP/s.f32" > "$TMP/a.txt"
od -An -v -t f4 -w4 "$VEC/short.logmel.f32" > "$TMP/b.txt"
paste "$TMP/a.txt" "$TMP/b.txt" | awk '
	{ d = $1 - $2; if (d < 0) d = -d; if ($2 > -60 && d > 0.001) bad++; if ($2 <= -60 && $1 >= -50) bad++ }
	END { exit bad ? 1 : 0 }' && ok || bad "short.f32 differs from short.logmel.f32"

"$AUSCULT_BIN" features "$VEC/pump_normal.wav" --streaming --out "$TMP/ps.f32" > /dev/null 2>&1 || bad "--streaming failed"
[ "$(size_of "$TMP/ps.f32")" = $((311 * 128 * 4)) ] && ok || bad "streaming output $(size_of "$TMP/ps.f32") bytes, want $((311 * 128 * 4))"

# 2. --csv: one line per frame, 128 comma-separated values.
"$AUSCULT_BIN" features "$VEC/short.wav" --csv > "$TMP/s.csv" 2> "$TMP/err" || bad "--csv failed: $(cat "$TMP/err")"
[ "$(wc -l < "$TMP/s.csv" | tr -d ' ')" = 2 ] && ok || bad "csv has $(wc -l < "$TMP/s.csv") lines, want 2"
awk -F, 'NF != 128 { exit 1 }' "$TMP/s.csv" && ok || bad "csv lines do not have 128 fields"

# 3. Bad input: exit 1 with the audio layer's message naming the file.
"$AUSCULT_BIN" features "$FIX/not_audio.wav" > /dev/null 2> "$TMP/err"
rc=$?
[ $rc = 1 ] && ok || bad "not_audio.wav exit $rc, want 1"
grep -q "not_audio.wav: not an audio file" "$TMP/err" && ok || bad "not_audio message: $(cat "$TMP/err")"
"$AUSCULT_BIN" features "$TMP/missing.wav" --out "$TMP/m.f32" > /dev/null 2> "$TMP/err"
rc=$?
[ $rc = 1 ] && ok || bad "missing file exit $rc, want 1"
grep -q "missing.wav: cannot open" "$TMP/err" && ok || bad "missing message: $(cat "$TMP/err")"
[ ! -e "$TMP/m.f32" ] && ok || bad "a failed run left $TMP/m.f32 behind"
"$AUSCULT_BIN" features "$VEC/short.wav" --out "$TMP/no/such/dir.f32" > /dev/null 2> "$TMP/err"
rc=$?
[ $rc = 1 ] && grep -q "dir.f32: cannot create" "$TMP/err" && ok || bad "unwritable --out: exit $rc, $(cat "$TMP/err")"
# A failed run leaves an earlier output as it was (it is written under a temporary name), and
# --out naming the input recording is refused: the recording used to be truncated first.
cp "$TMP/s.f32" "$TMP/keep.f32"
"$AUSCULT_BIN" features "$TMP/missing.wav" --out "$TMP/keep.f32" > /dev/null 2>&1
cmp -s "$TMP/s.f32" "$TMP/keep.f32" && ok || bad "a failed run changed the earlier output"
cp "$VEC/short.wav" "$TMP/rec.wav"
"$AUSCULT_BIN" features "$TMP/rec.wav" --out "$TMP/./rec.wav" > /dev/null 2> "$TMP/err"
rc=$?
[ $rc = 1 ] && grep -q -- "--out $TMP/./rec.wav is the input recording itself" "$TMP/err" && ok ||
	bad "--out as the input: exit $rc, $(cat "$TMP/err")"
cmp -s "$VEC/short.wav" "$TMP/rec.wav" && ok || bad "--out as the input changed the recording"
[ -z "$(find "$TMP" -name '*.tmp*')" ] && ok || bad "temporary files left: $(find "$TMP" -name '*.tmp*')"

# 4. Usage errors: exit 2 with the usage line.
for args in "" "--bogus x.wav" "a.wav b.wav" "a.wav --out"; do
	# shellcheck disable=SC2086
	"$AUSCULT_BIN" features $args > /dev/null 2> "$TMP/err"
	rc=$?
	[ $rc = 2 ] && grep -q "^usage: auscult features FILE" "$TMP/err" && ok || bad "'features $args': exit $rc, $(cat "$TMP/err")"
done
"$AUSCULT_BIN" features --help | grep -q "^usage: auscult features" && ok || bad "--help"

# 5. Bounded memory: 30 minutes of audio must not cost more resident memory than 10 s.
sox -n -r 16000 -c 1 -b 16 "$TMP/long.wav" synth 1800 whitenoise vol 0.3 || bad "sox failed"
/usr/bin/time -f %M -o "$TMP/rss_short" "$AUSCULT_BIN" features "$VEC/pump_normal.wav" --out /dev/null > /dev/null 2>&1
/usr/bin/time -f %M -o "$TMP/rss_long" "$AUSCULT_BIN" features "$TMP/long.wav" --out /dev/null > "$TMP/long_summary" 2>&1
grep -q "56251 frames" "$TMP/long_summary" && ok || bad "30-min run: $(cat "$TMP/long_summary")"
short_kib=$(tail -n 1 "$TMP/rss_short")
long_kib=$(tail -n 1 "$TMP/rss_long")
echo "peak RSS: 10 s -> $short_kib KiB, 30 min -> $long_kib KiB"
[ $((long_kib - short_kib)) -lt 4096 ] && ok || bad "30 min of audio used $long_kib KiB against $short_kib KiB for 10 s: memory is not bounded"

echo "$passes passed, $fails failed"
[ $fails = 0 ]
