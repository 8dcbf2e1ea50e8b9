#!/usr/bin/env bash
# Smoke test of the benchmark's own tools, without credgate and without timing assertions:
# tcp_relay relays HTTP to a static nginx, open_loop gets every intended response back through
# it, wrk with bench/callers.lua sends each token of a file once and stops, and bench/report.mjs
# turns those runs into a figures section with target checks. Takes about 8 s, most of it
# the wrk run, which lasts its whole -d even after the tokens run out.
#
#   bench/smoke_test.sh TOOLS_DIR     # TOOLS_DIR holds tcp_relay and open_loop (build/bench)
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"
tools_dir=$(realpath "${1:?usage: bench/smoke_test.sh TOOLS_DIR}")

fail() {
  printf 'smoke_test: %s\n' "$*" >&2
  exit 1
}
for tool in nginx wrk node curl timeout; do
  command -v "$tool" >/dev/null || fail "$tool not found: run scripts/install-deps.sh"
done

work_dir=$(mktemp -d /tmp/credgate-bench-smoke.XXXXXX)
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((status == 0)); then rm -rf "$work_dir"; else printf 'smoke_test: logs are in %s\n' "$work_dir" >&2; fi
}
trap cleanup EXIT
# shellcheck source=bench/bench_lib.sh
source bench/bench_lib.sh

mapfile -t ports < <(free_ports 2)
upstream_port=${ports[0]} relay_port=${ports[1]}
start_nginx nginx-upstream "$upstream_port"
start relay "$tools_dir/tcp_relay" --listen "127.0.0.1:$relay_port" --upstream "127.0.0.1:$upstream_port"
wait_for_log relay 'tcp_relay ready'
wait_for_http nginx-upstream "http://127.0.0.1:$upstream_port/"
relay_url="http://127.0.0.1:$relay_port/whoami"

body=$(curl -sS --max-time 5 "$relay_url")
[[ $body == *'"upstream":"static"'* ]] || fail "the relay returned an unexpected body: $body"

for i in $(seq 1 300); do printf 'header.payload-%d.signature\n' "$i"; done >"$work_dir/tokens"

open_line=$(timeout 60 "$tools_dir/open_loop" --url "$relay_url" --rate 500 --duration 1 \
  --connections 8 --token-file "$work_dir/tokens" --drain-timeout 20)
[[ $(bench_value "$open_line" intended) == 500 ]] || fail "open_loop intended != 500: $open_line"
[[ $(bench_value "$open_line" completed) == 500 ]] || fail "open_loop completed != 500: $open_line"
[[ $(bench_value "$open_line" errors) == 0 ]] || fail "open_loop reported errors: $open_line"
[[ $(bench_value "$open_line" timeouts) == 0 ]] || fail "open_loop reported timeouts: $open_line"

wrk_line=$(TOKEN_FILE="$work_dir/tokens" TOKEN_COUNT=300 TOKEN_ORDER=sequential WRK_THREADS=1 \
  timeout 60 wrk -t1 -c4 -d5s --timeout 5s -s bench/callers.lua "$relay_url" | grep '^BENCH ') ||
  fail "wrk printed no BENCH line"
[[ $(bench_value "$wrk_line" exhausted) == 1 ]] || fail "wrk did not stop after the last token: $wrk_line"
# wrk counts only responses that arrived before the thread stopped, and the last few requests
# may repeat the last token, so the count is checked as a range.
requests=$(bench_value "$wrk_line" requests)
((requests >= 290 && requests <= 304)) || fail "wrk sent $requests requests for 300 tokens: $wrk_line"

{
  for target in direct relay nginx haproxy cg-pass cg-jwt cg-full; do
    printf '{"kind":"wrk","round":1,"target":"%s","scenario":"one:RS256:16","rps":%s,"p50_us":100,"p99_us":900,"p999_us":1000,"cpu_us":10,"exhausted":0}\n' \
      "$target" "$(bench_value "$wrk_line" rps)"
    printf '{"kind":"open","round":1,"target":"%s","percent":25,"rate":500,"achieved_rate":500,"p50_us":%s,"p99_us":%s,"p999_us":%s,"cpu_us":10,"errors":0,"timeouts":0}\n' \
      "$target" "$(bench_value "$open_line" p50_us)" "$(bench_value "$open_line" p99_us)" \
      "$(bench_value "$open_line" p999_us)"
  done
} >"$work_dir/results.jsonl"
printf '{"date":"now","checkout":"smoke","cpus":"2","quick":"1","relay_peak":"2000","jwt_mode":"validate-jwt","callers":"10000","distinct_tokens":"300","load_quiet":"1","rss_before_kb":"1024","rss_after_kb":"1024","hwm_kb":"1024"}\n' \
  >"$work_dir/meta.json"
node bench/report.mjs --results "$work_dir/results.jsonl" --meta "$work_dir/meta.json" \
  >"$work_dir/section.md" 2>"$work_dir/checks.txt"
grep -q '^| cg-full | ' "$work_dir/section.md" || fail "the report has no cg-full row"
# Every target has the same figures here, so the 1.0x nginx and 0.8x relay targets are met and
# the 1.5x HAProxy target is missed.
grep -q '^- met: cg-full >= 1.0x nginx' "$work_dir/checks.txt" || fail "missing check line: $(cat "$work_dir/checks.txt")"
grep -q '^- missed: cg-full >= 1.5x haproxy' "$work_dir/checks.txt" || fail "missing check line: $(cat "$work_dir/checks.txt")"
grep -q '^- met: cg-pass >= 0.8x relay' "$work_dir/checks.txt" || fail "missing check line: $(cat "$work_dir/checks.txt")"
echo "smoke_test: passed"
