//! The connection pool: deadpool over diesel-async's `AsyncPgConnection`, with the Tokio
//! runtime set (deadpool ignores timeouts without one), bounded waits, and a
//! `statement_timeout` and `idle_in_transaction_session_timeout` on every new connection so
//! no query, and no transaction, can hold one forever. Every connection is opened by
//! `crate::net`, which bounds each round trip on the client's side too: a connection whose
//! server went silent fails, and being broken is never handed out again.
//!
//! **Behind a transaction-mode pooler** (PgBouncer's `pool_mode = transaction`,
//! `prepared_statements: false`) a server session serves this client only for the length of
//! one transaction. Two things of a direct connection then break: tokio-postgres prepares
//! every statement under a name in one round trip and executes it in the next, so outside a
//! transaction the two can reach different server sessions ("prepared statement does not
//! exist"); and session settings would land on whichever session the pooler lent, then
//! stay there for other clients. So in that mode no statement is cached, every repository
//! call runs in a transaction of its own ([`Wrap::Call`]), whose first statement sets the
//! settings above for that transaction only (`set_config(..., true)`), and nothing is set
//! for the session. The cost: two more round trips per call (`BEGIN` with the settings,
//! `COMMIT`) and a parse per statement.
//!
//! **On a Citus coordinator** (the database has the `citus` extension; see
//! docs/scale-out.md) each write runs in a transaction of its own, or a savepoint of the
//! caller's, so that its attribution can be set with `SET LOCAL`, which Citus passes on to
//! the workers where the history's triggers read it. The pool's first connection finds out
//! which layout the database has ([`Pool::is_distributed`]).

use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

use deadpool::Runtime;
use deadpool::managed::{HookError, Timeouts};
use diesel::connection::CacheSize;
use diesel::sql_types::Text;
use diesel_async::pooled_connection::deadpool::{BuildError, Hook, Object};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError as ManagerError, RecyclingMethod,
};
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    TransactionManager,
};
use domain::RepositoryError;

use crate::errors::{TimeoutMessage, from_diesel, from_pool};
pub use crate::net::NetBounds;
use crate::probe::HealthProbe;

/// deadpool's pool of diesel-async connections.
pub type DeadPool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;

/// The pool of PostgreSQL connections the repository and migrations use: deadpool's (all of
/// whose methods it offers), and whether it reaches the server through a transaction-mode
/// pooler (see the module).
#[derive(Clone)]
pub struct Pool {
    inner: DeadPool,
    connector: Arc<Connector>,
    /// `/health`'s probe, on a connection of its own (see `crate::probe`).
    probe: Arc<HealthProbe>,
    /// The settings each call's own transaction sets, behind a transaction-mode pooler.
    per_call: Option<Arc<SessionSettings>>,
    /// The database's layout, as the first connection found it.
    layout: Arc<OnceLock<Layout>>,
    /// Notified after every write through this pool, or any pool sharing it (see
    /// [`Pool::sharing_wakeups_with`]): what wakes the feed's waiting readers.
    written: Arc<Notify>,
}

impl Deref for Pool {
    type Target = DeadPool;
    fn deref(&self) -> &DeadPool {
        &self.inner
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("status", &self.inner.status())
            .field("per_call_transactions", &self.per_call.is_some())
            .field("distributed", &self.is_distributed())
            .finish()
    }
}

impl Pool {
    /// Whether a call must run in a transaction of its own (behind a transaction-mode
    /// pooler), with the session settings it then sets for itself.
    pub(crate) fn wrap(&self) -> Wrap {
        self.per_call.clone().map_or(Wrap::Nothing, Wrap::Call)
    }

    /// Like [`Pool::wrap`], without the statement timeout (for work that reads every
    /// customer); `None` when the pool sets its settings on the session instead.
    pub(crate) fn untimed_call(&self) -> Option<Wrap> {
        self.per_call.as_ref().map(|settings| {
            Wrap::Call(Arc::new(SessionSettings {
                statement_timeout_ms: "0".to_owned(),
                ..SessionSettings::clone(settings)
            }))
        })
    }

