//! Error handlers for actix's own extractors (`web::Json`, `web::Path`, `web::Query`), so
//! that any route using them still answers in the API's JSON shape, never `text/plain`.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web;
use serde_json::{Value, json};

use super::body::without_position;
use super::describe::{describe, missing_field};
use crate::error::{ApiError, LocPart, Source};
use crate::pydantic::Wording;

/// `web::Json` settings: the body limit and 413/422 errors in the API's shape.
pub fn json_config(max_body_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(max_body_bytes)
        .error_handler(|err, _req| json_error(err).into())
}

/// `web::Path` settings: a bad path value is a 422 at `["path"]`.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| path_error(&err).into())
}

/// `web::Query` settings: a bad query value is a 422 at `["query"]`.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_error(&err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => {
            ApiError::invalid(Source::Body, [], Wording::model_type(), Value::Null)
        }
        JsonPayloadError::Deserialize(err) if err.is_data() => {
            // Without a path tracker only a missing field's name is known.
            let message = without_position(&err);
            let field = missing_field(&message).map(LocPart::from);
            ApiError::invalid(
                Source::Body,
                field,
                describe(&message, &Value::Null),
                Value::Null,
            )
        }
        JsonPayloadError::Deserialize(err) => ApiError::invalid(
            Source::Body,
            [],
            Wording::json_invalid(&without_position(&err)),
            json!({}),
        ),
        other => ApiError::invalid(
            Source::Body,
            [],
            Wording::value_error(&format!("the request body could not be read: {other}")),
            Value::Null,
        ),
    }
}

fn path_error(err: &PathError) -> ApiError {
    ApiError::invalid(
        Source::Path,
        [],
        describe(&err.to_string(), &Value::Null),
        Value::Null,
    )
}

fn query_error(err: &QueryPayloadError) -> ApiError {
    ApiError::invalid(
        Source::Query,
        [],
        describe(&err.to_string(), &Value::Null),
        Value::Null,
    )
}
