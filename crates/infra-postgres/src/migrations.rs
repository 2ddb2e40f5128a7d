//! Embedded migrations, run over the async connection.
//!
//! diesel's migration harness is synchronous, so it runs over an `AsyncConnectionWrapper`
//! inside `spawn_blocking` (diesel-async's own harness uses `block_in_place`, which panics
//! on a current-thread runtime). A session advisory lock serialises replicas that start
//! together against the same database.

use diesel::QueryResult;
use diesel::sql_types::BigInt;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::pool::Pool;

/// Every migration under the workspace's `migrations/`, compiled in.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Advisory lock key serialising migrations within one database ("custmigr" in ASCII).
const MIGRATION_LOCK: i64 = 0x6375_7374_6d69_6772;

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// No connection could be taken from the pool.
    #[error("no database connection for migrations: {0}")]
    Connection(String),
    /// A migration or the lock around it failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The blocking task running the migrations panicked or was cancelled.
    #[error("migration task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Applies every pending migration, waiting for any other process migrating the same
/// database to finish first.
///
/// The connection is taken out of the pool (and closed afterwards) so that the pool's
/// `statement_timeout` can be lifted for it: building an index on a big table may take
/// longer than any request should.
///
/// # Errors
/// When no connection can be opened or a migration fails; a failed migration is rolled
/// back by diesel and the lock released.
pub async fn run_migrations(pool: &Pool) -> Result<(), MigrationError> {
    with_migration_connection(pool, |conn| {
        conn.run_pending_migrations(MIGRATIONS).map(drop)
    })
    .await
}

/// Reverts every applied migration, newest first (tests use it for the down/up round trip).
///
/// # Errors
/// As [`run_migrations`].
pub async fn revert_all_migrations(pool: &Pool) -> Result<(), MigrationError> {
    with_migration_connection(pool, |conn| {
        conn.revert_all_migrations(MIGRATIONS).map(drop)
    })
    .await
}

type Wrapped = AsyncConnectionWrapper<AsyncPgConnection>;
type HarnessResult = diesel::migration::Result<()>;

async fn with_migration_connection<F>(pool: &Pool, run: F) -> Result<(), MigrationError>
where
    F: FnOnce(&mut Wrapped) -> HarnessResult + Send + 'static,
{
    if pool.shares_server_sessions() {
        return Err(MigrationError::Connection(
            "migrations hold a session of their own (a lock, a setting): run them against \
             PostgreSQL itself, not through a transaction-mode pooler"
                .to_owned(),
        ));
    }
    let object = pool
        .get()
        .await
        .map_err(|e| MigrationError::Connection(e.to_string()))?;
    let mut conn = Object::take(object);
    diesel::sql_query("SET statement_timeout = 0")
        .execute(&mut conn)
        .await
        .map_err(|e| MigrationError::Connection(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut conn = Wrapped::from(conn);
        lock_query("SELECT pg_advisory_lock($1)", &mut conn).map_err(|e| e.to_string())?;
        let outcome = run(&mut conn).map_err(|e| e.to_string());
        // Closing the connection would release the lock too; unlocking says so explicitly.
        let unlocked =
            lock_query("SELECT pg_advisory_unlock($1)", &mut conn).map_err(|e| e.to_string());
        outcome.and(unlocked)
    })
    .await?
    .map_err(MigrationError::Migration)
}

fn lock_query(sql: &'static str, conn: &mut Wrapped) -> QueryResult<()> {
    let query = diesel::sql_query(sql).bind::<BigInt, _>(MIGRATION_LOCK);
    diesel::RunQueryDsl::execute(query, conn).map(drop)
}
