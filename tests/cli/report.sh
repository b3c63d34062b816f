#!/bin/sh
# report.sh - `auscult report` over an evidence folder and over recordings, checked in a real
# headless Chromium: every image and recording on the page loads, a broken link is flagged, a
# trained model's curve is drawn, and screenshots of the pages are kept in the build folder.
set -eu

: "${AUSCULT_BIN:?}" "${AUSCULT_MAKE_EVIDENCE:?}" "${AUSCULT_SOURCE_DIR:?}" "${AUSCULT_SHARED_DIR:?}"
: "${AUSCULT_FIXTURES:?}" "${AUSCULT_BUILD_DIR:?}"
. "$AUSCULT_SOURCE_DIR/tests/lib/tools.sh"
require_tools chromium:chromium timeout:coreutils
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00"
DEMO="$AUSCULT_SOURCE_DIR/samples/demo_pump.wav"
MODEL="$AUSCULT_SOURCE_DIR/models/pump_id00.am"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/report.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[ -f "$DEMO" ] || "$AUSCULT_SOURCE_DIR/scripts/make-demo-sample" "$DEMO" >/dev/null ||
	fail "no demo sample and scripts/make-demo-sample could not make it"

# browse PAGE: loads the page in headless Chromium (virtual time lets every medium settle) and
# prints the counts the page's script puts on <body>: "LOADED ERRORS". Bounded by timeout(1).
browse() {
	timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$TMP/chromium" --virtual-time-budget=10000 \
		--dump-dom "file://$1" >"$TMP/dom.html" 2>"$TMP/chromium.err" ||
		fail "chromium could not load $1: $(tail -n 5 "$TMP/chromium.err")"
	body=$(grep -o '<body[^>]*>' "$TMP/dom.html" | head -n 1)
	loaded=$(printf '%s' "$body" | sed -n 's/.*data-media-loaded="\([0-9]*\)".*/\1/p')
	errors=$(printf '%s' "$body" | sed -n 's/.*data-media-errors="\([0-9]*\)".*/\1/p')
	[ -n "$loaded" ] && [ -n "$errors" ] ||
		fail "the page's script did not publish its counts (not all media settled?): $body"
	echo "$loaded $errors"
}

# --- an evidence folder as auscultd keeps it: three anomalies on two monitors ---------------------
EV="$TMP/evidence"
mkdir -p "$EV" "$TMP/site"
"$AUSCULT_MAKE_EVIDENCE" "$EV" pump1 "$DEMO" 1764921600000 31 48 >/dev/null
"$AUSCULT_MAKE_EVIDENCE" "$EV" pump1 "$DATA/train/normal_id_00_00000001.wav" 1764925200000 2 4 >/dev/null
"$AUSCULT_MAKE_EVIDENCE" "$EV" pump2 "$DATA/test/anomaly_id_00_00000000.wav" 1764922000000 2 10 >/dev/null
[ "$(ls "$EV"/pump1/*.flac "$EV"/pump2/*.flac | wc -l)" -eq 3 ] || fail "make_evidence wrote no FLAC"

PAGE="$TMP/site/report.html"
"$AUSCULT_BIN" report "$EV" --out "$PAGE" >"$TMP/out" 2>"$TMP/err" ||
	fail "report exited $? on a good folder: $(cat "$TMP/err")"
[ -s "$PAGE" ] || fail "no page written"
! grep -q 'https\?:' "$PAGE" || fail "the page references the network: $(grep -o 'https\?://[^"]*' "$PAGE" | head -n 3)"
# Newest first: pump1's 09:00 anomaly, pump2's 08:06, pump1's 08:00.
grep -o '<h2>[^<]*</h2>' "$PAGE" >"$TMP/order"
printf '%s\n' "<h2>2025-12-05 09:00:02 UTC — pump1</h2>" "<h2>2025-12-05 08:06:42 UTC — pump2</h2>" \
	"<h2>2025-12-05 08:00:31 UTC — pump1</h2>" >"$TMP/want"
cmp -s "$TMP/order" "$TMP/want" || fail "sections not newest first: $(cat "$TMP/order")"
# Media are linked relatively (the page is in site/, the evidence beside it).
grep -q 'src="../evidence/pump2/20251205T080642Z-pump2-1764922002000.flac"' "$PAGE" ||
	fail "the audio is not linked relatively: $(grep -o '<audio[^>]*>' "$PAGE" | head -n 1)"
