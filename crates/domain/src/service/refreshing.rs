//! A one-value cache for expensive reads (the statistics overview): fresh for a time to
//! live, refreshed by one caller at a time.
//!
//! Over a million customers the statistics take about a second to compute. Within the
//! TTL every caller gets the cached value. After it, the first caller recomputes while
//! everyone else keeps getting the previous value ("stale while revalidate"), so an expiry
//! under load costs one computation, not one per request. Only before the very first value
//! exists do callers wait, for that one computation. Errors are not cached.
//!
//! With a [`Spawner`] ([`RefreshingCache::get_or_refresh_in_background`]) not even the
//! caller that starts a refresh waits: it gets the previous value too, and a background
//! task computes and stores the new one.
//!
//! Pure: a `std` mutex held only for a few instructions, never across an await, and a
//! hand-written future to wait on; time comes from the caller (the service's `Clock`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::ports::Spawner;

/// The cached value, when it was computed, and who waits for the computation under way.
#[derive(Debug)]
struct State<T> {
    value: Option<(T, DateTime<Utc>)>,
    refreshing: bool,
    waiters: Vec<Waker>,
}

/// A value recomputed at most once per TTL, by one caller at a time.
#[derive(Debug)]
pub struct RefreshingCache<T> {
    ttl: TimeDelta,
    state: Mutex<State<T>>,
}

/// What a caller does, decided under the lock.
enum Turn<T> {
    Serve(T),
    Wait,
    Refresh,
}

impl<T: Clone> RefreshingCache<T> {
    /// A cache whose values are fresh for `ttl`; zero disables caching.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl: TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX),
            state: Mutex::new(State {
                value: None,
                refreshing: false,
                waiters: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // The state stays consistent even if a holder panicked: every change is one step.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached value if fresh; else the previous value while another caller refreshes
    /// it; else `compute()`'s result, stored with the time `now()` gave before computing.
    ///
    /// # Errors
    /// `compute`'s error, when this caller computed and it failed.
    pub async fn get<E, F, Fut>(&self, now: impl Fn() -> DateTime<Utc>, compute: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if self.ttl.is_zero() {
            return compute().await;
        }
        loop {
            match self.turn(now()) {
                Turn::Serve(value) => return Ok(value),
                Turn::Wait => RefreshDone { cache: self }.await,
                Turn::Refresh => return self.compute_as_leader(now(), compute).await,
            }
        }
    }

    /// As [`RefreshingCache::get`], except that a caller finding the value stale returns
    /// it at once and leaves the refresh to a task given to `spawner`: once a value exists
    /// no caller waits for a computation. A failed refresh is dropped (the previous value
    /// stays) and the next caller after it starts another.
    ///
    /// # Errors
    /// `compute`'s error, when this caller computed the first value and that failed.
    pub async fn get_or_refresh_in_background<E, F, Fut>(
        self: &Arc<Self>,
        now: impl Fn() -> DateTime<Utc>,
        compute: F,
        spawner: &dyn Spawner,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        if self.ttl.is_zero() {
            return compute().await;
        }
        loop {
            match self.turn(now()) {
                Turn::Serve(value) => return Ok(value),
                Turn::Wait => RefreshDone { cache: &**self }.await,
                Turn::Refresh => {
                    let started = now();
                    let Some(previous) = self.current() else {
                        // Nothing to serve yet: this caller computes, the others wait.
                        return self.compute_as_leader(started, compute).await;
                    };
                    let leader = OwnedLeader(Arc::clone(self));
                    let refresh = compute();
                    spawner.spawn(Box::pin(async move {
                        if let Ok(value) = refresh.await {
                            leader.0.lock().value = Some((value, started));
                        }
                        drop(leader);
                    }));
                    return Ok(previous);
                }
            }
        }
    }

    /// Computes and stores the value with the time the computation started, as the one
    /// refreshing caller; the refresh ends on every exit, also when the caller is
    /// cancelled mid-way.
    async fn compute_as_leader<E, F, Fut>(&self, started: DateTime<Utc>, compute: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let _leader = Leader { cache: self };
        let value = compute().await?;
        self.lock().value = Some((value.clone(), started));
        Ok(value)
    }

    /// The value held, fresh or not.
    fn current(&self) -> Option<T> {
        self.lock().value.as_ref().map(|(value, _)| value.clone())
    }

    fn turn(&self, now: DateTime<Utc>) -> Turn<T> {
        let mut state = self.lock();
        match (&state.value, state.refreshing) {
            (Some((value, at)), _) if now - *at < self.ttl => Turn::Serve(value.clone()),
            (Some((value, _)), true) => Turn::Serve(value.clone()),
            (None, true) => Turn::Wait,
            (_, false) => {
                state.refreshing = true;
                Turn::Refresh
            }
        }
    }
}

impl<T> RefreshingCache<T> {
    /// Lets the next caller refresh and wakes the waiters.
    fn end_refresh(&self) {
        let waiters = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.refreshing = false;
            std::mem::take(&mut state.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

/// Ends a refresh when dropped, also when the caller is cancelled mid-way.
struct Leader<'a, T> {
    cache: &'a RefreshingCache<T>,
}

impl<T> Drop for Leader<'_, T> {
    fn drop(&mut self) {
        self.cache.end_refresh();
    }
}

/// [`Leader`] for a refresh running in a task of its own.
struct OwnedLeader<T>(Arc<RefreshingCache<T>>);

impl<T> Drop for OwnedLeader<T> {
    fn drop(&mut self) {
        self.0.end_refresh();
    }
}

/// Resolves once no refresh is under way.
struct RefreshDone<'a, T> {
    cache: &'a RefreshingCache<T>,
}

impl<T> Future for RefreshDone<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self
            .cache
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if state.refreshing {
            if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                state.waiters.push(cx.waker().clone());
            }
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

#[cfg(test)]
mod tests;
