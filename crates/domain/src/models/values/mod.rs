//! Value types that cannot hold invalid data: each is built only through `parse`.

mod email;
mod gender;
mod ids;
mod language;
mod phone;
mod tags;

pub use email::Email;
pub use gender::Gender;
pub use ids::{CustomerId, Username};
pub use language::LanguageTag;
pub use phone::Phone;
pub use tags::Tags;

use crate::error::Rule;

/// Why a raw value was refused: the rule it broke. Adapters word it for their clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the value breaks the rule {rule:?}")]
pub struct ValueError {
    /// The rule broken.
    pub rule: Rule,
}

impl ValueError {
    pub(crate) fn new(rule: Rule) -> Self {
        Self { rule }
    }
}
