#!/usr/bin/env bash
# Usage: scripts/with-db.sh bench/profile.sh [service|minimal]
#
# Where a lookup's CPU goes: runs the release binary of the service (production settings,
# as bench/run.sh starts it) or of the minimal same-stack server (bench/minimal) against
# make bench's database, drives it with wrk's get_by_id.lua (32 connections) and records it
# with `perf record --call-graph dwarf` for 8 s of the run. Writes the split between the
# kernel and the process, the self time by crate and the top symbols to
# target/bench/profile-<which>.txt, and keeps perf's data beside it for `perf report -i`.
#
# Needs a finished `make bench` (its database, its sample of ids, the release binaries) and
# `perf` (Debian's linux-perf, installed when missing). Stops what it started by pid.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

which=${1:-service}
port=${BENCH_PROFILE_PORT:-18180}
target=${CARGO_TARGET_DIR:-target}
out=target/bench
url=${DATABASE_URL%/*}/customer_api_bench
[[ -f $out/sample.lua ]] || { echo "profile.sh: run make bench first (no $out/sample.lua)" >&2; exit 1; }
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }

case $which in
service)
    APP_ENV=production APP__DATABASE__URL="$url" APP__SERVER__HOST=127.0.0.1 \
        APP__SERVER__PORT="$port" APP__AUTH__ENABLED=false APP__RATE_LIMIT__ENABLED=false \
        "$target/release/customer-api" serve >"$out/profile-$which.log" 2>&1 &
    ;;
minimal)
    DATABASE_URL=$url MINIMAL_PORT=$port MINIMAL_CONNECTIONS=16 \
        "$target/release/bench-minimal" >"$out/profile-$which.log" 2>&1 &
    ;;
*) echo "usage: $0 [service|minimal]" >&2; exit 2 ;;
esac
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/customers/none" && break
    kill -0 "$pid" 2>/dev/null || { echo "profile.sh: the $which exited" >&2; exit 1; }
    sleep 0.2
done

wrk_run() { wrk -t2 -c32 -d"$1s" --timeout 30s -s bench/wrk/get_by_id.lua "http://127.0.0.1:$port"; }
wrk_run 5 >/dev/null 2>&1 || true
wrk_run 14 >"$out/profile-$which-wrk.out" 2>&1 &
wrk_pid=$!
sleep 2
perf record -q -e cpu-clock -F 199 --call-graph dwarf,16384 -p "$pid" \
    -o "$out/profile-$which.data" -- sleep 8 2>/dev/null
wait "$wrk_pid" || true

# The report's rows, sorted by $1; `head` may close the pipe early, which is fine.
symbols() {
    perf report -i "$out/profile-$which.data" --stdio --no-children --sort "$1" -g none 2>/dev/null |
        grep -E '^ +[0-9]' | sed -E 's/ {2,}/ /g; s/ +- +- *$//' || true
}
{
    echo "$which, get by customer_id: $(grep '^RESULT' "$out/profile-$which-wrk.out" | cut -d' ' -f2) requests/s while recorded"
    echo
    echo "Where the CPU went (share of the process's samples):"
    symbols dso | head -n 5 || true
    echo
    echo "Self time by crate (user space):"
    symbols symbol | grep '\[\.\]' | awk '{
        pct = $1 + 0; sym = $3; sub(/^[<&]+/, "", sym); sub(/^mut /, "", sym)
        if (sym ~ /^_?mi_/) k = "mimalloc"; else { split(sym, parts, "::"); k = parts[1] }
        total[k] += pct
    } END { for (k in total) printf "%6.2f%% %s\n", total[k], k }' | sort -rn | head -n 20 || true
    echo
    echo "Top symbols:"
    symbols symbol | head -n 30 || true
} >"$out/profile-$which.txt"
cat "$out/profile-$which.txt"
