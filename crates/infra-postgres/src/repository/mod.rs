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

mod connections;
mod documents;
pub use connections::{Conn, Connections, Pooled};
mod erasure;
mod events;
mod history;
pub use history::{FEED_RECHECK, feed_lag, purge_events};
mod places;
mod reads;
mod relay;
mod search;
pub use search::{SearchPlans, explain_search};
pub use totals::SearchTotals;
mod statistics;
mod totals;
mod transaction;
pub use transaction::{InTransaction, KeyLock, PgTransaction, ReplayRecord, purge_replays};
mod version;
mod writes;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    BulkWritten, Customer, CustomerChanges, CustomerDraft, CustomerEvent, CustomerHistory,
    CustomerId, CustomerPage, CustomerReads, CustomerSearch, CustomerStatistics, CustomerStore,
    ErasureReason, EventKind, FeedPosition, FeedRead, IndexChanges, ListQuery, LocationCount,
    LocationFilter, LocationLevel, PageRequest, Precondition, Provenance, RepositoryError,
    RequestContext, SearchCriteria, SearchDocument, SearchDocuments, StatisticsSource,
    StatisticsWindow, Tags, TimelineQuery, Tombstone, Username, Verification, Written,
};

use crate::changes::CustomerChangeset;
use crate::errors::TimeoutMessage;
use crate::pool::Pool;

/// Customers stored in PostgreSQL.
#[derive(Clone)]
pub struct PgCustomerRepository<C: Connections = Pooled> {
    connections: C,
    /// Recorded with every change written through this value (see
    /// [`CustomerStore::attributed`]).
    provenance: Arc<Provenance>,
    /// How exact a search's total is.
    totals: SearchTotals,
    /// What tells the database's statement timeouts from other errors.
    timeouts: TimeoutMessage,
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
            timeouts: pool.timeouts().clone(),
            connections: Pooled { pool },
            provenance: Arc::default(),
            totals: SearchTotals::default(),
        }
    }

    /// This repository with search totals exact up to `totals`' bound (10,000 unless set).
    #[must_use]
    pub fn with_search_totals(self, totals: SearchTotals) -> Self {
        Self { totals, ..self }
    }

    /// How exact this repository's search totals are.
    pub fn search_totals(&self) -> SearchTotals {
        self.totals
    }

    /// The pool this repository uses.
    pub fn pool(&self) -> &Pool {
        &self.connections.pool
    }
}

impl<C: Connections> PgCustomerRepository<C> {
    /// The attribution of a write of `kind` through this value (`None`: as the statement
    /// says).
    fn attribution(&self, kind: Option<EventKind>) -> String {
        history::attribution(kind, &self.provenance)
    }
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
        // Guarded only where a taken value fails a statement: on a Citus coordinator, the
        // lookup tables' claims (see `writes::insert`).
        let distributed = self.connections.distributed();
        self.write(distributed, &attribution, async |conn| {
            writes::insert(
                conn,
                customer_id,
                username,
                draft,
                &attribution,
                self.connections.distributed(),
            )
            .await
        })
        .await
    }

    #[tracing::instrument(level = "debug", name = "db.taken_usernames", skip_all)]
    async fn taken_usernames(&self, candidates: &[String]) -> Result<Vec<String>, RepositoryError> {
        self.call(async |conn| reads::taken_usernames(conn, candidates).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.update", skip_all)]
    async fn update(
        &self,
        id: &CustomerId,
        changes: &CustomerChanges,
        expected: &Precondition,
    ) -> Result<Written<Customer>, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::Updated));
        self.write(true, &attribution, async |conn| {
            writes::update(
                conn,
                id,
                changes,
                expected,
                &attribution,
                self.connections.distributed(),
            )
            .await
        })
        .await
    }

    #[tracing::instrument(level = "debug", name = "db.bulk_update", skip_all)]
    async fn bulk_update(
        &self,
        targets: &[(CustomerId, Option<u64>)],
        changes: &CustomerChanges,
    ) -> Result<BulkWritten, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::BulkUpdated));
        self.write(true, &attribution, async |conn| {
            writes::bulk_update(conn, targets, changes, &attribution).await
        })
        .await
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
        self.write(false, &attribution, async |conn| {
            let changes = CustomerChangeset::verified(what);
            writes::set_one(conn, id, expected, &attribution, changes).await
        })
        .await
    }

    #[tracing::instrument(level = "debug", name = "db.record_login", skip_all)]
    async fn record_login(
        &self,
        id: &CustomerId,
        at: DateTime<Utc>,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::LoggedIn));
        self.write(false, &attribution, async |conn| {
            let changes = CustomerChangeset::logged_in(at);
            writes::set_one(conn, id, expected, &attribution, changes).await
        })
        .await
    }

    #[tracing::instrument(level = "debug", name = "db.deactivate", skip_all)]
    async fn deactivate(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::Deactivated));
        self.write(false, &attribution, async |conn| {
            let changes = CustomerChangeset::deactivated();
            writes::set_one(conn, id, expected, &attribution, changes).await
        })
        .await
    }

    #[tracing::instrument(level = "debug", name = "db.delete", skip_all)]
    async fn delete(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<()>, RepositoryError> {
        let attribution = self.attribution(None);
        self.write(false, &attribution, async |conn| {
            writes::delete(
                conn,
                id,
                expected,
                &attribution,
                self.connections.distributed(),
            )
            .await
        })
        .await
    }

    #[tracing::instrument(level = "debug", name = "db.ping", skip_all)]
    async fn ping(&self) -> Result<(), RepositoryError> {
        self.connections.ping().await
    }

    fn attributed(&self, provenance: &Provenance) -> Self {
        Self {
            connections: self.connections.clone(),
            provenance: Arc::new(provenance.clone()),
            totals: self.totals,
            timeouts: self.timeouts.clone(),
        }
    }

    #[tracing::instrument(level = "debug", name = "db.erase", skip_all)]
    async fn erase(
        &self,
        id: &CustomerId,
        reason: Option<ErasureReason>,
    ) -> Result<Option<Tombstone>, RepositoryError> {
        let attribution = self.attribution(Some(EventKind::Erased));
        self.write(false, &attribution, async |conn| {
            erasure::erase(conn, id, reason.as_ref(), &attribution).await
        })
        .await
    }
}

