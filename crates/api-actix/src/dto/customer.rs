//! The customer as the API shows it: every field of the seed's response plus
//! `address_line2`, `tax_id`, `preferred_language`, `full_name` and `full_address`.

use std::sync::LazyLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use domain::Customer;
use serde::Serialize;
use utoipa::ToSchema;

/// A customer, in the seed's field order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerResponse {
    /// Database identity.
    #[schema(example = 1)]
    pub id: i64,
    /// Public identifier: `CUST_` and 8 upper-case hex digits.
    #[schema(example = "CUST_A1B2C3D4")]
    pub customer_id: String,
    /// Generated unique login name.
    #[schema(example = "johndoe1234")]
    pub username: String,
    #[schema(example = "John")]
    pub first_name: String,
    #[schema(example = "Doe")]
    pub last_name: String,
    #[schema(example = "john.doe@example.com")]
    pub email: String,
    #[schema(example = "+1-555-0123")]
    pub phone: Option<String>,
    #[schema(example = "123 Main Street")]
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    #[schema(example = "New York")]
    pub city: Option<String>,
    #[schema(example = "NY")]
    pub state: Option<String>,
    #[schema(example = "10001")]
    pub postal_code: Option<String>,
    #[schema(example = "USA")]
    pub country: Option<String>,
    /// Date and time without a zone, as the seed's original shows it.
    #[schema(example = "1990-01-15T00:00:00")]
    pub date_of_birth: Option<String>,
    /// `male`, `female`, `other` or `prefer_not_to_say`.
    #[schema(value_type = Option<super::fields::Gender>, example = "male")]
    pub gender: Option<String>,
    #[schema(example = "Tech Corp")]
    pub company_name: Option<String>,
    pub tax_id: Option<String>,
    /// BCP 47 language tag in canonical case (language lower-case, script title-case,
    /// region upper-case); `null` when not given. Not in the original service.
    #[schema(example = "pt-BR")]
    pub preferred_language: Option<String>,
    pub is_active: bool,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub marketing_emails: bool,
    pub marketing_sms: bool,
    pub notes: Option<String>,
    /// Comma-separated tags, `null` when there is none.
    #[schema(example = "premium,tech,new-york")]
    pub tags: Option<String>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime, example = "2024-01-15T10:30:00Z")]
    pub created_at: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime, example = "2024-01-15T10:30:00Z")]
    pub updated_at: String,
    /// RFC 3339, UTC; `null` before the first login.
    #[schema(format = DateTime)]
    pub last_login_at: Option<String>,
    /// First and last name.
    #[schema(example = "John Doe")]
    pub full_name: String,
    /// The non-empty address parts joined by `, `; `null` when there is none.
    #[schema(example = "123 Main Street, New York, NY, 10001, USA")]
    pub full_address: Option<String>,
    /// 1 when created, one more after every change; the same as the `ETag` of
    /// single-customer answers, for `If-Match`. Not in the original service.
    #[schema(example = 1, minimum = 1)]
    pub version: u64,
}

/// `2024-01-15T10:30:00Z`; a fraction only when there is one.
pub(crate) fn utc_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `1990-01-15T00:00:00`; a fraction only when there is one.
pub(crate) fn local_timestamp(at: NaiveDateTime) -> String {
    // Parsed once: `format` with a string parses it again for every value.
    static ITEMS: LazyLock<Vec<Item<'static>>> =
        LazyLock::new(|| StrftimeItems::new("%Y-%m-%dT%H:%M:%S%.f").collect());
    at.format_with_items(ITEMS.iter()).to_string()
}

impl From<Customer> for CustomerResponse {
    fn from(c: Customer) -> Self {
        let full_name = c.full_name();
        let full_address = c.full_address();
        Self {
            id: c.id,
            customer_id: c.customer_id.into(),
            username: c.username.into(),
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email.as_str().to_owned(),
            phone: c.phone.map(String::from),
            address_line1: c.address_line1,
            address_line2: c.address_line2,
            city: c.city,
            state: c.state,
            postal_code: c.postal_code,
            country: c.country,
            date_of_birth: c.date_of_birth.map(local_timestamp),
            gender: c.gender.map(|g| g.as_str().to_owned()),
            company_name: c.company_name,
            tax_id: c.tax_id,
            preferred_language: c.preferred_language.map(String::from),
            is_active: c.is_active,
            is_verified: c.is_verified,
            email_verified: c.email_verified,
            phone_verified: c.phone_verified,
            marketing_emails: c.marketing_emails,
            marketing_sms: c.marketing_sms,
            notes: c.notes,
            tags: c.tags.to_csv(),
            created_at: utc_timestamp(c.created_at),
            updated_at: utc_timestamp(c.updated_at),
            last_login_at: c.last_login_at.map(utc_timestamp),
            full_name,
            full_address,
            version: c.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn timestamps_are_utc_with_z_and_a_fraction_only_when_non_zero() {
        let whole = DateTime::parse_from_rfc3339("2024-01-15T10:30:00+00:00")
            .unwrap()
            .to_utc();
        assert_eq!(utc_timestamp(whole), "2024-01-15T10:30:00Z");
        let fraction = DateTime::parse_from_rfc3339("2024-01-15T12:30:00.25+02:00")
            .unwrap()
            .to_utc();
        assert_eq!(utc_timestamp(fraction), "2024-01-15T10:30:00.250Z");
    }

    #[test]
    fn a_date_of_birth_is_shown_as_the_seed_shows_it() {
        let dob = NaiveDate::from_ymd_opt(1990, 1, 15)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(local_timestamp(dob), "1990-01-15T00:00:00");
    }
}