    /// What a write runs in: as [`Pool::wrap`], and on a Citus coordinator at least a
    /// transaction of its own (its attribution is set with `SET LOCAL`).
    pub(crate) fn write_wrap(&self) -> Wrap {
        match self.wrap() {
            Wrap::Nothing if self.is_distributed() => Wrap::Savepoint,
            wrap => wrap,
        }
    }

    /// A connection outside the pool for work without the statement timeout (see
    /// [`Connector::maintenance`]); it closes when dropped.
    pub(crate) async fn maintenance_connection(
        &self,
    ) -> Result<AsyncPgConnection, RepositoryError> {
        self.connector.maintenance().await
    }

    /// Whether the database answers, within [`crate::probe::PROBE_BOUND`], on a connection
    /// of the probe's own: it never waits for one of the pool's.
    ///
    /// # Errors
    /// `Unavailable` when it does not.
    pub async fn probe(&self) -> Result<(), RepositoryError> {
        self.probe.ping().await
    }

    /// This pool, its writes waking the feed's readers of `other` and the other way round,
    /// as the pools of one service do (one per worker): a reader waits on one worker's pool
    /// for a write that went through another's.
    #[must_use]
    pub fn sharing_wakeups_with(mut self, other: &Pool) -> Self {
        self.written = Arc::clone(&other.written);
        self
    }

    /// The wake-up of the feed's readers that this pool's writes notify.
    pub(crate) fn wakeups(&self) -> &Arc<Notify> {
        &self.written
    }

    /// Runs `body` on a connection of the pool, in what a call runs in ([`Pool::wrap`]).
    pub(crate) async fn call<T, F>(&self, body: F) -> Result<T, RepositoryError>
    where
        F: Statements<T>,
        T: Send,
    {
        let mut conn = self.get().await.map_err(from_pool)?;
        self.timeouts()
            .classify(self.wrap().run(&mut conn, body).await)
    }

    /// What tells this pool's statement timeouts from other errors (see
    /// [`TimeoutMessage::classify`]).
    pub(crate) fn timeouts(&self) -> &TimeoutMessage {
        &self.connector.timeouts
    }

    /// Runs `work` on a connection of the pool, waiting for it included, within `bound`. A
    /// connection whose work passed the bound may be in the middle of a round trip: it is
    /// closed, never returned to the pool.
    pub(crate) async fn within<T>(
        &self,
        bound: Duration,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, RepositoryError>,
    ) -> Result<T, RepositoryError> {
        let deadline = tokio::time::Instant::now() + bound;
        let late = || RepositoryError::Unavailable(format!("no answer within {bound:?}"));
        let mut conn = tokio::time::timeout_at(deadline, self.get())
            .await
            .map_err(|_| late())?
            .map_err(from_pool)?;
        match tokio::time::timeout_at(deadline, work(&mut conn)).await {
            Ok(outcome) => self.timeouts().classify(outcome),
            Err(_) => {
                drop(Object::take(conn));
                Err(late())
            }
        }
    }

    /// How long the network may keep this pool's connections waiting.
    pub fn net_bounds(&self) -> NetBounds {
        self.connector.bounds()
    }

    /// Whether this pool reaches the server through a transaction-mode pooler.
    pub fn shares_server_sessions(&self) -> bool {
        self.per_call.is_some()
    }

    /// Whether the database is a Citus coordinator (has the `citus` extension). Known once
    /// a connection has been opened (the first one asks); `false` before.
    pub fn is_distributed(&self) -> bool {
        self.layout.get() == Some(&Layout::Distributed)
    }
}

/// The layout of the pool's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One node (or a primary with replicas).
    Single,
    /// A Citus coordinator.
    Distributed,
}

