//! The HTTP error type: one variant per status code, always answered in FastAPI's shape
//! (`{"detail": ...}`) because the contract's clients parse exactly that. The 422's body
//! model, and where a rejected value is found, are in [`validation`].

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use domain::{ServiceError, ValidationErrors};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::pydantic::Wording;
use crate::security::AuthError;

mod validation;

pub(crate) use validation::value_at;
pub use validation::{FieldError, LocPart, Source, ValidationErrorResponse};

/// The realm named in `WWW-Authenticate`.
const REALM: &str = "customer-api";

/// The body of every error but 422.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorResponse {
    /// What went wrong, e.g. `Customer not found`.
    #[schema(example = "Customer not found")]
    pub detail: String,
    /// Machine-readable kind of error, e.g. `not_found`.
    #[schema(example = "not_found")]
    pub code: String,
}

/// The body of a 412: the usual error, and the version the customer is at now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionMismatchResponse {
    #[schema(example = "The customer has changed since the version given in If-Match")]
    pub detail: String,
    #[schema(example = "version_mismatch")]
    pub code: String,
    /// The customer's version now; GET it to see what changed.
    #[schema(example = 4)]
    pub current_version: u64,
}

/// Every way a request can fail, one variant per status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: another customer already has this email.
    #[error("Customer with this email already exists")]
    EmailTaken,
    /// 401: no bearer token, or one that cannot be trusted; answered with `WWW-Authenticate`.
    #[error("{0}")]
    Unauthorized(AuthError),
    /// 403: the token's role does not allow this, or a CORS origin is refused.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404: no customer, or no route, matches.
    #[error("{0}")]
    NotFound(&'static str),
    /// 405: the route exists but not with this method; `allow` lists the methods it has.
    #[error("Method Not Allowed")]
    MethodNotAllowed {
        /// Value of the `Allow` header, e.g. `GET, PUT, DELETE`.
        allow: &'static str,
    },
    /// 413: the body is larger than the configured limit.
    #[error("Request body too large")]
    PayloadTooLarge,
    /// 422: one or more values were rejected.
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// 429: this client exceeded its rate limit; answered with `Retry-After`.
    #[error("Too many requests")]
    TooManyRequests {
        /// Whole seconds until the client may try again.
        retry_after_secs: u64,
    },
    /// 400: the `Idempotency-Key` header is not a key.
    #[error(
        "Idempotency-Key must be 1 to 255 printable ASCII characters, optionally in double quotes"
    )]
    InvalidIdempotencyKey,
    /// 409: a request with this `Idempotency-Key` is still being processed; answered with
    /// `Retry-After: 1`.
    #[error("A request with this Idempotency-Key is still in progress; retry later")]
    IdempotencyKeyInUse,
    /// 422: this `Idempotency-Key` was used for another request (another body or path).
    #[error("Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// 412: the customer is not at a version `If-Match` names.
    #[error("The customer has changed since the version given in If-Match")]
    VersionMismatch {
        /// The version it is at.
        current: u64,
    },
    /// 428: the service requires `If-Match` on single-customer writes.
    #[error(
        "This write requires an If-Match header: GET the customer and send its ETag, e.g. If-Match: \"3\""
    )]
    PreconditionRequired,
    /// 410: the feed cursor is older than what retention kept.
    #[error(
        "Events after this cursor were removed by retention; restart from the oldest retained event by calling again without `after`"
    )]
    CursorExpired,
    /// 410: the customer was erased; only its tombstone is left.
    #[error("Customer erased")]
    Erased,
    /// 500: a bug or an unexpected failure; the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
    /// 503 with `Retry-After: 1`: the database cannot serve the request now (unreachable,
    /// no free connection in time, or the statement ran past `statement_timeout`).
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

impl ApiError {
    /// 404 for a customer that does not exist.
    pub const CUSTOMER_NOT_FOUND: Self = Self::NotFound("Customer not found");

    /// A 422 with a single rejected value.
    pub fn invalid(
        source: Source,
        path: impl IntoIterator<Item = LocPart>,
        wording: Wording,
        input: Value,
    ) -> Self {
        Self::Validation(vec![FieldError::new(source, path, wording, input)])
    }

