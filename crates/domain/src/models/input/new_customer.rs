//! A new customer: the raw input and the validated draft.

use chrono::NaiveDateTime;
use garde::Validate;

use super::{clean, typed};
use crate::error::ValidationErrors;
use crate::models::rules::{self, ValidationContext};
use crate::models::values::{Email, Gender, Phone, Tags};

/// A new customer as the client sends it: raw text, checked by [`NewCustomer::validate_into`].
#[derive(Debug, Clone, Default, PartialEq, Validate)]
#[garde(context(ValidationContext))]
pub struct NewCustomer {
    #[garde(custom(rules::person_name))]
    pub first_name: String,
    #[garde(custom(rules::person_name))]
    pub last_name: String,
    #[garde(custom(rules::email))]
    pub email: String,
    #[garde(inner(custom(rules::phone)))]
    pub phone: Option<String>,
    #[garde(inner(custom(rules::text(255))))]
    pub address_line1: Option<String>,
    #[garde(inner(custom(rules::text(255))))]
    pub address_line2: Option<String>,
    #[garde(inner(custom(rules::text(100))))]
    pub city: Option<String>,
    #[garde(inner(custom(rules::text(100))))]
    pub state: Option<String>,
    #[garde(inner(custom(rules::text(20))))]
    pub postal_code: Option<String>,
    #[garde(inner(custom(rules::text(100))))]
    pub country: Option<String>,
    #[garde(inner(custom(rules::date_of_birth)))]
    pub date_of_birth: Option<NaiveDateTime>,
    #[garde(inner(custom(rules::gender)))]
    pub gender: Option<String>,
    #[garde(inner(custom(rules::text(255))))]
    pub company_name: Option<String>,
    #[garde(inner(custom(rules::text(50))))]
    pub tax_id: Option<String>,
    /// Defaults to `true`, as in the seed's model.
    #[garde(skip)]
    pub marketing_emails: Option<bool>,
    /// Defaults to `false`, as in the seed's model.
    #[garde(skip)]
    pub marketing_sms: Option<bool>,
    #[garde(inner(custom(rules::notes)))]
    pub notes: Option<String>,
    #[garde(inner(custom(rules::tags)))]
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
            notes: clean(self.notes),
            tags: clean(self.tags),
            ..self
        }
    }

    /// Trims every text, checks every rule and returns the typed draft.
    ///
    /// # Errors
    /// Every field that breaks a rule, with its name and a message.
    pub fn validate_into(self, ctx: &ValidationContext) -> Result<CustomerDraft, ValidationErrors> {
        let input = self.normalised();
        input
            .validate_with(ctx)
            .map_err(|report| ValidationErrors::from_report(&report, ""))?;
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
