# eval_setup.sh - what bench/eval_detector.sh and bench/eval_folds.sh share: the built tools, the recordings, a work folder. Sourced, not run.
# shellcheck shell=bash

# eval_require_tools BUILD TOOL...: exits 1, saying how to build them, when a tool is not built.
eval_require_tools() {
	local build=$1 tool
	shift
	for tool in "$@"; do
		if [ ! -x "$build/$tool" ]; then
			echo "$0: $build/$tool not found: build it first (cmake -S . -B build &&" \
				"cmake --build build -j2 --target $*)" >&2
			exit 1
		fi
	done
}

# eval_require_data FILE...: exits 1 when a recording the evaluation reads is missing.
eval_require_data() {
	local f
	for f in "$@"; do
		if [ ! -f "$f" ]; then
			echo "$0: $f not found: set AUSCULT_DATA to the dcase2020_id00 folder" >&2
			exit 1
		fi
	done
}

# eval_work_dir NAME KEEP: sets work to KEEP (created, and kept), or with KEEP empty to a new
# temporary folder named after NAME that is removed when the script exits.
eval_work_dir() {
	if [ -n "$2" ]; then
		work=$2
		mkdir -p "$work"
	else
		work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
		trap 'rm -rf "$work"' EXIT
	fi
}
