//! Storage of customers, one port per role: what the writes need ([`CustomerStore`]), the
//! lookups ([`CustomerReads`]), search ([`CustomerSearch`]), the overview
//! ([`StatisticsSource`]) and the change history ([`CustomerHistory`]). A use case asks only
//! for the ports it touches, a test mocks only those, and a layer wraps only the port it
//! changes (the search cache wraps search, coalescing wraps statistics). [`Storage`] bundles
//! the five for [`crate::CustomerService`].
//!
//! What every port promises, for one storage behind all five:
//! - Uniqueness of customer id, username and email is the storage's to enforce: a colliding
//!   write fails with [`RepositoryError::Conflict`] naming the key.
//! - Versions are the storage's to keep too: every write that changes a customer adds one
//!   to its version, and a write with a [`Precondition`] checks it in the write itself
//!   (never by reading first), answering [`Written::Stale`] when it does not hold.
//! - An erased customer is a [`Tombstone`] that no read or write sees (as if it did not
//!   exist) except [`CustomerReads::erasure`], and no write changes it again.
//! - So is the history: every write that changes a customer records one [`CustomerEvent`]
//!   per customer changed, in the transaction of the change (none when nothing changed),
//!   with the [`Provenance`] the store was [attributed](CustomerStore::attributed).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{LocationLevel, Verification};
use crate::error::RepositoryError;
use crate::models::{
    BulkWritten, Customer, CustomerChanges, CustomerDraft, CustomerEvent, CustomerId, CustomerPage,
    CustomerStatistics, ErasureReason, EventKind, FeedPosition, FeedRead, IndexChanges, ListQuery,
    LocationCount, LocationFilter, PageRequest, Precondition, Provenance, RequestContext,
    SearchCriteria, SearchDocument, StatisticsWindow, Tags, TimelineQuery, Tombstone, Username,
    Written,
};

