#!/usr/bin/env bash
# System side of the local stack: OS packages, the Python and Node toolchains,
# and dedicated PostgreSQL 15 clusters. Every step checks before it acts, so a
# second run, or a run after a crash, only does what is missing.
#
#   scripts/provision.sh tools              packages (unless DATABASE_URL), .venv, node_modules
#   scripts/provision.sh packages           PostgreSQL 15, pg_cron, pgTAP, plpgsql_check, PgBouncer,
#                                           promtool (apt)
#   scripts/provision.sh cluster NAME PORT  create/start a cluster (pg_cron on); pgmq as a local
#                                           extension like hosted's (needs .venv: `tools` first)
#   scripts/provision.sh stop NAME          stop a cluster if it runs
#   scripts/provision.sh restart NAME       restart a running cluster
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_MAJOR=15
UV_VERSION=0.13.9
# The local clusters' bootstrap superuser: the platform's admin role on hosted Supabase.
ADMIN_ROLE=supabase_admin
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

need_packages() {
  local ext=/usr/share/postgresql/$PG_MAJOR/extension
  [ -x /usr/lib/postgresql/$PG_MAJOR/bin/postgres ] &&
    command -v pg_createcluster >/dev/null &&
    command -v pg_prove >/dev/null &&
    [ -f $ext/pg_cron.control ] && [ -f $ext/pgtap.control ] &&
    [ -f $ext/plpgsql_check.control ] && [ -f $ext/btree_gist.control ] &&
    [ -x /usr/sbin/pgbouncer ] && command -v promtool >/dev/null
}

ensure_packages() {
  need_packages && return 0
  log "installing PostgreSQL $PG_MAJOR with pg_cron, pgTAP, plpgsql_check, PgBouncer, promtool (apt)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends \
    postgresql-$PG_MAJOR postgresql-client-$PG_MAJOR postgresql-contrib \
    postgresql-$PG_MAJOR-cron postgresql-$PG_MAJOR-pgtap \
    postgresql-$PG_MAJOR-plpgsql-check libtap-parser-sourcehandler-pgtap-perl \
    pgbouncer prometheus ca-certificates >/dev/null
  # Only their programs are used (the test tooling starts its own PgBouncer, `make lint` runs
  # promtool): the services the packages may have started are not part of the stack.
  for service in pgbouncer prometheus; do
    $SUDO service "$service" stop >/dev/null 2>&1 || true
  done
}

ensure_python() {
  # A pinned uv of our own, whatever else is on PATH.
  local uv="$ROOT/.tools/bin/uv"
  if [ ! -x "$uv" ] || [ "$("$uv" --version | awk '{print $2}')" != "$UV_VERSION" ]; then
    log "installing uv $UV_VERSION into .tools/"
    python3 -m venv "$ROOT/.tools"
    "$ROOT/.tools/bin/pip" install -q "uv==$UV_VERSION"
  fi
  # Use the OS trust store (it holds any TLS-intercepting proxy's CA).
  export UV_SYSTEM_CERTS=1 UV_PYTHON_DOWNLOADS=never
  if [ ! -x "$ROOT/.venv/bin/python" ]; then
    log "creating .venv"
    "$uv" venv --quiet --python python3 "$ROOT/.venv"
  fi
  if [ ! "$ROOT/.venv/.synced" -nt "$ROOT/requirements.lock" ]; then
    log "installing Python dependencies from requirements.lock"
    "$uv" pip sync --quiet --python "$ROOT/.venv/bin/python" --require-hashes "$ROOT/requirements.lock"
    touch "$ROOT/.venv/.synced"
  fi
}

