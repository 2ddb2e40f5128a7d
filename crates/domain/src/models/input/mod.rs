//! What clients send: a new customer, a partial update, a bulk update; and the validated,
//! typed forms the repository receives.

mod new_customer;
mod patch;
mod update;

pub use new_customer::{CustomerDraft, NewCustomer};
pub use patch::Patch;
pub use update::{BulkUpdate, CustomerChanges, CustomerPatch};

use super::values::ValueError;
use crate::error::ValidationErrors;

/// Trims a text and turns an empty one into `None`.
pub(super) fn clean(value: Option<String>) -> Option<String> {
    value.and_then(|v| {
        let trimmed = v.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    })
}

/// Trims a patched text; an empty text clears the field.
pub(super) fn clean_patch(value: Patch<String>) -> Patch<String> {
    match value {
        Patch::Set(v) if v.trim().is_empty() => Patch::Clear,
        Patch::Set(v) => Patch::Set(v.trim().to_owned()),
        other => other,
    }
}

/// Turns a value a rule already accepted into its type; a failure here is a bug in a rule,
/// reported as a validation error on that field rather than a panic.
pub(super) fn typed<T>(
    field: &'static str,
    r: Result<T, ValueError>,
) -> Result<T, ValidationErrors> {
    r.map_err(|e| ValidationErrors::single(field, e.rule))
}
