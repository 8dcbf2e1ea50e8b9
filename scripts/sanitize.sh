#!/bin/sh
# Builds credgate with AddressSanitizer and UndefinedBehaviorSanitizer in build-asan (Debug), then
# runs the unit tests and the end-to-end tests against that build. Any sanitizer report fails the
# script:
# - every undefined-behaviour check is compiled without recovery, and ASan aborts at its first
#   report, so the process that hit it dies and its unit test fails with the report in its output;
# - during the end-to-end tests, which do not check how credgate exits when stopped, every report
#   (leaks found at exit included) also goes to a file in .test-output/sanitizer/, and the script
#   fails when that folder is not empty.
#
#   scripts/sanitize.sh            build, unit tests, end-to-end tests
#   scripts/sanitize.sh --no-e2e   build and unit tests only
#
# docs/security.md records how long the build and the tests take.
set -eu

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"
build_dir=${CREDGATE_ASAN_BUILD_DIR:-build-asan}

# Line tables (-g1) are all a sanitizer report needs for its file:line frames. With them and the
# compressed debug sections of CMakeLists.txt this build took 5.2 GB of disk instead of 7.1 GB.
# gdb then shows no local variables, so build with -g to inspect them.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
ninja -C "$build_dir"

# ASAN_OPTIONS and UBSAN_OPTIONS already set in the environment take precedence.
asan_options="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}"
ubsan_options="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS="$asan_options" UBSAN_OPTIONS="$ubsan_options"

echo "== PostgreSQL test server"
trap 'scripts/postgres.sh stop' EXIT
CREDGATE_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
export CREDGATE_TEST_POSTGRES_URL

echo "== unit tests ($build_dir)"
ctest --test-dir "$build_dir" -j2 --output-on-failure

if [ "${1:-}" = "--no-e2e" ]; then exit 0; fi

report_dir="$repo_root/.test-output/sanitizer"
rm -rf "$report_dir"
mkdir -p "$report_dir"
export ASAN_OPTIONS="$asan_options:log_path=$report_dir/asan"
export UBSAN_OPTIONS="$ubsan_options:log_path=$report_dir/ubsan"

echo "== end-to-end tests ($build_dir)"
status=0
CREDGATE_BIN="$repo_root/$build_dir/src/app/credgate" CREDGATE_E2E_REQUIRED=1 \
  node --test --test-concurrency=1 tests/e2e/ || status=$?

reports=$(find "$report_dir" -type f -size +0 | sort)
if [ -n "$reports" ]; then
  for report in $reports; do
    echo "== sanitizer report $report"
    cat "$report"
  done
  echo "sanitize.sh: the end-to-end tests produced sanitizer reports" >&2
  exit 1
fi
exit "$status"