ensure_node() {
  if [ -x "$ROOT/node_modules/.bin/supabase" ] &&
    [ "$ROOT/node_modules/.package-lock.json" -nt "$ROOT/package-lock.json" ]; then
    return 0
  fi
  log "installing node_modules (npm ci): Supabase CLI, type generators, tsc, supabase-js"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

cluster_exists() { pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | grep -qx "$PG_MAJOR $1"; }
cluster_running() { pg_lsclusters -h 2>/dev/null | awk -v c="$1" '$2 == c {print $4}' | grep -q online; }

ensure_cluster() {
  local name=$1 port=$2 conf=/etc/postgresql/$PG_MAJOR/$1
  if cluster_exists "$name" && ! bootstrapped_by_admin "$name"; then
    # Clusters from before the hosted-shaped roles had `postgres` as their bootstrap
    # superuser, which cannot be demoted: local data is disposable, so start again.
    log "recreating cluster $PG_MAJOR/$name: its bootstrap superuser is not $ADMIN_ROLE"
    $SUDO pg_dropcluster $PG_MAJOR "$name" --stop
  fi
  if ! cluster_exists "$name"; then
    log "creating cluster $PG_MAJOR/$name on port $port (superuser $ADMIN_ROLE)"
    $SUDO pg_createcluster $PG_MAJOR "$name" -p "$port" --start-conf=manual \
      -- --username="$ADMIN_ROLE" --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  # Rewritten on every run so a changed setting lands on the next start.
  local tuning=""
  if [ "${CAREOPS_FAST_CLUSTER:-0}" = 1 ]; then
    # Throwaway test data: durability is not worth the time.
    tuning=$'fsync = off\nsynchronous_commit = off\nfull_page_writes = off'
  fi
  $SUDO tee "$conf/conf.d/careops.conf" >/dev/null <<EOF
# Managed by scripts/provision.sh: Supabase-like settings for local work.
port = $port
listen_addresses = '127.0.0.1'
max_connections = 200
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
timezone = 'UTC'
log_min_messages = warning
$tuning
EOF
  if ! cluster_running "$name"; then
    log "starting cluster $PG_MAJOR/$name"
    start_cluster "$name"
  elif [ "$(psql_local "$port" -tAc 'show port')" != "$port" ] ||
    [ "$(psql_local "$port" -tAc 'show cron.database_name')" != postgres ]; then
    $SUDO pg_ctlcluster $PG_MAJOR "$name" restart
  fi
  for _ in $(seq 1 50); do
    psql_local "$port" -tAc 'select 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  ensure_postgres_role "$port"
}

# As on hosted Supabase (supabase/postgres migrations/db/migrations/10000000000000_demote-postgres.sql):
# `postgres` logs in and owns the project's objects but is not a superuser. The
# cluster's bootstrap superuser plays the platform's supabase_admin.
ensure_postgres_role() {
  psql_local "$1" -v ON_ERROR_STOP=1 -q >/dev/null <<'SQL'
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'postgres') then
        create role postgres;
    end if;
end
$$;
alter role postgres nosuperuser createdb createrole login replication bypassrls password 'postgres';
alter database postgres owner to postgres;
SQL
}

bootstrapped_by_admin() {
  # True unless the cluster answers and its bootstrap role (oid 10) is another one.
  local name=$1 port
  cluster_running "$name" || start_cluster "$name"
  port=$(pg_lsclusters -h | awk -v c="$name" '$2 == c {print $3}')
  for _ in $(seq 1 50); do
    pg_isready -q -h /var/run/postgresql -p "$port" && break
    sleep 0.2
  done
  pg_isready -q -h /var/run/postgresql -p "$port" || return 0
  [ "$(psql_local "$port" -tAc 'select rolname from pg_roles where oid = 10' 2>/dev/null)" = "$ADMIN_ROLE" ]
}

