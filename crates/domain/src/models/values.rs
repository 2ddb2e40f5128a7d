//! Value types that cannot hold invalid data: each is built only through `parse`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a raw value was refused; `kind` is stable, `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// Stable machine-readable kind, e.g. `value_error.email`.
    pub kind: &'static str,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl ValueError {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// The public identifier of a customer: `CUST_` followed by 8 upper-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

impl CustomerId {
    /// The fixed prefix of every customer id.
    pub const PREFIX: &'static str = "CUST_";

    /// Builds the id from the first 32 bits of a random UUID.
    pub fn from_uuid(uuid: uuid::Uuid) -> Self {
        let hex = uuid.simple().to_string().to_ascii_uppercase();
        Self(format!("{}{}", Self::PREFIX, &hex[..8]))
    }

    /// Accepts `CUST_` + 8 hex digits (either case; stored upper-case).
    ///
    /// # Errors
    /// When the text does not have that shape.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let rest = raw.strip_prefix(Self::PREFIX);
        match rest {
            Some(hex) if hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(Self(
                format!("{}{}", Self::PREFIX, hex.to_ascii_uppercase()),
            )),
            _ => Err(ValueError::new(
                "value_error.customer_id",
                "customer_id must be CUST_ followed by 8 hexadecimal characters",
            )),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CustomerId {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CustomerId> for String {
    fn from(value: CustomerId) -> Self {
        value.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A login name: lower-case ASCII letters and digits, 1 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Longest username the model stores.
    pub const MAX_LEN: usize = 50;

    /// # Errors
    /// When empty, too long, or containing anything but `a-z0-9`.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        if raw.is_empty()
            || raw.len() > Self::MAX_LEN
            || !raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(ValueError::new(
                "value_error.username",
                "username must be 1 to 50 lower-case letters and digits",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The username as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A syntactically valid email address, trimmed; equality ignores letter case.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Longest address the model stores.
    pub const MAX_LEN: usize = 255;

    /// # Errors
    /// When the address is longer than 255 characters or not of the form `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let email = raw.trim();
        let invalid = || ValueError::new("value_error.email", "value is not a valid email address");
        if email.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(
                "value_error.email",
                "email must be at most 255 characters",
            ));
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| {
                tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
            });
        if local_ok && domain_ok {
            Ok(Self(email.to_owned()))
        } else {
            Err(invalid())
        }
    }

    /// The address as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_lowercase() == other.0.to_lowercase()
    }
}

impl TryFrom<String> for Email {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number as people type it: digits, spaces and `+ - ( ) .`, 7 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Longest number the model stores.
    pub const MAX_LEN: usize = 20;

    /// # Errors
    /// When it has other characters, a `+` anywhere but first, too few or too many digits.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let phone = raw.trim();
        let err = |m: &str| ValueError::new("value_error.phone", m);
        if phone.chars().count() > Self::MAX_LEN {
            return Err(err("phone must be at most 20 characters"));
        }
        if !phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err(err(
                "phone may contain only digits, spaces and the characters + - ( ) .",
            ));
        }
        if phone.rfind('+').is_some_and(|i| i > 0) {
            return Err(err("phone may have a + only at the start"));
        }
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            return Err(err("phone must have 7 to 15 digits"));
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

/// Gender, from a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

    /// # Errors
    /// When the text is not one of the four values (case and surrounding spaces ignored).
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let lowered = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == lowered)
            .ok_or_else(|| {
                ValueError::new(
                    "value_error.gender",
                    "gender must be one of: male, female, other, prefer_not_to_say",
                )
            })
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

/// A set of tags: trimmed, lower-cased, without duplicates, in first-seen order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tags(Vec<String>);

impl Tags {
    /// Longest comma-separated form the model stores.
    pub const MAX_LEN: usize = 500;
    /// Longest single tag.
    pub const MAX_TAG_LEN: usize = 50;

    /// Parses the comma-separated form (`"premium, Tech,premium"` gives `premium,tech`).
    ///
    /// # Errors
    /// When a tag is longer than 50 characters or has control characters, or the joined form
    /// is longer than 500 characters.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        Self::from_iter_checked(raw.split(','))
    }

