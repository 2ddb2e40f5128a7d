//! `/health`: whether the service can reach its database.

use actix_web::HttpResponse;

use super::Service;
use crate::dto::HealthResponse;

/// The original answered `{"status": "healthy"}`; `database` is ours.
fn health_body(healthy: bool) -> HealthResponse {
    let (status, database) = if healthy {
        ("healthy", "ok")
    } else {
        ("unhealthy", "unavailable")
    };
    HealthResponse {
        status: status.to_owned(),
        database: database.to_owned(),
    }
}

/// 200 when the database answers, 503 otherwise.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "The database answers", body = HealthResponse,
            example = json!({"status": "healthy", "database": "ok"})),
        (status = 503, description = "The database does not answer", body = HealthResponse,
            example = json!({"status": "unhealthy", "database": "unavailable"})),
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn health(service: Service) -> HttpResponse {
    match service.health().await {
        Ok(()) => HttpResponse::Ok().json(health_body(true)),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            HttpResponse::ServiceUnavailable().json(health_body(false))
        }
    }
}
