//! The PostgreSQL repository against a real server: every test creates its own database
//! (cloned from the migrated template), builds its own data and runs in parallel with the
//! others. Needs `DATABASE_URL` (see `make test`).

// clippy exempts `#[test]` functions from the workspace's unwrap ban, not the helpers they
// share; in tests an unwrap is the assertion.
#![expect(clippy::unwrap_used, reason = "test helpers fail the test on error")]

mod bulk;
mod counts;
mod dependencies;
mod erasure;
mod flags;
mod history;
mod inserts;
mod listing;
mod locations;
mod lookups;
mod migrations;
mod pool;
mod search;
mod sorting;
mod statistics;
mod support;
mod updates;
mod versions;
