//! Privacy operations, beyond the original: everything held about a customer, exported
//! (GDPR articles 15 and 20), and its erasure for good (article 17). Both need the `admin`
//! role when authentication is on.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};
use domain::ValidationErrors;

use super::Service;
use super::responses::{BodyErrors, CustomerErased, CustomerNotFound, KeyedWrite, ServerErrors};
use crate::dto::{EraseRequest, ExportResponse, TombstoneResponse};
use crate::error::{ApiError, Source};
use crate::extract::parse_body;

/// Everything held about the customer, deactivated or not, as one JSON document to
/// download: the customer, every event of its history (oldest first) and the requests
/// that changed it. 410 once the customer was erased. Not in the original service.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}/export",
    tag = "privacy",
    params(("customer_id" = String, Path, example = "CUST_A1B2C3D4")),
    responses(
        (status = 200, description = "The customer's data, as an attachment", body = ExportResponse,
            headers(("Content-Disposition" = String,
                description = "`attachment; filename=\"customer-CUST_A1B2C3D4.json\"`"))),
        CustomerNotFound,
        CustomerErased,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn export_customer(
    service: Service,
    customer_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let export = service
        .export(&customer_id)
        .await
        .map_err(ApiError::in_path)?;
    let filename = format!("customer-{}.json", export.customer.customer_id);
    Ok(HttpResponse::Ok()
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(filename)],
        })
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .json(ExportResponse::from(export)))
}

/// Erases the customer's personal data for good, in one transaction: from the customer,
/// from its change history's values, from stored idempotent answers and from search; what
/// remains is the tombstone answered here, which keeps the statistics' totals (see
/// `TombstoneResponse` for what is kept). An `erased` event is recorded, without personal
/// data. Erasing again answers the same tombstone. Afterwards the customer answers 410 by
/// id and 404 by its old email or username (both free to be registered again), and no
/// search or list shows it. The body, with its `reason`, is optional (`null` too). An id deleted for
/// good answers 404, and its history and stored answers are erased all the same. Not in
/// the original service.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{customer_id}/erase",
    tag = "privacy",
    params(
        ("customer_id" = String, Path, example = "CUST_A1B2C3D4"),
        crate::headers::IdempotencyKeyHeader,
    ),
    request_body(content = Option<EraseRequest>, description = "Optional: why"),
    responses(
        (status = 200, description = "Erased (now or before): the tombstone", body = TombstoneResponse),
        CustomerNotFound,
        BodyErrors,
        KeyedWrite,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn erase_customer(
    service: Service,
    customer_id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // No body, or JSON `null`, is no reason. Blanks alone are no JSON text: refused as a
    // blank body is everywhere else.
    let (request, raw) = if body.is_empty() || body.trim_ascii() == b"null" {
        (EraseRequest::default(), serde_json::Value::Null)
    } else {
        let (request, raw) = parse_body::<EraseRequest>(body)?.into_input(
            |request| (request, ValidationErrors::default()),
            |_| ValidationErrors::default(),
        )?;
        (request, raw.into_value())
    };
    let tombstone = service
        .erase(&customer_id, request.reason)
        .await
        .map_err(|e| ApiError::from_service_at(e, Source::Body, &raw))?;
    Ok(HttpResponse::Ok().json(TombstoneResponse::from(tombstone)))
}
