#!/bin/sh
# Runs every test: installs what is missing, builds, runs the unit tests with CTest, then the
# end-to-end tests that start the real OpenID provider, backend, browser and credgate, then the
# Debian package test (build, install, start, purge; tests/package/), and last a scan of every
# output file of the run for the secret values the tests used. The unit tests of the PostgreSQL
# store and the cluster tests run against a throwaway server (scripts/postgres.sh) that this
# script starts first and stops when it exits. Then it runs the unit and end-to-end tests again
# under AddressSanitizer and UndefinedBehaviorSanitizer (scripts/sanitize.sh) and every fuzz
# target for 20 s (scripts/fuzz.sh). CREDGATE_QUICK=1 skips those two stages.
set -eu

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"

scripts/install-deps.sh

build_dir=${CREDGATE_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build_dir"

# Output of an earlier run would mix its logs and secrets into this run's scan.
rm -rf .test-output
mkdir -p .test-output

echo "== PostgreSQL test server"
trap 'scripts/postgres.sh stop' EXIT
CREDGATE_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
export CREDGATE_TEST_POSTGRES_URL

echo "== unit tests"
ctest --test-dir "$build_dir" --output-on-failure -j2

echo "== end-to-end tests"
# The data folders stay in .test-output/e2e, and the runner's report goes to a file, so that the
# secret scan reads them.
CREDGATE_BIN="$repo_root/$build_dir/src/app/credgate" CREDGATE_E2E_KEEP_OUTPUT=1 \
  node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination=.test-output/e2e-report.tap \
    tests/e2e/

echo "== Debian package"
tests/package/package_test.sh "$build_dir"

echo "== secrets in test output"
CREDGATE_BUILD_DIR="$build_dir" node --test tests/secrets/

if [ "${CREDGATE_QUICK:-0}" = 1 ]; then exit 0; fi
scripts/postgres.sh stop
trap - EXIT

echo "== sanitizers"
scripts/sanitize.sh

echo "== fuzz targets"
scripts/fuzz.sh 20
