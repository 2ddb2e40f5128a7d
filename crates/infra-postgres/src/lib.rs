//! PostgreSQL adapter: the diesel schema, embedded migrations, the connection pool and
//! [`PgCustomerRepository`], the implementation of the domain's `CustomerRepository` port.
//!
//! No database error type crosses the port: unique violations become domain conflicts,
//! pool and connection failures become "unavailable", anything else "unexpected".
//!
//! With the `test-support` feature, [`test_support::TestDatabase`] gives each test its own
//! database, cloned from a migrated template.

mod changes;
mod complete;
mod counts;
mod errors;
mod migrations;
mod pool;
mod repository;
mod rows;
mod schema;
mod seed;
mod sql;

#[cfg(feature = "test-support")]
pub mod test_support;

pub use counts::{CountDrift, compact_counts, count_drift, rebuild_counts};
pub use migrations::{MigrationError, revert_all_migrations, run_migrations};
pub use pool::{Pool, PoolBuildError, PoolSettings, PoolStatus, build_pool, pool_status};
pub use repository::{PgCustomerRepository, SearchCache, SearchCacheCounts};
pub use seed::{IndexBuild, SeedError, SeedOptions, SeedPhases, SeedReport, seed_customers};
