//! The change history: one customer's timeline and the feed of every change.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use super::Service;
use super::responses::{CursorExpired, CustomerNotFound, Invalid, ServerErrors};
use crate::ApiSettings;
use crate::dto::{FeedParams, FeedResponse, TimelineParams, TimelineResponse};
use crate::error::ApiError;
use crate::extract::QueryParams;

/// The customer's changes, newest first, with who made each and what it changed; still
/// there after a hard delete. Not in the original service.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}/events",
    tag = "history",
    params(
        ("customer_id" = String, Path, description = "`CUST_` and 8 hex digits", example = "CUST_A1B2C3D4"),
        TimelineParams,
    ),
    responses(
        (status = 200, description = "A page of the customer's events", body = TimelineResponse),
        CustomerNotFound,
        Invalid,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn customer_events(
    service: Service,
    customer_id: web::Path<String>,
    params: QueryParams<TimelineParams>,
) -> Result<HttpResponse, ApiError> {
    let query = params.into_input(TimelineParams::into_query)?;
    let timeline = service
        .timeline(&customer_id, query)
        .await
        .map_err(ApiError::in_path)?;
    Ok(HttpResponse::Ok().json(TimelineResponse::new(customer_id.into_inner(), timeline)))
}

/// Every change of every customer, in the order of the feed: a consumer that passes the
/// last `next_cursor` it received as `after` gets every event exactly once, whatever the
/// order in which concurrent writes committed. With `wait`, an empty answer waits up to
/// that many seconds for an event (at most `[events] max_wait_secs`, 30 unless the service
/// is set lower). Not in the original service.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "history",
    params(FeedParams),
    responses(
        (status = 200, description = "A page of the feed", body = FeedResponse),
        CursorExpired,
        Invalid,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn events_feed(
    service: Service,
    params: QueryParams<FeedParams>,
    settings: web::Data<ApiSettings>,
) -> Result<HttpResponse, ApiError> {
    let mut query = params.into_input(FeedParams::into_query)?;
    query.wait = query
        .wait
        .min(Duration::from_secs(settings.feed_max_wait_secs));
    let page = service.feed(query).await.map_err(ApiError::in_query)?;
    Ok(HttpResponse::Ok().json(FeedResponse::from(page)))
}
