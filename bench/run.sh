#!/usr/bin/env bash
# `make bench`: the release binary against BENCH_ROWS customers, driven by wrk, next to
# pgbench running the equivalent SQL (the limit: what PostgreSQL alone does here).
#
# Needs DATABASE_URL (make bench gets it from scripts/with-db.sh) and the release binary.
# Uses a database of its own, customer_api_bench, on that server: created, migrated and
# seeded on first use; reused while it holds the same BENCH_ROWS and BENCH_SEED under the
# same migrations (rows a previous run created are deleted first).
#
# Environment: BENCH_ROWS (1000000), BENCH_SEED (42), BENCH_DURATION (seconds per scenario,
# 10), BENCH_CONNECTIONS (32), BENCH_PORT (18080), BENCH_LIMIT (list page size, 50),
# BENCH_WRITERS (8: connections creating customers meanwhile in the "under writes" runs of
# the read scenarios), BENCH_ONLY (a regular expression: run only the scenarios whose names
# match it; "get by customer_id, instances behind HAProxy" is 1, 2 and 3 instances behind a
# round-robin HAProxy, beside one instance reached directly; "get by customer_id, rate limit
# off, local, shared" is an instance with each kind of per-client limit, the shared one through
# a Redis of its own, measured in turns with BENCH_LIMITER_CONNECTIONS (2) and BENCH_CONNECTIONS).
#
# BENCH_MINIMAL_PORT (BENCH_PORT + 9): where the minimal same-stack server (bench/minimal) listens
# while the lookups are measured against it.
# BENCH_BASELINE=<git revision> measures that revision's release binary too, in the same run:
# built from `git archive` into BENCH_BASELINE_DIR (target/bench-baseline, or under
# CARGO_TARGET_DIR)/<commit>, reused while present; served on BENCH_BASELINE_PORT (BENCH_PORT + 2)
# against a database of its own, customer_api_bench_baseline, migrated and seeded by that
# binary. Each scenario runs wrk against it right after the current binary, and the table gets
# a row "<scenario> (baseline <short commit>)" with its ratio to the same pgbench figure.
#
# BENCH_CITUS=1 runs bench/citus.sh instead: one node against a Citus cluster, side by side.
set -euo pipefail

if [[ ${BENCH_CITUS:-} == 1 ]]; then
    exec "$(dirname -- "${BASH_SOURCE[0]}")/citus.sh"
fi

ROWS=${BENCH_ROWS:-1000000}
SEED=${BENCH_SEED:-42}
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18080}
LIMIT=${BENCH_LIMIT:-50}
ONLY=${BENCH_ONLY:-}
WRITERS=${BENCH_WRITERS:-8}
BASELINE=${BENCH_BASELINE:-}
BASE_PORT=${BENCH_BASELINE_PORT:-$((PORT + 2))}
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# Where make bench built it (cargo honours CARGO_TARGET_DIR).
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/customer-api
# The minimal same-stack server (bench/minimal), the lookups' yardstick.
MINIMAL_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/bench-minimal
MINIMAL_PORT=${BENCH_MINIMAL_PORT:-$((PORT + 9))}
OUT=$ROOT/target/bench
BENCH_DB=customer_api_bench
BASE_DB=customer_api_bench_baseline
cd "$ROOT"
mkdir -p "$OUT"

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 1
}

[[ -n ${DATABASE_URL:-} ]] || die "DATABASE_URL is not set (run through make bench)"
[[ -x $BIN ]] || die "$BIN is missing (cargo build --release -p customer-api)"

