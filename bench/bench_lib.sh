# Shell helpers of bench/gateway_bench.sh, which sources this file. They expect $work_dir, the
# array $pids and the function fail() of that script.
fail() {
  printf 'gateway_bench: %s\n' "$*" >&2
  exit 1
}
step() { printf '== %s\n' "$*" >&2; }
# Starts a background process with its output in $work_dir/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$work_dir/$name.log" 2>&1 &
  pids+=("$!")
}

# Waits up to 20 s until the log of NAME contains PATTERN, and fails with the log otherwise.
wait_for_log() {
  local name=$1 pattern=$2
  for _ in $(seq 1 200); do
    grep -q "$pattern" "$work_dir/$name.log" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$work_dir/$name.log" >&2
  fail "$name did not become ready within 20 s"
}

# Waits up to 20 s until URL responds with any HTTP status, and fails with the log of NAME otherwise.
wait_for_http() {
  local name=$1 url=$2
  for _ in $(seq 1 200); do
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  cat "$work_dir/$name.log" >&2
  fail "$name did not answer at $url within 20 s"
}

# Prints COUNT TCP ports that were free on 127.0.0.1 a moment ago, one per line. The listeners
# are held until all ports are known, so the ports differ from each other.
free_ports() {
  node -e '
    const net = require("node:net");
    const count = Number(process.argv[1]);
    const servers = Array.from({ length: count }, () => net.createServer());
    Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", ok)))).then(() => {
      console.log(servers.map((s) => s.address().port).join("\n"));
      servers.forEach((s) => s.close());
    });' "$1"
}

# Prints the JSON field at dotted PATH of the JSON document on stdin.
json_field() {
  node -e '
    let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
      const value = process.argv[1].split(".").reduce((v, k) => v?.[k], JSON.parse(text));
      process.stdout.write(typeof value === "string" ? value : JSON.stringify(value));
    });' "$1"
}

# Calls the management API and fails with the response body unless the status is 2xx.
manage() {
  local method=$1 path=$2 body=${3:-}
  local response status
  local args=(-sS --max-time 10 -X "$method" -w '\n%{http_code}'
    -H "Authorization: Bearer $CREDGATE_ADMIN_KEY" -H 'Content-Type: application/json')
  [[ -n $body ]] && args+=(--data "$body")
  response=$(curl "${args[@]}" "$management_url$path?api-version=2022-08-01")
  status=${response##*$'\n'}
  response=${response%$'\n'*}
  [[ $status == 2* ]] || fail "$method $path returned HTTP $status: $response"
  printf '%s' "$response"
}

# Writes bench/NAME.conf with its placeholders filled in to $work_dir/NAME/nginx.conf and starts
# nginx with it in the foreground. Extra arguments are sed expressions for more placeholders.
start_nginx() {
  local name=$1 port=$2
  shift 2
  local dir="$work_dir/$name"
  mkdir -p "$dir"
  local expressions=(-e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g")
  for expression in "$@"; do expressions+=(-e "$expression"); done
  sed "${expressions[@]}" "bench/$name.conf" >"$dir/nginx.conf"
  nginx -t -q -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" ||
    fail "nginx rejected $dir/nginx.conf (see $dir/error.log)"
  start "$name" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
}

# Prints the user plus system CPU time, in clock ticks, of PID and of its child processes (nginx's
# workers) from /proc/<pid>/stat.
cpu_ticks() {
  local pid=$1 total=0 child
  for child in "$pid" $(pgrep -P "$pid" || true); do
    [[ -r /proc/$child/stat ]] || continue
    # Fields 14 and 15 (utime, stime) counted after the ")" that ends the command name.
    total=$((total + $(sed 's/.*) //' "/proc/$child/stat" | awk '{ print $12 + $13 }')))
  done
  printf '%s' "$total"
}

load_average() { cut -d' ' -f1 /proc/loadavg; }
load_below_max() { awk -v load="$(load_average)" -v max="$BENCH_MAX_LOAD" 'BEGIN { exit !(load < max) }'; }

# Prints the value in kB of FIELD (VmRSS, VmHWM) in /proc/PID/status.
proc_memory_kb() { awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"; }

# Prints the value of KEY=VALUE in a BENCH line.
bench_value() { tr ' ' '\n' <<<"$1" | awk -F= -v key="$2" '$1 == key { print $2 }'; }


