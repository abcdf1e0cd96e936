#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a loopback port, for the tests that run against PostgreSQL.
#   tools/postgres.sh start DIR [durable]
#                                 initdb (as the postgres user when run as root) and pg_ctl start;
#                                 prints the superuser URL the tests read from
#                                 PULSO_TEST_POSTGRES_URL. Tests run without fsync; `durable`
#                                 keeps PostgreSQL's defaults, for benchmarks against SQLite.
#   tools/postgres.sh restart DIR restarts it on the same port (fast shutdown: open sessions end)
#   tools/postgres.sh stop DIR    stops it (the folder can then be deleted)
# Needs Debian's postgresql package (initdb and pg_ctl under /usr/lib/postgresql/*/bin).
set -euo pipefail
command=${1:?start or stop}
dir=${2:?a folder for the cluster}
dir=$(realpath -m -- "$dir")  # absolute: commands for the postgres user run from /

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[[ -x "$bin/initdb" ]] || { echo "PostgreSQL's initdb is missing: apt-get install postgresql" >&2; exit 1; }

# initdb refuses to run as root; the cluster then belongs to the postgres user.
as_owner() {
  # From /, which the postgres user can enter (the caller's folder may be under /root).
  if [[ $(id -u) -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

case $command in
start)
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  password=pulso-test-$RANDOM$RANDOM
  echo "$password" > "$dir/.pwfile"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir/.pwfile"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/.pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
  rm -f "$dir/.pwfile"
  # Loopback only, a socket in the cluster folder; a throwaway test cluster need not survive a
  # crash, so it skips the syncs unless asked to be durable.
  options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200"
  if [[ ${3:-} != durable ]]; then
    options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start -o "$options" >/dev/null
  echo "postgres://postgres:$password@127.0.0.1:$port/postgres"
  ;;
restart)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w restart >/dev/null
  ;;
stop)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
*)
  echo "usage: tools/postgres.sh start|restart|stop DIR" >&2
  exit 2
  ;;
esac