# ---------------------------------------------------------------------------- tools
install_packages() {
    local sudo=()
    ((EUID == 0)) || sudo=(sudo -n)
    log "installing $*"
    # shellcheck disable=SC2015 # dies when either step fails
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 ||
        die "could not install $*; install them and run again"
}
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v pgbench >/dev/null || missing+=(postgresql-client)
command -v psql >/dev/null || missing+=(postgresql-client)
command -v curl >/dev/null || missing+=(curl)
((${#missing[@]} == 0)) || install_packages "${missing[@]}"

# ---------------------------------------------------------------------------- baseline binary
# Runs the command $2... (in a subshell of its own, or as the one it is called in) from the
# tree the binary $1 was built from: the baseline's from its own source, so that it reads its
# own config/ (its settings may differ from the current ones, which it may refuse).
from_tree_of() {
    if [[ $1 != "$BIN" ]]; then
        cd "$BASE_SRC" && export APP_CONFIG_DIR=$BASE_SRC/config
    fi
    shift
    exec "$@"
}
# The revision's tree from `git archive` (no worktree to remove afterwards), built with a target
# directory of its own beside it, so neither build invalidates the other's; kept for the next
# run, keyed by the commit (so HEAD~5 is rebuilt only when it names another commit).
if [[ -n $BASELINE ]]; then
    BASE_COMMIT=$(git rev-parse --verify --quiet "$BASELINE^{commit}") ||
        die "BENCH_BASELINE=$BASELINE is not a commit of this repository"
    BASE_SHORT=$(git rev-parse --short "$BASE_COMMIT")
    BASE_DIR=${BENCH_BASELINE_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/bench-baseline}/$BASE_COMMIT
    mkdir -p "$BASE_DIR"
    BASE_DIR=$(cd "$BASE_DIR" && pwd -P) # absolute: the build and the services run from its tree
    BASE_SRC=$BASE_DIR/src
    BASE_BIN=$BASE_DIR/target/release/customer-api
    if [[ ! -d $BASE_SRC ]]; then
        log "extracting $BASE_SHORT into $BASE_SRC"
        rm -rf "$BASE_SRC.tmp"
        mkdir -p "$BASE_SRC.tmp"
        git archive "$BASE_COMMIT" | tar -x -C "$BASE_SRC.tmp"
        mv "$BASE_SRC.tmp" "$BASE_SRC"
    fi
    if [[ -x $BASE_BIN ]]; then
        log "reusing the baseline binary $BASE_BIN"
    else
        log "building the baseline $BASE_SHORT (release; log in $OUT/baseline-build.log)"
        (cd "$BASE_SRC" && CARGO_TARGET_DIR=$BASE_DIR/target nice -n 19 "${CARGO:-cargo}" build \
            --release -p customer-api) >"$OUT/baseline-build.log" 2>&1 ||
            die "building the baseline failed: $(tail -n 5 "$OUT/baseline-build.log")"
    fi
fi

# ---------------------------------------------------------------------------- database
server_url=${DATABASE_URL%%\?*}
server_url=${server_url%/*}
BENCH_URL=$server_url/$BENCH_DB
ADMIN_URL=$server_url/postgres
psql_at() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

# prepare_database DB BIN SOURCE SEED_LOG: makes DB hold ROWS customers of SEED, created, migrated
# and seeded by BIN, unless it holds them already under the same migrations and generator
# (those of the tree SOURCE); then only the rows earlier runs created are deleted. Sets SEEDED
# to a sentence for the report.
prepare_database() {
    local db=$1 bin=$2 src=$3 seed_log=$4 url have="" wanted migrations_hash started
    url=$server_url/$db
    # The data set changes with the migrations and with the generator.
    # The generator is crates/datagen since the tools left the adapter; before, it was the
    # adapter's src/seed/.
    local generator=() dir
    for dir in "$src"/crates/datagen/src "$src"/crates/infra-postgres/src/seed; do
        [[ -d $dir ]] && generator+=("$dir")
    done
    migrations_hash=$({
        cat "$src"/migrations/*/up.sql
        find "${generator[@]}" -name '*.rs' -print0 | sort -z | xargs -0 -r cat
    } | sha256sum | cut -c1-16)
    wanted="$ROWS $SEED $migrations_hash"
    SEEDED="Reused the database seeded by an earlier run."
    if [[ $(psql_at "$ADMIN_URL" -c "SELECT 1 FROM pg_database WHERE datname = '$db'") == 1 ]]; then
        have=$(psql_at "$url" -c "SELECT rows || ' ' || seed || ' ' || migrations FROM bench_meta" 2>/dev/null || true)
    fi
    if [[ $have == "$wanted" ]]; then
        log "reusing $db ($ROWS customers, seed $SEED); deleting rows earlier runs created"
        # The replay records of keyed creates go too, and the change history (tables older
        # revisions do not have).
        psql_at "$url" -c "DELETE FROM customers WHERE id > $ROWS" \
            -c "DO \$\$ BEGIN IF to_regclass('idempotency_records') IS NOT NULL THEN TRUNCATE idempotency_records; END IF; END \$\$" \
            -c "DO \$\$ BEGIN IF to_regclass('customer_events') IS NOT NULL THEN TRUNCATE customer_events, customer_events_purged; END IF; END \$\$" \
            -c "VACUUM ANALYZE customers"
        return 0
    fi
    log "creating $db with $ROWS customers (seed $SEED)"
    psql_at "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    (from_tree_of "$bin" env APP__DATABASE__URL="$url" "$bin" migrate) >"$seed_log" 2>&1 ||
        die "migrating $db failed: $(tail -n 5 "$seed_log")"
    # A cold release build has just written gigabytes: flush them first, so that their
    # writeback does not compete with the seed's own writes and count in its time.
    sync
    started=$SECONDS
    (from_tree_of "$bin" env APP__DATABASE__URL="$url" "$bin" seed --count "$ROWS" --seed "$SEED") >"$seed_log" 2>&1 ||
        die "seeding $db failed: $(tail -n 5 "$seed_log")"
    # The seed's own account of its phases: fields of its last log line ("?" if missing).
    field() {
        sed 's/\x1b\[[0-9;]*m//g' "$seed_log" | grep -o "$1=[^ ]*" | tail -n 1 | cut -d= -f2 | tr -d '"' || true
    }
    secs() {
        local value
        value=$(field "$1")
        if [[ $value =~ ^[0-9.]+$ ]]; then printf %.1f "$value"; else printf '?'; fi
    }
    SEEDED="Seeded $ROWS customers in $((SECONDS - started)) s: copy $(secs copy_seconds) s, \
unique indexes $(secs unique_indexes_seconds) s, other indexes $(secs other_indexes_seconds) s \
(the longest, $(field longest_index), $(secs longest_index_seconds) s), ANALYZE $(secs analyze_seconds) s, \
aggregates $(secs counts_seconds) s."
    log "$SEEDED"
    psql_at "$url" -c "CREATE TABLE bench_meta (rows bigint, seed int, migrations text)" \
        -c "INSERT INTO bench_meta VALUES ($ROWS, $SEED, '$migrations_hash')"
}
prepare_database "$BENCH_DB" "$BIN" "$ROOT" "$OUT/seed.log"
seeded=$SEEDED
if [[ -n $BASELINE ]]; then
    # Its own database: the baseline may have an older schema, and the rows it creates must
    # not count in the current binary's data.
    BASE_URL=$server_url/$BASE_DB
    prepare_database "$BASE_DB" "$BASE_BIN" "$BASE_SRC" "$OUT/seed-baseline.log"
    seeded="$seeded Baseline $BASE_SHORT: ${SEEDED,}"
fi

# A sample of existing customers for the lookups: Lua tables for wrk, literal statements
# for pgbench (one picked at random per transaction). The baseline gets its own sample of its
# own database (its generator may differ).
write_sample() { # $1: database URL, $2: name of the files in $OUT (sample: sample.tsv, sample.lua)
    psql_at "$1" -F $'\t' -c "SELECT customer_id, email FROM customers
        TABLESAMPLE BERNOULLI (least(100, 200000.0 / $ROWS)) REPEATABLE (7) WHERE id <= $ROWS LIMIT 2000" >"$OUT/$2.tsv"
    {
        echo "ids = {"
        cut -f1 "$OUT/$2.tsv" | sed 's/.*/  "&",/'
        echo "}"
        echo "emails = {"
        cut -f2 "$OUT/$2.tsv" | sed 's/.*/  "&",/'
        echo "}"
    } >"$OUT/$2.lua"
}
write_sample "$BENCH_URL" sample
[[ -z $BASELINE ]] || write_sample "$BASE_URL" sample-baseline
# The columns the service reads, from the catalog (so a new field needs nothing here): all
# but the generated ones and the erasure's and the feed's bookkeeping, which it never shows.
COLUMNS=$(psql_at "$BENCH_URL" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped
      AND attgenerated = '' AND attname NOT IN ('erased_at', 'erasure_reason', 'event_xid')")
# The pgbench scripts with those columns in place of @COLUMNS@.
mkdir -p "$OUT/pgbench"
for script in bench/pgbench/*.sql; do
    sed "s/@COLUMNS@/$COLUMNS/g" "$script" >"$OUT/pgbench/${script##*/}"
done
# The overview's limit: the repository's own statement, over the counts the database keeps
# with every write, its parameters written in for the same whole-UTC-day windows, the same
# average age and the same 100 largest places.
day="(now() AT TIME ZONE 'UTC')"
sed -e "s/[$]1/to_char($day, 'YYYY-MM-DD')/g" \
    -e "s/[$]2/to_char($day - interval '7 days', 'YYYY-MM-DD')/g" \
    -e "s/[$]3/to_char($day - interval '30 days', 'YYYY-MM-DD')/g" \
    -e "s/[$]4/date_part('epoch', now())/g" -e "s/[$]5/31557600.0/g" -e "s/[$]6/100/g" \
    -e '$ s/$/;/' crates/infra-postgres/sql/overview.sql >"$OUT/pgbench/statistics.sql"
pgbench_pick() { # $1: field of the sample, $2: one statement, %s where the sample's value goes; $3: the sample (sample)
    echo "\\set k random(1, 100)"
    head -n 100 "$OUT/${3:-sample}.tsv" | cut -f"$1" | awk -v statement="$2" '{
        printf "%s :k = %d\n%s;\n", (NR == 1 ? "\\if" : "\\elif"), NR, sprintf(statement, $0)
    }'
    printf '%s\n' '\endif'
}
pgbench_pick 1 "SELECT $COLUMNS FROM customers WHERE customer_id = '%s' LIMIT 1" >"$OUT/get_by_id.sql"
pgbench_pick 2 "SELECT $COLUMNS FROM customers WHERE lower(email) = lower('%s') LIMIT 1" >"$OUT/get_by_email.sql"
# The limit for update: the same change of one of the sample's customers, returning the row.
UPDATE_SQL="UPDATE customers SET notes = 'pgbench ' || :client_id || '.' || random(), \
city = 'Riverside' WHERE customer_id = '%s' RETURNING $COLUMNS"
pgbench_pick 1 "$UPDATE_SQL" >"$OUT/update.sql"
[[ -z $BASELINE ]] || pgbench_pick 1 "$UPDATE_SQL" sample-baseline >"$OUT/update-baseline.sql"

