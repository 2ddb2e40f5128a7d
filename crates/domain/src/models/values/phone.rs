//! Phone numbers.

use super::ValueError;
use crate::error::Rule;

/// A phone number as people type it: digits, spaces and `+ - ( ) .`, 7 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Longest number the model stores.
    pub const MAX_LEN: usize = 20;
    /// Fewest digits a number has.
    pub const MIN_DIGITS: usize = 7;
    /// Most digits a number has.
    pub const MAX_DIGITS: usize = 15;

    /// # Errors
    /// When it has other characters, a `+` anywhere but first, too few or too many digits.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let phone = raw.trim();
        if phone.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(Rule::MaxLength(Self::MAX_LEN)));
        }
        if !phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err(ValueError::new(Rule::PhoneCharacters));
        }
        if phone.rfind('+').is_some_and(|i| i > 0) {
            return Err(ValueError::new(Rule::PhonePlusNotFirst));
        }
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits) {
            return Err(ValueError::new(Rule::PhoneDigits {
                min: Self::MIN_DIGITS,
                max: Self::MAX_DIGITS,
            }));
        }
        Ok(Self(phone.to_owned()))
    }

    /// The number as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_phone_of_exactly_20_characters_is_accepted_and_21_refused() {
        let twenty = "+1 555  123  4567 89";
        assert_eq!(twenty.chars().count(), 20);
        assert!(Phone::parse(twenty).is_ok());
        let err = Phone::parse(&format!("{twenty}0")).unwrap_err();
        assert_eq!(err.rule, Rule::MaxLength(20));
    }

    #[test]
    fn a_phone_has_7_to_15_digits_and_a_plus_only_first() {
        let digits = |n: usize| "1".repeat(n);
        assert!(Phone::parse(&digits(7)).is_ok());
        assert!(Phone::parse(&digits(15)).is_ok());
        let rule = |raw: &str| Phone::parse(raw).unwrap_err().rule;
        let count = Rule::PhoneDigits { min: 7, max: 15 };
        assert_eq!(rule(&digits(6)), count);
        assert_eq!(rule(&digits(16)), count);
        assert_eq!(rule("1-555+0123"), Rule::PhonePlusNotFirst);
        assert_eq!(rule("555-CALL-NOW"), Rule::PhoneCharacters);
    }

    #[test]
    fn phone_accepts_what_people_type() {
        for ok in [
            "+1-555-0123",
            "(555) 123 4567",
            "555.123.4567",
            "+44 20 7946 0958",
            "1234567",
        ] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn phone_rejects_letters_misplaced_plus_and_wrong_digit_counts() {
        for bad in [
            "555-CALL-NOW",
            "1-555+0123",
            "123456",
            "1234567890123456",
            "+1 (555) 012-3456 789 0",
            "12345\u{0}67",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_phone_converts_to_its_trimmed_text() {
        let phone = Phone::try_from(" +1-555-0123 ".to_owned()).unwrap();
        assert_eq!(phone.as_str(), "+1-555-0123");
        assert_eq!(String::from(phone), "+1-555-0123");
        assert_eq!(
            Phone::try_from("abc".to_owned()).unwrap_err().rule,
            Rule::PhoneCharacters
        );
    }
}
