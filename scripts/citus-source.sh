# Where Citus's source and scripts are (../shared/citus, or CITUS_DIR); sourced, not run.
# `citus_source ROOT` prints the directory holding cluster.sh and build.sh, or fails with
# the reason, for scripts/citus-test.sh and bench/citus.sh alike.

citus_source() { # $1: the repository's root
    local candidate
    for candidate in ${CITUS_DIR:+"$CITUS_DIR"} "$1/../shared/citus" /work/shared/citus; do
        if [[ -x $candidate/cluster.sh ]]; then
            (cd -- "$candidate" && pwd -P)
            return 0
        fi
    done
    echo "Citus's source and scripts not found (../shared/citus); set CITUS_DIR" >&2
    return 1
}
