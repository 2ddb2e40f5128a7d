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

use crate::error::Rule;

/// Why a raw value was refused: the rule broken and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl ValueError {
    pub(crate) fn new(rule: Rule, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
        }
    }
}
