#!/usr/bin/env bash
# exim-corpus-test BANCTL VERSION -- ctest entry point of the real-Exim
# corpus test for one Exim version.
#
# 1. the Exim binary: Debian's `exim` for 4.96, else the build
#    test/system/exim-builds/build-exim.sh VERSION prints (cached; it builds
#    from ../shared/exim-src the first time);
# 2. run-corpus writes a fresh corpus from two real Exim daemons of it;
# 3. check-corpus checks BANCTL's shipped exim filter (modes normal and more)
#    against it;
# 4. check-corpus checks the committed corpus test/data/exim-corpus/VERSION.
# Exits 77 (skipped) only when not root, when swaks is missing, or for 4.96
# when Debian's exim is missing or another version; a build that fails is a
# failure.
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BANCTL VERSION" >&2; exit 2; }
banctl=$1
version=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
committed=$here/../../data/exim-corpus/$version
say() { printf 'exim-corpus-test: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, Exim daemons"
needs_tools swaks
executables "$banctl"
[ -d "$committed" ] || fail "no committed corpus $committed"

if [ "$version" = 4.96 ]; then
  needs_tools exim
  exim_bin=$(command -v exim)
  have=$(exim -C /dev/null -bV 2>/dev/null | sed -n 's/^Exim version \([0-9.]*\) .*/\1/p')
  [ "$have" = "$version" ] || { say "SKIP: $exim_bin is Exim ${have:-?}, not $version"; exit 77; }
else
  exim_bin=$("$here/../exim-builds/build-exim.sh" "$version") || fail "no Exim $version (build-exim.sh)"
fi

work_dir exim-corpus-test

failed=()
if "$here/run-corpus.sh" "$work/corpus" "$exim_bin"; then
  "$here/check-corpus.py" "$banctl" "$work/corpus" || failed+=("fresh corpus")
else
  failed+=("run-corpus.sh")
fi
"$here/check-corpus.py" "$banctl" "$committed" || failed+=("committed corpus $committed")

if [ ${#failed[@]} -gt 0 ]; then
  fail "Exim $version: ${failed[*]}"
fi
say "PASS Exim $version (fresh corpus and committed corpus)"
