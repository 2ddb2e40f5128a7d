//! Security headers on every response, errors and 404s included: no sniffing, no framing, no
//! referrer, a content security policy, and no caching of API answers.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// API answers are JSON and never rendered: nothing may load, nothing may frame them.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                           form-action 'none'";

/// Swagger UI loads its scripts, styles and the document from this origin only; it sets
/// inline styles and draws icons from `data:` URLs, which it needs to render.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
                            style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                            connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; \
                            base-uri 'none'; form-action 'self'";

const FIXED: [(HeaderName, HeaderValue); 3] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
];

/// Whether a path is Swagger UI's, which gets the relaxed policy and may be cached.
fn is_docs(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

/// Adds the headers to whatever the inner services answer. Handlers' errors arrive here as
/// responses already, and the security middleware answers its refusals as responses too.
///
/// # Errors
/// Passes on errors of the inner services untouched.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Read before the call: the router needs the request to itself (no clone may be kept).
    let docs = is_docs(req.path());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    for (name, value) in FIXED {
        headers.insert(name, value);
    }
    let csp = if docs { DOCS_CSP } else { API_CSP };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    if !docs && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}
