#!/usr/bin/env bash
# dovecot-corpus-test BANCTL VERSION -- ctest entry point of the real-Dovecot
# corpus test for Debian's Dovecot.
#
# 1. run-corpus writes a fresh corpus from four instances of Debian's
#    `dovecot` (it must be VERSION);
# 2. check-corpus checks BANCTL's shipped dovecot filter (modes normal and
#    aggressive) against it;
# 3. check-corpus checks the committed corpus test/data/dovecot-corpus/VERSION.
# Exits 77 (skipped) only when not root, when rsyslogd, unshare or logger is
# missing, or when Debian's dovecot is missing or another version.
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BANCTL VERSION" >&2; exit 2; }
banctl=$1
version=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
committed=$here/../../data/dovecot-corpus/$version
say() { printf 'dovecot-corpus-test: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, Dovecot daemons"
needs_tools dovecot rsyslogd unshare logger
executables "$banctl"
[ -d "$committed" ] || fail "no committed corpus $committed"
# "2.3.19.1 (9b53102964)": the test names the release, Debian the patch level too
have=$(dovecot --version 2>/dev/null | awk '{print $1}')
case "$have" in
  "$version" | "$version".*) ;;
  *) say "SKIP: $(command -v dovecot) is Dovecot ${have:-?}, not $version"; exit 77 ;;
esac

work_dir dovecot-corpus-test

failed=()
if "$here/run-corpus.sh" "$work/corpus"; then
  "$here/check-corpus.py" "$banctl" "$work/corpus" || failed+=("fresh corpus")
else
  failed+=("run-corpus.sh")
fi
"$here/check-corpus.py" "$banctl" "$committed" || failed+=("committed corpus $committed")

if [ ${#failed[@]} -gt 0 ]; then
  fail "Dovecot $version: ${failed[*]}"
fi
say "PASS Dovecot $version (fresh corpus and committed corpus)"
