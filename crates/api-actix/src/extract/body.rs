//! [`JsonBody`]: a JSON body extractor that reports every bad field at once, in pydantic's
//! words.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev, mime, web};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::collect::{Collected, Raw, collect};
use super::describe::{describe, missing_field};
use crate::error::{ApiError, LocPart, Source};
use crate::pydantic::Wording;

/// A request body parsed as JSON into `T`, with every value of the wrong type or missing.
///
/// Unlike `web::Json`, every bad value is reported at its path (`["body", "updates",
/// "phone"]`) in one 422, as FastAPI on pydantic v2 does; [`Collected::into_input`] adds the
/// rules the conversion and the domain check. The size limit is actix's
/// [`web::PayloadConfig`]; a larger body is a 413. A content type other than JSON is a 422,
/// again as FastAPI; a request without one is read as JSON. Malformed JSON is rejected
/// here.
pub type JsonBody<T> = Collected<T>;

impl<T: DeserializeOwned + 'static> FromRequest for Collected<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let is_json = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|err| payload_error(&err))?;
            if !is_json {
                // FastAPI hands a body of another type to the model as it is.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                return Err(ApiError::invalid(
                    Source::Body,
                    [],
                    Wording::model_type(),
                    Value::String(text),
                ));
            }
            parse(bytes)
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
            Wording::value_error(&format!("the request body could not be read: {err}")),
            Value::Null,
        ),
    }
}

/// Parses a whole body: an empty one is missing, malformed JSON one error, anything else
/// every structural error of `T`.
///
/// A body that fits `T` is parsed once, straight into `T` (serde skips unknown fields
/// without building them, however deeply nested); only one that does not is read as a JSON
/// value to find every error.
pub(crate) fn parse<T: DeserializeOwned>(bytes: web::Bytes) -> Result<Collected<T>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            Source::Body,
            [],
            Wording::missing(),
            Value::Null,
        ));
    }
    // Every body of this API is an object. serde reads a struct from an array as well (`[]`
    // would be an update with no field), so anything else takes the path that words it.
    let starts_an_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !starts_an_object {
        return match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => Ok(collect(Source::Body, value)),
            Err(err) => Err(decode_error(&bytes, &err)),
        };
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let first = serde_path_to_error::deserialize::<_, T>(&mut de);
    match first {
        Ok(value) => {
            de.end().map_err(|err| decode_error(&bytes, &err))?;
            Ok(Collected {
                value: Some(value),
                errors: Vec::new(),
                raw: Raw::Json(bytes),
                source: Source::Body,
            })
        }
        Err(err) if !err.inner().is_data() => Err(decode_error(&bytes, err.inner())),
        Err(err) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => Ok(collect(Source::Body, value)),
            // Valid for `T`'s fields but not as a value (nested beyond serde_json's limit
            // where it is skipped): the first error is all there is to report.
            Err(_) => {
                let message = without_position(err.inner());
                let mut loc: Vec<LocPart> = err
                    .path()
                    .iter()
                    .filter_map(|segment| match segment {
                        serde_path_to_error::Segment::Seq { index } => Some(LocPart::Index(*index)),
                        serde_path_to_error::Segment::Map { key } => {
                            Some(LocPart::Key(key.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                if let Some(field) = missing_field(&message) {
                    loc.push(LocPart::from(field));
                }
                Err(ApiError::invalid(
                    Source::Body,
                    loc,
                    describe(&message, &Value::Null),
                    Value::Null,
                ))
            }
        },
    }
}

/// Malformed JSON (syntax, early end, nesting too deep, invalid UTF-8), located as pydantic
/// locates it: at the character offset where parsing stopped.
pub(crate) fn decode_error(bytes: &[u8], err: &serde_json::Error) -> ApiError {
    let offset = char_offset(bytes, err.line(), err.column());
    ApiError::invalid(
        Source::Body,
        [LocPart::Index(offset)],
        Wording::json_invalid(&without_position(err)),
        json!({}),
    )
}

/// The 0-based character offset of serde_json's 1-based line and column.
fn char_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let text = String::from_utf8_lossy(bytes);
    let before: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count())
        .sum();
    before + column.saturating_sub(1)
}

/// serde_json appends " at line L column C" to every message; a located error does not
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

    fn loc_and_kind<T: std::fmt::Debug>(
        result: Result<Collected<T>, ApiError>,
    ) -> (serde_json::Value, String) {
        let err = match result {
            Ok(collected) => ApiError::Validation(collected.errors),
            Err(err) => err,
        };
        let ApiError::Validation(items) = err else {
            panic!("expected 422, got {err:?}");
        };
        (
            serde_json::to_value(&items[0].loc).unwrap(),
            items[0].kind.clone(),
        )
    }

    #[test]
    fn a_decode_error_is_located_at_its_character_offset() {
        let (loc, _) = loc_and_kind(parse::<Probe>(web::Bytes::from_static(b"{bad")));
        assert_eq!(loc, serde_json::json!(["body", 1]));
    }

    #[derive(Debug, serde::Deserialize)]
    struct Probe {
        #[expect(dead_code, reason = "only deserialised")]
        count: u64,
    }

    /// Every field optional, as in an update: serde alone would read `[]` as an update with
    /// no field.
    #[derive(Debug, serde::Deserialize)]
    struct AllOptional {
        #[serde(default)]
        #[expect(dead_code, reason = "only deserialised")]
        count: Option<u64>,
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_even_when_every_field_is_optional() {
        for body in [&b"[]"[..], b" [1]", b"\"x\"", b"1", b"true"] {
            let (loc, kind) = loc_and_kind(parse::<AllOptional>(web::Bytes::from_static(body)));
            assert_eq!(loc, serde_json::json!(["body"]), "{body:?}");
            assert_eq!(kind, "model_attributes_type", "{body:?}");
        }
        assert!(parse::<AllOptional>(web::Bytes::from_static(b" {}")).is_ok());
    }

    #[test]
    fn a_wrong_type_is_located_at_its_field() {
        let (loc, kind) = loc_and_kind(parse::<Probe>(web::Bytes::from_static(
            br#"{"count": "x"}"#,
        )));
        assert_eq!(loc, serde_json::json!(["body", "count"]));
        assert_eq!(kind, "int_parsing");
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
            let (loc, kind) = loc_and_kind(parse::<Probe>(web::Bytes::from_static(body)));
            assert_eq!(loc[0], "body", "{body:?}");
            assert!(loc[1].is_u64(), "{body:?}");
            assert_eq!(kind, "json_invalid");
        }
    }

    #[test]
    fn nesting_deeper_than_serde_json_allows_is_a_decode_error() {
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let (loc, kind) = loc_and_kind(parse::<serde_json::Value>(web::Bytes::from(deep)));
        assert_eq!(loc[0], "body");
        assert_eq!(kind, "json_invalid");
    }

    #[test]
    fn an_empty_body_is_a_missing_body() {
        let (loc, kind) = loc_and_kind(parse::<Probe>(web::Bytes::from_static(b"  ")));
        assert_eq!(loc, serde_json::json!(["body"]));
        assert_eq!(kind, "missing");
    }
}
