//! The statistics overview through a [`Coalescer`]: requests that arrive while one overview
//! is computed share the next computation, which starts after they all arrived.
//!
//! What it relies on: the inner repository's `statistics` reads from a snapshot taken when
//! it runs (each call a statement of its own, outside any transaction a caller holds), so a
//! computation that starts after a request arrived sees every write committed before. The
//! PostgreSQL adapter reads the overview with statements on a pooled connection; its tests
//! and the end-to-end read-after-write tests run through this layer, as the service is
//! deployed.

use std::sync::Arc;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    BulkWritten, Customer, CustomerChanges, CustomerDraft, CustomerEvent, CustomerId, CustomerPage,
    CustomerRepository, CustomerStatistics, ErasureReason, EventKind, FeedPosition, FeedRead,
    ListQuery, LocationCount, LocationFilter, LocationLevel, PageRequest, Precondition, Provenance,
    RepositoryError, SearchCriteria, StatisticsWindow, Tags, TimelineQuery, Tombstone, Username,
    Verification, Written,
};

use crate::Coalescer;
use crate::shared::Shared;

/// The overview coalescer that every worker's repository shares.
pub type StatisticsCoalescer = Coalescer<StatisticsWindow, Shared<CustomerStatistics>>;

/// A batch's window: its latest request's, so the counts of today, the week and the month
/// and the mean age are those of a moment after every request of the batch arrived and
/// before the computation started.
fn latest(held: &mut StatisticsWindow, new: StatisticsWindow) {
    if new.now > held.now {
        *held = new;
    }
}

/// A repository whose statistics are coalesced; everything else goes straight through.
#[derive(Debug, Clone)]
pub struct CoalescedStatistics<R> {
    inner: R,
    coalescer: Arc<StatisticsCoalescer>,
}

impl<R> CoalescedStatistics<R> {
    /// A coalescer to share between the repositories of one process.
    #[must_use]
    pub fn coalescer() -> Arc<StatisticsCoalescer> {
        Arc::new(Coalescer::new(latest))
    }

    /// `inner` with its statistics coalesced through `coalescer`.
    pub fn new(inner: R, coalescer: Arc<StatisticsCoalescer>) -> Self {
        Self { inner, coalescer }
    }
}

#[async_trait]
impl<R: CustomerRepository> CustomerRepository for CoalescedStatistics<R> {
    async fn statistics(
        &self,
        window: &StatisticsWindow,
    ) -> Result<CustomerStatistics, RepositoryError> {
        self.coalescer
            .run(*window, |window| async move {
                self.inner.statistics(&window).await.map_err(Arc::new)
            })
            .await
            .map_err(|error| RepositoryError::clone(&error))
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

    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        self.inner.search(criteria).await
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
            coalescer: Arc::clone(&self.coalescer),
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

    async fn erase(
        &self,
        id: &CustomerId,
        reason: Option<ErasureReason>,
    ) -> Result<Option<Tombstone>, RepositoryError> {
        self.inner.erase(id, reason).await
    }

    async fn erasure(&self, id: &CustomerId) -> Result<Option<Tombstone>, RepositoryError> {
        self.inner.erasure(id).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use domain::{MockCustomerRepository, Verification};

    use super::*;

    fn window_at(hour: u32) -> StatisticsWindow {
        StatisticsWindow::ending_at(Utc.with_ymd_and_hms(2026, 12, 2, hour, 0, 0).unwrap())
    }

    fn overview(total: u64) -> CustomerStatistics {
        CustomerStatistics {
            total_customers: total,
            ..CustomerStatistics::default()
        }
    }

    #[tokio::test]
    async fn each_overview_asked_alone_is_computed_with_its_window() {
        let mut inner = MockCustomerRepository::new();
        let mut seq = mockall::Sequence::new();
        for (hour, total) in [(9, 5), (10, 6)] {
            inner
                .expect_statistics()
                .withf(move |window| *window == window_at(hour))
                .times(1)
                .in_sequence(&mut seq)
                .returning(move |_| Ok(overview(total)));
        }
        let repo = CoalescedStatistics::new(inner, CoalescedStatistics::<()>::coalescer());
        assert_eq!(repo.statistics(&window_at(9)).await.unwrap(), overview(5));
        assert_eq!(repo.statistics(&window_at(10)).await.unwrap(), overview(6));
    }

    #[tokio::test]
    async fn a_failure_reaches_the_caller_with_its_kind() {
        let mut inner = MockCustomerRepository::new();
        inner
            .expect_statistics()
            .times(1)
            .returning(|_| Err(RepositoryError::Unavailable("down".into())));
        let repo = CoalescedStatistics::new(inner, CoalescedStatistics::<()>::coalescer());
        match repo.statistics(&window_at(9)).await {
            Err(RepositoryError::Unavailable(why)) => assert_eq!(why, "down"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_batch_takes_its_latest_requests_window() {
        let mut held = window_at(10);
        latest(&mut held, window_at(9));
        assert_eq!(held, window_at(10));
        latest(&mut held, window_at(11));
        assert_eq!(held, window_at(11));
    }

    #[tokio::test]
    async fn every_other_operation_goes_straight_to_the_inner_repository() {
        let id = CustomerId::parse("CUST_0000ABCD").unwrap();
        let mut inner = MockCustomerRepository::new();
        inner
            .expect_mark_verified()
            .withf(|id, what, expected| {
                id.as_str() == "CUST_0000ABCD"
                    && *what == Verification::Phone
                    && *expected == Precondition::Any
            })
            .times(1)
            .returning(|_, _, _| Ok(Written::Done(2)));
        inner
            .expect_delete()
            .withf(|id, expected| {
                id.as_str() == "CUST_0000ABCD" && *expected == Precondition::version(7)
            })
            .times(1)
            .returning(|_, _| Ok(Written::Stale { current: 8 }));
        inner
            .expect_locations()
            .withf(|level, country| {
                *level == LocationLevel::City && country.as_deref() == Some("Norway")
            })
            .times(1)
            .returning(|_, _| {
                Ok(vec![LocationCount {
                    name: "Oslo".into(),
                    count: 3,
                }])
            });
        inner.expect_ping().times(1).returning(|| Ok(()));
        let repo = CoalescedStatistics::new(inner, CoalescedStatistics::<()>::coalescer());
        assert_eq!(
            repo.mark_verified(&id, Verification::Phone, &Precondition::Any)
                .await
                .unwrap(),
            Written::Done(2)
        );
        assert_eq!(
            repo.delete(&id, &Precondition::version(7)).await.unwrap(),
            Written::Stale { current: 8 }
        );
        let cities = repo
            .locations(LocationLevel::City, Some("Norway".into()))
            .await
            .unwrap();
        assert_eq!(cities[0].count, 3);
        repo.ping().await.unwrap();
    }
}
