#!/bin/sh
# Builds credgate with AddressSanitizer and UndefinedBehaviorSanitizer in build-asan (Debug), then
# runs the unit tests and the end-to-end tests against that build. A sanitizer report aborts the
# process that hit it, so the report appears in the failing test's output. The build takes about
# twice as long as a RelWithDebInfo one.
#
#   scripts/sanitize.sh            build, unit tests, end-to-end tests
#   scripts/sanitize.sh --no-e2e   build and unit tests only
set -eu

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"
build_dir=${CREDGATE_ASAN_BUILD_DIR:-build-asan}

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
ninja -C "$build_dir"

# ASAN_OPTIONS and UBSAN_OPTIONS already set in the environment take precedence.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "== PostgreSQL test server"
trap 'scripts/postgres.sh stop' EXIT
CREDGATE_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
export CREDGATE_TEST_POSTGRES_URL

echo "== unit tests ($build_dir)"
ctest --test-dir "$build_dir" -j2 --output-on-failure

if [ "${1:-}" = "--no-e2e" ]; then exit 0; fi
echo "== end-to-end tests ($build_dir)"
CREDGATE_BIN="$repo_root/$build_dir/src/app/credgate" CREDGATE_E2E_REQUIRED=1 \
  node --test --test-concurrency=1 tests/e2e/
