//! A token bucket per client: each holds up to `burst` tokens, refills at `per_second`, and
//! every request takes one. One limiter is shared by every worker (the binary builds it once),
//! so the limit holds per process, not per worker.
//!
//! Memory stays bounded: a bucket idle long enough to be full again is the same as no bucket,
//! so such buckets are swept; past `capacity` clients the stalest bucket is dropped.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the limiter reads the time; tests inject a clock they move by hand.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The monotonic system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Debug)]
struct State {
    buckets: HashMap<String, Bucket>,
    last_sweep: Instant,
}

/// Per-client token buckets.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    capacity: usize,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl RateLimiter {
    /// Clients tracked at most before the stalest is forgotten.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// `per_second` tokens a second, `burst` at most (both at least a small positive amount).
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self::with_clock(per_second, burst, Arc::new(SystemClock))
    }

    /// As [`RateLimiter::new`], reading time from `clock`.
    pub fn with_clock(per_second: f64, burst: u32, clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        Self {
            // Guards against a zero rate here too: it would mean an infinite Retry-After.
            per_second: if per_second.is_finite() && per_second > 0.0 {
                per_second
            } else {
                f64::MIN_POSITIVE
            },
            burst: f64::from(burst.max(1)),
            capacity: Self::DEFAULT_CAPACITY,
            clock,
            state: Mutex::new(State {
                buckets: HashMap::new(),
                last_sweep: now,
            }),
        }
    }

    /// Tracks at most `capacity` clients (at least one).
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How long an idle bucket takes to fill up from empty.
    fn full_refill(&self) -> Duration {
        Duration::from_secs_f64((self.burst / self.per_second).min(86_400.0))
    }

    /// Takes one token from `key`'s bucket.
    ///
    /// # Errors
    /// The bucket is empty: how long until it holds a token again.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still plain numbers, so keep limiting rather than failing every request.
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.sweep(&mut state, now);
        if !state.buckets.contains_key(key) && state.buckets.len() >= self.capacity {
            evict_stalest(&mut state.buckets);
        }
        let bucket = state.buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                ((1.0 - bucket.tokens) / self.per_second).min(86_400.0),
            ))
        }
    }

    /// Clients currently tracked.
    pub fn tracked_clients(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .buckets
            .len()
    }

    /// At most once per refill period, forgets the buckets that are full again.
    fn sweep(&self, state: &mut State, now: Instant) {
        let period = self.full_refill().max(Duration::from_secs(1));
        if now.saturating_duration_since(state.last_sweep) < period {
            return;
        }
        state.last_sweep = now;
        let full = self.full_refill();
        state
            .buckets
            .retain(|_, b| now.saturating_duration_since(b.updated) < full);
    }
}

fn evict_stalest(buckets: &mut HashMap<String, Bucket>) {
    let stalest = buckets
        .iter()
        .min_by_key(|(_, b)| b.updated)
        .map(|(k, _)| k.clone());
    if let Some(key) = stalest {
        buckets.remove(&key);
    }
}

/// The `Retry-After` value for a wait: whole seconds, rounded up, at least one.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}
