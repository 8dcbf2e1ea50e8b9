#!/usr/bin/env bash
# Measures credgate's request path side by side with a plain relay, nginx and HAProxy on
# 127.0.0.1, and writes the figures section of docs/benchmarks.md.
#
#   bench/gateway_bench.sh                  # full run, about 22 minutes
#   BENCH_QUICK=1 bench/gateway_bench.sh    # smoke run, about 5 minutes, prints the figures
#
# Targets, all in front of the same static nginx upstream (bench/nginx-upstream.conf), each
# reached over keep-alive connections:
#   direct    the upstream itself, the floor;
#   relay     build/bench/tcp_relay, which copies bytes and parses nothing;
#   nginx     nginx proxying with a fixed "Authorization: Bearer ..." (bench/nginx-proxy.conf);
#   haproxy   HAProxy verifying the caller's JWT with jwt_verify and setting Authorization from a
#             map keyed by the token's sub (bench/haproxy-jwt.cfg);
#   cg-pass   credgate, an API with no policy;
#   cg-jwt    credgate, an API whose policy is only validate-jwt (or, on a build without that
#             statement, get-authorization-context without set-header; the figures say which);
#   cg-full   credgate's full path: caller JWT validated against a trusted issuer, access policy
#             matched, get-authorization-context returns the backend token from a real sign-in
#             through testenv/, set-header injects it, and the request is proxied.
# Callers come from bench/callers.mjs: 1 JWT, 10,000 JWTs (one per caller, drawn at random), and
# all-distinct JWTs (each sent once), signed with RS256 or ES256.
#
# Throughput: wrk with bench/callers.lua for every target in every scenario (caller set, key,
# connections). Latency: build/bench/open_loop at 25, 50 and 80% of the relay's median peak
# requests/s, p50/p99/p99.9 measured from intended send times. CPU time per request: the
# target's utime + stime from /proc/<pid>/stat over the run, divided by its requests. Runs are
# interleaved in rounds so that a slow period hits every target alike. bench/report.mjs computes
# medians, min-max, the ratios and the checks of the performance targets.
#
# Uses existing builds (it never builds): credgate, and tcp_relay and open_loop
# (ninja -C build tcp_relay open_loop). Needs nginx, haproxy, wrk, node, curl and chromium
# (scripts/install-deps.sh). Every server listens on a free 127.0.0.1 port and is stopped when
# the script exits. Settings (environment); the quick defaults are in brackets:
#   BENCH_QUICK            1 selects the quick defaults and prints the figures instead of
#                          writing the doc (0)
#   CREDGATE_BIN           credgate binary (build/src/app/credgate)
#   BENCH_TOOLS_DIR        directory of tcp_relay and open_loop (build/bench)
#   BENCH_SCENARIOS        wrk scenarios SET:ALG:CONNECTIONS, SET one of one, 10k, distinct
#                          ("one:RS256:16 one:RS256:64 one:ES256:64 10k:RS256:64 10k:ES256:64
#                          distinct:RS256:64 distinct:ES256:64")
#                          ["one:RS256:16 one:RS256:64 10k:ES256:64 distinct:RS256:64"]
#   BENCH_DURATION         seconds per wrk run (5) [2]
#   BENCH_WARMUP           seconds of one unrecorded wrk run per target (2) [1]
#   BENCH_ROUNDS           rounds (3) [1]
#   BENCH_THREADS          wrk threads (1)
#   BENCH_RATES            open-loop rates in percent of the relay's peak ("25 50 80")
#   BENCH_OPEN_DURATION    seconds per open-loop run (5) [2]
#   BENCH_OPEN_CONNECTIONS open-loop connections (64)
#   BENCH_OPEN_THREADS     open-loop threads (1); on two CPUs a second thread takes CPU from the
#                          target
#   BENCH_DISTINCT_TOKENS  distinct tokens per key; a run that uses them all stops early (100000)
#                          [20000]
#   BENCH_CALLERS_DIR      where keys and tokens are kept between runs (build/bench-callers)
#   BENCH_CREDGATE_THREADS credgate's --threads; 0 is one I/O thread per core (0)
#   BENCH_MAX_LOAD         1-minute load average under which the measurement starts (1.5)
#   BENCH_LOAD_WAIT        seconds to wait for that load before measuring anyway (120) [0]
#   BENCH_DOC              document whose figures section is replaced (docs/benchmarks.md) ['']
#                          empty prints the section to stdout instead
#   BENCH_KEEP_WORK_DIR    1 keeps the work directory (logs, configs, results) after success
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"

