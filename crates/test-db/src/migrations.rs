//! The workspace's migrations, embedded here for the template database.
//!
//! The service migrates through `infra_postgres::run_migrations` (advisory lock, lifted
//! `statement_timeout`); the template needs neither, since it is built under the
//! test-database lock on a database nobody else uses, so diesel's harness is run directly.
//! Both read the same directory, and the template is named after its hash
//! (`CUSTOMER_MIGRATIONS_HASH`, from `build.rs`).

use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Applies every migration to the database at `url`.
///
/// diesel's harness is synchronous: it runs over an `AsyncConnectionWrapper` inside
/// `spawn_blocking` (the wrapper's `establish` blocks on the runtime it is called from, which
/// panics on a current-thread runtime when called from an async context directly).
pub(crate) async fn migrate(url: &str) -> Result<(), String> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| format!("cannot connect: {e}"))?;
        conn.run_pending_migrations(MIGRATIONS)
            .map(drop)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}
