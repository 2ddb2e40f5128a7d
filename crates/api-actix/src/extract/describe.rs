//! Turns serde's error messages into pydantic's words: which `type`, `msg` and `ctx` a value
//! of the wrong JSON type (or a missing one) gets.
//!
//! serde errors are plain strings, so our own deserialisers prefix their messages with a
//! tag and a unit separator ([`tagged`]); well-known serde messages are recognised by their
//! wording.

use serde_json::Value;

use crate::pydantic::Wording;

const SEP: char = '\u{1f}';

/// What our own deserialisers report, for [`describe`] to word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    /// Not a boolean.
    Bool,
    /// Not an integer.
    Int,
    /// A negative number where 0 is the least.
    Negative,
    /// A number beyond 64 bits.
    TooLarge,
    /// Neither a string nor a list of strings (tags, `dto::TagsInput`, a string in the
    /// original); its tag is written in that type's serde `expecting`.
    StringOrList,
}

impl Tag {
    const ALL: [Self; 5] = [
        Self::Bool,
        Self::Int,
        Self::Negative,
        Self::TooLarge,
        Self::StringOrList,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Int => "int",
            Self::Negative => "negative",
            Self::TooLarge => "too_large",
            Self::StringOrList => "string_or_list",
        }
    }

    fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tag| tag.name() == name)
    }
}

/// A serde error message that carries its tag, for [`describe`] to split again.
pub(crate) fn tagged(tag: Tag, msg: &str) -> String {
    format!("{}{SEP}{msg}", tag.name())
}

/// The field a "missing field" message names.
pub(crate) fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
}

/// pydantic's words for a serde failure on `input`.
pub(crate) fn describe(message: &str, input: &Value) -> Wording {
    if let Some(tag) = message
        .split_once(SEP)
        .and_then(|(name, _)| Tag::named(name))
    {
        return match tag {
            Tag::Bool => Wording::bool_for(input),
            Tag::Int => Wording::int_for(input),
            Tag::Negative => Wording::greater_than_equal(0),
            Tag::TooLarge => Wording::less_than_equal(u64::MAX),
            Tag::StringOrList => Wording::string_type(),
        };
    }
    if missing_field(message).is_some() {
        return Wording::missing();
    }
    if let Some(rest) = message.strip_prefix("unknown variant") {
        let expected = rest.rsplit_once("expected").map_or("", |(_, e)| e);
        let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return Wording::one_of(&names);
    }
    if message.starts_with("invalid type:") || message.starts_with("invalid value:") {
        let expected = message.rsplit_once("expected").map_or("", |(_, e)| e);
        return if expected.contains("string") {
            Wording::string_type()
        } else if expected.contains("boolean") {
            Wording::bool_for(input)
        } else if ["u8", "u16", "u32", "u64", "i32", "i64", "integer"]
            .iter()
            .any(|t| expected.contains(t))
        {
            if input.as_i64().is_some_and(|n| n < 0) {
                Wording::greater_than_equal(0)
            } else {
                Wording::int_for(input)
            }
        } else if expected.contains("sequence") {
            Wording::list_type()
        } else {
            // A struct or a map: pydantic's nested model.
            Wording::model_type()
        };
    }
    Wording::value_error(message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_tagged_message_is_worded_by_its_tag() {
        let w = describe(&tagged(Tag::Bool, "no"), &json!("maybe"));
        assert_eq!(w.kind, "bool_parsing");
        let kind = |tag| describe(&tagged(tag, "x"), &json!(5)).kind;
        assert_eq!(kind(Tag::Int), "int_type");
        assert_eq!(kind(Tag::Negative), "greater_than_equal");
        assert_eq!(kind(Tag::TooLarge), "less_than_equal");
        assert_eq!(kind(Tag::StringOrList), "string_type");
    }

    #[test]
    fn the_tags_input_carries_the_string_or_list_tag() {
        let err = serde_json::from_str::<crate::dto::TagsInput>("5").unwrap_err();
        assert_eq!(describe(&err.to_string(), &json!(5)).kind, "string_type");
        assert!(err.to_string().starts_with(Tag::StringOrList.name()));
    }

    #[test]
    fn wrong_types_are_worded_by_what_was_expected() {
        let kind = |m: &str, input: Value| describe(m, &input).kind;
        assert_eq!(
            kind("invalid type: integer `5`, expected a string", json!(5)),
            "string_type"
        );
        assert_eq!(
            kind("invalid type: string \"x\", expected u64", json!("x")),
            "int_parsing"
        );
        assert_eq!(
            kind("invalid type: null, expected a string", Value::Null),
            "string_type"
        );
        assert_eq!(
            kind("invalid type: integer `5`, expected a boolean", json!(5)),
            "bool_parsing"
        );
        assert_eq!(
            kind(
                "invalid type: string \"x\", expected a sequence",
                json!("x")
            ),
            "list_type"
        );
        assert_eq!(
            kind("invalid type: integer `5`, expected struct X", json!(5)),
            "model_attributes_type"
        );
        assert_eq!(kind("missing field `email`", json!({})), "missing");
    }
}