/// Whether the connection's database has the `citus` extension. Asked inside a transaction
/// of its own: behind a transaction-mode pooler the statement is prepared and executed in
/// two round trips, which only a transaction keeps on one server session.
async fn has_citus(conn: &mut AsyncPgConnection) -> diesel::QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        citus: bool,
    }
    conn.batch_execute("BEGIN").await?;
    let found = crate::complete::one_row::<_, _, Found>(
        diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus",
        ),
        &mut *conn,
    )
    .await;
    match found {
        Ok(found) => {
            conn.batch_execute("COMMIT").await?;
            Ok(found.citus)
        }
        Err(error) => {
            let _ = conn.batch_execute("ROLLBACK").await;
            Err(error)
        }
    }
}

/// What a call's statements run in.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub enum Wrap {
    /// As they are.
    Nothing,
    /// A savepoint of the transaction the connection is in, so that a failure leaves the
    /// transaction usable; a transaction when it is in none.
    Savepoint,
    /// A transaction of their own that first sets these settings for itself.
    Call(Arc<SessionSettings>),
}

impl Wrap {
    /// Opens what the statements run in.
    pub(crate) async fn open(&self, conn: &mut AsyncPgConnection) -> Result<(), RepositoryError> {
        match self {
            Self::Nothing => Ok(()),
            Self::Savepoint => AnsiTransactionManager::begin_transaction(conn)
                .await
                .map_err(from_diesel),
            Self::Call(settings) => {
                AnsiTransactionManager::begin_transaction(conn)
                    .await
                    .map_err(from_diesel)?;
                settings.apply_local(conn).await.map_err(from_diesel)
            }
        }
    }

    /// Runs `body` on `conn` in this: opens it, and commits it when `body` succeeded, else
    /// rolls it back.
    pub(crate) async fn run<T, F>(
        self,
        conn: &mut AsyncPgConnection,
        body: F,
    ) -> Result<T, RepositoryError>
    where
        F: Statements<T>,
        T: Send,
    {
        self.open(conn).await?;
        let result = body(conn).await;
        self.close(conn, result.is_ok()).await?;
        result
    }

    /// Commits it when the statements succeeded, else rolls it back.
    pub(crate) async fn close(
        &self,
        conn: &mut AsyncPgConnection,
        succeeded: bool,
    ) -> Result<(), RepositoryError> {
        if matches!(self, Self::Nothing) {
            return Ok(());
        }
        if succeeded {
            AnsiTransactionManager::commit_transaction(conn).await
        } else {
            AnsiTransactionManager::rollback_transaction(conn).await
        }
        .map_err(from_diesel)
    }
}

