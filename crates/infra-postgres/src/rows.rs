//! Row types of `customers` and their conversions to and from the domain's types.
//!
//! Values are re-parsed on the way out: a stored value the domain no longer accepts is a
//! data problem to report (`Unexpected`), not something to hand on silently.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::{
    Customer, CustomerDraft, CustomerId, Email, Gender, LanguageTag, Phone, RepositoryError, Tags,
    Username,
};

use crate::schema::customers;

/// A stored customer, column for column.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CustomerRow {
    id: i64,
    customer_id: String,
    username: String,
    first_name: String,
    last_name: String,
    email: String,
    phone: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    date_of_birth: Option<NaiveDateTime>,
    gender: Option<String>,
    company_name: Option<String>,
    tax_id: Option<String>,
    is_active: bool,
    is_verified: bool,
    email_verified: bool,
    phone_verified: bool,
    marketing_emails: bool,
    marketing_sms: bool,
    notes: Option<String>,
    tags: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
    preferred_language: Option<String>,
    version: i64,
}

impl CustomerRow {
    /// The domain customer, or `Unexpected` naming the row and column that no longer parse.
    pub(crate) fn into_customer(self) -> Result<Customer, RepositoryError> {
        let id = self.id;
        let invalid = |column: &str, err: domain::ValueError| {
            RepositoryError::Unexpected(format!(
                "stored customer {id} has an invalid {column}: {err}"
            ))
        };
        Ok(Customer {
            id,
            customer_id: CustomerId::parse(&self.customer_id)
                .map_err(|e| invalid("customer_id", e))?,
            username: Username::parse(&self.username).map_err(|e| invalid("username", e))?,
            email: Email::parse(&self.email).map_err(|e| invalid("email", e))?,
            phone: self
                .phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .map_err(|e| invalid("phone", e))?,
            gender: self
                .gender
                .as_deref()
                .map(Gender::parse)
                .transpose()
                .map_err(|e| invalid("gender", e))?,
            preferred_language: self
                .preferred_language
                .as_deref()
                .map(LanguageTag::parse)
                .transpose()
                .map_err(|e| invalid("preferred_language", e))?,
            tags: Tags::from_stored(self.tags),
            first_name: self.first_name,
            last_name: self.last_name,
            address_line1: self.address_line1,
            address_line2: self.address_line2,
            city: self.city,
            state: self.state,
            postal_code: self.postal_code,
            country: self.country,
            date_of_birth: self.date_of_birth,
            company_name: self.company_name,
            tax_id: self.tax_id,
            is_active: self.is_active,
            is_verified: self.is_verified,
            email_verified: self.email_verified,
            phone_verified: self.phone_verified,
            marketing_emails: self.marketing_emails,
            marketing_sms: self.marketing_sms,
            notes: self.notes,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_login_at: self.last_login_at,
            version: u64::try_from(self.version).map_err(|_| {
                RepositoryError::Unexpected(format!(
                    "stored customer {id} has an invalid version: {}",
                    self.version
                ))
            })?,
        })
    }
}

/// Converts every row, failing on the first that does not parse.
pub(crate) fn into_customers(rows: Vec<CustomerRow>) -> Result<Vec<Customer>, RepositoryError> {
    rows.into_iter().map(CustomerRow::into_customer).collect()
}

/// A new customer's column values; the database fills in `id`, the status defaults and
/// the timestamps. A `None` is bound as `NULL`, not written as `DEFAULT`
/// (`treat_none_as_default_value = false`): the SQL is then the same whichever fields are
/// set, and every insert reuses one prepared statement instead of being re-parsed and
/// re-planned.
#[derive(Debug, diesel::Insertable)]
#[diesel(table_name = crate::schema::customers, treat_none_as_default_value = false)]
pub(crate) struct NewCustomerRow<'a> {
    pub(crate) customer_id: &'a str,
    pub(crate) username: &'a str,
    pub(crate) first_name: &'a str,
    pub(crate) last_name: &'a str,
    pub(crate) email: &'a str,
    pub(crate) phone: Option<&'a str>,
    pub(crate) address_line1: Option<&'a str>,
    pub(crate) address_line2: Option<&'a str>,
    pub(crate) city: Option<&'a str>,
    pub(crate) state: Option<&'a str>,
    pub(crate) postal_code: Option<&'a str>,
    pub(crate) country: Option<&'a str>,
    pub(crate) date_of_birth: Option<NaiveDateTime>,
    pub(crate) gender: Option<&'static str>,
    pub(crate) company_name: Option<&'a str>,
    pub(crate) tax_id: Option<&'a str>,
    pub(crate) preferred_language: Option<&'a str>,
    pub(crate) marketing_emails: bool,
    pub(crate) marketing_sms: bool,
    pub(crate) notes: Option<&'a str>,
    pub(crate) tags: &'a [String],
}

impl<'a> NewCustomerRow<'a> {
    pub(crate) fn new(
        customer_id: &'a CustomerId,
        username: &'a Username,
        draft: &'a CustomerDraft,
    ) -> Self {
        Self {
            customer_id: customer_id.as_str(),
            username: username.as_str(),
            first_name: &draft.first_name,
            last_name: &draft.last_name,
            email: draft.email.as_str(),
            phone: draft.phone.as_ref().map(Phone::as_str),
            address_line1: draft.address_line1.as_deref(),
            address_line2: draft.address_line2.as_deref(),
            city: draft.city.as_deref(),
            state: draft.state.as_deref(),
            postal_code: draft.postal_code.as_deref(),
            country: draft.country.as_deref(),
            date_of_birth: draft.date_of_birth,
            gender: draft.gender.map(Gender::as_str),
            company_name: draft.company_name.as_deref(),
            tax_id: draft.tax_id.as_deref(),
            preferred_language: draft.preferred_language.as_ref().map(LanguageTag::as_str),
            marketing_emails: draft.marketing_emails,
            marketing_sms: draft.marketing_sms,
            notes: draft.notes.as_deref(),
            tags: draft.tags.as_slice(),
        }
    }
}
