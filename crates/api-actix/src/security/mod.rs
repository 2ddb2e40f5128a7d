//! Access control and hardening of the HTTP adapter: JWT bearer authentication with roles,
//! per-client rate limits (per process, or shared by every instance through the domain's
//! `SharedAdmission` port), security headers and CORS.
//!
//! The binary builds one [`Security`] (outside `HttpServer::new`, so every worker shares the
//! rate limiter), registers it as app data and wraps the app, outermost last:
//!
//! ```no_run
//! # use actix_web::{App, middleware::from_fn, web};
//! # use api_actix::security::{self, Security};
//! let data = web::Data::new(Security::default());
//! let _app = App::new()
//!     .app_data(data.clone())
//!     .wrap(from_fn(security::access_control))
//!     .wrap(from_fn(security::cors))
//!     .wrap(from_fn(security::security_headers));
//! ```
//!
//! CORS sits outside access control so preflights need no token and refusals carry CORS
//! headers; the headers middleware sits outside both so every answer gets them.

mod access;
mod cors;
mod headers;
mod jwt;
mod mint;
pub mod openapi;
mod rate_limit;
mod roles;
mod shared_limit;

pub use access::{access_control, client_ip};
pub use cors::{CorsPolicy, cors};
pub use headers::{API_CSP, DOCS_CSP, security_headers};
pub use jwt::{AuthError, Authenticator, Principal, TokenError, VerificationKey};
pub use mint::TokenIssuer;
pub use rate_limit::{Clock, RateLimiter, SystemClock, retry_after_secs};
pub use roles::{Access, ROUTE_ACCESS, Role, UnknownRole, access_for};
pub use shared_limit::{SharedLimitCounts, SharedRateLimiter};

use std::time::Duration;

/// Everything the security middleware needs; the default lets every request through.
#[derive(Debug, Default)]
pub struct Security {
    authenticator: Option<Authenticator>,
    rate_limiter: Option<ClientLimiter>,
    trust_forwarded_for: bool,
    cors: CorsPolicy,
}

impl Security {
    /// Requires tokens checked by `authenticator` on every route that needs a role.
    #[must_use]
    pub fn with_authenticator(mut self, authenticator: Authenticator) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// Limits every client with `limiter`; with `trust_forwarded_for`, the client of a
    /// request without a valid token is the last `X-Forwarded-For` address, not the peer.
    #[must_use]
    pub fn with_rate_limiter(mut self, limiter: RateLimiter, trust_forwarded_for: bool) -> Self {
        self.rate_limiter = Some(ClientLimiter::Local(limiter));
        self.trust_forwarded_for = trust_forwarded_for;
        self
    }

    /// As [`Security::with_rate_limiter`], with the limit shared by every instance (its own
    /// limiter deciding while the shared one is out).
    #[must_use]
    pub fn with_shared_rate_limiter(
        mut self,
        limiter: SharedRateLimiter,
        trust_forwarded_for: bool,
    ) -> Self {
        self.rate_limiter = Some(ClientLimiter::Shared(limiter));
        self.trust_forwarded_for = trust_forwarded_for;
        self
    }

    /// Answers cross-origin requests from these origins.
    #[must_use]
    pub fn with_cors(mut self, cors: CorsPolicy) -> Self {
        self.cors = cors;
        self
    }

    /// The token checker, when authentication is on.
    pub fn authenticator(&self) -> Option<&Authenticator> {
        self.authenticator.as_ref()
    }

    /// Whether requests are rate limited.
    pub fn rate_limited(&self) -> bool {
        self.rate_limiter.is_some()
    }

    /// Lets one request of client `key` through the rate limit (every request when limits
    /// are off).
    ///
    /// # Errors
    /// The client is over its limit: how long until it may send again.
    pub async fn check_rate(&self, key: &str) -> Result<(), Duration> {
        match &self.rate_limiter {
            None => Ok(()),
            Some(ClientLimiter::Local(limiter)) => limiter.check(key),
            Some(ClientLimiter::Shared(limiter)) => limiter.check(key).await,
        }
    }

    /// What the shared rate limit has done, when it is configured.
    pub fn shared_limit_counts(&self) -> Option<SharedLimitCounts> {
        match &self.rate_limiter {
            Some(ClientLimiter::Shared(limiter)) => Some(limiter.counts()),
            _ => None,
        }
    }

    /// Whether `X-Forwarded-For` names the client.
    pub fn trust_forwarded_for(&self) -> bool {
        self.trust_forwarded_for
    }

    /// The CORS policy.
    pub fn cors_policy(&self) -> &CorsPolicy {
        &self.cors
    }
}

/// This process's limiter, or the shared one over it.
#[derive(Debug)]
enum ClientLimiter {
    Local(RateLimiter),
    Shared(SharedRateLimiter),
}
