//! Value types that cannot hold invalid data: each is built only through `parse`.

mod email;
mod gender;
mod ids;
mod phone;
mod tags;

pub use email::Email;
pub use gender::Gender;
pub use ids::{CustomerId, Username};
pub use phone::Phone;
pub use tags::Tags;

/// Why a raw value was refused; `kind` is stable, `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// Stable machine-readable kind, e.g. `value_error.email`.
    pub kind: &'static str,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl ValueError {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}
