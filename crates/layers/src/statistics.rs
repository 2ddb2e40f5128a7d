//! The statistics overview through a [`Coalescer`]: requests that arrive while one overview
//! is computed share the next computation, which starts after they all arrived.
//!
//! What it relies on: the inner source's `statistics` reads from a snapshot taken when
//! it runs (each call a statement of its own, outside any transaction a caller holds), so a
//! computation that starts after a request arrived sees every write committed before. The
//! PostgreSQL adapter reads the overview with statements on a pooled connection; its tests
//! and the end-to-end read-after-write tests run through this layer, as the service is
//! deployed.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{CustomerStatistics, RepositoryError, StatisticsSource, StatisticsWindow};

use crate::Coalescer;
use crate::shared::Shared;

/// The overview coalescer that every worker's statistics port shares.
pub type StatisticsCoalescer = Coalescer<StatisticsWindow, Shared<CustomerStatistics>>;

/// A batch's window: its latest request's, so the counts of today, the week and the month
/// and the mean age are those of a moment after every request of the batch arrived and
/// before the computation started.
fn latest(held: &mut StatisticsWindow, new: StatisticsWindow) {
    if new.now > held.now {
        *held = new;
    }
}

/// A statistics source whose computations are coalesced.
#[derive(Debug, Clone)]
pub struct CoalescedStatistics<R> {
    inner: R,
    coalescer: Arc<StatisticsCoalescer>,
}

impl<R> CoalescedStatistics<R> {
    /// A coalescer to share between the statistics ports of one process.
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
impl<R: StatisticsSource> StatisticsSource for CoalescedStatistics<R> {
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
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono::Utc;
    use domain::MockStatisticsSource;

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
        let mut inner = MockStatisticsSource::new();
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
        let mut inner = MockStatisticsSource::new();
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
}
