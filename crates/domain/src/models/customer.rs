//! The customer entity as stored and shown.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{CustomerId, Email, Gender, LanguageTag, Phone, Tags, Username};

/// A customer with every field of the seed's model.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// Database identity, shown as `id`.
    pub id: i64,
    /// Public identifier, `CUST_` + 8 hex digits.
    pub customer_id: CustomerId,
    /// Generated, unique login name.
    pub username: Username,
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    pub phone: Option<Phone>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub date_of_birth: Option<NaiveDateTime>,
    pub gender: Option<Gender>,
    pub company_name: Option<String>,
    pub tax_id: Option<String>,
    /// BCP 47 tag in canonical case (`pt-BR`); not in the original service.
    pub preferred_language: Option<LanguageTag>,
    pub is_active: bool,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub marketing_emails: bool,
    pub marketing_sms: bool,
    pub notes: Option<String>,
    pub tags: Tags,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// 1 when created, one more after every write that changed the customer (see
    /// [`super::Precondition`]); not in the original service.
    pub version: u64,
}

impl Customer {
    /// First and last name separated by a space: "John Doe".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The non-empty address parts joined by ", ":
    /// "123 Main Street, New York, NY, 10001, USA"; `None` when there is no address part.
    pub fn full_address(&self) -> Option<String> {
        let parts: Vec<&str> = [
            &self.address_line1,
            &self.address_line2,
            &self.city,
            &self.state,
            &self.postal_code,
            &self.country,
        ]
        .into_iter()
        .filter_map(|part| part.as_deref().map(str::trim))
        .filter(|part| !part.is_empty())
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures::john_doe;

    #[test]
    fn full_name_joins_first_and_last_name() {
        assert_eq!(john_doe().full_name(), "John Doe");
    }

    #[test]
    fn full_address_matches_the_seed_example() {
        assert_eq!(
            john_doe().full_address().as_deref(),
            Some("123 Main Street, New York, NY, 10001, USA")
        );
    }

    #[test]
    fn full_address_skips_missing_and_blank_parts_and_includes_line2() {
        let mut c = john_doe();
        c.address_line2 = Some("Apt 4".into());
        c.state = Some("  ".into());
        c.postal_code = None;
        assert_eq!(
            c.full_address().as_deref(),
            Some("123 Main Street, Apt 4, New York, USA")
        );
        for part in [
            &mut c.address_line1,
            &mut c.address_line2,
            &mut c.city,
            &mut c.country,
            &mut c.state,
        ] {
            *part = None;
        }
        assert_eq!(c.full_address(), None);
    }
}
