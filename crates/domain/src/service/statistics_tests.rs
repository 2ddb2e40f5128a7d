//! The statistics overview through the service's cache, against mock ports.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use std::future::Future;
use std::pin::Pin;

use super::*;
use crate::ports::{MockClock, MockCustomerRepository, MockIdSource, MockSuffixSource};

/// A mock clock reading the given number of seconds after a fixed instant.
fn clock(seconds: Arc<AtomicI64>) -> MockClock {
    let start: DateTime<Utc> = "2024-06-01T12:00:00Z".parse().unwrap();
    let mut c = MockClock::new();
    c.expect_now()
        .returning(move || start + TimeDelta::seconds(seconds.load(Ordering::SeqCst)));
    c
}

fn stats(total: u64) -> CustomerStatistics {
    CustomerStatistics {
        total_customers: total,
        ..CustomerStatistics::default()
    }
}

/// A repository whose statistics report one more customer on each call.
fn counting_repo(expected_calls: usize) -> MockCustomerRepository {
    let mut repo = MockCustomerRepository::new();
    let mut calls = 0;
    repo.expect_statistics()
        .times(expected_calls)
        .returning(move |_| {
            calls += 1;
            Ok(stats(calls))
        });
    repo
}

fn service(
    repo: MockCustomerRepository,
    seconds: Arc<AtomicI64>,
    ttl_secs: u64,
) -> impl CustomerUseCases {
    CustomerService::with_sources(
        repo,
        clock(seconds),
        MockIdSource::new(),
        MockSuffixSource::new(),
    )
    .with_statistics_ttl(Duration::from_secs(ttl_secs))
}

#[tokio::test]
async fn statistics_are_served_from_the_cache_until_the_ttl_has_passed() {
    let seconds = Arc::new(AtomicI64::new(0));
    let service = service(counting_repo(2), Arc::clone(&seconds), 5);
    assert_eq!(service.statistics().await.unwrap().total_customers, 1);
    seconds.store(4, Ordering::SeqCst);
    assert_eq!(service.statistics().await.unwrap().total_customers, 1);
    seconds.store(5, Ordering::SeqCst);
    assert_eq!(service.statistics().await.unwrap().total_customers, 2);
}

#[tokio::test]
async fn without_a_ttl_statistics_are_computed_on_every_call() {
    let seconds = Arc::new(AtomicI64::new(0));
    let service = service(counting_repo(3), seconds, 0);
    for expected in 1..=3 {
        assert_eq!(
            service.statistics().await.unwrap().total_customers,
            expected
        );
    }
}

#[tokio::test]
async fn a_failed_computation_is_reported_and_retried_on_the_next_call() {
    let seconds = Arc::new(AtomicI64::new(0));
    let mut repo = MockCustomerRepository::new();
    let mut first = true;
    repo.expect_statistics().times(2).returning(move |_| {
        if std::mem::take(&mut first) {
            Err(RepositoryError::Unavailable("down".into()))
        } else {
            Ok(stats(9))
        }
    });
    let service = service(repo, seconds, 5);
    assert!(matches!(
        service.statistics().await,
        Err(ServiceError::Unavailable(_))
    ));
    assert_eq!(service.statistics().await.unwrap().total_customers, 9);
}

#[tokio::test]
async fn services_sharing_a_cache_serve_one_value() {
    let cache = StatisticsCache::new(Duration::from_secs(60));
    let first = CustomerService::new(counting_repo(1)).with_statistics_cache(cache.clone());
    // No expectations: any call to this repository's statistics would fail the test.
    let second = CustomerService::new(MockCustomerRepository::new()).with_statistics_cache(cache);
    assert_eq!(first.statistics().await.unwrap().total_customers, 1);
    assert_eq!(second.statistics().await.unwrap().total_customers, 1);
}

/// Holds spawned tasks until the test runs them.
#[derive(Default)]
pub(super) struct HeldTasks(std::sync::Mutex<Vec<Pin<Box<dyn Future<Output = ()> + Send>>>>);

impl std::fmt::Debug for HeldTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("HeldTasks").field(&self.len()).finish()
    }
}

impl Spawner for HeldTasks {
    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send>>) {
        self.0.lock().unwrap().push(task);
    }
}

impl HeldTasks {
    pub(super) fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    pub(super) async fn run_all(&self) {
        let tasks = std::mem::take(&mut *self.0.lock().unwrap());
        for task in tasks {
            task.await;
        }
    }
}

#[tokio::test]
async fn with_background_refresh_stale_statistics_are_served_while_a_task_recomputes() {
    let seconds = Arc::new(AtomicI64::new(0));
    let tasks = Arc::new(HeldTasks::default());
    let service = CustomerService::with_sources(
        counting_repo(2),
        clock(Arc::clone(&seconds)),
        MockIdSource::new(),
        MockSuffixSource::new(),
    )
    .with_statistics_ttl(Duration::from_secs(5))
    .with_background_refresh(Arc::clone(&tasks) as Arc<dyn Spawner>);
    assert_eq!(service.statistics().await.unwrap().total_customers, 1);
    seconds.store(5, Ordering::SeqCst);
    assert_eq!(service.statistics().await.unwrap().total_customers, 1);
    assert_eq!(tasks.len(), 1);
    tasks.run_all().await;
    assert_eq!(service.statistics().await.unwrap().total_customers, 2);
}
