#!/usr/bin/env bash
# Usage: scripts/with-db.sh CMD [ARGS...]
#
# Runs CMD with DATABASE_URL exported.
#   - DATABASE_URL already set: used as is, nothing is started.
#   - else APP__DATABASE__URL set: exported as DATABASE_URL too, nothing is started.
#   - else: starts this checkout's local PostgreSQL (scripts/db.sh start),
#     exports its URL, runs CMD, and afterwards stops the server again if it
#     was not running before (unless KEEP_DB=1), also when CMD fails or is
#     interrupted.
# Exits with CMD's exit status.
set -euo pipefail

if (($# == 0)); then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

if [[ -n ${DATABASE_URL:-} ]]; then
    echo "with-db.sh: using DATABASE_URL from the environment" >&2
    exec "$@"
fi
if [[ -n ${APP__DATABASE__URL:-} ]]; then
    echo "with-db.sh: using APP__DATABASE__URL from the environment as DATABASE_URL" >&2
    export DATABASE_URL=$APP__DATABASE__URL
    exec "$@"
fi

DB_SH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/db.sh
stop_after=0

# shellcheck disable=SC2317 # (run by the EXIT trap, not unreachable)
finish() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if ((stop_after)); then
        if [[ ${KEEP_DB:-} == 1 ]]; then
            echo "with-db.sh: KEEP_DB=1: leaving the local PostgreSQL running (stop it with scripts/db.sh stop)" >&2
        else
            "$DB_SH" stop || echo "with-db.sh: warning: could not stop the local PostgreSQL" >&2
        fi
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if ! "$DB_SH" is-running; then
    stop_after=1 # set before starting, so that a failed or interrupted start is cleaned up too
fi
url=$("$DB_SH" start)
url=${url##*$'\n'}
if [[ -z $url ]]; then
    echo "with-db.sh: scripts/db.sh start printed no URL" >&2
    exit 1
fi
export DATABASE_URL=$url

set +e
"$@"
rc=$?
set -e
exit "$rc"
