//! Partial and bulk updates: the raw input and the validated changes.

use chrono::NaiveDateTime;
use garde::Validate;

use super::{Patch, clean_patch, typed};
use crate::error::ValidationErrors;
use crate::models::rules::{self, ValidationContext};
use crate::models::values::{Email, Gender, Phone, Tags, ValueError};

/// A partial update as the client sends it: every create field plus the status flags.
#[derive(Debug, Clone, Default, PartialEq, Validate)]
#[garde(context(ValidationContext))]
pub struct CustomerPatch {
    #[garde(custom(rules::not_null), inner(custom(rules::person_name)))]
    pub first_name: Patch<String>,
    #[garde(custom(rules::not_null), inner(custom(rules::person_name)))]
    pub last_name: Patch<String>,
    #[garde(custom(rules::not_null), inner(custom(rules::email)))]
    pub email: Patch<String>,
    #[garde(inner(custom(rules::phone)))]
    pub phone: Patch<String>,
    #[garde(inner(custom(rules::text(255))))]
    pub address_line1: Patch<String>,
    #[garde(inner(custom(rules::text(255))))]
    pub address_line2: Patch<String>,
    #[garde(inner(custom(rules::text(100))))]
    pub city: Patch<String>,
    #[garde(inner(custom(rules::text(100))))]
    pub state: Patch<String>,
    #[garde(inner(custom(rules::text(20))))]
    pub postal_code: Patch<String>,
    #[garde(inner(custom(rules::text(100))))]
    pub country: Patch<String>,
    #[garde(inner(custom(rules::date_of_birth)))]
    pub date_of_birth: Patch<NaiveDateTime>,
    #[garde(inner(custom(rules::gender)))]
    pub gender: Patch<String>,
    #[garde(inner(custom(rules::text(255))))]
    pub company_name: Patch<String>,
    #[garde(inner(custom(rules::text(50))))]
    pub tax_id: Patch<String>,
    #[garde(custom(rules::not_null))]
    pub marketing_emails: Patch<bool>,
    #[garde(custom(rules::not_null))]
    pub marketing_sms: Patch<bool>,
    #[garde(inner(custom(rules::notes)))]
    pub notes: Patch<String>,
    #[garde(inner(custom(rules::tags)))]
    pub tags: Patch<String>,
    #[garde(custom(rules::not_null))]
    pub is_active: Patch<bool>,
    #[garde(custom(rules::not_null))]
    pub is_verified: Patch<bool>,
    #[garde(custom(rules::not_null))]
    pub email_verified: Patch<bool>,
    #[garde(custom(rules::not_null))]
    pub phone_verified: Patch<bool>,
}

/// A validated update, typed: `None`/`Keep` leave a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Email>,
    pub phone: Patch<Phone>,
    pub address_line1: Patch<String>,
    pub address_line2: Patch<String>,
    pub city: Patch<String>,
    pub state: Patch<String>,
    pub postal_code: Patch<String>,
    pub country: Patch<String>,
    pub date_of_birth: Patch<NaiveDateTime>,
    pub gender: Patch<Gender>,
    pub company_name: Patch<String>,
    pub tax_id: Patch<String>,
    pub marketing_emails: Option<bool>,
    pub marketing_sms: Option<bool>,
    pub notes: Patch<String>,
    /// `Clear` and an empty set both remove every tag.
    pub tags: Patch<Tags>,
    pub is_active: Option<bool>,
    pub is_verified: Option<bool>,
    pub email_verified: Option<bool>,
    pub phone_verified: Option<bool>,
}

impl CustomerChanges {
    /// True when the update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

fn typed_patch<T>(
    field: &str,
    value: Patch<String>,
    parse: impl FnOnce(&str) -> Result<T, ValueError>,
) -> Result<Patch<T>, ValidationErrors> {
    Ok(match value {
        Patch::Keep => Patch::Keep,
        Patch::Clear => Patch::Clear,
        Patch::Set(v) => Patch::Set(typed(field, parse(&v))?),
    })
}

impl CustomerPatch {
    fn normalised(self) -> Self {
        Self {
            first_name: self.first_name.map(|v| v.trim().to_owned()),
            last_name: self.last_name.map(|v| v.trim().to_owned()),
            email: self.email.map(|v| v.trim().to_owned()),
            phone: clean_patch(self.phone),
            address_line1: clean_patch(self.address_line1),
            address_line2: clean_patch(self.address_line2),
            city: clean_patch(self.city),
            state: clean_patch(self.state),
            postal_code: clean_patch(self.postal_code),
            country: clean_patch(self.country),
            gender: clean_patch(self.gender),
            company_name: clean_patch(self.company_name),
            tax_id: clean_patch(self.tax_id),
            notes: clean_patch(self.notes),
            tags: clean_patch(self.tags),
            ..self
        }
    }

    /// Trims every text, checks every rule and returns the typed changes. `prefix` names the
    /// enclosing field in error locations (`updates` in a bulk update), or is empty.
    ///
    /// # Errors
    /// Every field that breaks a rule, including required fields sent as `null`.
    pub fn validate_into(
        self,
        ctx: &ValidationContext,
        prefix: &str,
    ) -> Result<CustomerChanges, ValidationErrors> {
        let input = self.normalised();
        input
            .validate_with(ctx)
            .map_err(|report| ValidationErrors::from_report(&report, prefix))?;
        Ok(CustomerChanges {
            first_name: input.first_name.into_set(),
            last_name: input.last_name.into_set(),
            email: typed(
                "email",
                input
                    .email
                    .into_set()
                    .as_deref()
                    .map(Email::parse)
                    .transpose(),
            )?,
            phone: typed_patch("phone", input.phone, Phone::parse)?,
            gender: typed_patch("gender", input.gender, Gender::parse)?,
            tags: typed_patch("tags", input.tags, Tags::parse)?,
            address_line1: input.address_line1,
            address_line2: input.address_line2,
            city: input.city,
            state: input.state,
            postal_code: input.postal_code,
            country: input.country,
            date_of_birth: input.date_of_birth,
            company_name: input.company_name,
            tax_id: input.tax_id,
            marketing_emails: input.marketing_emails.into_set(),
            marketing_sms: input.marketing_sms.into_set(),
            notes: input.notes,
            is_active: input.is_active.into_set(),
            is_verified: input.is_verified.into_set(),
            email_verified: input.email_verified.into_set(),
            phone_verified: input.phone_verified.into_set(),
        })
    }
}

/// The same changes applied to many customers; email cannot be set this way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkUpdate {
    /// The customers to change, as sent (each is checked on its own).
    pub customer_ids: Vec<String>,
    /// The changes, as in a single update.
    pub updates: CustomerPatch,
}

impl BulkUpdate {
    /// Most customer ids one request may name.
    pub const MAX_IDS: usize = 1000;
}
