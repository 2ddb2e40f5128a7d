//! [`CustomerChanges`] as a diesel changeset: only the fields that change are written.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::{CustomerChanges, Email, LanguageTag, Patch, Phone, Verification};

use crate::schema::customers;

/// `None` leaves a column as it is; for nullable columns `Some(None)` writes `NULL`.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CustomerChangeset<'a> {
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<Option<&'a str>>,
    address_line1: Option<Option<&'a str>>,
    address_line2: Option<Option<&'a str>>,
    city: Option<Option<&'a str>>,
    state: Option<Option<&'a str>>,
    postal_code: Option<Option<&'a str>>,
    country: Option<Option<&'a str>>,
    date_of_birth: Option<Option<NaiveDateTime>>,
    gender: Option<Option<&'static str>>,
    company_name: Option<Option<&'a str>>,
    tax_id: Option<Option<&'a str>>,
    preferred_language: Option<Option<&'a str>>,
    marketing_emails: Option<bool>,
    marketing_sms: Option<bool>,
    notes: Option<Option<&'a str>>,
    tags: Option<&'a [String]>,
    is_active: Option<bool>,
    is_verified: Option<bool>,
    email_verified: Option<bool>,
    phone_verified: Option<bool>,
    /// Set only by a login, never by an update.
    last_login_at: Option<DateTime<Utc>>,
}

/// Keep → `None`, Clear → `Some(None)`, Set → `Some(Some(..))`.
fn patch<'a, T, U>(value: &'a Patch<T>, view: impl FnOnce(&'a T) -> U) -> Option<Option<U>> {
    match value {
        Patch::Keep => None,
        Patch::Clear => Some(None),
        Patch::Set(v) => Some(Some(view(v))),
    }
}

fn text(value: &Patch<String>) -> Option<Option<&str>> {
    patch(value, String::as_str)
}

impl<'a> CustomerChangeset<'a> {
    pub(crate) fn new(changes: &'a CustomerChanges) -> Self {
        Self {
            first_name: changes.first_name.as_deref(),
            last_name: changes.last_name.as_deref(),
            email: changes.email.as_ref().map(Email::as_str),
            phone: patch(&changes.phone, Phone::as_str),
            address_line1: text(&changes.address_line1),
            address_line2: text(&changes.address_line2),
            city: text(&changes.city),
            state: text(&changes.state),
            postal_code: text(&changes.postal_code),
            country: text(&changes.country),
            date_of_birth: patch(&changes.date_of_birth, |d| *d),
            gender: patch(&changes.gender, |g| g.as_str()),
            company_name: text(&changes.company_name),
            tax_id: text(&changes.tax_id),
            preferred_language: patch(&changes.preferred_language, LanguageTag::as_str),
            marketing_emails: changes.marketing_emails,
            marketing_sms: changes.marketing_sms,
            notes: text(&changes.notes),
            // The column is NOT NULL: clearing the tags stores the empty set.
            tags: match &changes.tags {
                Patch::Keep => None,
                Patch::Clear => Some(&[]),
                Patch::Set(tags) => Some(tags.as_slice()),
            },
            is_active: changes.is_active,
            is_verified: changes.is_verified,
            email_verified: changes.email_verified,
            phone_verified: changes.phone_verified,
            last_login_at: None,
        }
    }

    /// `what` marked verified.
    pub(crate) fn verified(what: Verification) -> Self {
        match what {
            Verification::Email => Self {
                email_verified: Some(true),
                ..Self::default()
            },
            Verification::Phone => Self {
                phone_verified: Some(true),
                ..Self::default()
            },
        }
    }

    /// A login at `at`.
    pub(crate) fn logged_in(at: DateTime<Utc>) -> Self {
        Self {
            last_login_at: Some(at),
            ..Self::default()
        }
    }

    /// The customer deactivated (a soft delete).
    pub(crate) fn deactivated() -> Self {
        Self {
            is_active: Some(false),
            ..Self::default()
        }
    }

    /// The same changes without the email, which a bulk update never sets: one address
    /// cannot belong to many customers.
    pub(crate) fn without_email(self) -> Self {
        Self {
            email: None,
            ..self
        }
    }

    /// True when nothing would be written (diesel refuses an empty `SET`).
    pub(crate) fn is_empty(&self) -> bool {
        let Self {
            first_name,
            last_name,
            email,
            phone,
            address_line1,
            address_line2,
            city,
            state,
            postal_code,
            country,
            date_of_birth,
            gender,
            company_name,
            tax_id,
            preferred_language,
            marketing_emails,
            marketing_sms,
            notes,
            tags,
            is_active,
            is_verified,
            email_verified,
            phone_verified,
            last_login_at,
        } = self;
        // Destructured so that a new column cannot be forgotten here.
        first_name.is_none()
            && last_name.is_none()
            && email.is_none()
            && phone.is_none()
            && address_line1.is_none()
            && address_line2.is_none()
            && city.is_none()
            && state.is_none()
            && postal_code.is_none()
            && country.is_none()
            && date_of_birth.is_none()
            && gender.is_none()
            && company_name.is_none()
            && tax_id.is_none()
            && preferred_language.is_none()
            && marketing_emails.is_none()
            && marketing_sms.is_none()
            && notes.is_none()
            && tags.is_none()
            && is_active.is_none()
            && is_verified.is_none()
            && email_verified.is_none()
            && phone_verified.is_none()
            && last_login_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    use domain::{Gender, Tags};

    use super::*;

    #[test]
    fn no_changes_make_an_empty_changeset() {
        assert!(CustomerChangeset::new(&CustomerChanges::default()).is_empty());
    }

    #[test]
    fn keep_clear_and_set_become_skip_null_and_value() {
        let changes = CustomerChanges {
            city: Patch::Clear,
            country: Patch::Set("USA".into()),
            gender: Patch::Set(Gender::Female),
            tags: Patch::Clear,
            is_active: Some(false),
            ..CustomerChanges::default()
        };
        let set = CustomerChangeset::new(&changes);
        assert!(!set.is_empty());
        assert_eq!(set.state, None);
        assert_eq!(set.city, Some(None));
        assert_eq!(set.country, Some(Some("USA")));
        assert_eq!(set.gender, Some(Some("female")));
        assert_eq!(set.tags, Some(&[][..]));
        assert_eq!(set.is_active, Some(false));
    }

    #[test]
    fn a_bulk_changeset_never_sets_the_email() {
        let changes = CustomerChanges {
            email: Some(Email::parse("a@b.co").unwrap()),
            tags: Patch::Set(Tags::parse("x").unwrap()),
            ..CustomerChanges::default()
        };
        let set = CustomerChangeset::new(&changes).without_email();
        assert_eq!(set.email, None);
        assert!(!set.is_empty());
        let only_email = CustomerChanges {
            email: Some(Email::parse("a@b.co").unwrap()),
            ..CustomerChanges::default()
        };
        assert!(
            CustomerChangeset::new(&only_email)
                .without_email()
                .is_empty()
        );
    }
}