/// The writes, and the reads a write decides on (which usernames are free): all of them
/// on the primary, recording the [`Provenance`] the store was attributed with.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CustomerStore: Send + Sync + 'static {
    /// Stores a new customer and returns it as stored (with id and timestamps).
    async fn insert(
        &self,
        customer_id: &CustomerId,
        username: &Username,
        draft: &CustomerDraft,
    ) -> Result<Customer, RepositoryError>;

    /// Which of these usernames are already taken, in one query.
    async fn taken_usernames(&self, candidates: &[String]) -> Result<Vec<String>, RepositoryError>;

    /// Applies the changes (none: only checks the precondition) and returns the customer as
    /// stored.
    async fn update(
        &self,
        id: &CustomerId,
        changes: &CustomerChanges,
        expected: &Precondition,
    ) -> Result<Written<Customer>, RepositoryError>;

    /// Applies the same changes (never an email) atomically to every listed customer that
    /// exists and is at the version listed with it (if one is), and tells which were changed
    /// and which were at another version. With no changes it only looks.
    async fn bulk_update(
        &self,
        targets: &[(CustomerId, Option<u64>)],
        changes: &CustomerChanges,
    ) -> Result<BulkWritten, RepositoryError>;

    /// Sets a verification flag and returns the customer's version after it.
    async fn mark_verified(
        &self,
        id: &CustomerId,
        what: Verification,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError>;

    /// Records a login time and returns the customer's version after it.
    async fn record_login(
        &self,
        id: &CustomerId,
        at: DateTime<Utc>,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError>;

    /// Sets `is_active` to false and returns the customer's version after it.
    async fn deactivate(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError>;

    /// Removes the customer for good.
    async fn delete(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<()>, RepositoryError>;

    /// Erases the customer in one transaction and returns its tombstone: every personal
    /// field of the customer goes, and so do its values in every other place the storage
    /// kept them (the history's before and after values, stored idempotent answers, search
    /// data); an [`EventKind::Erased`] event is recorded. A customer erased before is
    /// returned as it is. `None` when there is no such customer; the history and stored
    /// answers of an id deleted for good are erased all the same.
    async fn erase(
        &self,
        id: &CustomerId,
        reason: Option<ErasureReason>,
    ) -> Result<Option<Tombstone>, RepositoryError>;

    /// Succeeds when the storage answers.
    async fn ping(&self) -> Result<(), RepositoryError>;

    /// The same store, recording `provenance` with every change written through it.
    fn attributed(&self, provenance: &Provenance) -> Self
    where
        Self: Sized;
}

/// Customers found by id, username, email, tags or place, pages of them, and tombstones.
///
/// Through the value itself every read sees every write committed before it started; one
/// [scoped to a request](CustomerReads::for_request) may be served from elsewhere (a
/// replica), seeing at least the writes the request's consistency token names.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CustomerReads: Send + Sync + 'static {
    /// The same reads for one request: they may be served wherever its context allows.
    fn for_request(&self, context: &RequestContext) -> Self
    where
        Self: Sized;

    async fn find_by_customer_id(
        &self,
        id: &CustomerId,
    ) -> Result<Option<Customer>, RepositoryError>;

    async fn find_by_username(&self, username: &str) -> Result<Option<Customer>, RepositoryError>;

    /// Case-insensitive lookup.
    async fn find_by_email(&self, email: &str) -> Result<Option<Customer>, RepositoryError>;

    /// A page ordered by `id`, with the total of the same filter.
    async fn list(&self, query: &ListQuery) -> Result<CustomerPage, RepositoryError>;

    /// Customers having every one of the tags, ordered by `id`.
    async fn find_by_tags(
        &self,
        tags: &Tags,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError>;

    /// Customers in the place, ordered by `id`.
    async fn find_by_location(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError>;

    /// Distinct non-empty values of a location column with their customer counts, largest
    /// first, optionally within one country (case ignored).
    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, RepositoryError>;

    /// The tombstone, when the customer was erased.
    async fn erasure(&self, id: &CustomerId) -> Result<Option<Tombstone>, RepositoryError>;
}

/// Search over every customer.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CustomerSearch: Send + Sync + 'static {
    /// The same search for one request (as [`CustomerReads::for_request`]).
    fn for_request(&self, context: &RequestContext) -> Self
    where
        Self: Sized;

    /// A page of matches in the requested order, with the total of the same filter.
    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError>;

    /// Called once an erasure committed: anything kept outside the storage (a cache of
    /// results) that may still hold the erased values goes. Nothing to do by default.
    async fn forget_erased(&self) {}
}

/// The seed's statistics overview.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait StatisticsSource: Send + Sync + 'static {
    /// The overview for this window.
    async fn statistics(
        &self,
        window: &StatisticsWindow,
    ) -> Result<CustomerStatistics, RepositoryError>;
}

/// The events the writes recorded: one customer's timeline, and the feed of all.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CustomerHistory: Send + Sync + 'static {
    /// The same history for one request: its timelines may be read wherever the context
    /// allows (as [`CustomerReads::for_request`]); the feed is always read where it is
    /// written.
    fn for_request(&self, context: &RequestContext) -> Self
    where
        Self: Sized;

    /// A page of the customer's events, newest first; `None` when it has none and does not
    /// exist (a customer deleted for good keeps its events).
    async fn timeline(
        &self,
        id: &CustomerId,
        query: &TimelineQuery,
    ) -> Result<Option<Vec<CustomerEvent>>, RepositoryError>;

    /// Up to `limit` events after `after` (from the oldest kept when `None`), of `kinds`
    /// (every kind when empty), in feed order. An event is served only once no event can
    /// appear before it any more, so a reader that goes on from the last position it saw
    /// never misses one and never sees one twice.
    async fn feed(
        &self,
        after: Option<FeedPosition>,
        limit: u32,
        kinds: &[EventKind],
    ) -> Result<FeedRead, RepositoryError>;

    /// Returns once new events may have become visible, or after `at_most`: a wake-up, never
    /// a promise (the feed is read again to find out).
    async fn await_events(&self, at_most: Duration);
}

/// What a search index kept beside the storage needs from it: every customer's searchable
/// fields, which customers changed since a feed position, and the customers a page names.
/// Not one of the [`Storage`] ports: the binary hands it to the index it composes.
///
/// How an index stays exact with it: it reads [`SearchDocuments::index_start`] first, then
/// every document, then the changes after that start; reading the changes after the last
/// settled one it saw again before each search, it has every change committed before the
/// search began.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SearchDocuments: Send + Sync + 'static {
    /// Where the changes start that the documents read from now on may not show yet; `None`
    /// when this storage cannot feed an index (its changes have no single order).
    async fn index_start(&self) -> Result<Option<FeedPosition>, RepositoryError>;

    /// Up to `limit` documents of customers whose `id` is above `after_id`, by `id`;
    /// erased customers have none.
    async fn documents_after(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<SearchDocument>, RepositoryError>;

    /// The documents of these customers (by `customer_id`); a customer deleted or erased
    /// has none.
    async fn documents_of(
        &self,
        customer_ids: &[String],
    ) -> Result<Vec<SearchDocument>, RepositoryError>;

    /// Up to `limit` committed changes after `after`, in feed order (see [`IndexChanges`]).
    async fn changes_after(
        &self,
        after: FeedPosition,
        limit: u32,
    ) -> Result<IndexChanges, RepositoryError>;

    /// The customers with these ids (`Customer::id`) that exist and are not erased, in any
    /// order.
    async fn customers_by_id(&self, ids: &[i64]) -> Result<Vec<Customer>, RepositoryError>;
}

/// A statistics port chosen at start-up (coalesced, or the adapter itself).
#[async_trait]
impl<T: StatisticsSource + ?Sized> StatisticsSource for Arc<T> {
    async fn statistics(
        &self,
        window: &StatisticsWindow,
    ) -> Result<CustomerStatistics, RepositoryError> {
        (**self).statistics(window).await
    }
}

/// The five storage ports a [`crate::CustomerService`] uses. One adapter usually implements
/// them all ([`Storage::all`]); the binary puts its layers in front of the ports they
/// concern, and a test mocks each port on its own.
#[derive(Debug, Clone, Default)]
pub struct Storage<W, R = W, Q = W, T = W, H = W> {
    pub store: W,
    pub reads: R,
    pub search: Q,
    pub statistics: T,
    pub history: H,
}

impl<A: Clone> Storage<A> {
    /// Every port served by `adapter`.
    pub fn all(adapter: A) -> Self {
        Self {
            store: adapter.clone(),
            reads: adapter.clone(),
            search: adapter.clone(),
            statistics: adapter.clone(),
            history: adapter,
        }
    }
}
