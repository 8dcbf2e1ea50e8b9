#!/usr/bin/env bash
# Builds credgate's Debian package, installs it, starts the installed server the way its systemd
# unit does (as the credgate user, with the installed configuration), checks that it serves, and
# purges the package again. Needs root and a built tree.
#
#   tests/package/package_test.sh [BUILD_DIR]
#
# The server listens on free loopback ports given as flags, so the example configuration's
# ports may be in use. When systemd runs as PID 1 the unit itself is started too.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${1:-$repo_root/build}

fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
step() { echo "package_test: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root to install a package; run as root"
if dpkg-query -W -f='${Status}' credgate 2>/dev/null | grep -q "install ok installed"; then
  fail "a credgate package is installed already; remove it first (dpkg --purge credgate)"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  dpkg --purge credgate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

deb=$("$repo_root/scripts/package.sh" "$build_dir")
step "built $deb"
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i $deb"; }

step "checking the installed files"
[ -x /usr/bin/credgate ] || fail "/usr/bin/credgate is missing"
getent passwd credgate >/dev/null || fail "postinst did not create the user credgate"
[ "$(stat -c '%U %a' /var/lib/credgate)" = "credgate 700" ] ||
  fail "/var/lib/credgate is $(stat -c '%U %a' /var/lib/credgate), expected credgate 700"
[ "$(stat -c '%U:%G %a' /etc/credgate/credgate.yaml)" = "root:credgate 640" ] ||
  fail "/etc/credgate/credgate.yaml is $(stat -c '%U:%G %a' /etc/credgate/credgate.yaml)"
dpkg-query -W -f='${Conffiles}' credgate | grep -q /etc/credgate/credgate.yaml ||
  fail "/etc/credgate/credgate.yaml is not a conffile"
systemd-analyze verify /lib/systemd/system/credgate.service ||
  fail "systemd-analyze rejects credgate.service"
/usr/bin/credgate --help >/dev/null || fail "the installed binary does not run"

gateway_port=$(free_port)
management_port=$(free_port)
step "starting the installed server as credgate (gateway $gateway_port, management $management_port)"
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/credgate.service)
# shellcheck disable=SC2086
(umask 0077 && exec setpriv --reuid credgate --regid credgate --init-groups \
   $exec_start --gateway-listen "127.0.0.1:$gateway_port" \
   --management-listen "127.0.0.1:$management_port") >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$management_port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; fail "the server exited"; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$management_port/readyz" >/dev/null || fail "/readyz did not answer 200"

[ "$(stat -c '%U %a' /var/lib/credgate/admin.key)" = "credgate 600" ] ||
  fail "admin.key is $(stat -c '%U %a' /var/lib/credgate/admin.key), expected credgate 600"
admin_key=$(cat /var/lib/credgate/admin.key)
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin_key" \
  "http://127.0.0.1:$management_port/authorizationProviders")
[ "$status" = 200 ] || fail "GET /authorizationProviders with the generated admin key gave $status"

kill -TERM "$server_pid"
wait "$server_pid" || { cat "$work/server.log"; fail "the server exited with $? after SIGTERM"; }
server_pid=""

if [ -d /run/systemd/system ]; then
  step "starting credgate.service through systemd"
  systemctl start credgate.service
  systemctl is-active --quiet credgate.service || fail "credgate.service is not active"
  systemctl stop credgate.service
fi

step "purging"
dpkg --purge credgate >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge"; }
[ ! -e /var/lib/credgate ] || fail "purge left /var/lib/credgate"
! getent passwd credgate >/dev/null || fail "purge left the user credgate"
[ ! -e /usr/bin/credgate ] || fail "purge left /usr/bin/credgate"
step "ok"
