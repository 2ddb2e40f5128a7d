//! Read-your-writes across replicas, at the HTTP edge: every answer to a write carries
//! `X-Consistency-Token` (the primary's WAL position after the commit), and a read runs in a
//! read scope with the token its client sent back, so the repository may serve it from a
//! replica that has replayed that far (`infra_postgres::reading`). Installed only when
//! `[database] replica_urls` names replicas; without them every read is the primary's.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use infra_postgres::{Pool, Replicas};

/// The header a write's answer carries and a read may send back.
pub const CONSISTENCY_TOKEN: HeaderName =
    HeaderName::from_static(api_actix::headers::CONSISTENCY_TOKEN);

/// How long a write's answer waits for the primary's position before it gives
/// [`PRIMARY_ONLY`] instead.
const TOKEN_WAIT: Duration = Duration::from_millis(200);

/// The last WAL position: no replica is ever past it, so a read with it goes to the primary.
pub const PRIMARY_ONLY: &str = "FFFFFFFF/FFFFFFFF";

/// Scopes reads with their client's token; stamps writes' answers with a token.
pub async fn consistency(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let token = req
            .headers()
            .get(&CONSISTENCY_TOKEN)
            .map(|value| value.to_str().unwrap_or("unreadable").to_owned());
        return infra_postgres::reading(token.as_deref(), next.call(req)).await;
    }
    let primary = req.app_data::<web::Data<Pool>>().cloned();
    let mut res = next.call(req).await?;
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
