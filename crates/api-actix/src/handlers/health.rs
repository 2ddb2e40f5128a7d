//! `/health`: whether the service can reach its database.

use actix_web::HttpResponse;

use super::Service;
use crate::dto::HealthResponse;

fn health_body(state: &str) -> HealthResponse {
    HealthResponse {
        status: state.to_owned(),
        database: state.to_owned(),
    }
}

/// 200 when the database answers, 503 otherwise.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "The database answers", body = HealthResponse,
            example = json!({"status": "ok", "database": "ok"})),
        (status = 503, description = "The database does not answer", body = HealthResponse,
            example = json!({"status": "unavailable", "database": "unavailable"})),
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn health(service: Service) -> HttpResponse {
    match service.health().await {
        Ok(()) => HttpResponse::Ok().json(health_body("ok")),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            HttpResponse::ServiceUnavailable().json(health_body("unavailable"))
        }
    }
}
