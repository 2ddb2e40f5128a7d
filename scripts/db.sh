#!/usr/bin/env bash
# A project-local PostgreSQL server for customer-api.
#
# Usage: scripts/db.sh start|stop|reset|status|url|is-running
#
#   start       install PostgreSQL if needed, initialise the cluster on first
#               use, start it if it is not running, create the database
#               "customer_api" if missing; prints the DATABASE_URL as the last
#               (only) line of stdout, everything else goes to stderr
#   stop        stop this checkout's server if it is running
#   reset       stop, then delete the data directory (and its log)
#   status      say whether the server is running
#   url         print the DATABASE_URL
#   is-running  exit 0 if the server is running, 1 otherwise
#
# The server belongs to this checkout alone: its own data directory, its own
# port on 127.0.0.1 only, trust authentication, superuser "postgres". It never
# touches any other PostgreSQL server (such as a system one on port 5432).
#
# Where things live:
#   data directory  <repo>/.pgdata, log <repo>/.pgdata.log. When the script
#                   runs as root, the server runs as the unprivileged user
#                   "postgres" (or "customer-api-pg", created on demand); if
#                   that user cannot reach the repository, the data directory is
#                   ${XDG_STATE_HOME:-/var/tmp}/customer-api-pg-<hash of repo path>
#                   instead, with its log beside it (<data dir>.log).
#   Unix socket     inside the data directory (TCP only if that path is too long)
#
# The port: the running server's; else the one this data directory had last time (in
# <data dir>.port), 15432 (for the checkout's own server), or a free port found at start,
# whichever is first free and outside the kernel's ephemeral port range (scripts/ports.sh
# says why); it is remembered in <data dir>.port, so the URL stays the same from one start
# to the next, and reserved for the data directory until a reset, so that no other server
# started by these scripts or the tests takes it while this one is stopped.
#
# Environment:
#   LOCAL_PG_PORT     TCP port to use, and nothing else (default: see above)
#   LOCAL_PG_PREFERRED_PORT  the port tried first when none is remembered (default 15432
#                     for the checkout's own server, none with LOCAL_PG_DATA)
#   LOCAL_PG_DATA     data directory to use instead of the default
#   LOCAL_PG_BIN      directory with postgres, initdb and pg_ctl (default: the
#                     newest /usr/lib/postgresql/<version>/bin)
#   LOCAL_PG_OS_USER  OS user that runs the server when invoked as root
#   LOCAL_PG_STOP_MODE  pg_ctl shutdown mode for stop: fast (default) or immediate
set -euo pipefail

# Everything written to stdout goes to stderr, except what is written
# deliberately to fd 3 (the original stdout): the URL, the status line.
exec 3>&1 1>&2

readonly DB_NAME=customer_api
readonly DB_SUPERUSER=postgres
readonly HOST=127.0.0.1
readonly FALLBACK_OS_USER=customer-api-pg
# The port tried first when none is remembered: 15432 for the checkout's own server, none
# for one at LOCAL_PG_DATA (a test's), unless LOCAL_PG_PREFERRED_PORT names one.
if [[ -n ${LOCAL_PG_PREFERRED_PORT:-} ]]; then
    PREFERRED_PORT=$LOCAL_PG_PREFERRED_PORT
elif [[ -z ${LOCAL_PG_DATA:-} ]]; then
    PREFERRED_PORT=15432
else
    PREFERRED_PORT=""
fi
readonly PREFERRED_PORT
PORT=${LOCAL_PG_PORT:-${PREFERRED_PORT:-15432}}

SCRIPT_PATH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/$(basename -- "${BASH_SOURCE[0]}")
# shellcheck source=scripts/ports.sh
source "$(dirname -- "$SCRIPT_PATH")/ports.sh"
REPO_ROOT=$(cd -- "$(dirname -- "$SCRIPT_PATH")/.." && pwd -P)
IN_REPO_DATA=$REPO_ROOT/.pgdata
REPO_HASH=$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)
EXTERNAL_NAME=customer-api-pg-$REPO_HASH

