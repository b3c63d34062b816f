#!/bin/sh
# install_layout.sh - `cmake --install BUILD --prefix P`: auscult and auscultd in P/bin, the unit
# in P/lib/systemd/system, the example config in P/etc/auscult, the shipped model and its README
# (the CC BY-SA 4.0 attribution) in P/share/auscult/models, the README in P/share/doc/auscult,
# the manual pages in P/share/man;
# every path the unit and the config name points into P, and the installed daemon accepts the
# installed config (its model found). Then a packager's `DESTDIR=S cmake --install --prefix /usr`:
# the config where the daemon looks by default (/etc/auscult), no path naming S.
. "$(dirname "$0")/lib/common.sh"
: "${AUSCULT_BUILD_DIR:?set by ctest}" "${AUSCULT_SOURCE_DIR:?set by ctest}"
CMAKE="${AUSCULT_CMAKE:-cmake}"

P="$WORK/prefix"
"$CMAKE" --install "$AUSCULT_BUILD_DIR" --prefix "$P" >"$WORK/install.log" 2>&1 \
	|| fail "cmake --install $AUSCULT_BUILD_DIR --prefix $P"
for f in bin/auscult bin/auscultd; do
	[ -x "$P/$f" ] || fail "no executable $P/$f"
done
for f in lib/systemd/system/auscultd.service etc/auscult/auscultd.yaml \
	share/auscult/models/pump_id00.am share/auscult/models/README.md share/doc/auscult/README.md \
	share/man/man1/auscult.1 share/man/man8/auscultd.8 share/man/man5/auscultd.yaml.5; do
	[ -s "$P/$f" ] || fail "cmake --install wrote no $P/$f"
done
cmp -s "$P/share/auscult/models/pump_id00.am" "$AUSCULT_SOURCE_DIR/models/pump_id00.am" \
	|| fail "the installed model differs from models/pump_id00.am"
grep -q 'CC BY-SA 4.0' "$P/share/auscult/models/README.md" \
	&& grep -q 'Creative Commons Attribution-ShareAlike 4.0' "$P/share/auscult/models/README.md" \
	|| fail "the installed models/README.md lacks the CC BY-SA 4.0 attribution"

# The config: the source's, but for the model, named by its installed path.
conf="$P/etc/auscult/auscultd.yaml"
model="$P/share/auscult/models/pump_id00.am"
grep -q "^    model: $model\$" "$conf" || fail "installed config: $(grep 'model:' "$conf")"
sed "s#^    model: .*#    model: $model#" "$AUSCULT_SOURCE_DIR/config/auscultd.yaml" \
	| diff - "$conf" >"$WORK/conf.diff" \
	|| fail "the installed config differs from the source's not only in the model path:
$(cat "$WORK/conf.diff")"
# Under a cross build the installed copy runs under the emulator (tests/CMakeLists.txt).
${AUSCULT_EMULATOR:-} "$P/bin/auscultd" --check-config --config "$conf" >"$WORK/check.log" 2>&1 \
	|| fail "installed auscultd --check-config: $(cat "$WORK/check.log")"
grep -q ': OK (1 monitor' "$WORK/check.log" || fail "check-config said: $(cat "$WORK/check.log")"

# The unit: the installed daemon and config, its documentation there; nothing of /usr/local.
unit="$P/lib/systemd/system/auscultd.service"
[ "$(sed -n 's/^ExecStart=//p' "$unit")" = "$P/bin/auscultd --config $conf" ] \
	|| fail "unit: $(grep '^ExecStart=' "$unit")"
[ "$(sed -n 's/^ExecStartPre=//p' "$unit")" = "$P/bin/auscultd --config $conf --check-config" ] \
	|| fail "unit: $(grep '^ExecStartPre=' "$unit")"
doc=$(sed -n 's#^Documentation=file://##p' "$unit")
[ -f "$doc" ] || fail "unit: Documentation=file://$doc, no such file"
! grep -n '/usr/local/\|/etc/auscult' "$unit" | grep -v "$P" >"$WORK/stale.txt" \
	|| fail "unit: paths outside the install: $(cat "$WORK/stale.txt")"

# A package build: staged under DESTDIR for the prefix /usr.
S="$WORK/stage"
DESTDIR="$S" "$CMAKE" --install "$AUSCULT_BUILD_DIR" --prefix /usr \
	>"$WORK/install-destdir.log" 2>&1 || fail "DESTDIR=$S cmake --install --prefix /usr"
[ -x "$S/usr/bin/auscultd" ] || fail "no $S/usr/bin/auscultd"
staged_unit="$S/usr/lib/systemd/system/auscultd.service"
[ -s "$staged_unit" ] || fail "no $staged_unit"
# /etc/auscult/auscultd.yaml is also the daemon's built-in default (auscultd --help).
"$AUSCULTD_BIN" --help | grep -q '/etc/auscult/auscultd.yaml' \
	|| fail "auscultd's default config moved"
[ "$(sed -n 's/^ExecStart=//p' "$staged_unit")" = \
	"/usr/bin/auscultd --config /etc/auscult/auscultd.yaml" ] \
	|| fail "staged unit: $(grep '^ExecStart=' "$staged_unit")"
grep -q '^    model: /usr/share/auscult/models/pump_id00.am$' "$S/etc/auscult/auscultd.yaml" \
	|| fail "staged config: $(grep 'model:' "$S/etc/auscult/auscultd.yaml")"
[ -s "$S/usr/share/auscult/models/pump_id00.am" ] || fail "no staged model"
! grep -rl "$S" "$S/etc" "$S/usr/lib/systemd" >"$WORK/leak.txt" \
	|| fail "files name the staging folder: $(cat "$WORK/leak.txt")"
echo "install_layout: prefix and DESTDIR installs complete and consistent, config checks: ok"