BENCH_QUICK=${BENCH_QUICK:-0}
if [[ $BENCH_QUICK == 1 ]]; then
  default_scenarios="one:RS256:16 one:RS256:64 10k:ES256:64 distinct:RS256:64"
  default_duration=2 default_warmup=1 default_rounds=1 default_open_duration=2
  default_distinct=20000 default_load_wait=0 default_doc=''
else
  default_scenarios="one:RS256:16 one:RS256:64 one:ES256:64 10k:RS256:64 10k:ES256:64"
  default_scenarios+=" distinct:RS256:64 distinct:ES256:64"
  default_duration=5 default_warmup=2 default_rounds=3 default_open_duration=5
  default_distinct=100000 default_load_wait=120 default_doc=docs/benchmarks.md
fi
CREDGATE_BIN=${CREDGATE_BIN:-build/src/app/credgate}
BENCH_TOOLS_DIR=${BENCH_TOOLS_DIR:-build/bench}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-$default_scenarios}
BENCH_DURATION=${BENCH_DURATION:-$default_duration}
BENCH_WARMUP=${BENCH_WARMUP:-$default_warmup}
BENCH_ROUNDS=${BENCH_ROUNDS:-$default_rounds}
BENCH_THREADS=${BENCH_THREADS:-1}
BENCH_RATES=${BENCH_RATES:-25 50 80}
BENCH_OPEN_DURATION=${BENCH_OPEN_DURATION:-$default_open_duration}
BENCH_OPEN_CONNECTIONS=${BENCH_OPEN_CONNECTIONS:-64}
BENCH_OPEN_THREADS=${BENCH_OPEN_THREADS:-1}
BENCH_DISTINCT_TOKENS=${BENCH_DISTINCT_TOKENS:-$default_distinct}
BENCH_CALLERS_DIR=${BENCH_CALLERS_DIR:-build/bench-callers}
BENCH_CREDGATE_THREADS=${BENCH_CREDGATE_THREADS:-0}
BENCH_MAX_LOAD=${BENCH_MAX_LOAD:-1.5}
BENCH_LOAD_WAIT=${BENCH_LOAD_WAIT:-$default_load_wait}
BENCH_DOC=${BENCH_DOC-$default_doc}
BENCH_KEEP_WORK_DIR=${BENCH_KEEP_WORK_DIR:-0}

readonly kDocBegin='<!-- BEGIN figures: generated by bench/gateway_bench.sh -->'
readonly kDocEnd='<!-- END figures -->'
readonly kTargets=(direct relay nginx haproxy cg-pass cg-jwt cg-full)
# Targets that verify the caller's JWT, so that only they get each distinct token once.
readonly kVerifyingTargets=" haproxy cg-jwt cg-full "
readonly kCallers=10000
# Long enough that the backend token is never refreshed during a run.
readonly kBackendTokenTtl=86400
readonly kBackendClientId=credgate-bench
readonly kIssuer='https://issuer.bench.invalid/'
readonly kAudience='api://credgate'

fail() {
  printf 'gateway_bench: %s\n' "$*" >&2
  exit 1
}
step() { printf '== %s\n' "$*" >&2; }

require_whole_number() {
  local name=$1 value=$2 minimum=$3
  [[ $value =~ ^[0-9]+$ ]] && ((value >= minimum)) ||
    fail "invalid $name \"$value\": expected a whole number >= $minimum"
}
require_whole_number BENCH_DURATION "$BENCH_DURATION" 1
require_whole_number BENCH_WARMUP "$BENCH_WARMUP" 0
require_whole_number BENCH_ROUNDS "$BENCH_ROUNDS" 1
require_whole_number BENCH_THREADS "$BENCH_THREADS" 1
require_whole_number BENCH_OPEN_DURATION "$BENCH_OPEN_DURATION" 1
require_whole_number BENCH_OPEN_CONNECTIONS "$BENCH_OPEN_CONNECTIONS" 1
require_whole_number BENCH_OPEN_THREADS "$BENCH_OPEN_THREADS" 1
((BENCH_OPEN_THREADS <= BENCH_OPEN_CONNECTIONS)) ||
  fail "invalid BENCH_OPEN_THREADS \"$BENCH_OPEN_THREADS\": expected at most BENCH_OPEN_CONNECTIONS"
