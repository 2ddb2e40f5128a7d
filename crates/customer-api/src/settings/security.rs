//! The `[auth]`, `[rate_limit]` and `[cors]` sections: parsed, checked at load (so a bad key
//! stops the start with a message naming the setting), and turned into the HTTP adapter's
//! [`Security`].

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use api_actix::security::{
    Authenticator, CorsPolicy, RateLimiter, Security, SharedRateLimiter, TokenIssuer,
    VerificationKey,
};
use serde::Deserialize;

/// Shorter HS256 secrets are refused: HMAC-SHA256 wants a key as long as its output.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// A setting that must never be printed; `Debug` shows only whether it is set.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether a value is configured.
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() {
            "[redacted]"
        } else {
            "[unset]"
        })
    }
}

/// `[auth]`: JWT bearer authentication. Empty strings mean "not configured".
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub enabled: bool,
    pub hs256_secret: Secret,
    pub rs256_public_key_pem: String,
    pub rs256_public_key_path: String,
    pub audience: String,
    pub issuer: String,
    /// Lifetime of tokens minted by `customer-api token`.
    pub token_ttl_secs: u64,
}

/// `[rate_limit]`: a token bucket per client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub per_second: f64,
    pub burst: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// The Redis every instance shares the limit through; empty: each instance limits alone.
    pub redis_url: Secret,
    /// The longest a request waits for Redis before this instance decides alone.
    pub redis_timeout_ms: u64,
    /// During an outage, how often one request tries Redis again.
    pub redis_retry_ms: u64,
}

/// Bounds of `redis_timeout_ms`: a request must never wait long for the shared limit.
const REDIS_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1..=1000;
/// The shortest `redis_retry_ms`: an outage must not turn into a stream of probes.
const MIN_REDIS_RETRY_MS: u64 = 10;

/// `[cors]`: origins that may call from a browser; none turns CORS off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    pub allowed_origins: Vec<String>,
}

impl AuthSettings {
    fn issuer(&self) -> Option<&str> {
        Some(self.issuer.trim()).filter(|i| !i.is_empty())
    }

    fn keys_configured(&self) -> usize {
        [
            self.hs256_secret.is_set(),
            !self.rs256_public_key_pem.trim().is_empty(),
            !self.rs256_public_key_path.trim().is_empty(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count()
    }

    /// Checks the section; when enabled, also that the key can be used.
    ///
    /// # Errors
    /// The message names the setting and its environment variable.
    pub fn validate(&self) -> anyhow::Result<()> {
        let secret_len = self.hs256_secret.expose().len();
        anyhow::ensure!(
            !self.hs256_secret.is_set() || secret_len >= MIN_HS256_SECRET_BYTES,
            "auth.hs256_secret must be at least {MIN_HS256_SECRET_BYTES} bytes (got {secret_len}); \
             generate one with `openssl rand -hex 32`"
        );
        anyhow::ensure!(
            self.keys_configured() <= 1,
            "configure only one of auth.hs256_secret, auth.rs256_public_key_pem and \
             auth.rs256_public_key_path"
        );
        anyhow::ensure!(
            self.token_ttl_secs > 0,
            "auth.token_ttl_secs must be positive"
        );
        if self.enabled {
            anyhow::ensure!(
                self.keys_configured() == 1,
                "auth.enabled is true but no key is configured: set auth.hs256_secret \
                 (APP__AUTH__HS256_SECRET, at least {MIN_HS256_SECRET_BYTES} bytes) or an RS256 \
                 public key (APP__AUTH__RS256_PUBLIC_KEY_PEM or APP__AUTH__RS256_PUBLIC_KEY_PATH)"
            );
            anyhow::ensure!(
                !self.audience.trim().is_empty(),
                "auth.audience must not be empty when auth.enabled is true"
            );
            self.authenticator()?;
        }
        Ok(())
    }

    /// The token checker, or `None` when authentication is off.
    ///
    /// # Errors
    /// When the public key file cannot be read or holds no usable key.
    pub fn authenticator(&self) -> anyhow::Result<Option<Authenticator>> {
        if !self.enabled {
            return Ok(None);
        }
        let from_file;
        let key = if self.hs256_secret.is_set() {
            VerificationKey::Hs256Secret(self.hs256_secret.expose().as_bytes())
        } else if !self.rs256_public_key_path.trim().is_empty() {
            let path = self.rs256_public_key_path.trim();
            from_file = std::fs::read(path)
                .with_context(|| format!("reading auth.rs256_public_key_path {path:?}"))?;
            VerificationKey::Rs256PublicPem(&from_file)
        } else {
            VerificationKey::Rs256PublicPem(self.rs256_public_key_pem.as_bytes())
        };
        let authenticator = Authenticator::new(key, self.audience.trim(), self.issuer())
            .context("auth: the RS256 public key")?;
        Ok(Some(authenticator))
    }

    /// An issuer of HS256 tokens with the configured secret (RS256 private keys stay with
    /// whoever issues those tokens, never with this service).
    ///
    /// # Errors
    /// When no HS256 secret is configured.
    pub fn token_issuer(&self) -> anyhow::Result<TokenIssuer> {
        anyhow::ensure!(
            self.hs256_secret.is_set(),
            "minting needs the HS256 secret: set auth.hs256_secret (APP__AUTH__HS256_SECRET); \
             with an RS256 public key, tokens come from the identity provider holding the \
             private key"
        );
        Ok(TokenIssuer::hs256(
            self.hs256_secret.expose().as_bytes(),
            self.audience.trim(),
            self.issuer(),
        ))
    }

    /// The configured lifetime of minted tokens.
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl_secs)
    }
}

