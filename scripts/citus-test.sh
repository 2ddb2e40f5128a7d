#!/usr/bin/env bash
# Usage: scripts/citus-test.sh [nextest arguments...]
#
# The end-to-end suite on a Citus cluster (docs/scale-out.md, "Running on Citus"): builds
# and installs Citus 13.2.2 into the machine's PostgreSQL 15 when it is missing (from
# ../shared/citus, or CITUS_DIR), starts a coordinator and two workers on free ports in a
# temporary directory, and runs every end-to-end test with TEST_DB_CITUS=1 (each test's
# database is made on every node and migrated into the distributed layout by the service),
# the Citus-only tests included (tests/tests/api/citus.rs). Stops the cluster afterwards,
# also when the tests fail. Needs root (the nodes run as the `postgres` user).
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(dirname -- "$here")
# shellcheck source=scripts/citus-source.sh
source "$here/citus-source.sh"
citus=$(citus_source "$repo") || exit 2

"$citus/build.sh"

# shellcheck source=scripts/ports.sh
source "$here/ports.sh"

dir=$(mktemp -d /tmp/customer-api-citus.XXXXXX)
chmod 755 "$dir" # the nodes run as the `postgres` user
# shellcheck disable=SC2317 # (run by the EXIT trap, not unreachable)
finish() {
    local rc=$?
    trap - EXIT INT TERM HUP
    "$citus/cluster.sh" stop "$dir/cluster" || true
    rm -rf "$dir"
    exit "$rc"
}
trap finish EXIT INT TERM HUP

# Ports outside the ephemeral range (scripts/ports.sh); should another server take one
# between the check and the start, the cluster starts again on others.
coordinator=""
for attempt in 1 2 3; do
    if coordinator=$("$citus/cluster.sh" start "$dir/cluster" 2 "$(free_ports 3 "$dir")" | tail -n 1); then
        break
    fi
    echo "citus-test.sh: the cluster did not start (attempt $attempt): $(tail -n 2 "$dir"/cluster/node*.log 2>/dev/null | tail -n 1)" >&2
    "$citus/cluster.sh" stop "$dir/cluster" || true
    coordinator=""
done
[[ -n $coordinator ]] || { echo "citus-test.sh: the cluster did not start" >&2; exit 1; }
echo "citus-test.sh: coordinator at $coordinator"
cd "$repo"
TEST_DB_CITUS=1 DATABASE_URL=$coordinator ${CARGO:-cargo} nextest run -p e2e-tests \
    --run-ignored all --no-fail-fast "$@"
