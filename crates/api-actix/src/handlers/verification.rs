//! Verification flags and the last-login time.

use actix_web::{HttpResponse, web};

use super::Service;
use super::responses::{
    CustomerErased, CustomerNotFound, KeyReused, KeyedWrite, ServerErrors, Stale,
};
use crate::conditional::{IfMatch, versioned_message};
use crate::dto::MessageResponse;
use crate::error::ApiError;

/// Marks the customer's email as verified.
#[utoipa::path(
    patch,
    path = "/api/v1/customers/{customer_id}/verify-email",
    tag = "verification",
    params(
        ("customer_id" = String, Path, example = "CUST_A1B2C3D4"),
        crate::headers::IfMatchHeader,
        crate::headers::IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "Verified", body = MessageResponse,
            headers(
                ("ETag" = String, description = "The customer's version after it"),
            ), example = json!({"message": "Customer email verified successfully"})),
        CustomerNotFound,
        CustomerErased,
        Stale,
        KeyedWrite,
        KeyReused,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn verify_email(
    service: Service,
    customer_id: web::Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = service
        .verify_email(&customer_id, expected)
        .await
        .map_err(ApiError::in_path)?;
    Ok(versioned_message(
        version,
        "Customer email verified successfully",
    ))
}

/// Marks the customer's phone as verified.
#[utoipa::path(
    patch,
    path = "/api/v1/customers/{customer_id}/verify-phone",
    tag = "verification",
    params(
        ("customer_id" = String, Path, example = "CUST_A1B2C3D4"),
        crate::headers::IfMatchHeader,
        crate::headers::IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "Verified", body = MessageResponse,
            headers(
                ("ETag" = String, description = "The customer's version after it"),
            ), example = json!({"message": "Customer phone verified successfully"})),
        CustomerNotFound,
        CustomerErased,
        Stale,
        KeyedWrite,
        KeyReused,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn verify_phone(
    service: Service,
    customer_id: web::Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = service
        .verify_phone(&customer_id, expected)
        .await
        .map_err(ApiError::in_path)?;
    Ok(versioned_message(
        version,
        "Customer phone verified successfully",
    ))
}

/// Records that the customer logged in now.
#[utoipa::path(
    patch,
    path = "/api/v1/customers/{customer_id}/last-login",
    tag = "verification",
    params(
        ("customer_id" = String, Path, example = "CUST_A1B2C3D4"),
        crate::headers::IfMatchHeader,
        crate::headers::IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "Recorded", body = MessageResponse,
            headers(
                ("ETag" = String, description = "The customer's version after it"),
            ), example = json!({"message": "Last login updated successfully"})),
        CustomerNotFound,
        CustomerErased,
        Stale,
        KeyedWrite,
        KeyReused,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn record_login(
    service: Service,
    customer_id: web::Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = service
        .record_login(&customer_id, expected)
        .await
        .map_err(ApiError::in_path)?;
    Ok(versioned_message(
        version,
        "Last login updated successfully",
    ))
}
