//! CORS for browsers on other origins, off unless origins are configured.
//!
//! Written here rather than taken from `actix-cors` (0.7), which cannot give two answers the
//! API and its tests pin: it accepts a preflight with 200, not 204, and refuses one with 400
//! and a plain-text body, not 403 `{"detail": "Origin not allowed"}`. It also refuses (400) a
//! preflight that asks for a header or method outside its lists, where this one answers with
//! the lists and lets the browser decide, and it adds `Vary` to every answer, with or without
//! `Origin`. Using it would take a second middleware that finds its errors by downcasting and
//! rewrites status and body, plus a `Cors` built per worker instead of the policy read from
//! [`Security`]: more code than the few headers it would write. Tokens travel in the
//! `Authorization` header, never in cookies, so credentials are never allowed.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use std::sync::LazyLock;

use super::Security;
use crate::error::ApiError;
use crate::headers;

#[expect(
    clippy::expect_used,
    reason = "the table holds header names only, which are valid values too (tested)"
)]
fn listed(names: String) -> HeaderValue {
    HeaderValue::from_str(&names).expect("header names are a valid header value")
}

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
/// The request headers of [`crate::headers`].
static ALLOW_HEADERS: LazyLock<HeaderValue> = LazyLock::new(|| listed(headers::sent_by_clients()));
/// The response headers of [`crate::headers`].
static EXPOSE_HEADERS: LazyLock<HeaderValue> = LazyLock::new(|| listed(headers::sent_by_the_api()));
/// How long a browser may reuse a preflight answer, in seconds.
const MAX_AGE: &str = "600";

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    origins: Vec<String>,
    any: bool,
}

impl CorsPolicy {
    /// Origins as `scheme://host[:port]`; `*` allows every origin; none turns CORS off.
    pub fn new<S: AsRef<str>>(origins: &[S]) -> Self {
        let origins: Vec<String> = origins
            .iter()
            .map(|o| o.as_ref().trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        Self {
            any: origins.iter().any(|o| o == "*"),
            origins,
        }
    }

    /// Whether any origin is configured.
    pub fn is_enabled(&self) -> bool {
        !self.origins.is_empty()
    }

    fn allows(&self, origin: &str) -> bool {
        self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    fn allow_origin(&self, origin: &HeaderValue) -> HeaderValue {
        if self.any {
            HeaderValue::from_static("*")
        } else {
            origin.clone()
        }
    }
}

/// Answers preflights and marks answers to allowed origins; without configured origins, or
/// without an `Origin` header, requests pass untouched.
///
/// # Errors
/// Passes on errors of the inner services.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let security = req.app_data::<web::Data<Security>>().cloned();
    let policy = security.as_ref().map(|s| s.cors_policy());
    let origin = req.headers().get(header::ORIGIN).cloned();
    let (Some(policy), Some(origin)) = (policy.filter(|p| p.is_enabled()), origin) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let allowed = origin.to_str().is_ok_and(|o| policy.allows(o));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let response = if allowed {
            HttpResponse::build(StatusCode::NO_CONTENT)
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    policy.allow_origin(&origin),
                ))
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS.clone()))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE))
                .insert_header((
                    header::VARY,
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                ))
                .finish()
        } else {
            ApiError::Forbidden("Origin not allowed").error_response()
        };
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            policy.allow_origin(&origin),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            EXPOSE_HEADERS.clone(),
        );
    }
    Ok(res.map_into_left_body())
}
