//! The connection pool: deadpool over diesel-async's `AsyncPgConnection`, with the Tokio
//! runtime set (deadpool ignores timeouts without one), bounded waits, and a
//! `statement_timeout` and `idle_in_transaction_session_timeout` on every new connection so
//! no query, and no transaction, can hold one forever.

use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{HookError, Timeouts};
use diesel::sql_types::Text;
use diesel_async::pooled_connection::deadpool::{BuildError, Hook};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError as ManagerError, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The pool of PostgreSQL connections the repository and migrations use.
pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;

/// The smallest pool built: one connection for a long query still leaves one for the rest
/// (health checks, migrations taking a connection out of the pool).
const MIN_POOL_SIZE: usize = 2;

/// How to connect and how long to wait; plain std types so the binary's config maps onto it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Most connections open at once; raised to 2 when lower.
    pub max_size: usize,
    /// Longest a caller waits for a free connection before the database counts as
    /// unavailable.
    pub wait_timeout: Duration,
    /// Longest opening (or health-checking) one connection may take.
    pub create_timeout: Duration,
    /// Server-side limit on any single statement (`0` disables it).
    pub statement_timeout: Duration,
    /// Server-side limit on how long a session may sit idle inside a transaction (`0`
    /// disables it): a transaction left open holds back the change feed (see
    /// `repository::history`), and its locks.
    pub idle_in_transaction_timeout: Duration,
    /// The planner's cost of a random page read for this service's sessions; `None`
    /// keeps the server's (4, which assumes spinning disks).
    pub random_page_cost: Option<f64>,
}

impl PoolSettings {
    /// Settings for `url` with moderate defaults: 10 connections, 5 s to wait or connect,
    /// 30 s per statement, the server's planner costs.
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_size: 10,
            wait_timeout: Duration::from_secs(5),
            create_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            idle_in_transaction_timeout: Duration::from_secs(10),
            random_page_cost: None,
        }
    }
}

/// Why a pool could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PoolBuildError {
    /// deadpool rejected the configuration.
    #[error("cannot build the database pool: {0}")]
    Build(#[from] BuildError),
}

/// A snapshot of the pool for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Most connections the pool opens.
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections not in use.
    pub available: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// Builds the pool. No connection is opened until the first one is needed, so this
/// succeeds while the database is down.
///
/// # Errors
/// When deadpool rejects the configuration.
pub fn build_pool(settings: &PoolSettings) -> Result<Pool, PoolBuildError> {
    // `Fast` recycling: diesel-async's default runs a `SELECT 1` on every checkout, one more
    // round trip per request than the request's own query. A connection the server closed
    // is still noticed (`is_broken`) and replaced, and a query on one that died unnoticed
    // fails as `Unavailable` (503), which the next checkout then repairs.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        settings.url.clone(),
        config,
    );
    let session = SessionSettings {
        statement_timeout_ms: settings.statement_timeout.as_millis().to_string(),
        idle_in_transaction_timeout_ms: settings
            .idle_in_transaction_timeout
            .as_millis()
            .to_string(),
        random_page_cost: settings.random_page_cost.map(|cost| cost.to_string()),
    };
    let pool = Pool::builder(manager)
        .max_size(settings.max_size.max(MIN_POOL_SIZE))
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(settings.wait_timeout),
            create: Some(settings.create_timeout),
            // Recycling runs a `SELECT 1`: it gets the same bound as connecting.
            recycle: Some(settings.create_timeout),
        })
        .post_create(Hook::async_fn(move |conn, _metrics| {
            let session = session.clone();
            Box::pin(async move {
                async {
                    crate::errors::learn_timeout_message(conn).await?;
                    session.apply(conn).await
                }
                .await
                .map_err(|e| HookError::Backend(ManagerError::QueryError(e)))
            })
        }))
        .build()?;
    Ok(pool)
}

/// The pool's current size, free connections and waiters.
pub fn pool_status(pool: &Pool) -> PoolStatus {
    let status = pool.status();
    PoolStatus {
        max_size: status.max_size,
        size: status.size,
        available: status.available,
        waiting: status.waiting,
    }
}

/// What every new connection sets for its session.
#[derive(Debug, Clone)]
struct SessionSettings {
    statement_timeout_ms: String,
    idle_in_transaction_timeout_ms: String,
    random_page_cost: Option<String>,
}

impl SessionSettings {
    async fn apply(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        // `set_config` takes the values as bound parameters, unlike `SET`.
        set_config(conn, "statement_timeout", &self.statement_timeout_ms).await?;
        set_config(
            conn,
            "idle_in_transaction_session_timeout",
            &self.idle_in_transaction_timeout_ms,
        )
        .await?;
        if let Some(cost) = &self.random_page_cost {
            set_config(conn, "random_page_cost", cost).await?;
        }
        Ok(())
    }
}

async fn set_config(
    conn: &mut AsyncPgConnection,
    name: &str,
    value: &str,
) -> diesel::QueryResult<()> {
    diesel::sql_query("SELECT set_config($1, $2, false)")
        .bind::<Text, _>(name)
        .bind::<Text, _>(value)
        .execute(conn)
        .await
        .map(drop)
}
