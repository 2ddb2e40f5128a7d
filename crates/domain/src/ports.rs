//! The ports the use cases need from the outside world: storage, time and randomness.
//!
//! With the `mock` feature (and in this crate's tests) mockall generates `Mock*` types for
//! each, so other crates' tests can use them too.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepositoryError;
use crate::models::{
    BulkWritten, Customer, CustomerChanges, CustomerDraft, CustomerEvent, CustomerId, CustomerPage,
    CustomerStatistics, ErasureReason, EventKind, FeedPosition, FeedRead, ListQuery, LocationCount,
    LocationFilter, PageRequest, Precondition, Provenance, SearchCriteria, StatisticsWindow, Tags,
    TimelineQuery, Tombstone, Username, Written,
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

/// Storage of customers. Uniqueness of customer id, username and email is the storage's to
/// enforce: a colliding write fails with [`RepositoryError::Conflict`] naming the key.
///
/// Versions are the storage's to keep too: every write that changes a customer adds one to
/// its version, and a write with a [`Precondition`] checks it in the write itself (never by
/// reading first), answering [`Written::Stale`] when it does not hold.
///
/// An erased customer is a [`Tombstone`] the reads and writes above never see (as if it did
/// not exist) except [`CustomerRepository::erasure`], and no write changes it again.
///
/// So is the history: every write that changes a customer records one [`CustomerEvent`]
/// per customer changed, in the transaction of the change (none when nothing changed),
/// with the [`Provenance`] the repository was [attributed](CustomerRepository::attributed).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CustomerRepository: Send + Sync + 'static {
    /// Stores a new customer and returns it as stored (with id and timestamps).
    async fn insert(
        &self,
        customer_id: &CustomerId,
        username: &Username,
        draft: &CustomerDraft,
    ) -> Result<Customer, RepositoryError>;

    /// Which of these usernames are already taken, in one query.
    async fn taken_usernames(&self, candidates: &[String]) -> Result<Vec<String>, RepositoryError>;

    async fn find_by_customer_id(
        &self,
        id: &CustomerId,
    ) -> Result<Option<Customer>, RepositoryError>;

    async fn find_by_username(&self, username: &str) -> Result<Option<Customer>, RepositoryError>;

    /// Case-insensitive lookup.
    async fn find_by_email(&self, email: &str) -> Result<Option<Customer>, RepositoryError>;

    /// A page ordered by `id`, with the total of the same filter.
    async fn list(&self, query: &ListQuery) -> Result<CustomerPage, RepositoryError>;

    /// A page of matches in the requested order, with the total of the same filter.
    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError>;

    /// Applies the changes (none: only checks the precondition) and returns the customer as
    /// stored.
    async fn update(
        &self,
        id: &CustomerId,
        changes: &CustomerChanges,
        expected: &Precondition,
    ) -> Result<Written<Customer>, RepositoryError>;

    /// Applies the same changes (never an email) atomically to every listed customer that
    /// exists and is at the version listed with it (if one is), and tells which were changed
    /// and which were at another version. With no changes it only looks.
    async fn bulk_update(
        &self,
        targets: &[(CustomerId, Option<u64>)],
        changes: &CustomerChanges,
    ) -> Result<BulkWritten, RepositoryError>;

    /// Sets a verification flag and returns the customer's version after it.
    async fn mark_verified(
        &self,
        id: &CustomerId,
        what: Verification,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError>;

    /// Records a login time and returns the customer's version after it.
    async fn record_login(
        &self,
        id: &CustomerId,
        at: DateTime<Utc>,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError>;

    /// The seed's statistics for this window.
    async fn statistics(
        &self,
        window: &StatisticsWindow,
    ) -> Result<CustomerStatistics, RepositoryError>;

    /// Customers having every one of the tags, ordered by `id`.
    async fn find_by_tags(
        &self,
        tags: &Tags,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError>;

    /// Customers in the place, ordered by `id`.
    async fn find_by_location(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError>;

    /// Distinct non-empty values of a location column with their customer counts, largest
    /// first, optionally within one country (case ignored).
    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, RepositoryError>;

    /// Sets `is_active` to false and returns the customer's version after it.
    async fn deactivate(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<u64>, RepositoryError>;

    /// Removes the customer for good.
    async fn delete(
        &self,
        id: &CustomerId,
        expected: &Precondition,
    ) -> Result<Written<()>, RepositoryError>;

    /// Succeeds when the storage answers.
    async fn ping(&self) -> Result<(), RepositoryError>;

    /// The same storage, recording `provenance` with every change written through it.
    fn attributed(&self, provenance: &Provenance) -> Self
    where
        Self: Sized;

    /// A page of the customer's events, newest first; `None` when it has none and does not
    /// exist (a customer deleted for good keeps its events).
    async fn timeline(
        &self,
        id: &CustomerId,
        query: &TimelineQuery,
    ) -> Result<Option<Vec<CustomerEvent>>, RepositoryError>;

    /// Up to `limit` events after `after` (from the oldest kept when `None`), of `kinds`
    /// (every kind when empty), in feed order. An event is served only once no event can
    /// appear before it any more, so a reader that goes on from the last position it saw
    /// never misses one and never sees one twice.
    async fn feed(
        &self,
        after: Option<FeedPosition>,
        limit: u32,
        kinds: &[EventKind],
    ) -> Result<FeedRead, RepositoryError>;

    /// Returns once new events may have become visible, or after `at_most`: a wake-up, never
    /// a promise (the feed is read again to find out).
    async fn await_events(&self, at_most: Duration);

    /// Erases the customer in one transaction and returns its tombstone: every personal
    /// field of the customer goes, and so do its values in every other place the storage
    /// kept them (the history's before and after values, stored idempotent answers, search
    /// data); an [`EventKind::Erased`] event is recorded. A customer erased before is
    /// returned as it is. `None` when there is no such customer; the history and stored
    /// answers of an id deleted for good are erased all the same.
    async fn erase(
        &self,
        id: &CustomerId,
        reason: Option<ErasureReason>,
    ) -> Result<Option<Tombstone>, RepositoryError>;

    /// The tombstone, when the customer was erased.
    async fn erasure(&self, id: &CustomerId) -> Result<Option<Tombstone>, RepositoryError>;
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
/// The contract, for a type that implements both this and [`CustomerRepository`]:
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
