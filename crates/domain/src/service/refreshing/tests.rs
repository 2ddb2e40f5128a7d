//! The cache's rules, with a hand-driven clock and computations that finish when told.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use chrono::TimeZone;
use tokio::sync::oneshot;

use super::*;
use crate::service::statistics_tests::HeldTasks;

/// A clock whose time the test sets, in seconds after a fixed instant.
#[derive(Default)]
struct TestClock(AtomicI64);

impl TestClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
            + TimeDelta::seconds(self.0.load(Ordering::SeqCst))
    }
    fn set(&self, seconds: i64) {
        self.0.store(seconds, Ordering::SeqCst);
    }
}

fn cache(ttl_secs: u64) -> RefreshingCache<u32> {
    RefreshingCache::new(Duration::from_secs(ttl_secs))
}

async fn counted(calls: &AtomicUsize, value: u32) -> Result<u32, String> {
    calls.fetch_add(1, Ordering::SeqCst);
    Ok(value)
}

#[tokio::test]
async fn within_the_ttl_the_value_is_computed_once() {
    let (clock, calls, c) = (TestClock::default(), AtomicUsize::new(0), cache(5));
    assert_eq!(c.get(|| clock.now(), || counted(&calls, 1)).await, Ok(1));
    clock.set(4);
    assert_eq!(c.get(|| clock.now(), || counted(&calls, 2)).await, Ok(1));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn after_the_ttl_the_value_is_computed_again() {
    let (clock, calls, c) = (TestClock::default(), AtomicUsize::new(0), cache(5));
    c.get(|| clock.now(), || counted(&calls, 1)).await.unwrap();
    clock.set(5);
    assert_eq!(c.get(|| clock.now(), || counted(&calls, 2)).await, Ok(2));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_zero_ttl_computes_every_time() {
    let (clock, calls, c) = (TestClock::default(), AtomicUsize::new(0), cache(0));
    c.get(|| clock.now(), || counted(&calls, 1)).await.unwrap();
    c.get(|| clock.now(), || counted(&calls, 2)).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn while_one_caller_refreshes_the_others_get_the_previous_value_at_once() {
    let (clock, calls, c) = (TestClock::default(), AtomicUsize::new(0), cache(5));
    c.get(|| clock.now(), || counted(&calls, 1)).await.unwrap();
    clock.set(10);
    let (finish, finished) = oneshot::channel::<u32>();
    let leader = c.get(
        || clock.now(),
        || async { Ok::<_, String>(finished.await.unwrap()) },
    );
    let others = async {
        // The leader has started (join polls it first) and is waiting for `finish`.
        let stale = c.get(|| clock.now(), || counted(&calls, 99)).await;
        finish.send(2).unwrap();
        stale
    };
    let (led, stale) = tokio::join!(leader, others);
    assert_eq!((led, stale), (Ok(2), Ok(1)));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "nobody else recomputed");
    assert_eq!(c.get(|| clock.now(), || counted(&calls, 3)).await, Ok(2));
}

#[tokio::test]
async fn before_the_first_value_concurrent_callers_wait_for_one_computation() {
    let (clock, calls, c) = (TestClock::default(), AtomicUsize::new(0), cache(5));
    let (finish, finished) = oneshot::channel::<u32>();
    let leader = c.get(
        || clock.now(),
        || async { Ok::<_, String>(finished.await.unwrap()) },
    );
    let waiters = async {
        let release = async {
            tokio::task::yield_now().await;
            finish.send(7).unwrap();
        };
        let (a, b, ()) = tokio::join!(
            c.get(|| clock.now(), || counted(&calls, 1)),
            c.get(|| clock.now(), || counted(&calls, 2)),
            release,
        );
        (a, b)
    };
    let (led, (a, b)) = tokio::join!(leader, waiters);
    assert_eq!((led, a, b), (Ok(7), Ok(7), Ok(7)));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_error_is_not_cached() {
    let (clock, calls, c) = (TestClock::default(), AtomicUsize::new(0), cache(5));
    let failed = c
        .get(
            || clock.now(),
            || async { Err::<u32, _>("down".to_string()) },
        )
        .await;
    assert_eq!(failed, Err("down".to_string()));
    assert_eq!(c.get(|| clock.now(), || counted(&calls, 4)).await, Ok(4));
}

#[tokio::test]
async fn a_cancelled_refresh_lets_the_next_caller_refresh() {
    let (clock, calls, c) = (TestClock::default(), AtomicUsize::new(0), cache(5));
    {
        let never = c.get(|| clock.now(), std::future::pending::<Result<u32, String>>);
        let mut never = Box::pin(never);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(never.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(c.get(|| clock.now(), || counted(&calls, 5)).await, Ok(5));
}

/// A computation owning what it needs, as a background task requires.
fn owned(
    calls: &Arc<AtomicUsize>,
    value: Result<u32, String>,
) -> impl Future<Output = Result<u32, String>> + Send + use<> {
    let calls = Arc::clone(calls);
    async move {
        calls.fetch_add(1, Ordering::SeqCst);
        value
    }
}

/// A clock, a call counter, held tasks and a cache fresh for 5 s.
fn background_fixture() -> (
    TestClock,
    Arc<AtomicUsize>,
    HeldTasks,
    Arc<RefreshingCache<u32>>,
) {
    (
        TestClock::default(),
        Arc::new(AtomicUsize::new(0)),
        HeldTasks::default(),
        Arc::new(cache(5)),
    )
}

#[tokio::test]
async fn with_a_spawner_a_stale_value_is_served_at_once_and_refreshed_in_the_background() {
    let (clock, calls, tasks, c) = background_fixture();
    let calls_ref = &calls;
    let get = |value: u32| {
        c.get_or_refresh_in_background(|| clock.now(), move || owned(calls_ref, Ok(value)), &tasks)
    };
    // The first value is computed by its caller.
    assert_eq!(get(1).await, Ok(1));
    assert_eq!((calls.load(Ordering::SeqCst), tasks.len()), (1, 0));
    // Stale: served as it is, the refresh handed to a task, which has not run yet.
    clock.set(5);
    assert_eq!(get(2).await, Ok(1));
    assert_eq!((calls.load(Ordering::SeqCst), tasks.len()), (1, 1));
    // While it is under way nobody starts another.
    assert_eq!(get(3).await, Ok(1));
    assert_eq!(tasks.len(), 1);
    tasks.run_all().await;
    assert_eq!(get(4).await, Ok(2));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_background_refresh_keeps_the_value_and_the_next_caller_starts_another() {
    let (clock, calls, tasks, c) = background_fixture();
    let calls_ref = &calls;
    let get = |value: Result<u32, String>| {
        c.get_or_refresh_in_background(|| clock.now(), move || owned(calls_ref, value), &tasks)
    };
    assert_eq!(get(Ok(1)).await, Ok(1));
    clock.set(5);
    assert_eq!(get(Err("down".into())).await, Ok(1));
    tasks.run_all().await;
    assert_eq!(get(Ok(7)).await, Ok(1));
    assert_eq!(tasks.len(), 1);
    tasks.run_all().await;
    assert_eq!(get(Ok(8)).await, Ok(7));
}

#[tokio::test]
async fn with_a_spawner_a_failed_first_computation_is_the_callers_error() {
    let (clock, calls, tasks, c) = background_fixture();
    let first = c
        .get_or_refresh_in_background(|| clock.now(), || owned(&calls, Err("down".into())), &tasks)
        .await;
    assert_eq!(first, Err("down".to_owned()));
    assert_eq!(tasks.len(), 0);
}