DATA=""       # data directory in use
LOG=""        # server log file
PORT_FILE=""  # the port this data directory's server had last
BIN=""        # directory holding postgres, initdb, pg_ctl
VERSION=""    # major version of the binaries in $BIN
RUN_AS=""     # OS user that runs initdb/pg_ctl/postgres; empty: the current user
APT_UPDATED=0
LOCKED=0

log() { printf 'db.sh: %s\n' "$*" >&2; }
die() {
    printf 'db.sh: error: %s\n' "$*" >&2
    exit 1
}

if ! [[ $PORT =~ ^[1-9][0-9]{0,4}$ ]] || ((PORT > 65535)); then
    die "LOCAL_PG_PORT must be a TCP port number, got '$PORT'"
fi

database_url() { printf 'postgres://%s@%s:%s/%s\n' "$DB_SUPERUSER" "$HOST" "$PORT" "$DB_NAME"; }

# Serialise start/stop/reset of this checkout's server (lock on this script).
take_lock() {
    ((LOCKED)) && return 0
    command -v flock >/dev/null 2>&1 || return 0
    exec 9<"$SCRIPT_PATH"
    if ! flock -w 300 9; then
        die "another scripts/db.sh of this checkout has held the lock for 5 minutes; giving up"
    fi
    LOCKED=1
}

# Runs a command as $RUN_AS (or as ourselves), from /, with every file
# descriptor above 2 closed, so that a server started by it holds neither our
# lock nor a pipe of whoever called us.
as_pg() {
    (
        cd /
        local fd
        for fd in /proc/"$BASHPID"/fd/*; do
            fd=${fd##*/}
            if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then
                exec {fd}>&-
            fi
        done
        if [[ -z $RUN_AS ]]; then
            exec "$@"
        fi
        command -v runuser >/dev/null 2>&1 || die "runuser (util-linux) is needed to run PostgreSQL as $RUN_AS"
        exec runuser -u "$RUN_AS" -- "$@"
    )
}

# ---------------------------------------------------------------------------
# PostgreSQL binaries

is_server_bin() { [[ -n $1 && -x $1/postgres && -x $1/initdb && -x $1/pg_ctl ]]; }

pg_major() { # major version of the postgres binary in dir $1
    "$1/postgres" --version | awk '{
        for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+(\.[0-9]+)*$/ || $i ~ /^[0-9]+(\.[0-9]+)*[a-z]/) {
            split($i, v, "."); if (v[1] + 0 < 10) print v[1] "." v[2]; else print v[1] + 0; exit
        }
    }'
}

# Sets BIN and VERSION; prefers version $1 (the data directory's) if installed.
find_bin() {
    local want=${1:-} d p
    BIN=""
    if [[ -n ${LOCAL_PG_BIN:-} ]]; then
        is_server_bin "$LOCAL_PG_BIN" || die "LOCAL_PG_BIN=$LOCAL_PG_BIN does not contain postgres, initdb and pg_ctl"
        BIN=$LOCAL_PG_BIN
    elif [[ -n $want ]] && is_server_bin "/usr/lib/postgresql/$want/bin"; then
        BIN=/usr/lib/postgresql/$want/bin
    else
        while IFS= read -r d; do
            if is_server_bin "$d"; then
                BIN=$d
                break
            fi
        done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -r -V)
        if [[ -z $BIN ]] && p=$(command -v pg_ctl 2>/dev/null); then
            d=$(dirname -- "$(readlink -f -- "$p")")
            if is_server_bin "$d"; then BIN=$d; fi
        fi
    fi
    [[ -n $BIN ]] || return 1
    VERSION=$(pg_major "$BIN")
    [[ -n $VERSION ]] || die "cannot tell the version of $BIN/postgres"
}

client_tool() { # path of client program $1: from $BIN, else from PATH
    if [[ -n $BIN && -x $BIN/$1 ]]; then
        printf '%s\n' "$BIN/$1"
    else
        command -v "$1" 2>/dev/null
    fi
}

