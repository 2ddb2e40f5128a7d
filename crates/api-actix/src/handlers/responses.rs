//! Error responses shared by many routes, for their OpenAPI descriptions.

use utoipa::IntoResponses;

use crate::error::{ErrorResponse, ValidationErrorResponse, VersionMismatchResponse};

/// 500 and 503: what any route that reaches the database can answer.
#[derive(Debug, IntoResponses)]
pub enum ServerErrors {
    /// An unexpected failure; the cause is logged, never sent.
    #[response(status = 500, example = json!({"detail": "Internal server error", "code": "internal_error"}))]
    Internal(ErrorResponse),
    /// The database cannot serve the request now: unreachable, no free connection in time,
    /// or the query ran past the server's `statement_timeout`. Retry after `Retry-After`.
    #[response(status = 503, example = json!({"detail": "Database unavailable", "code": "database_unavailable"}),
        headers(("Retry-After" = u64, description = "Seconds to wait: 1")))]
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
    /// a rule; or (the second form) its `Idempotency-Key` was used for another request.
    #[response(status = 422)]
    Invalid(Unprocessable),
}

/// A 422: rejected values, or an `Idempotency-Key` used for another request.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Unprocessable {
    Validation(ValidationErrorResponse),
    KeyReused(ErrorResponse),
}

/// 400 and 409: what a write with an `Idempotency-Key` can answer about the key.
#[derive(Debug, IntoResponses)]
pub enum KeyedWrite {
    /// The header is not 1 to 255 printable ASCII characters.
    #[response(status = 400, example = json!({"detail": "Idempotency-Key must be 1 to 255 printable ASCII characters, optionally in double quotes", "code": "invalid_idempotency_key"}))]
    InvalidKey(ErrorResponse),
    /// A request with this key is still being processed; retry after `Retry-After` seconds.
    #[response(status = 409, example = json!({"detail": "A request with this Idempotency-Key is still in progress; retry later", "code": "idempotency_key_in_use"}),
        headers(("Retry-After" = u64, description = "Seconds to wait: 1")))]
    InUse(ErrorResponse),
}

/// 422 for a write without a body: its `Idempotency-Key` was used for another request.
#[derive(Debug, IntoResponses)]
#[response(
    status = 422,
    example = json!({"detail": "Idempotency-Key was already used for a different request", "code": "idempotency_key_reused"})
)]
pub struct KeyReused(pub ErrorResponse);

/// 412 and 428: the write's `If-Match` names another version, or the service requires
/// `If-Match` and it is missing.
#[derive(Debug, IntoResponses)]
pub enum Stale {
    /// The customer changed since the version in `If-Match`; nothing was written.
    #[response(status = 412, example = json!({"detail": "The customer has changed since the version given in If-Match", "code": "version_mismatch", "current_version": 4}))]
    Changed(VersionMismatchResponse),
    /// `[http] require_if_match` is on and the request has no `If-Match`.
    #[response(status = 428, example = json!({"detail": "This write requires an If-Match header: GET the customer and send its ETag, e.g. If-Match: \"3\"", "code": "precondition_required"}))]
    Required(ErrorResponse),
}

/// 304: the client's `If-None-Match` holds the current version; no body.
#[derive(Debug, IntoResponses)]
#[response(status = 304, description = "Not modified: the version in If-None-Match is current", headers(("ETag" = String, description = "The current version")))]
pub struct NotModified;

/// No customer has this id, username or email.
#[derive(Debug, IntoResponses)]
#[response(status = 404, example = json!({"detail": "Customer not found", "code": "not_found"}))]
pub struct CustomerNotFound(pub ErrorResponse);

/// The customer was erased: only its tombstone is left (not in the original service).
#[derive(Debug, IntoResponses)]
#[response(status = 410, example = json!({"detail": "Customer erased", "code": "customer_erased"}))]
pub struct CustomerErased(pub ErrorResponse);

/// A create repeated with its `Idempotency-Key` after the customer it made was erased: the
/// stored answer went with the personal data (not in the original service).
#[derive(Debug, IntoResponses)]
#[response(status = 410, example = json!({"detail": "Customer erased", "code": "customer_erased"}))]
pub struct CreatedThenErased(pub ErrorResponse);

/// Another customer already has this email.
#[derive(Debug, IntoResponses)]
#[response(
    status = 400,
    example = json!({"detail": "Customer with this email already exists", "code": "email_taken"})
)]
pub struct EmailTaken(pub ErrorResponse);

/// 410 for a feed cursor older than what retention kept.
#[derive(Debug, IntoResponses)]
#[response(
    status = 410,
    example = json!({"detail": "Events after this cursor were removed by retention; restart from the oldest retained event by calling again without `after`", "code": "cursor_expired"})
)]
pub struct CursorExpired(pub ErrorResponse);
