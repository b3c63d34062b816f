#!/bin/sh
# score_eval.sh - `auscult score` and `auscult eval` on real recordings: formats, figures, errors.
set -eu

: "${AUSCULT_BIN:?}" "${AUSCULT_SOURCE_DIR:?}" "${AUSCULT_SHARED_DIR:?}" "${AUSCULT_FIXTURES:?}"
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/score_eval.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# The evaluation folder, DCASE layout: held-out normals 55..74 and the real anomaly in test/.
mkdir -p "$TMP/dev/test" "$TMP/train" "$TMP/plain" "$TMP/normals_only"
for i in 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74; do
	ln -s "$DATA/train/normal_id_00_000000$i.wav" "$TMP/dev/test/"
done
ln -s "$DATA/test/anomaly_id_00_00000000.wav" "$TMP/dev/test/"
for i in 60 61 62; do
	ln -s "$DATA/train/normal_id_00_000000$i.wav" "$TMP/normals_only/"
done
ln -s "$DATA/train/normal_id_00_00000060.wav" "$TMP/plain/recording.wav"

# The shipped model if there is one; otherwise a small one trained on normals 00..09 (~1 s).
MODEL="$AUSCULT_SOURCE_DIR/models/pump_id00.am"
if [ ! -f "$MODEL" ]; then
	for i in 00 01 02 03 04 05 06 07 08 09; do
		ln -s "$DATA/train/normal_id_00_000000$i.wav" "$TMP/train/"
	done
	MODEL="$TMP/small.am"
	"$AUSCULT_BIN" train --out "$MODEL" --recipe dcase2020 --hidden 64,8,64 --epochs 5 \
		--threads 1 --seed 1 --quiet "$TMP/train" >"$TMP/train.out" 2>&1 || {
		cat "$TMP/train.out" >&2
		fail "could not train a model for the test"
	}
fi

# --- score: one line per file, path<TAB>score<TAB>decision, sorted by path --------------------
"$AUSCULT_BIN" score --model "$MODEL" "$TMP/dev" >"$TMP/score.out" 2>"$TMP/score.err" ||
	fail "score exited $? on good files: $(cat "$TMP/score.err")"
[ "$(wc -l <"$TMP/score.out")" -eq 21 ] || fail "score printed $(wc -l <"$TMP/score.out") lines, want 21"
awk -F '\t' 'NF != 3 || $2 !~ /^-?[0-9]+\.[0-9]+$/ || ($3 != "normal" && $3 != "anomaly") {
	print "bad line " NR ": " $0; bad = 1 } END { exit bad }' "$TMP/score.out" >&2 ||
	fail "score output format"
head -n 1 "$TMP/score.out" | grep -q "/test/anomaly_id_00_00000000.wav	" ||
	fail "score output is not sorted by path"

# The decision follows --threshold: everything above 0, nothing above 1e30.
"$AUSCULT_BIN" score --model "$MODEL" --threshold 0 "$TMP/dev/test" | cut -f 3 | sort -u >"$TMP/d0"
[ "$(cat "$TMP/d0")" = "anomaly" ] || fail "--threshold 0 did not flag every file"
"$AUSCULT_BIN" score --model "$MODEL" --threshold=1e30 "$TMP/dev/test" | cut -f 3 | sort -u >"$TMP/d1"
[ "$(cat "$TMP/d1")" = "normal" ] || fail "--threshold 1e30 flagged a file"

# Options may follow the files, as in eval and report.
"$AUSCULT_BIN" score "$TMP/dev/test" --model "$MODEL" --threshold 0 --json >"$TMP/late.json" ||
	fail "score with options after the files exited $?"
grep -q '"decision": "anomaly"' "$TMP/late.json" || fail "options after the files were not taken: $(head -c 300 "$TMP/late.json")"

# A bad file: its error names it on stderr, the others are still scored, exit status 1.
set +e
"$AUSCULT_BIN" score --model "$MODEL" "$TMP/plain/recording.wav" \
	"$AUSCULT_FIXTURES/eval/not_audio.wav" "$TMP/dev/test/normal_id_00_00000055.wav" \
	>"$TMP/bad.out" 2>"$TMP/bad.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "score with a bad file exited $rc, want 1"
grep -q "not_audio.wav: not an audio file" "$TMP/bad.err" ||
	fail "bad-file error does not name the file: $(cat "$TMP/bad.err")"
[ "$(wc -l <"$TMP/bad.out")" -eq 2 ] || fail "score stopped at the bad file"

# A silent recording (a muted microphone) is not called an anomaly: 'silent', with a note; a
# recording turned down 80 dB too; a normal one at its own level stays 'normal'.
sox -n -r 16000 -b 16 "$TMP/muted.wav" trim 0 10
sox "$DATA/train/normal_id_00_00000060.wav" "$TMP/turned_down.wav" vol -80 dB
"$AUSCULT_BIN" score --model "$MODEL" "$TMP/muted.wav" "$TMP/turned_down.wav" \
	"$TMP/plain/recording.wav" >"$TMP/silent.out" 2>"$TMP/silent.err" ||
	fail "score exited $? on quiet files: $(cat "$TMP/silent.err")"
