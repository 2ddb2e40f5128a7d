//! Builders for the access-control tests: the router wrapped in the security middleware as
//! the binary wraps it, tokens, and a service whose database is always down, so a request
//! that gets past access control answers 503 and one that does not answers 401, 403 or 429.

#![expect(
    clippy::unwrap_used,
    reason = "fixtures outside #[test] functions: a failure here is a broken test"
)]

use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, test, web};
use api_actix::security::{
    self, Authenticator, CorsPolicy, Role, Security, TokenIssuer, VerificationKey,
};
use api_actix::{ApiSettings, configure};
use domain::{MockCustomerUseCases, ServiceError};
use serde_json::Value;

use crate::support::Reply;

/// The shared secret of the HS256 tests (32 bytes and more).
pub const SECRET: &str = "test-secret-of-at-least-thirty-two-bytes";
/// The audience the service expects.
pub const AUDIENCE: &str = "customer-api";
/// The RS256 test key pair (see `tests/fixtures/README.md`).
pub const RS256_PUBLIC: &str = include_str!("../fixtures/rs256_public.pem");
pub const RS256_PRIVATE: &str = include_str!("../fixtures/rs256_private.pem");
pub const RS256_OTHER_PRIVATE: &str = include_str!("../fixtures/rs256_other_private.pem");

/// Signs HS256 tokens with [`SECRET`] for [`AUDIENCE`].
pub fn issuer() -> TokenIssuer {
    TokenIssuer::hs256(SECRET.as_bytes(), AUDIENCE, None)
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `Bearer <token>` for `role`, valid for an hour.
pub fn bearer(role: Role) -> String {
    format!(
        "Bearer {}",
        issuer()
            .mint("alice", role, Duration::from_secs(3600))
            .unwrap()
    )
}

/// Authentication with [`SECRET`], no rate limit, no CORS.
pub fn hs256_security() -> Security {
    Security::default().with_authenticator(
        Authenticator::new(
            VerificationKey::Hs256Secret(SECRET.as_bytes()),
            AUDIENCE,
            None,
        )
        .unwrap(),
    )
}

/// Like [`hs256_security`] with CORS for these origins.
pub fn with_cors(security: Security, origins: &[&str]) -> Security {
    security.with_cors(CorsPolicy::new(origins))
}

/// Every use case fails as if PostgreSQL were down.
pub fn database_down() -> MockCustomerUseCases {
    let down = || ServiceError::Unavailable("down".into());
    let mut m = MockCustomerUseCases::new();
    m.expect_create().returning(move |_| Err(down()));
    m.expect_get().returning(move |_| Err(down()));
    m.expect_get_by_username().returning(move |_| Err(down()));
    m.expect_get_by_email().returning(move |_| Err(down()));
    m.expect_list().returning(move |_| Err(down()));
    m.expect_search().returning(move |_| Err(down()));
    m.expect_update().returning(move |_, _, _| Err(down()));
    m.expect_bulk_update().returning(move |_| Err(down()));
    m.expect_verify_email().returning(move |_, _| Err(down()));
    m.expect_verify_phone().returning(move |_, _| Err(down()));
    m.expect_record_login().returning(move |_, _| Err(down()));
    m.expect_statistics().returning(move || Err(down()));
    m.expect_by_tags().returning(move |_, _| Err(down()));
    m.expect_by_location().returning(move |_, _| Err(down()));
    m.expect_locations().returning(move |_, _| Err(down()));
    m.expect_deactivate().returning(move |_, _| Err(down()));
    m.expect_delete().returning(move |_, _| Err(down()));
    m.expect_health().returning(move || Err(down()));
    m.expect_timeline().returning(move |_, _| Err(down()));
    m.expect_feed().returning(move |_| Err(down()));
    m.expect_export().returning(move |_| Err(down()));
    m.expect_erase().returning(move |_, _| Err(down()));
    m
}

/// Sends `requests` in order to one app, wrapped as the binary wraps it (with `/metrics`).
pub async fn send_secured(security: Security, requests: Vec<test::TestRequest>) -> Vec<Reply> {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(security))
            .app_data(crate::support::registered(database_down()))
            .wrap(from_fn(security::access_control))
            .wrap(from_fn(security::cors))
            .wrap(from_fn(security::security_headers))
            .route("/metrics", web::get().to(HttpResponse::Ok))
            .configure(configure(ApiSettings::default())),
    )
    .await;
    let mut replies = Vec::with_capacity(requests.len());
    for req in requests {
        let response = test::call_service(&app, req.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        replies.push(Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        });
    }
    replies
}

/// Sends one request; see [`send_secured`].
pub async fn send_one(security: Security, request: test::TestRequest) -> Reply {
    send_secured(security, vec![request]).await.pop().unwrap()
}

impl Reply {
    /// A header as text, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}
