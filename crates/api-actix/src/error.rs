//! The HTTP error type: one variant per status code, always answered in FastAPI's shape
//! (`{"detail": ...}`) because the seed's clients parse exactly that.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use domain::{ServiceError, ValidationErrors};
use serde::Serialize;
use utoipa::ToSchema;

use crate::security::AuthError;

/// The realm named in `WWW-Authenticate`.
const REALM: &str = "customer-api";

/// Where a rejected value came from: the first element of an error's `loc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The JSON request body.
    Body,
    /// The query string.
    Query,
    /// A path segment.
    Path,
}

impl Source {
    /// The name FastAPI uses for this source.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Body => "body",
            Self::Query => "query",
            Self::Path => "path",
        }
    }
}

/// One step of an error location: a field name or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LocPart {
    /// A field, parameter or source name.
    Key(String),
    /// A position in a list.
    Index(usize),
}

impl From<&str> for LocPart {
    fn from(value: &str) -> Self {
        Self::Key(value.to_owned())
    }
}

/// One rejected value, as FastAPI reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where the value is: `["body", "email"]`, `["query", "limit"]`, `["path", "email"]`.
    pub loc: Vec<LocPart>,
    /// What is wrong, for people.
    pub msg: String,
    /// A stable kind, e.g. `value_error.email` or `type_error.integer`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// A rejected value at `source` followed by the given path.
    pub fn new(
        source: Source,
        path: impl IntoIterator<Item = LocPart>,
        msg: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        let mut loc = vec![LocPart::from(source.as_str())];
        loc.extend(path);
        Self {
            loc,
            msg: msg.into(),
            kind: kind.into(),
        }
    }
}

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

/// The body of a 422.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationErrorResponse {
    /// Every rejected value.
    pub detail: Vec<FieldError>,
    /// Always `validation_error`.
    #[schema(example = "validation_error")]
    pub code: String,
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
    /// 500: a bug or an unexpected failure; the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
    /// 503: the database cannot be reached.
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
        msg: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        Self::Validation(vec![FieldError::new(source, path, msg, kind)])
    }

    /// A 422 from the domain's field violations; a field `updates.phone` becomes the location
    /// `[source, "updates", "phone"]`.
    pub fn validation(errors: ValidationErrors, source: Source) -> Self {
        Self::Validation(
            errors
                .0
                .into_iter()
                .map(|v| {
                    let path = v
                        .field
                        .split('.')
                        .filter(|part| !part.is_empty())
                        .map(LocPart::from)
                        .collect::<Vec<_>>();
                    FieldError::new(source, path, v.message, v.kind)
                })
                .collect(),
        )
    }

    /// Maps a use-case failure; `source` says where validated input came from.
    pub fn from_service(err: ServiceError, source: Source) -> Self {
        match err {
            ServiceError::Validation(errors) => Self::validation(errors, source),
            ServiceError::NotFound => Self::CUSTOMER_NOT_FOUND,
            ServiceError::EmailTaken => Self::EmailTaken,
            ServiceError::Unavailable(cause) => Self::Unavailable(cause),
            err @ (ServiceError::GenerationExhausted(_) | ServiceError::Internal(_)) => {
                Self::Internal(err.to_string())
            }
        }
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
            Self::Unavailable(_) => response.json(ErrorResponse {
                detail: "Database unavailable".to_owned(),
                code,
            }),
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
            Self::EmailTaken | Self::Forbidden(_) | Self::NotFound(_) | Self::PayloadTooLarge => {
                response.json(ErrorResponse {
                    detail: self.to_string(),
                    code,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_domain_field_becomes_a_location_path() {
        let err = ApiError::validation(
            ValidationErrors::single("updates.phone", "bad", "value_error.phone"),
            Source::Body,
        );
        let ApiError::Validation(items) = err else {
            panic!("expected a validation error");
        };
        assert_eq!(
            items[0].loc,
            vec![
                LocPart::from("body"),
                LocPart::from("updates"),
                LocPart::from("phone")
            ]
        );
        assert_eq!(items[0].kind, "value_error.phone");
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
            "m",
            "t",
        );
        let json = serde_json::to_value(item).unwrap();
        assert_eq!(json["loc"], serde_json::json!(["body", "customer_ids", 2]));
    }
}
