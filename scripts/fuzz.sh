#!/usr/bin/env bash
# Property-based fuzzing of the running service against its own OpenAPI document with
# schemathesis, every phase (examples, coverage, fuzzing, stateful), twice: with
# authentication off (the default outside production, and the document then declares no
# security) and on (an admin token; the documented 401/403 answers are exercised too).
# Then a client generated from the served document by openapi-python-client calls every
# operation (scripts/client_check.py). Both tools come from PyPI into target/fuzz-venv.
# Bounded: FUZZ_EXAMPLES cases per operation (default 30) and FUZZ_MAX_TIME seconds per run
# (default 150). Fails on any 5xx or any response that contradicts the document. Needs
# DATABASE_URL (scripts/with-db.sh gives one).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

: "${DATABASE_URL:?run through scripts/with-db.sh (make fuzz does)}"
SCHEMATHESIS_VERSION=4.32.5
CLIENT_GENERATOR_VERSION=0.29.1
venv=target/fuzz-venv
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" \
    || ! "$venv/bin/openapi-python-client" --version 2>/dev/null | grep -q "$CLIENT_GENERATOR_VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION" \
        "openapi-python-client==$CLIENT_GENERATOR_VERSION"
fi

# A database of its own on the same server, recreated for each run.
server_url=${DATABASE_URL%/*}
db=customer_api_fuzz
psql_bin=$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
fresh_database() {
    "$psql_bin" "$server_url/postgres" -qAt -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
}

cargo build --quiet -p customer-api
bin=${CARGO_TARGET_DIR:-target}/debug/customer-api
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=target/fuzz-service.log
base=http://127.0.0.1:$port
# Long polls held at most a second: the generated `wait`s would otherwise spend the time budget
# waiting on a feed with nothing new.
export APP_ENV=test APP__SERVER__PORT=$port APP__DATABASE__URL="$server_url/$db" APP__EVENTS__MAX_WAIT_SECS=1
pid=
stop() {
    if [[ -n $pid ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    fi
}
cleanup() {
    stop
    "$psql_bin" "$server_url/postgres" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
}
trap cleanup EXIT
serve() {
    fresh_database
    "$bin" serve >>"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "$base/health" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "the service did not start; see $log" >&2
    return 1
}

# Checks left out, on purpose:
# - positive_data_acceptance: the document cannot express every rule (email and phone syntax,
#   dates of birth not in the future, tags within 500 characters), so some schema-valid data is
#   rightly refused with 422;
# - use_after_free, ensure_resource_availability: DELETE /{id} is the contract's soft delete, so the
#   customer stays retrievable afterwards, by contract;
# - object_level_authorization: every customer is visible to every reader by design.
#
# The coverage phase once reported "Missing required property: phone_verified" for
# PUT /{customer_id}, whose body requires nothing. Cause: to build a complete template for an
# object reached through a `$ref`, schemathesis 4.32.5's coverage phase lists every property
# as required (specs/openapi/coverage/_schema.py, "inflating required"), and its negative
# pass can then walk that inflated list; the PUT body's schema was also reached through the
# bulk update's `updates` property, so whether the inflated copy was the one negated
# depended on which of the two workers got there first, hence the flakiness. The bulk
# update's changes now have a schema of their own (BulkUpdateChanges, without `email`), so
# no request schema is shared by two operations and every phase runs.
fuzz() {
    "$venv/bin/st" run "$base/openapi.json" \
        --checks all \
        --exclude-checks positive_data_acceptance,ensure_resource_availability,use_after_free,object_level_authorization \
        --phases examples,coverage,fuzzing,stateful \
        --max-examples "${FUZZ_EXAMPLES:-30}" \
        --max-time "${FUZZ_MAX_TIME:-150}" \
        --seed "${FUZZ_SEED:-20261126}" \
        --workers 2 \
        --generation-allow-x00 true \
        --request-timeout 10 \
        --no-color "$@"
}

echo "== authentication off: schemathesis, then a generated client"
serve
fuzz
client_dir=target/fuzz-client
rm -rf "$client_dir"
mkdir -p "$client_dir"
curl -fsS "$base/openapi.json" >"$client_dir/openapi.json"
printf 'post_hooks: []\n' >"$client_dir/config.yaml"
"$venv/bin/openapi-python-client" generate --path "$client_dir/openapi.json" \
    --config "$client_dir/config.yaml" --meta none \
    --output-path "$client_dir/customer_api_client" >"$client_dir/generate.log" 2>&1 \
    || { cat "$client_dir/generate.log" >&2; exit 1; }
if grep -qi "warning" "$client_dir/generate.log"; then
    cat "$client_dir/generate.log" >&2
    echo "openapi-python-client could not generate every part of the client" >&2
    exit 1
fi
PYTHONPATH=$client_dir "$venv/bin/python" scripts/client_check.py "$base"
stop

echo "== authentication on (admin token)"
export APP__AUTH__ENABLED=true \
    APP__AUTH__HS256_SECRET="fuzz-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
token=$("$bin" token --role admin --subject fuzz)
serve
fuzz --header "Authorization: Bearer $token"
stop
