#!/usr/bin/env bash
# exim-corpus-test BANCTL -- ctest entry point of the real-Exim corpus test.
#
# 1. run-corpus writes a fresh corpus from two real Exim daemons;
# 2. check-corpus checks BANCTL's shipped exim filter (modes normal and more)
#    against it;
# 3. check-corpus checks the committed corpus in test/data/exim-corpus too.
# Exits 77 (skipped) only when not root or when exim or swaks is missing.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BANCTL" >&2; exit 2; }
banctl=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
committed=$(cd "$here/../../data/exim-corpus" && pwd)
say() { printf 'exim-corpus-test: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, Exim daemons"
needs_tools exim swaks
executables "$banctl"

work_dir exim-corpus-test

failed=()
if "$here/run-corpus.sh" "$work/corpus"; then
  "$here/check-corpus.py" "$banctl" "$work/corpus" || failed+=("fresh corpus")
else
  failed+=("run-corpus.sh")
fi
"$here/check-corpus.py" "$banctl" "$committed" || failed+=("committed corpus $committed")

if [ ${#failed[@]} -gt 0 ]; then
  fail "${failed[*]}"
fi
say "PASS (fresh corpus and committed corpus)"
