//! PostgreSQL adapter: the diesel schema, embedded migrations, the connection pool and
//! [`PgCustomerRepository`], the implementation of the domain's storage ports
//! (`CustomerStore`, `CustomerReads`, `CustomerSearch`, `StatisticsSource`,
//! `CustomerHistory`) and `DataVersions`.
//!
//! No database error type crosses the port: unique violations become domain conflicts,
//! pool and connection failures become "unavailable", anything else "unexpected".
//!
//! It serves every deployment of docs/scale-out.md:
//! - `net`: every connection opened by the adapter, with keepalives and a bound on every
//!   round trip; `pool` and `probe`: the pool, its maintenance connections, the health probe;
//! - `replicas` and `routing` (`RoutedReads`): reads on streaming replicas with read-your-writes
//!   (consistency tokens), routed per request by its context;
//! - transaction-mode poolers (PgBouncer): every call in a transaction of its own (`pool`);
//! - Citus: the distributed layout (`sql/distribute.sql`, applied by `migrations`) and the
//!   change feed's relay (`repository/relay.rs`);
//! - the aggregates of the statistics (`counts`), the change history and feed
//!   (`repository/history.rs`), idempotency records (`repository/transaction.rs`).

mod changes;
mod complete;
mod counts;
mod errors;
mod migrations;
mod net;
mod pool;
mod probe;
mod replicas;
mod repository;
mod routing;
mod rows;
mod schema;
mod sql;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use counts::{CountDrift, compact_counts, count_drift, rebuild_counts};
pub use migrations::{MigrationError, revert_all_migrations, run_migrations};
pub use pool::{
    NetBounds, Pool, PoolBuildError, PoolSettings, PoolStatus, build_pool, pool_status,
};
pub use probe::PROBE_BOUND;
pub use replicas::{ReplicaSettings, ReplicaStatus, Replicas, WalPosition};
pub use repository::{
    Connections, FEED_RECHECK, InTransaction, KeyLock, PgCustomerRepository, PgTransaction, Pooled,
    ReplayRecord, SearchPlans, SearchTotals, explain_search, feed_lag, purge_events, purge_replays,
};
pub use routing::RoutedReads;
