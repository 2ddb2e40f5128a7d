//! [`PgCustomerRepository`]: the domain's five storage ports and `DataVersions` over a
//! diesel-async pool.
//!
//! Every method of [`PgCustomerRepository`] takes one connection from the pool and runs its
//! statements on it, never inside a transaction (`version` says why the search cache needs
//! that); where a method needs several independent statements (a page and its total, the
//! statistics) they are pipelined on that connection rather than sent one after another.
//!
//! The same methods run inside one transaction through [`PgTransaction::begin`]'s
//! repository (`PgCustomerRepository<InTransaction>`): the type that implements
//! `DataVersions` is only the pooled one, so a cache can never wrap a transaction.

mod erasure;
mod history;
pub use history::{FEED_RECHECK, feed_lag, purge_events};
mod places;
mod reads;
mod relay;
mod search;
pub use search::{SearchPlans, explain_search};
mod statistics;
mod totals;
mod transaction;
pub use transaction::{InTransaction, PgTransaction, ReplayRecord, purge_replays};
mod version;
mod writes;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Object;
use domain::{
    BulkWritten, Customer, CustomerChanges, CustomerDraft, CustomerEvent, CustomerHistory,
    CustomerId, CustomerPage, CustomerReads, CustomerSearch, CustomerStatistics, CustomerStore,
    ErasureReason, EventKind, FeedPosition, FeedRead, ListQuery, LocationCount, LocationFilter,
    LocationLevel, PageRequest, Precondition, Provenance, RepositoryError, SearchCriteria,
    StatisticsSource, StatisticsWindow, Tags, TimelineQuery, Tombstone, Username, Verification,
    Written,
};

use crate::errors::from_pool;
use crate::pool::{Pool, Wrap};
use crate::replicas::{Replicas, Target};

/// Where a repository's statements run: a connection from the pool per call
/// ([`Pooled`]), or the one connection of an open transaction ([`InTransaction`]).
#[async_trait]
pub trait Connections: Clone + Send + Sync + 'static + private::Sealed {
    /// Whether a write that may fail on a constraint runs in a savepoint: inside a
    /// transaction a failed statement would abort the whole of it, where the caller must be
    /// able to go on (retry a create with another username, store a 400 for its key).
    #[doc(hidden)]
    async fn conn(&self) -> Result<Conn<'_>, RepositoryError>;
    /// What a call runs its statements in: a write that may fail on a constraint
    /// (`guarded`) runs in a savepoint inside a transaction, where a failed statement would
    /// abort the whole of it while the caller must be able to go on (retry a create with
    /// another username, store a 400 for its key); behind a transaction-mode pooler every
    /// call runs in a transaction of its own (see `crate::pool`).
    #[doc(hidden)]
    fn wrap(&self, guarded: bool) -> Wrap;
    /// What a write runs in: as [`Connections::wrap`], and on a Citus coordinator at least a
    /// transaction, where its attribution is set with `SET LOCAL`.
    #[doc(hidden)]
    fn write_wrap(&self, guarded: bool) -> Wrap;
    /// Whether the database is a Citus coordinator (see `crate::pool`).
    #[doc(hidden)]
    fn distributed(&self) -> bool;
    /// A connection for a read, from the server the read scope chose (see
    /// `crate::replicas`), and that replica's index when it is one.
    #[doc(hidden)]
    async fn read_conn(&self) -> (Result<Conn<'_>, RepositoryError>, Option<usize>) {
        (self.conn().await, None)
    }
    /// Takes a replica out after a read failed on it; the rest of the scope reads the
    /// primary.
    #[doc(hidden)]
    fn read_failed(&self, _replica: usize, _error: &RepositoryError) {}
    /// Whether the database answers: on the transaction's connection inside one, else
    /// on the health probe's own (see `crate::probe`).
    #[doc(hidden)]
    async fn ping(&self) -> Result<(), RepositoryError> {
        let mut conn = self.conn().await?;
        reads::ping(&mut conn).await
    }
}

/// Runs `$body` (which uses `$conn`, the connection `$get` gives) in what `$wrap` says,
/// committing it when `$body` succeeded.
macro_rules! wrapped {
    ($conn:ident = $get:expr, $wrap:expr, $body:expr) => {{
        let mut $conn = $get;
        let wrap = $wrap;
        wrap.open(&mut $conn).await?;
        let result = $body;
        wrap.close(&mut $conn, result.is_ok()).await?;
        result
    }};
}
pub(crate) use wrapped;

