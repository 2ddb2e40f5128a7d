#!/usr/bin/env bash
# A project-local Redis for what needs one (the shared rate limit's benchmark, a try by hand):
# never the system's Redis on 6379.
#
# Usage: scripts/redis.sh start DIR    installs Debian's redis-server if missing (through
#                                      scripts/ensure-tools.sh: apt-get update first), starts
#                                      one on a free port outside the ephemeral range
#                                      (scripts/ports.sh), reserved for DIR, on 127.0.0.1
#                                      only, with no persistence (no RDB snapshot, no
#                                      append-only file); DIR holds its pid file and log.
#                                      Prints its URL, redis://127.0.0.1:PORT/0, as the only
#                                      line of stdout.
#        scripts/redis.sh stop DIR     stops the one of DIR, by the pid in DIR/redis.pid,
#                                      releases its port and deletes DIR.
#
# The tests start theirs from Rust, the same way (crates/customer-api/tests/common/redis.rs).
set -euo pipefail

SCRIPTS=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/ports.sh
source "$SCRIPTS/ports.sh"

log() { printf 'redis.sh: %s\n' "$*" >&2; }
die() {
    printf 'redis.sh: error: %s\n' "$*" >&2
    exit 1
}

start() {
    local dir=$1 port
    mkdir -p -- "$dir"
    dir=$(cd -- "$dir" && pwd -P)
    [[ ! -s $dir/redis.pid ]] || ! kill -0 "$(cat -- "$dir/redis.pid")" 2>/dev/null ||
        die "a redis-server of $dir is running already (pid $(cat -- "$dir/redis.pid"))"
    "$SCRIPTS/ensure-tools.sh" redis-server
    port=$(free_ports 1 "$dir") || die "no free port"
    printf '%s\n' "$port" >"$dir/redis.port"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
    for _ in $(seq 1 100); do
        if port_listened "$port" && [[ -s $dir/redis.pid ]]; then
            log "redis-server (pid $(cat -- "$dir/redis.pid")) on 127.0.0.1:$port"
            printf 'redis://127.0.0.1:%s/0\n' "$port"
            return 0
        fi
        sleep 0.05
    done
    die "redis-server did not listen on $port: $(tail -n 5 "$dir/redis.log" 2>/dev/null)"
}

stop() {
    local dir=$1 pid
    [[ -d $dir ]] || return 0
    dir=$(cd -- "$dir" && pwd -P)
    if [[ -s $dir/redis.pid ]]; then
        pid=$(cat -- "$dir/redis.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
            done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
    fi
    [[ ! -s $dir/redis.port ]] || release_port "$(cat -- "$dir/redis.port")" "$dir"
    rm -rf -- "$dir"
}

case ${1:-} in
start | stop)
    (($# == 2)) || die "usage: $0 start|stop DIR"
    "$1" "$2"
    ;;
*)
    printf 'usage: %s start|stop DIR\n' "$0" >&2
    exit 2
    ;;
esac