[ "$(cut -f 3 "$TMP/silent.out" | tr '\n' ' ')" = "silent silent normal " ] ||
	fail "quiet files' decisions: $(cat "$TMP/silent.out")"
grep -q "turned_down.wav: its level is -9[0-9].[0-9] dBFS, below the -70 dBFS at which auscultd calls a machine off" \
	"$TMP/silent.err" || fail "no note on the quiet file: $(cat "$TMP/silent.err")"
[ "$(wc -l <"$TMP/silent.err")" -eq 2 ] || fail "notes: $(cat "$TMP/silent.err")"
# eval keeps a dead recording in its figures but names it.
mkdir -p "$TMP/dead"
ln -s "$DATA/test/anomaly_id_00_00000000.wav" "$DATA/train/normal_id_00_00000060.wav" "$TMP/dead/"
cp "$TMP/muted.wav" "$TMP/dead/normal_id_00_00000099.wav"
"$AUSCULT_BIN" eval --model "$MODEL" "$TMP/dead" >"$TMP/dead.out" 2>"$TMP/dead.err" ||
	fail "eval exited $? with a dead recording: $(cat "$TMP/dead.err")"
grep -q "normal_id_00_00000099.wav: its level is -9[0-9].[0-9] dBFS, .*: it counts in the AUC as it scored" \
	"$TMP/dead.err" || fail "eval did not name the dead recording: $(cat "$TMP/dead.err")"
grep -q "3 files scored" "$TMP/dead.out" || fail "eval left the dead recording out: $(cat "$TMP/dead.out")"

# A recording too short for one window: score --windows says so and exits 1 (it printed only
# its header and exited 0); clip mode scores it on shorter windows, saying how long it is.
sox "$DATA/train/normal_id_00_00000060.wav" "$TMP/short.wav" trim 0 2.1
set +e
"$AUSCULT_BIN" score --windows --model "$MODEL" "$TMP/short.wav" >"$TMP/short.out" 2>"$TMP/short.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "score --windows on a 2.1-s clip exited $rc, not 1"
grep -q "short.wav: 2.100 s of audio, too short for one window of 2 s and its model context; no window scored" \
	"$TMP/short.err" || fail "no note on the short clip: $(cat "$TMP/short.err")"
"$AUSCULT_BIN" score --model "$MODEL" "$TMP/short.wav" >/dev/null 2>"$TMP/short.err" ||
	fail "clip score of a 2.1-s clip exited $?"
grep -q "short.wav: 2.100 s, shorter than one 2-s window and its model context" "$TMP/short.err" ||
	fail "clip mode's note on the short clip: $(cat "$TMP/short.err")"

# --json: an array of {file, score, threshold, decision}.
"$AUSCULT_BIN" score --model "$MODEL" --json "$TMP/dev/test" >"$TMP/score.json"
head -c 1 "$TMP/score.json" | grep -q '\[' || fail "JSON does not start with ["
tail -n 1 "$TMP/score.json" | grep -q '^\]$' || fail "JSON does not end with ]"
[ "$(grep -Ec '"file": ".*", "score": [0-9.e+-]*, "threshold": [0-9.e+-]*, "decision": "(normal|anomaly)"}' \
	"$TMP/score.json")" -eq 21 ] || fail "JSON objects: $(cat "$TMP/score.json")"

# Usage errors exit 2.
set +e
"$AUSCULT_BIN" score "$TMP/dev" 2>/dev/null
[ $? -eq 2 ] || fail "score without --model did not exit 2"
"$AUSCULT_BIN" score --model "$MODEL" --threshold abc "$TMP/dev" 2>"$TMP/u.err"
[ $? -eq 2 ] || fail "score --threshold abc did not exit 2"
set -e
grep -q "'abc' is not a number in \[0, inf)" "$TMP/u.err" || fail "bad --threshold message: $(cat "$TMP/u.err")"

# --- eval: DIR or DIR/test, per machine id and overall ----------------------------------------
"$AUSCULT_BIN" eval --model "$MODEL" --svg "$TMP/report.svg" "$TMP/dev" >"$TMP/eval.out" 2>"$TMP/eval.err" ||
	fail "eval exited $?: $(cat "$TMP/eval.err")"
grep -q "^folder .*/dev/test: 21 files scored" "$TMP/eval.out" || fail "eval did not use DIR/test"
grep -Eq '^id_00 +20 +1 +[01]\.[0-9]{4} +[01]\.[0-9]{4} ' "$TMP/eval.out" || fail "eval id_00 row"
grep -Eq '^all +20 +1 ' "$TMP/eval.out" || fail "eval overall row"
if grep -qi nan "$TMP/eval.out"; then fail "eval printed NaN"; fi
# one anomalous file: no AUC interval (every bootstrap draw would repeat it), and a note says why
grep -Eq '^id_00 +20 +1 .* -$' "$TMP/eval.out" || fail "eval printed an AUC interval from one anomaly"
grep -q '^id_00: no AUC interval: it needs 5 files or more of each class$' "$TMP/eval.out" ||
	fail "eval did not say why there is no AUC interval: $(cat "$TMP/eval.out")"

