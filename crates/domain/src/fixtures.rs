//! Example values for other crates' tests (with the `mock` feature) and this one's: the
//! contract's customer and a minimal valid draft, so that no test suite writes its own.

#![expect(
    clippy::unwrap_used,
    reason = "fixed example values: a failure to parse one is a broken fixture"
)]

use chrono::{DateTime, NaiveDate, Utc};

use crate::models::{Customer, CustomerDraft, CustomerId, Email, Gender, Phone, Tags, Username};

/// The customer of the contract's response example.
pub fn john_doe() -> Customer {
    let at = DateTime::parse_from_rfc3339("2024-01-15T10:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    Customer {
        id: 1,
        customer_id: CustomerId::parse("CUST_A1B2C3D4").unwrap(),
        username: Username::parse("johndoe1234").unwrap(),
        first_name: "John".into(),
        last_name: "Doe".into(),
        email: Email::parse("john.doe@example.com").unwrap(),
        phone: Some(Phone::parse("+1-555-0123").unwrap()),
        address_line1: Some("123 Main Street".into()),
        address_line2: None,
        city: Some("New York".into()),
        state: Some("NY".into()),
        postal_code: Some("10001".into()),
        country: Some("USA".into()),
        date_of_birth: NaiveDate::from_ymd_opt(1990, 1, 15).and_then(|d| d.and_hms_opt(0, 0, 0)),
        gender: Some(Gender::Male),
        company_name: Some("Tech Corp".into()),
        tax_id: None,
        preferred_language: None,
        is_active: true,
        is_verified: false,
        email_verified: false,
        phone_verified: false,
        marketing_emails: true,
        marketing_sms: false,
        notes: Some("Premium customer".into()),
        tags: Tags::parse("premium,tech,new-york").unwrap(),
        created_at: at,
        updated_at: at,
        last_login_at: None,
        version: 1,
    }
}

/// A minimal valid draft for `first last <email>`: no optional field, the defaults for
/// the rest.
pub fn draft(first: &str, last: &str, email: &str) -> CustomerDraft {
    CustomerDraft {
        first_name: first.into(),
        last_name: last.into(),
        email: Email::parse(email).unwrap(),
        phone: None,
        address_line1: None,
        address_line2: None,
        city: None,
        state: None,
        postal_code: None,
        country: None,
        date_of_birth: None,
        gender: None,
        company_name: None,
        tax_id: None,
        preferred_language: None,
        marketing_emails: true,
        marketing_sms: false,
        notes: None,
        tags: Tags::default(),
    }
}
