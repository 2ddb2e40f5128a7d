//! The bodies of `PUT /api/v1/customers/{customer_id}` and `POST .../bulk-update`, and the
//! bulk-update answer.

use domain::{BulkUpdate, BulkUpdateReport, CustomerPatch, FailureReason, Patch, ValidationErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::de;
use super::fields::{Gender, TagsInput, date_of_birth};

/// A partial update: an absent field is kept, `null` clears it (names, email and flags
/// cannot be cleared). Unknown fields are ignored.
// Field-level defaults: utoipa would serialise a container default into the schema.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UpdateCustomerRequest {
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>, example = "John", min_length = 1, max_length = 100)]
    pub first_name: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>, example = "Doe", min_length = 1, max_length = 100)]
    pub last_name: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>, example = "john.doe@example.com")]
    pub email: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub phone: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub address_line1: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub address_line2: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub city: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub state: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub postal_code: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub country: Patch<String>,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`.
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>, example = "1990-01-15")]
    pub date_of_birth: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub company_name: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub tax_id: Patch<String>,
    /// A BCP 47 language tag (RFC 5646), stored in canonical case; `null` clears it.
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>, example = "pt-BR", max_length = 35)]
    pub preferred_language: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<bool>)]
    pub marketing_emails: Patch<bool>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<bool>)]
    pub marketing_sms: Patch<bool>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<String>)]
    pub notes: Patch<String>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<TagsInput>)]
    pub tags: Patch<TagsInput>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<bool>)]
    pub is_active: Patch<bool>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<bool>)]
    pub is_verified: Patch<bool>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<bool>)]
    pub email_verified: Patch<bool>,
    #[serde(default, deserialize_with = "de::patch")]
    #[schema(value_type = Option<bool>)]
    pub phone_verified: Patch<bool>,
}

impl UpdateCustomerRequest {
    /// The domain's patch, and the violations found converting it. A malformed date is left
    /// out (kept).
    pub fn into_patch(self) -> (CustomerPatch, ValidationErrors) {
        let mut errors = ValidationErrors::default();
        let date_of_birth = match self.date_of_birth {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(raw) => date_of_birth(&raw, &mut errors).map_or(Patch::Keep, Patch::Set),
        };
        let patch = CustomerPatch {
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
            is_active: self.is_active,
            is_verified: self.is_verified,
            email_verified: self.email_verified,
            phone_verified: self.phone_verified,
        };
        (patch, errors)
    }
}

/// The changes of a bulk update: those of a single update but `email`, which a bulk update
/// refuses. Documentation only: the body is read as [`UpdateCustomerRequest`] so that an
/// `email` is answered with the domain's own 422; a test keeps the two schemas in step.
#[derive(Debug, Clone, ToSchema)]
pub struct BulkUpdateChanges {
    #[schema(value_type = Option<String>, example = "John", min_length = 1, max_length = 100)]
    pub first_name: Option<()>,
    #[schema(value_type = Option<String>, example = "Doe", min_length = 1, max_length = 100)]
    pub last_name: Option<()>,
    #[schema(value_type = Option<String>)]
    pub phone: Option<()>,
    #[schema(value_type = Option<String>)]
    pub address_line1: Option<()>,
    #[schema(value_type = Option<String>)]
    pub address_line2: Option<()>,
    #[schema(value_type = Option<String>)]
    pub city: Option<()>,
    #[schema(value_type = Option<String>)]
    pub state: Option<()>,
    #[schema(value_type = Option<String>)]
    pub postal_code: Option<()>,
    #[schema(value_type = Option<String>)]
    pub country: Option<()>,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`.
    #[schema(value_type = Option<String>, example = "1990-01-15")]
    pub date_of_birth: Option<()>,
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<()>,
    #[schema(value_type = Option<String>)]
    pub company_name: Option<()>,
    #[schema(value_type = Option<String>)]
    pub tax_id: Option<()>,
    /// A BCP 47 language tag (RFC 5646), stored in canonical case; `null` clears it.
    #[schema(value_type = Option<String>, example = "pt-BR", max_length = 35)]
    pub preferred_language: Option<()>,
    #[schema(value_type = Option<bool>)]
    pub marketing_emails: Option<()>,
    #[schema(value_type = Option<bool>)]
    pub marketing_sms: Option<()>,
    #[schema(value_type = Option<String>)]
    pub notes: Option<()>,
    #[schema(value_type = Option<TagsInput>)]
    pub tags: Option<()>,
    #[schema(value_type = Option<bool>)]
    pub is_active: Option<()>,
    #[schema(value_type = Option<bool>)]
    pub is_verified: Option<()>,
    #[schema(value_type = Option<bool>)]
    pub email_verified: Option<()>,
    #[schema(value_type = Option<bool>)]
    pub phone_verified: Option<()>,
}

