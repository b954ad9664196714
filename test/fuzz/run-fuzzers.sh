#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-DEXIM_BAN_FUZZ=ON: ASan, UBSan
# and coverage in every library they link) and runs each for a while on a
# corpus seeded from the project's own data. Every input that once crashed
# a target (regressions/TARGET/) is run first. Fails on any crash, leak,
# timeout or broken invariant; the input is kept in BUILD/fuzz-artifacts/.
#   usage: test/fuzz/run-fuzzers.sh [--seconds N] [--build-dir DIR] [TARGET...]
# The test command runs each target 15 s; for a long run, e.g. an hour each:
#   test/fuzz/run-fuzzers.sh --seconds 3600
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=15
build=build-fuzz
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    -*) echo "usage: $0 [--seconds N] [--build-dir DIR] [TARGET...]" >&2; exit 2 ;;
    *) break ;;
  esac
done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(line_matcher filter_loader config_loader parsers control_request)

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEXIM_BAN_TESTS=OFF -DEXIM_BAN_FUZZ=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

# Seeds: one input per file. Lines of real and annotated logs for the
# matcher and the parsers, the shipped and fail2ban's filters, configs, and
# requests of the control protocol.
seed() { # target, then files whose lines become inputs (at most 400 each)
  local dir=$work/corpus/$1; shift
  mkdir -p "$dir"
  local n=0 file line
  for file in "$@"; do
    while IFS= read -r line && [ $n -lt 400 ]; do
      printf '%s' "$line" > "$dir/seed-$((n += 1))"
    done < "$file"
  done
}
seed_files() { # target, then whole files as inputs (names may repeat)
  local dir=$work/corpus/$1; shift
  mkdir -p "$dir"
  local n=0 file
  for file in "$@"; do
    cp "$file" "$dir/$((n += 1))-$(basename "$file")"
  done
}

work=$build/fuzz-work
rm -rf "$work"
mkdir -p "$work" "$build/fuzz-artifacts"
seed line_matcher test/data/exim-corpus/4.96/mainlog-A test/data/fail2ban/logs/exim test/data/fail2ban/logs/exim-spam
seed parsers test/data/exim-corpus/4.96/mainlog-B test/fuzz/seeds/parsers.txt
seed control_request test/fuzz/seeds/control_requests.txt
seed_files filter_loader filters/*.conf test/data/fail2ban/filter.d/*.conf
seed_files config_loader test/fuzz/seeds/*.conf

status=0
for target in "${targets[@]}"; do
  binary=$build/test/fuzz/${target}_fuzz
  if [ -d "test/fuzz/regressions/$target" ]; then
    "$binary" test/fuzz/regressions/"$target"/* >"$work/$target.regressions.log" 2>&1 || {
      echo "run-fuzzers: $target: a regression input fails again:"; tail -20 "$work/$target.regressions.log"; status=1; }
  fi
  if "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$build/fuzz-artifacts/$target-" "$work/corpus/$target" \
       >"$work/$target.log" 2>&1; then
    echo "run-fuzzers: $target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$work/$target.log"), corpus $(ls "$work/corpus/$target" | wc -l) inputs, no crash"
  else
    echo "run-fuzzers: $target: FAILED; the input is in $build/fuzz-artifacts/ (add it to test/fuzz/regressions/$target/ with a unit test once fixed):"
    grep -E 'ERROR|SUMMARY|what\(\)|#[0-9]+ 0x.* in exim_ban' "$work/$target.log" | head -20
    status=1
  fi
done
exit $status
