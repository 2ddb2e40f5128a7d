//! The port of a rate limit shared by every instance of the service: one client's requests
//! count against one budget whichever instance serves them.
//!
//! The limit is a GCRA (generic cell rate algorithm), the same as the HTTP adapter's own
//! per-process limiter: `burst` requests at once, then `per_second` on average. A request
//! at time `t` conforms when the client's theoretical arrival time `tat` (when its bucket
//! would be full again, never before `t`) is at most [`RateQuota::tolerance`] ahead of
//! `t`; it then moves `tat` on by one [`RateQuota::interval`]. A refused request may be
//! sent again after `tat - tolerance - t`.

use std::time::Duration;

use async_trait::async_trait;

/// The longest emission interval: one request a day (a rate of zero would mean forever).
const MAX_INTERVAL: Duration = Duration::from_secs(86_400);

/// A rate limit: `burst` requests at once, then `per_second` on average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateQuota {
    per_second: f64,
    burst: u32,
}

/// Why a quota was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuotaError {
    #[error("the rate must be a positive number of requests a second (got {0})")]
    Rate(f64),
    #[error("the burst must be at least one request")]
    Burst,
}

impl RateQuota {
    /// # Errors
    /// When the rate is not a positive finite number, or the burst is zero.
    pub fn new(per_second: f64, burst: u32) -> Result<Self, QuotaError> {
        if !(per_second.is_finite() && per_second > 0.0) {
            return Err(QuotaError::Rate(per_second));
        }
        if burst == 0 {
            return Err(QuotaError::Burst);
        }
        Ok(Self { per_second, burst })
    }

    /// Requests a second on average.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// Requests at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The time one request uses up: `1 / per_second`, at least a microsecond (the shared
    /// limit counts in microseconds) and at most a day.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64((1.0 / self.per_second).min(MAX_INTERVAL.as_secs_f64()))
            .max(Duration::from_micros(1))
    }

    /// How far ahead of now a client's theoretical arrival time may be for a request to
    /// conform: `burst - 1` intervals, so that `burst` requests pass at once.
    pub fn tolerance(&self) -> Duration {
        self.interval() * (self.burst - 1)
    }

    /// The longest a client's state matters: after `burst` intervals without a request its
    /// bucket is full again, the same as a client never seen (so the state may be forgotten).
    pub fn memory(&self) -> Duration {
        self.interval() * self.burst
    }
}

/// The shared limit's decision on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The request conforms and has been counted.
    Admitted,
    /// Over the limit: nothing was counted; the client may send again after this wait.
    Refused { retry_after: Duration },
}

/// The shared limit could not decide (the store is unreachable, slow or answered nonsense).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the shared rate limit is unavailable: {0}")]
pub struct AdmissionUnavailable(pub String);

/// A per-client limit shared by every instance. The implementation knows its
/// [`RateQuota`]; `client` is an opaque key (a token's subject, an address).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SharedAdmission: Send + Sync + 'static {
    /// Counts one request of `client` if it conforms.
    ///
    /// # Errors
    /// When the shared state cannot be read or written; the caller decides without it.
    async fn admit(&self, client: &str) -> Result<Admission, AdmissionUnavailable>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_of_ten_a_second_with_a_burst_of_five_tolerates_four_intervals() {
        let quota = RateQuota::new(10.0, 5).unwrap();
        assert_eq!(quota.interval(), Duration::from_millis(100));
        assert_eq!(quota.tolerance(), Duration::from_millis(400));
        assert_eq!(quota.memory(), Duration::from_millis(500));
        assert_eq!((quota.per_second(), quota.burst()), (10.0, 5));
    }

    #[test]
    fn a_burst_of_one_tolerates_nothing_ahead() {
        let quota = RateQuota::new(2.0, 1).unwrap();
        assert_eq!(quota.tolerance(), Duration::ZERO);
        assert_eq!(quota.memory(), Duration::from_millis(500));
    }

    #[test]
    fn a_zero_negative_or_infinite_rate_and_a_zero_burst_are_refused() {
        for rate in [0.0, -1.0, f64::INFINITY] {
            assert_eq!(RateQuota::new(rate, 1), Err(QuotaError::Rate(rate)));
        }
        assert!(matches!(
            RateQuota::new(f64::NAN, 1),
            Err(QuotaError::Rate(_))
        ));
        assert_eq!(RateQuota::new(1.0, 0), Err(QuotaError::Burst));
    }

    #[test]
    fn the_interval_stays_between_a_microsecond_and_a_day() {
        let fast = RateQuota::new(1e9, 1).unwrap();
        assert_eq!(fast.interval(), Duration::from_micros(1));
        let slow = RateQuota::new(1e-9, 1).unwrap();
        assert_eq!(slow.interval(), MAX_INTERVAL);
    }

    #[tokio::test]
    async fn the_port_can_be_mocked_for_the_adapters_that_combine_it() {
        let mut shared = MockSharedAdmission::new();
        shared
            .expect_admit()
            .withf(|client| client == "ip:10.0.0.1")
            .return_const(Ok(Admission::Refused {
                retry_after: Duration::from_millis(250),
            }));
        let answer = shared.admit("ip:10.0.0.1").await;
        assert_eq!(
            answer,
            Ok(Admission::Refused {
                retry_after: Duration::from_millis(250)
            })
        );
    }
}
