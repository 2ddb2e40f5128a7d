//! Identifiers: the public customer id and the generated username.

use std::fmt;

use super::ValueError;
use crate::error::Rule;

/// The public identifier of a customer: `CUST_` followed by 8 upper-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
            _ => Err(ValueError::new(Rule::CustomerIdShape)),
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
            return Err(ValueError::new(Rule::UsernameShape));
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
    fn username_parse_allows_only_lower_alphanumerics() {
        assert!(Username::parse("johndoe1234").is_ok());
        for bad in ["", "JohnDoe", "john doe", "john_doe", &"a".repeat(51)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_convert_to_and_from_their_text() {
        let id = CustomerId::try_from("CUST_a1b2c3d4".to_owned()).unwrap();
        assert_eq!(id.to_string(), "CUST_A1B2C3D4");
        assert_eq!(String::from(id), "CUST_A1B2C3D4");
        assert_eq!(
            CustomerId::try_from("nope".to_owned()).unwrap_err().rule,
            Rule::CustomerIdShape
        );
        let name = Username::try_from("johndoe1".to_owned()).unwrap();
        assert_eq!(name.to_string(), "johndoe1");
        assert_eq!(String::from(name), "johndoe1");
        assert_eq!(
            Username::try_from("John".to_owned()).unwrap_err().rule,
            Rule::UsernameShape
        );
    }

    #[test]
    fn a_username_may_have_exactly_50_characters() {
        assert!(Username::parse(&"a".repeat(50)).is_ok());
        assert!(Username::parse("a").is_ok());
        assert_eq!(
            Username::parse(&"a".repeat(51)).unwrap_err().rule,
            Rule::UsernameShape
        );
    }
}