/// The reads, the search and the history of one server (or transaction): for a request as
/// for any other caller, every read sees what that server committed.
#[async_trait]
impl<C: Connections> CustomerReads for PgCustomerRepository<C> {
    fn for_request(&self, _context: &RequestContext) -> Self {
        self.clone()
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_customer_id", skip_all)]
    async fn find_by_customer_id(
        &self,
        id: &CustomerId,
    ) -> Result<Option<Customer>, RepositoryError> {
        self.call(async |conn| reads::find_by_customer_id(conn, id).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_username", skip_all)]
    async fn find_by_username(&self, username: &str) -> Result<Option<Customer>, RepositoryError> {
        self.call(async |conn| reads::find_by_username(conn, username).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_email", skip_all)]
    async fn find_by_email(&self, email: &str) -> Result<Option<Customer>, RepositoryError> {
        self.call(async |conn| reads::find_by_email(conn, email).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.list", skip_all)]
    async fn list(&self, query: &ListQuery) -> Result<CustomerPage, RepositoryError> {
        self.call(async |conn| reads::list(conn, query).await).await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_tags", skip_all)]
    async fn find_by_tags(
        &self,
        tags: &Tags,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        self.call(async |conn| reads::find_by_tags(conn, tags, page).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_location", skip_all)]
    async fn find_by_location(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        self.call(async |conn| reads::find_by_location(conn, filter, page).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.locations", skip_all)]
    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, RepositoryError> {
        self.call(async |conn| statistics::locations(conn, level, country.as_deref()).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.erasure", skip_all)]
    async fn erasure(&self, id: &CustomerId) -> Result<Option<Tombstone>, RepositoryError> {
        self.call(async |conn| erasure::erasure(conn, id).await)
            .await
    }
}

#[async_trait]
impl<C: Connections> CustomerSearch for PgCustomerRepository<C> {
    fn for_request(&self, _context: &RequestContext) -> Self {
        self.clone()
    }

    #[tracing::instrument(level = "debug", name = "db.search", skip_all)]
    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        self.call(async |conn| search::search(conn, criteria, self.totals).await)
            .await
    }
}

/// What the search index reads (see `documents`); none on a Citus coordinator.
#[async_trait]
impl<C: Connections> SearchDocuments for PgCustomerRepository<C> {
    #[tracing::instrument(level = "debug", name = "db.index_start", skip_all)]
    async fn index_start(&self) -> Result<Option<FeedPosition>, RepositoryError> {
        // Decided on the connection: a pool knows its layout once it opened one.
        self.call(async |conn| {
            if self.connections.distributed() {
                return Ok(None);
            }
            documents::index_start(conn).await.map(Some)
        })
        .await
    }

    #[tracing::instrument(level = "debug", name = "db.documents_after", skip_all)]
    async fn documents_after(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<SearchDocument>, RepositoryError> {
        self.call(async |conn| documents::documents_after(conn, after_id, limit).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.documents_of", skip_all)]
    async fn documents_of(
        &self,
        customer_ids: &[String],
    ) -> Result<Vec<SearchDocument>, RepositoryError> {
        self.call(async |conn| documents::documents_of(conn, customer_ids).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.changes_after", skip_all)]
    async fn changes_after(
        &self,
        after: FeedPosition,
        limit: u32,
    ) -> Result<IndexChanges, RepositoryError> {
        self.call(async |conn| documents::changes_after(conn, after, limit).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.customers_by_id", skip_all)]
    async fn customers_by_id(&self, ids: &[i64]) -> Result<Vec<Customer>, RepositoryError> {
        self.call(async |conn| documents::customers_by_id(conn, ids).await)
            .await
    }
}

#[async_trait]
impl<C: Connections> StatisticsSource for PgCustomerRepository<C> {
    #[tracing::instrument(level = "debug", name = "db.statistics", skip_all)]
    async fn statistics(
        &self,
        window: &StatisticsWindow,
    ) -> Result<CustomerStatistics, RepositoryError> {
        self.call(async |conn| statistics::statistics(conn, window).await)
            .await
    }
}

#[async_trait]
impl<C: Connections> CustomerHistory for PgCustomerRepository<C> {
    fn for_request(&self, _context: &RequestContext) -> Self {
        self.clone()
    }

    #[tracing::instrument(level = "debug", name = "db.timeline", skip_all)]
    async fn timeline(
        &self,
        id: &CustomerId,
        query: &TimelineQuery,
    ) -> Result<Option<Vec<CustomerEvent>>, RepositoryError> {
        self.call(async |conn| history::timeline(conn, id, query).await)
            .await
    }

    #[tracing::instrument(level = "debug", name = "db.feed", skip_all)]
    async fn feed(
        &self,
        after: Option<FeedPosition>,
        limit: u32,
        kinds: &[EventKind],
    ) -> Result<FeedRead, RepositoryError> {
        self.call(async |conn| {
            if self.connections.distributed() {
                relay::feed(conn, after, limit, kinds).await
            } else {
                history::feed(conn, after, limit, kinds).await
            }
        })
        .await
    }

    async fn await_events(&self, at_most: Duration) {
        history::await_events(self.connections.wakeups(), at_most).await;
    }
}
