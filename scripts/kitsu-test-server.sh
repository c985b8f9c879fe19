#!/usr/bin/env bash
# A throwaway Kitsu server (zou, from PyPI) for haikei's tests and for trying the Kitsu sync by hand.
#
#   scripts/kitsu-test-server.sh start    # PostgreSQL + Redis + zou on 127.0.0.1, admin account made
#   scripts/kitsu-test-server.sh status   # what runs, and the environment to use it
#   scripts/kitsu-test-server.sh env      # the lines to `eval` (HAIKEI_KITSU_HOST/EMAIL/PASSWORD)
#   scripts/kitsu-test-server.sh stop     # stops all three (the data folder stays)
#   scripts/kitsu-test-server.sh destroy  # stops and removes the data folder
#
# zou is AGPL: it runs as a separate server from its own virtualenv (KITSU_VENV, default .kitsu-venv,
# created here with `pip install zou` when missing); haikei only talks to it over HTTP with gazu.
# PostgreSQL and Redis are Debian's (apt-get install postgresql redis-server); they run as their
# own users (PostgreSQL refuses root). Everything binds 127.0.0.1 only.
#
# Settings (environment): KITSU_SERVER_DIR (data, logs, pids; default .kitsu-server),
# KITSU_PORT (zou, 58080), KITSU_PG_PORT (54329), KITSU_REDIS_PORT (63799),
# KITSU_ADMIN_EMAIL (admin@example.com), KITSU_ADMIN_PASSWORD (haikei-kitsu-test).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(realpath -m "${KITSU_SERVER_DIR:-$ROOT/.kitsu-server}")"
VENV="$(realpath -m "${KITSU_VENV:-$ROOT/.kitsu-venv}")"
PORT="${KITSU_PORT:-58080}"
PG_PORT="${KITSU_PG_PORT:-54329}"
REDIS_PORT="${KITSU_REDIS_PORT:-63799}"
EMAIL="${KITSU_ADMIN_EMAIL:-admin@example.com}"
PASSWORD="${KITSU_ADMIN_PASSWORD:-haikei-kitsu-test}"
HOST="http://127.0.0.1:$PORT"

die() { echo "kitsu-test-server: $*" >&2; exit 1; }
log() { echo "kitsu-test-server: $*" >&2; }

pg_bin() {
    local d
    if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        dirname "$(realpath "$(command -v pg_ctl)")"; return
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
    done
    return 1
}

