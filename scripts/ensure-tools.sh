#!/usr/bin/env bash
# Installs the Debian packages of tools the tests run, when their program is missing.
#
# Usage: scripts/ensure-tools.sh PACKAGE...     e.g. scripts/ensure-tools.sh pgbouncer haproxy
#
# Each PACKAGE is a Debian package name. Whether it is installed is told by its program:
#   pgbouncer  /usr/sbin/pgbouncer
#   haproxy    /usr/sbin/haproxy
#   other      a command of the package's name on PATH
# The missing ones are installed together: one `apt-get update`, one `apt-get install -y`,
# through sudo when not root (sudo -n when there is no terminal to ask a password on).
# Prints nothing when nothing is missing; apt-get's output is shown only if it fails.
#
# Note: installing the packages may also start their system services (Debian's pgbouncer
# on port 6432, haproxy with /etc/haproxy/haproxy.cfg); the tests never use those, they
# start their own on free ports.
set -euo pipefail

log() { printf 'ensure-tools.sh: %s\n' "$*" >&2; }
die() {
    printf 'ensure-tools.sh: error: %s\n' "$*" >&2
    exit 1
}

MISSING=() # the packages to install

usage() {
    printf 'usage: %s PACKAGE...   (e.g. pgbouncer haproxy)\n' "$0" >&2
}

program_of() { # the program that tells whether package $1 is installed
    case $1 in
    pgbouncer) printf '%s\n' /usr/sbin/pgbouncer ;;
    haproxy) printf '%s\n' /usr/sbin/haproxy ;;
    *) printf '%s\n' "$1" ;;
    esac
}

installed() {
    local program
    program=$(program_of "$1")
    if [[ $program == /* ]]; then
        [[ -x $program ]]
    else
        command -v "$program" >/dev/null 2>&1
    fi
}

# Runs apt-get with arguments "$@" (as root, or through sudo); its output is shown only
# when it fails.
apt_get() {
    local sudo=() out status=0
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 ||
            die "not root and no sudo: install as root, then re-run: apt-get install -y ${MISSING[*]}"
        sudo=(sudo)
        [[ -t 0 ]] || sudo+=(-n)
    fi
    out=$(mktemp)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q "$@" >"$out" 2>&1 || status=$?
    if ((status != 0)); then
        cat -- "$out" >&2
        rm -f -- "$out"
        die "apt-get $* failed (exit $status); install by hand: apt-get install -y ${MISSING[*]}"
    fi
    rm -f -- "$out"
}

main() {
    local pkg
    if (($# == 0)); then
        usage
        exit 2
    fi
    for pkg in "$@"; do
        case $pkg in
        -h | --help)
            usage
            exit 0
            ;;
        esac
        # A Debian package name; also keeps option-like words away from apt-get.
        [[ $pkg =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "not a Debian package name: '$pkg'"
        installed "$pkg" || MISSING+=("$pkg")
    done
    ((${#MISSING[@]} > 0)) || return 0

    command -v apt-get >/dev/null 2>&1 ||
        die "no apt-get on this machine: install these packages (or their equivalents) by hand: ${MISSING[*]}"
    log "installing ${MISSING[*]}"
    apt_get update
    apt_get install -y --no-install-recommends "${MISSING[@]}"
    for pkg in "${MISSING[@]}"; do
        installed "$pkg" || die "$pkg was installed but $(program_of "$pkg") is still missing"
    done
}

main "$@"
