#!/usr/bin/env bash
# `BENCH_CITUS=1 make bench`: the release binary on one PostgreSQL and on a Citus cluster
# (a coordinator and two workers on this machine), side by side in one run, with the same
# customers in both: the cost of the distributed layout as ratios (docs/scale-out.md).
#
# Needs DATABASE_URL (the single node's server; make bench gets it from scripts/with-db.sh),
# the release binary, root (the Citus nodes run as the `postgres` user) and Citus's source
# (../shared/citus, or CITUS_DIR). The single node's database, customer_api_bench_citus, is
# created, migrated and seeded (`customer-api seed`) on each run; the cluster is started in a
# temporary directory, migrated by the binary (which lays out the distributed tables), given
# the same rows by COPY (history and counts triggers off, then the lookup tables filled and
# the counts rebuilt), and stopped afterwards.
#
# Environment: BENCH_ROWS (100000: the copy through the coordinator and the two services on
# two cores make a million impractical here), BENCH_SEED (42), BENCH_DURATION (10),
# BENCH_CONNECTIONS (32), BENCH_PORT (18080; the cluster's service listens on the next port),
# BENCH_WRITERS (8 connections creating customers in the "under writes" runs),
# BENCH_CITUS_SHARDS (4: shards per distributed table, `citus.shard_count`).
set -euo pipefail

ROWS=${BENCH_ROWS:-100000}
SEED=${BENCH_SEED:-42}
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18080}
WRITERS=${BENCH_WRITERS:-8}
SHARDS=${BENCH_CITUS_SHARDS:-4}
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/ports.sh
source "$ROOT/scripts/ports.sh"
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/customer-api
OUT=$ROOT/target/bench/citus
DB=customer_api_bench_citus
cd "$ROOT"
mkdir -p "$OUT"

log() { printf 'bench-citus: %s\n' "$*" >&2; }
die() {
    printf 'bench-citus: error: %s\n' "$*" >&2
    exit 1
}

[[ -n ${DATABASE_URL:-} ]] || die "DATABASE_URL is not set (run through make bench)"
[[ -x $BIN ]] || die "$BIN is missing (cargo build --release -p customer-api)"
scripts/ensure-tools.sh wrk

# shellcheck source=scripts/citus-source.sh
source "$ROOT/scripts/citus-source.sh"
CITUS_SCRIPTS=$(citus_source "$ROOT") || die "no Citus to run"
"$CITUS_SCRIPTS/build.sh" >&2

psql_at() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
server_url=${DATABASE_URL%/*}
SINGLE_URL=$server_url/$DB

dir=$(mktemp -d /tmp/customer-api-bench-citus.XXXXXX)
chmod 755 "$dir" # the nodes run as the `postgres` user
PIDS=()
# shellcheck disable=SC2317 # (run by the EXIT trap, not unreachable)
finish() {
    local rc=$? pid
    trap - EXIT INT TERM HUP
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$CITUS_SCRIPTS/cluster.sh" stop "$dir/cluster" || true
    rm -rf "$dir"
    exit "$rc"
}
trap finish EXIT INT TERM HUP

# ---------------------------------------------------------------------------- data
log "seeding $DB with $ROWS customers (seed $SEED)"
psql_at "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
APP__DATABASE__URL=$SINGLE_URL "$BIN" migrate >"$OUT/seed.log" 2>&1 || die "migrate: $(tail -n 3 "$OUT/seed.log")"
APP__DATABASE__URL=$SINGLE_URL "$BIN" seed --count "$ROWS" --seed "$SEED" >>"$OUT/seed.log" 2>&1 ||
    die "seed: $(tail -n 3 "$OUT/seed.log")"

log "starting a Citus coordinator and two workers"
CITUS_URL=$("$CITUS_SCRIPTS/cluster.sh" start "$dir/cluster" 2 "$(free_ports 3 "$dir")" | tail -n 1)
# Shards per table: two per worker here (docs/scale-out.md, "Shards").
psql_at "$CITUS_URL" -c "ALTER DATABASE postgres SET citus.shard_count = $SHARDS"
APP__DATABASE__URL=$CITUS_URL "$BIN" migrate >>"$OUT/seed.log" 2>&1 ||
    die "migrating the cluster: $(tail -n 3 "$OUT/seed.log")"
# Every stored column but the feed position (the cluster's triggers set it): read from the
# catalog, so a new field needs nothing here.
COLUMNS=$(psql_at "$SINGLE_URL" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0
      AND NOT attisdropped AND attgenerated = '' AND attname <> 'event_xid'")
started=$SECONDS
# One statement at a time: Citus passes DDL on as the text it was sent in.
psql_at "$CITUS_URL" -c "ALTER TABLE customers DISABLE TRIGGER customer_counts_insert" \
    -c "ALTER TABLE customers DISABLE TRIGGER customer_events_insert"
psql_at "$SINGLE_URL" -c "\\copy (SELECT $COLUMNS FROM customers ORDER BY id) TO STDOUT" |
    psql_at "$CITUS_URL" -c "\\copy customers ($COLUMNS) FROM STDIN"
psql_at "$CITUS_URL" -c "ALTER TABLE customers ENABLE TRIGGER customer_counts_insert" \
    -c "ALTER TABLE customers ENABLE TRIGGER customer_events_insert" \
    -c "INSERT INTO customer_emails SELECT lower(email), customer_id FROM customers" \
    -c "INSERT INTO customer_usernames SELECT username, customer_id FROM customers" \
    -c "SELECT customer_counts_rebuild()" \
    -c "SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))" \
    -c "ANALYZE"
log "copied $ROWS customers into the cluster in $((SECONDS - started)) s"

# The sample of existing customers the lookups and updates pick from (the same ids in both).
psql_at "$SINGLE_URL" -F $'\t' -c "SELECT customer_id, email FROM customers
    TABLESAMPLE BERNOULLI (least(100, 200000.0 / $ROWS)) REPEATABLE (7) LIMIT 2000" >"$OUT/sample.tsv"
{
    echo "ids = {"
    cut -f1 "$OUT/sample.tsv" | sed 's/.*/  "&",/'
    echo "}"
    echo "emails = {"
    cut -f2 "$OUT/sample.tsv" | sed 's/.*/  "&",/'
    echo "}"
} >"$OUT/sample.lua"

