#!/usr/bin/env bash
# Mutation testing of one crate against its own tests (cargo-mutants, configured in
# .cargo/mutants.toml): usage `scripts/mutants.sh [CRATE] [cargo-mutants arguments...]`,
# CRATE `domain` by default. Prints every surviving mutant and the figure: caught (and timed
# out) over all mutants that compiled. Fails when a mutant survives. cargo-mutants is
# installed on first use; the report stays in $CARGO_TARGET_DIR/mutants/CRATE/mutants.out.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

MUTANTS_VERSION=27.1.0
crate=${1:-domain}
shift || true
if ! cargo mutants --version 2>/dev/null | grep -q "$MUTANTS_VERSION"; then
    echo "scripts/mutants.sh: cargo-mutants $MUTANTS_VERSION not found; installing it" >&2
    cargo install cargo-mutants --locked --version "$MUTANTS_VERSION"
fi
if ! cargo nextest --version >/dev/null 2>&1; then
    echo "scripts/mutants.sh: cargo-nextest not found; installing it" >&2
    cargo install cargo-nextest --locked
fi

out=${CARGO_TARGET_DIR:-target}/mutants/$crate
mkdir -p "$out"
status=0
# One mutant at a time unless told otherwise (MUTANTS_JOBS): each build is a full crate build.
cargo mutants --package "$crate" --jobs "${MUTANTS_JOBS:-1}" --output "$out" "$@" || status=$?

report=$out/mutants.out
# cargo-mutants writes no report when it finds no mutant to test.
mkdir -p "$report"
count() { [[ -s $report/$1.txt ]] && wc -l <"$report/$1.txt" || echo 0; }
# Survivors that are known equivalent mutants cargo-mutants cannot exclude itself (see
# .cargo/mutants-equivalent.txt) are set aside, not counted.
patterns=$(grep -Ev '^[[:space:]]*(#|$)' .cargo/mutants-equivalent.txt || true)
: >"$report/equivalent.txt"
if [[ -s $report/missed.txt && -n $patterns ]]; then
    grep -E -f <(printf '%s\n' "$patterns") "$report/missed.txt" >"$report/equivalent.txt" || true
    grep -v -x -F -f "$report/equivalent.txt" "$report/missed.txt" >"$report/missed.tmp" || true
    mv "$report/missed.tmp" "$report/missed.txt"
fi
caught=$(count caught) missed=$(count missed) timeout=$(count timeout) unviable=$(count unviable)
equivalent=$(count equivalent)
viable=$((caught + missed + timeout))
echo
echo "== $crate: $caught caught, $missed missed, $timeout timed out, $unviable unviable" \
    "($equivalent known equivalent set aside)"
if ((viable > 0)); then
    awk -v c="$caught" -v t="$timeout" -v v="$viable" \
        'BEGIN { printf "== %.1f%% of %d viable mutants caught (timeouts count as caught)\n", 100 * (c + t) / v, v }'
fi
if ((missed > 0)); then
    echo "== surviving mutants:"
    cat "$report/missed.txt"
fi
# cargo-mutants exits 2 when a mutant survived, 3 when one only timed out (caught here).
case $status in
    0 | 3) exit 0 ;;
    2) ((missed > 0)) && exit 2 || exit 0 ;;
    *) exit "$status" ;;
esac
