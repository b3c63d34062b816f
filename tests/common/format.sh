#!/bin/sh
# Layout check: every C file under src/, tests/ and bench/ is as clang-format 14 lays it out with
# the repository's .clang-format. Prints the offending lines; `clang-format -i FILE` fixes a file.
set -eu
root="${AUSCULT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"

cf=""
for c in clang-format-14 clang-format; do
	if command -v "$c" >/dev/null 2>&1 && "$c" --version | grep -q 'version 14\.'; then
		cf="$c"
		break
	fi
done
if [ -z "$cf" ]; then
	. "$root/tests/lib/tools.sh"
	skip_without_tools clang-format-14:clang-format
fi

status=0
for f in $(find src tests bench -name '*.[ch]' | LC_ALL=C sort); do
	if ! "$cf" --dry-run --Werror "$f" 2>/dev/null; then
		echo "format: $f differs from .clang-format (fix: $cf -i $f):" >&2
		"$cf" "$f" | diff "$f" - | head -20 >&2 || true
		status=1
	fi
done
[ "$status" -eq 0 ] && echo "format: every checked file matches .clang-format"
exit "$status"
