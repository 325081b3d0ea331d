#!/usr/bin/env bash
# Prepare a Debian 12 CI machine (run as root) for the Code Memory test suite:
# Deno, PostgreSQL 15 + pgvector + pg_cron + pgTAP + plpgsql_check, Redis, and the
# codememory_test database. Idempotent: a second run changes nothing and
# takes a few seconds.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
PG_VER=15
PG_CLUSTER="$PG_VER main"
PG_CONFIG="/usr/lib/postgresql/$PG_VER/bin/pg_config"
TEST_DB=codememory_test
LOG=/tmp/codememory-ci-setup.log
: >"$LOG"

log() { echo "setup: $*"; }

# Run a noisy command with its output in $LOG; show the tail only on failure.
quiet() {
  if ! "$@" >>"$LOG" 2>&1; then
    echo "setup: FAILED: $*" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi
}

# Quiet psql (no NOTICEs such as "extension already exists") that fails on errors.
psql_pg() { PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAtX "$@"; }

# apt-get update at most once, and only when something is actually installed.
APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    quiet apt-get update
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  quiet apt-get install -y --no-install-recommends "$@"
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed'; }

# pg_lsclusters' status of cluster $1 (empty when there is no such cluster).
pg_status() { pg_lsclusters -h | awk -v v="$PG_VER" -v c="$1" '$1 == v && $2 == c { print $4 }'; }
pg_online() { pg_status "${1:-main}" | grep -q online; }

# --- 1. Deno ---------------------------------------------------------------
if ! command -v deno >/dev/null; then
  log "installing deno via npm"
  quiet npm install -g deno
fi
deno --version

# --- 2. PostgreSQL and Redis running ----------------------------------------
if ! pg_online; then
  log "starting PostgreSQL $PG_CLUSTER"
  quiet pg_ctlcluster --skip-systemctl-redirect $PG_CLUSTER start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  log "starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 50); do redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  redis-cli ping | grep -q PONG
fi

# --- 3. pgvector -------------------------------------------------------------
# Not packaged for PG 15 in bookworm, so build trixie's source with PGXS.
if [ ! -f "/usr/share/postgresql/$PG_VER/extension/vector.control" ]; then
  # Reuse the Debian mirror the machine already uses (first non-security URI).
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE '(https?|file)://[^ ]+' | grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true)
  [ -n "$mirror" ] || { echo "setup: no Debian mirror found in apt sources" >&2; exit 1; }
  echo "deb-src ${mirror%/} trixie main" >/etc/apt/sources.list.d/trixie-src.list
  # Never take binary packages from trixie (only the source entry exists, but be explicit).
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: -1\n' >/etc/apt/preferences.d/trixie-never
  APT_UPDATED=0 # new source list => must update
  apt_install postgresql-server-dev-$PG_VER build-essential dpkg-dev
  build=$(mktemp -d /tmp/pgvector.XXXXXX)
  chown _apt "$build" 2>/dev/null || true # lets apt download sandboxed (no warning)
  log "building pgvector from trixie source"
  (cd "$build" && quiet apt-get source -t trixie pgvector)
  src=$(find "$build" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  # OPTFLAGS="" avoids -march=native so the build works on any x86-64 CPU.
  quiet make -C "$src" PG_CONFIG="$PG_CONFIG" OPTFLAGS=""
  quiet make -C "$src" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install
  rm -rf "$build"
fi

# --- 4/5. pg_cron, pgTAP, plpgsql_check and RUM (all packaged in bookworm) ----
# plpgsql_check is what `supabase db lint` runs (tests/db_lint_test.ts). RUM (a
# Supabase-supported extension) only for `deno task bench keyword`, which compares it with the
# keyword side the migrations use; nothing else needs it.
missing=()
for p in postgresql-$PG_VER-cron postgresql-$PG_VER-pgtap postgresql-$PG_VER-plpgsql-check \
  postgresql-$PG_VER-rum; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# Headless Chromium for the dashboard test (driven by playwright-core; Debian's build, since
# Playwright's own browser download cannot reach its host).
[ -x /usr/bin/chromium ] || apt_install chromium

# Claude Code's CLI, for tests/claude_code_cli_test.ts (`claude mcp add` + `claude mcp list`
# against the embedded stack). Pinned; its postinstall is not needed (npm skips it).
CLAUDE_CODE_VERSION=2.1.197
if ! claude --version 2>/dev/null | grep -q "^$CLAUDE_CODE_VERSION "; then
  log "installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION via npm"
  quiet npm install -g "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
fi

# pg_cron must be preloaded and may only be created in cron.database_name.
# Keep any libraries already preloaded by other config files.
libs=$(psql_pg -d postgres -c 'show shared_preload_libraries' | tr -d ' ')
case ",$libs," in *,pg_cron,*) ;; *) libs="${libs:+$libs,}pg_cron" ;; esac
conf=/etc/postgresql/$PG_VER/main/conf.d/codememory.conf
want=$(cat <<EOF
# Managed by scripts/ci/setup.sh (Code Memory CI)
shared_preload_libraries = '$libs'
cron.database_name = '$TEST_DB'
cron.use_background_workers = on
max_worker_processes = 20
EOF
)
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
  log "writing $conf and restarting PostgreSQL (preload settings need a restart)"
  printf '%s\n' "$want" >"$conf"
  chown postgres:postgres "$conf"
  quiet pg_ctlcluster --skip-systemctl-redirect $PG_CLUSTER restart
