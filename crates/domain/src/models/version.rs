//! Versions of a customer and the conditions a write may put on them.
//!
//! Every customer carries a version: 1 when created, one more after every write that changed
//! it. A client that read version `n` can ask a write to happen only if the customer is still
//! at `n`, so two people editing the same customer cannot silently overwrite each other (the
//! HTTP adapter spells this `ETag` / `If-Match`). The storage checks the condition in the
//! write itself, never by reading first.

/// What a write expects of the customer's version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Whatever the version is (the customer must still exist, as for every write).
    #[default]
    Any,
    /// Only if the customer's version is one of these.
    VersionIn(Vec<u64>),
}

impl Precondition {
    /// Only at exactly this version.
    pub fn version(version: u64) -> Self {
        Self::VersionIn(vec![version])
    }

    /// Whether a customer at `version` meets the condition.
    pub fn admits(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::VersionIn(versions) => versions.contains(&version),
        }
    }
}

/// What a conditional write found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    /// The write happened (or there was nothing to change); `T` is what it returns.
    Done(T),
    /// No customer has this id.
    Missing,
    /// The customer exists at another version than the precondition admits; nothing was
    /// written.
    Stale {
        /// The version the customer is at.
        current: u64,
    },
}

impl<T> Written<T> {
    /// The same outcome with the written value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        match self {
            Self::Done(value) => Written::Done(f(value)),
            Self::Missing => Written::Missing,
            Self::Stale { current } => Written::Stale { current },
        }
    }
}

/// What a bulk update did to the customers it named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkWritten {
    /// The customers changed (or found, when there was nothing to change).
    pub changed: Vec<super::CustomerId>,
    /// The customers left alone because their version was not the one expected, with the
    /// version they are at.
    pub stale: Vec<(super::CustomerId, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_admits_every_version_and_a_list_only_its_own() {
        assert!(Precondition::Any.admits(1));
        assert!(Precondition::Any.admits(u64::MAX));
        let listed = Precondition::VersionIn(vec![2, 5]);
        assert!(listed.admits(2) && listed.admits(5));
        assert!(!listed.admits(3) && !listed.admits(1));
        assert!(Precondition::version(7).admits(7));
        assert!(!Precondition::version(7).admits(8));
        assert!(!Precondition::VersionIn(vec![]).admits(1));
    }

    #[test]
    fn mapping_a_written_outcome_maps_only_what_was_written() {
        assert_eq!(Written::Done(2).map(|v| v * 10), Written::Done(20));
        assert_eq!(Written::<u64>::Missing.map(|v| v * 10), Written::Missing);
        assert_eq!(
            Written::<u64>::Stale { current: 4 }.map(|v| v * 10),
            Written::Stale { current: 4 }
        );
    }
}