/// Runs the write `$body` with `$conn` from the repository's connections, and wakes the
/// history's readers when it wrote. `guarded`: it may fail on a constraint, so inside a
/// transaction it runs in a savepoint (the caller must be able to go on: retry a create with
/// another username, store a 400 for its key). On a Citus coordinator it runs in a
/// transaction of its own that first sets `$attribution`.
macro_rules! writing {
    ($self:ident, $conn:ident, guarded = $guarded:expr, $attribution:expr, $body:expr) => {
        wrapped!(
            $conn = $self.conn().await?,
            $self.connections.write_wrap($guarded),
            match history::attribute_locally(
                &mut $conn,
                $self.connections.distributed(),
                $attribution
            )
            .await
            {
                Ok(()) => woken($body),
                Err(error) => Err(error),
            }
        )
    };
}

/// Runs the read `$body` with `$conn` from the server the read scope chose; when a replica
/// cannot serve it, takes the replica out and runs it on the primary.
macro_rules! read {
    ($self:ident, $conn:ident, $body:expr) => {{
        let (got, replica) = $self.connections.read_conn().await;
        let attempt = async {
            match got {
                Ok(conn) => {
                    $crate::repository::wrapped!($conn = conn, $self.connections.wrap(false), $body)
                }
                Err(error) => Err(error),
            }
        }
        .await;
        match (replica, attempt) {
            (Some(replica), Err(error @ RepositoryError::Unavailable(_))) => {
                $self.connections.read_failed(replica, &error);
                $crate::repository::call!($self, $conn, $body)
            }
            (_, result) => result,
        }
    }};
}
pub(crate) use read;

/// Runs `$body` with `$conn` from the repository's connections.
macro_rules! call {
    ($self:ident, $conn:ident, $body:expr) => {
        $crate::repository::wrapped!(
            $conn = $self.conn().await?,
            $self.connections.wrap(false),
            $body
        )
    };
}
pub(crate) use call;

mod private {
    pub trait Sealed {}
    impl Sealed for super::Pooled {}
    impl Sealed for super::InTransaction {}
}

/// A connection a repository method runs its statements on.
#[doc(hidden)]
#[expect(
    clippy::large_enum_variant,
    reason = "lives on the stack for one call; boxing the pooled connection would allocate on every query"
)]
pub enum Conn<'a> {
    Pooled(Object<AsyncPgConnection>),
    Held(tokio::sync::MappedMutexGuard<'a, Object<AsyncPgConnection>>),
}

impl std::fmt::Debug for Conn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pooled(_) => "Conn::Pooled",
            Self::Held(_) => "Conn::Held",
        })
    }
}

impl std::ops::Deref for Conn<'_> {
    type Target = AsyncPgConnection;
    fn deref(&self) -> &AsyncPgConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Held(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Held(conn) => conn,
        }
    }
}

/// A connection from the pool for each call: the primary's, or for a read in a read scope
/// a replica's (see `crate::replicas`).
#[derive(Clone)]
pub struct Pooled {
    primary: Pool,
    replicas: Option<Replicas>,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled")
            .field("primary", &self.primary.status())
            .field("replicas", &self.replicas.is_some())
            .finish()
    }
}

#[async_trait]
impl Connections for Pooled {
    async fn conn(&self) -> Result<Conn<'_>, RepositoryError> {
        self.primary
            .get()
            .await
            .map(Conn::Pooled)
            .map_err(from_pool)
    }

    fn wrap(&self, _guarded: bool) -> Wrap {
        self.primary.wrap()
    }

    fn write_wrap(&self, _guarded: bool) -> Wrap {
        self.primary.write_wrap()
    }

    fn distributed(&self) -> bool {
        self.primary.is_distributed()
    }

    async fn read_conn(&self) -> (Result<Conn<'_>, RepositoryError>, Option<usize>) {
        let Some(replicas) = &self.replicas else {
            return (self.conn().await, None);
        };
        match crate::replicas::target(replicas).await {
            Target::Primary => (self.conn().await, None),
            Target::Replica(replica) => (
                replicas
                    .pool(replica)
                    .get()
                    .await
                    .map(Conn::Pooled)
                    .map_err(from_pool),
                Some(replica),
            ),
        }
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.primary.probe().await
    }

    fn read_failed(&self, replica: usize, error: &RepositoryError) {
        if let Some(replicas) = &self.replicas {
            replicas.failed(replica, error);
            crate::replicas::fell_back();
        }
    }
}

