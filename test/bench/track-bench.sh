#!/usr/bin/env bash
# track-bench: 1M hits over 100k keys through the tracker and the SQLite
# store (hits/s persisted, peak RSS, database size), then a flood of 2M
# distinct addresses against the max_tracked_keys cap.
#   usage: test/bench/track-bench.sh [--build-dir DIR] [extra track_bench options]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build="$here/../../build"
if [ "${1:-}" = "--build-dir" ]; then build=$2; shift 2; fi
bench="$build/test/bench/track_bench"
[ -x "$bench" ] || { echo "track-bench: $bench not built (cmake --build $build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bench" --hits 1000000 --keys 100000 --db "$tmp/state.db" "$@"
echo
"$bench" --flood --hits 2000000 --max-keys 1000000 --db "$tmp/flood.db" "$@"
