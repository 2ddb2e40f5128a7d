//! [`QueryParams`]: a query-string extractor that reports every bad parameter at once.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev};
use domain::ValidationErrors;
use serde::de::DeserializeOwned;

use super::collect::{Collected, collect, query_object};
use crate::error::{ApiError, Source};

/// The query string deserialised into `T`.
///
/// Unlike `web::Query`, every bad value is reported at `["query", name]` in one 422, as
/// FastAPI does, with what the conversion into the domain's types finds.
#[derive(Debug)]
pub struct QueryParams<T>(Collected<T>);

impl<T: DeserializeOwned> QueryParams<T> {
    /// The parameters converted with `convert`; one 422 lists every problem.
    ///
    /// # Errors
    /// 422 with every bad parameter.
    pub fn into_input<U>(
        self,
        convert: impl FnOnce(T) -> Result<U, ValidationErrors>,
    ) -> Result<U, ApiError> {
        let (checked, _) = self.0.into_input(
            |params| match convert(params) {
                Ok(value) => (Some(value), ValidationErrors::default()),
                Err(errors) => (None, errors),
            },
            |_| ValidationErrors::default(),
        )?;
        // A conversion that failed is always reported above.
        checked.ok_or_else(|| ApiError::Internal("query conversion lost its errors".into()))
    }
}

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        ready(Ok(parse(req.query_string())))
    }
}

fn parse<T: DeserializeOwned>(query: &str) -> QueryParams<T> {
    QueryParams(collect(Source::Query, query_object(query)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "crate::dto::de::u64_param")]
        limit: u64,
        #[serde(default, deserialize_with = "crate::dto::de::opt_bool")]
        flag: Option<bool>,
    }

    fn errors(query: &str) -> serde_json::Value {
        let err = parse::<Probe>(query)
            .into_input(|p| Ok((p.limit, p.flag)))
            .unwrap_err();
        let ApiError::Validation(items) = err else {
            panic!("expected 422");
        };
        serde_json::to_value(items).unwrap()
    }

    #[test]
    fn every_bad_parameter_is_reported_with_its_input() {
        let items = errors("limit=abc&flag=maybe");
        assert_eq!(items[0]["loc"], serde_json::json!(["query", "limit"]));
        assert_eq!(items[0]["type"], "int_parsing");
        assert_eq!(items[0]["input"], "abc");
        assert_eq!(items[1]["loc"], serde_json::json!(["query", "flag"]));
        assert_eq!(items[1]["type"], "bool_parsing");
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        let parsed = parse::<Probe>("other=1&limit=3")
            .into_input(|p| Ok(p.limit))
            .unwrap();
        assert_eq!(parsed, 3);
    }
}
