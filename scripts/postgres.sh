#!/bin/sh
# Runs a throwaway PostgreSQL 15 server for the tests, listening on 127.0.0.1 only, with trust
# authentication for loopback connections and an empty database named credgate_test.
#
#   scripts/postgres.sh start   Starts the server unless it is running, creates credgate_test
#                               unless it exists, and prints the URL.
#   scripts/postgres.sh stop    Stops the server; the data folder stays for the next start.
#   scripts/postgres.sh url     Prints the URL, postgresql://postgres@127.0.0.1:<port>/credgate_test.
#
# Every command is idempotent. Only the URL goes to standard output; progress goes to standard
# error. CREDGATE_TEST_POSTGRES_PORT sets the port (default 54329). The data folder, the log
# (server.log) and the Unix socket are in /tmp/credgate-pg-<port>; delete that folder after a
# stop to start from an empty cluster. initdb and postgres refuse to run as root, so as root the
# script runs them as the `postgres` user through runuser.
set -eu

port=${CREDGATE_TEST_POSTGRES_PORT:-54329}
bin=${CREDGATE_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
folder=/tmp/credgate-pg-$port
data=$folder/data
database=credgate_test
url="postgresql://postgres@127.0.0.1:$port/$database"

# Runs a server program as the postgres user when this script runs as root.
as_server_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

initialize() {
  if [ -f "$data/PG_VERSION" ]; then
    return
  fi
  echo "postgres.sh: creating a cluster in $data" >&2
  rm -rf "$folder"
  mkdir -p "$folder"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$folder"
  fi
  chmod 700 "$folder"
  as_server_user "$bin/initdb" --pgdata="$data" --username=postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$folder/initdb.log" 2>&1 || {
    cat "$folder/initdb.log" >&2
    exit 1
  }
  # Loopback TCP and the folder's own socket only. The server holds only test data, so
  # durability settings are off, and a crash of the machine may lose that data.
  as_server_user sh -c "cat >'$data/pg_hba.conf'" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  as_server_user sh -c "cat >>'$data/postgresql.conf'" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$folder'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

is_running() {
  as_server_user "$bin/pg_ctl" status --pgdata="$data" >/dev/null 2>&1
}

start() {
  initialize
  if ! is_running; then
    echo "postgres.sh: starting PostgreSQL on 127.0.0.1:$port" >&2
    as_server_user "$bin/pg_ctl" start --pgdata="$data" --log="$folder/server.log" --wait \
      --timeout=60 >/dev/null || {
      tail -n 20 "$folder/server.log" >&2
      exit 1
    }
  fi
  exists=$("$bin/psql" --host=127.0.0.1 --port="$port" --username=postgres --dbname=postgres \
    --no-psqlrc --tuples-only --no-align \
    --command="SELECT 1 FROM pg_database WHERE datname = '$database'")
  if [ "$exists" != 1 ]; then
    "$bin/createdb" --host=127.0.0.1 --port="$port" --username=postgres "$database"
  fi
  echo "$url"
}

stop() {
  if [ -f "$data/PG_VERSION" ] && is_running; then
    echo "postgres.sh: stopping PostgreSQL on 127.0.0.1:$port" >&2
    as_server_user "$bin/pg_ctl" stop --pgdata="$data" --mode=fast --wait --timeout=60 >/dev/null
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
