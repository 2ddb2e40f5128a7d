//! The body of a 422, as FastAPI on pydantic v2 writes it: every rejected value with where
//! it is (`loc`, from its source down), pydantic's type, message and context, and the value
//! itself, found in the request by its location.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::pydantic::Wording;

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

/// One rejected value, as FastAPI on pydantic v2 reports it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// pydantic's error type, e.g. `missing`, `string_too_long` or `value_error`.
    #[serde(rename = "type")]
    #[schema(example = "missing")]
    pub kind: String,
    /// Where the value is: `["body", "email"]`, `["query", "limit"]`, `["path", "email"]`.
    pub loc: Vec<LocPart>,
    /// What is wrong, for people, e.g. `Field required`.
    #[schema(example = "Field required")]
    pub msg: String,
    /// The rejected value, of any JSON type (for a missing field, the object it is missing
    /// from).
    #[schema(schema_with = any_value)]
    pub input: Value,
    /// The rule's parameters, e.g. `{"max_length": 100}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ctx: Option<Value>,
}

impl FieldError {
    /// A rejected value `input` at `source` followed by the given path.
    pub fn new(
        source: Source,
        path: impl IntoIterator<Item = LocPart>,
        wording: Wording,
        input: Value,
    ) -> Self {
        let mut loc = vec![LocPart::from(source.as_str())];
        loc.extend(path);
        Self {
            kind: wording.kind.to_owned(),
            loc,
            msg: wording.msg,
            input,
            ctx: wording.ctx,
        }
    }

    /// The location below its source (`["updates", "phone"]` of `["body", "updates", "phone"]`).
    pub fn path(&self) -> &[LocPart] {
        self.loc.get(1..).unwrap_or_default()
    }
}

/// A schema every JSON value fits.
fn any_value() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
        .build()
}

/// The value at `path` in `root`, or `null` where there is none.
pub(crate) fn value_at(root: &Value, path: &[LocPart]) -> Value {
    let mut at = root;
    for part in path {
        let next = match part {
            LocPart::Key(key) => at.get(key.as_str()),
            LocPart::Index(i) => at.get(*i),
        };
        match next {
            Some(value) => at = value,
            None => return Value::Null,
        }
    }
    at.clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_of_a_field_error_is_documented_as_any_json_value() {
        let with_any = serde_json::to_value(any_value()).unwrap();
        let plain = serde_json::to_value(utoipa::openapi::schema::Object::default()).unwrap();
        assert_ne!(with_any, plain, "{with_any} vs {plain}");
        let doc = serde_json::to_value(crate::openapi::openapi()).unwrap();
        let input = &doc["components"]["schemas"]["FieldError"]["properties"]["input"];
        assert_eq!(input, &with_any);
    }
}
