//! Field rules shared by the create, update and bulk-update inputs, written as garde
//! custom validators so one report lists every bad field.
//!
//! garde errors carry only a message, so each message is prefixed with its [`Rule`] (encoded)
//! and a unit separator; [`rule_of`] and [`message_of`] split them again when the report is
//! read.

#![expect(
    clippy::ptr_arg,
    reason = "garde hands custom rules the field itself, a &String"
)]

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::values::{Email, Gender, Phone, Tags, ValueError};
use crate::error::Rule;

const SEP: char = '\u{1f}';

/// What validation needs to know about the world: today's date.
#[derive(Debug, Clone, Copy)]
pub struct ValidationContext {
    /// The current time (UTC); dates of birth may not be after it.
    pub now: NaiveDateTime,
}

impl ValidationContext {
    /// The context at the system clock's current time: for checking input outside a use
    /// case (the HTTP adapter lists every problem of a malformed body at once); the use
    /// cases take the time from their injected clock.
    pub fn now() -> Self {
        Self {
            now: chrono::Utc::now().naive_utc(),
        }
    }
}

fn fail(rule: Rule, message: &str) -> garde::Error {
    garde::Error::new(format!("{}{SEP}{message}", encode(rule)))
}

fn from_value_error(err: ValueError) -> garde::Error {
    fail(err.rule, &err.message)
}

/// The closed sets a garde rule here may name in [`Rule::OneOf`].
const KNOWN_SETS: [&[&str]; 1] = [Gender::NAMES];

fn encode(rule: Rule) -> String {
    match rule {
        Rule::Required => "required".to_owned(),
        Rule::MinLength(n) => format!("min_length:{n}"),
        Rule::MaxLength(n) => format!("max_length:{n}"),
        Rule::Min(n) => format!("min:{n}"),
        Rule::Max(n) => format!("max:{n}"),
        Rule::Count { min, max } => format!("count:{min}:{max}"),
        Rule::OneOf(values) => format!("one_of:{}", values.join("|")),
        Rule::ControlCharacters => "control".to_owned(),
        Rule::Email => "email".to_owned(),
        Rule::DateTime => "datetime".to_owned(),
        Rule::Format => "format".to_owned(),
        Rule::NotAllowed => "not_allowed".to_owned(),
    }
}

/// The rule of a message produced here ([`Rule::Format`] for anything else).
pub(crate) fn rule_of(message: &str) -> Rule {
    let code = message.split(SEP).next().unwrap_or_default();
    let (name, arg) = code.split_once(':').unwrap_or((code, ""));
    let number = || arg.parse::<u64>().ok();
    let size = || arg.parse::<usize>().ok();
    let rule = match name {
        "required" => Some(Rule::Required),
        "min_length" => size().map(Rule::MinLength),
        "max_length" => size().map(Rule::MaxLength),
        "min" => number().map(Rule::Min),
        "max" => number().map(Rule::Max),
        "count" => arg.split_once(':').and_then(|(a, b)| {
            Some(Rule::Count {
                min: a.parse().ok()?,
                max: b.parse().ok()?,
            })
        }),
        "one_of" => KNOWN_SETS
            .into_iter()
            .find(|set| set.join("|") == arg)
            .map(Rule::OneOf),
        "control" => Some(Rule::ControlCharacters),
        "email" => Some(Rule::Email),
        "datetime" => Some(Rule::DateTime),
        "not_allowed" => Some(Rule::NotAllowed),
        _ => None,
    };
    rule.unwrap_or(Rule::Format)
}

/// The human part of a message produced here.
pub(crate) fn message_of(message: &str) -> &str {
    message.split_once(SEP).map_or(message, |(_, m)| m)
}

