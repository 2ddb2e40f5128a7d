//! End-to-end tests: the real application on a random port, its own fresh database, a real
//! HTTP client. One binary, one module per area.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers fail the test loudly"
)]

mod helpers;
mod proxy;

mod citus;
mod concurrency;
mod contract;
mod customers;
mod durability;
mod errors;
mod examples;
mod history;
mod hostile;
mod idempotency;
mod index;
mod language;
mod operations;
mod original_script;
mod preconditions;
mod privacy;
mod queries;
mod security;
mod totals;
