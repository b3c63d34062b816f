#!/bin/sh
# usage_errors.sh - every subcommand's bad command lines: exit status 2 and a message that names
# the option, the bad value and what it takes (src/tools/cli_args.c).
set -eu

: "${AUSCULT_BIN:?}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/usage_errors.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect TEXT ARGS...: `auscult ARGS` exits 2 and its stderr holds the line TEXT (fixed string).
expect() {
	text=$1
	shift
	set +e
	"$AUSCULT_BIN" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "auscult $*: exit $rc, want 2: $(cat "$TMP/err")"
	grep -qxF -- "$text" "$TMP/err" || fail "auscult $*: stderr lacks '$text': $(cat "$TMP/err")"
}

# Numbers: the option, the value as given, and the range.
expect "auscult score: --threshold: 'abc' is not a number in [0, inf)" \
	score --model m.am --threshold abc x.wav
expect "auscult eval: --threshold: 'nan' is not a number in [0, inf)" \
	eval --model m.am --threshold=nan dir
# A score is never negative: a negative threshold is a typo (0 flags every clip).
expect "auscult score: --threshold: '-1' is not a number in [0, inf)" \
	score --model m.am --threshold -1 x.wav
# A value that a model keeps as a float must lie in the range as a float too.
expect "auscult train: --lr: '1e-50' becomes 0 as the 32-bit float a model keeps, which is not in (0, 10]; give a value further inside" \
	train --out m.am --lr 1e-50 x.wav
expect "auscult threshold: --quantile: '0.99999999' becomes 1 as the 32-bit float a model keeps, which is not in (0, 1); give a value further inside" \
	threshold --model m.am --out n.am --quantile 0.99999999 x.wav
expect "auscult threshold: --quantile: '1' is not a number in (0, 1)" \
	threshold --model m.am --out n.am --quantile 1 x.wav
expect "auscult threshold: --quantile: '0.5x' is not a number in (0, 1)" \
	threshold --model m.am --out n.am --quantile=0.5x x.wav
expect "auscult train: --epochs: '0' is not a whole number in [1, 100000]" \
	train --out m.am --epochs 0 x.wav
expect "auscult train: --threads: '-1' is not a whole number in [0, 256]" \
	train --out m.am --threads -1 x.wav
expect "auscult train: --seed: '1.5' is not a whole number in [0, 18446744073709551615]" \
	train --out m.am --seed 1.5 x.wav
expect "auscult train: --seed: '18446744073709551616' is not a whole number in [0, 18446744073709551615]" \
	train --out m.am --seed 18446744073709551616 x.wav
expect "auscult train: --lr: '0' is not a number in (0, 10]" train --out m.am --lr 0 x.wav
expect "auscult train: --val-split: '1' is not a number in [0, 1)" \
	train --out m.am --val-split 1 x.wav
expect "auscult devices: --seconds: '0' is not a number in (0, 3600]" devices --seconds 0
expect "auscult devices: --rate: '16k' is not a whole number in [0, 384000]" devices --rate 16k
expect "auscult devices: --channels: '0' is not a whole number in [1, 64]" devices --channels 0

# An option without its value, unknown options, missing required ones: a message, then usage.
expect "auscult score: --model needs a value" score --model
expect "auscult eval: --svg needs a value" eval --model m.am --svg
expect "auscult threshold: --quantile needs a value" threshold --quantile
expect "auscult features: --out needs a value" features a.wav --out
expect "auscult devices: --listen needs a value" devices --listen
expect "auscult score: unknown option '--bogus'" score --bogus
expect "auscult threshold: unknown option '--bogus'" threshold --bogus
expect "auscult info: unknown option '--bogus'" info --bogus
expect "auscult report: unknown option '--bogus'" report --bogus
expect "auscult report: --out needs a value" report dir --out
expect "auscult report: --out PAGE.html is required" report dir
expect "auscult report: no evidence folder given" report --out p.html
expect "auscult report: no recordings to score" report --model m.am --out p.html
expect "auscult report: one evidence folder, or --model MODEL with recordings" report a b --out p.html
expect "auscult report: --hop-s: 'x' is not a number in (0, 60]" report --model m.am --hop-s x --out p.html a.wav
expect "auscult score: --model MODEL is required" score x.wav
expect "auscult eval: a folder DIR is required" eval --model m.am
: >"$TMP/x.wav" # threshold collects its files as it reads the arguments
expect "auscult threshold: --out NEW_MODEL is required" threshold --model m.am "$TMP/x.wav"
expect "auscult train: --out MODEL is required" train x.wav
grep -q "^usage: auscult train --out MODEL" "$TMP/err" || fail "train: no usage after the message"

# --name=VALUE works wherever --name VALUE does.
"$AUSCULT_BIN" devices --channels=65 2>"$TMP/err" && fail "devices --channels=65 accepted"
grep -qF "auscult devices: --channels: '65' is not a whole number in [1, 64]" "$TMP/err" ||
	fail "--channels=65: $(cat "$TMP/err")"

echo "usage_errors: ok"
