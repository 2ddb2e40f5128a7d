//! The Redis adapter of the domain's [`SharedAdmission`] port: the per-client rate limit
//! shared by every instance of the service.
//!
//! Each request is one `EVALSHA` of [`gcra.lua`](../src/gcra.lua) (loaded at start;
//! `redis`'s `Script` loads it again and retries when the server answers `NOSCRIPT`, after a
//! restart or a `SCRIPT FLUSH`) over the process's one multiplexed connection, a
//! `ConnectionManager`'s, which reconnects in the background after a failure. One, not one
//! per worker thread: that was tried and measured no faster, and after a Redis restart the
//! threads' connections came back at different moments, each failure starting a new outage.
//! Every call is bounded by the configured timeout; a failure or a late answer is
//! [`AdmissionUnavailable`], and the caller decides without the shared limit.
//!
//! Memory stays bounded in Redis: a client's key expires once its bucket is full again
//! ([`RateQuota::memory`]), when it is the same as a client never seen.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use domain::{Admission, AdmissionUnavailable, RateQuota, SharedAdmission};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Every key this adapter writes starts with this.
pub const KEY_PREFIX: &str = "customer-api:rate:";

/// The script, as Redis runs it.
const GCRA: &str = include_str!("gcra.lua");

/// How long one connection attempt may take: they run in the background, and a request waits
/// for one at most its call's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Reconnection attempts back off from this to [`RECONNECT_MAX_DELAY`].
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);
const RECONNECT_ATTEMPTS: usize = 6;

/// The URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRedisUrl(String);

/// Checks a `redis://`, `rediss://` or `redis+unix://` URL without connecting.
///
/// # Errors
/// When the URL is malformed or of another scheme.
pub fn check_url(url: &str) -> Result<(), InvalidRedisUrl> {
    redis::Client::open(url)
        .map(drop)
        .map_err(|e| InvalidRedisUrl(e.to_string()))
}

/// The shared limit in Redis.
#[derive(Clone)]
pub struct RedisAdmission {
    connection: ConnectionManager,
    script: redis::Script,
    interval_us: u64,
    tolerance_us: u64,
}

impl fmt::Debug for RedisAdmission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may carry a password.
        f.debug_struct("RedisAdmission")
            .field("interval_us", &self.interval_us)
            .field("tolerance_us", &self.tolerance_us)
            .finish_non_exhaustive()
    }
}

impl RedisAdmission {
    /// Limits every client to `quota` in the Redis at `url`, each call bounded by
    /// `timeout`. Returns at once: the connection is opened in the background (on the
    /// current tokio runtime), and calls fail until it is.
    ///
    /// # Errors
    /// When the URL is malformed.
    pub fn new(url: &str, quota: RateQuota, timeout: Duration) -> Result<Self, InvalidRedisUrl> {
        let client = redis::Client::open(url).map_err(|e| InvalidRedisUrl(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY)
            .set_number_of_retries(RECONNECT_ATTEMPTS);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| InvalidRedisUrl(e.to_string()))?;
        let admission = Self {
            connection,
            script: redis::Script::new(GCRA),
            interval_us: micros(quota.interval()),
            tolerance_us: micros(quota.tolerance()),
        };
        // Connects and loads the script now rather than in the first requests.
        let warm = admission.clone();
        tokio::spawn(async move {
            if let Err(error) = warm.script.load_async(&mut warm.connection.clone()).await {
                tracing::warn!(%error, "the shared rate limit's Redis does not answer yet");
            }
        });
        Ok(admission)
    }

    /// The SHA-1 the script is called by.
    pub fn script_hash(&self) -> &str {
        self.script.get_hash()
    }

    /// The key of `client`.
    pub fn key(client: &str) -> String {
        format!("{KEY_PREFIX}{client}")
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[async_trait]
impl SharedAdmission for RedisAdmission {
    async fn admit(&self, client: &str) -> Result<Admission, AdmissionUnavailable> {
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(Self::key(client));
        invocation.arg(self.interval_us).arg(self.tolerance_us);
        let (admitted, wait_us): (i64, i64) = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|e| AdmissionUnavailable(e.to_string()))?;
        Ok(if admitted == 1 {
            Admission::Admitted
        } else {
            Admission::Refused {
                retry_after: Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
            }
        })
    }
}
