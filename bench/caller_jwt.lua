-- wrk script for bench/gateway_bench.sh. Sends every request with the header
-- "Authorization: Bearer $CALLER_JWT" and, when the run ends, prints one machine-readable line:
--   BENCH requests=N duration_us=N rps=F p50_us=N p99_us=N connect_errors=N read_errors=N
--         write_errors=N status_errors=N timeouts=N
-- status_errors counts responses with a status outside 200-399.

local caller_jwt = os.getenv("CALLER_JWT")
if caller_jwt == nil or caller_jwt == "" then
  io.stderr:write("caller_jwt.lua: CALLER_JWT is not set\n")
  os.exit(2)
end
wrk.headers["Authorization"] = "Bearer " .. caller_jwt

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d connect_errors=%d " ..
      "read_errors=%d write_errors=%d status_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), errors.connect, errors.read, errors.write,
    errors.status, errors.timeout))
end
