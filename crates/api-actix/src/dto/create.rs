//! The body of `POST /api/v1/customers/`.

use domain::{NewCustomer, ValidationErrors};
use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::{Gender, TagsInput, date_of_birth};

/// A new customer: names and email are required, everything else is optional. Unknown
/// fields are ignored, as FastAPI does.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateCustomerRequest {
    #[schema(example = "John", min_length = 1, max_length = 100)]
    pub first_name: String,
    #[schema(example = "Doe", min_length = 1, max_length = 100)]
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
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`.
    #[schema(example = "1990-01-15T00:00:00")]
    pub date_of_birth: Option<String>,
    /// `male`, `female`, `other` or `prefer_not_to_say`.
    #[schema(value_type = Option<Gender>, example = "male")]
    pub gender: Option<String>,
    #[schema(example = "Tech Corp")]
    pub company_name: Option<String>,
    pub tax_id: Option<String>,
    /// The customer's preferred language: a BCP 47 language tag (RFC 5646), stored and shown
    /// in canonical case (`pt-br` becomes `pt-BR`). Not in the original service.
    #[schema(example = "pt-BR", max_length = 35)]
    pub preferred_language: Option<String>,
    /// Defaults to `true`.
    pub marketing_emails: Option<bool>,
    /// Defaults to `false`.
    pub marketing_sms: Option<bool>,
    #[schema(example = "Premium customer")]
    pub notes: Option<String>,
    pub tags: Option<TagsInput>,
}

impl CreateCustomerRequest {
    /// The domain's input, and the violations found converting it (only the date format
    /// is checked here, every rule by the domain; a malformed date is left out).
    pub fn into_new_customer(self) -> (NewCustomer, ValidationErrors) {
        let mut errors = ValidationErrors::default();
        let date_of_birth = self
            .date_of_birth
            .and_then(|raw| date_of_birth(&raw, &mut errors));
        let input = NewCustomer {
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            phone: self.phone,
            address_line1: self.address_line1,
            address_line2: self.address_line2,
            city: self.city,
            state: self.state,
            postal_code: self.postal_code,
            country: self.country,
            date_of_birth,
            gender: self.gender,
            company_name: self.company_name,
            tax_id: self.tax_id,
            preferred_language: self.preferred_language,
            marketing_emails: self.marketing_emails,
            marketing_sms: self.marketing_sms,
            notes: self.notes,
            tags: self.tags.map(TagsInput::into_csv),
        };
        (input, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: serde_json::Value) -> CreateCustomerRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_seeds_example_becomes_a_new_customer() {
        let input = request(serde_json::json!({
            "first_name": "John", "last_name": "Doe", "email": "john.doe@example.com",
            "date_of_birth": "1990-01-15T00:00:00", "tags": ["premium", "tech"],
            "unknown": "ignored"
        }))
        .into_new_customer()
        .0;
        assert_eq!(input.tags.as_deref(), Some("premium,tech"));
        assert_eq!(
            input.date_of_birth.unwrap().to_string(),
            "1990-01-15 00:00:00"
        );
    }

    #[test]
    fn a_malformed_date_of_birth_is_a_violation_of_that_field() {
        let err = request(serde_json::json!({
            "first_name": "John", "last_name": "Doe", "email": "j@x.com",
            "date_of_birth": "15/01/1990"
        }))
        .into_new_customer()
        .1;
        assert_eq!(err.0[0].field, "date_of_birth");
        assert_eq!(err.0[0].rule, domain::Rule::DateTime);
    }
}
