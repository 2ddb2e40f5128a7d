//! A new customer: the raw input and the validated draft.

use chrono::NaiveDateTime;

use super::{clean, typed};
use crate::error::ValidationErrors;
use crate::models::rules::{self, Checks, ValidationContext};
use crate::models::values::{Email, Gender, LanguageTag, Phone, Tags};

/// A new customer as the client sends it: raw text, checked by [`NewCustomer::validate_into`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewCustomer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub date_of_birth: Option<NaiveDateTime>,
    pub gender: Option<String>,
    pub company_name: Option<String>,
    pub tax_id: Option<String>,
    /// A BCP 47 language tag (`pt-BR`).
    pub preferred_language: Option<String>,
    /// Defaults to `true`, as in the seed's model.
    pub marketing_emails: Option<bool>,
    /// Defaults to `false`, as in the seed's model.
    pub marketing_sms: Option<bool>,
    pub notes: Option<String>,
    pub tags: Option<String>,
}

/// A validated new customer, typed; the service adds the generated ids.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerDraft {
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
    pub preferred_language: Option<LanguageTag>,
    pub marketing_emails: bool,
    pub marketing_sms: bool,
    pub notes: Option<String>,
    pub tags: Tags,
}

impl NewCustomer {
    fn normalised(self) -> Self {
        Self {
            first_name: self.first_name.trim().to_owned(),
            last_name: self.last_name.trim().to_owned(),
            email: self.email.trim().to_owned(),
            phone: clean(self.phone),
            address_line1: clean(self.address_line1),
            address_line2: clean(self.address_line2),
            city: clean(self.city),
            state: clean(self.state),
            postal_code: clean(self.postal_code),
            country: clean(self.country),
            gender: clean(self.gender),
            company_name: clean(self.company_name),
            tax_id: clean(self.tax_id),
            preferred_language: clean(self.preferred_language),
            notes: clean(self.notes),
            tags: clean(self.tags),
            ..self
        }
    }

    /// Every rule over every field, in declaration order.
    fn check(&self, ctx: &ValidationContext) -> Result<(), ValidationErrors> {
        let mut c = Checks::default();
        c.field("first_name", self.first_name.as_str(), rules::person_name);
        c.field("last_name", self.last_name.as_str(), rules::person_name);
        c.field("email", self.email.as_str(), rules::email);
        c.optional("phone", self.phone.as_deref(), rules::phone);
        c.optional(
            "address_line1",
            self.address_line1.as_deref(),
            rules::address_line,
        );
        c.optional(
            "address_line2",
            self.address_line2.as_deref(),
            rules::address_line,
        );
        c.optional("city", self.city.as_deref(), rules::place);
        c.optional("state", self.state.as_deref(), rules::place);
        c.optional(
            "postal_code",
            self.postal_code.as_deref(),
            rules::postal_code,
        );
        c.optional("country", self.country.as_deref(), rules::place);
        let birth = rules::date_of_birth(ctx);
        c.optional("date_of_birth", self.date_of_birth.as_ref(), birth);
        c.optional("gender", self.gender.as_deref(), rules::gender);
        c.optional(
            "company_name",
            self.company_name.as_deref(),
            rules::company_name,
        );
        c.optional("tax_id", self.tax_id.as_deref(), rules::tax_id);
        c.optional(
            "preferred_language",
            self.preferred_language.as_deref(),
            rules::language_tag,
        );
        c.optional("notes", self.notes.as_deref(), rules::notes);
        c.optional("tags", self.tags.as_deref(), rules::tags);
        c.finish()
    }

    /// Trims every text, checks every rule and returns the typed draft.
    ///
    /// # Errors
    /// Every field that breaks a rule, with its name and the rule.
    pub fn validate_into(self, ctx: &ValidationContext) -> Result<CustomerDraft, ValidationErrors> {
        let input = self.normalised();
        input.check(ctx)?;
        Ok(CustomerDraft {
            email: typed("email", Email::parse(&input.email))?,
            phone: typed(
                "phone",
                input.phone.as_deref().map(Phone::parse).transpose(),
            )?,
            gender: typed(
                "gender",
                input.gender.as_deref().map(Gender::parse).transpose(),
            )?,
            preferred_language: typed(
                "preferred_language",
                input
                    .preferred_language
                    .as_deref()
                    .map(LanguageTag::parse)
                    .transpose(),
            )?,
            tags: typed("tags", input.tags.as_deref().map(Tags::parse).transpose())?
                .unwrap_or_default(),
            first_name: input.first_name,
            last_name: input.last_name,
            address_line1: input.address_line1,
            address_line2: input.address_line2,
            city: input.city,
            state: input.state,
            postal_code: input.postal_code,
            country: input.country,
            date_of_birth: input.date_of_birth,
            company_name: input.company_name,
            tax_id: input.tax_id,
            marketing_emails: input.marketing_emails.unwrap_or(true),
            marketing_sms: input.marketing_sms.unwrap_or(false),
            notes: input.notes,
        })
    }
}
