//! The per-client limit shared by every instance (the domain's [`SharedAdmission`] port),
//! with this process's own [`RateLimiter`] as the fallback.
//!
//! The shared limit decides while it answers within `timeout` (a hard bound: no request
//! waits longer for it). When it fails or is late, the request is decided by the local
//! limiter at once, the outage is logged once (a warning when it starts, a line when it
//! ends) and counted, and later requests go straight to the local limiter: only one
//! request per `retry_every` tries the shared limit again, so an outage costs neither a
//! wait per request nor a busy loop of probes. The first answer ends the outage.
//!
//! While the shared limit decides, the local limiter is not consulted (and so not
//! charged): a client starts an outage with a full local bucket on each instance.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::rt::time::timeout;
use domain::{Admission, SharedAdmission};

use super::rate_limit::{Clock, RateLimiter, SystemClock};

/// The longest wait announced, as the local limiter's.
const MAX_WAIT: Duration = Duration::from_secs(86_400);

/// What the shared limit has done since the start, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SharedLimitCounts {
    /// Requests decided by the local limiter because the shared one was out.
    pub fallbacks: u64,
    /// Outages: times the shared limit went from answering to failing.
    pub outages: u64,
    /// Whether the shared limit decides now.
    pub up: bool,
}

/// Per-client limits shared through [`SharedAdmission`], local while it is out.
pub struct SharedRateLimiter {
    shared: Arc<dyn SharedAdmission>,
    local: RateLimiter,
    timeout: Duration,
    retry_every: Duration,
    clock: Arc<dyn Clock>,
    created: Instant,
    /// 0 while the shared limit answers; during an outage, when (nanoseconds after
    /// `created`, plus one) one request may try it again.
    retry_at: AtomicU64,
    fallbacks: AtomicU64,
    outages: AtomicU64,
}

impl fmt::Debug for SharedRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedRateLimiter")
            .field("timeout", &self.timeout)
            .field("retry_every", &self.retry_every)
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

impl SharedRateLimiter {
    /// `shared` decides within `timeout`; during an outage it is tried again at most once
    /// per `retry_every`, and `local` decides meanwhile.
    pub fn new(
        shared: Arc<dyn SharedAdmission>,
        local: RateLimiter,
        timeout: Duration,
        retry_every: Duration,
    ) -> Self {
        Self::with_clock(shared, local, timeout, retry_every, Arc::new(SystemClock))
    }

    /// As [`SharedRateLimiter::new`], reading time (for the retries) from `clock`.
    pub fn with_clock(
        shared: Arc<dyn SharedAdmission>,
        local: RateLimiter,
        timeout: Duration,
        retry_every: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            shared,
            local,
            timeout,
            retry_every,
            created: clock.now(),
            clock,
            retry_at: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            outages: AtomicU64::new(0),
        }
    }

    /// Lets one request of `key` through.
    ///
    /// # Errors
    /// The client is over its limit: how long until it may send again.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        if self.shared_may_decide() {
            let outages = self.outages.load(Ordering::Relaxed);
            match timeout(self.timeout, self.shared.admit(key)).await {
                Ok(Ok(admission)) => {
                    self.answered(outages);
                    return match admission {
                        Admission::Admitted => Ok(()),
                        Admission::Refused { retry_after } => Err(retry_after.min(MAX_WAIT)),
                    };
                }
                Ok(Err(unavailable)) => self.failed(&unavailable.to_string()),
                Err(_) => self.failed(&format!("no answer within {:?}", self.timeout)),
            }
        }
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        self.local.check(key)
    }

    /// The counters for the metrics.
    pub fn counts(&self) -> SharedLimitCounts {
        SharedLimitCounts {
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
            outages: self.outages.load(Ordering::Relaxed),
            up: self.retry_at.load(Ordering::Relaxed) == 0,
        }
    }

    /// Now, in nanoseconds after `created`, plus one: never 0 (which means "up").
    fn now(&self) -> u64 {
        let since = self.clock.now().saturating_duration_since(self.created);
        u64::try_from(since.as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    fn later(&self, now: u64) -> u64 {
        let every = u64::try_from(self.retry_every.as_nanos()).unwrap_or(u64::MAX);
        now.saturating_add(every)
    }

    /// Up, or out with a retry due: then this request, and no other until the next one is
    /// due, tries the shared limit.
    fn shared_may_decide(&self) -> bool {
        let retry_at = self.retry_at.load(Ordering::Relaxed);
        if retry_at == 0 {
            return true;
        }
        let now = self.now();
        now >= retry_at
            && self
                .retry_at
                .compare_exchange(
                    retry_at,
                    self.later(now),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }

    /// An answer to a call made when `outages` outages had begun: it ends the current one
    /// only if the call began during it (a retry), not if it was in flight when it began
    /// (which would end each outage as soon as it starts, and warn again and again).
    fn answered(&self, outages: u64) {
        if outages == self.outages.load(Ordering::Relaxed)
            && self.retry_at.swap(0, Ordering::Relaxed) != 0
        {
            tracing::info!("the shared rate limit answers again; it decides from now on");
        }
    }

    fn failed(&self, reason: &str) {
        let now = self.now();
        // Only the request that starts the outage logs it: the others see it started.
        if self
            .retry_at
            .compare_exchange(0, self.later(now), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.outages.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                reason,
                retry_every = ?self.retry_every,
                "the shared rate limit is out; each instance limits on its own until it answers"
            );
        }
    }
}

#[cfg(test)]
mod tests;