    /// Builds the set from separate tags, with the same rules as [`Tags::parse`].
    ///
    /// # Errors
    /// As [`Tags::parse`].
    pub fn from_iter_checked<'a>(
        raw: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ValueError> {
        let mut tags: Vec<String> = Vec::new();
        for tag in raw {
            let tag = tag.trim().to_lowercase();
            if tag.is_empty() {
                continue;
            }
            if tag.chars().any(char::is_control) {
                return Err(ValueError::new(
                    "value_error.tags",
                    "tags must not contain control characters",
                ));
            }
            if tag.chars().count() > Self::MAX_TAG_LEN {
                return Err(ValueError::new(
                    "value_error.tags",
                    "each tag must be at most 50 characters",
                ));
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let joined = tags.join(",");
        if joined.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(
                "value_error.tags",
                "tags must be at most 500 characters in all",
            ));
        }
        Ok(Self(tags))
    }

    /// Wraps tags read back from storage, which were checked when written.
    pub fn from_stored(tags: Vec<String>) -> Self {
        Self(tags)
    }

    /// The tags, in order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// True when there is no tag.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The comma-separated form the API shows, `None` when there is no tag.
    pub fn to_csv(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.join(","))
    }
}

impl TryFrom<String> for Tags {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Tags> for String {
    fn from(value: Tags) -> Self {
        value.0.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_id_from_uuid_is_prefix_and_eight_upper_hex() {
        let id = CustomerId::from_uuid(uuid::Uuid::from_u128(
            0xa1b2_c3d4_0000_0000_0000_0000_0000_0000,
        ));
        assert_eq!(id.as_str(), "CUST_A1B2C3D4");
    }

    #[test]
    fn customer_id_parse_accepts_lower_case_and_rejects_other_shapes() {
        assert_eq!(
            CustomerId::parse("CUST_a1b2c3d4").unwrap().as_str(),
            "CUST_A1B2C3D4"
        );
        for bad in [
            "",
            "CUST_",
            "CUST_A1B2C3D",
            "CUST_A1B2C3D4E",
            "cust_A1B2C3D4",
            "CUST_G1B2C3D4",
        ] {
            assert!(CustomerId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_is_trimmed_and_compared_ignoring_case() {
        let a = Email::parse("  John.Doe@Example.com ").unwrap();
        assert_eq!(a.as_str(), "John.Doe@Example.com");
        assert_eq!(a, Email::parse("john.doe@example.com").unwrap());
    }

    #[test]
    fn email_accepts_plus_and_subdomains() {
        for ok in [
            "a+b@x.co",
            "first.last@mail.example.org",
            "o'brien@x.ie",
            "üser@bücher.de",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@x.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            "a@b.c",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a@b.c0m",
            "a\0@b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn email_longer_than_255_characters_is_rejected() {
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(200));
        assert!(long.len() > 255);
        assert!(Email::parse(&long).is_err());
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
    fn tags_are_trimmed_lower_cased_and_deduplicated_in_order() {
        let tags = Tags::parse(" Premium, tech ,,premium,New-York ").unwrap();
        assert_eq!(tags.as_slice(), ["premium", "tech", "new-york"]);
        assert_eq!(tags.to_csv().as_deref(), Some("premium,tech,new-york"));
    }

    #[test]
    fn empty_tags_show_as_none() {
        assert_eq!(Tags::parse(" , ").unwrap().to_csv(), None);
    }

    #[test]
    fn tags_longer_than_their_limits_are_rejected() {
        assert!(Tags::parse(&"x".repeat(51)).is_err());
        let many: Vec<String> = (0..60).map(|i| format!("tag{i:05}")).collect();
        assert!(Tags::parse(&many.join(",")).is_err());
    }

    #[test]
    fn username_parse_allows_only_lower_alphanumerics() {
        assert!(Username::parse("johndoe1234").is_ok());
        for bad in ["", "JohnDoe", "john doe", "john_doe", &"a".repeat(51)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }
}