# ---------------------------------------------------------------------------- service
# The production configuration as deployed, except: the database, the port, no
# authentication (tokens are not what is measured) and no per-client rate limit (all of
# wrk's connections come from one address, which the limiter would rightly throttle).
start_service() { # $1 binary, $2 database URL, $3 port, $4 log file, rest: more settings; sets STARTED_PID
    local bin=$1 url=$2 port=$3 log_file=$4
    shift 4
    (from_tree_of "$bin" env APP_ENV=production APP__DATABASE__URL="$url" APP__SERVER__HOST=127.0.0.1 \
        APP__SERVER__PORT="$port" APP__AUTH__ENABLED=false APP__RATE_LIMIT__ENABLED=false "$@" \
        "$bin" serve) >"$log_file" 2>&1 &
    STARTED_PID=$!
}
# Waits for $2's /health (about 20 s at most); fails if the process $1 exits first.
wait_healthy() {
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$2/health" >/dev/null 2>&1 && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.2
    done
}
stop_service() { # $1: pid (none: nothing to stop)
    if [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
SERVICE_PID="" SERVICE2_PID="" BASE_PID="" BASE2_PID="" BASE2_REFUSED=0 INDEX_PID=""
cleanup() {
    local pid
    for pid in "$SERVICE_PID" "$SERVICE2_PID" "$BASE_PID" "$BASE2_PID" "$INDEX_PID"; do
        stop_service "$pid"
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The same service with the statistics' coalescing off ([statistics] coalesce = false), for
# the overview computed once per request, side by side with the deployed one (and the
# baseline's, on the port after BASE_PORT).
start_uncoalesced() {
    local settings=(APP__STATISTICS__COALESCE=false APP__DATABASE__MIGRATE_ON_START=false)
    start_service "$BIN" "$BENCH_URL" $((PORT + 1)) "$OUT/service-uncoalesced.log" "${settings[@]}"
    SERVICE2_PID=$STARTED_PID
    if [[ -n $BASELINE ]] && ((BASE2_REFUSED == 0)); then
        start_service "$BASE_BIN" "$BASE_URL" $((BASE_PORT + 1)) "$OUT/service-baseline-uncoalesced.log" "${settings[@]}"
        BASE2_PID=$STARTED_PID
    fi
    wait_healthy "$SERVICE2_PID" $((PORT + 1)) ||
        die "the service exited: $(tail -n 5 "$OUT/service-uncoalesced.log")"
    # A revision from before [statistics] coalesce refuses the setting: no baseline rows then.
    if [[ -n $BASE2_PID ]] && ! wait_healthy "$BASE2_PID" $((BASE_PORT + 1)); then
        log "the baseline without coalescing exited (no baseline rows for it): $(tail -n 2 "$OUT/service-baseline-uncoalesced.log")"
        BASE2_PID="" BASE2_REFUSED=1
    fi
}
start_service "$BIN" "$BENCH_URL" "$PORT" "$OUT/service.log"
SERVICE_PID=$STARTED_PID
if [[ -n $BASELINE ]]; then
    start_service "$BASE_BIN" "$BASE_URL" "$BASE_PORT" "$OUT/service-baseline.log"
    BASE_PID=$STARTED_PID
    wait_healthy "$BASE_PID" "$BASE_PORT" ||
        die "the baseline service exited: $(tail -n 5 "$OUT/service-baseline.log")"
    # Each service keeps the connections it opened (16 by default), and PostgreSQL's default
    # max_connections is 100: four services idle beside pgbench's clients and writers would
    # exceed it. So with a baseline the services without coalescing run only for their own
    # scenarios (started before, stopped after).
else
    start_uncoalesced
fi
wait_healthy "$SERVICE_PID" "$PORT" || die "the service exited: $(tail -n 5 "$OUT/service.log")"

# ---------------------------------------------------------------------------- scenarios
export BENCH_SAMPLE=$OUT/sample.lua BENCH_RUN
BENCH_RUN=$(date +%s)
results=()
WRK_OUT=$OUT/wrk.out
WRK_PORT=$PORT # where wrk sends the scenario's requests
run_wrk() { # $1 script, rest: env assignments; prints "rps p50 p99 errors"
    local script=$1
    shift
    # wrk gives up on a response after 2 s by default and counts it as an error; a slow
    # success (a deep offset page takes about 2 s under 32 connections) is not an error,
    # and its latency belongs in the percentiles, so wait up to 30 s.
    env "$@" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s -s "bench/wrk/$script" \
        "http://127.0.0.1:$WRK_PORT" >"$WRK_OUT" 2>&1 || true
    grep '^RESULT' "$WRK_OUT" | cut -d' ' -f2- || echo "0 0 0 -1"
}
run_pgbench() { # $1 script file, rest: pgbench -D assignments; prints tps
    local file=$1
    shift
    local defines=()
    for d in "$@"; do defines+=(-D "$d"); done
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" "${defines[@]}" \
        -f "$file" "${PGBENCH_URL:-$BENCH_URL}" >"$OUT/pgbench.out" 2>&1 || true
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench.out" | head -n 1 | grep . || echo 0
}
# With UNDER_WRITES=1 a read scenario runs while WRITERS more connections create customers
# the whole time: through the service while wrk measures it, straight into PostgreSQL while
# pgbench does. Every write commits and moves the aggregates and the search snapshot, so
# nothing read can be served from a result computed before it.
UNDER_WRITES=0
writes_round=0
start_writes() { # $1: wrk or pgbench, $2: the service's port for wrk; the writers run a second longer than the readers
    writes_round=$((writes_round + 1))
    if [[ $1 == wrk ]]; then
        env BENCH_RUN="${BENCH_RUN}w$writes_round" wrk -t1 -c"$WRITERS" -d"$((DURATION + 1))s" \
            --timeout 30s -s bench/wrk/create.lua "http://127.0.0.1:$2" \
            >"$OUT/writes-wrk.out" 2>&1 &
    else
        pgbench -n -M prepared -c "$WRITERS" -j 1 -T "$((DURATION + 1))" \
            -f "$OUT"/pgbench/create.sql "$BENCH_URL" >"$OUT/writes-pgbench.out" 2>&1 &
    fi
    WRITES_PID=$!
}
# A sixth argument (a pgbench file) gives the baseline's row a limit of its own: that file run
# against the baseline's database, for writes, whose work in PostgreSQL depends on the
# schema (the triggers a revision has).
scenario() { # name, wrk script, wrk env (space-separated), pgbench file, pgbench defines[, baseline's pgbench file]
    local name=$1 script=$2 env_vars=$3 pg_file=$4 pg_defines=$5 base_pg_file=${6:-} wrk_result base_result="" tps base_tps
    # The baseline's counterpart of the service wrk drives (the deployed or the uncoalesced).
    local base_port=$((WRK_PORT - PORT + BASE_PORT)) on_demand=0
    ((UNDER_WRITES == 0)) || name="$name, under writes"
    [[ -z $ONLY || $name =~ $ONLY ]] || return 0
    if [[ -n $BASELINE ]] && ((WRK_PORT == PORT + 1)); then
        on_demand=1
        start_uncoalesced
    fi
    # Each scenario's wrk output (with its errors by kind) stays for a look afterwards.
    WRK_OUT=$OUT/wrk-${name//[^a-z0-9]/_}.out
    log "$name: wrk"
    ((UNDER_WRITES == 0)) || start_writes wrk "$PORT"
    # shellcheck disable=SC2086 # word splitting of the assignments is intended
    wrk_result=$(run_wrk "$script" $env_vars)
    ((UNDER_WRITES == 0)) || wait "$WRITES_PID" || true
    if [[ -n $BASELINE ]] && { ((base_port == BASE_PORT)) || [[ -n $BASE2_PID ]]; }; then
        # Right after the current binary, the same script against the baseline, with its
        # own sample and its own writers.
        WRK_OUT=$OUT/wrk-${name//[^a-z0-9]/_}-baseline.out
        log "$name: wrk, baseline $BASE_SHORT"
        ((UNDER_WRITES == 0)) || start_writes wrk "$BASE_PORT"
        # shellcheck disable=SC2086
        base_result=$(WRK_PORT=$base_port run_wrk "$script" BENCH_SAMPLE="$OUT/sample-baseline.lua" $env_vars)
        ((UNDER_WRITES == 0)) || wait "$WRITES_PID" || true
    fi
    if ((on_demand)); then
        stop_service "$SERVICE2_PID"
        stop_service "$BASE2_PID"
        SERVICE2_PID="" BASE2_PID=""
    fi
    log "$name: pgbench"
    ((UNDER_WRITES == 0)) || start_writes pgbench
    # shellcheck disable=SC2086
    tps=$(run_pgbench "$pg_file" $pg_defines)
    ((UNDER_WRITES == 0)) || wait "$WRITES_PID" || true
    base_tps=$tps
    if [[ -n $base_result && -n $base_pg_file ]]; then
        log "$name: pgbench, baseline's database"
        # shellcheck disable=SC2086
        base_tps=$(PGBENCH_URL=$BASE_URL run_pgbench "$base_pg_file" $pg_defines)
    fi
    results+=("$name $wrk_result $tps")
    [[ -z $base_result ]] || results+=("$name (baseline $BASE_SHORT) $base_result $base_tps")
    LAST_RPS=${wrk_result%% *} LAST_TPS=$tps
}
# The lookup just measured, against the minimal same-stack server (bench/minimal: actix-web
# and tokio-postgres, the same SQL prepared once per connection, the same JSON, nothing
# else), started for it and stopped after: a row of its own, and the service's share of
# its throughput in the notes. Under writes, the writers go through the service.
minimal_rows=()
minimal_scenario() { # name, wrk script
    local name=$1 script=$2 result minimal_pid
    ((UNDER_WRITES == 0)) || name="$name, under writes"
    [[ -z $ONLY || $name =~ $ONLY ]] || return 0
    DATABASE_URL=$BENCH_URL MINIMAL_PORT=$MINIMAL_PORT MINIMAL_CONNECTIONS=16 \
        "$MINIMAL_BIN" >"$OUT/minimal.log" 2>&1 &
    minimal_pid=$!
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$MINIMAL_PORT/api/v1/customers/none" && break
        kill -0 "$minimal_pid" 2>/dev/null || die "the minimal server exited: $(tail -n 3 "$OUT/minimal.log")"
        sleep 0.1
    done
    # The same JSON as the service's, byte for byte, for one customer.
    local id
    id=$(psql_at "$BENCH_URL" -Atc "SELECT customer_id FROM customers ORDER BY id LIMIT 1 OFFSET 1000")
    [[ $(curl -fsS "http://127.0.0.1:$PORT/api/v1/customers/$id") == \
        "$(curl -fsS "http://127.0.0.1:$MINIMAL_PORT/api/v1/customers/$id")" ]] ||
        die "the minimal server's answer for $id differs from the service's"
    WRK_OUT=$OUT/wrk-${name//[^a-z0-9]/_}-minimal.out
    log "$name: wrk, minimal same-stack server"
    ((UNDER_WRITES == 0)) || start_writes wrk "$PORT"
    result=$(WRK_PORT=$MINIMAL_PORT run_wrk "$script")
    ((UNDER_WRITES == 0)) || wait "$WRITES_PID" || true
    stop_service "$minimal_pid"
    results+=("$name (minimal same-stack server) $result $LAST_TPS")
    minimal_rows+=("$(awk -v n="$name" -v s="$LAST_RPS" -v m="${result%% *}" \
        'BEGIN { printf "| %s | %.0f | %.0f | %s |", n, s, m, (m > 0) ? sprintf("%.2f", s / m) : "-" }')")
}

# The scenario given, against one more instance with [search] index on (INDEX_PORT), started
# for it once its index is built and stopped after; writes under writes still go through the
# deployed instance, so the indexed one finds them through the change history, as a second
# instance would. Its build time and memory go into the notes.
INDEX_PORT=$((PORT + 4))
index_note=""
with_index() { # scenario name, then the rest of scenario's arguments
    local name=$1 shown=$1 pid started built rss
    ((UNDER_WRITES == 0)) || shown="$name, under writes"
    [[ -z $ONLY || $shown =~ $ONLY ]] || return 0
    started=$SECONDS
    start_service "$BIN" "$BENCH_URL" "$INDEX_PORT" "$OUT/service-index.log" \
        APP__SEARCH__INDEX=true APP__DATABASE__MIGRATE_ON_START=false APP__DATABASE__COUNTS_COMPACT_INTERVAL_SECS=0
    pid=$STARTED_PID INDEX_PID=$STARTED_PID
    wait_healthy "$pid" "$INDEX_PORT" || die "the indexed instance exited: $(tail -n 5 "$OUT/service-index.log")"
    built=""
    for _ in $(seq 1 600); do
        curl -fsS --max-time 5 "http://127.0.0.1:$INDEX_PORT/metrics" | grep -qx 'search_index_ready 1' && { built=1; break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    [[ -n $built ]] || { stop_service "$pid"; die "the indexed instance built no index in 300 s: $(tail -n 5 "$OUT/service-index.log")"; }
    built=$((SECONDS - started))
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    shift
    WRK_PORT=$INDEX_PORT scenario "$name" "$@"
    rss=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    index_note="The indexed instance ([search] index = true) was ready $built s after its start (the index's build included), with a peak resident memory of $((rss / 1024)) MiB; it remembered $(curl -fsS --max-time 5 "http://127.0.0.1:$INDEX_PORT/metrics" | sed -n 's/^search_index_remembered_terms //p') frequent terms."
    stop_service "$pid"
    INDEX_PID=""
}

half=$((ROWS / 2))
cursor=$(printf 'c1.%x' $((LIMIT * 9999)))
log "warming up"
run_wrk get_by_id.lua >/dev/null
[[ -z $BASELINE ]] || WRK_PORT=$BASE_PORT run_wrk get_by_id.lua BENCH_SAMPLE="$OUT/sample-baseline.lua" >/dev/null
read_scenarios() {
    scenario "get by customer_id" get_by_id.lua "" "$OUT/get_by_id.sql" ""
    minimal_scenario "get by customer_id" get_by_id.lua
    scenario "get by email" get_by_email.lua "" "$OUT/get_by_email.sql" ""
    minimal_scenario "get by email" get_by_email.lua
    scenario "search (text + country)" search.lua "" "$OUT"/pgbench/search.sql ""
    # The same searches, each asked once: what computing a search costs the service.
    scenario "search, each one new" search.lua "BENCH_DISTINCT=1" "$OUT"/pgbench/search.sql ""
    # The same, answered by the search index of another instance.
    with_index "search, each one new, index" search.lua "BENCH_DISTINCT=1" "$OUT"/pgbench/search.sql ""
    scenario "list first page" get_path.lua "BENCH_PATH=/api/v1/customers/?limit=$LIMIT" \
        "$OUT"/pgbench/list_offset.sql "offset=0 limit=$LIMIT"
    scenario "list skip=$half" get_path.lua "BENCH_PATH=/api/v1/customers/?limit=$LIMIT&skip=$half" \
        "$OUT"/pgbench/list_deep.sql "offset=$half limit=$LIMIT"
    scenario "list page 10000 (cursor)" get_path.lua "BENCH_PATH=/api/v1/customers/?limit=$LIMIT&cursor=$cursor" \
        "$OUT"/pgbench/list_after.sql "after=$((LIMIT * 9999)) limit=$LIMIT"
    scenario "statistics overview" get_path.lua "BENCH_PATH=/api/v1/customers/statistics/overview" \
        "$OUT"/pgbench/statistics.sql ""
    WRK_PORT=$((PORT + 1)) scenario "statistics overview, each request computed" get_path.lua \
        "BENCH_PATH=/api/v1/customers/statistics/overview" "$OUT"/pgbench/statistics.sql ""
}
read_scenarios
UNDER_WRITES=1 read_scenarios
scenario "create" create.lua "" "$OUT"/pgbench/create.sql "" "$OUT"/pgbench/create.sql
# The same creates, each with an Idempotency-Key never sent before: what remembering the key
# costs on top of the insert, whose limit stays the plain insert. Its own BENCH_RUN keeps its
# emails apart from the create row's.
scenario "create, with Idempotency-Key" create_idem.lua "BENCH_RUN=${BENCH_RUN}i" "$OUT"/pgbench/create.sql "" \
    "$OUT"/pgbench/create.sql
scenario "update" update.lua "" "$OUT/update.sql" "" "$OUT/update-baseline.sql"

# A consumer following the change feed with long polls while the create scenario writes at
# full rate (against the current binary only: the baseline may have no feed). It reads to
# the end of the feed first; it must then receive every create the run made, each once.
feed_note=""
if [[ -z $ONLY || "create, followed by the feed" =~ $ONLY ]]; then
    log "create, followed by the feed: wrk and bench/feed_follower.py"
    marker=".${BENCH_RUN}f."
    python3 bench/feed_follower.py "http://127.0.0.1:$PORT" "$marker" >"$OUT/feed.out" 2>&1 &
    follower_pid=$!
    for _ in $(seq 1 600); do
        grep -q '^READY' "$OUT/feed.out" && break
        kill -0 "$follower_pid" 2>/dev/null || die "the feed follower exited: $(tail -n 3 "$OUT/feed.out")"
        sleep 0.1
    done
    WRK_OUT=$OUT/wrk-create_followed.out
    followed=$(run_wrk create.lua BENCH_RUN="${BENCH_RUN}f")
    # What is still on its way when wrk stops: a few seconds to come through.
    sleep 3
    kill -TERM "$follower_pid" 2>/dev/null || true
    wait "$follower_pid" || true
    read -r rps _ _ _ <<<"$followed"
    created=$(psql_at "$BENCH_URL" -c "SELECT count(*) FROM customers WHERE id > $ROWS AND email LIKE '%$marker%'")
    # FEED events <n> marked <m> lag_p50_ms <x> lag_p99_ms <y> lag_max_ms <z> duplicates <d>
    read -r _ _ events _ marked _ lag50 _ lag99 _ lagmax _ dups < <(grep '^FEED' "$OUT/feed.out" ||
        echo "FEED events 0 marked 0 lag_p50_ms ? lag_p99_ms ? lag_max_ms ? duplicates ?")
    feed_note="Feed follower (bench/feed_follower.py) during creates at full rate ($(printf %.0f "$rps") creates/s through the service, $CONNECTIONS connections): received $marked of the $created customers created, $events events in all, lag p50 $lag50 ms, p99 $lag99 ms, max $lagmax ms, $dups duplicates."
fi

# Concurrent creates are not serialised by the aggregates: pgbench's creates with the
# counters spread over 16 slots (as deployed) against the same with one slot, side by side.
# The one-slot variant is the migration's own function with the slot fixed; the original is
# put back afterwards, also when the run is interrupted.
slots_note=""
if [[ -z $ONLY || "create, one counter slot" =~ $ONLY ]]; then
    spread=$(psql_at "$BENCH_URL" -c "SELECT pg_get_functiondef('customer_counts_add'::regproc)")
    one_slot=${spread//"(SELECT floor(random() * 16)::smallint)"/"0::smallint"}
    [[ $one_slot != "$spread" ]] || die "customer_counts_add no longer draws its slot as expected"
    restore_slots() { psql_at "$BENCH_URL" -c "$spread" || true; }
    trap 'restore_slots; cleanup' EXIT
    log "create, one counter slot: pgbench"
    psql_at "$BENCH_URL" -c "$one_slot"
    tps_one=$(run_pgbench "$OUT"/pgbench/create.sql)
    restore_slots
    trap cleanup EXIT
    log "create, 16 counter slots: pgbench"
    tps_spread=$(run_pgbench "$OUT"/pgbench/create.sql)
    slots_note="Concurrent creates (pgbench, $CONNECTIONS clients): $tps_spread TPS with the counters spread over 16 slots, $tps_one TPS with one counter row."
fi
recomputed_note=""
if [[ -z $ONLY || "statistics recomputed" =~ $ONLY ]]; then
    log "statistics recomputed from the customers: pgbench"
    recomputed_tps=$(pgbench -n -M prepared -c 2 -j 2 -T "$DURATION" \
        -f "$OUT"/pgbench/statistics_recomputed.sql "$BENCH_URL" 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1)
    recomputed_note="Computing the overview from the customers instead (the original's way, pgbench, 2 clients): ${recomputed_tps:-?} per second."
fi

# Get by id through HAProxy (round robin) in front of 1, 2 and 3 instances of the service,
# beside one instance reached directly: what more instances and the balancer's hop give on
# this machine. The instances share the cores with PostgreSQL, wrk and HAProxy.
instances_rows=()
if [[ -z $ONLY || "get by customer_id, instances behind HAProxy" =~ $ONLY ]]; then
    scripts/ensure-tools.sh haproxy
    # Free the connections of the service without coalescing (PostgreSQL allows 100).
    stop_service "$SERVICE2_PID"
    SERVICE2_PID=""
    balancer_port=$((PORT + 9))
    instance_pids=()
    stop_instances() {
        local pid
        for pid in "${instance_pids[@]}"; do stop_service "$pid"; done
        instance_pids=()
        [[ -z ${HAPROXY_PID:-} ]] || { kill "$HAPROXY_PID" 2>/dev/null || true; wait "$HAPROXY_PID" 2>/dev/null || true; }
        HAPROXY_PID=""
    }
    trap 'stop_instances; cleanup' EXIT
    for n in 1 2 3; do
        servers=""
        for ((i = 1; i <= n; i++)); do
            port=$((PORT + 10 + i))
            start_service "$BIN" "$BENCH_URL" "$port" "$OUT/instance-$i.log" \
                APP__DATABASE__MIGRATE_ON_START=false APP__DATABASE__COUNTS_COMPACT_INTERVAL_SECS=0
            instance_pids+=("$STARTED_PID")
            servers+="    server s$i 127.0.0.1:$port"$'\n'
        done
        for ((i = 1; i <= n; i++)); do
            wait_healthy "${instance_pids[$((i - 1))]}" $((PORT + 10 + i)) ||
                die "instance $i exited: $(tail -n 5 "$OUT/instance-$i.log")"
        done
        if ((n == 1)); then
            WRK_PORT=$((PORT + 11)) WRK_OUT=$OUT/wrk-instances-warmup.out
            DURATION=3 run_wrk get_by_id.lua >/dev/null
            log "get by customer_id, one instance directly: wrk"
            WRK_PORT=$((PORT + 11)) WRK_OUT=$OUT/wrk-instances-direct.out
            read -r rps p50 p99 errors <<<"$(run_wrk get_by_id.lua)"
            instances_rows+=("| one instance, directly | $(printf %.0f "$rps") | $p50 | $p99 | $errors |")
        fi
        cat >"$OUT/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend customers
    bind 127.0.0.1:$balancer_port
    default_backend instances
backend instances
    balance roundrobin
$servers
CFG
        /usr/sbin/haproxy -f "$OUT/haproxy.cfg" -db >"$OUT/haproxy.log" 2>&1 &
        HAPROXY_PID=$!
        for _ in $(seq 1 50); do
            curl -fsS "http://127.0.0.1:$balancer_port/health" >/dev/null 2>&1 && break
            sleep 0.1
        done
        # New processes open their connections and prepare their statements first.
        WRK_PORT=$balancer_port WRK_OUT=$OUT/wrk-instances-warmup.out
        DURATION=3 run_wrk get_by_id.lua >/dev/null
        log "get by customer_id, $n instance(s) behind HAProxy: wrk"
        WRK_PORT=$balancer_port WRK_OUT=$OUT/wrk-instances-$n.out
        read -r rps p50 p99 errors <<<"$(run_wrk get_by_id.lua)"
        instances_rows+=("| $n behind HAProxy | $(printf %.0f "$rps") | $p50 | $p99 | $errors |")
        stop_instances
    done
    WRK_PORT=$PORT WRK_OUT=$OUT/wrk.out
    trap cleanup EXIT
fi

# Search under 2,000 concurrent connections (the pool has far fewer): no 5xx but 503, the
# resident memory that many connections cost, and /health polled beside them, which must
# answer within 1 s throughout (it never waits for a pool connection).
many_note=""
if [[ -z $ONLY || "search, 2000 connections" =~ $ONLY ]]; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    server_errors() { # 5xx answers other than 503 the service counted so far
        curl -fsS "http://127.0.0.1:$PORT/metrics" |
            awk '/^http_requests_total/ && /status="5/ && !/status="503"/ { n += $NF } END { print n + 0 }'
    }
    unavailable() {
        curl -fsS "http://127.0.0.1:$PORT/metrics" |
            awk '/^http_requests_total/ && /status="503"/ { n += $NF } END { print n + 0 }'
    }
    errors_before=$(server_errors) unavailable_before=$(unavailable)
    : >"$OUT/many-health.txt"
    : >"$OUT/many-rss.txt"
    (
        while :; do
            curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}\n' \
                "http://127.0.0.1:$PORT/health" >>"$OUT/many-health.txt" || true
            awk '/^VmRSS/ {print $2}' "/proc/$SERVICE_PID/status" >>"$OUT/many-rss.txt"
            sleep 0.2
        done
    ) &
    sampler_pid=$!
    log "search, 2000 connections: wrk, /health polled beside it"
    WRK_OUT=$OUT/wrk-search_2000.out
    read -r rps p50 p99 errors <<<"$(CONNECTIONS=2000 run_wrk search.lua)"
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    health_max=$(awk '{ if ($2 > m) m = $2 } END { printf "%.3f", m }' "$OUT/many-health.txt")
    health_bad=$(awk '$1 != 200' "$OUT/many-health.txt" | wc -l)
    health_polls=$(wc -l <"$OUT/many-health.txt")
    rss_max=$(sort -n "$OUT/many-rss.txt" | tail -n 1)
    many_note="Search with 2,000 connections: $(printf %.0f "$rps") requests/s, p50 $p50 ms, p99 $p99 ms, $errors wrk errors; 5xx other than 503: $(($(server_errors) - errors_before)), 503s: $(($(unavailable) - unavailable_before)); resident memory at most $((rss_max / 1024)) MiB; /health polled $health_polls times beside it, slowest $health_max s, $health_bad not 200."
fi

# Get by id with the per-client rate limit off, local (this process's own limiter) and shared
# through a Redis of the bench's own (scripts/redis.sh, no persistence): three instances side
# by side on one database, measured in turns (off, local, shared, then the reverse order, each
# for half of BENCH_DURATION, the two turns averaged), so that neither the order nor the
# machine's other work favours one. Once with BENCH_LIMITER_CONNECTIONS (2: the latency a
# request gains, the CPU not saturated) and once with BENCH_CONNECTIONS (the throughput it
# costs when the CPU is the limit). The limit is far above what wrk sends (all its
# connections are one client, one address), so every request is decided and admitted; the
# shared instance's fallback counter tells whether Redis decided them all.
limiter_rows=()
limiter_note=""
if [[ -z $ONLY || "get by customer_id, rate limit off, local, shared" =~ $ONLY ]]; then
    stop_service "$SERVICE2_PID"
    SERVICE2_PID=""
    REDIS_DIR=$OUT/redis
    REDIS_URL=$(scripts/redis.sh start "$REDIS_DIR")
    limiter_pids=()
    stop_limiters() {
        local pid
        for pid in "${limiter_pids[@]}"; do stop_service "$pid"; done
        limiter_pids=()
        scripts/redis.sh stop "$REDIS_DIR"
    }
    trap 'stop_limiters; cleanup' EXIT
    generous=(APP__RATE_LIMIT__ENABLED=true APP__RATE_LIMIT__PER_SECOND=1000000000 APP__RATE_LIMIT__BURST=1000000000)
    modes=(off local shared)
    declare -A port_of=() rps_sum=() p50_sum=() p99_sum=() errors_sum=()
    for i in 0 1 2; do
        mode=${modes[$i]}
        port_of[$mode]=$((PORT + 20 + i))
        case $mode in
        off) limits=(APP__RATE_LIMIT__ENABLED=false) ;;
        local) limits=("${generous[@]}") ;;
        # A timeout far above any answer: Redis decides every request (with the default
        # 20 ms, a late answer on a saturated machine makes the instance decide alone for a
        # second, which would flatter the figure).
        shared) limits=("${generous[@]}" APP__RATE_LIMIT__REDIS_URL="$REDIS_URL" APP__RATE_LIMIT__REDIS_TIMEOUT_MS=1000) ;;
        esac
        start_service "$BIN" "$BENCH_URL" "${port_of[$mode]}" "$OUT/limiter-$mode.log" \
            APP__DATABASE__MIGRATE_ON_START=false APP__DATABASE__COUNTS_COMPACT_INTERVAL_SECS=0 \
            APP__DATABASE__MAX_CONNECTIONS=8 "${limits[@]}"
        limiter_pids+=("$STARTED_PID")
    done
    for i in 0 1 2; do
        wait_healthy "${limiter_pids[$i]}" "${port_of[${modes[$i]}]}" ||
            die "the service with the rate limit ${modes[$i]} exited: $(tail -n 5 "$OUT/limiter-${modes[$i]}.log")"
    done
    for mode in "${modes[@]}"; do
        WRK_PORT=${port_of[$mode]} WRK_OUT=$OUT/wrk-limiter-warmup.out DURATION=3 run_wrk get_by_id.lua >/dev/null
    done
    turn_secs=$(((DURATION + 1) / 2))
    for connections in "${BENCH_LIMITER_CONNECTIONS:-2}" "$CONNECTIONS"; do
        for turn in "off local shared" "shared local off"; do
            for mode in $turn; do
                log "get by customer_id, rate limit $mode, $connections connections: wrk"
                WRK_PORT=${port_of[$mode]} WRK_OUT=$OUT/wrk-limiter-$mode-$connections.out
                read -r rps p50 p99 errors <<<"$(CONNECTIONS=$connections DURATION=$turn_secs run_wrk get_by_id.lua)"
                key=$mode/$connections
                rps_sum[$key]=$(awk -v a="${rps_sum[$key]:-0}" -v b="$rps" 'BEGIN { print a + b }')
                p50_sum[$key]=$(awk -v a="${p50_sum[$key]:-0}" -v b="$p50" 'BEGIN { print a + b }')
                p99_sum[$key]=$(awk -v a="${p99_sum[$key]:-0}" -v b="$p99" 'BEGIN { print a + b }')
                errors_sum[$key]=$((${errors_sum[$key]:-0} + errors))
            done
        done
        for mode in "${modes[@]}"; do
            key=$mode/$connections
            limiter_rows+=("$(awk -v m="$mode" -v c="$connections" -v r="${rps_sum[$key]}" -v p="${p50_sum[$key]}" \
                -v q="${p99_sum[$key]}" -v e="${errors_sum[$key]}" \
                'BEGIN { printf "| %s | %d | %.0f | %.2f | %.2f | %d |", m, c, r / 2, p / 2, q / 2, e }')")
        done
        limiter_note+=$(awk -v c="$connections" -v off="${p50_sum[off/$connections]}" \
            -v loc="${p50_sum[local/$connections]}" -v sh="${p50_sum[shared/$connections]}" 'BEGIN {
                printf "p50 added to a get by customer_id with %d connections: local limiter %.3f ms, shared through Redis %.3f ms. ", c, (loc - off) / 2, (sh - off) / 2 }')
    done
    fallbacks=$(curl -fsS "http://127.0.0.1:${port_of[shared]}/metrics" |
        sed -n 's/^rate_limit_shared_fallbacks_total \([0-9]*\).*/\1/p')
    limiter_note+="Requests the shared instance decided alone (Redis failing or later than 1 s): ${fallbacks:-?}."
    stop_limiters
    WRK_PORT=$PORT WRK_OUT=$OUT/wrk.out
    trap cleanup EXIT
fi

rss_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVICE_PID/status")
base_rss_kib=""
[[ -z $BASELINE ]] || base_rss_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$BASE_PID/status")
cleanup
trap - EXIT
# The aggregates must still equal the customers after every write of the run.
log "customer-api stats check"
if APP_ENV=production APP__DATABASE__URL=$BENCH_URL APP__AUTH__ENABLED=false \
    "$BIN" stats check >"$OUT/stats-check.log" 2>&1; then
    check_note="\`customer-api stats check\` after the run's writes: no drift."
else
    check_note="\`customer-api stats check\` after the run's writes FAILED: $(tail -n 3 "$OUT/stats-check.log")"
fi
psql_at "$BENCH_URL" -c "DELETE FROM customers WHERE id > $ROWS" || true
if [[ -n $BASELINE ]]; then
    # The baseline's own check of its own database, where it has one (a `stats` subcommand).
    if "$BASE_BIN" stats --help >/dev/null 2>&1; then
        if (from_tree_of "$BASE_BIN" env APP_ENV=production APP__DATABASE__URL="$BASE_URL" \
            APP__AUTH__ENABLED=false "$BASE_BIN" stats check) >"$OUT/stats-check-baseline.log" 2>&1; then
            check_note="$check_note The baseline's, on its database: no drift."
        else
            check_note="$check_note The baseline's, on its database, FAILED: $(tail -n 3 "$OUT/stats-check-baseline.log")"
        fi
    fi
    psql_at "$BASE_URL" -c "DELETE FROM customers WHERE id > $ROWS" || true
fi

# ---------------------------------------------------------------------------- report
{
    echo
    echo "customer-api benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'): $ROWS customers, $CONNECTIONS connections, ${DURATION} s per scenario, $(nproc) cores"
    echo
    echo "| scenario | requests/s | p50 ms | p99 ms | errors | limit TPS (pgbench) | ratio |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for line in "${results[@]}"; do
        # name has spaces: the last five fields are the numbers.
        echo "$line" | awk '{
            n = NF; name = $1; for (i = 2; i <= n - 5; i++) name = name " " $i
            rps = $(n-4); tps = $n
            ratio = (tps > 0) ? sprintf("%.2f", rps / tps) : "-"
            printf "| %s | %.0f | %.1f | %.1f | %d | %.0f | %s |\n", name, rps, $(n-3), $(n-2), $(n-1), tps, ratio
        }'
    done
    if ((${#minimal_rows[@]} > 0)); then
        echo
        echo "| lookup | service requests/s | minimal same-stack server requests/s | service / minimal |"
        echo "|---|---:|---:|---:|"
        printf '%s\n' "${minimal_rows[@]}"
    fi
    echo
    echo "Peak resident memory of the service (VmHWM): $((rss_kib / 1024)) MiB"
    [[ -z $base_rss_kib ]] || echo "Peak resident memory of the baseline $BASE_SHORT: $((base_rss_kib / 1024)) MiB"
    [[ -z $slots_note ]] || { echo; echo "$slots_note"; }
    [[ -z $index_note ]] || { echo; echo "$index_note"; }
    [[ -z $feed_note ]] || { echo; echo "$feed_note"; }
    [[ -z $many_note ]] || { echo; echo "$many_note"; }
    [[ -z $recomputed_note ]] || { echo; echo "$recomputed_note"; }
    if ((${#instances_rows[@]} > 0)); then
        echo
        echo "Get by customer_id through HAProxy (round robin), $CONNECTIONS connections, the instances, PostgreSQL, HAProxy and wrk on $(nproc) cores:"
        echo
        echo "| instances | requests/s | p50 ms | p99 ms | errors |"
        echo "|---|---:|---:|---:|---:|"
        printf '%s\n' "${instances_rows[@]}"
    fi
    if ((${#limiter_rows[@]} > 0)); then
        echo
        echo "Get by customer_id with the per-client rate limit off, local and shared through Redis ([rate_limit] redis_url), three instances measured in turns:"
        echo
        echo "| rate limit | connections | requests/s | p50 ms | p99 ms | errors |"
        echo "|---|---:|---:|---:|---:|---:|"
        printf '%s\n' "${limiter_rows[@]}"
        echo
        echo "$limiter_note"
    fi
    echo
    echo "$check_note"
    echo
    echo "$seeded"
} | tee "$OUT/report.md"
