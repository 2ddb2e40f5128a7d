//! The probes: `/health`, whether the service can reach its database (the contract's), and
//! in the convention of Kubernetes' probes `/health/live`, whether the process answers at
//! all (no database), and `/health/ready`, whether it can serve (its database answers).
//! None waits for one of the pool's connections: the database is asked on a connection of
//! the probe's own, within a bound well under a second (see the PostgreSQL adapter's
//! `probe`), and no probe is authenticated or rate limited.

use actix_web::HttpResponse;

use super::Service;
use crate::dto::{HealthResponse, LiveResponse};

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

/// 200 when the database answers, 503 otherwise: `/health` under the name Kubernetes'
/// readiness probes use.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "The service can serve: its database answers",
            body = HealthResponse, example = json!({"status": "healthy", "database": "ok"})),
        (status = 503, description = "Its database does not answer", body = HealthResponse,
            example = json!({"status": "unhealthy", "database": "unavailable"})),
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ready(service: Service) -> HttpResponse {
    health(service).await
}

/// Always 200 while the process answers; the database is not asked, so a liveness probe
/// never restarts a service whose database is down.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "health",
    responses(
        (status = 200, description = "The process answers", body = LiveResponse,
            example = json!({"status": "alive"})),
    )
)]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(LiveResponse {
        status: "alive".to_owned(),
    })
}
