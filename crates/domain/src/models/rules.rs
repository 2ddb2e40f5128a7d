//! Field rules shared by the create, update and bulk-update inputs, and [`Checks`], which
//! runs them over every field of an input so that one report lists every bad field.
//!
//! A rule is a function from a value to `Result<(), Rule>`: the violation is a typed value
//! from the start, with its parameters, and never a sentence.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::Patch;
use super::values::{Email, Gender, LanguageTag, Phone, Tags, ValueError};
use crate::error::{Rule, ValidationErrors};

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

/// The violations found so far in one input, field after field.
#[derive(Debug, Default)]
pub(crate) struct Checks(ValidationErrors);

impl Checks {
    /// Checks a value that is always present.
    pub(crate) fn field<T: ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
        rule: impl FnOnce(&T) -> Result<(), Rule>,
    ) {
        if let Err(broken) = rule(value) {
            self.0.push(name, broken);
        }
    }

    /// Checks a value when it is present.
    pub(crate) fn optional<T: ?Sized>(
        &mut self,
        name: &'static str,
        value: Option<&T>,
        rule: impl FnOnce(&T) -> Result<(), Rule>,
    ) {
        if let Some(value) = value {
            self.field(name, value, rule);
        }
    }

    /// Checks a value an update sets; keeping or clearing the field is fine.
    pub(crate) fn patch<T: ?Sized>(
        &mut self,
        name: &'static str,
        value: Patch<&T>,
        rule: impl FnOnce(&T) -> Result<(), Rule>,
    ) {
        self.optional(name, value.into_set(), rule);
    }

    /// Checks a field an update may change but not clear.
    pub(crate) fn not_null<T: ?Sized>(&mut self, name: &'static str, value: Patch<&T>) {
        if matches!(value, Patch::Clear) {
            self.0.push(name, Rule::NotNull);
        }
    }

    /// Checks a field an update may change but not clear, and the value it sets.
    pub(crate) fn set_not_null<T: ?Sized>(
        &mut self,
        name: &'static str,
        value: Patch<&T>,
        rule: impl FnOnce(&T) -> Result<(), Rule>,
    ) {
        self.not_null(name, value);
        self.patch(name, value, rule);
    }

    /// Every violation found, if any.
    pub(crate) fn finish(self) -> Result<(), ValidationErrors> {
        self.0.into_result()
    }
}

fn value_rule<T>(parsed: Result<T, ValueError>) -> Result<(), Rule> {
    parsed.map(drop).map_err(|e| e.rule)
}

fn no_control_chars(value: &str, allow_whitespace_controls: bool) -> Result<(), Rule> {
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(allow_whitespace_controls && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(Rule::ControlCharacters);
    }
    Ok(())
}

fn max_chars(value: &str, max: usize) -> Result<(), Rule> {
    if value.chars().count() > max {
        return Err(Rule::MaxLength(max));
    }
    Ok(())
}

/// Longest first or last name.
pub(crate) const MAX_NAME_LEN: usize = 100;
/// Longest notes.
pub(crate) const MAX_NOTES_LEN: usize = 10_000;

/// A first or last name: 1 to 100 characters once trimmed, no control characters.
pub(crate) fn person_name(value: &str) -> Result<(), Rule> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Rule::MinLength(1));
    }
    max_chars(trimmed, MAX_NAME_LEN)?;
    no_control_chars(trimmed, false)
}

/// Free text bounded by its column length, no control characters.
pub(crate) fn text(max: usize) -> impl FnOnce(&str) -> Result<(), Rule> {
    move |value| {
        max_chars(value, max)?;
        no_control_chars(value, false)
    }
}

/// An address line: up to 255 characters (create and update share each field's rule, so a
/// column's length is written once).
pub(crate) fn address_line(value: &str) -> Result<(), Rule> {
    text(255)(value)
}

/// A city, state or country: up to 100 characters.
pub(crate) fn place(value: &str) -> Result<(), Rule> {
    text(100)(value)
}

/// A postal code: up to 20 characters.
pub(crate) fn postal_code(value: &str) -> Result<(), Rule> {
    text(20)(value)
}

/// A company name: up to 255 characters.
pub(crate) fn company_name(value: &str) -> Result<(), Rule> {
    text(255)(value)
}

/// A tax id: up to 50 characters.
pub(crate) fn tax_id(value: &str) -> Result<(), Rule> {
    text(50)(value)
}

/// Notes: up to 10,000 characters; line breaks and tabs allowed.
pub(crate) fn notes(value: &str) -> Result<(), Rule> {
    max_chars(value, MAX_NOTES_LEN)?;
    no_control_chars(value, true)
}

/// A syntactically valid email address.
pub(crate) fn email(value: &str) -> Result<(), Rule> {
    value_rule(Email::parse(value))
}

/// A phone number as people type it.
pub(crate) fn phone(value: &str) -> Result<(), Rule> {
    value_rule(Phone::parse(value))
}

/// One of the known genders.
pub(crate) fn gender(value: &str) -> Result<(), Rule> {
    value_rule(Gender::parse(value))
}

/// A well-formed BCP 47 language tag of at most 35 characters.
pub(crate) fn language_tag(value: &str) -> Result<(), Rule> {
    value_rule(LanguageTag::parse(value))
}

/// Comma-separated tags within their limits.
pub(crate) fn tags(value: &str) -> Result<(), Rule> {
    value_rule(Tags::parse(value))
}

/// The earliest date of birth accepted; also keeps values inside PostgreSQL's range.
pub(crate) fn earliest_birth() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
}

