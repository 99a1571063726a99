#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh [--replica] CMD [ARGS...]
#
# Starts a throwaway PostgreSQL server (newest version under /usr/lib/postgresql) in a temp dir,
# listening on a free port on 127.0.0.1, with superuser `casework` (trust auth) and database
# `casework_test`; exports
#     CASEWORK_TEST_DATABASE_URL=postgresql+psycopg://casework@127.0.0.1:PORT/casework_test
# runs CMD, then always stops the server and deletes the dir. Exits with CMD's exit code.
#
# With --replica (or CASEWORK_TEST_REPLICA=1) it also makes a streaming replica of it (pg_basebackup -R, a
# second postmaster in hot standby on another free port) and exports
#     CASEWORK_TEST_REPLICA_URL=postgresql+psycopg://casework@127.0.0.1:RPORT/casework_test
# The primary then names it a synchronous standby, but its default synchronous_commit stays off: only a session
# that sets synchronous_commit=remote_apply waits until its commit is visible on the replica.
#
# initdb and pg_ctl refuse to run as root: as root they run as the `postgres` user.
set -euo pipefail

replica=
case ${CASEWORK_TEST_REPLICA:-} in 1 | true | yes) replica=1 ;; esac
if [ "${1:-}" = "--replica" ]; then
    replica=1
    shift
fi
if [ $# -eq 0 ]; then
    echo "usage: $0 [--replica] CMD [ARGS...]" >&2
    exit 2
fi

die() {
    echo "with-postgres: $*" >&2
    exit 1
}

# Newest server version present (numeric sort: 9.6 < 13 < 15 < 16).
pg_bin=
for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5n); do
    [ -x "$dir/initdb" ] && pg_bin=$dir
done
[ -n "$pg_bin" ] || die "no PostgreSQL server under /usr/lib/postgresql (run scripts/install-system.sh)"

if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the server as"
    as_pg=(runuser -u postgres --)
else
    as_pg=()
fi

# /tmp so that the postgres user can traverse the path when we are root.
tmp=$(mktemp -d /tmp/casework-pg.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$tmp"
data=$tmp/data
log=$tmp/postgres.log
rdata=$tmp/replica
rlog=$tmp/replica.log

pg() {
    # Run a server tool from inside the temp dir, so that it never needs to read the caller's cwd.
    (cd "$tmp" && "${as_pg[@]}" "$@")
}

cleanup() {
    if [ -f "$rdata/postmaster.pid" ]; then
        pg "$pg_bin/pg_ctl" -D "$rdata" -m fast -s stop >/dev/null 2>&1 \
            || pg "$pg_bin/pg_ctl" -D "$rdata" -m immediate -s stop >/dev/null 2>&1 || true
    fi
    if [ -f "$data/postmaster.pid" ]; then
        pg "$pg_bin/pg_ctl" -D "$data" -m fast -s stop >/dev/null 2>&1 \
            || pg "$pg_bin/pg_ctl" -D "$data" -m immediate -s stop >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg "$pg_bin/initdb" -D "$data" -A trust -U casework -E UTF8 --locale=C.UTF-8 --no-sync >"$tmp/initdb.log" 2>&1 \
    || { cat "$tmp/initdb.log" >&2; die "initdb failed (output above)"; }

# start_server DATA LOG READY OPTIONS: starts the server of DATA on a free port, logging to LOG, and sets
# $started_port once the command READY (given the port) succeeds; if another process grabs the port first,
# it tries again with a new one. Gives up after 30 s without a port clash.
start_server() {
    local sdata=$1 slog=$2 ready=$3 options=$4 sport
    started_port=
    for attempt in 1 2 3; do
        sport=$(free_port)
        pg "$pg_bin/pg_ctl" -D "$sdata" -l "$slog" -s -W -o "-p $sport -k $tmp -h 127.0.0.1 $options" start
        for _ in $(seq 1 60); do
            if "$ready" "$sport"; then
                started_port=$sport
                return 0
            fi
            if grep -qE 'could not (bind|create any TCP/IP sockets)' "$slog" 2>/dev/null; then
                echo "with-postgres: port $sport was taken, retrying" >&2
                pg "$pg_bin/pg_ctl" -D "$sdata" -m immediate -s stop >/dev/null 2>&1 || true
                : >"$slog"
                continue 2
            fi
            sleep 0.5
        done
        return 1
    done
    return 1
}

# The socket lives in our private dir, so a ready answer there is our own server.
primary_ready() {
    "$pg_bin/pg_isready" -q -h "$tmp" -p "$1" -t 1 && "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$1" -t 1
}

if ! start_server "$data" "$log" primary_ready "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
then
    echo "with-postgres: server log ($log):" >&2
    tail -n 40 "$log" >&2 || true
    die "PostgreSQL ($pg_bin) did not become ready on 127.0.0.1 within 30 s"
fi
port=$started_port

"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U casework casework_test \
    || die "could not create database casework_test"

export CASEWORK_TEST_DATABASE_URL="postgresql+psycopg://casework@127.0.0.1:${port}/casework_test"

primary_sql() {
    "$pg_bin/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U casework -d postgres -c "$1"
}

if [ -n "$replica" ]; then
    # initdb's pg_hba.conf already trusts replication from 127.0.0.1, and wal_level defaults to replica.
    [ "$(primary_sql 'SHOW wal_level')" != minimal ] || die "the primary runs with wal_level=minimal"
    pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$port" -U casework -D "$rdata" -R -X stream -c fast --no-sync \
        >"$tmp/basebackup.log" 2>&1 || { cat "$tmp/basebackup.log" >&2; die "pg_basebackup failed (output above)"; }
    replica_ready() {
        "$pg_bin/pg_isready" -q -h "$tmp" -p "$1" -t 1 \
            && [ "$(primary_sql "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ]
    }
    rready=
    if start_server "$rdata" "$rlog" replica_ready "-c hot_standby=on -c fsync=off -c cluster_name=replica"; then
        rready=1
        rport=$started_port
    fi
    if [ -z "$rready" ]; then
        echo "with-postgres: replica log ($rlog):" >&2
        tail -n 40 "$rlog" >&2 || true
        die "the replica did not stream from the primary within 30 s"
    fi
    primary_sql "ALTER SYSTEM SET synchronous_standby_names = '*'" && primary_sql "SELECT pg_reload_conf()" >/dev/null \
        || die "could not name the replica a synchronous standby"
    export CASEWORK_TEST_REPLICA_URL="postgresql+psycopg://casework@127.0.0.1:${rport}/casework_test"
fi

set +e
"$@"
status=$?
set -e
exit "$status"
