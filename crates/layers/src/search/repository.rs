//! [`CachedSearch`]: a repository whose searches go through a [`SearchCache`]; everything
//! else goes straight through.

use std::sync::Arc;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    BulkWritten, Customer, CustomerChanges, CustomerDraft, CustomerEvent, CustomerId, CustomerPage,
    CustomerRepository, CustomerStatistics, DataVersions, ErasureReason, EventKind, FeedPosition,
    FeedRead, ListQuery, LocationCount, LocationFilter, LocationLevel, PageRequest, Precondition,
    Provenance, RepositoryError, SearchCriteria, StatisticsWindow, Tags, TimelineQuery, Tombstone,
    Username, Verification, Written,
};

use super::SearchCache;

/// A repository whose search results are reused while its data version stays the same
/// (see the module [`super`]). The version and the searches come from the same `inner`,
/// whose [`DataVersions`] promises that its reads run outside any caller's transaction.
#[derive(Debug, Clone)]
pub struct CachedSearch<R> {
    inner: R,
    cache: Arc<SearchCache>,
}

impl<R: CustomerRepository + DataVersions> CachedSearch<R> {
    /// `inner` with its searches reused through `cache`, which clones of one `Arc` share.
    pub fn new(inner: R, cache: Arc<SearchCache>) -> Self {
        Self { inner, cache }
    }
}

#[async_trait]
impl<R: CustomerRepository + DataVersions> CustomerRepository for CachedSearch<R> {
    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        // Read before the search starts, so the result is at least as new as the version it
        // is kept under.
        let Some(version) = self.inner.current_version().await? else {
            return self.inner.search(criteria).await;
        };
        self.cache
            .answer(version, criteria, || self.inner.search(criteria))
            .await
    }

    async fn insert(
        &self,
        customer_id: &CustomerId,
        username: &Username,
        draft: &CustomerDraft,
    ) -> Result<Customer, RepositoryError> {
        self.inner.insert(customer_id, username, draft).await
    }

    async fn taken_usernames(&self, candidates: &[String]) -> Result<Vec<String>, RepositoryError> {
        self.inner.taken_usernames(candidates).await
    }

    async fn find_by_customer_id(
        &self,
        id: &CustomerId,
    ) -> Result<Option<Customer>, RepositoryError> {
        self.inner.find_by_customer_id(id).await
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<Customer>, RepositoryError> {
        self.inner.find_by_username(username).await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<Customer>, RepositoryError> {
        self.inner.find_by_email(email).await
    }

    async fn list(&self, query: &ListQuery) -> Result<CustomerPage, RepositoryError> {
        self.inner.list(query).await
    }

    async fn statistics(
        &self,
        window: &StatisticsWindow,
    ) -> Result<CustomerStatistics, RepositoryError> {
        self.inner.statistics(window).await
    }

    async fn update(
        &self,
        id: &CustomerId,
        changes: &CustomerChanges,
        expected: &Precondition,
    ) -> Result<Written<Customer>, RepositoryError> {
        self.inner.update(id, changes, expected).await
    }

    async fn bulk_update(
        &self,
        targets: &[(CustomerId, Option<u64>)],
        changes: &CustomerChanges,
    ) -> Result<BulkWritten, RepositoryError> {
        self.inner.bulk_update(targets, changes).await
    }

    async fn mark_verified(
        &self,
        id: &CustomerId,
        what: Verification,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError> {
        self.inner.mark_verified(id, what, expected).await
    }

    async fn record_login(
        &self,
        id: &CustomerId,
        at: DateTime<Utc>,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError> {
        self.inner.record_login(id, at, expected).await
    }

    async fn find_by_tags(
        &self,
        tags: &Tags,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        self.inner.find_by_tags(tags, page).await
    }

    async fn find_by_location(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        self.inner.find_by_location(filter, page).await
    }

    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, RepositoryError> {
        self.inner.locations(level, country).await
    }

    async fn deactivate(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError> {
        self.inner.deactivate(id, expected).await
    }

    async fn delete(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<()>, RepositoryError> {
        self.inner.delete(id, expected).await
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.inner.ping().await
    }

    fn attributed(&self, provenance: &Provenance) -> Self {
        Self {
            inner: self.inner.attributed(provenance),
            cache: Arc::clone(&self.cache),
        }
    }

    async fn timeline(
        &self,
        id: &CustomerId,
        query: &TimelineQuery,
    ) -> Result<Option<Vec<CustomerEvent>>, RepositoryError> {
        self.inner.timeline(id, query).await
    }

    async fn feed(
        &self,
        after: Option<FeedPosition>,
        limit: u32,
        kinds: &[EventKind],
    ) -> Result<FeedRead, RepositoryError> {
        self.inner.feed(after, limit, kinds).await
    }

    async fn await_events(&self, at_most: Duration) {
        self.inner.await_events(at_most).await;
    }

    /// Erases, then drops the cache's results older than the data after the erasure (they
    /// may hold the erased values).
    async fn erase(
        &self,
        id: &CustomerId,
        reason: Option<ErasureReason>,
    ) -> Result<Option<Tombstone>, RepositoryError> {
        let erased = self.inner.erase(id, reason).await;
        if erased.is_ok() {
            let after = self.inner.current_version().await.ok().flatten();
            self.cache.forget(after);
        }
        erased
    }

    async fn erasure(&self, id: &CustomerId) -> Result<Option<Tombstone>, RepositoryError> {
        self.inner.erasure(id).await
    }
}
