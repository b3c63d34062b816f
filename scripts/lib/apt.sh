# Sourced by the install scripts (POSIX sh).
#
# apt_update [RUNNER...]: `apt-get update`, run through RUNNER when given (sudo, a chroot).
# A Debian mirror in the middle of a sync serves an index whose size does not match its Release
# file ("File has unexpected size ... Mirror sync in progress?"), and apt-get update then fails
# as a whole although every other index, and usually every package we want, is fine; such a
# state can last hours and may concern an architecture we do not even install from. So: three
# tries, 10 then 20 s apart; then go on with the lists apt kept, saying which ones failed, and
# let the install that follows decide: it names any package it cannot find.
apt_update() {
  apt_update_log=$(mktemp "${TMPDIR:-/tmp}/apt-update.XXXXXX")
  apt_update_try=1
  while ! "$@" apt-get update -qq >"$apt_update_log" 2>&1; do
    if [ "$apt_update_try" -ge 3 ]; then
      echo "warning: apt-get update failed $apt_update_try times; going on with the package" \
        "lists apt has (the install below names anything it cannot find). apt said:" >&2
      grep -E '^(E|W):' "$apt_update_log" | head -n 10 >&2
      break
    fi
    sleep $((apt_update_try * 10))
    apt_update_try=$((apt_update_try + 1))
  done
  rm -f "$apt_update_log"
}
