//! Customer statistics.

use actix_web::web;

use super::Service;
use super::responses::ServerErrors;
use crate::dto::StatisticsResponse;
use crate::error::ApiError;

/// Counts of customers overall, by status, by recency, by place and by gender.
#[utoipa::path(
    get,
    path = "/api/v1/customers/statistics/overview",
    tag = "analytics",
    responses(
        (status = 200, description = "The statistics", body = StatisticsResponse),
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn statistics(service: Service) -> Result<web::Json<StatisticsResponse>, ApiError> {
    let stats = service.statistics().await.map_err(ApiError::in_query)?;
    Ok(web::Json(stats.into()))
}
