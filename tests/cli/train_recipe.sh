#!/bin/sh
# train_recipe.sh - `auscult train --recipe`: the default, the baseline, the window head, and options overriding them.
set -eu

: "${AUSCULT_BIN:?}" "${AUSCULT_SHARED_DIR:?}"
DATA="$AUSCULT_SHARED_DIR/data/dcase2020_id00/train"
[ -f "$DATA/normal_id_00_00000001.wav" ] || { echo "SKIP: no $DATA" >&2; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/train_recipe.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# train NAME OPTIONS...: one epoch on two recordings into $TMP/NAME.am, its `info` in $TMP/NAME.txt.
train() {
	name=$1
	shift
	# A pinned creation date: the same options give the same bytes.
	SOURCE_DATE_EPOCH=1735689600 "$AUSCULT_BIN" train --quiet --threads 1 --epochs 1 \
		--out "$TMP/$name.am" "$@" \
		"$DATA/normal_id_00_00000000.wav" "$DATA/normal_id_00_00000001.wav" \
		>"$TMP/$name.out" 2>&1 || { cat "$TMP/$name.out" >&2; fail "$name: training failed"; }
	"$AUSCULT_BIN" info "$TMP/$name.am" >"$TMP/$name.txt"
}

# has NAME TEXT: the model's info shows TEXT.
has() {
	grep -qF -- "$2" "$TMP/$1.txt" || { cat "$TMP/$1.txt" >&2; fail "$1: info does not show '$2'"; }
}

# No --recipe: idnn16-spec-burst, the shipped model's recipe.
train default
has default "input frames:   [0, 1, 3, 4]"
has default "target frames:  [2]"
has default "standardise:    yes"
has default "band weights:   yes"
has default "aggregation:    mean of the largest 20%"
has default "architecture:   512-16-128 "
# Its window head scores each window's mean spectrum in 60 bands of 125 Hz, to 7.5 kHz as its
# short frames' 15 kept bands; its short frames keep 15 bands for the rise heads, whose bursts
# head makes the file version 8; every trained model keeps its training curve (one epoch here) too.
has default "format:         auscult model, version 8"
has default "training curve: 1 epoch; training loss first "
# Two recordings give each fold 16 windows: the head keeps 8 directions, not 32, and says so.
has default "window head:    spectrum of each window (its 1024-point frames' mean) in 60 bands of 8 bins (16-7500 Hz), the residual off the 8 principal directions"
grep -q "the spectrum head keeps 8 directions, not 32; longer recordings give it all" "$TMP/default.out" ||
	{ cat "$TMP/default.out" >&2; fail "no warning of the fewer directions"; }
has default "its short frames (64-point every 256 samples, 15 bands) feed the rise heads"
has default "rise heads:     envelope spectra of 15 bands, bins 4-61 of 128 (2.0-29.8 Hz at 62.5 Hz frames), 870 features; tonal peaks of 494 bins"
has default "impulse head:   envelope spectrum of the second difference's level over 128-sample blocks, bins 4-125 of 256 (2.0-61.0 Hz at 125 Hz blocks), 122 features"
has default "bursts head:    the crest (loudest frame over mean power, dB) of 247 bands of 2 bins (31.25 Hz) to 7.72 kHz over the window's frames, 247 features, its largest z; gate: 2 x (z - 2) above z 2, every evaluation (no median)"
has default ", bursts (score - "
train named --recipe idnn16-spec-burst
cmp -s "$TMP/default.am" "$TMP/named.am" || fail "--recipe idnn16-spec-burst differs from the default"
"$AUSCULT_BIN" info --json "$TMP/default.am" | grep -q '"dim":60,"kind":"spectrum",' ||
	fail "info --json does not show the spectrum head"
"$AUSCULT_BIN" info --json "$TMP/default.am" | grep -q '"burst_bins":494,"burst_band_bins":2,"burst_gate_z":2,"bursts":{"dim":247,' ||
	fail "info --json does not show the bursts head"
# idnn16-spec-rise: the default before, the same without the bursts head (version 7)
train spec_rise --recipe idnn16-spec-rise
has spec_rise "format:         auscult model, version 7"
grep -q "bursts" "$TMP/spec_rise.txt" && fail "idnn16-spec-rise has a bursts head"
# idnn16-fast-rise: the default before, the same with the band head (version 6: the impulse head)
train fast_rise --recipe idnn16-fast-rise
has fast_rise "format:         auscult model, version 6"
has fast_rise "window head:    band mean and spread of 15 of 16 linear bands (0-7500 Hz; 64-point frames every 256 samples)"
has fast_rise "rise heads:     envelope spectra of 15 bands, bins 4-61 of 128"
# idnn16-fast-stats: the default without the rise heads (version 4: the head keeps 15 bands)
train stats --recipe idnn16-fast-stats
has stats "format:         auscult model, version 4"
has stats "window head:    band mean and spread of 15 of 16 linear bands"
grep -q "rise heads" "$TMP/stats.txt" && fail "idnn16-fast-stats has rise heads"
# idnn16-fast: the same network without the head (version 3: the curve)
train fast_plain --recipe idnn16-fast
has fast_plain "format:         auscult model, version 3"
has fast_plain "aggregation:    mean of the largest 20%"
grep -q "window head" "$TMP/fast_plain.txt" && fail "idnn16-fast has a window head"
train fast_head --recipe idnn16-fast --window-head
cmp -s "$TMP/stats.am" "$TMP/fast_head.am" || fail "idnn16-fast --window-head differs from idnn16-fast-stats"
# --rise-heads on idnn16-fast-stats is idnn16-fast-rise; without a window head it is refused
train stats_rise --recipe idnn16-fast-stats --rise-heads
cmp -s "$TMP/fast_rise.am" "$TMP/stats_rise.am" || fail "idnn16-fast-stats --rise-heads differs from idnn16-fast-rise"
if "$AUSCULT_BIN" train --recipe idnn16-fast --rise-heads --out "$TMP/x.am" "$TMP/missing.wav" \
	2>"$TMP/err"; then
	fail "--rise-heads without a window head was accepted"
fi
grep -q -- "--rise-heads needs --window-head" "$TMP/err" || { cat "$TMP/err" >&2; fail "no message naming --rise-heads"; }

# idnn16-stats: the same network and a window head (version 4: it keeps 15 bands); the clip
# score is then the mean of the pipeline's 2-s windows, and the threshold fitted to those.
has default "features:       16000 Hz, n_fft 1024, hop 1024, "
train fast --recipe idnn16
has fast "features:       16000 Hz, n_fft 1024, hop 512, "
has fast "aggregation:    mean of the largest 10%"
has fast "architecture:   512-16-128 "
has fast "input frames:   [0, 1, 3, 4]"
train fast_hop --recipe idnn16-fast --hop-length 256
has fast_hop "features:       16000 Hz, n_fft 1024, hop 256, "
if "$AUSCULT_BIN" train --hop-length 2048 --out "$TMP/x.am" "$TMP/missing.wav" 2>"$TMP/err"; then
	fail "--hop-length 2048 (longer than a frame) was accepted"
fi
grep -q -- "--hop-length" "$TMP/err" || { cat "$TMP/err" >&2; fail "no message naming --hop-length"; }
# A hop the default recipe's window head cannot tile is refused before any training (it used to
# fail after every epoch, in the head's fit).
set +e
"$AUSCULT_BIN" train --hop-length 512 --out "$TMP/x.am" "$TMP/missing.wav" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "--hop-length 512 with the default recipe exited $rc, not 2"
grep -q -- "--hop-length 512: this recipe's window head takes a short frame every 256 samples" \
	"$TMP/err" || { cat "$TMP/err" >&2; fail "no message naming the head's hop"; }
train stats --recipe idnn16-stats
has stats "format:         auscult model, version 4"
has stats "architecture:   512-16-128 "
has stats "window head:    band mean and spread of 15 of 16 linear bands (0-7500 Hz; 256-point frames every 128 samples)"
has stats "window score:   autoencoder / "
train head --recipe idnn16 --window-head
cmp -s "$TMP/stats.am" "$TMP/head.am" || fail "--window-head differs from --recipe idnn16-stats"
"$AUSCULT_BIN" score --model "$TMP/stats.am" "$DATA/normal_id_00_00000002.wav" >"$TMP/score.txt" ||
	fail "a head model does not score"
awk -F '\t' '{ exit !($2 > 0 && $2 < 1000) }' "$TMP/score.txt" ||
	{ cat "$TMP/score.txt" >&2; fail "implausible head model score"; }
"$AUSCULT_BIN" info --json "$TMP/stats.am" | grep -q '"head":{"n_fft":256,"hop":128,"n_bands":16,"n_kept":15,"dim":30,"kind":"bands"' ||
	fail "info --json does not show the head"

train dcase2020 --recipe dcase2020
has dcase2020 "input frames:   [0, 1, 2, 3, 4]"
has dcase2020 "standardise:    no"
has dcase2020 "band weights:   no"
has dcase2020 "aggregation:    mean of all vector scores"
has dcase2020 "architecture:   640-128-128-128-128-8-128-128-128-128-640 "

# An option overrides the recipe's field wherever it stands; the rest of the recipe stays.
train before --hidden 8 --aggregate mean --recipe dcase2020
has before "architecture:   640-8-640 "
has before "standardise:    no"
train after --recipe idnn16 --hidden 8,4,8 --target-frames 1,2,3
has after "architecture:   512-8-4-8-384 "
has after "target frames:  [1, 2, 3]"
has after "aggregation:    mean of the largest 10%"
has after "band weights:   yes"
# The last --recipe wins.
train last --recipe idnn16 --recipe dcase2020
cmp -s "$TMP/dcase2020.am" "$TMP/last.am" || fail "the last --recipe does not win"

# A recording too short for a window (1 s, and cut short of what its header says) among the
# training recordings: the network trains on it, the head's threshold leaves it out, and each
# thing is said once, although the head replays the recordings several times.
CUT="$(cd "$(dirname "$0")/../fixtures/audio" && pwd)/cut_in_half.wav"
SOURCE_DATE_EPOCH=1735689600 "$AUSCULT_BIN" train --quiet --threads 1 --epochs 1 --out "$TMP/cut.am" \
	"$DATA/normal_id_00_00000000.wav" "$CUT" "$DATA/normal_id_00_00000001.wav" \
	>"$TMP/cut.out" 2>&1 || { cat "$TMP/cut.out" >&2; fail "a short recording stopped the training"; }
[ "$(grep -c 'cut_in_half.wav: truncated: ' "$TMP/cut.out")" -eq 1 ] ||
	{ cat "$TMP/cut.out" >&2; fail "the truncation is not said exactly once"; }
[ "$(grep -c "cut_in_half.wav: no whole 2-s window in it (too short): left out of the window head's threshold" "$TMP/cut.out")" -eq 1 ] ||
	{ cat "$TMP/cut.out" >&2; fail "the short recording's exclusion is not said exactly once"; }

# Recordings that give the spectrum head too few windows, or all of them from one recording (a
# silent second one): refused with what to do, not fitted on rounding or in-sample.
sox "$DATA/normal_id_00_00000000.wav" "$TMP/short1.wav" trim 0 2.5
sox "$DATA/normal_id_00_00000001.wav" "$TMP/short2.wav" trim 0 2.5
sox -n -r 16000 -c 1 -b 16 "$TMP/silent.wav" trim 0 10
for pair in "$TMP/short1.wav $TMP/short2.wav" "$DATA/normal_id_00_00000000.wav $TMP/silent.wav"; do
	set +e
	# shellcheck disable=SC2086 # two paths, split on purpose
	"$AUSCULT_BIN" train --quiet --threads 1 --epochs 1 --out "$TMP/few.am" $pair 2>"$TMP/err"
	rc=$?
	set -e
	[ "$rc" = 1 ] || fail "too few windows for the spectrum head: exit $rc, not 1"
	grep -q "^auscult train: window head: the 2 recordings gave [0-9]* windows\{0,1\} of 2 s that count (too short, or quieter than the gate's -70 dBFS), and holding the recordings out in turn (as the fit does) leaves as few as [0-7]; the spectrum head needs at least 8: train on more recordings, or longer ones, of the machine running$" "$TMP/err" ||
		{ cat "$TMP/err" >&2; fail "no clear message for too few windows"; }
	[ "$(grep -o "window head:" "$TMP/err" | wc -l)" -eq 1 ] ||
		{ cat "$TMP/err" >&2; fail "the message does not name the window head exactly once"; }
	[ ! -e "$TMP/few.am" ] || fail "a model was written from too few windows"
done
# refused WHAT MESSAGE TRAIN_ARGS...: `auscult train` exits 1 with exactly MESSAGE and writes no
# model.
refused() {
	what=$1 message=$2
	shift 2
	set +e
	"$AUSCULT_BIN" train --quiet --threads 1 --epochs 1 --out "$TMP/few.am" "$@" 2>"$TMP/err"
	rc=$?
	set -e
	[ "$rc" = 1 ] || fail "too few windows for $what: exit $rc, not 1"
	grep -qxF "$message" "$TMP/err" || { cat "$TMP/err" >&2; fail "no clear message for too few windows for $what"; }
	[ ! -e "$TMP/few.am" ] || fail "a model was written from too few windows for $what"
}
# ... and the band head of idnn16-fast-stats, whose fits hold each fold out in turn: 1 window
# is left.
refused "the band head" "auscult train: window head: 1 of the 2 recordings (those numbered 0 modulo 2 held out, as the fit does) gave 1 window of 2 s that count (too short, or quieter than the gate's -70 dBFS); the band head needs at least 2: train on more recordings, or longer ones, of the machine running" \
	--recipe idnn16-fast-stats "$TMP/short1.wav" "$TMP/short2.wav"
# Recordings that give the band head enough windows but the rise heads (evaluated once a
# second) too few once each is held out: the same, in the rise heads' terms, named once.
sox "$DATA/normal_id_00_00000000.wav" "$TMP/three1.wav" trim 0 3
sox "$DATA/normal_id_00_00000001.wav" "$TMP/three2.wav" trim 0 3
refused "the rise heads" "auscult train: rise heads: the 2 recordings gave 2 windows of 2 s that count (too short, or quieter than the gate's -70 dBFS), and holding the recordings out in turn (as the fit does) leaves as few as 1; the rise heads need at least 2: train on more recordings, or longer ones, of the machine running" \
	--recipe idnn16-fast-rise "$TMP/three1.wav" "$TMP/three2.wav"

# A name it does not know: the names it does, before anything is read.
if "$AUSCULT_BIN" train --recipe dcase --out "$TMP/x.am" "$TMP/missing.wav" 2>"$TMP/err"; then
	fail "--recipe dcase was accepted"
fi
grep -qxF 'auscult train: --recipe: unknown recipe "dcase"; the recipes are idnn16-spec-burst, idnn16-spec-rise, idnn16-fast-rise, idnn16-fast-stats, idnn16-fast, idnn16, idnn16-stats, dcase2020' \
	"$TMP/err" || { cat "$TMP/err" >&2; fail "no clear message for an unknown recipe"; }
"$AUSCULT_BIN" train --help | grep -q "idnn16-spec-burst  the default" || fail "--help does not name the default"
echo "ok"