/// Statements a call runs: an async closure over the connection whose future is `Send` for
/// every borrow of the connection, as `#[async_trait]` methods need. `AsyncFnOnce` alone
/// cannot bound its future on stable Rust; this is diesel-async's own workaround for its
/// transaction callbacks (its `AsyncFunc`). Callers write `async |conn| ...`.
pub(crate) trait Body<'c, T>:
    AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<T, RepositoryError>
    + FnOnce(&'c mut AsyncPgConnection) -> <Self as Body<'c, T>>::Fut
{
    type Fut: Future<Output = Result<T, RepositoryError>> + Send;
}

impl<'c, T, F, Fut> Body<'c, T> for F
where
    F: AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<T, RepositoryError>
        + FnOnce(&'c mut AsyncPgConnection) -> Fut,
    Fut: Future<Output = Result<T, RepositoryError>> + Send,
{
    type Fut = Fut;
}

/// [`Body`] for every borrow of the connection, with a `Send` closure and answer: what
/// every function here that runs statements takes.
pub(crate) trait Statements<T: Send>:
    for<'c> AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<T, RepositoryError>
    + for<'c> Body<'c, T>
    + Send
{
}

impl<T: Send, F> Statements<T> for F where
    F: for<'c> AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<T, RepositoryError>
        + for<'c> Body<'c, T>
        + Send
{
}

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
    /// `false` when `url` is a transaction-mode pooler such as PgBouncer's: no statement is
    /// kept prepared and every call runs in a transaction of its own (see the module).
    pub prepared_statements: bool,
    /// How much longer than `statement_timeout` the service waits for an answer the server
    /// owes before it gives the connection up (see `crate::net`).
    pub round_trip_margin: Duration,
    /// Longest the server may stay silent on work without a statement timeout (migrations,
    /// recounting the aggregates), and on every round trip when `statement_timeout` is 0.
    pub maintenance_timeout: Duration,
    /// Idle time before a connection's first TCP keepalive probe.
    pub keepalive_idle: Duration,
    /// The `application_name` the connections report (in `pg_stat_activity`, the server's
    /// log), so an operator tells the requests' connections from each background job's; one
    /// the URL sets wins.
    pub application_name: String,
}

impl PoolSettings {
    /// Settings for `url` with moderate defaults: 10 connections, 5 s to wait or connect,
    /// 30 s per statement and 1 s more for its answer, the server's planner costs.
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_size: 10,
            wait_timeout: Duration::from_secs(5),
            create_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            idle_in_transaction_timeout: Duration::from_secs(10),
            random_page_cost: None,
            prepared_statements: true,
            round_trip_margin: Duration::from_secs(1),
            maintenance_timeout: Duration::from_secs(30 * 60),
            keepalive_idle: Duration::from_secs(10),
            application_name: "customer-api".to_owned(),
        }
    }

    /// How long the network may keep a pooled connection waiting.
    pub fn net_bounds(&self) -> NetBounds {
        let round_trip = if self.statement_timeout.is_zero() {
            self.maintenance_timeout
        } else {
            self.statement_timeout + self.round_trip_margin
        };
        NetBounds {
            connect: self.create_timeout,
            round_trip,
            keepalive_idle: self.keepalive_idle,
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
    let session = SessionSettings {
        statement_timeout_ms: settings.statement_timeout.as_millis().to_string(),
        idle_in_transaction_timeout_ms: settings
            .idle_in_transaction_timeout
            .as_millis()
            .to_string(),
        random_page_cost: settings.random_page_cost.map(|cost| cost.to_string()),
    };
    let connector = Arc::new(Connector {
        url: settings.url.clone(),
        application_name: settings.application_name.clone(),
        bounds: settings.net_bounds(),
        maintenance_timeout: settings.maintenance_timeout,
        shared_sessions: !settings.prepared_statements,
        session,
        layout: Arc::new(OnceLock::new()),
        timeouts: TimeoutMessage::default(),
    });
    // `Fast` recycling: diesel-async's default runs a `SELECT 1` on every checkout, one more
    // round trip per request than the request's own query. A connection the server closed,
    // or that `crate::net` gave up on, is still noticed (`is_broken`) and replaced.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let opening = Arc::clone(&connector);
    config.custom_setup = Box::new(move |_url| {
        let connector = Arc::clone(&opening);
        Box::pin(async move { connector.open(connector.bounds).await })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        settings.url.clone(),
        config,
    );
    let preparing = Arc::clone(&connector);
    let inner = DeadPool::builder(manager)
        .max_size(settings.max_size.max(MIN_POOL_SIZE))
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(settings.wait_timeout),
            create: Some(settings.create_timeout),
            // Recycling runs a `SELECT 1`: it gets the same bound as connecting.
            recycle: Some(settings.create_timeout),
        })
        .post_create(Hook::async_fn(
            move |conn: &mut AsyncPgConnection, _metrics| {
                let connector = Arc::clone(&preparing);
                Box::pin(async move {
                    connector
                        .prepare(conn)
                        .await
                        .map_err(|e| HookError::Backend(ManagerError::QueryError(e)))
                })
            },
        ))
        .build()?;
    Ok(Pool {
        inner,
        per_call: connector
            .shared_sessions
            .then(|| Arc::new(connector.session.clone())),
        layout: Arc::clone(&connector.layout),
        probe: Arc::new(HealthProbe::new(Arc::clone(&connector))),
        connector,
        written: Arc::default(),
    })
}

