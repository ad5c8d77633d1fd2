#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for tests and local trials (no systemd, no service).
#
#   infra/postgres.sh start DIR PORT   create the cluster in DIR if needed, start it on
#                                      127.0.0.1:PORT, print its SQLAlchemy URL on stdout
#   infra/postgres.sh url DIR          print the SQLAlchemy URL again
#   infra/postgres.sh stop DIR         stop it (fast shutdown); DIR is kept
#
# The cluster has one role and one database, both named `pointcare`; the role is a superuser
# (tests may create a database per worker). Its random password is in DIR/password.
# Listens on 127.0.0.1 only; the Unix socket lives inside the data dir (DIR/data).
# Durability is traded for speed (fsync off): never point it at data you want to keep.
#
# As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root): DIR is
# handed to that user, so every parent folder of DIR must be searchable by it. /tmp/NAME is
# fine; pytest's tmp_path (under /tmp/pytest-of-root, mode 700) is not.
set -euo pipefail

ROLE=pointcare
DATABASE=pointcare

say() { printf 'postgres: %s\n' "$*" >&2; }
die() {
  say "ERROR: $*"
  exit 1
}

usage() {
  sed -n '4,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then
    printf '%s\n' "$PG_BIN"
    return
  fi
  local dir
  dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [[ -x "$dir/pg_ctl" ]]; then
    printf '%s\n' "$dir"
  elif command -v pg_config >/dev/null 2>&1; then
    pg_config --bindir
  else
    die "PostgreSQL server binaries not found; run infra/install-system-packages.sh as root"
  fi
}

as_pg() {
  # Run a PostgreSQL program as the postgres user when we are root, as ourselves otherwise.
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

is_running() { as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

print_url() {
  [[ -f "$DIR/password" && -f "$DIR/port" ]] || die "no cluster started in $DIR"
  printf 'postgresql+psycopg://%s:%s@127.0.0.1:%s/%s\n' \
    "$ROLE" "$(cat "$DIR/password")" "$(cat "$DIR/port")" "$DATABASE"
}

init_cluster() {
  say "creating a cluster in $DATA"
  rm -rf "$DATA"
  if ((EUID == 0)); then
    chown postgres: "$DIR"
    chmod 0700 "$DIR"
    runuser -u postgres -- test -w "$DIR" ||
      die "the postgres user cannot reach $DIR: a parent folder is not searchable by it (use a folder made by mktemp -d, not one inside it)"
  fi
  # initdb needs the password in a real file it can read (not a pipe): keep it as DIR/password.
  (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$DIR/password")
  if ((EUID == 0)); then chown postgres: "$DIR/password"; fi
  as_pg "$BIN/initdb" --pgdata="$DATA" --username="$ROLE" --pwfile="$DIR/password" \
    --auth-host=scram-sha-256 --auth-local=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync --no-instructions >"$DIR/initdb.log" 2>&1 ||
    die "initdb failed; see $DIR/initdb.log"
  # Settings that vary per start go to an included file rewritten by `start`.
  printf "\ninclude_if_exists = 'pointcare.conf'\n" | as_pg tee -a "$DATA/postgresql.conf" >/dev/null
}

start() {
  local port=$1
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
  mkdir -p "$DIR"
  if is_running; then
    say "already running in $DATA"
    print_url
    return
  fi
  [[ -f "$DATA/PG_VERSION" ]] || init_cluster
  as_pg tee "$DATA/pointcare.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DATA'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  printf '%s\n' "$port" >"$DIR/port"
  # pg_ctl waits (-w) until the server accepts connections; its log goes to DIR/postgres.log.
  if ((EUID == 0)); then
    touch "$DIR/postgres.log"
    chown postgres: "$DIR/postgres.log"
  fi
  as_pg "$BIN/pg_ctl" --pgdata="$DATA" --log="$DIR/postgres.log" --wait --timeout=60 \
    start >/dev/null || die "could not start; see $DIR/postgres.log"
  local psql=(as_pg "$BIN/psql" --host="$DATA" --port="$port" --username="$ROLE" --no-psqlrc -qtA)
  if [[ -z "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE $DATABASE" >/dev/null
  fi
  say "running on 127.0.0.1:$port (data $DATA, log $DIR/postgres.log)"
  print_url
}

stop() {
  if [[ ! -f "$DATA/PG_VERSION" ]] || ! is_running; then
    say "not running in $DATA"
    return
  fi
  as_pg "$BIN/pg_ctl" --pgdata="$DATA" --mode=fast --wait --timeout=60 stop >/dev/null
  say "stopped ($DATA)"
}

(($# >= 2)) || usage
command=$1
DIR=$(realpath -m -- "$2")
DATA=$DIR/data
[[ "$DIR" != *[[:space:]\'\"]* ]] || die "DIR must not contain spaces or quotes: $DIR"
BIN=$(pg_bin)

case "$command" in
  start)
    (($# == 3)) || usage
    start "$3"
    ;;
  stop) stop ;;
  url) print_url ;;
  *) usage ;;
esac
