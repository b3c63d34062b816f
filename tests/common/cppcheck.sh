#!/bin/sh
# Static analysis: cppcheck over src/ must report nothing. Classes checked: errors, warnings,
# performance and portability. A finding is fixed, or suppressed on its line with
# `// cppcheck-suppress ID` and a comment saying why it is wrong there.
# The style class is left out: on this tree it gives value-flow guesses ("condition always
# false" on loop bounds that vary at run time) and taste (variable scope), not defects.
set -eu
root="${AUSCULT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
. "$root/tests/lib/tools.sh"
skip_without_tools cppcheck:cppcheck
out=$(cppcheck -q --std=c11 --enable=warning,performance,portability --inline-suppr \
	-I src -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DAUSCULT_VERSION='"test"' \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' src 2>&1) || true
if [ -n "$out" ]; then
	printf '%s\n' "$out" >&2
	echo "cppcheck: $(printf '%s\n' "$out" | grep -c ': \(error\|warning\|performance\|portability\):') finding(s) in src/" >&2
	exit 1
fi
echo "cppcheck: no findings in src/"