fn no_control_chars(value: &str, allow_whitespace_controls: bool) -> garde::Result {
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(allow_whitespace_controls && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(fail(
            Rule::ControlCharacters,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn max_chars(value: &str, max: usize) -> garde::Result {
    if value.chars().count() > max {
        return Err(fail(
            Rule::MaxLength(max),
            &format!("ensure this value has at most {max} characters"),
        ));
    }
    Ok(())
}

/// A first or last name: 1 to 100 characters once trimmed, no control characters.
pub(crate) fn person_name(value: &String, _: &ValidationContext) -> garde::Result {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(fail(
            Rule::MinLength(1),
            "ensure this value has at least 1 character",
        ));
    }
    max_chars(trimmed, 100)?;
    no_control_chars(trimmed, false)
}

/// Free text bounded by its column length, no control characters.
pub(crate) fn text(max: usize) -> impl FnOnce(&String, &ValidationContext) -> garde::Result {
    move |value, _| {
        max_chars(value, max)?;
        no_control_chars(value, false)
    }
}

/// Notes: up to 10,000 characters; line breaks and tabs allowed.
pub(crate) fn notes(value: &String, _: &ValidationContext) -> garde::Result {
    max_chars(value, 10_000)?;
    no_control_chars(value, true)
}

/// A syntactically valid email address.
pub(crate) fn email(value: &String, _: &ValidationContext) -> garde::Result {
    Email::parse(value).map(drop).map_err(from_value_error)
}

/// A phone number as people type it.
pub(crate) fn phone(value: &String, _: &ValidationContext) -> garde::Result {
    Phone::parse(value).map(drop).map_err(from_value_error)
}

/// One of the known genders.
pub(crate) fn gender(value: &String, _: &ValidationContext) -> garde::Result {
    Gender::parse(value).map(drop).map_err(from_value_error)
}

/// Comma-separated tags within their limits.
pub(crate) fn tags(value: &String, _: &ValidationContext) -> garde::Result {
    Tags::parse(value).map(drop).map_err(from_value_error)
}

/// The earliest date of birth accepted; also keeps values inside PostgreSQL's range.
fn earliest_birth() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1900, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// A date of birth between 1900-01-01 and now.
pub(crate) fn date_of_birth(value: &NaiveDateTime, ctx: &ValidationContext) -> garde::Result {
    if *value > ctx.now {
        return Err(fail(
            Rule::Format,
            "date of birth must not be in the future",
        ));
    }
    if *value < earliest_birth() {
        return Err(fail(
            Rule::Format,
            "date of birth must not be before 1900-01-01",
        ));
    }
    Ok(())
}

/// A field that may be changed but not cleared (sent as `null`).
pub(crate) fn not_null<T>(value: &super::Patch<T>, _: &ValidationContext) -> garde::Result {
    if matches!(value, super::Patch::Clear) {
        return Err(fail(Rule::Required, "this field may not be null"));
    }
    Ok(())
}

/// Parses a date of birth as clients send it: `1990-01-15`, `1990-01-15T00:00:00`
/// (optionally with fractional seconds), or an RFC 3339 timestamp with an offset, which is
/// converted to UTC.
///
/// # Errors
/// When the text is none of these.
pub fn parse_date_of_birth(raw: &str) -> Result<NaiveDateTime, ValueError> {
    let raw = raw.trim();
    if let Some(midnight) = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    {
        return Ok(midnight);
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(dt);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(raw) {
        return Ok(dt.naive_utc());
    }
    Err(ValueError::new(
        Rule::DateTime,
        "invalid date format: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_of_birth_accepts_date_and_the_seeds_datetime() {
        let expected = NaiveDate::from_ymd_opt(1990, 1, 15)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(parse_date_of_birth("1990-01-15").unwrap(), expected);
        assert_eq!(
            parse_date_of_birth("1990-01-15T00:00:00").unwrap(),
            expected
        );
        assert_eq!(
            parse_date_of_birth("1990-01-15T02:00:00+02:00").unwrap(),
            expected
        );
    }

    #[test]
    fn date_of_birth_rejects_other_formats() {
        for bad in [
            "15/01/1990",
            "1990-13-01",
            "",
            "yesterday",
            "1990-01-15T25:00:00",
        ] {
            assert!(parse_date_of_birth(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rule_and_message_are_recovered_from_a_rule_error() {
        for rule in [
            Rule::Required,
            Rule::MinLength(1),
            Rule::MaxLength(100),
            Rule::Min(1),
            Rule::Max(1000),
            Rule::Count { min: 1, max: 1000 },
            Rule::OneOf(Gender::NAMES),
            Rule::ControlCharacters,
            Rule::Email,
            Rule::DateTime,
            Rule::Format,
            Rule::NotAllowed,
        ] {
            let err = fail(rule, "bad");
            assert_eq!(rule_of(err.message()), rule);
            assert_eq!(message_of(err.message()), "bad");
        }
        assert_eq!(rule_of("plain"), Rule::Format);
        assert_eq!(message_of("plain"), "plain");
    }
}
