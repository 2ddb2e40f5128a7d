//! Partial and bulk updates: the raw input and the validated changes.

use chrono::NaiveDateTime;

use super::{Patch, clean_patch, typed};
use crate::error::ValidationErrors;
use crate::models::rules::{self, Checks, ValidationContext};
use crate::models::values::{Email, Gender, LanguageTag, Phone, Tags, ValueError};

/// A partial update as the client sends it: every create field plus the status flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerPatch {
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub email: Patch<String>,
    pub phone: Patch<String>,
    pub address_line1: Patch<String>,
    pub address_line2: Patch<String>,
    pub city: Patch<String>,
    pub state: Patch<String>,
    pub postal_code: Patch<String>,
    pub country: Patch<String>,
    pub date_of_birth: Patch<NaiveDateTime>,
    pub gender: Patch<String>,
    pub company_name: Patch<String>,
    pub tax_id: Patch<String>,
    /// A BCP 47 language tag (`pt-BR`); `Clear` removes it.
    pub preferred_language: Patch<String>,
    pub marketing_emails: Patch<bool>,
    pub marketing_sms: Patch<bool>,
    pub notes: Patch<String>,
    pub tags: Patch<String>,
    pub is_active: Patch<bool>,
    pub is_verified: Patch<bool>,
    pub email_verified: Patch<bool>,
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
    pub preferred_language: Patch<LanguageTag>,
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
    field: &'static str,
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
            preferred_language: clean_patch(self.preferred_language),
            notes: clean_patch(self.notes),
            tags: clean_patch(self.tags),
            ..self
        }
    }

    /// Every rule over every field, in declaration order.
    fn check(&self, ctx: &ValidationContext) -> Result<(), ValidationErrors> {
        let mut c = Checks::default();
        c.set_not_null("first_name", self.first_name.as_deref(), rules::person_name);
        c.set_not_null("last_name", self.last_name.as_deref(), rules::person_name);
        c.set_not_null("email", self.email.as_deref(), rules::email);
        c.patch("phone", self.phone.as_deref(), rules::phone);
        c.patch(
            "address_line1",
            self.address_line1.as_deref(),
            rules::address_line,
        );
        c.patch(
            "address_line2",
            self.address_line2.as_deref(),
            rules::address_line,
        );
        c.patch("city", self.city.as_deref(), rules::place);
        c.patch("state", self.state.as_deref(), rules::place);
        c.patch(
            "postal_code",
            self.postal_code.as_deref(),
            rules::postal_code,
        );
        c.patch("country", self.country.as_deref(), rules::place);
        let birth = rules::date_of_birth(ctx);
        c.patch("date_of_birth", self.date_of_birth.as_ref(), birth);
        c.patch("gender", self.gender.as_deref(), rules::gender);
        c.patch(
            "company_name",
            self.company_name.as_deref(),
            rules::company_name,
        );
        c.patch("tax_id", self.tax_id.as_deref(), rules::tax_id);
        c.patch(
            "preferred_language",
            self.preferred_language.as_deref(),
            rules::language_tag,
        );
        c.not_null("marketing_emails", self.marketing_emails.as_ref());
        c.not_null("marketing_sms", self.marketing_sms.as_ref());
        c.patch("notes", self.notes.as_deref(), rules::notes);
        c.patch("tags", self.tags.as_deref(), rules::tags);
        c.not_null("is_active", self.is_active.as_ref());
        c.not_null("is_verified", self.is_verified.as_ref());
        c.not_null("email_verified", self.email_verified.as_ref());
        c.not_null("phone_verified", self.phone_verified.as_ref());
        c.finish()
    }

    /// Trims every text, checks every rule and returns the typed changes.
    ///
    /// # Errors
    /// Every field that breaks a rule, including fields that may not be cleared.
    pub fn validate_into(
        self,
        ctx: &ValidationContext,
    ) -> Result<CustomerChanges, ValidationErrors> {
        let input = self.normalised();
        input.check(ctx)?;
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
            preferred_language: typed_patch(
                "preferred_language",
                input.preferred_language,
                LanguageTag::parse,
            )?,
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
    /// For the customers listed here (by id as sent), the version the change expects: one
    /// at another version is left alone and reported. Not in the original service.
    pub expected_versions: std::collections::BTreeMap<String, u64>,
}

impl BulkUpdate {
    /// Most customer ids one request may name.
    pub const MAX_IDS: usize = 1000;

    /// The changes checked as a single update's, each violation located within `updates`.
    ///
    /// # Errors
    /// Every field of the changes that breaks a rule.
    pub fn validate_changes(
        &self,
        ctx: &ValidationContext,
    ) -> Result<CustomerChanges, ValidationErrors> {
        self.updates
            .clone()
            .validate_into(ctx)
            .map_err(|errors| errors.within("updates"))
    }
}
