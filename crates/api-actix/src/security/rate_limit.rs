//! A rate limit per client: `burst` requests at once, then `per_second` on average. The
//! decision is `governor`'s GCRA (the same answers as a bucket of `burst` tokens refilled at
//! `per_second`), over a sharded map of per-client states, so concurrent requests do not
//! queue on one lock. One limiter is shared by every worker (the binary builds it once), so
//! the limit holds per process, not per worker. Across processes it is shared through the
//! domain's `SharedAdmission` port, with this limiter deciding while that is out
//! ([`super::SharedRateLimiter`]).
//!
//! governor directly rather than through `actix-governor`'s middleware: the key is the
//! subject of the token that access control has just verified (or the address without one),
//! and the check sits between authentication and the role check, so that refused anonymous
//! requests are limited too. A middleware of its own would verify every token twice, or
//! limit only the requests that get past authentication.
//!
//! Memory stays bounded: a client idle long enough that its bucket is full again is the same
//! as no client, so such states are swept (governor's `retain_recent`) at most once per
//! refill period; past `capacity` clients, the one whose bucket is fullest is forgotten.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::Quota;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::{DashMapStateStore, ShrinkableKeyedStateStore};
use governor::state::{InMemoryState, NotKeyed, StateStore};

/// The longest wait the limiter announces (a rate of zero would mean forever).
const MAX_WAIT: Duration = Duration::from_secs(86_400);

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

/// Our clock as governor reads it.
#[derive(Debug, Clone)]
struct GovernorClock(Arc<dyn Clock>);

impl governor::clock::Clock for GovernorClock {
    type Instant = Instant;

    fn now(&self) -> Instant {
        self.0.now()
    }
}

/// The per-client states, shared by governor's limiter and the eviction below.
#[derive(Debug, Clone, Default)]
struct Clients(Arc<DashMapStateStore<String>>);

impl StateStore for Clients {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        self.0.measure_and_replace(key, f)
    }
}

impl ShrinkableKeyedStateStore<String> for Clients {
    fn retain_recent(&self, drop_below: Nanos) {
        self.0.retain_recent(drop_below);
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Clients {
    /// Forgets the client whose bucket is fullest: the earliest theoretical arrival time.
    fn forget_fullest(&self) {
        let fullest = self
            .0
            .iter()
            .min_by_key(|client| arrival(client.value()))
            .map(|client| client.key().clone());
        if let Some(key) = fullest {
            self.0.remove(&key);
        }
    }
}

/// A state's theoretical arrival time, read without changing it (the closure refuses).
fn arrival(state: &InMemoryState) -> Option<Nanos> {
    state
        .measure_and_replace(&NotKeyed::NonKey, Err::<((), Nanos), _>)
        .err()
        .flatten()
}

type Gcra = governor::RateLimiter<String, Clients, GovernorClock, NoOpMiddleware<Instant>>;

/// Per-client rate limits.
#[derive(Debug)]
pub struct RateLimiter {
    gcra: Gcra,
    clients: Clients,
    clock: Arc<dyn Clock>,
    capacity: usize,
    created: Instant,
    sweep_every: Duration,
    /// When the last sweep ran, in nanoseconds after `created`.
    last_sweep: AtomicU64,
}

impl RateLimiter {
    /// Clients tracked at most before the one with the fullest bucket is forgotten.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// `per_second` requests a second, `burst` at once (both at least a small positive amount).
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self::with_clock(per_second, burst, Arc::new(SystemClock))
    }

    /// As [`RateLimiter::new`], reading time from `clock`.
    pub fn with_clock(per_second: f64, burst: u32, clock: Arc<dyn Clock>) -> Self {
        // Guards against a zero rate here too: it would mean an infinite Retry-After.
        let per_second = if per_second.is_finite() && per_second > 0.0 {
            per_second
        } else {
            f64::MIN_POSITIVE
        };
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs_f64((1.0 / per_second).min(MAX_WAIT.as_secs_f64()))
            .max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .unwrap_or(Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        let clients = Clients::default();
        let full_refill = (period * burst.get()).min(MAX_WAIT);
        Self {
            gcra: governor::RateLimiter::new(quota, clients.clone(), GovernorClock(clock.clone())),
            clients,
            capacity: Self::DEFAULT_CAPACITY,
            created: clock.now(),
            clock,
            sweep_every: full_refill.max(Duration::from_secs(1)),
            last_sweep: AtomicU64::new(0),
        }
    }

    /// Tracks at most `capacity` clients (at least one).
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Lets one request of `key` through.
    ///
    /// # Errors
    /// The client is over its limit: how long until it may send again.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        // governor's keyed stores look up by `&K`, not a borrowed form of it.
        let key = key.to_owned();
        self.sweep_if_due();
        // Counting the clients visits every shard, so only a new client pays for it.
        if !self.clients.0.contains_key(&key) && self.clients.0.len() >= self.capacity {
            self.clients.forget_fullest();
        }
        self.gcra
            .check_key(&key)
            .map_err(|refused| refused.wait_time_from(self.clock.now()).min(MAX_WAIT))
    }

    /// Clients currently tracked.
    pub fn tracked_clients(&self) -> usize {
        self.gcra.len()
    }

    /// At most once per refill period, forgets the clients whose buckets are full again.
    fn sweep_if_due(&self) {
        let since_created = self.clock.now().saturating_duration_since(self.created);
        let now = u64::try_from(since_created.as_nanos()).unwrap_or(u64::MAX);
        let last = self.last_sweep.load(Ordering::Relaxed);
        let due = Duration::from_nanos(now.saturating_sub(last)) >= self.sweep_every;
        // One request sweeps; the others that saw it due at the same time go on.
        if due
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.gcra.retain_recent();
        }
    }
}

/// The `Retry-After` value for a wait: whole seconds, rounded up, at least one.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}
