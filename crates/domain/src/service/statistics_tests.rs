//! The statistics overview: asked of the repository on every call, for the window ending at
//! the clock's now (whole UTC days, as the original service counted them).

use chrono::{DateTime, Utc};

use super::tests::Mocks;
use super::*;
use crate::ports::{MockClock, MockIdSource, MockSuffixSource};

fn at(instant: &str) -> MockClock {
    let now: DateTime<Utc> = instant.parse().unwrap();
    let mut c = MockClock::new();
    c.expect_now().returning(move || now);
    c
}

fn service(repo: Mocks, clock: MockClock) -> impl CustomerUseCases {
    CustomerService::with_sources(repo, clock, MockIdSource::new(), MockSuffixSource::new())
}

fn stats(total: u64) -> CustomerStatistics {
    CustomerStatistics {
        total_customers: total,
        ..CustomerStatistics::default()
    }
}

#[tokio::test]
async fn every_call_asks_the_repository_so_a_write_shows_at_once() {
    let mut repo = Mocks::default();
    let mut calls = 0;
    repo.statistics
        .expect_statistics()
        .times(3)
        .returning(move |_| {
            calls += 1;
            Ok(stats(calls))
        });
    let service = service(repo, at("2024-06-01T12:00:00Z"));
    for expected in 1..=3 {
        assert_eq!(
            service.statistics().await.unwrap().total_customers,
            expected
        );
    }
}

#[tokio::test]
async fn the_window_ends_now_and_starts_at_midnight_utc_7_and_30_days_back() {
    let mut repo = Mocks::default();
    repo.statistics
        .expect_statistics()
        .withf(|w| {
            w.now.to_rfc3339() == "2024-06-01T12:30:00+00:00"
                && w.today_start.to_rfc3339() == "2024-06-01T00:00:00+00:00"
                && w.week_start.to_rfc3339() == "2024-05-25T00:00:00+00:00"
                && w.month_start.to_rfc3339() == "2024-05-02T00:00:00+00:00"
        })
        .times(1)
        .returning(|_| Ok(stats(7)));
    let service = service(repo, at("2024-06-01T12:30:00Z"));
    assert_eq!(service.statistics().await.unwrap().total_customers, 7);
}

#[tokio::test]
async fn an_unavailable_repository_is_reported_as_unavailable() {
    let mut repo = Mocks::default();
    repo.statistics
        .expect_statistics()
        .times(1)
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    let service = service(repo, at("2024-06-01T12:00:00Z"));
    assert!(matches!(
        service.statistics().await,
        Err(ServiceError::Unavailable(_))
    ));
}