# ---------------------------------------------------------------------------- services
start_service() { # $1 database URL, $2 port, $3 log
    env APP_ENV=production APP__DATABASE__URL="$1" APP__SERVER__PORT="$2" \
        APP__AUTH__ENABLED=false APP__RATE_LIMIT__ENABLED=false \
        "$BIN" serve >"$3" 2>&1 &
    PIDS+=($!)
    local deadline=$((SECONDS + 60))
    until curl -fsS "http://127.0.0.1:$2/health" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "the service on $2 did not get healthy: $(tail -n 5 "$3")"
        sleep 0.5
    done
}
start_service "$SINGLE_URL" "$PORT" "$OUT/service-single.log"
start_service "$CITUS_URL" "$((PORT + 1))" "$OUT/service-citus.log"

# ---------------------------------------------------------------------------- scenarios
export BENCH_SAMPLE=$OUT/sample.lua
BENCH_RUN=$(date +%s)
export BENCH_RUN
run_wrk() { # $1 port, $2 script, rest: env assignments; prints "rps p50 p99 errors"
    local port=$1 script=$2
    shift 2
    env "$@" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s -s "bench/wrk/$script" \
        "http://127.0.0.1:$port" >"$OUT/wrk.out" 2>&1 || true
    grep '^RESULT' "$OUT/wrk.out" | cut -d' ' -f2- || echo "0 0 0 -1"
}
writes_round=0
under_writes() { # $1 port, then the command; the writers create through the same service
    local port=$1 writer
    shift
    writes_round=$((writes_round + 1))
    env BENCH_RUN="${BENCH_RUN}w$writes_round" wrk -t1 -c"$WRITERS" -d"$((DURATION + 1))s" \
        --timeout 30s -s bench/wrk/create.lua "http://127.0.0.1:$port" >"$OUT/writes.out" 2>&1 &
    writer=$!
    "$@"
    wait "$writer" || true
}
rows=()
scenario() { # name, wrk script, wrk env (space-separated, may be empty), under writes (0/1)
    local name=$1 script=$2 env_vars=$3 writes=$4 single citus
    ((writes == 0)) || name="$name, under writes"
    log "$name"
    # shellcheck disable=SC2086 # env_vars is a list of assignments
    if ((writes == 0)); then
        single=$(run_wrk "$PORT" "$script" $env_vars)
        citus=$(run_wrk "$((PORT + 1))" "$script" $env_vars)
    else
        single=$(under_writes "$PORT" run_wrk "$PORT" "$script" $env_vars)
        citus=$(under_writes "$((PORT + 1))" run_wrk "$((PORT + 1))" "$script" $env_vars)
    fi
    rows+=("$name|$single|$citus")
}
# Warm both services and their caches of prepared statements.
run_wrk "$PORT" get_by_id.lua >/dev/null
run_wrk "$((PORT + 1))" get_by_id.lua >/dev/null
for writes in 0 1; do
    scenario "get by customer_id" get_by_id.lua "" "$writes"
    scenario "get by email" get_by_email.lua "" "$writes"
    scenario "list first page" get_path.lua "BENCH_PATH=/api/v1/customers/?limit=50" "$writes"
    scenario "search (text + country)" search.lua "" "$writes"
    scenario "statistics overview" get_path.lua "BENCH_PATH=/api/v1/customers/statistics/overview" "$writes"
done
scenario "create" create.lua "" 0
scenario "update" update.lua "" 0
scenario "change feed page" get_path.lua "BENCH_PATH=/api/v1/events?limit=100" 0

# The counts after every write of the run, on the cluster.
drift=$(APP__DATABASE__URL=$CITUS_URL "$BIN" stats check 2>&1 | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g')

# ---------------------------------------------------------------------------- report
report=$OUT/report.md
{
    echo "| scenario | one node, requests/s | p50 ms | p99 ms | Citus, requests/s | p50 ms | p99 ms | ratio |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for row in "${rows[@]}"; do
        IFS='|' read -r name single citus <<<"$row"
        read -r s_rps s_p50 s_p99 s_err <<<"$single"
        read -r c_rps c_p50 c_p99 c_err <<<"$citus"
        ratio=$(awk -v a="$c_rps" -v b="$s_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        errors=""
        [[ $s_err == 0 && $c_err == 0 ]] || errors=" (errors: $s_err / $c_err)"
        printf '| %s%s | %.0f | %s | %s | %.0f | %s | %s | %s |\n' "$name" "$errors" \
            "$s_rps" "$s_p50" "$s_p99" "$c_rps" "$c_p50" "$c_p99" "$ratio"
    done
    echo
    echo "- $ROWS customers in both; $CONNECTIONS connections, ${DURATION} s per scenario; under"
    echo "  writes: $WRITERS more connections creating customers through the same service."
    echo "- The cluster: a coordinator and two workers on this machine, $SHARDS shards per table."
    echo "- \`customer-api stats check\` on the cluster after the run: $drift."
} >"$report"
cat "$report"
