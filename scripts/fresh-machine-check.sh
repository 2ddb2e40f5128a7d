#!/usr/bin/env bash
# Usage: scripts/fresh-machine-check.sh        (as root; or: make fresh-machine-check)
#
# Proves that on a machine with no PostgreSQL at all, `make run` installs it
# (scripts/db.sh: apt-get install postgresql postgresql-contrib, as root),
# starts the project-local server and serves /health with 200, without
# touching this host's own PostgreSQL, packages or data.
#
# How:
#   1. A pristine Debian bookworm root (debootstrap --variant=minbase plus
#      build-essential, ca-certificates, git, curl, procps: what a machine with
#      "only the Rust toolchain" has; no PostgreSQL) is kept as a tarball,
#      $FRESH_ROOT.pristine.tar, built on the first run. Like Debian's container
#      images it has /usr/sbin/policy-rc.d exiting 101, so installing a package
#      starts no system service inside the chroot; its apt lists are empty.
#   2. Every run deletes $FRESH_ROOT and extracts the tarball afresh, so the
#      root never has the PostgreSQL of an earlier run; it checks that there is
#      no postgresql package and no postgres/initdb/pg_ctl/pg_config in it.
#   3. It mounts /proc, /sys, /dev, /dev/pts, a tmpfs on /dev/shm, this host's
#      rustup home and cargo bin directory (read-only, at the same paths), and
#      a crates.io download cache kept between runs; copies /etc/resolv.conf,
#      /etc/hosts and any certificate authority this host trusts beyond Debian's set (a
#      TLS-intercepting proxy's, say; none on an ordinary machine); clones
#      this script's own repository's HEAD to /work/x inside.
#   4. Inside the chroot, as root, with a clean environment (no DATABASE_URL):
#      `make run` in the background (setsid; nice), until /health answers 200.
#   5. Checks: PostgreSQL binaries now present (and db.sh's log says it
#      installed them), the listening socket belongs to the chroot's
#      customer-api, POST a customer (200) and GET it back (200, same id and
#      email).
#   6. SIGTERM to the service's pid (make run must exit 0), `make db-stop`
#      inside, stops anything else still running in the chroot (by pid),
#      unmounts everything (also on failure or interruption, from a trap) and
#      prints a PASS/FAIL summary. Exit status 0 only when everything passed.
#
# Needs: root, network access to Debian's archive and crates.io, a rustup
# toolchain on this host, ~3 GB of disk. Takes minutes (a cold release build).
#
# Environment:
#   FRESH_ROOT         the chroot (default /work/fresh-root if /work is writable
#                      and outside this repository, else
#                      ${TMPDIR:-/tmp}/customer-api-fresh-root); must be outside
#                      the repository. Beside it: .pristine.tar (+ .stamp),
#                      .cargo-registry, .lock, .make-run.log.
#   FRESH_MIRROR       Debian mirror (default http://deb.debian.org/debian)
#   FRESH_SECURITY_MIRROR  (default http://deb.debian.org/debian-security)
#   FRESH_REBUILD=1    debootstrap the pristine tarball again
#   FRESH_CARGO_CACHE  crates.io cache directory kept between runs (default
#                      $FRESH_ROOT.cargo-registry; empty: download every run)
#   FRESH_PORT         first port tried for the service (default 8000; the next
#                      free one is used if taken)
#   FRESH_PG_PORT      first port tried for the local PostgreSQL (default 15432)
#   FRESH_TIMEOUT      seconds to wait for /health (default 3600, build included)
#   FRESH_NICE         niceness of `make run` (default 10)
#   FRESH_RUSTUP_HOME, FRESH_CARGO_BIN  this host's rustup home and the directory
#                      holding its cargo/rustc proxies (default: from
#                      RUSTUP_HOME/CARGO_HOME, ~/.rustup, ~/.cargo/bin)
set -euo pipefail

readonly SUITE=bookworm
readonly INCLUDE=build-essential,ca-certificates,git,curl,procps
readonly STAMP_VERSION=1
readonly IN_REPO=/work/x

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel)
REPO=$(realpath -- "$REPO")

RESULTS=()
FAILED=0
START=$SECONDS
MAKE_PID=""
SVC_PID=""
MOUNTED=0
DB_STOPPED=0
ROOT=""

