//! Versions over HTTP (RFC 9110 §8.8.3, §13.1): each customer's version is its strong
//! `ETag` (`"3"`), `If-Match` makes a write conditional on it, `If-None-Match` answers a
//! read that has nothing new with 304.
//!
//! The domain checks a [`Precondition`]; this module only reads the headers into one and
//! writes the version back as a header.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use domain::Precondition;

use crate::ApiSettings;
use crate::error::ApiError;

/// The `ETag` of a customer at `version`.
pub fn etag(version: u64) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// 200 confirming a write with `message`, the customer's version after it as the `ETag`.
pub fn versioned_message(version: u64, message: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header(etag(version))
        .json(crate::dto::MessageResponse::new(message))
}

/// One element of an `If-Match` / `If-None-Match` list.
#[derive(Debug, PartialEq, Eq)]
enum Tag {
    Any,
    Strong(u64),
    /// A weak tag, or a strong one that is not a version of ours: it can match nothing
    /// under strong comparison.
    Other,
    /// A weak tag of one of our versions (`W/"3"`): matches under weak comparison only.
    Weak(u64),
}

fn tags(headers: &HeaderMap, name: header::HeaderName) -> Option<Vec<Tag>> {
    let values: Vec<&HeaderValue> = headers.get_all(name).collect();
    if values.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for value in values {
        // A value that is not text matches nothing.
        let Ok(text) = value.to_str() else {
            out.push(Tag::Other);
            continue;
        };
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            out.push(parse_tag(item));
        }
    }
    Some(out)
}

fn parse_tag(item: &str) -> Tag {
    if item == "*" {
        return Tag::Any;
    }
    let (weak, quoted) = match item.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, item),
    };
    let version = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok());
    match (weak, version) {
        (false, Some(v)) => Tag::Strong(v),
        (true, Some(v)) => Tag::Weak(v),
        _ => Tag::Other,
    }
}

/// The precondition of a single-customer write, from its `If-Match`: `*` admits any
/// version (the customer must exist, as for every write), a list of strong tags admits
/// those versions, anything else admits none. Without the header the write is
/// unconditional, unless the settings require the header (428).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(pub Precondition);

impl IfMatch {
    fn read(headers: &HeaderMap, required: bool) -> Result<Self, ApiError> {
        let Some(tags) = tags(headers, header::IF_MATCH) else {
            return if required {
                Err(ApiError::PreconditionRequired)
            } else {
                Ok(Self(Precondition::Any))
            };
        };
        if tags.contains(&Tag::Any) {
            return Ok(Self(Precondition::Any));
        }
        Ok(Self(Precondition::VersionIn(
            tags.into_iter()
                .filter_map(|t| match t {
                    Tag::Strong(v) => Some(v),
                    _ => None,
                })
                .collect(),
        )))
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let required = req
            .app_data::<web::Data<ApiSettings>>()
            .is_some_and(|s| s.require_if_match);
        ready(Self::read(req.headers(), required))
    }
}

/// A read's `If-None-Match`: whether the client already holds `version` (weak comparison,
/// as RFC 9110 §13.1.2 asks).
#[derive(Debug, Default)]
pub struct IfNoneMatch(Option<Vec<Tag>>);

impl IfNoneMatch {
    /// Whether a customer at `version` is what the client has: answer 304.
    pub fn holds(&self, version: u64) -> bool {
        self.0.as_ref().is_some_and(|tags| {
            tags.iter().any(|t| match t {
                Tag::Any => true,
                Tag::Strong(v) | Tag::Weak(v) => *v == version,
                Tag::Other => false,
            })
        })
    }
}

impl FromRequest for IfNoneMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(tags(req.headers(), header::IF_NONE_MATCH))))
    }
}

/// 200 with the customer's `ETag`, or 304 with only the `ETag` when the client holds it.
pub fn fresh_or_not_modified(
    if_none_match: &IfNoneMatch,
    version: u64,
    ok: impl FnOnce(HttpResponseBuilder) -> HttpResponse,
) -> HttpResponse {
    if if_none_match.holds(version) {
        HttpResponse::NotModified()
            .insert_header(etag(version))
            .finish()
    } else {
        let mut builder = HttpResponse::Ok();
        builder.insert_header(etag(version));
        ok(builder)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderName;

    use super::*;

    fn headers(name: HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(name.clone(), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn if_match(values: &[&str], required: bool) -> Result<Precondition, ApiError> {
        IfMatch::read(&headers(header::IF_MATCH, values), required).map(|m| m.0)
    }

    #[test]
    fn if_match_reads_strong_tags_star_and_lists_and_nothing_else() {
        assert_eq!(if_match(&[], false).unwrap(), Precondition::Any);
        assert_eq!(if_match(&["*"], false).unwrap(), Precondition::Any);
        assert_eq!(
            if_match(&["\"3\""], false).unwrap(),
            Precondition::version(3)
        );
        assert_eq!(
            if_match(&["\"3\", \"5\"", "\"8\""], false).unwrap(),
            Precondition::VersionIn(vec![3, 5, 8])
        );
        // Weak tags never match under strong comparison; foreign tags match nothing.
        for odd in [
            "W/\"3\"",
            "3",
            "\"x\"",
            "\"\"",
            "\"-1\"",
            "\"99999999999999999999\"",
        ] {
            assert_eq!(
                if_match(&[odd], false).unwrap(),
                Precondition::VersionIn(vec![]),
                "{odd}"
            );
        }
    }

    #[test]
    fn a_missing_if_match_is_refused_only_when_required() {
        assert!(matches!(
            if_match(&[], true),
            Err(ApiError::PreconditionRequired)
        ));
        assert_eq!(
            if_match(&["\"1\""], true).unwrap(),
            Precondition::version(1)
        );
    }

    #[test]
    fn if_none_match_compares_weakly_and_star_holds_anything() {
        let holds = |values: &[&str], version| {
            IfNoneMatch(tags(
                &headers(header::IF_NONE_MATCH, values),
                header::IF_NONE_MATCH,
            ))
            .holds(version)
        };
        assert!(holds(&["\"2\""], 2));
        assert!(holds(&["W/\"2\""], 2));
        assert!(holds(&["\"1\", \"2\""], 2));
        assert!(holds(&["*"], 7));
        assert!(!holds(&["\"1\""], 2));
        assert!(!holds(&["junk"], 2));
        assert!(!holds(&[], 2));
    }

    #[test]
    fn the_etag_is_the_quoted_version() {
        assert_eq!(etag(12).1, "\"12\"");
    }
}
