#!/bin/sh
# Runs every test: installs what is missing, builds, runs the unit tests with CTest, then the
# end-to-end tests that start the real OpenID provider, backend, browser and credgate. The unit
# tests of the PostgreSQL store run against a throwaway server (scripts/postgres.sh) that this
# script starts first and stops when it exits.
set -eu

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"

scripts/install-deps.sh

build_dir=${CREDGATE_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build_dir"

echo "== PostgreSQL test server"
trap 'scripts/postgres.sh stop' EXIT
CREDGATE_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
export CREDGATE_TEST_POSTGRES_URL

echo "== unit tests"
ctest --test-dir "$build_dir" --output-on-failure -j2

echo "== end-to-end tests"
CREDGATE_BIN="$repo_root/$build_dir/src/app/credgate" \
  node --test --test-concurrency=1 tests/e2e/