log() { printf '[%s] fresh-machine-check: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
pass() {
    RESULTS+=("PASS  $*")
    log "PASS: $*"
}
fail() {
    RESULTS+=("FAIL  $*")
    FAILED=1
    log "FAIL: $*"
}
note() {
    RESULTS+=("NOTE  $*")
    log "NOTE: $*"
}
die() {
    fail "$*"
    exit 1
}

inside() { # $1 inside $2 (both canonical)?
    [[ $1 == "$2" || $1 == "$2"/* ]]
}

# ---------------------------------------------------------------------------
# Mounts and processes of a root directory

mounts_under() { # mount points at or below $1, deepest first
    awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

unmount_under() { # unmounts everything at or below $1; fails if something stays
    local m
    while IFS= read -r m; do
        [[ -n $m ]] || continue
        umount -- "$m" 2>/dev/null || umount -l -- "$m" || true
    done < <(mounts_under "$1")
    [[ -z $(mounts_under "$1") ]]
}

chroot_pids() { # pids of the processes whose root directory is $1
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink -- "$p/root" 2>/dev/null) || continue
        if [[ $r == "$1" ]]; then printf '%s\n' "${p#/proc/}"; fi
    done
}

describe_pids() {
    local p
    for p in "$@"; do
        printf '  pid %s: %s\n' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true)"
    done
}

stop_chroot_processes() { # SIGTERM, then SIGKILL, to every process living in $1
    local pids i
    mapfile -t pids < <(chroot_pids "$1")
    ((${#pids[@]})) || return 0
    log "stopping ${#pids[@]} process(es) still running in $1:"
    describe_pids "${pids[@]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
        mapfile -t pids < <(chroot_pids "$1")
        ((${#pids[@]})) || return 0
        sleep 0.5
    done
    log "sending SIGKILL to: ${pids[*]}"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    sleep 1
}

alive() { # is pid $1 running (not a zombie)?
    local s
    s=$(cat -- "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [[ ${s%% *} != Z ]]
}

ppid_of() {
    local s
    s=$(cat -- "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    s=${s#* }
    printf '%s\n' "${s%% *}"
}

descends_from() { # is pid $1 a descendant of pid $2?
    local p=$1
    while [[ -n $p && $p != 0 && $p != 1 ]]; do
        p=$(ppid_of "$p") || return 1
        [[ $p == "$2" ]] && return 0
    done
    return 1
}

port_free() {
    if command -v ss >/dev/null 2>&1; then
        [[ -z $(ss -Hltn "sport = :$1") ]]
    else
        if (exec 8<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 1; fi
    fi
}

free_port_from() {
    local p=$1
    while ! port_free "$p"; do
        log "port $p is taken on this host; trying $((p + 1))" >&2
        p=$((p + 1))
    done
    printf '%s\n' "$p"
}

# ---------------------------------------------------------------------------
# Running things in the chroot

CHROOT_ENV=()

in_chroot() { # runs bash -c "$1" inside the chroot, as root, in a clean environment
    chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" /bin/bash -c "$1"
}

# What of PostgreSQL the root has: installed packages and binaries; prints
# nothing when there is none.
pg_presence() {
    awk 'function out() { if (p ~ /^postgresql/ && s ~ / installed$/) print "package " p; p = ""; s = "" }
        /^Package: / { p = $2 } /^Status: / { s = $0 } /^$/ { out() } END { out() }' "$ROOT/var/lib/dpkg/status"
    # shellcheck disable=SC2016 # (expanded by the chroot's sh)
    chroot "$ROOT" /bin/sh -c '
        for f in /usr/lib/postgresql/*/bin/postgres /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl /usr/lib/postgresql/*/bin/pg_config; do
            if [ -e "$f" ]; then echo "file $f"; fi
        done
        for t in postgres initdb pg_ctl pg_config psql; do
            p=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$t") && echo "on PATH $p"
        done
        true'
}

# ---------------------------------------------------------------------------
# Cleanup (EXIT trap)

# shellcheck disable=SC2317 # (run by the EXIT trap, not unreachable)
cleanup() {
    local rc=$? i r
    trap - EXIT INT TERM HUP
    set +e
    if [[ -n $MAKE_PID ]] && alive "$MAKE_PID"; then
        if [[ -n $SVC_PID ]] && alive "$SVC_PID"; then
            log "cleanup: SIGTERM to the service (pid $SVC_PID)"
            kill -TERM "$SVC_PID" 2>/dev/null
            for ((i = 0; i < 20; i++)); do
                alive "$MAKE_PID" || break
                sleep 0.5
            done
        fi
        if alive "$MAKE_PID"; then
            log "cleanup: SIGTERM to make run's process group (pgid $MAKE_PID)"
            kill -TERM -- "-$MAKE_PID" 2>/dev/null
            for ((i = 0; i < 40; i++)); do
                alive "$MAKE_PID" || break
                sleep 0.5
            done
            alive "$MAKE_PID" && kill -KILL -- "-$MAKE_PID" 2>/dev/null
        fi
    fi
    if ((MOUNTED && !DB_STOPPED)) && [[ -x $ROOT$IN_REPO/scripts/db.sh ]]; then
        log "cleanup: stopping the chroot's local PostgreSQL"
        timeout 180 chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" "$IN_REPO/scripts/db.sh" stop
    fi
    if [[ -n $ROOT ]]; then
        stop_chroot_processes "$ROOT"
        if ((MOUNTED)); then
            if unmount_under "$ROOT"; then
                pass "everything mounted under $ROOT is unmounted again"
            else
                fail "still mounted under $ROOT: $(mounts_under "$ROOT" | tr '\n' ' ')"
            fi
        fi
    fi
    ((rc == 0)) || FAILED=1
    echo
    echo "================ fresh-machine-check summary ================"
    for r in "${RESULTS[@]}"; do echo "$r"; done
    echo "root: ${ROOT:-?}   total time: $((SECONDS - START)) s"
    if ((FAILED)); then
        echo "RESULT: FAIL"
        exit 1
    fi
    echo "RESULT: PASS"
    exit 0
}

# ---------------------------------------------------------------------------
# Preconditions

((EUID == 0)) || {
    echo "fresh-machine-check: must run as root (it debootstraps, mounts and chroots)" >&2
    exit 1
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

default_root() {
    local d
    if [[ -d /work && -w /work ]]; then
        d=$(realpath -m -- /work/fresh-root)
        if ! inside "$d" "$REPO" && ! inside "$REPO" "$d"; then
            printf '%s\n' "$d"
            return
        fi
    fi
    realpath -m -- "${TMPDIR:-/tmp}/customer-api-fresh-root"
}

ROOT=${FRESH_ROOT:-$(default_root)}
[[ $ROOT == /* ]] || die "FRESH_ROOT must be an absolute path, got '$ROOT'"
[[ $ROOT =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "FRESH_ROOT may contain only letters, digits and ._+-/: '$ROOT'"
ROOT=$(realpath -m -- "$ROOT")
[[ $ROOT != / && $(dirname -- "$ROOT") != / ]] || die "FRESH_ROOT is too close to /: $ROOT"
if inside "$ROOT" "$REPO" || inside "$REPO" "$ROOT"; then
    die "FRESH_ROOT ($ROOT) must be outside the repository ($REPO)"
fi
for d in / /bin /boot /dev /etc /home /lib /lib64 /opt /proc /root /run /sbin /srv /sys /tmp /usr /var /work; do
    [[ $ROOT != "$d" ]] || die "refusing FRESH_ROOT=$ROOT"
done
mkdir -p -- "$(dirname -- "$ROOT")"

PRISTINE=$ROOT.pristine.tar
BOOTSTRAP_DIR=$ROOT.bootstrap
CARGO_CACHE=${FRESH_CARGO_CACHE-$ROOT.cargo-registry}
RUN_LOG=$ROOT.make-run.log
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${FRESH_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
TIMEOUT=${FRESH_TIMEOUT:-3600}
NICE=${FRESH_NICE:-10}
STAMP="v$STAMP_VERSION suite=$SUITE variant=minbase include=$INCLUDE mirror=$MIRROR security=$SECURITY_MIRROR"

exec 9>"$ROOT.lock"
flock -n 9 || die "another fresh-machine-check is running on $ROOT (lock $ROOT.lock)"

# This host's Rust toolchain (rustup layout).
HOST_RUSTUP_HOME=${FRESH_RUSTUP_HOME:-${RUSTUP_HOME:-$HOME/.rustup}}
HOST_CARGO_BIN=${FRESH_CARGO_BIN:-${CARGO_HOME:-$HOME/.cargo}/bin}
[[ -d $HOST_RUSTUP_HOME/toolchains ]] ||
    die "no rustup home at $HOST_RUSTUP_HOME (set FRESH_RUSTUP_HOME)"
[[ -x $HOST_CARGO_BIN/cargo && -x $HOST_CARGO_BIN/rustup ]] ||
    die "no rustup proxies (cargo, rustup) in $HOST_CARGO_BIN (set FRESH_CARGO_BIN)"
HOST_RUSTUP_HOME=$(realpath -- "$HOST_RUSTUP_HOME")
HOST_CARGO_BIN=$(realpath -- "$HOST_CARGO_BIN")

log "repository $REPO at $(git -C "$REPO" rev-parse --short HEAD); root $ROOT"

# ---------------------------------------------------------------------------
# 1. The pristine root (debootstrap once, kept as a tarball)

build_pristine() {
    local t0=$SECONDS
    if ! command -v debootstrap >/dev/null 2>&1; then
        log "installing debootstrap on this host"
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
    fi
    stop_chroot_processes "$BOOTSTRAP_DIR"
    unmount_under "$BOOTSTRAP_DIR" || die "cannot unmount what is mounted under $BOOTSTRAP_DIR"
    rm -rf --one-file-system -- "$BOOTSTRAP_DIR"
    log "debootstrap $SUITE (minbase + $INCLUDE) into $BOOTSTRAP_DIR from $MIRROR"
    debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$BOOTSTRAP_DIR" "$MIRROR"
    unmount_under "$BOOTSTRAP_DIR" || die "debootstrap left mounts under $BOOTSTRAP_DIR"

    # As Debian's bookworm images: deb822 sources with updates and security,
    # no services started by package installs, empty package lists.
    rm -f -- "$BOOTSTRAP_DIR/etc/apt/sources.list"
    cat >"$BOOTSTRAP_DIR/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    printf '#!/bin/sh\n# As in Debian container images: package installs start no services.\nexit 101\n' \
        >"$BOOTSTRAP_DIR/usr/sbin/policy-rc.d"
    chmod 755 -- "$BOOTSTRAP_DIR/usr/sbin/policy-rc.d"
    rm -rf -- "$BOOTSTRAP_DIR"/var/lib/apt/lists/* "$BOOTSTRAP_DIR"/var/cache/apt/archives/*.deb
    if [[ ! -s $BOOTSTRAP_DIR/etc/hosts ]]; then
        printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$BOOTSTRAP_DIR/etc/hosts"
    fi
    if grep -q '^Package: postgresql' "$BOOTSTRAP_DIR/var/lib/dpkg/status"; then
        die "the bootstrapped root unexpectedly has a postgresql package"
    fi
    log "writing $PRISTINE"
    tar -C "$BOOTSTRAP_DIR" --numeric-owner -cpf "$PRISTINE.tmp" .
    mv -f -- "$PRISTINE.tmp" "$PRISTINE"
    printf '%s\n' "$STAMP" >"$PRISTINE.stamp"
    rm -rf --one-file-system -- "$BOOTSTRAP_DIR"
    log "pristine root built in $((SECONDS - t0)) s"
}

if [[ ${FRESH_REBUILD:-0} == 1 || ! -f $PRISTINE || $(cat -- "$PRISTINE.stamp" 2>/dev/null) != "$STAMP" ]]; then
    build_pristine
else
    log "reusing the pristine root $PRISTINE ($(cat -- "$PRISTINE.stamp"))"
fi

# ---------------------------------------------------------------------------
# 2. A fresh root from it

T0=$SECONDS
stop_chroot_processes "$ROOT"
unmount_under "$ROOT" || die "cannot unmount what is still mounted under $ROOT; not deleting it"
if [[ -e $ROOT ]]; then
    log "deleting the root of the previous run"
    rm -rf --one-file-system -- "$ROOT"
fi
mkdir -m 755 -- "$ROOT"
tar -C "$ROOT" --numeric-owner -xpf "$PRISTINE"
log "extracted a fresh root in $((SECONDS - T0)) s"

BEFORE=$(pg_presence)
if [[ -z $BEFORE ]]; then
    pass "before: no PostgreSQL in the fresh root (no postgresql* package; no /usr/lib/postgresql/*/bin/{postgres,initdb,pg_ctl,pg_config}; no postgres, initdb, pg_ctl, pg_config, psql on PATH)"
else
    printf '%s\n' "$BEFORE"
    die "before: the fresh root already has PostgreSQL"
fi

# ---------------------------------------------------------------------------
# 3. Mounts, toolchain, clone

# Certificate authorities this host trusts beyond Debian's set (such as a
# TLS-intercepting proxy's, without which cargo cannot reach crates.io from
# the chroot); none on an ordinary machine.
trust_host_cas() {
    local f name dest added=()
    for f in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt /etc/ssl/certs/*.pem /etc/ssl/certs/*.crt; do
        [[ -f $f && ! -L $f ]] || continue
        name=${f##*/}
        [[ $name != ca-certificates.crt && $name != ssl-cert-snakeoil* && ! -e $ROOT/etc/ssl/certs/$name ]] || continue
        grep -q -- '-----BEGIN CERTIFICATE-----' "$f" || continue
        dest=$ROOT/usr/local/share/ca-certificates/host-${name%.*}.crt
        [[ ! -e $dest ]] || continue
        mkdir -p -- "$ROOT/usr/local/share/ca-certificates"
        cp -- "$f" "$dest"
        added+=("$f")
    done
    ((${#added[@]})) || return 0
    chroot "$ROOT" /usr/sbin/update-ca-certificates >/dev/null 2>&1 ||
        die "update-ca-certificates failed in the chroot"
    note "this host trusts certificate authorities a fresh Debian does not (${added[*]}); added to the chroot's trust store so that cargo can reach crates.io"
}

MOUNTED=1
cp -L -- /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp -L -- /etc/hosts "$ROOT/etc/hosts" # (the chroot shares this host's network and name)
trust_host_cas
mount -t proc proc "$ROOT/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/dev/shm"
bind_ro() {
    mkdir -p -- "$2"
    mount --bind "$1" "$2"
    mount -o remount,bind,ro "$2"
}
bind_ro "$HOST_RUSTUP_HOME" "$ROOT$HOST_RUSTUP_HOME"
bind_ro "$HOST_CARGO_BIN" "$ROOT/root/.cargo/bin"
if [[ -n $CARGO_CACHE ]]; then
    mkdir -p -- "$CARGO_CACHE" "$ROOT/root/.cargo/registry"
    mount --bind "$CARGO_CACHE" "$ROOT/root/.cargo/registry"
fi

CHROOT_ENV=(HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb
    PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    RUSTUP_HOME="$HOST_RUSTUP_HOME")

log "toolchain inside the chroot:"
in_chroot 'cargo --version && rustc --version && cc --version | head -n 1 && make --version | head -n 1' ||
    die "the Rust toolchain does not run inside the chroot"

mkdir -p -- "$ROOT$(dirname -- "$IN_REPO")"
chmod 755 -- "$ROOT$(dirname -- "$IN_REPO")"
HEAD_COMMIT=$(git -C "$REPO" rev-parse HEAD)
git clone -q --no-hardlinks --no-checkout -- "$REPO" "$ROOT$IN_REPO"
git -C "$ROOT$IN_REPO" fetch -q origin "$HEAD_COMMIT" 2>/dev/null || git -C "$ROOT$IN_REPO" fetch -q origin HEAD
git -C "$ROOT$IN_REPO" checkout -q --detach "$HEAD_COMMIT"
log "cloned $REPO at $(git -C "$ROOT$IN_REPO" log -1 --format='%h %s') to $IN_REPO in the chroot"

# ---------------------------------------------------------------------------
# 4. make run, until /health is 200

APP_PORT=$(free_port_from "${FRESH_PORT:-8000}")
PG_PORT=$(free_port_from "${FRESH_PG_PORT:-15432}")
((PG_PORT != APP_PORT)) || PG_PORT=$(free_port_from $((PG_PORT + 1)))
log "service port $APP_PORT, local PostgreSQL port $PG_PORT (both free on this host: the chroot shares its network)"

CHROOT_ENV+=(PORT="$APP_PORT" LOCAL_PG_PORT="$PG_PORT")
: >"$RUN_LOG"
log "starting, inside the chroot as root: cd $IN_REPO && make run   (PORT=$APP_PORT LOCAL_PG_PORT=$PG_PORT, no DATABASE_URL; output below prefixed with [make run], also in $RUN_LOG)"
T_RUN=$SECONDS
setsid nice -n "$NICE" chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" /bin/bash -c \
    "unset DATABASE_URL APP__DATABASE__URL; cd $IN_REPO && exec make run" \
    </dev/null >>"$RUN_LOG" 2>&1 &
MAKE_PID=$!

LOG_OFFSET=0
stream_run_log() { # prints the new complete lines of the run log (all of it with "final")
    local chunk n
    chunk=$(
        tail -c +$((LOG_OFFSET + 1)) -- "$RUN_LOG"
        printf x
    )
    chunk=${chunk%x}
    if [[ ${1:-} != final ]]; then
        [[ $chunk == *$'\n'* ]] || return 0
        chunk=${chunk%$'\n'*}$'\n'
    fi
    [[ -n $chunk ]] || return 0
    n=$(printf '%s' "$chunk" | wc -c)
    LOG_OFFSET=$((LOG_OFFSET + n))
    printf '%s' "$chunk" | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/[make run] /' # (colours stripped)
}

health() { # prints the HTTP status of /health (000 when nothing answers)
    chroot "$ROOT" /usr/bin/curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        "http://127.0.0.1:$APP_PORT/health" 2>/dev/null || true
}

DEADLINE=$((SECONDS + TIMEOUT))
while :; do
    stream_run_log
    code=$(health)
    [[ $code == 200 ]] && break
    if ! alive "$MAKE_PID"; then
        sleep 1
        stream_run_log final
        rc=0
        wait "$MAKE_PID" || rc=$?
        MAKE_PID=""
        die "make run exited (status $rc) before /health answered 200"
    fi
    ((SECONDS < DEADLINE)) || die "no 200 from /health within $TIMEOUT s (last answer: $code)"
    sleep 5
done
stream_run_log
pass "/health answered 200 on 127.0.0.1:$APP_PORT, $((SECONDS - T_RUN)) s after make run started (cold release build included)"

# The service: the chroot's customer-api, started by our make run.
for p in $(chroot_pids "$ROOT"); do
    exe=$(readlink -- "/proc/$p/exe" 2>/dev/null) || continue
    if [[ $exe == "$ROOT$IN_REPO/target/release/customer-api" ]] && descends_from "$p" "$MAKE_PID"; then
        SVC_PID=$p
    fi
done
[[ -n $SVC_PID ]] || die "cannot find the customer-api process started by make run"
if command -v ss >/dev/null 2>&1; then
    if ss -Hltnp "sport = :$APP_PORT" | grep -q "pid=$SVC_PID,"; then
        pass "port $APP_PORT is served by the chroot's $IN_REPO/target/release/customer-api (pid $SVC_PID, started by make run)"
    else
        ss -Hltnp "sport = :$APP_PORT" || true
        die "port $APP_PORT is not served by the chroot's customer-api (pid $SVC_PID)"
    fi
else
    note "no ss on this host: not checked that port $APP_PORT belongs to pid $SVC_PID"
fi

# ---------------------------------------------------------------------------
# 5. PostgreSQL installed, create and get a customer

AFTER=$(pg_presence)
log "after: PostgreSQL in the root:"
printf '  %s\n' "${AFTER//$'\n'/$'\n'  }"
if grep -q '^file /usr/lib/postgresql/[0-9.]*/bin/postgres$' <<<"$AFTER" &&
    grep -q '^file /usr/lib/postgresql/[0-9.]*/bin/initdb$' <<<"$AFTER" &&
    grep -q '^file /usr/lib/postgresql/[0-9.]*/bin/pg_ctl$' <<<"$AFTER" &&
    grep -q '^on PATH .*/pg_config$' <<<"$AFTER" &&
    grep -q '^package postgresql$' <<<"$AFTER" &&
    grep -q '^package postgresql-contrib$' <<<"$AFTER"; then
    pass "after: packages postgresql and postgresql-contrib installed; $(grep -o '/usr/lib/postgresql/[0-9.]*/bin/postgres' <<<"$AFTER") and $(grep '^on PATH .*/pg_config$' <<<"$AFTER" | sed 's/^on PATH //') exist"
else
    fail "after: PostgreSQL is not (completely) installed in the root"
fi
if grep -q '^db.sh: installing postgresql postgresql-contrib' "$RUN_LOG" &&
    grep -q '^db.sh: no PostgreSQL server found' "$RUN_LOG"; then
    pass "db.sh's own log: 'no PostgreSQL server found' then 'installing postgresql postgresql-contrib' (it installed them, as root, with apt-get)"
else
    fail "db.sh's log does not show that it installed PostgreSQL"
fi
if grep -q "^db.sh: ready: postgres://postgres@127.0.0.1:$PG_PORT/customer_api" "$RUN_LOG"; then
    pass "db.sh started the project-local server: $(grep '^db.sh: initialising' "$RUN_LOG" | head -n 1 | sed 's/^db.sh: //'); ready on 127.0.0.1:$PG_PORT"
else
    fail "db.sh's log does not show the local server ready on port $PG_PORT"
fi
pm_pid=$(head -n 1 -- "$ROOT$IN_REPO/.pgdata/postmaster.pid" 2>/dev/null || true)
if [[ $pm_pid =~ ^[0-9]+$ ]] && alive "$pm_pid"; then
    pm_uid=$(stat -c %u -- "/proc/$pm_pid")
    pm_user=$(chroot "$ROOT" getent passwd "$pm_uid" | cut -d: -f1)
    if ((pm_uid == 0)); then
        fail "the local PostgreSQL runs as root"
    else
        pass "the local PostgreSQL (pid $pm_pid, data $IN_REPO/.pgdata) runs as the chroot's unprivileged user '$pm_user' (uid $pm_uid)"
    fi
else
    note "no running postmaster found from $IN_REPO/.pgdata/postmaster.pid (data directory elsewhere?)"
fi

EMAIL="fresh.check.$(date +%s)@example.com"
BODY="{\"first_name\": \"John\", \"last_name\": \"Doe\", \"email\": \"$EMAIL\"}"
log "POST /api/v1/customers/ $BODY"
created=$(in_chroot "curl -s -w '\n%{http_code}' -X POST 'http://127.0.0.1:$APP_PORT/api/v1/customers/' -H 'Content-Type: application/json' -d '$BODY'") || true
status=${created##*$'\n'}
created=${created%$'\n'*}
printf '  -> %s %s\n' "$status" "$created"
customer_id=$(sed -n 's/.*"customer_id": *"\([^"]*\)".*/\1/p' <<<"$created")
if [[ $status == 200 && $customer_id =~ ^CUST_[A-Z0-9]+$ ]]; then
    pass "POST /api/v1/customers/ -> 200, customer_id $customer_id, username $(sed -n 's/.*"username": *"\([^"]*\)".*/\1/p' <<<"$created")"
else
    fail "POST /api/v1/customers/ -> $status (expected 200 with a customer_id)"
fi
if [[ -n $customer_id ]]; then
    got=$(in_chroot "curl -s -w '\n%{http_code}' 'http://127.0.0.1:$APP_PORT/api/v1/customers/$customer_id'") || true
    status=${got##*$'\n'}
    got=${got%$'\n'*}
    log "GET /api/v1/customers/$customer_id"
    printf '  -> %s %s\n' "$status" "$got"
    if [[ $status == 200 ]] && grep -q "\"customer_id\": *\"$customer_id\"" <<<"$got" &&
        grep -q "\"email\": *\"$EMAIL\"" <<<"$got"; then
        pass "GET /api/v1/customers/$customer_id -> 200 with the same customer_id and email"
    else
        fail "GET /api/v1/customers/$customer_id -> $status, not the customer just created"
    fi
fi

# ---------------------------------------------------------------------------
# 6. Stop

log "SIGTERM to the service (pid $SVC_PID)"
kill -TERM "$SVC_PID"
for ((i = 0; i < 120; i++)); do
    alive "$MAKE_PID" || break
    sleep 0.5
done
stream_run_log final
if alive "$MAKE_PID"; then
    fail "make run still running 60 s after SIGTERM to the service"
else
    rc=0
    wait "$MAKE_PID" || rc=$?
    MAKE_PID=""
    if ((rc == 0)); then
        pass "after SIGTERM the service stopped and make run exited 0"
    else
        fail "make run exited $rc after SIGTERM to the service"
    fi
fi
SVC_PID=""

log "inside the chroot: make db-stop"
if in_chroot "cd $IN_REPO && make db-stop" 2>&1 | sed 's/^/[make db-stop] /'; then
    DB_STOPPED=1
fi
if ((DB_STOPPED)) && ! in_chroot "$IN_REPO/scripts/db.sh is-running"; then
    pass "make db-stop stopped the local PostgreSQL"
else
    fail "the local PostgreSQL is still running after make db-stop"
fi
mapfile -t left < <(chroot_pids "$ROOT")
if ((${#left[@]})); then
    note "still running in the chroot after make db-stop (stopped now by pid):"
    describe_pids "${left[@]}"
else
    pass "nothing left running in the chroot"
fi
# The EXIT trap unmounts and prints the summary.
