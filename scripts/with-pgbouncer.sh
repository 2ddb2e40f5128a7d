#!/usr/bin/env bash
# Usage: scripts/with-pgbouncer.sh CMD [ARGS...]
#
# Runs CMD with a PgBouncer in transaction mode in front of DATABASE_URL's server (any
# database name), its address exported as E2E_PGBOUNCER=127.0.0.1:PORT: the end-to-end
# tests then reach their databases through it, with `prepared_statements = false`
# (tests/tests/api/helpers.rs). Run it under scripts/with-db.sh, which sets DATABASE_URL.
# PgBouncer (Debian's, installed when missing) runs on a free port from a temporary
# directory and is stopped by its process id afterwards, also when CMD fails.
# Exits with CMD's exit status.
set -euo pipefail

if (($# == 0)); then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
[[ -n ${DATABASE_URL:-} ]] || {
    echo "with-pgbouncer.sh: DATABASE_URL is not set (run under scripts/with-db.sh)" >&2
    exit 2
}

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/ports.sh
source "$here/ports.sh"
"$here/ensure-tools.sh" pgbouncer

# postgres://user[:password]@host[:port]/database
rest=${DATABASE_URL#*://}
authority=${rest%%/*}
hostport=${authority##*@}
host=${hostport%%:*}
port=5432
[[ $hostport == *:* ]] && port=${hostport##*:}
[[ $host == localhost ]] && host=127.0.0.1

dir=$(mktemp -d /tmp/customer-api-pgbouncer.XXXXXX)
pid=""
# shellcheck disable=SC2317 # (run by the EXIT trap, not unreachable)
finish() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ -n $pid ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf -- "$dir"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

listen=$(free_ports 1 "$dir")
chmod 755 "$dir"
echo '"postgres" ""' >"$dir/userlist.txt"
cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
max_db_connections = 60
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
logfile = $dir/pgbouncer.log
EOF
chmod 644 "$dir"/*

# PgBouncer refuses to run as root: it switches to an unprivileged user then.
as_user=()
if ((EUID == 0)); then
    user=nobody
    id -u postgres >/dev/null 2>&1 && user=postgres
    as_user=(-u "$user")
    chown "$user" "$dir"
fi
/usr/sbin/pgbouncer -q "${as_user[@]}" "$dir/pgbouncer.ini" &
pid=$!

for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || {
        cat -- "$dir/pgbouncer.log" >&2 || true
        echo "with-pgbouncer.sh: pgbouncer exited" >&2
        exit 1
    }
    sleep 0.1
done
echo "with-pgbouncer.sh: PgBouncer (transaction mode) on 127.0.0.1:$listen in front of $host:$port" >&2

export E2E_PGBOUNCER=127.0.0.1:$listen
"$@"