impl RateLimitSettings {
    /// # Errors
    /// When enabled with a rate or burst that cannot work.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.enabled {
            anyhow::ensure!(
                self.per_second.is_finite() && self.per_second > 0.0,
                "rate_limit.per_second must be a positive number (got {})",
                self.per_second
            );
            anyhow::ensure!(self.burst >= 1, "rate_limit.burst must be at least 1");
        }
        if self.redis_url.is_set() {
            infra_redis::check_url(self.redis_url.expose()).map_err(|e| {
                anyhow::anyhow!(
                    "rate_limit.redis_url (APP__RATE_LIMIT__REDIS_URL) is not a usable Redis \
                     URL such as redis://127.0.0.1:6379/0: {e}"
                )
            })?;
        }
        anyhow::ensure!(
            REDIS_TIMEOUT_MS.contains(&self.redis_timeout_ms),
            "rate_limit.redis_timeout_ms must be between {} and {} (got {})",
            REDIS_TIMEOUT_MS.start(),
            REDIS_TIMEOUT_MS.end(),
            self.redis_timeout_ms
        );
        anyhow::ensure!(
            self.redis_retry_ms >= MIN_REDIS_RETRY_MS,
            "rate_limit.redis_retry_ms must be at least {MIN_REDIS_RETRY_MS} (got {})",
            self.redis_retry_ms
        );
        Ok(())
    }

    /// The limiter of the HTTP adapter: this process's own, under the one shared through
    /// Redis when `redis_url` is set. Needs a tokio runtime (Redis is connected on it).
    ///
    /// # Errors
    /// When the quota or the Redis URL cannot be used.
    fn apply(&self, security: Security) -> anyhow::Result<Security> {
        let local = RateLimiter::new(self.per_second, self.burst);
        if !self.redis_url.is_set() {
            return Ok(security.with_rate_limiter(local, self.trust_forwarded_for));
        }
        let quota = domain::RateQuota::new(self.per_second, self.burst)
            .context("rate_limit.per_second and rate_limit.burst")?;
        let timeout = Duration::from_millis(self.redis_timeout_ms);
        let redis = infra_redis::RedisAdmission::new(self.redis_url.expose(), quota, timeout)
            .context("rate_limit.redis_url")?;
        let shared = SharedRateLimiter::new(
            std::sync::Arc::new(redis),
            local,
            timeout,
            Duration::from_millis(self.redis_retry_ms),
        );
        Ok(security.with_shared_rate_limiter(shared, self.trust_forwarded_for))
    }
}

impl CorsSettings {
    /// # Errors
    /// When an origin is not `*` or `http(s)://host[:port]`.
    pub fn validate(&self) -> anyhow::Result<()> {
        for origin in &self.allowed_origins {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            anyhow::ensure!(
                origin == "*" || rest.is_some_and(|r| !r.is_empty() && !r.contains('/')),
                "cors.allowed_origins: {origin:?} is not `*` or scheme://host[:port] \
                 (no path, no trailing slash)"
            );
        }
        Ok(())
    }
}

/// The HTTP adapter's access control from the three sections.
///
/// # Errors
/// When the authentication key cannot be used.
pub fn security(
    auth: &AuthSettings,
    rate_limit: &RateLimitSettings,
    cors: &CorsSettings,
) -> anyhow::Result<Security> {
    let mut security = Security::default().with_cors(CorsPolicy::new(&cors.allowed_origins));
    if let Some(authenticator) = auth.authenticator()? {
        security = security.with_authenticator(authenticator);
    }
    if rate_limit.enabled {
        security = rate_limit.apply(security)?;
    }
    Ok(security)
}

#[cfg(test)]
mod tests;