apt_install() {
    local sudo=()
    if ! command -v apt-get >/dev/null 2>&1; then
        die "no apt-get on this machine: install these packages (or their equivalents) by hand: $*"
    fi
    if ((EUID != 0)); then
        if ! command -v sudo >/dev/null 2>&1; then
            die "not root and no sudo: install these packages as root, then re-run: apt-get install -y $*"
        fi
        sudo=(sudo)
        [[ -t 0 ]] || sudo+=(-n)
    fi
    if ((!APT_UPDATED)); then
        log "running apt-get update"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
            die "apt-get update failed; install by hand: apt-get install -y $*"
        APT_UPDATED=1
    fi
    log "installing $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" ||
        die "apt-get install failed; install by hand: apt-get install -y $*"
}

ensure_bin() {
    local want=${1:-}
    if ! find_bin "$want"; then
        log "no PostgreSQL server found (looked in /usr/lib/postgresql/*/bin and for pg_ctl on PATH)"
        apt_install postgresql postgresql-contrib
        find_bin "$want" || die "PostgreSQL was installed but no server binaries were found; install the packages postgresql and postgresql-contrib"
    fi
    if [[ -n $want && $want != "$VERSION" ]]; then
        die "the data directory $DATA was created by PostgreSQL $want, but the server found is $VERSION ($BIN). Install postgresql-$want, or delete the local data with: $SCRIPT_PATH reset"
    fi
    log "using PostgreSQL $VERSION from $BIN"
}

have_pg_trgm() {
    local d sharedir=""
    if [[ -x $BIN/pg_config ]]; then sharedir=$("$BIN/pg_config" --sharedir 2>/dev/null || true); fi
    for d in "$sharedir" "/usr/share/postgresql/$VERSION" "$BIN/../share/postgresql" "$BIN/../share"; do
        if [[ -n $d && -f $d/extension/pg_trgm.control ]]; then return 0; fi
    done
    return 1
}

ensure_pg_trgm() {
    have_pg_trgm && return 0
    log "the pg_trgm extension is not installed for PostgreSQL $VERSION"
    local pkg=postgresql-contrib
    if command -v apt-cache >/dev/null 2>&1; then
        if ((!APT_UPDATED)) && command -v apt-get >/dev/null 2>&1 && ((EUID == 0)); then
            DEBIAN_FRONTEND=noninteractive apt-get update -q && APT_UPDATED=1
        fi
        if apt-cache show "postgresql-contrib-$VERSION" >/dev/null 2>&1; then pkg=postgresql-contrib-$VERSION; fi
    fi
    apt_install "$pkg"
    have_pg_trgm || die "pg_trgm is still missing for PostgreSQL $VERSION after installing $pkg; install the contrib modules of PostgreSQL $VERSION"
}

# ---------------------------------------------------------------------------
# Data directory and the OS user that owns it

external_bases() {
    if [[ -n ${XDG_STATE_HOME:-} ]]; then printf '%s\n' "$XDG_STATE_HOME"; fi
    printf '%s\n' /var/tmp /tmp
}

set_data() {
    DATA=$1
    LOG=$DATA.log
    PORT_FILE=$DATA.port
}

# Sets DATA to this checkout's existing data directory; returns 1 if none.
locate_data() {
    local base
    if [[ -n ${LOCAL_PG_DATA:-} ]]; then
        set_data "$(realpath -m -- "$LOCAL_PG_DATA")"
        [[ -e $DATA ]]
        return
    fi
    if [[ -e $IN_REPO_DATA ]]; then
        set_data "$IN_REPO_DATA"
        return 0
    fi
    while IFS= read -r base; do
        if [[ -e $base/$EXTERNAL_NAME ]]; then
            set_data "$base/$EXTERNAL_NAME"
            return 0
        fi
    done < <(external_bases)
    set_data "$IN_REPO_DATA"
    return 1
}

data_version() { if [[ -f $DATA/PG_VERSION ]]; then cat -- "$DATA/PG_VERSION"; fi; }

