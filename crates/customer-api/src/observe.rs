//! Request middleware: a request id on every response and on the request's log line, one
//! log line per request (route pattern, never the raw path, which may hold an email), and
//! metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use api_actix::ApiError;
use tracing::Instrument;

use crate::metrics::Metrics;

/// The header that carries the request id in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static(api_actix::headers::REQUEST_ID);

/// An inbound id is kept only when it is short, printable ASCII (it ends up in logs).
fn inbound_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| value.to_owned())
}

/// Logs each request once at its end (id, method, route pattern, status, latency; for a
/// 5xx also its cause), records its metrics and returns the request id.
///
/// The request id is a field of that line rather than of a span around the request: an
/// info-level span per request (created, entered and left on every poll) cost several
/// percent of the throughput. With `debug` logging a `request` span carries the id to the
/// lines logged inside the request too.
///
/// # Errors
/// Passes on errors of the inner service untouched.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = inbound_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // The change history records it with every write the request makes.
    req.extensions_mut()
        .insert(api_actix::RequestId(request_id.clone()));
    let method = req.method().clone();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::debug_span!("request", request_id = %request_id, method = %method);
    let started = Instant::now();
    let mut res = next.call(req).instrument(span).await?;
    let elapsed = started.elapsed();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let cause = res
        .response()
        .error()
        .and_then(|err| err.as_error::<ApiError>())
        .and_then(ApiError::server_cause);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(%request_id, %method, %route, status = status.as_u16(), latency_ms, error.cause = cause, "database unavailable");
    } else if status.is_server_error() {
        tracing::error!(%request_id, %method, %route, status = status.as_u16(), latency_ms, error.cause = cause, "request failed");
    } else {
        tracing::info!(%request_id, %method, %route, status = status.as_u16(), latency_ms, "request finished");
    }
    if let Some(metrics) = metrics {
        metrics.observe(&route, method.as_str(), status.as_u16(), elapsed);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test};

    use super::*;
    use crate::test_logs::Captured;

    async fn logs_of(uri: &str) -> (u16, String) {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(captured.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(
            App::new()
                .wrap(from_fn(observe))
                .route(
                    "/fails/{id}",
                    web::get().to(|| async {
                        Err::<HttpResponse, _>(ApiError::Internal("relation \"x\" is gone".into()))
                    }),
                )
                .route("/works", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let req = test::TestRequest::get()
            .uri(uri)
            .insert_header((REQUEST_ID, "req-42"))
            .to_request();
        let res = test::call_service(&app, req).await;
        let status = res.status().as_u16();
        let logs = captured.text();
        (status, logs)
    }

    #[actix_web::test]
    async fn a_request_is_logged_once_with_its_id_and_route_pattern_not_its_path() {
        let (status, logs) = logs_of("/works").await;
        assert_eq!(status, 200);
        assert_eq!(logs.lines().count(), 1, "{logs}");
        assert!(logs.contains(r#""request_id":"req-42""#), "{logs}");
        assert!(logs.contains(r#""route":"/works""#), "{logs}");
        assert!(logs.contains("request finished"), "{logs}");
    }

    #[actix_web::test]
    async fn a_server_error_is_logged_with_its_id_and_hidden_cause() {
        let (status, logs) = logs_of("/fails/jane@example.com").await;
        assert_eq!(status, 500);
        assert!(logs.contains(r#""level":"ERROR""#), "{logs}");
        assert!(logs.contains(r#""request_id":"req-42""#), "{logs}");
        assert!(logs.contains("relation"), "{logs}");
        assert!(logs.contains(r#""route":"/fails/{id}""#), "{logs}");
        assert!(!logs.contains("jane@example.com"), "{logs}");
    }
}