/// A date of birth between 1900-01-01 and now.
pub(crate) fn date_of_birth(
    ctx: &ValidationContext,
) -> impl FnOnce(&NaiveDateTime) -> Result<(), Rule> {
    move |value| {
        if *value > ctx.now {
            return Err(Rule::BirthInFuture);
        }
        let earliest = earliest_birth();
        if *value < earliest.and_hms_opt(0, 0, 0).unwrap_or_default() {
            return Err(Rule::BirthBefore(earliest));
        }
        Ok(())
    }
}

/// Parses a date of birth as clients send it: `1990-01-15`, `1990-01-15T00:00:00`
/// (optionally with fractional seconds), or an RFC 3339 timestamp with an offset, which is
/// converted to UTC.
///
/// # Errors
/// [`Rule::DateTime`] when the text is none of these.
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
    Err(ValueError::new(Rule::DateTime))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str) -> NaiveDateTime {
        parse_date_of_birth(date).unwrap()
    }

    #[test]
    fn date_of_birth_accepts_date_and_the_seeds_datetime() {
        let expected = NaiveDate::from_ymd_opt(1990, 1, 15)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(at("1990-01-15"), expected);
        assert_eq!(at("1990-01-15T00:00:00"), expected);
        assert_eq!(at("1990-01-15T02:00:00+02:00"), expected);
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
            assert_eq!(
                parse_date_of_birth(bad).unwrap_err().rule,
                Rule::DateTime,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_date_of_birth_may_be_1900_01_01_or_now_but_not_outside() {
        let ctx = ValidationContext {
            now: at("2024-06-01T12:00:00"),
        };
        let check = |date: &str| date_of_birth(&ctx)(&at(date));
        assert_eq!(check("1900-01-01"), Ok(()));
        assert_eq!(check("2024-06-01T12:00:00"), Ok(()));
        assert_eq!(
            check("1899-12-31T23:59:59"),
            Err(Rule::BirthBefore(
                NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()
            ))
        );
        assert_eq!(check("2024-06-01T12:00:01"), Err(Rule::BirthInFuture));
    }

    #[test]
    fn a_name_is_1_to_100_characters_once_trimmed() {
        assert_eq!(person_name("  "), Err(Rule::MinLength(1)));
        assert_eq!(person_name("a"), Ok(()));
        assert_eq!(person_name(&"é".repeat(100)), Ok(()));
        assert_eq!(person_name(&"é".repeat(101)), Err(Rule::MaxLength(100)));
        assert_eq!(person_name("Jo\u{7}hn"), Err(Rule::ControlCharacters));
    }

    #[test]
    fn text_is_bounded_by_its_column_in_characters() {
        assert_eq!(text(20)(&"é".repeat(20)), Ok(()));
        assert_eq!(text(20)(&"é".repeat(21)), Err(Rule::MaxLength(20)));
        assert_eq!(text(20)("a\tb"), Err(Rule::ControlCharacters));
    }

    #[test]
    fn each_text_field_is_bounded_by_its_column() {
        type FieldRule = fn(&str) -> Result<(), Rule>;
        let bounded: [(FieldRule, usize); 5] = [
            (address_line, 255),
            (place, 100),
            (postal_code, 20),
            (company_name, 255),
            (tax_id, 50),
        ];
        for (rule, max) in bounded {
            assert_eq!(rule(&"é".repeat(max)), Ok(()), "{max}");
            assert_eq!(
                rule(&"é".repeat(max + 1)),
                Err(Rule::MaxLength(max)),
                "{max}"
            );
            assert_eq!(rule("a\u{7}b"), Err(Rule::ControlCharacters), "{max}");
        }
    }

    #[test]
    fn notes_allow_line_breaks_and_tabs_up_to_10000_characters() {
        assert_eq!(notes("one\r\ntwo\tthree"), Ok(()));
        assert_eq!(notes("a\0b"), Err(Rule::ControlCharacters));
        assert_eq!(notes(&"x".repeat(10_000)), Ok(()));
        assert_eq!(notes(&"x".repeat(10_001)), Err(Rule::MaxLength(10_000)));
    }

    #[test]
    fn a_language_tag_is_well_formed_and_at_most_35_characters() {
        let longest = "zh-min-nan-Hant-CN-variant1-u-ca-ab";
        assert_eq!(longest.len(), 35);
        assert_eq!(language_tag("zh-Hant-TW"), Ok(()));
        assert_eq!(language_tag(longest), Ok(()));
        assert_eq!(
            language_tag(&format!("{longest}c")),
            Err(Rule::MaxLength(35))
        );
        assert_eq!(language_tag("en_US"), Err(Rule::LanguageTag));
    }

    #[test]
    fn checks_report_every_field_in_order_and_only_clearing_breaks_not_null() {
        let mut checks = Checks::default();
        checks.field("first_name", "", person_name);
        checks.optional("phone", Some("12"), phone);
        checks.optional::<str>("city", None, text(100));
        checks.set_not_null("email", Patch::<&str>::Clear, email);
        checks.set_not_null("last_name", Patch::Keep, person_name);
        checks.patch("notes", Patch::<&str>::Clear, notes);
        checks.not_null("is_active", Patch::Set(&true));
        let errors = checks.finish().unwrap_err();
        let got: Vec<_> = errors.0.iter().map(|v| (v.field, v.rule)).collect();
        assert_eq!(
            got,
            [
                ("first_name", Rule::MinLength(1)),
                ("phone", Rule::PhoneDigits { min: 7, max: 15 }),
                ("email", Rule::NotNull),
            ]
        );
        assert!(Checks::default().finish().is_ok());
    }

    #[test]
    fn the_current_context_is_the_system_clocks_time() {
        let before = chrono::Utc::now().naive_utc();
        let ctx = ValidationContext::now();
        assert!(before <= ctx.now && ctx.now <= chrono::Utc::now().naive_utc());
    }
}
