#!/usr/bin/env bash
# Starts a PostgreSQL server for the tests at 127.0.0.1:5432 (user postgres, trust
# auth) unless one already answers there: installs the postgresql package when it
# is missing, then runs a throwaway cluster under /tmp/spass-pg. Needs root for
# apt and to run the server as the postgres user. .ci/run calls it.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if command -v pg_isready >/dev/null && ready; then
  exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=/tmp/spass-pg
mkdir -p "$dir"
chown postgres "$dir"
as_postgres() { runuser -u postgres -- "$@"; }
if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
fi
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=5432 -c unix_socket_directories=$dir -c fsync=off" start >/dev/null
for _ in $(seq 1 50); do ready && exit 0; sleep 0.1; done
echo "PostgreSQL did not start; see $dir/log" >&2
exit 1