# The page beside the evidence folder (in its parent) and inside it: links down, never "../".
"$AUSCULT_BIN" report "$EV" --out "$TMP/above.html" >/dev/null 2>&1 || fail "report in the parent folder"
grep -q 'src="evidence/pump2/20251205T080642Z-pump2-1764922002000.flac"' "$TMP/above.html" ||
	fail "a page above the evidence links: $(grep -o '<audio[^>]*>' "$TMP/above.html" | head -n 1)"
"$AUSCULT_BIN" report "$EV" --out "$EV/index.html" >/dev/null 2>&1 || fail "report in the folder"
grep -q 'src="pump2/20251205T080642Z-pump2-1764922002000.flac"' "$EV/index.html" ||
	fail "a page in the evidence folder links: $(grep -o '<audio[^>]*>' "$EV/index.html" | head -n 1)"
rm "$TMP/above.html" "$EV/index.html"
grep -q 'peak score</th><td>2</td>' "$PAGE" || fail "no peak score on the page"
grep -q 'mel 40 (935–982 Hz, 40%)' "$PAGE" || fail "no contributing bands on the page"
grep -q '<th>heard by</th><td class="parts">network 0.5, window head 0.25, rise heads 1.25 (tones 1 at 3141 Hz, impulses 0.25 at 6.84/s, envelope 0)</td>' "$PAGE" ||
	fail "no detector parts on the page"
[ "$(grep -c '<svg class="timeline"' "$PAGE")" -eq 3 ] ||
	fail "not one score timeline per anomaly"

set -- $(browse "$PAGE")
[ "$1" = 6 ] && [ "$2" = 0 ] || fail "Chromium: $1 media loaded and $2 failed, want 6 and 0"
timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
	--user-data-dir="$TMP/chromium" --virtual-time-budget=10000 --window-size=1280,1400 \
	--screenshot="$AUSCULT_BUILD_DIR/report-screenshot.png" "file://$PAGE" >/dev/null 2>&1 ||
	fail "chromium could not take the screenshot"
[ -s "$AUSCULT_BUILD_DIR/report-screenshot.png" ] || fail "no screenshot"
echo "report: screenshot in $AUSCULT_BUILD_DIR/report-screenshot.png"

