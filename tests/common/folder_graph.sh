#!/bin/sh
# Folder dependency check: every `#include "X/..."` under src/ is an edge from the including
# folder to X. Prints the graph, then fails on an include of a folder that is not below in the
# intended order, or on a cycle. The order (a folder may include only folders of a lower rank):
#   common < audio < features < model < train, detect < pipeline < publish, learn, evidence
#   < config < daemon < tools
# publish ranks below config so that the loader can fill publish's settings struct; publish
# itself uses common and detect (its payloads carry the detector's events) only.
set -eu
src="${AUSCULT_SOURCE_DIR:-$(dirname "$0")/../..}/src"
[ -d "$src" ] || { echo "folder_graph: no src/ at $src" >&2; exit 1; }

ranks="common 0
audio 1
features 2
model 3
train 4
detect 4
pipeline 5
publish 6
learn 6
evidence 6
config 7
daemon 8
tools 9"

folders=$(cd "$src" && for d in *; do [ -d "$d" ] && echo "$d"; done)

# "from to file:line", the first include of each pair of folders.
edges=$(cd "$src" && grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_0-9]*/' \
	-- */*.c */*.h 2>/dev/null |
	sed -n 's|^\([^/]*\)/\([^:]*\):\([0-9]*\):[^"]*"\([^/"]*\)/.*|\1 \4 \1/\2:\3|p' |
	awk '$1 != $2 && !seen[$1 " " $2]++')

echo "folder dependency graph of src/ (folder -> folders it includes):"
for from in $folders; do
	to=$(printf '%s\n' "$edges" | awk -v f="$from" '$1 == f { print $2 }' | sort | tr '\n' ' ')
	echo "  $from -> ${to:-(none)}"
done

status=0
for d in $folders; do
	if ! printf '%s\n' "$ranks" | awk -v d="$d" '$1 == d { f = 1 } END { exit !f }'; then
		echo "folder_graph: src/$d has no place in the order: add it to ranks in $0" >&2
		status=1
	fi
done

# Includes of a folder that is not below (one awk pass over ranks and edges).
bad=$( { printf '%s\n' "$ranks" | sed 's/^/R /'; printf '%s\n' "$edges" | sed 's/^/E /'; } |
	awk '$1 == "R" { r[$2] = $3; next }
	     $1 == "E" && ($2 in r) && ($3 in r) && r[$3] >= r[$2] {
		print "folder_graph: " $4 ": " $2 " includes " $3 ", which is not below it in the order"
	     }')
if [ -n "$bad" ]; then
	printf '%s\n' "$bad" >&2
	status=1
fi

# Cycles, whatever the ranks say: tsort names the folders of any loop.
loops=$(printf '%s\n' "$edges" | awk 'NF { print $1, $2 }' | tsort 2>&1 >/dev/null || true)
if [ -n "$loops" ]; then
	echo "folder_graph: the folders include each other in a cycle:" >&2
	printf '%s\n' "$loops" >&2
	status=1
fi
[ "$status" -eq 0 ] && echo "folder_graph: no cycle, no upward include"
exit "$status"
