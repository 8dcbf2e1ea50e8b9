#!/usr/bin/env bash
# Shows credgate's whole flow on this machine without a human. It builds credgate and starts the
# test identity provider, the backend (OAuth server and API) and credgate on 127.0.0.1. Then it
# configures credgate through its management API with curl, signs "alice" in with headless
# chromium and calls the backend through the gateway with a caller's JWT.
#
#   scripts/demo.sh                       # from the repository root or anywhere
#   SKIP_BUILD=1 scripts/demo.sh          # use the binary already built
#   DEMO_KEEP_RUNNING=1 scripts/demo.sh   # keep every service running until Ctrl-C
#
# Ports: identity provider 4100, backend OAuth server 4200, backend API 4300, gateway 8080,
# management API 8081 (override with IDP_PORT, OAUTH_PORT, API_PORT, GATEWAY_PORT,
# MANAGEMENT_PORT). State and logs go to .demo/, which every run starts afresh. Everything this
# script starts is stopped when it exits.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"

IDP_PORT=${IDP_PORT:-4100}
OAUTH_PORT=${OAUTH_PORT:-4200}
API_PORT=${API_PORT:-4300}
GATEWAY_PORT=${GATEWAY_PORT:-8080}
MANAGEMENT_PORT=${MANAGEMENT_PORT:-8081}
CREDGATE_BIN=${CREDGATE_BIN:-build/src/app/credgate}

demo_dir="$repo_root/.demo"
idp_url="http://127.0.0.1:$IDP_PORT"
oauth_url="http://127.0.0.1:$OAUTH_PORT"
api_url="http://127.0.0.1:$API_PORT"
gateway_url="http://127.0.0.1:$GATEWAY_PORT"
management_url="http://127.0.0.1:$MANAGEMENT_PORT"
landed_url="$api_url/landed"
backend_client_id=credgate-demo
backend_client_secret="demo-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export CREDGATE_ADMIN_KEY="${CREDGATE_ADMIN_KEY:-cgk_demo_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}"
alice_oid=11111111-1111-4111-8111-111111111111
alice_secret=caller-alice-secret-7f3c9a1e5b2d4c6e

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a background process with its output in .demo/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$demo_dir/$name.log" 2>&1 &
  pids+=("$!")
}

# Waits up to 20 s until the log of NAME contains PATTERN, and fails with the log otherwise.
wait_for_log() {
  local name=$1 pattern=$2
  for _ in $(seq 1 200); do
    grep -q "$pattern" "$demo_dir/$name.log" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$demo_dir/$name.log" >&2
  fail "$name did not become ready within 20 s (log: .demo/$name.log)"
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

# Prints the JSON field at dotted PATH of the JSON document on stdin.
json_field() {
  node -e '
    let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
      const value = process.argv[1].split(".").reduce((v, k) => v?.[k], JSON.parse(text));
      process.stdout.write(typeof value === "string" ? value : JSON.stringify(value));
    });' "$1"
}

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  step "Installing dependencies and building credgate"
  scripts/install-deps.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build
fi
[[ -x $CREDGATE_BIN ]] || fail "credgate binary not found at $CREDGATE_BIN: build it first"
[[ -d testenv/node_modules ]] || (cd testenv && npm ci --no-audit --no-fund --loglevel=error)

rm -rf "$demo_dir"
mkdir -p "$demo_dir"

step "Starting the identity provider, the backend and credgate"
start idp node testenv/idp.mjs --port "$IDP_PORT"
start backend node testenv/backend.mjs --oauth-port "$OAUTH_PORT" --api-port "$API_PORT" \
  --client-id "$backend_client_id" --client-secret "$backend_client_secret" \
  --redirect-uri "$gateway_url/.credgate/callback"
start credgate "$CREDGATE_BIN" serve \
  --gateway-listen "127.0.0.1:$GATEWAY_PORT" --management-listen "127.0.0.1:$MANAGEMENT_PORT" \
  --public-url "$gateway_url" --data-dir "$demo_dir" --post-login-redirect-allow "$landed_url"
wait_for_log idp '"ready":true'
wait_for_log backend '"ready":true'
for _ in $(seq 1 200); do
  curl -s -o /dev/null --max-time 1 "$management_url/healthz" && break
  sleep 0.1
done
curl -sf -o /dev/null --max-time 2 "$management_url/healthz" ||
  { cat "$demo_dir/credgate.log" >&2; fail "credgate is not healthy (log: .demo/credgate.log)"; }
echo "identity provider $idp_url, backend $oauth_url and $api_url, gateway $gateway_url"

step "Configuring credgate through the management API"
manage PUT /trustedIssuers/idp \
  "{\"properties\":{\"issuer\":\"$idp_url\",\"audiences\":[\"api://credgate\"],\"clockSkewSeconds\":0}}" >/dev/null