# run a command as a service user when we are root (PostgreSQL refuses root), else as ourselves
as_user() {
    local user="$1"; shift
    if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

zou_env() {
    export DB_HOST=127.0.0.1 DB_PORT="$PG_PORT" DB_USERNAME=postgres DB_PASSWORD="" DB_DATABASE=zoudb
    export KV_HOST=127.0.0.1 KV_PORT="$REDIS_PORT"
    export SECRET_KEY="${KITSU_SECRET_KEY:-haikei-kitsu-test-secret-key-not-for-production-0123456789}"
    export PREVIEW_FOLDER="$DIR/previews" TMP_DIR="$DIR/tmp" FS_BACKEND=local MAIL_ENABLED=False MAIL_CHECK_DELIVERABILITY=False
    export INDEXER_KEY="" PLUGIN_FOLDER="$DIR/plugins"
}

need() {
    [ -x "$VENV/bin/zou" ] && [ -x "$VENV/bin/gunicorn" ] && return 0
    command -v python3 >/dev/null || die "python3 not found"
    log "installing zou into $VENV (once; takes a few minutes)"
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check zou >"$DIR/pip.log" 2>&1 \
        || die "pip install zou failed (see $DIR/pip.log)"
}

pg_running() { [ -f "$DIR/pg/postmaster.pid" ] && as_user postgres "$(pg_bin)/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1; }
redis_running() { [ -f "$DIR/redis.pid" ] && kill -0 "$(cat "$DIR/redis.pid")" 2>/dev/null; }
zou_running() { [ -f "$DIR/zou.pid" ] && kill -0 "$(cat "$DIR/zou.pid")" 2>/dev/null; }

start_pg() {
    local bin; bin="$(pg_bin)" || die "PostgreSQL server binaries not found; apt-get install postgresql"
    if [ ! -f "$DIR/pg/PG_VERSION" ]; then
        mkdir -p "$DIR/pg"
        [ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg"
        as_user postgres "$bin/initdb" -D "$DIR/pg" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 \
            || die "initdb failed (see $DIR/initdb.log)"
    fi
    pg_running && return 0
    as_user postgres "$bin/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/postgres.log" -w -t 60 start \
        -o "-h 127.0.0.1 -p $PG_PORT -k '' -c fsync=off -c full_page_writes=off -c max_connections=200" \
        </dev/null >/dev/null 2>&1 \
        || die "PostgreSQL did not start (see $DIR/pg/postgres.log)"
}

start_redis() {
    command -v redis-server >/dev/null || die "redis-server not found; apt-get install redis-server"
    redis_running && return 0
    mkdir -p "$DIR/redis"
    local user=redis; id redis >/dev/null 2>&1 || user="$(id -un)"
    [ "$(id -u)" = 0 ] && chown "$user": "$DIR/redis"
    as_user "$user" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" --save '' \
        --appendonly no --daemonize yes --pidfile "$DIR/redis/redis.pid" --logfile "$DIR/redis/redis.log" \
        </dev/null >/dev/null 2>&1 || die "redis-server did not start (see $DIR/redis/redis.log)"
    for _ in $(seq 50); do [ -s "$DIR/redis/redis.pid" ] && break; sleep 0.1; done
    cp "$DIR/redis/redis.pid" "$DIR/redis.pid"
}

init_zou() {
    [ -f "$DIR/zou.initialised" ] && return 0
    local bin; bin="$(pg_bin)"
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtc "SELECT 1 FROM pg_database WHERE datname='zoudb'" \
        | grep -q 1 || "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres zoudb
    zou_env
    (cd "$DIR" && "$VENV/bin/zou" init-db && "$VENV/bin/zou" init-data --domain 2d \
        && "$VENV/bin/zou" create-admin "$EMAIL" --password "$PASSWORD") >"$DIR/init.log" 2>&1 \
        || die "zou init failed (see $DIR/init.log)"
    touch "$DIR/zou.initialised"
}

start_zou() {
    zou_running && return 0
    zou_env
    mkdir -p "$PREVIEW_FOLDER" "$TMP_DIR" "$PLUGIN_FOLDER"
    (cd "$DIR" && "$VENV/bin/gunicorn" -b "127.0.0.1:$PORT" --no-control-socket -w "${KITSU_WORKERS:-3}" \
        --timeout 120 --pid "$DIR/zou.pid" --access-logfile - zou.app:app </dev/null >"$DIR/zou.log" 2>&1 &)
    for _ in $(seq 300); do
        curl -fs "$HOST/" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "zou did not answer on $HOST/ (see $DIR/zou.log)"
}

print_env() {
    echo "export HAIKEI_KITSU_HOST=$HOST"
    echo "export HAIKEI_KITSU_EMAIL=$EMAIL"
    echo "export HAIKEI_KITSU_PASSWORD=$PASSWORD"
}

stop_all() {
    if zou_running; then
        local pid; pid="$(cat "$DIR/zou.pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$DIR/zou.pid"
    if redis_running; then
        local pid; pid="$(cat "$DIR/redis.pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$DIR/redis.pid"
    if [ -f "$DIR/pg/postmaster.pid" ]; then
        as_user postgres "$(pg_bin)/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

case "${1:-}" in
    start)
        mkdir -p "$DIR" && chmod 0755 "$DIR"   # the postgres and redis users must reach their folders
        if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$DIR"; then
            die "$DIR is not reachable by the postgres user (a private home folder?); set KITSU_SERVER_DIR elsewhere, e.g. /tmp/kitsu"
        fi
        need
        start_redis   # first: every zou command stalls without it
        start_pg
        init_zou
        start_zou
        log "Kitsu (zou) up at $HOST as $EMAIL (data in $DIR)"
        print_env
        ;;
    stop) stop_all; log "stopped" ;;
    destroy) stop_all; rm -rf "$DIR"; log "removed $DIR" ;;
    status)
        zou_running && echo "zou: running at $HOST" || echo "zou: stopped"
        redis_running && echo "redis: running on 127.0.0.1:$REDIS_PORT" || echo "redis: stopped"
        pg_running && echo "postgresql: running on 127.0.0.1:$PG_PORT" || echo "postgresql: stopped"
        zou_running || exit 3
        ;;
    env) print_env ;;
    *) echo "usage: $0 start|stop|status|env|destroy" >&2; exit 2 ;;
esac