# When root: RUN_AS := owner of the existing data directory (if not root).
run_as_owner() {
    RUN_AS=""
    ((EUID == 0)) || return 0
    if [[ -e $DATA ]]; then
        local owner
        owner=$(stat -c %U -- "$DATA")
        if [[ $owner != root && $owner != UNKNOWN ]]; then RUN_AS=$owner; fi
    fi
}

# When root: RUN_AS := a suitable unprivileged user, created if need be.
run_as_default() {
    local user=${LOCAL_PG_OS_USER:-}
    if [[ -z $user ]]; then
        if id -u postgres >/dev/null 2>&1; then user=postgres; else user=$FALLBACK_OS_USER; fi
    fi
    if ! id -u "$user" >/dev/null 2>&1; then
        log "creating system user $user to run the local PostgreSQL server"
        local shell=/usr/sbin/nologin
        [[ -x $shell ]] || shell=/bin/false
        if command -v useradd >/dev/null 2>&1; then
            useradd --system --user-group --no-create-home --home-dir /nonexistent --shell "$shell" "$user"
        elif command -v adduser >/dev/null 2>&1; then
            adduser --system --group --no-create-home --home /nonexistent --shell "$shell" "$user"
        else
            die "cannot create the system user $user (no useradd/adduser); create it, or set LOCAL_PG_OS_USER to an existing unprivileged user"
        fi
    fi
    [[ $(id -u "$user") != 0 ]] || die "PostgreSQL cannot run as $user (uid 0); set LOCAL_PG_OS_USER to an unprivileged user"
    RUN_AS=$user
}

can_reach() { as_pg test -x "$1" 2>/dev/null; } # can RUN_AS traverse into dir $1?

# For start: decide RUN_AS and DATA (which may not exist yet).
prepare_data_location() {
    local base existing=0
    locate_data && existing=1
    ((EUID == 0)) || return 0
    if ((existing)); then
        run_as_owner
        [[ -n $RUN_AS ]] || run_as_default
    else
        run_as_default
    fi
    if [[ -n ${LOCAL_PG_DATA:-} ]] || ((existing)); then
        local parent
        parent=$(dirname -- "$DATA")
        while [[ ! -e $parent ]]; do parent=$(dirname -- "$parent"); done
        can_reach "$parent" ||
            die "$RUN_AS cannot reach $parent; make the path traversable (chmod o+x), set LOCAL_PG_DATA elsewhere, or run: $SCRIPT_PATH reset"
        return 0
    fi
    can_reach "$REPO_ROOT" && return 0
    while IFS= read -r base; do
        if [[ -d $base ]] && can_reach "$base"; then
            set_data "$base/$EXTERNAL_NAME"
            log "$RUN_AS cannot access $REPO_ROOT, so the data directory is $DATA (log $LOG)"
            return 0
        fi
    done < <(external_bases)
    die "no directory found that $RUN_AS can reach for the data directory; set LOCAL_PG_DATA"
}

fix_ownership() {
    [[ -n $RUN_AS && -d $DATA ]] || return 0
    if [[ $(stat -c %U -- "$DATA") != "$RUN_AS" ]]; then
        log "giving $DATA to $RUN_AS"
        chown -R "$RUN_AS:" -- "$DATA"
    fi
    chmod 700 -- "$DATA"
}

init_cluster() {
    [[ -f $DATA/PG_VERSION ]] && return 0
    if [[ -e $DATA ]]; then
        if [[ -d $DATA && -z $(ls -A -- "$DATA") ]]; then
            rmdir -- "$DATA"
        else
            die "$DATA exists but is not a PostgreSQL data directory; move it away, or delete it with: $SCRIPT_PATH reset"
        fi
    fi
    local tmp=$DATA.initdb-tmp locale=C
    if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then locale=C.UTF-8; fi
    rm -rf -- "$tmp"
    mkdir -p -- "$(dirname -- "$DATA")"
    mkdir -m 700 -- "$tmp"
    if [[ -n $RUN_AS ]]; then chown "$RUN_AS:" -- "$tmp"; fi
    local opts=(-U "$DB_SUPERUSER" --auth=trust -E UTF8)
    if "$BIN/initdb" --help 2>/dev/null | grep -q -- --no-instructions; then opts+=(--no-instructions); fi
    log "initialising a new PostgreSQL $VERSION cluster in $DATA (locale $locale)"
    if ! as_pg "$BIN/initdb" -D "$tmp" "${opts[@]}" --locale="$locale" >&2; then
        if [[ $locale == C ]]; then
            rm -rf -- "$tmp"
            die "initdb failed"
        fi
        log "initdb failed with locale $locale; retrying with locale C"
        rm -rf -- "$tmp"
        mkdir -m 700 -- "$tmp"
        if [[ -n $RUN_AS ]]; then chown "$RUN_AS:" -- "$tmp"; fi
        as_pg "$BIN/initdb" -D "$tmp" "${opts[@]}" --locale=C >&2 || {
            rm -rf -- "$tmp"
            die "initdb failed"
        }
    fi
    mv -- "$tmp" "$DATA"
}

