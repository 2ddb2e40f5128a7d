//! Privacy operations: everything held about a customer, exported on request (GDPR articles
//! 15 and 20), and its erasure for good (article 17).
//!
//! Erasure keeps a [`Tombstone`]: the customer id stays taken, and the coarse fields the
//! statistics count stay, so totals and distributions do not shift. Every personal field
//! goes, from the customer and from every other place the storage kept it (the history's
//! values, stored idempotent answers); which place does what is the storage's to know (see
//! [`crate::CustomerStore::erase`]).

use chrono::{DateTime, Utc};

use super::{Customer, CustomerEvent, CustomerId, Gender};
use crate::error::{Rule, ValidationErrors};

/// What remains of an erased customer: nothing that identifies a person.
///
/// Kept, and why: the id (it stays taken, and the history is filed under it); the times
/// of creation and erasure (new-customer counts per day); country and gender (the
/// overview's per-country counts and gender distribution, both coarse); the active and
/// verification flags (the overview's active and verified totals). Gone: names, username,
/// email, phone, address lines, city, state, postal code, date of birth, company, tax id,
/// notes, tags, preferred language, last login and the marketing consents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub customer_id: CustomerId,
    pub created_at: DateTime<Utc>,
    pub erased_at: DateTime<Utc>,
    /// Why, as the operator said it.
    pub reason: Option<String>,
    pub country: Option<String>,
    pub gender: Option<Gender>,
    pub is_active: bool,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
}

/// Why a customer is erased: free text for the records, kept with the tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureReason(String);

impl ErasureReason {
    /// Longest reason accepted.
    pub const MAX_LEN: usize = 500;

    /// Trimmed; `None` when absent or blank.
    ///
    /// # Errors
    /// `reason` too long or with control characters.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, ValidationErrors> {
        let Some(reason) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        if reason.chars().count() > Self::MAX_LEN {
            return Err(ValidationErrors::single(
                "reason",
                Rule::MaxLength(Self::MAX_LEN),
            ));
        }
        if reason.chars().any(char::is_control) {
            return Err(ValidationErrors::single("reason", Rule::ControlCharacters));
        }
        Ok(Some(Self(reason.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One request that changed the customer, as its events recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedRequest {
    /// The request's id (`X-Request-ID`).
    pub request_id: String,
    pub actor: Option<String>,
    pub idempotency_key: Option<String>,
    /// When its first and last change of the customer happened.
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// The ids of its events, oldest first.
    pub events: Vec<i64>,
}

/// Everything held about one customer: the customer as stored, its full history oldest
/// first, and the requests that changed it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerExport {
    pub exported_at: DateTime<Utc>,
    pub customer: Customer,
    pub events: Vec<CustomerEvent>,
    pub requests: Vec<ExportedRequest>,
}

/// The requests behind `events` (oldest first), in the order of their first change. Events
/// without a request id (an operator's SQL, a bulk load) belong to no request.
pub fn requests_of(events: &[CustomerEvent]) -> Vec<ExportedRequest> {
    let mut requests: Vec<ExportedRequest> = Vec::new();
    for event in events {
        let Some(request_id) = &event.provenance.request_id else {
            continue;
        };
        match requests.iter_mut().find(|r| &r.request_id == request_id) {
            Some(request) => {
                request.first_at = request.first_at.min(event.occurred_at);
                request.last_at = request.last_at.max(event.occurred_at);
                request.events.push(event.id);
            }
            None => requests.push(ExportedRequest {
                request_id: request_id.clone(),
                actor: event.provenance.actor.clone(),
                idempotency_key: event.provenance.idempotency_key.clone(),
                first_at: event.occurred_at,
                last_at: event.occurred_at,
                events: vec![event.id],
            }),
        }
    }
    requests
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::models::{EventKind, FeedPosition, Provenance};

    fn event(id: i64, request: Option<&str>, minute: u32) -> CustomerEvent {
        CustomerEvent {
            id,
            position: FeedPosition {
                transaction: 7,
                event: id,
            },
            customer_id: "CUST_0A1B2C3D".into(),
            kind: EventKind::Updated,
            version: 1,
            occurred_at: Utc
                .with_ymd_and_hms(2026, 1, 2, 3, minute, 0)
                .single()
                .unwrap_or_default(),
            provenance: Provenance {
                actor: Some(format!("actor-{id}")),
                request_id: request.map(str::to_owned),
                idempotency_key: Some(format!("key-{id}")),
            },
            changes: BTreeMap::new(),
        }
    }

    #[test]
    fn requests_group_their_events_in_the_order_of_their_first_change() {
        let events = [
            event(1, Some("a"), 5),
            event(2, None, 6),
            event(3, Some("b"), 7),
            event(4, Some("a"), 9),
        ];
        let requests = requests_of(&events);
        assert_eq!(requests.len(), 2);
        let (a, b) = (&requests[0], &requests[1]);
        assert_eq!(a.request_id, "a");
        assert_eq!(a.events, [1, 4]);
        assert_eq!(a.actor.as_deref(), Some("actor-1"));
        assert_eq!(a.idempotency_key.as_deref(), Some("key-1"));
        assert_eq!(a.first_at, events[0].occurred_at);
        assert_eq!(a.last_at, events[3].occurred_at);
        assert_eq!(b.request_id, "b");
        assert_eq!(b.events, [3]);
        assert_eq!(
            (b.first_at, b.last_at),
            (events[2].occurred_at, events[2].occurred_at)
        );
        assert!(requests_of(&[event(9, None, 1)]).is_empty());
    }

    #[test]
    fn a_request_spans_its_earliest_and_latest_change_whatever_their_order() {
        let requests = requests_of(&[event(1, Some("a"), 9), event(2, Some("a"), 5)]);
        assert_eq!(requests[0].first_at.format("%M").to_string(), "05");
        assert_eq!(requests[0].last_at.format("%M").to_string(), "09");
    }

    #[test]
    fn a_reason_is_trimmed_optional_bounded_and_printable() {
        assert_eq!(ErasureReason::parse(None), Ok(None));
        assert_eq!(ErasureReason::parse(Some("  ")), Ok(None));
        let reason = ErasureReason::parse(Some(" asked by mail "))
            .unwrap()
            .unwrap();
        assert_eq!(reason.as_str(), "asked by mail");
        let longest = "r".repeat(ErasureReason::MAX_LEN);
        assert!(ErasureReason::parse(Some(&longest)).unwrap().is_some());
        assert_eq!(
            ErasureReason::parse(Some(&format!("{longest}r"))),
            Err(ValidationErrors::single(
                "reason",
                Rule::MaxLength(ErasureReason::MAX_LEN)
            ))
        );
        assert_eq!(
            ErasureReason::parse(Some("a\nb")),
            Err(ValidationErrors::single("reason", Rule::ControlCharacters))
        );
    }
}