/// The same changes for many customers; `email` cannot be changed this way.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BulkUpdateRequest {
    /// 1 to 1000 customer ids.
    #[schema(example = json!(["CUST_A1B2C3D4", "CUST_B2C3D4E5"]))]
    pub customer_ids: Vec<String>,
    /// The changes, as in a single update but `email`.
    #[schema(value_type = BulkUpdateChanges)]
    pub updates: UpdateCustomerRequest,
    /// For some of the customers, the version the change expects (their `ETag`): one at
    /// another version is left alone and reported in `failed_updates`. Not in the original
    /// service.
    #[serde(default)]
    #[schema(example = json!({"CUST_A1B2C3D4": 3}))]
    pub expected_versions: Option<std::collections::BTreeMap<String, u64>>,
}

impl BulkUpdateRequest {
    /// The domain's bulk update, and the violations found converting it.
    pub fn into_bulk_update(self) -> (BulkUpdate, ValidationErrors) {
        let (updates, errors) = self.updates.into_patch();
        (
            BulkUpdate {
                customer_ids: self.customer_ids,
                updates,
                expected_versions: self.expected_versions.unwrap_or_default(),
            },
            errors.within("updates"),
        )
    }
}

/// One customer a bulk update did not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FailedUpdateResponse {
    #[schema(example = "CUST_B2C3D4E5")]
    pub customer_id: String,
    #[schema(example = "Customer not found")]
    pub reason: String,
}

/// What a bulk update did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BulkUpdateResponse {
    /// Customers changed.
    pub updated_count: u64,
    /// Customers not changed, with the reason.
    pub failed_updates: Vec<FailedUpdateResponse>,
    /// Distinct customer ids in the request.
    pub total_processed: u64,
}

impl From<BulkUpdateReport> for BulkUpdateResponse {
    fn from(report: BulkUpdateReport) -> Self {
        Self {
            updated_count: report.updated_count,
            failed_updates: report
                .failed_updates
                .into_iter()
                .map(|f| FailedUpdateResponse {
                    customer_id: f.customer_id,
                    reason: match f.reason {
                        FailureReason::NotFound => "Customer not found".to_owned(),
                        FailureReason::VersionMismatch { current } => {
                            format!("Version mismatch: current version is {current}")
                        }
                    },
                })
                .collect(),
            total_processed: report.total_processed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_are_kept_and_null_fields_cleared() {
        let request: UpdateCustomerRequest =
            serde_json::from_str(r#"{"phone": null, "city": "Boston", "tags": ["a", "b"]}"#)
                .unwrap();
        let (patch, errors) = request.into_patch();
        assert!(errors.0.is_empty());
        assert_eq!(patch.phone, Patch::Clear);
        assert_eq!(patch.city, Patch::Set("Boston".to_owned()));
        assert_eq!(patch.tags, Patch::Set("a,b".to_owned()));
        assert_eq!(patch.first_name, Patch::Keep);
    }

    #[test]
    fn a_bad_date_in_a_bulk_update_is_located_under_updates() {
        let request: BulkUpdateRequest = serde_json::from_str(
            r#"{"customer_ids": ["CUST_A1B2C3D4"], "updates": {"date_of_birth": "soon"}}"#,
        )
        .unwrap();
        let err = request.into_bulk_update().1;
        assert_eq!(
            (err.0[0].within, err.0[0].field),
            (Some("updates"), "date_of_birth")
        );
    }
}
