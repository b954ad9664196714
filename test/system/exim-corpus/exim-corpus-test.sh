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

if [ "$(id -u)" -ne 0 ]; then
  echo "exim-corpus-test: SKIP: needs root (network namespaces, Exim daemons)"
  exit 77
fi
for tool in exim swaks; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "exim-corpus-test: SKIP: $tool is not installed (packaging/install-deps installs it)"
    exit 77
  fi
done
[ -x "$banctl" ] || { echo "exim-corpus-test: FAIL: $banctl is not an executable" >&2; exit 1; }

tmp=$(mktemp -d /tmp/exim-corpus-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failed=()
if "$here/run-corpus.sh" "$tmp/corpus"; then
  "$here/check-corpus.py" "$banctl" "$tmp/corpus" || failed+=("fresh corpus")
else
  failed+=("run-corpus.sh")
fi
"$here/check-corpus.py" "$banctl" "$committed" || failed+=("committed corpus $committed")

if [ ${#failed[@]} -gt 0 ]; then
  echo "exim-corpus-test: FAIL: ${failed[*]}" >&2
  exit 1
fi
echo "exim-corpus-test: PASS (fresh corpus and committed corpus)"