manage PUT /authorizationProviders/backend "{\"properties\":{\"displayName\":\"Backend\",
  \"identityProvider\":\"oauth2pkce\",\"oauth2\":{\"grantTypes\":{\"authorizationCode\":{
  \"clientId\":\"$backend_client_id\",\"clientSecret\":\"$backend_client_secret\",
  \"scopes\":\"openid profile\",\"authorizationUrl\":\"$oauth_url/auth\",
  \"tokenUrl\":\"$oauth_url/token\",\"refreshUrl\":\"$oauth_url/token\",
  \"issuer\":\"$oauth_url\",\"authorizationResponseIssParameterSupported\":\"true\"}}}}}" >/dev/null
manage PUT /authorizationProviders/backend/authorizations/alice \
  '{"properties":{"authorizationType":"OAuth2","oauth2grantType":"AuthorizationCode"}}' >/dev/null
manage PUT /authorizationProviders/backend/authorizations/alice/accessPolicies/alice-caller \
  "{\"properties\":{\"tenantId\":\"tenant-1\",\"objectId\":\"$alice_oid\"}}" >/dev/null
manage PUT /apis/backend \
  "{\"properties\":{\"displayName\":\"Backend\",\"path\":\"backend\",\"serviceUrl\":\"$api_url\"}}" >/dev/null
manage PUT /apis/backend/operations/whoami \
  '{"properties":{"method":"GET","urlTemplate":"/whoami"}}' >/dev/null
policy=$(node -e 'process.stdout.write(JSON.stringify({properties:{format:"rawxml",value:process.argv[1]}}))' \
'<policies><inbound><base/>
  <get-authorization-context provider-id="backend" authorization-id="alice"
    context-variable-name="auth-context" identity-type="jwt"
    identity="@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;,&quot;&quot;).Replace(&quot;Bearer &quot;,&quot;&quot;))"
    ignore-error="false"/>
  <set-header name="Authorization" exists-action="override">
    <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
  </set-header>
</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>')
manage PUT /apis/backend/policies/policy "$policy" >/dev/null
status=$(manage GET /authorizationProviders/backend/authorizations/alice | json_field properties.status)
echo "trusted issuer, provider 'backend', authorization 'alice' (status: $status), access policy, API and policy are set"

login_link=$(manage POST /authorizationProviders/backend/authorizations/alice/getLoginLinks \
  "{\"postLoginRedirectUrl\":\"$landed_url\"}" | json_field loginLink)

step "What a person would do"
cat <<EOF
1. Open the login link in a browser and choose Continue on credgate's confirmation page, which
   names the provider, the authorization and the admin key that created the link. Sign in at
   the backend with any login name ("alice") and any password, and approve the consent page.
   The browser then lands on $landed_url with a consentCode parameter ("signed in") and the
   authorization's status becomes Connected:

   $login_link

2. Call the API through the gateway with a caller token from the identity provider. The gateway
   validates the caller's JWT, checks the access policy and sends alice's backend token:

   TOKEN=\$(curl -s -u caller-alice:$alice_secret -d grant_type=client_credentials \\
     $idp_url/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
   curl -s -H "Authorization: Bearer \$TOKEN" $gateway_url/backend/whoami

   The backend answers with "user": "alice". Any other caller (caller-bob) gets 403, and a
   missing, expired or foreign JWT gets 401.
EOF

step "Signing alice in with headless chromium"
node testenv/login.mjs --link "$login_link" --user alice --password any \
  --expect-prefix "$landed_url" --screenshot-dir "$demo_dir/screenshots" ||
  fail "browser sign-in failed (screenshots: .demo/screenshots, log: .demo/credgate.log)"
status=$(manage GET /authorizationProviders/backend/authorizations/alice | json_field properties.status)
echo "authorization status: $status"

step "Calling the backend through the gateway as caller-alice"
token=$(curl -sS --max-time 10 -u "caller-alice:$alice_secret" -d grant_type=client_credentials \
  "$idp_url/token" | json_field access_token)
answer=$(curl -sS --max-time 10 -H "Authorization: Bearer $token" "$gateway_url/backend/whoami")
# The backend echoes the request headers; the token is cut short so the demo prints no secret.
printf '%s' "$answer" | node -e '
  let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
    try {
      const answer = JSON.parse(text);
      const authorization = answer.headers?.authorization;
      if (authorization) answer.headers.authorization = authorization.slice(0, 13) + "...";
      console.log(JSON.stringify(answer, null, 2));
    } catch { console.log(text); }
  });'
user=$(printf '%s' "$answer" | json_field user 2>/dev/null || true)
[[ $user == alice ]] || fail "the backend did not see alice's token; answer: $answer"
echo
echo "The backend saw alice's token (\"user\": \"alice\"), sent by credgate on caller-alice's behalf."

if [[ ${DEMO_KEEP_RUNNING:-0} == 1 ]]; then
  step "Everything keeps running until you press Ctrl-C"
  cat <<EOF
Gateway $gateway_url, management API $management_url, logs in .demo/*.log.
The admin key is in CREDGATE_ADMIN_KEY=$CREDGATE_ADMIN_KEY. A new login link for alice:

  curl -s -X POST -H "Authorization: Bearer $CREDGATE_ADMIN_KEY" \\
    -H 'Content-Type: application/json' -d '{"postLoginRedirectUrl":"$landed_url"}' \\
    $management_url/authorizationProviders/backend/authorizations/alice/getLoginLinks
EOF
  wait
fi