require_whole_number BENCH_DISTINCT_TOKENS "$BENCH_DISTINCT_TOKENS" "$kCallers"
require_whole_number BENCH_LOAD_WAIT "$BENCH_LOAD_WAIT" 0
require_whole_number BENCH_CREDGATE_THREADS "$BENCH_CREDGATE_THREADS" 0
[[ $BENCH_MAX_LOAD =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
  fail "invalid BENCH_MAX_LOAD \"$BENCH_MAX_LOAD\": expected a number such as 1.5"
for rate in $BENCH_RATES; do require_whole_number "BENCH_RATES entry" "$rate" 1; done
for scenario in $BENCH_SCENARIOS; do
  [[ $scenario =~ ^(one|10k|distinct):(RS256|ES256):[0-9]+$ ]] ||
    fail "invalid BENCH_SCENARIOS entry \"$scenario\": expected SET:ALG:CONNECTIONS such as 10k:ES256:64"
  require_whole_number "connections of $scenario" "${scenario##*:}" "$BENCH_THREADS"
done

for tool in wrk nginx haproxy node curl timeout pgrep getconf; do
  command -v "$tool" >/dev/null || fail "$tool not found: run scripts/install-deps.sh"
done
[[ -x $CREDGATE_BIN ]] || fail "credgate binary not found at $CREDGATE_BIN: build it or set CREDGATE_BIN"
for tool in tcp_relay open_loop; do
  [[ -x $BENCH_TOOLS_DIR/$tool ]] ||
    fail "$BENCH_TOOLS_DIR/$tool not found: run ninja -C build tcp_relay open_loop or set BENCH_TOOLS_DIR"
done
[[ -d testenv/node_modules ]] || fail "testenv/node_modules is missing: run scripts/install-deps.sh"
if [[ -n $BENCH_DOC ]]; then
  [[ -f $BENCH_DOC ]] || fail "$BENCH_DOC not found: set BENCH_DOC to an existing document or to ''"
  grep -qF "$kDocBegin" "$BENCH_DOC" && grep -qF "$kDocEnd" "$BENCH_DOC" ||
    fail "$BENCH_DOC lacks the lines '$kDocBegin' and '$kDocEnd' that delimit the figures"
fi
credgate_bin=$(realpath "$CREDGATE_BIN")
tools_dir=$(realpath "$BENCH_TOOLS_DIR")
clock_ticks=$(getconf CLK_TCK)

work_dir=$(mktemp -d /tmp/credgate-bench.XXXXXX)
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((status != 0)); then
    printf 'gateway_bench: failed; logs and configs are in %s\n' "$work_dir" >&2
  elif [[ $BENCH_KEEP_WORK_DIR == 1 ]]; then
    printf 'gateway_bench: work directory kept at %s\n' "$work_dir" >&2
  else
    rm -rf "$work_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/bench_lib.sh
source bench/bench_lib.sh

# ---------------------------------------------------------------------------------------------
step "Waiting for a 1-minute load average below $BENCH_MAX_LOAD (at most $BENCH_LOAD_WAIT s)"
load_wait_start=$SECONDS
until load_below_max || ((SECONDS - load_wait_start >= BENCH_LOAD_WAIT)); do
  printf '   load %s, waiting\n' "$(load_average)" >&2
  sleep 30
done
load_before=$(load_average)
load_waited=$((SECONDS - load_wait_start))
if load_below_max; then load_quiet=1; else load_quiet=0; fi
printf '   load %s after %d s\n' "$load_before" "$load_waited" >&2

step "Minting the callers' keys and tokens in $BENCH_CALLERS_DIR (reused when still valid)"
node bench/callers.mjs mint --dir "$BENCH_CALLERS_DIR" --tokens "$BENCH_DISTINCT_TOKENS" \
  --callers "$kCallers" --filler "$kCallers"
callers_dir=$(realpath "$BENCH_CALLERS_DIR")

step "Starting the backend, the upstream, the key server, the relay, nginx, HAProxy and credgate"
mapfile -t ports < <(free_ports 10)
((${#ports[@]} == 10)) || fail "could not find 10 free ports on 127.0.0.1"
oauth_port=${ports[0]} api_port=${ports[1]} upstream_port=${ports[2]} files_port=${ports[3]}
relay_port=${ports[4]} nginx_port=${ports[5]} haproxy_port=${ports[6]}
gateway_port=${ports[7]} management_port=${ports[8]}
oauth_url="http://127.0.0.1:$oauth_port"
api_url="http://127.0.0.1:$api_port"
upstream_url="http://127.0.0.1:$upstream_port"
files_url="http://127.0.0.1:$files_port"
gateway_url="http://127.0.0.1:$gateway_port"
management_url="http://127.0.0.1:$management_port"
landed_url="$api_url/landed"
random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
backend_client_secret="bench-secret-$(random_hex)"
static_token="bench-static-$(random_hex)"
export CREDGATE_ADMIN_KEY="cgk_bench_$(random_hex)"

# The key server's documents: the discovery document names the JWKS on this run's port.
discovery="{\"issuer\":\"$kIssuer\",\"jwks_uri\":\"$files_url/jwks.json\"}"
jwks=$(tr -d '\n' <"$callers_dir/jwks.json")
[[ $jwks != *[\'\|\&\\]* ]] || fail "$callers_dir/jwks.json holds a character that the nginx template cannot take"

start backend node testenv/backend.mjs --oauth-port "$oauth_port" --api-port "$api_port" \
  --client-id "$kBackendClientId" --client-secret "$backend_client_secret" \
  --redirect-uri "$gateway_url/.credgate/callback" --access-token-ttl "$kBackendTokenTtl"
start_nginx nginx-upstream "$upstream_port"
upstream_pid=${pids[-1]}
start_nginx nginx-files "$files_port" "s|@DISCOVERY@|$discovery|g" "s|@JWKS@|$jwks|g"
start relay "$tools_dir/tcp_relay" --listen "127.0.0.1:$relay_port" \
  --upstream "127.0.0.1:$upstream_port"
relay_pid=${pids[-1]}
start_nginx nginx-proxy "$nginx_port" "s|@UPSTREAM_PORT@|$upstream_port|g" \
  "s|@STATIC_TOKEN@|$static_token|g"
nginx_pid=${pids[-1]}
mkdir -p "$work_dir/haproxy"
sed -e "s|@DIR@|$callers_dir|g" -e "s|@PORT@|$haproxy_port|g" \
  -e "s|@UPSTREAM_PORT@|$upstream_port|g" -e "s|@ISSUER@|$kIssuer|g" \
  -e "s|@AUDIENCE@|$kAudience|g" -e "s|@THREADS@|$(nproc)|g" \
  bench/haproxy-jwt.cfg >"$work_dir/haproxy/haproxy.cfg"
haproxy -c -q -f "$work_dir/haproxy/haproxy.cfg" ||
  fail "haproxy rejected $work_dir/haproxy/haproxy.cfg"
start haproxy haproxy -db -f "$work_dir/haproxy/haproxy.cfg"
haproxy_pid=${pids[-1]}
mkdir -p "$work_dir/credgate-data"
start credgate "$credgate_bin" serve \
  --gateway-listen "127.0.0.1:$gateway_port" --management-listen "127.0.0.1:$management_port" \
  --public-url "$gateway_url" --data-dir "$work_dir/credgate-data" \
  --post-login-redirect-allow "$landed_url" --threads "$BENCH_CREDGATE_THREADS"
credgate_pid=${pids[-1]}
wait_for_log backend '"ready":true'
wait_for_log relay 'tcp_relay ready'
wait_for_http nginx-upstream "$upstream_url/"
wait_for_http nginx-files "$files_url/jwks.json"
wait_for_http nginx-proxy "http://127.0.0.1:$nginx_port/"
wait_for_http haproxy "http://127.0.0.1:$haproxy_port/"
wait_for_http credgate "$management_url/healthz"

step "Configuring credgate through its management API"
trusted_issuer="{\"properties\":{\"issuer\":\"$kIssuer\",\"audiences\":[\"$kAudience\"],
  \"jwksUri\":\"$files_url/jwks.json\",\"clockSkewSeconds\":0}}"
manage PUT /trustedIssuers/bench "$trusted_issuer" >/dev/null
manage PUT /authorizationProviders/backend "{\"properties\":{\"displayName\":\"Backend\",
  \"identityProvider\":\"oauth2pkce\",\"oauth2\":{\"grantTypes\":{\"authorizationCode\":{
  \"clientId\":\"$kBackendClientId\",\"clientSecret\":\"$backend_client_secret\",
  \"scopes\":\"openid profile\",\"authorizationUrl\":\"$oauth_url/auth\",
  \"tokenUrl\":\"$oauth_url/token\",\"refreshUrl\":\"$oauth_url/token\"}}}}}" >/dev/null
manage PUT /authorizationProviders/backend/authorizations/alice \
  '{"properties":{"authorizationType":"OAuth2","oauth2grantType":"AuthorizationCode"}}' >/dev/null
# One access policy per caller, so the full path matches the caller of each token.
node bench/callers.mjs grant --dir "$callers_dir" --management-url "$management_url" \
  --provider backend --authorization alice

policy_json() {
  node -e 'process.stdout.write(JSON.stringify({properties:{format:"rawxml",value:process.argv[1]}}))' \
    "<policies><inbound><base/>$1</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>"
}
get_context='<get-authorization-context provider-id="backend" authorization-id="alice"
    context-variable-name="auth-context" identity-type="jwt"
    identity="@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;,&quot;&quot;).Replace(&quot;Bearer &quot;,&quot;&quot;))"
    ignore-error="false"/>'
set_header='<set-header name="Authorization" exists-action="override">
    <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
  </set-header>'
validate_jwt="<validate-jwt header-name=\"Authorization\" require-scheme=\"Bearer\" failed-validation-httpcode=\"401\">
    <openid-config url=\"$files_url/.well-known/openid-configuration\"/>
    <audiences><audience>$kAudience</audience></audiences>
    <issuers><issuer>$kIssuer</issuer></issuers>
  </validate-jwt>"
full_policy=$(policy_json "$get_context$set_header")

# API "backend" reaches the Node backend, which accepts only tokens that its authorization server
# issued, so a call through it proves that the sign-in produced a real token. APIs "full",
# "jwt" and "pass" reach the static upstream and are measured.
put_api() {
  local name=$1 service_url=$2
  manage PUT "/apis/$name" \
    "{\"properties\":{\"displayName\":\"$name\",\"path\":\"$name\",\"serviceUrl\":\"$service_url\"}}" >/dev/null
  manage PUT "/apis/$name/operations/whoami" \
    '{"properties":{"method":"GET","urlTemplate":"/whoami"}}' >/dev/null
}
put_api backend "$api_url"
put_api full "$upstream_url"
put_api jwt "$upstream_url"
put_api pass "$upstream_url"
manage PUT /apis/backend/policies/policy "$full_policy" >/dev/null
manage PUT /apis/full/policies/policy "$full_policy" >/dev/null
# validate-jwt is the JWT-only check. A build that lacks the statement rejects the policy, and
# the JWT-only target then runs get-authorization-context without set-header: the JWT check and
# the access policy, without the header.
jwt_policy=$(policy_json "$validate_jwt")
if (manage PUT /apis/jwt/policies/policy "$jwt_policy") >/dev/null 2>"$work_dir/jwt-policy.err"; then
  jwt_mode=validate-jwt
else
  jwt_policy=$(policy_json "$get_context")
  manage PUT /apis/jwt/policies/policy "$jwt_policy" >/dev/null
  jwt_mode=get-authorization-context
  printf '   credgate rejected validate-jwt (%s); cg-jwt runs get-authorization-context without set-header\n' \
    "$(tr '\n' ' ' <"$work_dir/jwt-policy.err" | cut -c1-200)" >&2
fi

step "Signing alice in at the backend with headless chromium"
login_link=$(manage POST /authorizationProviders/backend/authorizations/alice/getLoginLinks \
  "{\"postLoginRedirectUrl\":\"$landed_url\"}" | json_field loginLink)
node testenv/login.mjs --link "$login_link" --user alice --password any \
  --expect-prefix "$landed_url" >"$work_dir/login.log" 2>&1 ||
  { cat "$work_dir/login.log" >&2; fail "browser sign-in failed"; }
status=$(manage GET /authorizationProviders/backend/authorizations/alice | json_field properties.status)
[[ $status == Connected ]] || fail "authorization alice is '$status' after the sign-in, not Connected"

step "Checking each target once"
head -n 1 "$callers_dir/RS256.tokens" >"$work_dir/one-RS256.token"
caller_jwt=$(cat "$work_dir/one-RS256.token")
answer=$(curl -sS --max-time 10 -H "Authorization: Bearer $caller_jwt" "$gateway_url/backend/whoami")
[[ $(printf '%s' "$answer" | json_field user) == alice ]] ||
  fail "the Node backend did not see alice's token through credgate; answer: $answer"
declare -A target_urls=(
  [direct]="$upstream_url/whoami"
  [relay]="http://127.0.0.1:$relay_port/whoami"
  [nginx]="http://127.0.0.1:$nginx_port/whoami"
  [haproxy]="http://127.0.0.1:$haproxy_port/whoami"
  [cg-pass]="$gateway_url/pass/whoami"
  [cg-jwt]="$gateway_url/jwt/whoami"
  [cg-full]="$gateway_url/full/whoami"
)
declare -A target_pids=(
  [direct]=$upstream_pid [relay]=$relay_pid [nginx]=$nginx_pid [haproxy]=$haproxy_pid
  [cg-pass]=$credgate_pid [cg-jwt]=$credgate_pid [cg-full]=$credgate_pid
)
for alg in RS256 ES256; do
  token=$(head -n 1 "$callers_dir/$alg.tokens")
  for target in "${kTargets[@]}"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
      -H "Authorization: Bearer $token" "${target_urls[$target]}")
    [[ $code == 200 ]] || fail "$target returned HTTP $code with a $alg caller JWT at ${target_urls[$target]}"
  done
done
for target in haproxy cg-jwt cg-full; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${target_urls[$target]}")
  [[ $code == 401 ]] || fail "$target returned HTTP $code without a caller JWT, expected 401"
done
rss_before_kb=$(proc_memory_kb "$credgate_pid" VmRSS)

# Empties credgate's caches of verified tokens: a PUT of a trusted issuer resets the validator's
# cache, and a PUT of a policy compiles a new validate-jwt statement with an empty cache.
clear_credgate_caches() {
  manage PUT /trustedIssuers/bench "$trusted_issuer" >/dev/null
  manage PUT /apis/jwt/policies/policy "$jwt_policy" >/dev/null
}

# Runs wrk once against TARGET in SCENARIO for SECONDS and prints its BENCH line with the
# target's CPU time per request appended. The run is bounded by wrk's -d and by timeout(1).
run_wrk() {
  local target=$1 scenario=$2 seconds=$3
  local set alg connections count order=random
  IFS=: read -r set alg connections <<<"$scenario"
  case $set in
    one) count=1 ;;
    10k) count=$kCallers ;;
    distinct)
      count=$BENCH_DISTINCT_TOKENS
      if [[ $kVerifyingTargets == *" $target "* ]]; then order=sequential; fi
      if [[ $target == cg-* ]]; then clear_credgate_caches; fi
      ;;
  esac
  local pid=${target_pids[$target]}
  local ticks_before ticks_after
  ticks_before=$(cpu_ticks "$pid")
  TOKEN_FILE="$callers_dir/$alg.tokens" TOKEN_COUNT=$count TOKEN_ORDER=$order \
    WRK_THREADS=$BENCH_THREADS timeout --kill-after=5 $((seconds + 60)) \
    wrk -t"$BENCH_THREADS" -c"$connections" -d"${seconds}s" --timeout 2s \
    -s bench/callers.lua "${target_urls[$target]}" >"$work_dir/wrk.out" 2>&1 ||
    { cat "$work_dir/wrk.out" >&2; fail "wrk failed against $target"; }
  ticks_after=$(cpu_ticks "$pid")
  local line
  line=$(grep '^BENCH ' "$work_dir/wrk.out") ||
    { cat "$work_dir/wrk.out" >&2; fail "wrk printed no BENCH line"; }
  local requests
  requests=$(bench_value "$line" requests)
  printf '%s cpu_us=%s\n' "$line" \
    "$(awk -v t=$((ticks_after - ticks_before)) -v hz="$clock_ticks" -v n="$requests" \
      'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')"
}

# Runs the open-loop generator once against TARGET at RATE requests/s and prints its OPENLOOP
# line with the target's CPU time per request appended.
run_open_loop() {
  local target=$1 rate=$2 seconds=$3
  local pid=${target_pids[$target]}
  local ticks_before ticks_after line
  ticks_before=$(cpu_ticks "$pid")
  line=$(timeout --kill-after=5 $((seconds + 30)) "$tools_dir/open_loop" \
    --url "${target_urls[$target]}" --rate "$rate" --duration "$seconds" \
    --connections "$BENCH_OPEN_CONNECTIONS" --threads "$BENCH_OPEN_THREADS" --token-file "$work_dir/one-RS256.token" \
    2>"$work_dir/open_loop.err") ||
    { cat "$work_dir/open_loop.err" >&2; fail "open_loop failed against $target"; }
  ticks_after=$(cpu_ticks "$pid")
  printf '%s cpu_us=%s\n' "$line" \
    "$(awk -v t=$((ticks_after - ticks_before)) -v hz="$clock_ticks" -v n="$(bench_value "$line" completed)" \
      'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')"
}

results="$work_dir/results.jsonl"
: >"$results"
# Appends one run to the results as a JSON object: the fixed FIELDS=VALUE pairs given, then the
# key=value pairs of the tool's LINE.
record() {
  local line=$1
  shift
  node -e '
    const [line, ...fixed] = process.argv.slice(1);
    const run = {};
    for (const pair of [...fixed, ...line.split(" ").slice(1)]) {
      const at = pair.indexOf("=");
      const value = pair.slice(at + 1);
      run[pair.slice(0, at)] = /^-?[0-9.]+$/.test(value) ? Number(value) : value;
    }
    process.stdout.write(JSON.stringify(run) + "\n");' "$line" "$@" >>"$results"
}

# Fails when a wrk LINE reports a response outside 200-399 or a failed connect, which mean a
# broken setup (an expired token, a rejected caller) rather than load. Timeouts and socket errors
# under load are recorded and shown in the figures instead.
check_errors() {
  local what=$1 line=$2
  local status_errors connect_errors
  status_errors=$(bench_value "$line" status_errors)
  connect_errors=$(bench_value "$line" connect_errors)
  ((status_errors == 0 && connect_errors == 0)) ||
    fail "$what had $status_errors responses outside 200-399 and $connect_errors failed connects: $line"
}

if ((BENCH_WARMUP > 0)); then
  step "Warming up each target for $BENCH_WARMUP s"
  first_scenario=${BENCH_SCENARIOS%% *}
  for target in "${kTargets[@]}"; do run_wrk "$target" "$first_scenario" "$BENCH_WARMUP" >/dev/null; done
fi

read -r -a scenarios <<<"$BENCH_SCENARIOS"
step "Throughput: $BENCH_ROUNDS rounds of ${#scenarios[@]} scenarios x ${#kTargets[@]} targets, ${BENCH_DURATION} s each"
load_at_measurement=$(load_average)
for round in $(seq 1 "$BENCH_ROUNDS"); do
  for scenario in "${scenarios[@]}"; do
    for target in "${kTargets[@]}"; do
      line=$(run_wrk "$target" "$scenario" "$BENCH_DURATION")
      check_errors "$target in $scenario, round $round" "$line"
      record "$line" kind=wrk "round=$round" "target=$target" "scenario=$scenario"
      printf '   round %d %-17s %-8s %s\n' "$round" "$scenario" "$target" "$line" >&2
    done
  done
done

# The relay's peak: its median requests/s in the first scenario with one JWT and the most
# connections.
peak_scenario=$(printf '%s\n' "${scenarios[@]}" | awk -F: '$1 == "one" { print $3, $0 }' |
  sort -n | tail -n 1 | cut -d' ' -f2)
[[ -n $peak_scenario ]] || peak_scenario=${scenarios[0]}
relay_peak=$(node -e '
  const runs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse)
    .filter((r) => r.kind === "wrk" && r.target === "relay" && r.scenario === process.argv[2])
    .map((r) => r.rps).sort((a, b) => a - b);
  const m = runs.length % 2 ? runs[(runs.length - 1) / 2] : (runs[runs.length / 2 - 1] + runs[runs.length / 2]) / 2;
  process.stdout.write(String(Math.round(m)));' "$results" "$peak_scenario")

step "Latency: open loop at ${BENCH_RATES// /, }% of the relay's peak $relay_peak requests/s ($peak_scenario), ${BENCH_OPEN_DURATION} s each"
for round in $(seq 1 "$BENCH_ROUNDS"); do
  for percent in $BENCH_RATES; do
    rate=$((relay_peak * percent / 100))
    for target in "${kTargets[@]}"; do
      line=$(run_open_loop "$target" "$rate" "$BENCH_OPEN_DURATION")
      record "$line" kind=open "round=$round" "target=$target" "percent=$percent"
      printf '   round %d %3d%% %-8s %s\n' "$round" "$percent" "$target" "$line" >&2
    done
  done
done
load_after=$(load_average)
rss_after_kb=$(proc_memory_kb "$credgate_pid" VmRSS)
hwm_kb=$(proc_memory_kb "$credgate_pid" VmHWM)
credgate_threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$credgate_pid/status")
refreshes=$(curl -sS --max-time 10 "$api_url/stats" | node -e '
  let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
    process.stdout.write(String(JSON.parse(text).tokenRequests.refresh_token ?? 0));
  });')
[[ $refreshes == 0 ]] ||
  fail "credgate refreshed the backend token $refreshes times during the measurement"

# ---------------------------------------------------------------------------------------------
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' \
  "$(dirname "$credgate_bin")/../../CMakeCache.txt" 2>/dev/null || true)
node -e 'process.stdout.write(JSON.stringify(Object.fromEntries(
  process.argv.slice(1).map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]))))' \
  "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  "checkout=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "cpus=$(nproc)" "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  "kernel=$(uname -r)" "nginx=$(nginx -v 2>&1 | sed 's/.*nginx\///')" \
  "haproxy=$(haproxy -v | awk 'NR == 1 { print $3 }')" \
  "credgate_bin=$credgate_bin" \
  "credgate_modified=$(date -u -r "$credgate_bin" '+%Y-%m-%d %H:%M UTC')" \
  "build_type=${build_type:-unknown}" "credgate_threads_option=$BENCH_CREDGATE_THREADS" \
  "credgate_threads=$credgate_threads" "quick=$BENCH_QUICK" "rounds=$BENCH_ROUNDS" \
  "duration=$BENCH_DURATION" "warmup=$BENCH_WARMUP" "wrk_threads=$BENCH_THREADS" \
  "open_duration=$BENCH_OPEN_DURATION" "open_connections=$BENCH_OPEN_CONNECTIONS" \
  "open_threads=$BENCH_OPEN_THREADS" \
  "distinct_tokens=$BENCH_DISTINCT_TOKENS" "callers=$kCallers" "jwt_mode=$jwt_mode" \
  "relay_peak=$relay_peak" "peak_scenario=$peak_scenario" \
  "load_before=$load_before" "load_at_measurement=$load_at_measurement" "load_after=$load_after" \
  "load_waited=$load_waited" "load_quiet=$load_quiet" "max_load=$BENCH_MAX_LOAD" \
  "rss_before_kb=$rss_before_kb" "rss_after_kb=$rss_after_kb" "hwm_kb=$hwm_kb" \
  >"$work_dir/meta.json"

section="$work_dir/section.md"
node bench/report.mjs --results "$results" --meta "$work_dir/meta.json" >"$section"

if [[ -z $BENCH_DOC ]]; then
  cat "$section"
else
  awk -v begin="$kDocBegin" -v end="$kDocEnd" -v section="$section" '
    $0 == begin { print; while ((getline line < section) > 0) print line; skipping = 1; next }
    $0 == end { skipping = 0 }
    !skipping { print }' "$BENCH_DOC" >"$work_dir/doc.md"
  cp "$work_dir/doc.md" "$BENCH_DOC"
  step "Wrote the figures to $BENCH_DOC"
fi
