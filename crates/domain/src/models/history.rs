//! Change history: who changed a customer, when, and what; and the feed of every change.
//!
//! Events are the storage's to record, in the transaction of each change (see
//! [`crate::CustomerStore`]); the use cases read them back.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::query::check_limit;
use crate::error::{Rule, ValidationErrors};

/// Who asked for a write and through which request: recorded with the change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The token's subject when authentication is on.
    pub actor: Option<String>,
    /// The request's id (`X-Request-ID`).
    pub request_id: Option<String>,
    /// The `Idempotency-Key` the request carried.
    pub idempotency_key: Option<String>,
}

/// What one request brings to every use case it calls: who asked (recorded with its
/// writes) and the consistency token its client sent back from a write's answer, so that
/// its reads see that write wherever they are served from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub provenance: Provenance,
    /// Opaque to the domain (the storage names it); `None` when the client sent none.
    pub consistency_token: Option<String>,
    /// Shared by every port scoped to this request.
    pub affinity: ReadAffinity,
}

/// Which server answered a request's first read, so that the storage serves the rest of
/// its reads there too: one server's data for the whole request, whichever port reads it.
/// A number the storage chooses, opaque to the domain; the clones of one context share it.
#[derive(Debug, Clone, Default)]
pub struct ReadAffinity(Arc<Mutex<Option<u32>>>);

impl ReadAffinity {
    /// The server chosen, if one was.
    pub fn get(&self) -> Option<u32> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Chooses `server` for the rest of the request's reads.
    pub fn set(&self, server: u32) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(server);
    }
}

/// The same affinity: that of clones of one context.
impl PartialEq for ReadAffinity {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ReadAffinity {}

/// What kind of change an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    Created,
    Updated,
    BulkUpdated,
    EmailVerified,
    PhoneVerified,
    LoggedIn,
    Deactivated,
    Deleted,
    /// Personal data removed for good (see [`crate::Tombstone`]).
    Erased,
}

impl EventKind {
    /// Every kind, in the order above.
    pub const ALL: [Self; 9] = [
        Self::Created,
        Self::Updated,
        Self::BulkUpdated,
        Self::EmailVerified,
        Self::PhoneVerified,
        Self::LoggedIn,
        Self::Deactivated,
        Self::Deleted,
        Self::Erased,
    ];

    /// Every kind's name, in the order of [`EventKind::ALL`].
    pub const NAMES: [&'static str; 9] = [
        "created",
        "updated",
        "bulk_updated",
        "email_verified",
        "phone_verified",
        "logged_in",
        "deactivated",
        "deleted",
        "erased",
    ];

    /// The kind's name: `created`, `bulk_updated`, ...
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an [`EventKind`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventKind(pub String);

impl FromStr for EventKind {
    type Err = UnknownEventKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownEventKind(name.to_owned()))
    }
}

/// A field's value before or after a change.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Null,
    Bool(bool),
    Integer(i64),
    Text(String),
    Texts(Vec<String>),
    /// A point in time (`created_at`, `last_login_at`).
    Timestamp(DateTime<Utc>),
    /// A wall-clock time without zone (`date_of_birth`).
    LocalTimestamp(NaiveDateTime),
    /// Removed when the customer was erased: the field changed, its values are gone.
    Erased,
}

/// One field's change.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub from: FieldValue,
    pub to: FieldValue,
}

/// Where an event stands in the feed: the order of the feed is the order of positions.
/// Opaque to clients, who hand back the last one they saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedPosition {
    /// The writing transaction's id.
    pub transaction: u64,
    /// The event's id.
    pub event: i64,
}

/// One recorded change of one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerEvent {
    /// Unique, and growing along each customer's timeline.
    pub id: i64,
    pub position: FeedPosition,
    /// The customer's id (kept after a hard delete).
    pub customer_id: String,
    pub kind: EventKind,
    /// The customer's version after the change (for `deleted`, the last one it had).
    pub version: u64,
    pub occurred_at: DateTime<Utc>,
    pub provenance: Provenance,
    /// Every field that changed, by name: for `created` each field that was set, for
    /// `deleted` each that was.
    pub changes: BTreeMap<String, FieldChange>,
}

/// A page of one customer's timeline, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineQuery {
    pub limit: u32,
    /// Only events older than this id (the previous page's last).
    pub before: Option<i64>,
}

