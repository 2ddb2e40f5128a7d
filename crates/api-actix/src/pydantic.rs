//! pydantic v2's vocabulary for rejected values: the `type`, `msg` and `ctx` the original
//! service (FastAPI 0.104 on pydantic 2.5) answered, for the domain's typed rule violations
//! and for values of the wrong JSON type.
//!
//! The wording is pydantic-core's; where the domain has a rule the original lacked (phone
//! syntax, tags, control characters), it is worded as a pydantic custom validator's
//! `value_error` ("Value error, ...").

use serde_json::{Value, json};

mod rules;

/// How pydantic names one rejected value.
#[derive(Debug, Clone, PartialEq)]
pub struct Wording {
    /// pydantic's error type, e.g. `string_too_long`.
    pub kind: &'static str,
    /// pydantic's message, e.g. `String should have at most 100 characters`.
    pub msg: String,
    /// pydantic's context, e.g. `{"max_length": 100}`.
    pub ctx: Option<Value>,
}

impl Wording {
    pub(crate) fn new(kind: &'static str, msg: impl Into<String>) -> Self {
        Self {
            kind,
            msg: msg.into(),
            ctx: None,
        }
    }

    pub(crate) fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(ctx);
        self
    }

    /// A custom validator's failure: `Value error, <reason>`.
    pub fn value_error(reason: &str) -> Self {
        Self::new("value_error", format!("Value error, {reason}"))
            .with_ctx(json!({"error": reason}))
    }

    /// A required value that is absent.
    pub fn missing() -> Self {
        Self::new("missing", "Field required")
    }

    /// A string expected.
    pub fn string_type() -> Self {
        Self::new("string_type", "Input should be a valid string")
    }

    /// Malformed JSON; `error` is the parser's reason.
    pub fn json_invalid(error: &str) -> Self {
        Self::new("json_invalid", "JSON decode error").with_ctx(json!({"error": error}))
    }

    /// A list expected.
    pub fn list_type() -> Self {
        Self::new("list_type", "Input should be a valid list")
    }

    /// An object expected.
    pub fn model_type() -> Self {
        Self::new(
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        )
    }

    /// A boolean expected; text and numbers that are not one are "unparsable".
    pub fn bool_for(input: &Value) -> Self {
        if input.is_string() || input.is_number() {
            Self::new(
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
            )
        } else {
            Self::new("bool_type", "Input should be a valid boolean")
        }
    }

    /// An integer expected.
    pub fn int_for(input: &Value) -> Self {
        match input {
            Value::String(_) => Self::new(
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            ),
            Value::Number(n) if n.is_f64() => Self::new(
                "int_from_float",
                "Input should be a valid integer, got a number with a fractional part",
            ),
            _ => Self::new("int_type", "Input should be a valid integer"),
        }
    }

    /// A number at least `ge`.
    pub fn greater_than_equal(ge: u64) -> Self {
        Self::new(
            "greater_than_equal",
            format!("Input should be greater than or equal to {ge}"),
        )
        .with_ctx(json!({"ge": ge}))
    }

    /// A number at most `le`.
    pub fn less_than_equal(le: u64) -> Self {
        Self::new(
            "less_than_equal",
            format!("Input should be less than or equal to {le}"),
        )
        .with_ctx(json!({"le": le}))
    }

    /// One of `values`.
    pub fn one_of(values: &[&str]) -> Self {
        let expected = expected_list(values);
        Self::new("enum", format!("Input should be {expected}"))
            .with_ctx(json!({"expected": expected}))
    }

    /// A date-time expected.
    pub fn datetime_parsing(reason: &str) -> Self {
        Self::new(
            "datetime_parsing",
            format!("Input should be a valid datetime, {reason}"),
        )
        .with_ctx(json!({"error": reason}))
    }

    /// A text that is no date-time, with the first problem pydantic's parser (speedate)
    /// reports for it: the same `datetime_parsing` type, and its reason for the common
    /// cases (a short text, a bad year, month or day, a wrong separator).
    pub fn datetime_of(text: &str) -> Self {
        Self::datetime_parsing(datetime_reason(text))
    }
}

