#!/bin/sh
# Builds the libFuzzer targets of fuzz/ with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# in their own build directory, then runs each target for a fixed time, starting from its seed
# corpus in fuzz/corpus/<name>. Fails when any target finds a crash, a leak, undefined behaviour,
# a timeout or an out-of-memory input.
#
#   scripts/fuzz.sh [seconds-per-target]     default 30
#
# Environment:
#   CREDGATE_FUZZ_BUILD_DIR   build directory (default build-fuzz)
#   CREDGATE_FUZZ_TARGETS     space-separated target names to run (default: all)
#   CMAKE_CXX_COMPILER_LAUNCHER, for example ccache, is passed to CMake as usual.
#
# Inputs that the run adds to the corpus go to <build dir>/fuzz-corpus/<name>, never into the
# checked-in seeds. A failing input is written to <build dir>/fuzz-artifacts/<name>/ and the
# script prints the command that replays it.
set -eu

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"

seconds=${1:-30}
build_dir=${CREDGATE_FUZZ_BUILD_DIR:-build-fuzz}
targets=${CREDGATE_FUZZ_TARGETS:-"policy_document expression liquid jwt jwks token_response management"}

case "$seconds" in
  ''|*[!0-9]*) echo "fuzz.sh: seconds-per-target must be a whole number, got '$seconds'" >&2
               exit 2 ;;
esac

CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCREDGATE_FUZZ=ON >/dev/null
ninja -C "$build_dir" fuzzers

# libFuzzer sets its own ASan defaults. These UBSan options add a stack trace to every report
# and stop at the first one, so that libFuzzer saves the input as a crash.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=""
for name in $targets; do
  binary="$build_dir/fuzz/${name}_fuzzer"
  seeds="fuzz/corpus/$name"
  corpus="$build_dir/fuzz-corpus/$name"
  artifacts="$build_dir/fuzz-artifacts/$name"
  log="$build_dir/fuzz-logs/$name.log"
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"

  dict=""
  if [ -f "fuzz/$name.dict" ]; then dict="-dict=fuzz/$name.dict"; fi

  echo "== fuzz $name (${seconds}s)"
  # -timeout: an input that runs longer than 10 s counts as a hang. -rss_limit_mb and
  # -malloc_limit_mb: an input that makes the process grow past 2 GB counts as a failure.
  # shellcheck disable=SC2086
  if "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" $dict \
       "$corpus" "$seeds" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb' "$log" |
      sed 's/^/   /'
  else
    echo "   FAILED: see $log"
    grep -E 'ERROR: |runtime error:|SUMMARY:|Test unit written' "$log" | head -n 10 | sed 's/^/   /'
    for artifact in "$artifacts"/*; do
      [ -e "$artifact" ] || continue
      echo "   replay: $binary $artifact"
    done
    failed="$failed $name"
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz.sh: failing targets:$failed" >&2
  exit 1
fi
echo "fuzz.sh: no failures in $(echo $targets | wc -w) targets"