# ---------------------------------------------------------------------------
# The running server

# Prints the postmaster pid if this data directory's server is running: the
# pid in postmaster.pid must be a live postgres process whose working
# directory is $DATA (the postmaster chdirs to its data directory), so a stale
# pid file whose pid now belongs to another process never counts.
server_pid() {
    local pid exe cwd
    [[ -n $DATA && -r $DATA/postmaster.pid ]] || return 1
    pid=$(head -n 1 -- "$DATA/postmaster.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    if [[ -d /proc/self ]]; then
        [[ -d /proc/$pid ]] || return 1
        exe=$(readlink -- "/proc/$pid/exe" 2>/dev/null) || return 1
        exe=${exe% (deleted)}
        [[ ${exe##*/} == postgres || ${exe##*/} == postmaster ]] || return 1
        cwd=$(readlink -- "/proc/$pid/cwd" 2>/dev/null) || return 1
        [[ $cwd == "$(realpath -- "$DATA")" ]] || return 1
    else
        kill -0 "$pid" 2>/dev/null || return 1
    fi
    printf '%s\n' "$pid"
}

server_port() { sed -n 4p -- "$DATA/postmaster.pid" 2>/dev/null; } # port the running server was started with

remove_stale_lock_files() {
    local f
    for f in "$DATA/postmaster.pid" "$DATA"/.s.PGSQL.*.lock; do
        if [[ -e $f ]]; then
            log "removing stale $f (its process is not running)"
            rm -f -- "$f"
        fi
    done
}

psql_c() { # run one SQL statement on database postgres, print tuples only
    local psql
    psql=$(client_tool psql) || die "psql not found (it comes with the package postgresql-client)"
    "$psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$DB_SUPERUSER" -d postgres -tA -c "$1"
}

accepting() {
    local isready
    if isready=$(client_tool pg_isready); then
        "$isready" -q -h "$HOST" -p "$PORT" -U "$DB_SUPERUSER" -d postgres
    else
        psql_c 'select 1' >/dev/null 2>&1
    fi
}

# Starts the server on $PORT. Returns 2 when that port turned out to be taken (the
# server could not bind it), dies on any other failure.
start_server() {
    local sock=$DATA logged
    [[ $DATA != *"'"* ]] || die "the data directory path must not contain a single quote: $DATA"
    # sun_path holds at most 107 bytes: "<dir>/.s.PGSQL.<port>"
    if ((${#DATA} + 10 + ${#PORT} > 107)); then
        log "the data directory path is too long for a Unix socket; the server listens on TCP only"
        sock=""
    fi
    touch -- "$LOG"
    if [[ -n $RUN_AS ]]; then chown "$RUN_AS:" -- "$LOG"; fi
    logged=$(stat -c %s -- "$LOG")
    log "starting PostgreSQL $VERSION on $HOST:$PORT (data $DATA, log $LOG)"
    if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 120 -o "-p $PORT -h $HOST -k '$sock'" start >&2; then
        if tail -c +$((logged + 1)) -- "$LOG" | grep -q 'could not bind'; then
            log "port $PORT was taken when the server started"
            return 2
        fi
        log "last lines of $LOG:"
        tail -n 20 -- "$LOG" >&2 || true
        die "PostgreSQL failed to start (full log: $LOG)"
    fi
}

# The port to start on when the server is not running: LOCAL_PG_PORT if given; else the
# first usable of the remembered port, the preferred one and a free one; reserved for this
# data directory (scripts/ports.sh).
choose_port() {
    local candidates
    if [[ -n ${LOCAL_PG_PORT:-} ]]; then
        port_listened "$PORT" &&
            die "port $PORT on $HOST is taken by another process (not the server of $DATA); stop that, or unset LOCAL_PG_PORT to let $SCRIPT_PATH find a free port"
        reserve_port "$PORT" "$DATA" || log "warning: port $PORT is reserved by $(cat -- "$PORTS_DIR/$PORT")"
        return 0
    fi
    candidates="$(remembered_port) $PREFERRED_PORT"
    for PORT in $candidates; do
        port_usable "$PORT" "$DATA" && reserve_port "$PORT" "$DATA" && return 0
        log "port $PORT is taken, reserved by another server, or in the ephemeral port range ($(ephemeral_range | tr ' ' -))"
    done
    PORT=$(free_ports 1 "$DATA") || die "no free port found for PostgreSQL"
}

remembered_port() {
    local p
    p=$(cat -- "$PORT_FILE" 2>/dev/null) || return 0
    if [[ $p =~ ^[1-9][0-9]{0,4}$ ]] && ((p <= 65535)); then printf '%s\n' "$p"; fi
}

wait_accepting() {
    local i
    for ((i = 0; i < 120; i++)); do
        accepting && return 0
        sleep 0.5
    done
    die "PostgreSQL on $HOST:$PORT does not accept connections after 60 s (log: $LOG)"
}

ensure_database() {
    if [[ $(psql_c "select 1 from pg_database where datname = '$DB_NAME'") != 1 ]]; then
        log "creating database $DB_NAME"
        if ! psql_c "create database $DB_NAME" >/dev/null; then
            [[ $(psql_c "select 1 from pg_database where datname = '$DB_NAME'") == 1 ]] ||
                die "could not create database $DB_NAME"
        fi
    fi
    if [[ $(psql_c "select 1 from pg_available_extensions where name = 'pg_trgm'") != 1 ]]; then
        log "warning: the server does not offer the extension pg_trgm (install postgresql-contrib)"
    fi
}

# ---------------------------------------------------------------------------
# Subcommands

cmd_start() {
    local pid running_port attempt rc
    take_lock
    locate_data || true
    ensure_bin "$(data_version)"
    prepare_data_location
    ensure_pg_trgm
    if pid=$(server_pid); then
        running_port=$(server_port)
        if [[ -n ${LOCAL_PG_PORT:-} && -n $running_port && $running_port != "$PORT" ]]; then
            die "this checkout's server is already running on port $running_port, not $PORT; stop it first ($SCRIPT_PATH stop) or use LOCAL_PG_PORT=$running_port"
        fi
        PORT=${running_port:-$PORT}
        log "already running (pid $pid) on $HOST:$PORT, data $DATA"
    else
        init_cluster
        fix_ownership
        remove_stale_lock_files
        # A port free when chosen can still be taken before the server binds it (by
        # another server starting at the same moment): then another one.
        for attempt in 1 2 3 4 5; do
            choose_port
            rc=0
            start_server || rc=$?
            ((rc == 0)) && break
            [[ -z ${LOCAL_PG_PORT:-} && $attempt -lt 5 ]] ||
                die "PostgreSQL could not bind port $PORT (full log: $LOG)"
            release_port "$PORT" "$DATA"
            rm -f -- "$PORT_FILE"
        done
        local previous
        previous=$(remembered_port)
        if [[ -n $previous && $previous != "$PORT" ]]; then release_port "$previous" "$DATA"; fi
        printf '%s\n' "$PORT" >"$PORT_FILE"
    fi
    wait_accepting
    ensure_database
    log "ready: $(database_url)"
    database_url >&3
}

# The URL of the running server, or of the port it will most likely get next.
cmd_url() {
    if locate_data; then
        if server_pid >/dev/null; then
            PORT=$(server_port)
        elif [[ -z ${LOCAL_PG_PORT:-} && -n $(remembered_port) ]]; then
            PORT=$(remembered_port)
        fi
    fi
    database_url >&3
}

stop_located() { # stop the server of $DATA if it runs
    local pid pg_ctl="" i
    if ! pid=$(server_pid); then
        log "not running (data $DATA)"
        return 0
    fi
    run_as_owner
    find_bin "$(data_version)" || true
    if [[ -n $BIN ]]; then pg_ctl=$BIN/pg_ctl; fi
    log "stopping the server of $DATA (pid $pid)"
    if [[ -n $pg_ctl ]] && { ((EUID != 0)) || [[ -n $RUN_AS ]]; }; then
        as_pg "$pg_ctl" -D "$DATA" -m "${LOCAL_PG_STOP_MODE:-fast}" -w -t 120 stop >&2 && return 0
        log "pg_ctl stop failed"
    fi
    # Fallback: SIGINT is PostgreSQL's "fast shutdown", sent to our own postmaster only.
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 240; i++)); do
        server_pid >/dev/null || return 0
        sleep 0.5
    done
    die "the server (pid $pid) did not stop within 120 s"
}

cmd_stop() {
    take_lock
    if ! locate_data; then
        log "not running (no data directory yet)"
        return 0
    fi
    stop_located
}

cmd_reset() {
    local dirs=() d base
    take_lock
    if [[ -n ${LOCAL_PG_DATA:-} ]]; then
        dirs=("$(realpath -m -- "$LOCAL_PG_DATA")")
    else
        dirs=("$IN_REPO_DATA")
        while IFS= read -r base; do dirs+=("$base/$EXTERNAL_NAME"); done < <(external_bases)
    fi
    for d in "${dirs[@]}"; do
        set_data "$d"
        rm -rf -- "$DATA.initdb-tmp"
        if [[ -e $DATA ]]; then
            stop_located
            if [[ $DATA == / || (-d $DATA && ! -f $DATA/PG_VERSION && -n $(ls -A -- "$DATA") && -n ${LOCAL_PG_DATA:-}) ]]; then
                die "refusing to delete $DATA: it does not look like a PostgreSQL data directory"
            fi
            log "deleting $DATA"
            rm -rf -- "$DATA"
        fi
        if [[ -e $LOG ]]; then
            log "deleting $LOG"
            rm -f -- "$LOG"
        fi
        if [[ -n $(remembered_port) ]]; then release_port "$(remembered_port)" "$DATA"; fi
        rm -f -- "$PORT_FILE"
    done
    log "reset done"
}

cmd_status() {
    local pid
    if locate_data && pid=$(server_pid); then
        PORT=$(server_port)
        printf 'running: pid %s, %s:%s, data %s, log %s, %s\n' "$pid" "$HOST" "$PORT" "$DATA" "$LOG" "$(database_url)" >&3
    elif [[ -e $DATA ]]; then
        printf 'not running (data %s)\n' "$DATA" >&3
    else
        printf 'not running (no data directory yet)\n' >&3
    fi
}

cmd_is_running() {
    locate_data && server_pid >/dev/null
}

usage() {
    cat >&2 <<EOF
usage: $0 start|stop|reset|status|url|is-running
  start       start this checkout's PostgreSQL (installing and initialising it if needed); prints the DATABASE_URL
  stop        stop it
  reset       stop it and delete its data directory
  status      say whether it is running
  url         print the DATABASE_URL
  is-running  exit 0 if it is running, 1 otherwise
EOF
}

main() {
    if (($# != 1)); then
        usage
        exit 2
    fi
    case $1 in
    start) cmd_start ;;
    stop) cmd_stop ;;
    reset) cmd_reset ;;
    status) cmd_status ;;
    url) cmd_url ;;
    is-running) cmd_is_running ;;
    -h | --help | help) usage ;;
    *)
        usage
        exit 2
        ;;
    esac
}

main "$@"
