//! [`JsonBody`]: a JSON body extractor whose errors name the offending field.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev, mime, web};
use serde::de::DeserializeOwned;

use super::describe::field_error;
use crate::error::{ApiError, LocPart, Source};

/// A request body parsed as JSON into `T`.
///
/// Unlike `web::Json`, a value of the wrong type or a missing field is reported at its path
/// (`["body", "updates", "phone"]`), as FastAPI does. The size limit is actix's
/// [`web::PayloadConfig`]; a larger body is a 413. A content type other than JSON is a 422,
/// again as FastAPI; a request without one is read as JSON.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The parsed value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let is_json = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::invalid(
                    Source::Body,
                    [],
                    "Content-Type must be application/json",
                    "value_error.content_type",
                ));
            }
            let bytes = bytes.await.map_err(|err| payload_error(&err))?;
            parse(&bytes).map(JsonBody)
        })
    }
}

/// True without a content type (or an empty one) or with `application/json` or
/// `application/*+json`: FastAPI's rule.
fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return true;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    if text.trim().is_empty() {
        return true;
    }
    text.parse::<mime::Mime>().is_ok_and(|mime| {
        mime.type_() == mime::APPLICATION
            && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
    })
}

/// 413 when the body is over the limit; any other read failure (a truncated or badly
/// compressed body) is malformed input, so 422.
pub(crate) fn payload_error(err: &actix_web::Error) -> ApiError {
    match err.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => ApiError::PayloadTooLarge,
        _ => ApiError::invalid(
            Source::Body,
            [],
            format!("the request body could not be read: {err}"),
            "value_error.payload",
        ),
    }
}

/// Parses a whole body; exposed to the crate so the `JsonConfig` handler shares wording.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            Source::Body,
            [],
            "field required",
            "value_error.missing",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let json = err.inner();
        if json.is_data() {
            let item = field_error(Source::Body, err.path(), &without_position(json));
            ApiError::Validation(vec![item])
        } else {
            decode_error(json)
        }
    })?;
    de.end().map_err(|err| decode_error(&err))?;
    Ok(value)
}

/// Malformed JSON (syntax, early end, nesting too deep, invalid UTF-8), located at the body.
pub(crate) fn decode_error(err: &serde_json::Error) -> ApiError {
    ApiError::invalid(
        Source::Body,
        Vec::<LocPart>::new(),
        format!("JSON decode error: {err}"),
        "value_error.jsondecode",
    )
}

/// serde_json appends " at line L column C" to every message; a located field does not
/// need it.
pub(crate) fn without_position(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    message
        .strip_suffix(&suffix)
        .map_or_else(|| message.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc_and_kind(err: ApiError) -> (serde_json::Value, String) {
        let ApiError::Validation(items) = err else {
            panic!("expected 422, got {err:?}");
        };
        (
            serde_json::to_value(&items[0].loc).unwrap(),
            items[0].kind.clone(),
        )
    }

    #[derive(Debug, serde::Deserialize)]
    struct Probe {
        #[expect(dead_code, reason = "only deserialised")]
        count: u64,
    }

    #[test]
    fn a_wrong_type_is_located_at_its_field() {
        let (loc, kind) = loc_and_kind(parse::<Probe>(br#"{"count": "x"}"#).unwrap_err());
        assert_eq!(loc, serde_json::json!(["body", "count"]));
        assert_eq!(kind, "type_error.integer");
    }

    #[test]
    fn malformed_json_trailing_text_nul_bytes_and_invalid_utf8_are_decode_errors() {
        for body in [
            &b"{"[..],
            b"{\"count\": 1} x",
            b"{\"count\": 1\0}",
            b"{\"s\": \"a\0b\", \"count\": 1}",
            b"\xff",
        ] {
            let (loc, kind) = loc_and_kind(parse::<Probe>(body).unwrap_err());
            assert_eq!(loc, serde_json::json!(["body"]), "{body:?}");
            assert_eq!(kind, "value_error.jsondecode");
        }
    }

    #[test]
    fn nesting_deeper_than_serde_json_allows_is_a_decode_error() {
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let (loc, kind) = loc_and_kind(parse::<serde_json::Value>(deep.as_bytes()).unwrap_err());
        assert_eq!(loc, serde_json::json!(["body"]));
        assert_eq!(kind, "value_error.jsondecode");
    }

    #[test]
    fn an_empty_body_is_a_missing_body() {
        let (loc, kind) = loc_and_kind(parse::<Probe>(b"  ").unwrap_err());
        assert_eq!(loc, serde_json::json!(["body"]));
        assert_eq!(kind, "value_error.missing");
    }
}