/// Customers stored in PostgreSQL.
#[derive(Clone)]
pub struct PgCustomerRepository<C: Connections = Pooled> {
    connections: C,
    /// Recorded with every change written through this value (see
    /// [`CustomerStore::attributed`]).
    provenance: Arc<Provenance>,
}

impl std::fmt::Debug for PgCustomerRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCustomerRepository")
            .field("connections", &self.connections)
            .finish()
    }
}

impl std::fmt::Debug for PgCustomerRepository<InTransaction> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCustomerRepository")
            .field("connections", &"in a transaction")
            .finish()
    }
}

impl PgCustomerRepository {
    /// A repository drawing connections from `pool` (migrations must have run).
    pub fn new(pool: Pool) -> Self {
        Self {
            connections: Pooled {
                primary: pool,
                replicas: None,
            },
            provenance: Arc::default(),
        }
    }

    /// A repository writing to the primary through `pool`, whose reads in a read scope
    /// ([`crate::reading`]) may go to `replicas`.
    pub fn with_replicas(pool: Pool, replicas: Replicas) -> Self {
        Self {
            connections: Pooled {
                primary: pool,
                replicas: Some(replicas),
            },
            provenance: Arc::default(),
        }
    }

    /// The primary's pool this repository uses.
    pub fn pool(&self) -> &Pool {
        &self.connections.primary
    }
}

impl<C: Connections> PgCustomerRepository<C> {
    async fn conn(&self) -> Result<Conn<'_>, RepositoryError> {
        self.connections.conn().await
    }

    /// The attribution of a write of `kind` through this value (`None`: as the statement
    /// says).
    fn attribution(&self, kind: Option<EventKind>) -> String {
        history::attribution(kind, &self.provenance)
    }
}

/// Passes a write's result on, waking the history's waiting readers when it wrote.
fn woken<T>(result: Result<T, RepositoryError>) -> Result<T, RepositoryError> {
    if result.is_ok() {
        history::written();
    }
    result
}