impl TimelineQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 1000;

    /// A page of `limit` (1 to [`Self::MAX_LIMIT`]) events older than `before`.
    ///
    /// # Errors
    /// When `limit` is out of range.
    pub fn new(limit: u64, before: Option<i64>) -> Result<Self, ValidationErrors> {
        Ok(Self {
            limit: check_limit(limit, Self::MAX_LIMIT)?,
            before,
        })
    }
}

/// A page of a customer's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub events: Vec<CustomerEvent>,
    /// The id to ask `before` for the next page, when there may be one.
    pub next_before: Option<i64>,
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    /// Only events after this position; from the oldest kept when `None`.
    pub after: Option<FeedPosition>,
    pub limit: u32,
    /// Only events of these kinds; every kind when empty.
    pub kinds: Vec<EventKind>,
    /// How long to wait for an event when there is none yet (zero: answer at once).
    pub wait: Duration,
}

impl FeedQuery {
    pub const DEFAULT_LIMIT: u32 = 100;
    pub const MAX_LIMIT: u32 = 1000;
    /// The longest a reader may wait for an event, in seconds.
    pub const MAX_WAIT_SECS: u64 = 30;

    /// Up to `limit` (1 to [`Self::MAX_LIMIT`]) events of `kinds` after `after`, waiting
    /// up to `wait_secs` (0 to [`Self::MAX_WAIT_SECS`]) for one.
    ///
    /// # Errors
    /// Every parameter out of range.
    pub fn new(
        after: Option<FeedPosition>,
        limit: u64,
        kinds: Vec<EventKind>,
        wait_secs: u64,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let limit = check_limit(limit, Self::MAX_LIMIT).map_err(|e| errors.extend(e));
        if wait_secs > Self::MAX_WAIT_SECS {
            errors.push("wait", Rule::Max(Self::MAX_WAIT_SECS));
        }
        errors.into_result()?;
        Ok(Self {
            after,
            limit: limit.unwrap_or(Self::DEFAULT_LIMIT),
            kinds,
            wait: Duration::from_secs(wait_secs),
        })
    }
}

/// What the storage answers for one read of the feed.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedRead {
    /// The events after the position, in feed order, none of them still able to be
    /// preceded by one not yet visible.
    Events(Vec<CustomerEvent>),
    /// Events after the position were removed by retention: reading on from it would
    /// skip them.
    Purged,
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub events: Vec<CustomerEvent>,
    /// Where to read on from: the last event's position, else the position asked from.
    pub next: Option<FeedPosition>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_affinity_is_shared_by_the_clones_of_one_context_and_no_other() {
        let context = RequestContext::default();
        let beside = context.clone();
        assert_eq!(context.affinity.get(), None);
        beside.affinity.set(2);
        assert_eq!(context.affinity.get(), Some(2));
        context.affinity.set(0);
        assert_eq!(beside.affinity.get(), Some(0));
        assert_eq!(context, beside);
        let other = RequestContext::default();
        assert_ne!(context.affinity, other.affinity);
        assert_eq!(other.affinity.get(), None);
    }

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(
            "Created".parse::<EventKind>(),
            Err(UnknownEventKind("Created".into()))
        );
    }

    #[test]
    fn query_bounds_are_checked_and_each_violation_named() {
        assert_eq!(TimelineQuery::new(1000, Some(5)).unwrap().limit, 1000);
        let err = TimelineQuery::new(0, None).unwrap_err();
        assert_eq!((err.0[0].field, err.0[0].rule), ("limit", Rule::Min(1)));
        let ok = FeedQuery::new(None, 1, vec![EventKind::Deleted], 30).unwrap();
        assert_eq!((ok.limit, ok.wait), (1, Duration::from_secs(30)));
        let err = FeedQuery::new(None, 1001, Vec::new(), 31).unwrap_err();
        let named: Vec<_> = err.0.iter().map(|v| (v.field, v.rule)).collect();
        assert_eq!(
            named,
            vec![("limit", Rule::Max(1000)), ("wait", Rule::Max(30))]
        );
    }

    #[test]
    fn positions_order_by_transaction_then_event() {
        let at = |transaction, event| FeedPosition { transaction, event };
        assert!(at(1, 9) < at(2, 1));
        assert!(at(2, 1) < at(2, 2));
    }
}
