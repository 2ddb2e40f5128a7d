//! Operations on many customers: search and bulk update.

use actix_web::{HttpMessage, HttpRequest, web};
use domain::{ValidationContext, ValidationErrors};

use super::responses::{BodyErrors, KeyedWrite, ServerErrors};
use super::{OnlyReads, Service};
use crate::dto::{BulkUpdateRequest, BulkUpdateResponse, CustomerListResponse, SearchRequest};
use crate::error::{ApiError, Source};
use crate::extract::JsonBody;

/// Customers matching every given filter, sorted and paged (`limit` at most 100).
#[utoipa::path(
    post,
    path = "/api/v1/customers/search",
    tag = "search",
    request_body = SearchRequest,
    responses(
        (status = 200, description = "A page of matches", body = CustomerListResponse),
        BodyErrors,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn search_customers(
    req: HttpRequest,
    service: Service,
    body: JsonBody<SearchRequest>,
) -> Result<CustomerListResponse, ApiError> {
    req.extensions_mut().insert(OnlyReads);
    let (criteria, raw) = body.into_input(SearchRequest::into_criteria, |_| {
        ValidationErrors::default()
    })?;
    let requested = criteria.page;
    let page = service.search(criteria).await.map_err(|e| {
        ApiError::from_service_at(e, Source::Body, &raw.into_value()).ordered_as::<SearchRequest>()
    })?;
    Ok(CustomerListResponse::new(
        page,
        requested.offset,
        requested.limit,
    ))
}

/// Applies the same changes to up to 1000 customers; unknown ids are reported, not fatal.
#[utoipa::path(
    post,
    path = "/api/v1/customers/bulk-update",
    tag = "customers",
    params(crate::headers::IdempotencyKeyHeader),
    request_body = BulkUpdateRequest,
    responses(
        (status = 200, description = "What was updated", body = BulkUpdateResponse),
        KeyedWrite,
        BodyErrors,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customers = tracing::field::Empty))]
pub async fn bulk_update_customers(
    service: Service,
    body: JsonBody<BulkUpdateRequest>,
) -> Result<web::Json<BulkUpdateResponse>, ApiError> {
    let (request, raw) = body.into_input(BulkUpdateRequest::into_bulk_update, |request| {
        request
            .validate_changes(&ValidationContext::now())
            .err()
            .unwrap_or_default()
    })?;
    tracing::Span::current().record("customers", request.customer_ids.len());
    let report = service.bulk_update(request).await.map_err(|e| {
        ApiError::from_service_at(e, Source::Body, &raw.into_value())
            .ordered_as::<BulkUpdateRequest>()
    })?;
    Ok(web::Json(report.into()))
}
