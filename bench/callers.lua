-- wrk script of bench/gateway_bench.sh: sends every request with "Authorization: Bearer <JWT>",
-- the JWT taken from a file of tokens (bench/callers.mjs writes them), and prints one
-- machine-readable line when the run ends:
--   BENCH requests=N duration_us=N rps=F p50_us=N p99_us=N p999_us=N connect_errors=N
--         read_errors=N write_errors=N status_errors=N timeouts=N exhausted=0|1
-- status_errors counts responses with a status outside 200-399.
--
-- Environment:
--   TOKEN_FILE   the token file, one JWT a line
--   TOKEN_COUNT  how many of its first lines to use
--   TOKEN_ORDER  "random": each request draws one of them uniformly at random;
--                "sequential": each request takes the next one, so no token is sent twice.
--                When a sequential thread has sent its last token it stops early
--                (exhausted=1), and requests/s is then computed here from the time of the
--                thread's first request to its last response, because wrk's own duration is
--                always the full -d.
-- With several wrk threads, each sequential thread takes its own slice of the tokens.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])
local kClockMonotonic = 1
local timespec = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(kClockMonotonic, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + tonumber(timespec.tv_nsec) / 1000
end

local token_file = os.getenv("TOKEN_FILE")
local token_count = tonumber(os.getenv("TOKEN_COUNT") or "")
local token_order = os.getenv("TOKEN_ORDER") or "random"
if token_file == nil or token_count == nil or token_count < 1 then
  io.stderr:write("callers.lua: set TOKEN_FILE and TOKEN_COUNT (>= 1)\n")
  os.exit(2)
end
if token_order ~= "random" and token_order ~= "sequential" then
  io.stderr:write("callers.lua: TOKEN_ORDER must be random or sequential\n")
  os.exit(2)
end

-- Main thread: numbers the threads, so that each sequential thread takes its own slice.
local threads = {}
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
  table.insert(threads, thread)
end

-- Worker threads.
local requests = {}
local next_index = 1
local first_request_us = nil
exhausted = 0
elapsed_us = 0
responses = 0

function init(args)
  local number = thread_number or 1
  local total = tonumber(os.getenv("WRK_THREADS") or "1")
  local first, last = 1, token_count
  if token_order == "sequential" and total > 1 then
    local share = math.floor(token_count / total)
    first = (number - 1) * share + 1
    last = number * share
  end
  local line_number = 0
  for line in io.lines(token_file) do
    line_number = line_number + 1
    if line_number > last then break end
    if line_number >= first then
      requests[#requests + 1] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. line })
    end
  end
  if #requests == 0 then
    io.stderr:write("callers.lua: no tokens read from " .. token_file .. "\n")
    os.exit(2)
  end
  math.randomseed(number * 7919 + os.time())
end

function request()
  if token_order == "random" then
    return requests[math.random(#requests)]
  end
  if first_request_us == nil then first_request_us = now_us() end
  local index = next_index
  if index >= #requests then
    index = #requests
    if exhausted == 0 then
      exhausted = 1
      wrk.thread:stop()
    end
  end
  next_index = next_index + 1
  return requests[index]
end

-- Defined only for sequential runs, because wrk passes every response's headers and body to
-- Lua once a script defines response().
if token_order == "sequential" then
  function response(status, headers, body)
    responses = responses + 1
    elapsed_us = now_us() - first_request_us
  end
end

function done(summary, latency, requests_total)
  local errors = summary.errors
  local rps = summary.requests / (summary.duration / 1e6)
  local any_exhausted = 0
  local lua_responses, lua_elapsed = 0, 0
  for _, thread in ipairs(threads) do
    if thread:get("exhausted") == 1 then any_exhausted = 1 end
    lua_responses = lua_responses + thread:get("responses")
    lua_elapsed = math.max(lua_elapsed, thread:get("elapsed_us"))
  end
  if any_exhausted == 1 and lua_elapsed > 0 then
    rps = lua_responses / (lua_elapsed / 1e6)
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d connect_errors=%d " ..
      "read_errors=%d write_errors=%d status_errors=%d timeouts=%d exhausted=%d\n",
    summary.requests, summary.duration, rps, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, any_exhausted))
end
