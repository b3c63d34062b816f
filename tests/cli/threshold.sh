#!/bin/sh
# threshold.sh - `auscult threshold` refits the shipped model's threshold on unseen normals.
set -eu

: "${AUSCULT_BIN:?}" "${AUSCULT_SOURCE_DIR:?}" "${AUSCULT_SHARED_DIR:?}"
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00/train"
MODEL="$AUSCULT_SOURCE_DIR/models/pump_id00.am"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/threshold.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

threshold_of() {
	"$AUSCULT_BIN" info --json "$1" | sed -n 's/.*"threshold": *\([0-9.eE+-]*\).*/\1/p' | head -n 1
}

mkdir "$TMP/unseen"
for i in 55 56 57 58 59 60 61 62 63 64; do
	ln -s "$DATA/normal_id_00_000000$i.wav" "$TMP/unseen/"
done

out=$("$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/refit.am" "$TMP/unseen") ||
	fail "threshold exited $?"
echo "$out"
echo "$out" | grep -q "over 10 recordings" || fail "summary does not count 10 recordings: $out"
old=$(threshold_of "$MODEL")
new=$(threshold_of "$TMP/refit.am")
[ -n "$old" ] && [ -n "$new" ] || fail "could not read thresholds ('$old', '$new')"
# Unseen normals score above the training clips, so the refitted threshold must be higher.
awk -v o="$old" -v n="$new" 'BEGIN { exit !(n > o) }' || fail "threshold $new not above $old"
# Everything but the threshold is the same model: scores are unchanged.
a=$("$AUSCULT_BIN" score --model "$MODEL" "$DATA/normal_id_00_00000070.wav" | cut -f2)
b=$("$AUSCULT_BIN" score --model "$TMP/refit.am" "$DATA/normal_id_00_00000070.wav" | cut -f2)
[ "$a" = "$b" ] || fail "scores differ after a refit: $a vs $b"

# Errors: a missing file names it and writes nothing; one recording cannot be fitted; usage.
if "$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/x.am" "$TMP/missing.wav" 2>"$TMP/err"; then
	fail "a missing recording was accepted"
fi
grep -q "missing.wav" "$TMP/err" || fail "missing-file message does not name it: $(cat "$TMP/err")"
[ ! -e "$TMP/x.am" ] || fail "a model was written despite the error"
if "$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/x.am" "$DATA/normal_id_00_00000070.wav" \
	2>"$TMP/err"; then
	fail "a single recording was accepted"
fi
grep -q "at least 2 recordings" "$TMP/err" || fail "wrong message: $(cat "$TMP/err")"
set +e
"$AUSCULT_BIN" threshold --model "$MODEL" 2>/dev/null
rc=$?
set -e
[ "$rc" = 2 ] || fail "usage error exited $rc, not 2"
echo "threshold.sh: all checks passed"