#[async_trait]
impl<C: Connections> CustomerStore for PgCustomerRepository<C> {
    #[tracing::instrument(level = "debug", name = "db.insert", skip_all)]
    async fn insert(
        &self,
        customer_id: &CustomerId,
        username: &Username,
        draft: &CustomerDraft,
    ) -> Result<Customer, RepositoryError> {
        let attribution = self.attribution(None);
        writing!(
            self,
            conn,
            guarded = true,
            &attribution,
            writes::insert(
                &mut conn,
                customer_id,
                username,
                draft,
                &attribution,
                self.connections.distributed()
            )
            .await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.taken_usernames", skip_all)]
    async fn taken_usernames(&self, candidates: &[String]) -> Result<Vec<String>, RepositoryError> {
        call!(
            self,
            conn,
            reads::taken_usernames(&mut conn, candidates).await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.update", skip_all)]
    async fn update(
        &self,
        id: &CustomerId,
        changes: &CustomerChanges,
        expected: &Precondition,
    ) -> Result<Written<Customer>, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::Updated));
        writing!(
            self,
            conn,
            guarded = true,
            &attribution,
            writes::update(
                &mut conn,
                id,
                changes,
                expected,
                &attribution,
                self.connections.distributed()
            )
            .await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.bulk_update", skip_all)]
    async fn bulk_update(
        &self,
        targets: &[(CustomerId, Option<u64>)],
        changes: &CustomerChanges,
    ) -> Result<BulkWritten, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::BulkUpdated));
        writing!(
            self,
            conn,
            guarded = true,
            &attribution,
            writes::bulk_update(&mut conn, targets, changes, &attribution).await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.mark_verified", skip_all)]
    async fn mark_verified(
        &self,
        id: &CustomerId,
        what: Verification,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError> {
        let kind = match what {
            Verification::Email => EventKind::EmailVerified,
            Verification::Phone => EventKind::PhoneVerified,
        };
        let attribution = self.attribution(Some(kind));
        writing!(
            self,
            conn,
            guarded = false,
            &attribution,
            writes::mark_verified(&mut conn, id, what, expected, &attribution).await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.record_login", skip_all)]
    async fn record_login(
        &self,
        id: &CustomerId,
        at: DateTime<Utc>,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::LoggedIn));
        writing!(
            self,
            conn,
            guarded = false,
            &attribution,
            writes::record_login(&mut conn, id, at, expected, &attribution).await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.deactivate", skip_all)]
    async fn deactivate(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::Deactivated));
        writing!(
            self,
            conn,
            guarded = false,
            &attribution,
            writes::deactivate(&mut conn, id, expected, &attribution).await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.delete", skip_all)]
    async fn delete(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<()>, RepositoryError> {
        let attribution = self.attribution(None);
        writing!(
            self,
            conn,
            guarded = false,
            &attribution,
            writes::delete(
                &mut conn,
                id,
                expected,
                &attribution,
                self.connections.distributed()
            )
            .await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.ping", skip_all)]
    async fn ping(&self) -> Result<(), RepositoryError> {
        self.connections.ping().await
    }

    fn attributed(&self, provenance: &Provenance) -> Self {
        Self {
            connections: self.connections.clone(),
            provenance: Arc::new(provenance.clone()),
        }
    }

    #[tracing::instrument(level = "debug", name = "db.erase", skip_all)]
    async fn erase(
        &self,
        id: &CustomerId,
        reason: Option<ErasureReason>,
    ) -> Result<Option<Tombstone>, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::Erased));
        writing!(
            self,
            conn,
            guarded = false,
            &attribution,
            erasure::erase(&mut conn, id, reason.as_ref(), &attribution).await
        )
    }
}

#[async_trait]
impl<C: Connections> CustomerReads for PgCustomerRepository<C> {
    #[tracing::instrument(level = "debug", name = "db.find_by_customer_id", skip_all)]
    async fn find_by_customer_id(
        &self,
        id: &CustomerId,
    ) -> Result<Option<Customer>, RepositoryError> {
        read!(self, conn, reads::find_by_customer_id(&mut conn, id).await)
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_username", skip_all)]
    async fn find_by_username(&self, username: &str) -> Result<Option<Customer>, RepositoryError> {
        read!(
            self,
            conn,
            reads::find_by_username(&mut conn, username).await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_email", skip_all)]
    async fn find_by_email(&self, email: &str) -> Result<Option<Customer>, RepositoryError> {
        read!(self, conn, reads::find_by_email(&mut conn, email).await)
    }

    #[tracing::instrument(level = "debug", name = "db.list", skip_all)]
    async fn list(&self, query: &ListQuery) -> Result<CustomerPage, RepositoryError> {
        read!(self, conn, reads::list(&conn, query).await)
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_tags", skip_all)]
    async fn find_by_tags(
        &self,
        tags: &Tags,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        read!(self, conn, reads::find_by_tags(&mut conn, tags, page).await)
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_location", skip_all)]
    async fn find_by_location(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        read!(
            self,
            conn,
            reads::find_by_location(&mut conn, filter, page).await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.locations", skip_all)]
    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, RepositoryError> {
        read!(
            self,
            conn,
            statistics::locations(&conn, level, country.as_deref()).await
        )
    }

    #[tracing::instrument(level = "debug", name = "db.erasure", skip_all)]
    async fn erasure(&self, id: &CustomerId) -> Result<Option<Tombstone>, RepositoryError> {
        read!(self, conn, erasure::erasure(&mut conn, id).await)
    }
}

#[async_trait]
impl<C: Connections> CustomerSearch for PgCustomerRepository<C> {
    #[tracing::instrument(level = "debug", name = "db.search", skip_all)]
    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        read!(self, conn, search::search(&conn, criteria).await)
    }
}

#[async_trait]
impl<C: Connections> StatisticsSource for PgCustomerRepository<C> {
    #[tracing::instrument(level = "debug", name = "db.statistics", skip_all)]
    async fn statistics(
        &self,
        window: &StatisticsWindow,
    ) -> Result<CustomerStatistics, RepositoryError> {
        call!(self, conn, statistics::statistics(&conn, window).await)
    }
}

#[async_trait]
impl<C: Connections> CustomerHistory for PgCustomerRepository<C> {
    #[tracing::instrument(level = "debug", name = "db.timeline", skip_all)]
    async fn timeline(
        &self,
        id: &CustomerId,
        query: &TimelineQuery,
    ) -> Result<Option<Vec<CustomerEvent>>, RepositoryError> {
        read!(self, conn, history::timeline(&mut conn, id, query).await)
    }

    #[tracing::instrument(level = "debug", name = "db.feed", skip_all)]
    async fn feed(
        &self,
        after: Option<FeedPosition>,
        limit: u32,
        kinds: &[EventKind],
    ) -> Result<FeedRead, RepositoryError> {
        call!(self, conn, {
            if self.connections.distributed() {
                relay::feed(&mut conn, after, limit, kinds).await
            } else {
                history::feed(&conn, after, limit, kinds).await
            }
        })
    }

    async fn await_events(&self, at_most: Duration) {
        history::await_events(at_most).await;
    }
}
