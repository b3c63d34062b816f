#!/bin/sh
# threshold.sh - `auscult threshold` refits a model's threshold on unseen normals.
set -eu

: "${AUSCULT_BIN:?}" "${AUSCULT_SOURCE_DIR:?}" "${AUSCULT_SHARED_DIR:?}"
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00/train"
# The idnn16 model shipped before idnn16-fast: its threshold is a refit on these ten files, without folds
# (tests/fixtures/model/README.md), which the first check repeats.
MODEL="$AUSCULT_SOURCE_DIR/tests/fixtures/model/pump_id00_v1.am"
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

# That model's threshold is itself a refit on these ten files at quantile 0.998
# (scripts/train-shipped-model), replayed through the daemon's pipeline: 2-s windows every 0.5 s,
# smoothed as the daemon's detector compares them (EMA over 4 windows). The same refit gives it
# again, from 10 x 16 windows.
out=$("$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/same.am" --window-s 2 --hop-s 0.5 \
	--fit gamma --quantile 0.998 "$TMP/unseen") || fail "threshold --window-s exited $?"
echo "$out"
echo "$out" | grep -q "quantile 0.998 over 160 smoothed windows of 2 s every 0.5 s from 10 recordings" ||
	fail "window summary: $out"
old=$(threshold_of "$MODEL")
same=$(threshold_of "$TMP/same.am")
[ -n "$old" ] && [ -n "$same" ] || fail "could not read thresholds ('$old', '$same')"
# (Equal to float rounding: the model stores the quantile 0.998 as a float.)
awk -v o="$old" -v n="$same" 'BEGIN { d = (n - o) / o; exit !(d < 1e-4 && d > -1e-4) }' ||
	fail "refit on the same windows moved $old to $same"
# Raw windows (--smoothing none) vary more than smoothed ones: their fit is higher.
"$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/raw.am" --window-s 2 --smoothing none \
	--fit gamma --quantile 0.998 "$TMP/unseen" >/dev/null || fail "threshold --window-s 2 --smoothing none exited $?"
raw=$(threshold_of "$TMP/raw.am")
awk -v r="$raw" -v s="$same" 'BEGIN { exit !(r > s) }' ||
	fail "raw-window fit $raw not above the smoothed fit $same"
# Whole clips at quantile 0.9: the gamma (shape 12.2097, scale 0.134585) gives 2.26734.
out=$("$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/refit.am" --quantile 0.9 \
	"$TMP/unseen") || fail "threshold --quantile 0.9 exited $?"
echo "$out"
echo "$out" | grep -q "over 10 recordings" || fail "summary does not count 10 recordings: $out"
new=$(threshold_of "$TMP/refit.am")
awk -v n="$new" 'BEGIN { d = n - 2.26734; exit !(d < 0.0001 && d > -0.0001) }' ||
	fail "quantile 0.9 gave $new, expected 2.26734"
