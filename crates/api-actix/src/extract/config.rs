//! Error handlers for actix's own extractors (`web::Json`, `web::Path`, `web::Query`), so
//! that any route using them still answers in the API's JSON shape, never `text/plain`.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web;

use super::body::{decode_error, without_position};
use super::describe::describe;
use crate::error::{ApiError, LocPart, Source};

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
        JsonPayloadError::ContentType => ApiError::invalid(
            Source::Body,
            [],
            "Content-Type must be application/json",
            "value_error.content_type",
        ),
        JsonPayloadError::Deserialize(err) if err.is_data() => {
            // Without a path tracker only a missing field's name is known.
            let message = without_position(&err);
            let (msg, kind) = describe(&message);
            let field = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split_once('`'))
                .map(|(field, _)| LocPart::from(field));
            ApiError::invalid(Source::Body, field, msg, kind)
        }
        JsonPayloadError::Deserialize(err) => decode_error(&err),
        other => ApiError::invalid(
            Source::Body,
            [],
            format!("the request body could not be read: {other}"),
            "value_error.payload",
        ),
    }
}

fn path_error(err: &PathError) -> ApiError {
    let (msg, kind) = describe(&err.to_string());
    ApiError::invalid(Source::Path, [], msg, kind)
}

fn query_error(err: &QueryPayloadError) -> ApiError {
    let (msg, kind) = describe(&err.to_string());
    ApiError::invalid(Source::Query, [], msg, kind)
}
