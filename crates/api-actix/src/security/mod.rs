//! Access control and hardening of the HTTP adapter: JWT bearer authentication with roles,
//! per-client rate limits, security headers and CORS.
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

pub use access::{access_control, client_ip};
pub use cors::{CorsPolicy, cors};
pub use headers::{API_CSP, DOCS_CSP, security_headers};
pub use jwt::{AuthError, Authenticator, Principal, TokenError, VerificationKey};
pub use mint::TokenIssuer;
pub use rate_limit::{Clock, RateLimiter, SystemClock, retry_after_secs};
pub use roles::{Access, ROUTE_ACCESS, Role, UnknownRole, access_for};

/// Everything the security middleware needs; the default lets every request through.
#[derive(Debug, Default)]
pub struct Security {
    authenticator: Option<Authenticator>,
    rate_limiter: Option<RateLimiter>,
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
        self.rate_limiter = Some(limiter);
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

    /// The rate limiter, when limits are on.
    pub fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.rate_limiter.as_ref()
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
