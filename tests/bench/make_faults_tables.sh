#!/bin/sh
# make_faults_tables.sh - bench/make_faults' AUC table, its ceiling over candidates and its paired comparison, on score files whose AUCs are known.
set -eu

: "${AUSCULT_BUILD_DIR:?}"
MAKE_FAULTS="$AUSCULT_BUILD_DIR/make_faults"
[ -x "$MAKE_FAULTS" ] || { echo "SKIP: $MAKE_FAULTS not built" >&2; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/make_faults_tables.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# Under a cross build's emulator (scripts/test-cross), the program runs through it.
make_faults() {
	# shellcheck disable=SC2086 # the emulator's command line is words
	${AUSCULT_EMULATOR:-} "$MAKE_FAULTS" "$@"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Candidate A hears only harmonics (its faults score above every normal, the others below);
# B only bearing; N nothing; W harmonics, bearing and whine. 20 normals, one fault per family and
# level, each made from a different one of them.
families="harmonics bearing knock hiss whine rub cavitation"
write() { # heard families (space-separated) > file
	i=1
	while [ $i -le 20 ]; do
		printf 'clips/normal_id_00_%08d.wav\t%d\n' "$i" "$i"
		i=$((i + 1))
	done
	src=0
	for f in $families; do
		for l in l1 l2 l3; do
			score=0
			case " $1 " in *" $f "*) score=100 ;; esac
			printf 'clips/fault_%s_%s_normal_id_00_%08d.wav\t%d\n' "$f" "$l" \
				$((src % 20 + 1)) "$score"
			src=$((src + 1))
		done
	done
}
write harmonics >"$TMP/A.tsv"
write bearing >"$TMP/B.tsv"
write "" >"$TMP/N.tsv"
write "harmonics bearing whine" >"$TMP/W.tsv"

make_faults report --name A "$TMP/A.tsv" >"$TMP/report.out"
grep -q '^  harmonics   tune/stat  1.000 1.000 1.000 1.000' "$TMP/report.out" ||
	fail "report: harmonics should rank 1.000 at every level: $(cat "$TMP/report.out")"
grep -q '^  bearing     tune/stat  0.000 0.000 0.000 0.000' "$TMP/report.out" ||
	fail "report: bearing should rank 0.000: $(cat "$TMP/report.out")"
grep -q '^summary	A	0.143	' "$TMP/report.out" ||
	fail "report: overall AUC should be 1/7: $(cat "$TMP/report.out")"

# The ceiling takes each family's best: harmonics from A, bearing from B, so 2/7 overall,
# where either candidate alone ranks 1/7.
make_faults ceiling "$TMP/A.tsv" "$TMP/B.tsv" >"$TMP/ceiling.out"
grep -q '^ceiling over 2 candidates' "$TMP/ceiling.out" || fail "ceiling: header: $(cat "$TMP/ceiling.out")"
grep -q '^  harmonics   stationary 1.000 1.000 1.000 1.000   1.000 A$' "$TMP/ceiling.out" ||
	fail "ceiling: harmonics from A: $(cat "$TMP/ceiling.out")"
grep -q '^  bearing     stationary 1.000 1.000 1.000 1.000   1.000 B$' "$TMP/ceiling.out" ||
	fail "ceiling: bearing from B: $(cat "$TMP/ceiling.out")"
grep -q '^  OVERALL     pooled     0.286 0.286 0.286 0.286   the best single candidate overall: 0.143 A$' \
	"$TMP/ceiling.out" || fail "ceiling: pooled rows: $(cat "$TMP/ceiling.out")"
grep -q '^ceiling	0.286	0.286$' "$TMP/ceiling.out" || fail "ceiling: summary line: $(cat "$TMP/ceiling.out")"

# Files of different runs (other clips) are refused, naming the file; so is a malformed line.
grep -v 'fault_rub_l3' "$TMP/B.tsv" >"$TMP/C.tsv"
if make_faults ceiling "$TMP/A.tsv" "$TMP/C.tsv" >/dev/null 2>"$TMP/err"; then
	fail "ceiling accepted files of different clips"
fi
grep -q "C.tsv: scores other clips than .*A.tsv" "$TMP/err" || fail "ceiling: message: $(cat "$TMP/err")"
printf 'clips/normal_id_00_00000001.wav 3\n' >"$TMP/bad.tsv"
if make_faults ceiling "$TMP/bad.tsv" >/dev/null 2>"$TMP/err"; then
	fail "ceiling accepted a line without a tab"
fi
grep -q "bad.tsv:1: expected path<TAB>score" "$TMP/err" || fail "ceiling: message: $(cat "$TMP/err")"
# The comparison: a candidate against itself differs by nothing; one that hears three families
# more than another ranks 3/7 higher overall, an interval above zero over the source draws.
make_faults compare "$TMP/A.tsv" "$TMP/A.tsv" >"$TMP/same.out"
grep -q '^  overall                0.143   0.143  +0.000   +0.000 .. +0.000  (not a difference)$' \
	"$TMP/same.out" || fail "compare: a candidate with itself: $(cat "$TMP/same.out")"
make_faults compare "$TMP/W.tsv" "$TMP/N.tsv" >"$TMP/diff.out"
grep -q '^  overall                0.429   0.000  +0.429   +0.[0-9]* .. +0.[0-9]*$' "$TMP/diff.out" ||
	fail "compare: three families heard against none: $(cat "$TMP/diff.out")"
grep -q '^  report families        0.250   0.000  +0.250 ' "$TMP/diff.out" ||
	fail "compare: the report families (whine, one of four): $(cat "$TMP/diff.out")"
if make_faults compare "$TMP/A.tsv" "$TMP/C.tsv" >/dev/null 2>"$TMP/err"; then
	fail "compare accepted files of different clips"
fi
grep -q "score 41 and 40 clips: give files of one bench run" "$TMP/err" ||
	fail "compare: message: $(cat "$TMP/err")"
echo "make_faults report, ceiling and compare: ok"
