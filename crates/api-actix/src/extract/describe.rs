//! Turns serde's error messages into FastAPI's field errors: where (`loc`), what (`msg`) and
//! which stable kind (`type`).
//!
//! serde errors are plain strings, so our own deserialisers prefix their messages with a
//! kind and a unit separator ([`tagged`]); well-known serde messages are recognised by
//! their wording.

use serde_path_to_error::{Path, Segment};

use crate::error::{FieldError, LocPart, Source};

const SEP: char = '\u{1f}';

/// A serde error message that carries its kind, for [`describe`] to split again.
pub(crate) fn tagged(kind: &str, msg: &str) -> String {
    format!("{kind}{SEP}{msg}")
}

/// The field error for a serde failure at `path` below `source`.
pub(crate) fn field_error(source: Source, path: &Path, message: &str) -> FieldError {
    let mut loc: Vec<LocPart> = path
        .iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(LocPart::Index(*index)),
            Segment::Map { key } => Some(LocPart::Key(key.clone())),
            Segment::Enum { variant } => Some(LocPart::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect();
    // serde reports a missing field at its parent; FastAPI points at the field itself.
    if let Some(field) = missing_field(message) {
        loc.push(LocPart::Key(field.to_owned()));
    }
    let (msg, kind) = describe(message);
    FieldError::new(source, loc, msg, kind)
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
}

/// A readable message and a stable kind for a serde error message.
pub(crate) fn describe(message: &str) -> (String, String) {
    if let Some((kind, msg)) = message.split_once(SEP) {
        return (msg.to_owned(), kind.to_owned());
    }
    let (msg, kind) = if missing_field(message).is_some() {
        ("field required", "value_error.missing")
    } else if message.starts_with("invalid type: null") {
        (
            "none is not an allowed value",
            "type_error.none.not_allowed",
        )
    } else if message.starts_with("invalid type:") || message.starts_with("invalid value:") {
        (message, type_kind(message))
    } else if message.starts_with("unknown variant") {
        (message, "type_error.enum")
    } else if message.starts_with("duplicate field") {
        (message, "value_error.duplicate")
    } else {
        (message, "value_error")
    };
    (msg.to_owned(), kind.to_owned())
}

/// The kind of an "invalid type" error, from what serde expected.
fn type_kind(message: &str) -> &'static str {
    let expected = message.rsplit_once("expected").map_or("", |(_, e)| e);
    if expected.contains("string") {
        "type_error.str"
    } else if expected.contains("boolean") {
        "type_error.bool"
    } else if ["u8", "u16", "u32", "u64", "i32", "i64", "integer"]
        .iter()
        .any(|t| expected.contains(t))
    {
        "type_error.integer"
    } else if expected.contains("sequence") {
        "type_error.list"
    } else if expected.contains("struct") || expected.contains("map") {
        "type_error.dict"
    } else {
        "type_error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_is_located_at_the_field_itself() {
        let err = serde_path_to_error::deserialize::<_, Probe>(
            &mut serde_json::Deserializer::from_str(r#"{"inner": {}}"#),
        )
        .unwrap_err();
        let item = field_error(Source::Body, err.path(), &err.inner().to_string());
        let loc = serde_json::to_value(&item.loc).unwrap();
        assert_eq!(loc, serde_json::json!(["body", "inner", "name"]));
        assert_eq!(item.kind, "value_error.missing");
    }

    #[test]
    fn a_tagged_message_keeps_its_kind() {
        assert_eq!(
            describe(&tagged("type_error.bool", "not a boolean")),
            ("not a boolean".to_owned(), "type_error.bool".to_owned())
        );
    }

    #[test]
    fn wrong_types_are_classified_by_what_was_expected() {
        assert_eq!(
            describe("invalid type: integer `5`, expected a string").1,
            "type_error.str"
        );
        assert_eq!(
            describe("invalid type: string \"x\", expected u64").1,
            "type_error.integer"
        );
        assert_eq!(
            describe("invalid type: null, expected a string").1,
            "type_error.none.not_allowed"
        );
    }

    #[derive(Debug, serde::Deserialize)]
    struct Probe {
        #[expect(dead_code, reason = "only deserialised")]
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    struct Inner {
        #[expect(dead_code, reason = "only deserialised")]
        name: String,
    }
}
