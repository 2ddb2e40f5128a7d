//! Read-your-writes across replicas, at the HTTP edge: every successful answer to a request
//! that may have written carries `X-Consistency-Token` (the primary's WAL position after
//! the commit). A request that sends it back has its reads served by a replica that has
//! replayed that far (the token reaches the use cases in the request's context, see
//! `api_actix::handlers::Service`, and `infra_postgres::RoutedReads` routes by it).
//! Installed only when `[database] replica_urls` names replicas; without them every read
//! is the primary's.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use infra_postgres::{Pool, Replicas};

/// The header a write's answer carries and a read may send back.
pub const CONSISTENCY_TOKEN: HeaderName =
    HeaderName::from_static(api_actix::headers::CONSISTENCY_TOKEN);

/// How long a write's answer waits for the primary's position before it gives
/// [`PRIMARY_ONLY`] instead.
const TOKEN_WAIT: Duration = Duration::from_millis(200);

/// The last WAL position: no replica is ever past it, so a read with it goes to the primary.
pub const PRIMARY_ONLY: &str = "FFFFFFFF/FFFFFFFF";

/// Stamps the answers of requests that may have written with a token.
pub async fn consistency(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.call(req).await;
    }
    let primary = req.app_data::<web::Data<Pool>>().cloned();
    let mut res = next.call(req).await?;
    // A failed request wrote nothing; a search wrote nothing either: neither pays the
    // primary's round trip.
    let wrote = res.status().is_success()
        && res
            .request()
            .extensions()
            .get::<api_actix::OnlyReads>()
            .is_none();
    let primary = primary.filter(|_| wrote);
    // After the handler returned, the write (if any) has committed: the primary's position
    // now is at or past its commit record. When it cannot be read in time, the token is the
    // last position there is, past which no replica ever gets: reads that send it back go
    // to the primary, so the client still reads its write.
    if let Some(primary) = primary {
        let position = tokio::time::timeout(TOKEN_WAIT, Replicas::primary_position(&primary)).await;
        let token = match position {
            Ok(Ok(position)) => position.to_string(),
            Ok(Err(error)) => {
                tracing::warn!(%error, "the primary's position is unknown: the token sends reads to it");
                PRIMARY_ONLY.to_owned()
            }
            Err(_) => {
                tracing::warn!("the primary's position took too long: the token sends reads to it");
                PRIMARY_ONLY.to_owned()
            }
        };
        if let Ok(value) = HeaderValue::from_str(&token) {
            res.headers_mut().insert(CONSISTENCY_TOKEN, value);
        }
    }
    Ok(res)
}
