//! Field rules shared by the create, update and bulk-update inputs, written as garde
//! custom validators so one report lists every bad field.
//!
//! garde errors carry only a message, so each message is prefixed with its stable kind and a
//! unit separator; [`kind_of`] and [`message_of`] split them again when the report is read.

#![expect(
    clippy::ptr_arg,
    reason = "garde hands custom rules the field itself, a &String"
)]

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::values::{Email, Gender, Phone, Tags, ValueError};

const SEP: char = '\u{1f}';

/// What validation needs to know about the world: today's date.
#[derive(Debug, Clone, Copy)]
pub struct ValidationContext {
    /// The current time (UTC); dates of birth may not be after it.
    pub now: NaiveDateTime,
}

fn fail(kind: &'static str, message: &str) -> garde::Error {
    garde::Error::new(format!("{kind}{SEP}{message}"))
}

fn from_value_error(err: ValueError) -> garde::Error {
    fail(err.kind, &err.message)
}

/// The stable kind of a message produced here (`value_error` for anything else).
pub(crate) fn kind_of(message: &str) -> &'static str {
    const KINDS: [&str; 10] = [
        "value_error.missing",
        "value_error.any_str.min_length",
        "value_error.any_str.max_length",
        "value_error.str.control_characters",
        "value_error.email",
        "value_error.phone",
        "value_error.gender",
        "value_error.tags",
        "value_error.date",
        "value_error.not_allowed",
    ];
    let kind = message.split(SEP).next().unwrap_or_default();
    KINDS
        .into_iter()
        .find(|k| *k == kind)
        .unwrap_or("value_error")
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
            "value_error.str.control_characters",
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn max_chars(value: &str, max: usize) -> garde::Result {
    if value.chars().count() > max {
        return Err(fail(
            "value_error.any_str.max_length",
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
            "value_error.any_str.min_length",
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
            "value_error.date",
            "date of birth must not be in the future",
        ));
    }
    if *value < earliest_birth() {
        return Err(fail(
            "value_error.date",
            "date of birth must not be before 1900-01-01",
        ));
    }
    Ok(())
}

/// A field that may be changed but not cleared (sent as `null`).
pub(crate) fn not_null<T>(value: &super::Patch<T>, _: &ValidationContext) -> garde::Result {
    if matches!(value, super::Patch::Clear) {
        return Err(fail("value_error.missing", "this field may not be null"));
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
        "value_error.date",
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
    fn kind_and_message_are_recovered_from_a_rule_error() {
        let err = fail("value_error.email", "bad");
        assert_eq!(kind_of(err.message()), "value_error.email");
        assert_eq!(message_of(err.message()), "bad");
        assert_eq!(kind_of("plain"), "value_error");
        assert_eq!(message_of("plain"), "plain");
    }
}