# A recording and a spectrogram moved away: two errors, flagged on the page.
mv "$EV"/pump2/*.flac "$TMP/"
mv "$EV"/pump1/20251205T090002Z-*.png "$TMP/"
set -- $(browse "$PAGE")
[ "$1" = 4 ] && [ "$2" = 2 ] || fail "Chromium with two broken links: $1 loaded, $2 failed, want 4 and 2"
grep -q 'class="media-error">Cannot load ../evidence/pump2/' "$TMP/dom.html" ||
	fail "the broken recording is not marked on the page"
mv "$TMP"/*.flac "$EV/pump2/"
mv "$TMP"/*.png "$EV/pump1/"

# A record that cannot be read: listed with its error, the rest of the page intact, exit 1.
cp "$AUSCULT_FIXTURES/evidence/truncated.txt" "$EV/pump2/20251205T100000Z-pump2-1.txt"
set +e
"$AUSCULT_BIN" report "$EV" --out "$PAGE" >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a bad record: exit $rc, want 1"
grep -q "pump2/20251205T100000Z-pump2-1.txt:19: the record ends before 'window'" "$TMP/err" ||
	fail "stderr does not name the bad record and line: $(cat "$TMP/err")"
grep -q "20251205T100000Z-pump2-1.txt:19:" "$PAGE" || fail "the page does not list the bad record"
[ "$(grep -c '<section class="event"' "$PAGE")" -eq 3 ] || fail "a bad record cost the others"
set -- $(browse "$PAGE")
[ "$1" = 6 ] && [ "$2" = 0 ] || fail "Chromium with a bad record: $1 loaded, $2 failed"
rm "$EV/pump2/20251205T100000Z-pump2-1.txt"

# --- recordings scored with a model: clip score, the daemon's windows, embedded spectrograms ------
mkdir -p "$TMP/clips"
cp "$DEMO" "$TMP/clips/demo pump.wav" # a space: the link must be escaped
cp "$DATA/train/normal_id_00_00000002.wav" "$TMP/clips/"
CLIPS_PAGE="$TMP/site/clips.html"
# The model shipped before auscult kept training curves (format version 1), to show a page
# without one; the current shipped model keeps its curve.
"$AUSCULT_BIN" report --model "$AUSCULT_FIXTURES/model/pump_id00_v1.am" --out "$CLIPS_PAGE" "$TMP/clips" >"$TMP/out" 2>"$TMP/err" ||
	fail "report --model exited $?: $(cat "$TMP/err")"
grep -q 'src="../clips/demo%20pump.wav"' "$CLIPS_PAGE" || fail "the recording is not linked relatively"
[ "$(grep -c 'src="data:image/png;base64,' "$CLIPS_PAGE")" -eq 2 ] || fail "spectrograms not embedded"
! ls -A "$TMP/site" | grep -q '^\.auscult-report' || fail "temporary spectrograms left behind"
# The demo's fault is an anomaly (as `auscult score --windows` says); the normal clip is not.
"$AUSCULT_BIN" score --windows --model "$AUSCULT_FIXTURES/model/pump_id00_v1.am" "$TMP/clips/demo pump.wav" | grep -q '	start$' ||
	fail "score --windows finds no anomaly in the demo sample"
# With --json each window names the parts of its raw score, which sum to it, and its rise part by
# head, which sum to that: the shipped model has all three of each, and its fault's windows are
# the rise heads' and the network's.
"$AUSCULT_BIN" score --windows --json --model "$MODEL" "$DEMO" >"$TMP/windows.json"
awk '
/"raw":/ {
	n++
	raw = $0; sub(/.*"raw": /, "", raw); sub(/,.*/, "", raw)
	if ($0 !~ /"parts": \{"network": [-0-9.e]+, "window_head": [-0-9.e]+, "rise": [-0-9.e]+\}/) { bad++; next }
	p = $0; sub(/.*"parts": \{/, "", p); sub(/\}.*/, "", p)
	split(p, kv, ", "); s = 0; rise = 0
	for (i in kv) { split(kv[i], f, ": "); s += f[2]; if (f[1] == "\"rise\"") rise = f[2] }
	d = s - raw; if (d < 0) d = -d
	if (d > 1e-3 * (raw > 1 ? raw : 1)) bad++
	if (rise > top) top = rise
	# the rise part by head, summing to it
	if (!match($0, /"rise_heads": \{"envelope": [-0-9.e]+, "tones": [-0-9.e]+, "impulses": [-0-9.e]+, "bursts": [-0-9.e]+\}/)) { bad++; next }
	h = substr($0, RSTART, RLENGTH); sub(/^[^{]*\{/, "", h); sub(/\}$/, "", h)
	gsub(/"[a-z]+": /, "", h); split(h, hv, ", ")
	d = hv[1] + hv[2] + hv[3] + hv[4] - rise; if (d < 0) d = -d
	if (d > 1e-3 * (rise > 1 ? rise : 1)) bad++
}
END { exit !(n > 20 && bad == 0 && top > 5) }' "$TMP/windows.json" ||
	fail "score --windows --json: windows without parts summing to raw: $(head -c 600 "$TMP/windows.json")"
grep -A 6 'demo pump.wav</h2>' "$CLIPS_PAGE" | grep -q '<th>anomaly</th><td>[0-9.]* s</td>' ||
	fail "the demo's anomaly is not on the page"
grep -A 6 'normal_id_00_00000002.wav</h2>' "$CLIPS_PAGE" | grep -q '<th>anomaly</th><td>none</td>' ||
	fail "the normal clip shows an anomaly"
set -- $(browse "$CLIPS_PAGE")
[ "$1" = 4 ] && [ "$2" = 0 ] || fail "Chromium on the clips page: $1 loaded and $2 failed, want 4 and 0"
# That model was trained before the curve was kept: one line says so, no chart.
grep -q '<p class="curve-absent">no training curve recorded in pump_id00_v1.am</p>' "$CLIPS_PAGE" ||
	fail "no line saying the shipped model has no training curve"
