//! The ports the use cases need from the outside world: storage (in [`storage`], one port
//! per role), time and randomness.
//!
//! With the `mock` feature (and in this crate's tests) mockall generates `Mock*` types for
//! each, so other crates' tests can use them too.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;

mod storage;
pub use storage::{
    CustomerHistory, CustomerReads, CustomerSearch, CustomerStore, SearchDocuments,
    StatisticsSource, Storage,
};
#[cfg(any(test, feature = "mock"))]
pub use storage::{
    MockCustomerHistory, MockCustomerReads, MockCustomerSearch, MockCustomerStore,
    MockSearchDocuments, MockStatisticsSource,
};

/// Which verification flag to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Email,
    Phone,
}

/// Which column a distinct-values query groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationLevel {
    Country,
    City,
    State,
}

/// The state of everything a storage holds, named by [`DataVersions::current_version`]: an
/// opaque token, compared only for equality and for which of two was read first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataVersion {
    token: String,
    sequence: u64,
}

impl DataVersion {
    /// A version named by `token`, whose `sequence` never decreases from one reading to the
    /// next (the storage's promise, see [`DataVersions`]).
    pub fn new(token: impl Into<String>, sequence: u64) -> Self {
        Self {
            token: token.into(),
            sequence,
        }
    }

    /// Whether this version was read before `other` for sure: the storage can never show
    /// it again once it showed `other`.
    pub fn precedes(&self, other: &Self) -> bool {
        self.sequence < other.sequence
    }
}

/// Names the version of the data a storage's reads see, so that an answer computed from it
/// can be reused for as long as the version stays the same (the search cache in `layers`).
///
/// The contract, for a type that implements both this and [`CustomerSearch`]:
/// - two readings give equal versions only if no write was committed between them, by
///   anyone: this service, another instance of it, or any other client of the storage;
/// - a read through the same value that starts after [`DataVersions::current_version`]
///   returned sees every write that version includes, and nothing but committed writes.
///   Implementing this trait therefore promises that the type's reads run outside any
///   transaction a caller holds open: such a transaction's own writes do not change the
///   version, so a result that saw them would be reused as if they were committed (and
///   kept if they were rolled back). A storage bound to a transaction must not implement it;
///   a cache then cannot wrap it;
/// - a version read later never [`precedes`](DataVersion::precedes) one read earlier.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DataVersions: Send + Sync + 'static {
    /// The version of the data now, or `None` when the storage cannot tell (then nothing
    /// computed now may be reused).
    async fn current_version(&self) -> Result<Option<DataVersion>, RepositoryError>;
}

/// The current time.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// Where new UUIDs come from (customer ids, username fallbacks).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait IdSource: Send + Sync + 'static {
    fn new_uuid(&self) -> uuid::Uuid;
}

/// Where numeric username suffixes come from.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait SuffixSource: Send + Sync + 'static {
    /// A number in `low..high`.
    fn number_in(&self, low: u64, high: u64) -> u64;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Random version-4 UUIDs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn new_uuid(&self) -> uuid::Uuid {
        uuid::Uuid::new_v4()
    }
}

/// Suffixes from the thread-local random generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomSuffixes;

impl SuffixSource for RandomSuffixes {
    fn number_in(&self, low: u64, high: u64) -> u64 {
        use rand::Rng;
        rand::rng().random_range(low..high.max(low + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_precedes_only_those_read_strictly_later() {
        let (first, second) = (DataVersion::new("a", 1), DataVersion::new("b", 2));
        assert!(first.precedes(&second));
        assert!(!second.precedes(&first));
        // Same sequence: neither was read before the other for sure, whatever the token.
        assert!(!first.precedes(&DataVersion::new("c", 1)));
        assert!(!first.precedes(&first));
    }

    #[test]
    fn the_system_clock_tells_the_current_time() {
        let before = Utc::now();
        let now = SystemClock.now();
        assert!(before <= now && now <= Utc::now());
    }

    #[test]
    fn random_ids_are_fresh_version_4_uuids() {
        let (a, b) = (RandomIds.new_uuid(), RandomIds.new_uuid());
        assert_eq!(a.get_version_num(), 4);
        assert_ne!(a, b);
    }

    #[test]
    fn random_suffixes_stay_in_their_range_and_an_empty_range_gives_its_low_bound() {
        let seen: Vec<u64> = (0..200).map(|_| RandomSuffixes.number_in(10, 20)).collect();
        assert!(seen.iter().all(|n| (10..20).contains(n)), "{seen:?}");
        assert!(seen.iter().any(|n| *n != seen[0]), "always {}", seen[0]);
        assert_eq!(RandomSuffixes.number_in(5, 5), 5);
        assert_eq!(RandomSuffixes.number_in(7, 3), 7);
    }
}