# The AUC agrees with the scores: with one anomaly it is the share of normals scored below it
# (ties half). Both come from the same binary but through different code paths.
awk -F '\t' '/anomaly_id/ { a = $2 } /normal_id/ { n[++k] = $2 }
	END { s = 0; for (i = 1; i <= k; i++) s += (n[i] < a) ? 1 : (n[i] == a ? 0.5 : 0);
	      printf "%.4f\n", s / k }' "$TMP/score.out" >"$TMP/auc.want"
awk '$1 == "id_00" { print $4 }' "$TMP/eval.out" >"$TMP/auc.got"
[ "$(cat "$TMP/auc.got")" = "$(cat "$TMP/auc.want")" ] ||
	fail "eval AUC $(cat "$TMP/auc.got") but the scores give $(cat "$TMP/auc.want")"

# The SVG report: one document, a ROC polyline, the threshold line, the model's name.
grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$TMP/report.svg" || fail "SVG: no <svg>"
grep -q '<polyline ' "$TMP/report.svg" || fail "SVG: no ROC polyline"
grep -q 'class="threshold"' "$TMP/report.svg" || fail "SVG: no threshold line"
grep -q "$(basename "$MODEL")" "$TMP/report.svg" || fail "SVG: title lacks the model name"
tail -n 1 "$TMP/report.svg" | grep -q '^</svg>$' || fail "SVG: not closed"
[ "$(grep -c '<svg' "$TMP/report.svg")" -eq 1 ] || fail "SVG: more than one <svg"

# Five files of each class or more: the AUC's bootstrap interval, in the table and the JSON. Normals
# labelled as anomalies rank like normals: the interval holds the AUC and is wide.
mkdir -p "$TMP/five"
for i in 65 66 67 68 69 70 71 72 73 74; do
	ln -s "$DATA/train/normal_id_00_000000$i.wav" "$TMP/five/"
done
for i in 1 2 3 4 5; do
	ln -s "$DATA/train/normal_id_00_0000005$i.wav" "$TMP/five/anomaly_id_00_0000000$i.wav"
done
"$AUSCULT_BIN" eval --model "$MODEL" "$TMP/five" >"$TMP/five.out" || fail "eval of five anomalies"
row=$(grep '^id_00 ' "$TMP/five.out")
auc=$(echo "$row" | awk '{ print $4 }')
interval=$(echo "$row" | awk '{ print $NF }')
echo "$interval" | grep -Eq '^[01]\.[0-9]{3}-[01]\.[0-9]{3}$' || fail "eval interval: $row"
awk -v a="$auc" -v i="$interval" 'BEGIN { split(i, b, "-"); exit !(b[1] <= a && a <= b[2] &&
	b[2] - b[1] > 0.1) }' || fail "eval interval $interval does not hold the AUC $auc widely"
"$AUSCULT_BIN" eval --model "$MODEL" --json "$TMP/five" | grep -q '"auc_low": 0\.[0-9]*, "auc_high": [01]' ||
	fail "eval JSON interval"

# --json: figures and files.
"$AUSCULT_BIN" eval --model "$MODEL" --json "$TMP/dev/test" >"$TMP/eval.json"
grep -q '"machine_id": "00", "n_normal": 20, "n_anomaly": 1, "auc": [0-9.]*, "pauc": [0-9.]*' \
	"$TMP/eval.json" || fail "eval JSON: $(head -c 600 "$TMP/eval.json")"
[ "$(grep -c '"label": "normal"' "$TMP/eval.json")" -eq 20 ] || fail "eval JSON files"

# A missing class is said in words, never as NaN.
"$AUSCULT_BIN" eval --model "$MODEL" "$TMP/normals_only" >"$TMP/n.out" 2>&1 || fail "eval normals only"
grep -q "id_00: no anomalous files: AUC, pAUC and recall need anomaly_id_\* files too" "$TMP/n.out" ||
	fail "missing class message: $(cat "$TMP/n.out")"
if grep -qi nan "$TMP/n.out"; then fail "eval printed NaN for a missing class"; fi

# No DCASE names: exit 1 with a message that names the folder and the naming.
set +e
"$AUSCULT_BIN" eval --model "$MODEL" "$TMP/plain" >/dev/null 2>"$TMP/p.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "eval without DCASE names exited $rc"
grep -q "plain: no files named normal_id_XX_\*.wav or anomaly_id_XX_\*.wav" "$TMP/p.err" ||
	fail "no-DCASE-names message: $(cat "$TMP/p.err")"

# An unwritable SVG path is an error naming it.
set +e
"$AUSCULT_BIN" eval --model "$MODEL" --svg "$TMP/no/such/dir/r.svg" "$TMP/dev" >/dev/null 2>"$TMP/s.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "eval with an unwritable --svg exited $rc"
grep -q "no/such/dir/r.svg: cannot create the SVG report" "$TMP/s.err" || fail "SVG error: $(cat "$TMP/s.err")"

echo "score_eval: ok"
