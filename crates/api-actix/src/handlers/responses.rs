//! Error responses shared by many routes, for their OpenAPI descriptions.

use utoipa::IntoResponses;

use crate::error::{ErrorResponse, ValidationErrorResponse};

/// 500 and 503: what any route that reaches the database can answer.
#[derive(Debug, IntoResponses)]
pub enum ServerErrors {
    /// An unexpected failure; the cause is logged, never sent.
    #[response(status = 500, example = json!({"detail": "Internal server error", "code": "internal_error"}))]
    Internal(ErrorResponse),
    /// The database cannot be reached.
    #[response(status = 503, example = json!({"detail": "Database unavailable", "code": "database_unavailable"}))]
    Unavailable(ErrorResponse),
}

/// A query, path or body value was rejected.
#[derive(Debug, IntoResponses)]
#[response(status = 422)]
pub struct Invalid(pub ValidationErrorResponse);

/// 413 and 422: what any route with a JSON body can answer about it.
#[derive(Debug, IntoResponses)]
pub enum BodyErrors {
    /// The body is larger than the configured limit.
    #[response(status = 413, example = json!({"detail": "Request body too large", "code": "payload_too_large"}))]
    TooLarge(ErrorResponse),
    /// The body is not JSON, has a value of the wrong type, lacks a required field or breaks
    /// a rule.
    #[response(status = 422)]
    Invalid(ValidationErrorResponse),
}

/// No customer has this id, username or email.
#[derive(Debug, IntoResponses)]
#[response(status = 404, example = json!({"detail": "Customer not found", "code": "not_found"}))]
pub struct CustomerNotFound(pub ErrorResponse);

/// Another customer already has this email.
#[derive(Debug, IntoResponses)]
#[response(
    status = 400,
    example = json!({"detail": "Customer with this email already exists", "code": "email_taken"})
)]
pub struct EmailTaken(pub ErrorResponse);