fi

# --- 6. Test database and extension checks ----------------------------------
# CI starts from an empty database so migrations are proven on a fresh schema every run.
if [ "${RESET_TEST_DB:-0}" = 1 ]; then
  log "dropping database $TEST_DB for a clean run"
  psql_pg -d postgres -c "drop database if exists $TEST_DB with (force)"
fi
if [ -z "$(psql_pg -d postgres -c "select 1 from pg_database where datname = '$TEST_DB'")" ]; then
  log "creating database $TEST_DB"
  psql_pg -d postgres -c "create database $TEST_DB owner postgres"
fi
# Hosted Supabase's default privileges, before any migration (as tests/helpers/db.ts does).
psql_pg -d "$TEST_DB" -f "$(dirname "$0")/supabase_defaults.sql"
# vector is created by the app's migrations; only prove it loads.
psql_pg -d "$TEST_DB" -c "begin; create extension if not exists vector; rollback;"
psql_pg -d "$TEST_DB" -c "create extension if not exists pg_cron"

# --- 7. A second cluster for the fault tests ---------------------------------
# tests/faults_database_test.ts stops and starts this server under load; the main cluster is
# never restarted by tests (other runs share it). Same version and extensions (pgvector,
# pg_cron preloaded), trust auth on 127.0.0.1 like the main cluster.
FAULTS_CLUSTER=faults
FAULTS_PORT=5433
FAULTS_DB=codememory_faults
if [ -z "$(pg_status $FAULTS_CLUSTER)" ]; then
  log "creating PostgreSQL cluster $PG_VER $FAULTS_CLUSTER on port $FAULTS_PORT"
  # With an explicit --auth, pg_createcluster keeps initdb's pg_hba.conf (trust) as it is.
  quiet pg_createcluster --start-conf=manual -p $FAULTS_PORT $PG_VER $FAULTS_CLUSTER -- --auth=trust
fi
conf=/etc/postgresql/$PG_VER/$FAULTS_CLUSTER/conf.d/codememory.conf
want=$(cat <<EOF
# Managed by scripts/ci/setup.sh (Code Memory CI: fault tests)
listen_addresses = '127.0.0.1'
shared_preload_libraries = 'pg_cron'
cron.database_name = '$FAULTS_DB'
cron.use_background_workers = on
max_worker_processes = 20
EOF
)
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
  log "writing $conf"
  printf '%s\n' "$want" >"$conf"
  chown postgres:postgres "$conf"
  if pg_online $FAULTS_CLUSTER; then
    quiet pg_ctlcluster --skip-systemctl-redirect $PG_VER $FAULTS_CLUSTER restart
  fi
fi
if ! pg_online $FAULTS_CLUSTER; then
  log "starting PostgreSQL $PG_VER $FAULTS_CLUSTER"
  quiet pg_ctlcluster --skip-systemctl-redirect $PG_VER $FAULTS_CLUSTER start
fi
psql_faults() { psql_pg -p $FAULTS_PORT "$@"; }
if [ "${RESET_TEST_DB:-0}" = 1 ]; then
  psql_faults -d postgres -c "drop database if exists $FAULTS_DB with (force)"
fi
if [ -z "$(psql_faults -d postgres -c "select 1 from pg_database where datname = '$FAULTS_DB'")" ]; then
  log "creating database $FAULTS_DB on port $FAULTS_PORT"
  psql_faults -d postgres -c "create database $FAULTS_DB owner postgres"
fi
psql_faults -d "$FAULTS_DB" -f "$(dirname "$0")/supabase_defaults.sql"
psql_faults -d "$FAULTS_DB" -c "begin; create extension if not exists vector; rollback;"
psql_faults -d "$FAULTS_DB" -c "create extension if not exists pg_cron"

echo "setup: ok"