! grep -q '<svg class="training-curve"' "$CLIPS_PAGE" || fail "a curve drawn for a model without one"

# --- a model trained here keeps its curve: the page draws it, one point per epoch per loss -------
"$AUSCULT_BIN" train --quiet --threads 1 --epochs 4 --out "$TMP/curve.am" \
	"$DATA/train/normal_id_00_00000000.wav" "$DATA/train/normal_id_00_00000001.wav" >/dev/null 2>"$TMP/err" ||
	fail "training a 4-epoch model failed: $(cat "$TMP/err")"
CURVE_PAGE="$TMP/site/curve.html"
"$AUSCULT_BIN" report --model "$TMP/curve.am" --out "$CURVE_PAGE" "$TMP/clips/normal_id_00_00000002.wav" \
	>/dev/null 2>"$TMP/err" || fail "report with a trained model exited $?: $(cat "$TMP/err")"
# points PAGE CLASS: the number of points of the curve's polyline of that class (one line each).
points() {
	sed -n "s/.*<polyline class=\"$2\"[^>]* points=\"\([^\"]*\)\".*/\1/p" "$1" | awk '{ print NF }'
}
[ "$(grep -c '<svg class="training-curve"' "$CURVE_PAGE")" -eq 1 ] || fail "no training curve chart"
[ "$(points "$CURVE_PAGE" train-loss)" = 4 ] ||
	fail "the training loss line has '$(points "$CURVE_PAGE" train-loss)' points, want 4 (the epochs)"
[ "$(points "$CURVE_PAGE" val-loss)" = 4 ] ||
	fail "the validation loss line has '$(points "$CURVE_PAGE" val-loss)' points, want 4"
grep -q '>epoch</text>' "$CURVE_PAGE" && grep -q '>loss (MSE)</text>' "$CURVE_PAGE" ||
	fail "the chart's axes are not labelled"
grep -q '>training loss</text>' "$CURVE_PAGE" && grep -q '>validation loss (best: epoch [1-4])</text>' "$CURVE_PAGE" ||
	fail "the chart has no legend"
grep -q 'class="summary">4 epochs; training loss first ' "$CURVE_PAGE" || fail "no curve summary on the page"
! grep -q 'curve-absent' "$CURVE_PAGE" || fail "a trained model's page says it has no curve"
set -- $(browse "$CURVE_PAGE")
[ "$1" = 2 ] && [ "$2" = 0 ] || fail "Chromium on the curve page: $1 loaded and $2 failed, want 2 and 0"
grep -q '<svg class="training-curve"' "$TMP/dom.html" || fail "Chromium's DOM has no curve chart"
timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
	--user-data-dir="$TMP/chromium" --virtual-time-budget=10000 --window-size=1280,900 \
	--screenshot="$AUSCULT_BUILD_DIR/report-curve-screenshot.png" "file://$CURVE_PAGE" >/dev/null 2>&1 ||
	fail "chromium could not take the curve screenshot"

# --- bad input: the file and the fix named, exit codes as the other commands --------------------
set +e
"$AUSCULT_BIN" report "$TMP/no-such-folder" --out "$TMP/x.html" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a missing folder: exit $rc, want 1"
grep -q "no-such-folder: cannot read the folder: No such file or directory; expected an evidence folder" "$TMP/err" ||
	fail "a missing folder: $(cat "$TMP/err")"
set +e
"$AUSCULT_BIN" report "$EV" --out "$TMP/no/such/dir/x.html" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "no/such/dir/x.html: cannot use the folder" "$TMP/err" ||
	fail "an unwritable page: exit $rc: $(cat "$TMP/err")"
set +e
"$AUSCULT_BIN" report "$EV" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "auscult report: --out PAGE.html is required" "$TMP/err" ||
	fail "no --out: exit $rc: $(cat "$TMP/err")"
set +e
"$AUSCULT_BIN" report --model "$MODEL" --out "$TMP/x.html" "$TMP/clips" "$AUSCULT_FIXTURES/eval/not_audio.wav" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "not_audio.wav" "$TMP/err" && grep -q "not_audio.wav" "$TMP/x.html" ||
	fail "a bad recording: exit $rc: $(cat "$TMP/err")"
echo "report: ok"
