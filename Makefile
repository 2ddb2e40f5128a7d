# customer-api: the two commands a new user needs are `make run` and `make test`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
PORT ?= 8000
# Where cargo puts binaries (honours CARGO_TARGET_DIR).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

.PHONY: run test chaos citus-test fuzz lint mutants fmt bench build migrate demo-data db-start db-stop db-reset check-domain-purity fresh-machine-check

run: ## Run the service on :8000 (starts a project-local PostgreSQL unless DATABASE_URL is set)
	$(CARGO) build --release -p customer-api -p bench-minimal
	KEEP_DB=1 scripts/with-db.sh env APP__SERVER__PORT=$${APP__SERVER__PORT:-$(PORT)} $(TARGET_DIR)/release/customer-api serve

test: check-domain-purity ## Run every test (unit, repository, end-to-end) against a real PostgreSQL (and Redis tests against a redis-server of their own), then the end-to-end suite again through PgBouncer in transaction mode
	scripts/ensure-tools.sh redis-server
	scripts/with-db.sh $(CARGO) nextest run --workspace --no-fail-fast
	scripts/with-db.sh scripts/with-pgbouncer.sh $(CARGO) nextest run -p e2e-tests --no-fail-fast
	$(CARGO) test --workspace --doc

citus-test: ## The end-to-end suite on a Citus cluster (builds Citus from ../shared/citus, starts and stops a coordinator and two workers)
	CARGO=$(CARGO) scripts/citus-test.sh

chaos: ## Database-fault, cluster and browser tests: each starts, crashes and restarts its own PostgreSQL (and replica, PgBouncer, HAProxy, headless Chromium)
	$(CARGO) nextest run -p customer-api --test chaos --run-ignored only --no-fail-fast
	scripts/ensure-tools.sh pgbouncer haproxy chromium redis-server
	$(CARGO) nextest run -p customer-api --test processes --run-ignored only --no-fail-fast

fuzz: ## Bounded schemathesis run against the service's own /openapi.json: no 5xx, no contradiction
	scripts/with-db.sh scripts/fuzz.sh

lint: ## Check formatting, run clippy with warnings as errors, find unused dependencies (cargo-machete), lint the OpenAPI document (Redocly)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@$(CARGO) machete --version >/dev/null 2>&1 || { \
		echo "make lint: cargo-machete not found; installing it" >&2; \
		$(CARGO) install cargo-machete --locked; }
	$(CARGO) machete --with-metadata
	scripts/lint-openapi.sh

# The crate `make mutants` mutates: domain by default, `make mutants CRATE=api-actix` for the
# HTTP adapter. MUTANTS_ARGS passes more cargo-mutants arguments (`--file`, `--re`, `-j 2`).
CRATE ?= domain
MUTANTS_ARGS ?=

mutants: ## Mutation testing of CRATE (domain; CRATE=api-actix) against its own tests: prints survivors and the figure, fails on a survivor (installs cargo-mutants)
	scripts/mutants.sh $(CRATE) $(MUTANTS_ARGS)

fmt: ## Format the code
	$(CARGO) fmt --all

bench: ## Benchmark the release binary against pgbench at BENCH_ROWS customers (default 1,000,000)
	$(CARGO) build --release -p customer-api -p bench-minimal
	scripts/with-db.sh bench/run.sh

migrate: ## Apply database migrations to DATABASE_URL or the local server
	$(CARGO) build --release -p customer-api -p bench-minimal
	KEEP_DB=1 scripts/with-db.sh $(TARGET_DIR)/release/customer-api migrate

demo-data: ## Fill the database with realistic customers (COUNT=10000 by default)
	$(CARGO) build --release -p customer-api -p bench-minimal
	KEEP_DB=1 scripts/with-db.sh $(TARGET_DIR)/release/customer-api seed --count $${COUNT:-10000}

db-start: ## Start the project-local PostgreSQL
	scripts/db.sh start

db-stop: ## Stop the project-local PostgreSQL
	scripts/db.sh stop

db-reset: ## Stop the project-local PostgreSQL and delete its data
	scripts/db.sh reset

fresh-machine-check: ## As root: in a debootstrapped Debian chroot without PostgreSQL, prove make run installs it and serves /health (minutes; needs network)
	scripts/fresh-machine-check.sh

# Crates the domain must never depend on (normal dependencies; tests may use more): web,
# database (and Redis), runtime and config crates, and wire formats (serde and its formats, OpenAPI, HTTP).
IMPURE_CRATES := diesel|actix|deadpool|tokio-postgres|tokio|config|sqlx|pq-sys|redis|serde|serde_[a-z_]+|utoipa|http|hyper|reqwest|form_urlencoded|toml|prost|bincode|rmp-serde|ciborium|schemars

check-domain-purity: ## Fail when the domain crate depends on a web, database, runtime, config or wire-format crate (serde, ...)
	@if $(CARGO) tree -p domain -e normal --prefix none | grep -E '^($(IMPURE_CRATES)) v'; then \
		echo "domain must stay pure: the crates above must not be among its dependencies" >&2; exit 1; \
	else echo "domain purity: ok"; fi