/// speedate's reason for the first problem of a date-time text, for its common failures
/// (checked against pydantic 2.5: the date, the separator, hours and minutes); anything
/// later gets its reason for trailing characters.
fn datetime_reason(text: &str) -> &'static str {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let number = |range: std::ops::Range<usize>| -> u32 {
        b[range].iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
    };
    if b.len() < 10 {
        return "input is too short";
    }
    if !digits(0..4) {
        return "invalid character in year";
    }
    if b[4] != b'-' || b[7] != b'-' {
        return "invalid date separator, expected `-`";
    }
    if !digits(5..7) {
        return "invalid character in month";
    }
    if !digits(8..10) {
        return "invalid character in day";
    }
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    if !(1..=12).contains(&month) {
        return "month value is outside expected range of 1-12";
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return "day value is outside expected range";
    }
    if b.len() == 10 {
        return "invalid datetime format";
    }
    if !matches!(b[10], b'T' | b't' | b'_' | b' ') {
        return "invalid datetime separator, expected `T`, `t`, `_` or space";
    }
    if b.len() < 16 {
        return "input is too short";
    }
    if !digits(11..13) {
        return "invalid character in hour";
    }
    if number(11..13) > 23 {
        return "hour value is outside expected range of 0-23";
    }
    if b[13] != b':' {
        return "invalid time separator, expected `:`";
    }
    if !digits(14..16) {
        return "invalid character in minute";
    }
    if number(14..16) > 59 {
        return "minute value is outside expected range of 0-59";
    }
    "unexpected extra characters at the end of the input"
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `'a', 'b' or 'c'`, as pydantic lists an enum's members.
fn expected_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use domain::{EmailProblem, Rule};

    use super::*;

    #[test]
    fn length_rules_are_worded_as_pydantic_words_them() {
        let long = Wording::of_rule(Rule::MaxLength(100), "first_name");
        assert_eq!(long.kind, "string_too_long");
        assert_eq!(long.msg, "String should have at most 100 characters");
        assert_eq!(long.ctx, Some(json!({"max_length": 100})));
        let short = Wording::of_rule(Rule::MinLength(1), "first_name");
        assert_eq!(short.msg, "String should have at least 1 character");
    }

    #[test]
    fn an_enum_lists_its_members_as_pydantic_does() {
        let w = Wording::one_of(domain::Gender::NAMES);
        assert_eq!(
            w.msg,
            "Input should be 'male', 'female', 'other' or 'prefer_not_to_say'"
        );
        assert_eq!(
            Wording::one_of(&["asc", "desc"]).msg,
            "Input should be 'asc' or 'desc'"
        );
    }

    #[test]
    fn an_invalid_email_carries_its_reason() {
        let w = Wording::of_rule(Rule::Email(EmailProblem::NoAtSign), "email");
        assert_eq!(w.kind, "value_error");
        assert_eq!(
            w.msg,
            "value is not a valid email address: An email address must have an @-sign."
        );
    }

    #[test]
    fn a_text_that_is_no_date_time_gets_pydantics_type_and_its_parsers_reason() {
        let reasons = |text: &str| Wording::datetime_of(text).msg;
        assert_eq!(
            reasons("x"),
            "Input should be a valid datetime, input is too short"
        );
        assert_eq!(
            reasons("15/01/1990"),
            "Input should be a valid datetime, invalid character in year"
        );
        assert_eq!(
            reasons("1990/01/15"),
            "Input should be a valid datetime, invalid date separator, expected `-`"
        );
        assert_eq!(
            reasons("1990-13-15"),
            "Input should be a valid datetime, month value is outside expected range of 1-12"
        );
        assert_eq!(
            reasons("1990-02-30"),
            "Input should be a valid datetime, day value is outside expected range"
        );
        assert_eq!(
            reasons("1990-01-15Tnoon"),
            "Input should be a valid datetime, input is too short"
        );
        assert_eq!(
            reasons("1990-01-15X12:00"),
            "Input should be a valid datetime, invalid datetime separator, expected `T`, `t`, `_` or space"
        );
        assert_eq!(
            reasons("1990-01-15T25:00"),
            "Input should be a valid datetime, hour value is outside expected range of 0-23"
        );
        assert_eq!(
            reasons("1990-01-15T12:xx"),
            "Input should be a valid datetime, invalid character in minute"
        );
        assert_eq!(
            reasons("1990-01-15T12:00:00Zjunk"),
            "Input should be a valid datetime, unexpected extra characters at the end of the input"
        );
        assert_eq!(Wording::datetime_of("x").kind, "datetime_parsing");
    }

    #[test]
    fn a_wrong_json_type_gets_pydantics_words_for_it() {
        let kind = |w: Wording| w.kind;
        assert_eq!(kind(Wording::bool_for(&json!("yes"))), "bool_parsing");
        assert_eq!(kind(Wording::bool_for(&json!(2))), "bool_parsing");
        assert_eq!(kind(Wording::bool_for(&json!([]))), "bool_type");
        assert_eq!(kind(Wording::bool_for(&json!(null))), "bool_type");
        assert_eq!(kind(Wording::int_for(&json!("1"))), "int_parsing");
        assert_eq!(kind(Wording::int_for(&json!(1.5))), "int_from_float");
        assert_eq!(kind(Wording::int_for(&json!(true))), "int_type");
        assert_eq!(kind(Wording::int_for(&json!(1))), "int_type");
        assert_eq!(
            Wording::json_invalid("EOF").ctx,
            Some(json!({"error": "EOF"}))
        );
        assert_eq!(Wording::list_type().msg, "Input should be a valid list");
        assert_eq!(Wording::model_type().kind, "model_attributes_type");
        assert_eq!(Wording::string_type().kind, "string_type");
    }

    #[test]
    fn an_enum_of_one_member_names_it_alone() {
        assert_eq!(Wording::one_of(&["asc"]).msg, "Input should be 'asc'");
        assert_eq!(expected_list(&[]), "");
        assert_eq!(
            Wording::one_of(&["a", "b", "c"]).ctx,
            Some(json!({"expected": "'a', 'b' or 'c'"}))
        );
    }

    #[test]
    fn february_29th_exists_in_leap_years_only() {
        let reason = |text: &str| datetime_reason(text);
        let out_of_range = "day value is outside expected range";
        let date_only = "invalid datetime format";
        for leap in ["2024-02-29", "2000-02-29", "1996-02-29"] {
            assert_eq!(reason(leap), date_only, "{leap}");
        }
        for common in ["2023-02-29", "1900-02-29", "2100-02-29"] {
            assert_eq!(reason(common), out_of_range, "{common}");
        }
        assert_eq!(reason("2023-02-28"), date_only);
        assert_eq!(reason("2024-02-30"), out_of_range);
        assert_eq!(reason("2024-04-30"), date_only);
        assert_eq!(reason("2024-04-31"), out_of_range);
        assert_eq!(reason("2024-11-31"), out_of_range);
        assert_eq!(reason("2024-01-31"), date_only);
        assert_eq!(reason("2024-12-31"), date_only);
        assert_eq!(reason("2024-01-32"), out_of_range);
        assert_eq!(reason("2024-01-00"), out_of_range);
        assert_eq!(reason("2024-01-01"), date_only);
    }

    #[test]
    fn each_part_of_a_date_time_is_checked_at_its_bounds() {
        let reason = |text: &str| datetime_reason(text);
        assert_eq!(reason("2024-01-1"), "input is too short");
        assert_eq!(
            reason("2024-00-01"),
            "month value is outside expected range of 1-12"
        );
        assert_eq!(reason("2024-12-01"), "invalid datetime format");
        assert_eq!(reason("2024-1x-01"), "invalid character in month");
        assert_eq!(reason("2024-01-x1"), "invalid character in day");
        assert_eq!(
            reason("2024-01-01-"),
            "invalid datetime separator, expected `T`, `t`, `_` or space"
        );
        for separator in ["T", "t", "_", " "] {
            assert_eq!(
                reason(&format!("2024-01-01{separator}23:59")),
                "unexpected extra characters at the end of the input",
                "{separator:?}"
            );
        }
        assert_eq!(reason("2024-01-01T23:5"), "input is too short");
        assert_eq!(
            reason("2024-01-01T24:00"),
            "hour value is outside expected range of 0-23"
        );
        assert_eq!(reason("2024-01-01Tx0:00"), "invalid character in hour");
        assert_eq!(
            reason("2024-01-01T00-00"),
            "invalid time separator, expected `:`"
        );
        assert_eq!(
            reason("2024-01-01T00:60"),
            "minute value is outside expected range of 0-59"
        );
        assert_eq!(
            reason("2024-01-01T19:19"),
            "unexpected extra characters at the end of the input"
        );
        assert_eq!(reason("1990/01-15"), "invalid date separator, expected `-`");
        assert_eq!(reason("1990-01/15"), "invalid date separator, expected `-`");
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1), "");
        assert_eq!(plural(0), "s");
        assert_eq!(plural(2), "s");
    }
}