    /// The domain's field violations in pydantic's words. The domain's field names are the
    /// JSON names, so a field `phone` within `updates` becomes the location
    /// `[source, "updates", "phone"]`; its `input` is read from `raw`, what the client sent
    /// at `source` (`null` when unknown).
    pub fn field_errors(errors: ValidationErrors, source: Source, raw: &Value) -> Vec<FieldError> {
        errors
            .0
            .into_iter()
            .map(|v| {
                let path: Vec<LocPart> = v
                    .within
                    .into_iter()
                    .chain([v.field])
                    .map(LocPart::from)
                    .collect();
                let input = value_at(raw, &path);
                let wording = match (v.rule, input.as_str()) {
                    // pydantic says why the text is no date-time, in its parser's words.
                    (domain::Rule::DateTime, Some(text)) => Wording::datetime_of(text),
                    (rule, _) => Wording::of_rule(rule, v.field),
                };
                FieldError::new(source, path, wording, input)
            })
            .collect()
    }

    /// A 422 from the domain's field violations (see [`ApiError::field_errors`]).
    pub fn validation(errors: ValidationErrors, source: Source) -> Self {
        Self::Validation(Self::field_errors(errors, source, &Value::Null))
    }

    /// Maps a use-case failure; `source` says where validated input came from.
    pub fn from_service(err: ServiceError, source: Source) -> Self {
        Self::from_service_at(err, source, &Value::Null)
    }

    /// [`ApiError::from_service`], reading each rejected value's `input` from `raw`, what the
    /// client sent at `source`.
    pub fn from_service_at(err: ServiceError, source: Source, raw: &Value) -> Self {
        match err {
            ServiceError::Validation(errors) => {
                Self::Validation(Self::field_errors(errors, source, raw))
            }
            ServiceError::NotFound => Self::CUSTOMER_NOT_FOUND,
            ServiceError::EmailTaken => Self::EmailTaken,
            ServiceError::VersionMismatch { current } => Self::VersionMismatch { current },
            ServiceError::FeedPositionPurged => Self::CursorExpired,
            ServiceError::Erased => Self::Erased,
            ServiceError::Unavailable(cause) => Self::Unavailable(cause),
            err @ (ServiceError::GenerationExhausted(_) | ServiceError::Internal(_)) => {
                Self::Internal(err.to_string())
            }
        }
    }

    /// The rejected values ordered as request type `T` declares its fields, as pydantic
    /// lists them (the domain reports them in its own order).
    #[must_use]
    pub fn ordered_as<T: serde::de::DeserializeOwned>(mut self) -> Self {
        if let Self::Validation(errors) = &mut self {
            crate::extract::in_field_order::<T>(errors);
        }
        self
    }

    /// [`ApiError::from_service`] for use cases fed from the request body.
    pub fn in_body(err: ServiceError) -> Self {
        Self::from_service(err, Source::Body)
    }

    /// [`ApiError::from_service`] for use cases fed from the query string.
    pub fn in_query(err: ServiceError) -> Self {
        Self::from_service(err, Source::Query)
    }

    /// [`ApiError::from_service`] for use cases fed from the path.
    pub fn in_path(err: ServiceError) -> Self {
        Self::from_service(err, Source::Path)
    }

