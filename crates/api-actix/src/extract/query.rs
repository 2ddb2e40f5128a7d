//! [`QueryParams`]: a query-string extractor whose errors name the offending parameter.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev};
use serde::de::DeserializeOwned;

use super::describe::field_error;
use crate::error::{ApiError, Source};

/// The query string deserialised into `T`.
///
/// Unlike `web::Query`, a bad value is reported at `["query", name]`, as FastAPI does.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T> QueryParams<T> {
    /// The parsed value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        ready(parse(req.query_string()).map(QueryParams))
    }
}

fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        ApiError::Validation(vec![field_error(
            Source::Query,
            err.path(),
            &err.inner().to_string(),
        )])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Probe {
        #[expect(dead_code, reason = "only deserialised")]
        limit: Option<u64>,
    }

    #[test]
    fn a_bad_value_is_located_at_its_parameter() {
        let err = parse::<Probe>("limit=abc").unwrap_err();
        let ApiError::Validation(items) = err else {
            panic!("expected 422");
        };
        assert_eq!(
            serde_json::to_value(&items[0].loc).unwrap(),
            serde_json::json!(["query", "limit"])
        );
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        assert!(parse::<Probe>("other=1&limit=3").is_ok());
    }
}