/// How the pool's connections are opened and set up; also opens the connections that live
/// outside it (maintenance work, the health probe).
#[derive(Debug)]
pub(crate) struct Connector {
    url: String,
    application_name: String,
    bounds: NetBounds,
    maintenance_timeout: Duration,
    /// Behind a transaction-mode pooler (see the module).
    shared_sessions: bool,
    session: SessionSettings,
    layout: Arc<OnceLock<Layout>>,
    /// The server's message for a statement cancelled by the statement timeout.
    timeouts: TimeoutMessage,
}

impl Connector {
    /// How long the network may keep the pool's connections waiting.
    pub(crate) fn bounds(&self) -> NetBounds {
        self.bounds
    }

    /// Opens a connection watched by `bounds` (see `crate::net`). Behind a transaction-mode
    /// pooler, diesel-async's two settings on a new connection (`SET TIME ZONE`, `SET
    /// CLIENT_ENCODING`, prepared statements outside any transaction, which the pooler may
    /// split over two server sessions: "prepared statement does not exist") run inside a
    /// transaction, which holds one session.
    pub(crate) async fn open(
        &self,
        bounds: NetBounds,
    ) -> diesel::ConnectionResult<AsyncPgConnection> {
        let client = crate::net::open_client(&self.url, &self.application_name, bounds).await?;
        if !self.shared_sessions {
            return AsyncPgConnection::try_from(client).await;
        }
        let broken =
            |e: tokio_postgres::Error| diesel::ConnectionError::BadConnection(e.to_string());
        client.batch_execute("BEGIN").await.map_err(broken)?;
        let mut conn = AsyncPgConnection::try_from(client).await?;
        conn.batch_execute("COMMIT")
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        Ok(conn)
    }

    /// Sets a new connection up: learns the timeout's message, finds the layout once per
    /// pool, and sets the session's settings (behind a pooler each call sets them).
    async fn prepare(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        if self.shared_sessions {
            conn.set_prepared_statement_cache_size(CacheSize::Disabled);
        }
        self.timeouts.learn(conn).await?;
        // Asked once per pool: a database does not change its layout under a running
        // service, and a new connection costs no more than before.
        if self.layout.get().is_none() {
            let layout = if has_citus(conn).await? {
                Layout::Distributed
            } else {
                Layout::Single
            };
            let _ = self.layout.set(layout);
        }
        if self.shared_sessions {
            Ok(())
        } else {
            self.session.apply(conn).await
        }
    }

    /// A connection outside the pool for work without the statement timeout: the server may
    /// stay silent for up to the maintenance timeout on it. Its session has the pool's
    /// settings; the caller lifts the statement timeout.
    pub(crate) async fn maintenance(&self) -> Result<AsyncPgConnection, RepositoryError> {
        let bounds = NetBounds {
            round_trip: self.maintenance_timeout,
            ..self.bounds
        };
        let opened = tokio::time::timeout(self.bounds.connect, async {
            let mut conn = self.open(bounds).await.map_err(from_connection)?;
            self.prepare(&mut conn).await.map_err(from_diesel)?;
            Ok(conn)
        })
        .await;
        opened.unwrap_or_else(|_| {
            Err(RepositoryError::Unavailable(format!(
                "no database connection within {:?}",
                self.bounds.connect
            )))
        })
    }
}

fn from_connection(error: diesel::ConnectionError) -> RepositoryError {
    RepositoryError::Unavailable(format!("cannot connect: {error}"))
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

/// What every new connection sets for its session (or, behind a transaction-mode pooler,
/// every call's transaction for itself).
#[derive(Debug, Clone)]
#[doc(hidden)]
pub struct SessionSettings {
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

    /// Sets them for the current transaction only, in one statement.
    async fn apply_local(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        diesel::sql_query(
            "SELECT set_config('statement_timeout', $1, true), \
                    set_config('idle_in_transaction_session_timeout', $2, true), \
                    CASE WHEN $3 <> '' THEN set_config('random_page_cost', $3, true) END",
        )
        .bind::<Text, _>(&self.statement_timeout_ms)
        .bind::<Text, _>(&self.idle_in_transaction_timeout_ms)
        .bind::<Text, _>(self.random_page_cost.as_deref().unwrap_or_default())
        .execute(conn)
        .await
        .map(drop)
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
