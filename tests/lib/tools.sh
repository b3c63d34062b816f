# tools.sh - the external tools a shell test needs, checked before it starts, so that a missing one
# fails by its name instead of as "not found" hidden in 2>/dev/null or a skip nobody reads.
# Sourced (POSIX sh) by the shell tests and their helpers; each TOOL:PACKAGE names the command
# (or an absolute path) and the Debian package that scripts/install-deps installs it from.

# missing_tools TOOL:PACKAGE...: prints "TOOL (Debian package PACKAGE)" for each one absent.
missing_tools() {
	for _mt in "$@"; do
		command -v "${_mt%%:*}" >/dev/null 2>&1 || printf ' %s (Debian package %s)' "${_mt%%:*}" "${_mt#*:}"
	done
}

# require_tools TOOL:PACKAGE...: exits 1 naming every missing tool.
require_tools() {
	_rt=$(missing_tools "$@")
	[ -z "$_rt" ] && return 0
	echo "FAIL: missing tool(s):$_rt; run scripts/install-deps" >&2
	exit 1
}

# skip_without_tools TOOL:PACKAGE...: exits 77 (ctest's skip) naming every missing tool, but
# exits 1 under CI=true: there a skip would hide a missing install step.
skip_without_tools() {
	_rt=$(missing_tools "$@")
	[ -z "$_rt" ] && return 0
	if [ "${CI:-}" = true ]; then
		echo "FAIL: missing tool(s):$_rt; CI must install them (scripts/install-deps)" >&2
		exit 1
	fi
	echo "SKIP: missing tool(s):$_rt; run scripts/install-deps" >&2
	exit 77
}
