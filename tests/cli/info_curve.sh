#!/bin/sh
# info_curve.sh - the training curve a model keeps: `auscult train` records every epoch's losses
# as it printed them, `auscult info` sums them up (and --json gives them all), `auscult threshold`
# keeps them when it rewrites the model, and a model from before the curve says it has none.
set -eu

: "${AUSCULT_BIN:?}" "${AUSCULT_SHARED_DIR:?}" "${AUSCULT_SOURCE_DIR:?}" "${AUSCULT_FIXTURES:?}"
. "$AUSCULT_SOURCE_DIR/tests/lib/tools.sh"
require_tools awk:mawk
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00/train"
[ -f "$DATA/normal_id_00_00000002.wav" ] || { echo "FAIL: no $DATA" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/info_curve.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Three epochs; not a terminal, so each epoch's losses are printed on a line of their own. The
# network alone (no window head, whose kept bands would make the file version 4).
"$AUSCULT_BIN" train --threads 1 --epochs 3 --recipe idnn16-fast --out "$TMP/m.am" \
	"$DATA/normal_id_00_00000000.wav" "$DATA/normal_id_00_00000001.wav" >/dev/null 2>"$TMP/train.err" ||
	fail "training failed: $(cat "$TMP/train.err")"
sed -n 's|^epoch \([0-9]*\)/3: loss \([0-9.]*\) val_loss \([0-9.]*\) .*|\2 \3|p' "$TMP/train.err" >"$TMP/printed"
[ "$(wc -l <"$TMP/printed")" -eq 3 ] || fail "train did not print 3 epochs: $(cat "$TMP/train.err")"

"$AUSCULT_BIN" info "$TMP/m.am" >"$TMP/info" || fail "info failed on a trained model"
grep -q '^format:         auscult model, version 3$' "$TMP/info" || fail "a model with a curve is not version 3: $(cat "$TMP/info")"
line=$(grep '^training curve: ' "$TMP/info") || fail "info has no training curve line: $(cat "$TMP/info")"

# --json: every epoch's losses (9 digits: the floats exactly), as train printed them (6 decimals).
"$AUSCULT_BIN" info --json "$TMP/m.am" >"$TMP/json"
for key in train_loss val_loss; do
	sed -n "s/.*\"training_curve\":{.*\"$key\":\[\([^]]*\)\].*/\1/p" "$TMP/json" | tr ',' '\n' >"$TMP/$key"
	[ "$(wc -l <"$TMP/$key")" -eq 3 ] || fail "info --json has no 3-epoch $key: $(cat "$TMP/json")"
done
paste -d ' ' "$TMP/train_loss" "$TMP/val_loss" >"$TMP/curve"
awk 'NR == FNR { t[FNR] = $1; v[FNR] = $2; next }
	{ for (c = 1; c <= 2; c++) { d = $c - (c == 1 ? t[FNR] : v[FNR]); if (d < 0) d = -d
		if (d > 6e-7) { print "epoch " FNR " column " c ": " $c; bad = 1 } } }
	END { exit bad }' "$TMP/printed" "$TMP/curve" >"$TMP/diff" ||
	fail "info --json's losses are not what train printed: $(cat "$TMP/diff")"

# The summary line: first, best (and its epoch), last of each, 4 significant digits.
set -- $(awk 'NR == 1 { tf = $1; vf = $2 } { tl = $1; vl = $2
	if (NR == 1 || $1 < tb) { tb = $1; te = NR } if (NR == 1 || $2 < vb) { vb = $2; ve = NR } }
	END { printf "%.4g %.4g %d %.4g %.4g %.4g %d %.4g\n", tf, tb, te, tl, vf, vb, ve, vl }' "$TMP/curve")
want="training curve: 3 epochs; training loss first $1, best $2 (epoch $3), last $4; validation loss first $5, best $6 (epoch $7), last $8"
[ "$line" = "$want" ] || fail "info says
  $line
want
  $want"

# `auscult threshold` rewrites the model: the curve stays.
"$AUSCULT_BIN" threshold --model "$TMP/m.am" --out "$TMP/t.am" --quantile 0.95 \
	"$DATA/normal_id_00_00000002.wav" "$DATA/normal_id_00_00000003.wav" >/dev/null 2>"$TMP/err" ||
	fail "threshold failed: $(cat "$TMP/err")"
"$AUSCULT_BIN" info "$TMP/t.am" | grep -qxF "$line" || fail "threshold lost the training curve"

# The model shipped before auscult kept curves (tests/fixtures/model/pump_id00_v1.am) says so.
V1="$AUSCULT_FIXTURES/model/pump_id00_v1.am"
"$AUSCULT_BIN" info "$V1" >"$TMP/old"
grep -qx 'training curve: not recorded (trained before auscult 0.2 or by an older build)' "$TMP/old" ||
	fail "the version-1 model's info: $(cat "$TMP/old")"
grep -q '^format:         auscult model, version 1$' "$TMP/old" || fail "the fixture is no longer version 1"
"$AUSCULT_BIN" info --json "$V1" | grep -q '"training_curve":null}$' ||
	fail "the version-1 model's info --json does not say null"
# The shipped model keeps its curve.
"$AUSCULT_BIN" info "$AUSCULT_SOURCE_DIR/models/pump_id00.am" | grep -q '^training curve: 100 epochs' ||
	fail "the shipped model has no training curve of 100 epochs"

# A damaged curve: the file, the field and the fix.
if "$AUSCULT_BIN" info "$AUSCULT_FIXTURES/model/curve_epochs.am" >/dev/null 2>"$TMP/err"; then
	fail "a curve of 200000 epochs was accepted"
fi
grep -qF "curve_epochs.am: corrupt: curve.n_epochs 200000 at body byte 460 is not in [1, 100000]; the model is unusable - retrain it" "$TMP/err" ||
	fail "no clear message for a damaged curve: $(cat "$TMP/err")"
echo "info_curve: ok"
