//! Gender.

use std::fmt;

use super::ValueError;
use crate::error::Rule;

/// Gender, from a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// `male`
    Male,
    /// `female`
    Female,
    /// `other`
    Other,
    /// `prefer_not_to_say`
    PreferNotToSay,
}

impl Gender {
    /// Every gender, in display order.
    pub const ALL: [Self; 4] = [Self::Male, Self::Female, Self::Other, Self::PreferNotToSay];
    /// The names of [`Gender::ALL`], as clients send them.
    pub const NAMES: &'static [&'static str] = &["male", "female", "other", "prefer_not_to_say"];

    /// # Errors
    /// When the text is not one of the four values (case and surrounding spaces ignored).
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let lowered = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == lowered)
            .ok_or_else(|| ValueError::new(Rule::OneOf(Self::NAMES)))
    }

    /// The stored and displayed text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Other => "other",
            Self::PreferNotToSay => "prefer_not_to_say",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn gender_accepts_the_four_values_in_any_case() {
        assert_eq!(Gender::parse(" Male ").unwrap(), Gender::Male);
        assert_eq!(
            Gender::parse("prefer_not_to_say").unwrap(),
            Gender::PreferNotToSay
        );
        assert!(Gender::parse("unknown").is_err());
        assert!(Gender::parse("").is_err());
    }

    #[test]
    fn every_gender_parses_from_and_shows_as_its_name() {
        for (gender, name) in Gender::ALL.into_iter().zip(Gender::NAMES) {
            assert_eq!(Gender::parse(name).unwrap(), gender);
            assert_eq!(gender.as_str(), *name);
            assert_eq!(gender.to_string(), *name);
        }
        assert_eq!(
            Gender::parse("robot").unwrap_err().rule,
            Rule::OneOf(Gender::NAMES)
        );
    }
}
