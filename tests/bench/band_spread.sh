#!/bin/sh
# band_spread.sh - bench/band_spread's per-band energy share and spreads, on recordings whose band levels are known.
set -eu

: "${AUSCULT_BUILD_DIR:?}"
. "$(dirname "$0")/../lib/tools.sh"
require_tools sox:sox
BAND_SPREAD="$AUSCULT_BUILD_DIR/band_spread"
[ -x "$BAND_SPREAD" ] || { echo "SKIP: $BAND_SPREAD not built" >&2; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/band_spread.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

band_spread() {
	# shellcheck disable=SC2086 # the emulator's command line is words
	${AUSCULT_EMULATOR:-} "$BAND_SPREAD" "$@"
}

# Three 6-s recordings: the same 250-Hz tone, and a 3-kHz tone 6.02 dB louder in each than in the
# one before (amplitudes 0.05, 0.1, 0.2). Between recordings the 0-500 Hz band does not move and
# the 2500-4000 Hz band spreads by the standard deviation of -26.02, -20, -13.98 dB: 6.02 dB.
# Steady tones: no spread within a recording. The 3-kHz tone's share of the power is 1/101,
# 4/104 and 16/116 beside the 250-Hz tone of amplitude 0.5: 6.2% on average.
sox -n -r 16000 -c 1 -b 16 "$TMP/low.wav" synth 6 sine 250 vol 0.5
for a in 0.05 0.1 0.2; do
	sox -n -r 16000 -c 1 -b 16 "$TMP/high.wav" synth 6 sine 3000 vol "$a"
	sox -m -v 1 "$TMP/low.wav" -v 1 "$TMP/high.wav" -b 16 "$TMP/rec_$a.wav"
done
band_spread "$TMP"/rec_*.wav >"$TMP/out.txt" || fail "band_spread failed: $(cat "$TMP/out.txt")"
cat "$TMP/out.txt"
row() { awk -v b="$1" '$1 == b { print $3, $4, $6 }' "$TMP/out.txt"; }
# shellcheck disable=SC2046 # three numbers
set -- $(row 2500-4000)
[ $# -eq 3 ] || fail "no 2500-4000 Hz row"
awk -v s="$1" -v between="$2" -v within="$3" 'BEGIN {
	sub(/%/, "", s)
	exit !(s > 5.9 && s < 6.5 && between > 5.9 && between < 6.15 && within < 0.05)
}' || fail "2500-4000 Hz: share $1, between $2 dB, within $3 dB; expected about 6.2%, 6.02 dB, 0"
# shellcheck disable=SC2046
set -- $(row 0-500)
awk -v between="$2" -v within="$3" 'BEGIN { exit !(between < 0.05 && within < 0.05) }' ||
	fail "0-500 Hz: between $2 dB, within $3 dB; expected both about 0"

# Fewer than three recordings is a usage error; a file that is not audio is named.
if band_spread "$TMP/rec_0.1.wav" "$TMP/rec_0.2.wav" 2>"$TMP/err.txt"; then
	fail "two recordings were accepted"
fi
grep -q "usage: band_spread" "$TMP/err.txt" || fail "no usage line: $(cat "$TMP/err.txt")"
printf 'not audio\n' >"$TMP/notes.txt"
if band_spread "$TMP/rec_0.1.wav" "$TMP/rec_0.2.wav" "$TMP/notes.txt" 2>"$TMP/err.txt"; then
	fail "a text file was accepted"
fi
grep -q "$TMP/notes.txt: not an audio file" "$TMP/err.txt" ||
	fail "the text file is not named: $(cat "$TMP/err.txt")"
echo "PASS"