# The fitted gamma itself: any change in how files are scored would move it.
echo "$out" | grep -q "shape 12.209.* scale 0.13458" || fail "gamma parameters changed: $out"
# A clip of the machine off (pink noise at -80 dBFS) is left out of the fit, with a note naming
# it: it scored far above the rest and raised the threshold several times over, silently.
mkdir "$TMP/with_off"
cp -L "$TMP"/unseen/*.wav "$TMP/with_off/"
sox -D -n -r 16000 -b 16 -c 1 "$TMP/with_off/zz_off.wav" synth 10 pinknoise vol -70dB
out=$("$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/off.am" --quantile 0.9 \
	"$TMP/with_off" 2>"$TMP/err") || fail "threshold with a silent clip exited $?"
grep -q "zz_off.wav: its level is .* dBFS, below the -70 dBFS at which auscultd calls a machine off: left out of the fit" \
	"$TMP/err" || fail "the silent clip is not named: $(cat "$TMP/err")"
echo "$out" | grep -q "over 10 recordings, 1 silent ones left out" || fail "summary: $out"
[ "$(threshold_of "$TMP/off.am")" = "$new" ] ||
	fail "a silent clip moved the threshold: $(threshold_of "$TMP/off.am"), not $new"
# Raw 2-s windows vary more than clips: at the same quantile their threshold is higher.
"$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/win.am" --fit gamma --quantile 0.9 --window-s 2 \
	--smoothing none "$TMP/unseen" >/dev/null || fail "threshold --window-s 2 exited $?"
win=$(threshold_of "$TMP/win.am")
awk -v w="$win" -v c="$new" 'BEGIN { exit !(w > c) }' || fail "window fit $win not above clip fit $new"
# Window options: a hop without a window, a hop longer than the window, a window longer than a
# recording (which names it).
for bad in "--hop-s 1" "--window-s 1 --hop-s 2" "--window-s 0" "--window-s x"; do
	set +e
	# shellcheck disable=SC2086
	"$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/x.am" $bad "$TMP/unseen" 2>"$TMP/err"
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "'$bad' exited $rc, not 2: $(cat "$TMP/err")"
	grep -q -e "--hop-s" -e "--window-s" "$TMP/err" || fail "'$bad': $(cat "$TMP/err")"
done
if "$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/x.am" --window-s 30 "$TMP/unseen" \
	2>"$TMP/err"; then
	fail "a window longer than the recordings was accepted"
fi
grep -q "normal_id_00_00000055.wav: .* shorter than one window" "$TMP/err" ||
	fail "long-window message: $(cat "$TMP/err")"
[ ! -e "$TMP/x.am" ] || fail "a model was written despite the error"
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

# --fold: windows scored by a model trained without those recordings join the fit. The model
# itself scoring the same ten files again doubles every window: the gamma's maximum-likelihood
# fit, and so the threshold, must not move, and the summary counts both.
out=$("$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/fold.am" --window-s 2 --fit gamma --quantile 0.998 \
	--fold "$MODEL=$TMP/unseen" "$TMP/unseen") || fail "threshold --fold exited $?"
echo "$out"
echo "$out" | grep -q "over 320 smoothed windows .* from 20 recordings, 10 of them scored by 1 fold models" ||
	fail "fold summary: $out"
fold=$(threshold_of "$TMP/fold.am")
awk -v o="$same" -v n="$fold" 'BEGIN { d = (n - o) / o; exit !(d < 1e-4 && d > -1e-4) }' ||
	fail "doubling the windows moved the threshold from $same to $fold"
# A fold model that scores differently (another front end) is refused by name; so are a value
# without '=', a fold without --window-s and a fold folder that does not exist. Nothing is written.
for bad in "--window-s 2 --fold $AUSCULT_SOURCE_DIR/tests/fixtures/model/tiny.am=$TMP/unseen" \
	"--window-s 2 --fold $MODEL" "--fold $MODEL=$TMP/unseen" \
	"--window-s 2 --fold $MODEL=$TMP/nowhere"; do
	set +e
	# shellcheck disable=SC2086 # the options are a list
	"$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/x.am" $bad "$TMP/unseen" \
		>/dev/null 2>"$TMP/err"
	rc=$?
	set -e
	[ "$rc" != 0 ] || fail "'$bad' was accepted"
	grep -q -e "--fold" "$TMP/err" || fail "'$bad': $(head -n 1 "$TMP/err")"
	[ ! -e "$TMP/x.am" ] || fail "'$bad' wrote a model"
done
set +e
"$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/x.am" --window-s 2 \
	--fold "$AUSCULT_SOURCE_DIR/tests/fixtures/model/tiny.am=$TMP/unseen" "$TMP/unseen" 2>"$TMP/err"
set -e
grep -q "tiny.am: scores differently from .* (the front end); train each fold model with the same recipe" "$TMP/err" ||
	fail "mismatched fold message: $(cat "$TMP/err")"
# A fold model alike in all but the rise heads (idnn16-fast-stats beside the shipped default) is
# refused too, naming them: its windows lack the rises the model's have.
SHIPPED="$AUSCULT_SOURCE_DIR/models/pump_id00.am"
"$AUSCULT_BIN" train --quiet --threads 1 --recipe idnn16-fast-stats --epochs 1 \
	--out "$TMP/norise.am" "$TMP/unseen" >/dev/null || fail "training the fold model exited $?"
set +e
"$AUSCULT_BIN" threshold --model "$SHIPPED" --out "$TMP/x.am" --window-s 2 \
	--fold "$TMP/norise.am=$TMP/unseen" "$TMP/unseen" 2>"$TMP/err"
status=$?
set -e
[ "$status" -ne 0 ] && [ ! -e "$TMP/x.am" ] || fail "a fold model without rise heads was taken"
grep -q "norise.am: scores differently from .*pump_id00.am (the rise heads: one has them)" "$TMP/err" ||
	fail "fold without rise heads: $(cat "$TMP/err")"

# Without --quantile and --fit, a window fit is the recipe's: with --recipe idnn16-fast-stats its
# gamma at 0.999995, without --recipe the default recipe's (idnn16-spec-burst) quantile 0.9999 of
# the tail of the largest windows (10 of 160: at least 10), which `auscult info` then names.
out=$("$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/stats.am" --window-s 2 \
	--recipe idnn16-fast-stats "$TMP/unseen") || fail "threshold --recipe idnn16-fast-stats exited $?"
echo "$out" | grep -q "(gamma shape .* quantile 0.999995 over 160" || fail "idnn16-fast-stats' fit: $out"
"$AUSCULT_BIN" info "$TMP/stats.am" | grep -q "^threshold: .*(gamma fit: .*quantile 0.999995)" ||
	fail "info of a gamma fit: $("$AUSCULT_BIN" info "$TMP/stats.am" | grep threshold)"
out=$("$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/tail.am" --window-s 2 "$TMP/unseen") ||
	fail "threshold with the default recipe's fit exited $?"
"$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/named.am" --window-s 2 \
	--recipe idnn16-spec-burst "$TMP/unseen" >/dev/null || fail "threshold --recipe idnn16-spec-burst exited $?"
cmp -s "$TMP/tail.am" "$TMP/named.am" || fail "the default recipe's fit is not idnn16-spec-burst's"
echo "$out"
echo "$out" | grep -q "(tail fit; the gamma of all: shape .* quantile 0.9999 over 160 .*; 0 of them above it)" ||
	fail "tail fit summary: $out"
echo "$out" | grep -q "the tail: the largest 10 scores exceed" || fail "tail line: $out"
"$AUSCULT_BIN" info "$TMP/tail.am" | grep -q "^threshold: .*(quantile 0.9999 of the scores' exponential tail" ||
	fail "info of a tail fit: $("$AUSCULT_BIN" info "$TMP/tail.am" | grep threshold)"
"$AUSCULT_BIN" info --json "$TMP/tail.am" | grep -q '"fit":"tail"' || fail "info --json of a tail fit"
# The tail's quantile lies over the ten recordings' highest window.
tail=$(threshold_of "$TMP/tail.am")
highest=$("$AUSCULT_BIN" score --windows --model "$MODEL" "$TMP/unseen" |
	awk -F '\t' 'NR > 1 && $4 + 0 > m { m = $4 + 0 } END { print m }')
awk -v t="$tail" -v h="$highest" 'BEGIN { exit !(t > h) }' || fail "tail fit $tail not over the highest window $highest"
# A recipe or fit the tool does not know, and a recipe for a clip fit, are usage errors.
for bad in "--window-s 2 --recipe idnn8" "--window-s 2 --recipe idnn8 --fit gamma --quantile 0.99" \
	"--window-s 2 --fit pareto" "--recipe idnn16-fast-rise"; do
	set +e
	# shellcheck disable=SC2086 # the options are a list
	"$AUSCULT_BIN" threshold --model "$MODEL" --out "$TMP/x.am" $bad "$TMP/unseen" 2>"$TMP/err"
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "'$bad' exited $rc, not 2"
	[ ! -e "$TMP/x.am" ] || fail "'$bad' wrote a model"
done
grep -q -e "--recipe goes with --window-s" "$TMP/err" || fail "recipe without windows: $(head -n 1 "$TMP/err")"
# A window shorter than one model input (its five stacked frames) scores nothing: refused by the
# tools as by auscultd's config check, naming both lengths.
set +e
"$AUSCULT_BIN" score --windows --window-s 0.2 --hop-s 0.1 --model "$AUSCULT_SOURCE_DIR/models/pump_id00.am" \
	"$DATA/normal_id_00_00000055.wav" >/dev/null 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "score --windows --window-s 0.2 exited $rc, not 1"
grep -q "window_s: 0.2 s is shorter than one input of the model (0.320 s of audio)" "$TMP/err" ||
	fail "window shorter than an input: $(cat "$TMP/err")"
echo "threshold.sh: all checks passed"