start_cluster() {
  # After a crash (a killed postmaster) the old processes and lock files can
  # linger for a moment; PostgreSQL clears stale locks once their pids are gone.
  local name=$1 data pid
  data=$(pg_lsclusters -h | awk -v c="$name" '$2 == c {print $6}')
  for _ in $(seq 1 15); do
    $SUDO pg_ctlcluster $PG_MAJOR "$name" start 2>/dev/null && return 0
    pid=$($SUDO head -1 "$data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      $SUDO rm -f "$data/postmaster.pid"
    fi
    sleep 1
  done
  $SUDO pg_ctlcluster $PG_MAJOR "$name" start
}

# pgmq as a local extension made like hosted's (supabase/compat/pgmq_extension.sql says how):
# the install SQL the pgmq package in .venv embeds, between that file's before and after parts;
# the default version. Beside it, hosted Supabase's pgmq 1.4.4 (supabase/compat/vendor, wrapped
# the same way): `create extension pgmq version '1.4.4'` (tests/test_pgmq_versions.py).
PGMQ_HOSTED_VERSION=1.4.4

install_if_changed() {
  # install_if_changed FILE DESTINATION: 0 when the destination already had that content.
  if [ -f "$2" ] && cmp -s "$1" "$2"; then
    rm -f "$1"
    return 0
  fi
  $SUDO install -m 0644 "$1" "$2" || exit 1
  rm -f "$1"
  return 1
}

wrapped_pgmq_sql() {
  # wrapped_pgmq_sql COMMAND...: pgmq's install SQL (the command's output) inside the wrapper.
  local wrapper=$ROOT/supabase/compat/pgmq_extension.sql
  sed -n '1,/^-- @PGMQ_INSTALL_SQL@$/p' "$wrapper"
  "$@"
  sed -n '/^-- @PGMQ_INSTALL_SQL@$/,$p' "$wrapper"
}

ensure_pgmq_extension() {
  local ext=/usr/share/postgresql/$PG_MAJOR/extension version built
  version=$("$ROOT/.venv/bin/python" -c 'from pgmq.install import get_embedded_sql_version as v; print(v())')
  built=$(mktemp)
  wrapped_pgmq_sql "$ROOT/.venv/bin/python" -c \
    'from pgmq.install import get_embedded_install_sql as s; print(s())' >"$built"
  install_if_changed "$built" "$ext/pgmq--$version.sql" ||
    log "installed pgmq $version as a local extension (made as on hosted Supabase)"
  built=$(mktemp)
  wrapped_pgmq_sql cat "$ROOT/supabase/compat/vendor/pgmq-$PGMQ_HOSTED_VERSION.sql" >"$built"
  install_if_changed "$built" "$ext/pgmq--$PGMQ_HOSTED_VERSION.sql" ||
    log "installed pgmq $PGMQ_HOSTED_VERSION (hosted Supabase's) as a second version of it"
  built=$(mktemp)
  cat >"$built" <<EOF
# Managed by scripts/provision.sh from supabase/compat/pgmq_extension.sql.
comment = 'pgmq $version from the pgmq Python package (also $PGMQ_HOSTED_VERSION as on hosted Supabase), installed as hosted Supabase installs pgmq'
default_version = '$version'
relocatable = false
trusted = true
EOF
  install_if_changed "$built" "$ext/pgmq.control" || true
}

psql_local() {
  local port=$1
  shift
  psql -X -h /var/run/postgresql -p "$port" -U "$ADMIN_ROLE" -d template1 "$@"
}

stop_cluster() {
  if cluster_exists "$1" && cluster_running "$1"; then
    log "stopping cluster $PG_MAJOR/$1"
    $SUDO pg_ctlcluster $PG_MAJOR "$1" stop -m fast
  fi
}

restart_cluster() {
  # pg_cron's launcher exits for good when its database is dropped or renamed;
  # a restart brings it back on the fresh database.
  cluster_running "$1" && $SUDO pg_ctlcluster $PG_MAJOR "$1" restart -m fast
}

case "${1:-}" in
  tools)
    # With DATABASE_URL the database is someone else's: no local PostgreSQL needed.
    [ -n "${DATABASE_URL:-}" ] || ensure_packages
    ensure_python
    ensure_node
    ;;
  cluster)
    ensure_packages
    ensure_pgmq_extension
    ensure_cluster "$2" "$3"
    ;;
  packages) ensure_packages ;;
  stop) stop_cluster "$2" ;;
  restart) restart_cluster "$2" ;;
  *)
    echo "usage: $0 tools | packages | cluster NAME PORT | stop NAME | restart NAME" >&2
    exit 2
    ;;
esac
