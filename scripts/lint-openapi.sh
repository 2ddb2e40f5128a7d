#!/usr/bin/env bash
# Lints the OpenAPI documents the service serves (authentication on and off) with Redocly
# CLI's recommended rules; crates/api-actix/redocly.yaml says which findings are kept and
# why. Redocly CLI comes from npm, installed on first use into $CARGO_TARGET_DIR/lint-node
# (git-ignored); needs node and npm.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

REDOCLY_VERSION=2.77.0
target=${CARGO_TARGET_DIR:-target}
node_dir=$target/lint-node
redocly=$node_dir/node_modules/.bin/redocly
# No telemetry and no update check: the linter talks to nobody.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
if ! "$redocly" --version 2>/dev/null | grep -qx "$REDOCLY_VERSION"; then
    mkdir -p "$node_dir"
    npm install --prefix "$node_dir" --no-audit --no-fund --silent "@redocly/cli@$REDOCLY_VERSION"
fi

out=$target/openapi
mkdir -p "$out"
for mode in auth no-auth; do
    cargo run --quiet -p api-actix --example openapi -- "$mode" >"$out/$mode.json"
done
"$redocly" lint --config crates/api-actix/redocly.yaml --format=stylish \
    "$out/auth.json" "$out/no-auth.json" 2>&1 | grep -v '[║╔╚]'
exit "${PIPESTATUS[0]}"