    /// What went wrong on the server side of a 5xx answer, for the logs only: clients get a
    /// fixed message. `None` for client errors.
    pub fn server_cause(&self) -> Option<&str> {
        match self {
            Self::Internal(cause) | Self::Unavailable(cause) => Some(cause),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::EmailTaken => "email_taken",
            Self::Unauthorized(AuthError::Missing) => "not_authenticated",
            Self::Unauthorized(_) => "invalid_token",
            Self::Forbidden(_) => "forbidden",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Validation(_) => "validation_error",
            Self::Internal(_) => "internal_error",
            Self::Unavailable(_) => "database_unavailable",
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::VersionMismatch { .. } => "version_mismatch",
            Self::PreconditionRequired => "precondition_required",
            Self::CursorExpired => "cursor_expired",
            Self::Erased => "customer_erased",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::EmailTaken => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
            Self::IdempotencyKeyInUse => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::CursorExpired | Self::Erased => StatusCode::GONE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        let code = self.code().to_owned();
        match self {
            Self::Validation(errors) => response.json(ValidationErrorResponse {
                detail: errors.clone(),
                code,
            }),
            // The cause may name tables, queries or values: it never goes to the client;
            // the request's log line takes it (`ApiError::server_cause`).
            Self::Internal(_) => response.json(ErrorResponse {
                detail: "Internal server error".to_owned(),
                code,
            }),
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
                response.json(ErrorResponse {
                    detail: "Database unavailable".to_owned(),
                    code,
                })
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, *allow));
                response.json(ErrorResponse {
                    detail: self.to_string(),
                    code,
                })
            }
            Self::Unauthorized(reason) => {
                // RFC 6750: a missing token gets the bare challenge, a rejected one says why.
                let challenge = match reason {
                    AuthError::Missing => format!("Bearer realm=\"{REALM}\""),
                    _ => format!(
                        "Bearer realm=\"{REALM}\", error=\"invalid_token\", \
                         error_description=\"{reason}\""
                    ),
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
                response.json(ErrorResponse {
                    detail: self.to_string(),
                    code,
                })
            }
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
                response.json(ErrorResponse {
                    detail: self.to_string(),
                    code,
                })
            }
            Self::IdempotencyKeyInUse => {
                response.insert_header((header::RETRY_AFTER, "1"));
                response.json(ErrorResponse {
                    detail: self.to_string(),
                    code,
                })
            }
            Self::VersionMismatch { current } => response.json(VersionMismatchResponse {
                detail: self.to_string(),
                code,
                current_version: *current,
            }),
            Self::EmailTaken
            | Self::Forbidden(_)
            | Self::NotFound(_)
            | Self::PayloadTooLarge
            | Self::InvalidIdempotencyKey
            | Self::IdempotencyKeyReused
            | Self::PreconditionRequired
            | Self::CursorExpired
            | Self::Erased => response.json(ErrorResponse {
                detail: self.to_string(),
                code,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_domain_field_becomes_a_location_path_with_its_input() {
        let items = ApiError::field_errors(
            ValidationErrors::single("phone", domain::Rule::PhoneCharacters).within("updates"),
            Source::Body,
            &serde_json::json!({"updates": {"phone": "x"}}),
        );
        assert_eq!(
            items[0].loc,
            vec![
                LocPart::from("body"),
                LocPart::from("updates"),
                LocPart::from("phone")
            ]
        );
        assert_eq!(items[0].kind, "value_error");
        assert_eq!(
            items[0].msg,
            "Value error, phone may contain only digits, spaces and the characters + - ( ) ."
        );
        assert_eq!(items[0].input, serde_json::json!("x"));
    }

    #[test]
    fn a_violation_is_located_at_its_source_and_field_with_the_input_sent() {
        let raw = serde_json::json!({"limit": "0", "first_name": ""});
        let mut errors = ValidationErrors::single("limit", domain::Rule::Min(1));
        errors.push("cursor", domain::Rule::Cursor);
        let items = ApiError::field_errors(errors, Source::Query, &raw);
        let json = serde_json::to_value(items).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"type": "greater_than_equal", "loc": ["query", "limit"],
                 "msg": "Input should be greater than or equal to 1", "input": "0",
                 "ctx": {"ge": 1}},
                {"type": "value_error", "loc": ["query", "cursor"],
                 "msg": "Value error, invalid cursor", "input": null,
                 "ctx": {"error": "invalid cursor"}}
            ])
        );
    }

    #[test]
    fn a_date_time_violation_gives_the_parsers_reason_for_the_text_sent() {
        let items = ApiError::field_errors(
            ValidationErrors::single("date_of_birth", domain::Rule::DateTime),
            Source::Body,
            &serde_json::json!({"date_of_birth": "15/01/1990"}),
        );
        assert_eq!(items[0].kind, "datetime_parsing");
        assert_eq!(
            items[0].msg,
            "Input should be a valid datetime, invalid character in year"
        );
    }

    #[test]
    fn generation_exhausted_is_an_internal_error() {
        let err = ApiError::in_body(ServiceError::GenerationExhausted("username"));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_list_index_serialises_as_a_number() {
        let item = FieldError::new(
            Source::Body,
            [LocPart::from("customer_ids"), LocPart::Index(2)],
            Wording::string_type(),
            Value::Null,
        );
        let json = serde_json::to_value(item).unwrap();
        assert_eq!(json["loc"], serde_json::json!(["body", "customer_ids", 2]));
    }

    /// Status, headers and JSON body of the answer to `err`.
    async fn answer(err: &ApiError) -> (StatusCode, actix_web::http::header::HeaderMap, Value) {
        let response = err.error_response();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap_or_default();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }

    fn header(headers: &actix_web::http::header::HeaderMap, name: &str) -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    #[actix_web::test]
    async fn every_error_answers_its_status_code_and_detail() {
        use serde_json::json;
        let cases = [
            (
                ApiError::EmailTaken,
                StatusCode::BAD_REQUEST,
                json!({"detail": "Customer with this email already exists", "code": "email_taken"}),
            ),
            (
                ApiError::Forbidden("Not allowed"),
                StatusCode::FORBIDDEN,
                json!({"detail": "Not allowed", "code": "forbidden"}),
            ),
            (
                ApiError::CUSTOMER_NOT_FOUND,
                StatusCode::NOT_FOUND,
                json!({"detail": "Customer not found", "code": "not_found"}),
            ),
            (
                ApiError::PayloadTooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"detail": "Request body too large", "code": "payload_too_large"}),
            ),
            (
                ApiError::Internal("SELECT secret FROM t".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"detail": "Internal server error", "code": "internal_error"}),
            ),
            (
                ApiError::Unavailable("pool timeout on 10.0.0.1".into()),
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"detail": "Database unavailable", "code": "database_unavailable"}),
            ),
            (
                ApiError::MethodNotAllowed { allow: "GET, POST" },
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"detail": "Method Not Allowed", "code": "method_not_allowed"}),
            ),
            (
                ApiError::TooManyRequests {
                    retry_after_secs: 7,
                },
                StatusCode::TOO_MANY_REQUESTS,
                json!({"detail": "Too many requests", "code": "rate_limited"}),
            ),
            (
                ApiError::Unauthorized(AuthError::Missing),
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Not authenticated", "code": "not_authenticated"}),
            ),
            (
                ApiError::Unauthorized(AuthError::Expired),
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Token has expired", "code": "invalid_token"}),
            ),
        ];
        for (err, status, body) in cases {
            assert_eq!(err.status_code(), status, "{err:?}");
            let (got_status, _, got_body) = answer(&err).await;
            assert_eq!((got_status, got_body), (status, body), "{err:?}");
        }
    }

    #[actix_web::test]
    async fn a_validation_error_answers_422_with_every_field_error() {
        let err = ApiError::validation(
            ValidationErrors::single("limit", domain::Rule::Min(1)),
            Source::Query,
        );
        let (status, _, body) = answer(&err).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body,
            serde_json::json!({
                "detail": [{"type": "greater_than_equal", "loc": ["query", "limit"],
                            "msg": "Input should be greater than or equal to 1",
                            "input": null, "ctx": {"ge": 1}}],
                "code": "validation_error"
            })
        );
    }

    #[actix_web::test]
    async fn the_headers_say_which_methods_when_to_retry_and_how_to_authenticate() {
        let (_, headers, _) = answer(&ApiError::MethodNotAllowed { allow: "GET, POST" }).await;
        assert_eq!(header(&headers, "allow").as_deref(), Some("GET, POST"));
        let (_, headers, _) = answer(&ApiError::TooManyRequests {
            retry_after_secs: 7,
        })
        .await;
        assert_eq!(header(&headers, "retry-after").as_deref(), Some("7"));
        let (_, headers, _) = answer(&ApiError::Unavailable("statement timeout".into())).await;
        assert_eq!(header(&headers, "retry-after").as_deref(), Some("1"));
        let (_, headers, _) = answer(&ApiError::Internal("bug".into())).await;
        assert_eq!(header(&headers, "retry-after"), None);
        let (_, headers, _) = answer(&ApiError::Unauthorized(AuthError::Missing)).await;
        assert_eq!(
            header(&headers, "www-authenticate").as_deref(),
            Some("Bearer realm=\"customer-api\"")
        );
        let (_, headers, _) = answer(&ApiError::Unauthorized(AuthError::BadSignature)).await;
        assert_eq!(
            header(&headers, "www-authenticate").as_deref(),
            Some(
                "Bearer realm=\"customer-api\", error=\"invalid_token\", \
                 error_description=\"Invalid token signature\""
            )
        );
    }

    #[test]
    fn each_service_error_maps_to_its_api_error_at_its_source() {
        let not_found = ApiError::in_path(ServiceError::NotFound);
        assert!(matches!(
            not_found,
            ApiError::NotFound("Customer not found")
        ));
        assert!(matches!(
            ApiError::in_body(ServiceError::EmailTaken),
            ApiError::EmailTaken
        ));
        assert!(matches!(
            ApiError::in_query(ServiceError::Unavailable("down".into())),
            ApiError::Unavailable(cause) if cause == "down"
        ));
        assert!(matches!(
            ApiError::in_body(ServiceError::Internal("boom".into())),
            ApiError::Internal(cause) if cause == "internal error: boom"
        ));
        for (err, source) in [
            (ApiError::in_body as fn(ServiceError) -> ApiError, "body"),
            (ApiError::in_query, "query"),
            (ApiError::in_path, "path"),
        ] {
            let invalid = err(ServiceError::Validation(ValidationErrors::single(
                "email",
                domain::Rule::NotNull,
            )));
            let ApiError::Validation(items) = invalid else {
                panic!("expected a 422 for {source}");
            };
            assert_eq!(
                items[0].loc,
                [LocPart::from(source), LocPart::from("email")],
                "{source}"
            );
            assert_eq!(items[0].path(), [LocPart::from("email")]);
        }
    }

    #[test]
    fn a_validation_error_from_a_use_case_reads_each_input_from_what_was_sent() {
        let raw = serde_json::json!({"customer_ids": ["a", "b"], "updates": {"phone": "x"}});
        let err = ServiceError::Validation(
            ValidationErrors::single("phone", domain::Rule::PhoneCharacters).within("updates"),
        );
        let ApiError::Validation(items) = ApiError::from_service_at(err, Source::Body, &raw) else {
            panic!("expected a 422");
        };
        assert_eq!(items[0].input, serde_json::json!("x"));
        let index = [LocPart::from("customer_ids"), LocPart::Index(1)];
        assert_eq!(value_at(&raw, &index), serde_json::json!("b"));
        assert_eq!(value_at(&raw, &[LocPart::from("nope")]), Value::Null);
        assert_eq!(value_at(&raw, &[]), raw);
    }

    #[test]
    fn only_server_errors_have_a_cause_for_the_logs() {
        assert_eq!(
            ApiError::Internal("boom".into()).server_cause(),
            Some("boom")
        );
        assert_eq!(
            ApiError::Unavailable("down".into()).server_cause(),
            Some("down")
        );
        assert_eq!(ApiError::EmailTaken.server_cause(), None);
        assert_eq!(ApiError::CUSTOMER_NOT_FOUND.server_cause(), None);
    }

    #[test]
    fn an_invalid_value_is_located_at_its_source() {
        let ApiError::Validation(items) = ApiError::invalid(
            Source::Query,
            [LocPart::from("limit")],
            Wording::missing(),
            Value::Null,
        ) else {
            panic!("expected a 422");
        };
        assert_eq!(
            items[0].loc,
            [LocPart::from("query"), LocPart::from("limit")]
        );
        assert_eq!(
            (items[0].kind.as_str(), items[0].msg.as_str()),
            ("missing", "Field required")
        );
    }
}
