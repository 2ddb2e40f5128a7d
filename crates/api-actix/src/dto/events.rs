//! The change history as the API shows it: events, a customer's timeline and the feed, with
//! their query parameters and cursors.
//!
//! Cursors are opaque to clients; their text versions the format: `e1.<id>` for a
//! timeline page (events older than that id), `f1.<transaction>.<id>` for a feed position,
//! both in lower-case hexadecimal.

use std::collections::BTreeMap;

use domain::{
    CustomerEvent, EventKind, FeedPage, FeedPosition, FeedQuery, FieldValue, Rule, Timeline,
    TimelineQuery, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::customer::{local_timestamp, utc_timestamp};
use super::de;

const TIMELINE_PREFIX: &str = "e1.";
const FEED_PREFIX: &str = "f1.";

fn timeline_cursor(before: i64) -> String {
    format!("{TIMELINE_PREFIX}{before:x}")
}

fn feed_cursor(position: FeedPosition) -> String {
    format!(
        "{FEED_PREFIX}{:x}.{:x}",
        position.transaction, position.event
    )
}

fn bad(field: &'static str) -> ValidationErrors {
    ValidationErrors::single(field, Rule::Cursor)
}

fn decode_timeline(raw: &str) -> Result<i64, ValidationErrors> {
    raw.strip_prefix(TIMELINE_PREFIX)
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| bad("cursor"))
}

fn decode_feed(raw: &str) -> Result<FeedPosition, ValidationErrors> {
    let (transaction, event) = raw
        .strip_prefix(FEED_PREFIX)
        .and_then(|rest| rest.split_once('.'))
        .ok_or_else(|| bad("after"))?;
    // `from_str_radix` takes a sign; a cursor has none.
    let digits = |text: &str| !text.starts_with(['+', '-']);
    match (
        u64::from_str_radix(transaction, 16)
            .ok()
            .filter(|_| digits(transaction)),
        i64::from_str_radix(event, 16)
            .ok()
            .filter(|_| digits(event)),
    ) {
        // A transaction id beyond i64 is never stored.
        (Some(transaction), Some(event)) if i64::try_from(transaction).is_ok() => {
            Ok(FeedPosition { transaction, event })
        }
        _ => Err(bad("after")),
    }
}

fn default_timeline_limit() -> u64 {
    u64::from(TimelineQuery::DEFAULT_LIMIT)
}

fn default_feed_limit() -> u64 {
    u64::from(FeedQuery::DEFAULT_LIMIT)
}

/// `GET /api/v1/customers/{customer_id}/events`: a page of the timeline.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Page size, 1 to 1000.
    #[serde(default = "default_timeline_limit", deserialize_with = "de::u64_param")]
    #[param(minimum = 1, maximum = 1000, default = 50)]
    pub limit: u64,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^e1\.[0-9a-f]+$", example = "e1.2a")]
    pub cursor: Option<String>,
}

impl TimelineParams {
    /// The domain's timeline query.
    ///
    /// # Errors
    /// When `limit` is out of range or `cursor` is not one we issued.
    pub fn into_query(self) -> Result<TimelineQuery, ValidationErrors> {
        let before = self.cursor.as_deref().map(decode_timeline).transpose();
        let query = TimelineQuery::new(self.limit, None);
        match (query, before) {
            (Ok(query), Ok(before)) => Ok(TimelineQuery { before, ..query }),
            (query, before) => {
                let mut errors = ValidationErrors::default();
                errors.extend(query.err().unwrap_or_default());
                errors.extend(before.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

/// `GET /api/v1/events`: a page of the feed.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// The `next_cursor` (or an event's `cursor`) last seen; from the oldest retained
    /// event when absent.
    #[param(pattern = r"^f1\.[0-9a-f]+\.[0-9a-f]+$", example = "f1.2f3.1a")]
    pub after: Option<String>,
    /// Page size, 1 to 1000.
    #[serde(default = "default_feed_limit", deserialize_with = "de::u64_param")]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
    /// Only these event types, comma-separated (`created,deleted`); every type when absent.
    #[param(example = "created,deleted")]
    pub types: Option<String>,
    /// Seconds to wait for an event when there is none yet, 0 to 30: the answer comes as
    /// soon as one is visible (long poll).
    #[serde(default, deserialize_with = "de::u64_param")]
    #[param(minimum = 0, maximum = 30, default = 0)]
    pub wait: u64,
}

impl FeedParams {
    /// The domain's feed query.
    ///
    /// # Errors
    /// Every parameter out of range, a cursor we did not issue, an unknown type.
    pub fn into_query(self) -> Result<FeedQuery, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let after = match self.after.as_deref().map(decode_feed).transpose() {
            Ok(after) => after,
            Err(err) => {
                errors.extend(err);
                None
            }
        };
        let mut kinds = Vec::new();
        for name in self.types.iter().flat_map(|t| t.split(',')).map(str::trim) {
            match name.parse::<EventKind>() {
                Ok(kind) if !kinds.contains(&kind) => kinds.push(kind),
                Ok(_) => {}
                Err(_) => errors.push("types", Rule::OneOf(&EventKind::NAMES)),
            }
        }
        let query = FeedQuery::new(after, self.limit, kinds, self.wait);
        match query {
            Ok(query) if errors.is_empty() => Ok(query),
            query => {
                errors.extend(query.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

/// The type of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Created,
    Updated,
    BulkUpdated,
    EmailVerified,
    PhoneVerified,
    LoggedIn,
    Deactivated,
    Deleted,
    Erased,
}

impl From<EventKind> for EventType {
    fn from(kind: EventKind) -> Self {
        match kind {
            EventKind::Created => Self::Created,
            EventKind::Updated => Self::Updated,
            EventKind::BulkUpdated => Self::BulkUpdated,
            EventKind::EmailVerified => Self::EmailVerified,
            EventKind::PhoneVerified => Self::PhoneVerified,
            EventKind::LoggedIn => Self::LoggedIn,
            EventKind::Deactivated => Self::Deactivated,
            EventKind::Deleted => Self::Deleted,
            EventKind::Erased => Self::Erased,
        }
    }
}

/// One field's value before and after a change, as the customer shows it (`null` when
/// unset, or before a create and after a delete; tags comma-separated). Once the customer
/// was erased, both are `null` and `erased` is true for every personal field: the history
/// still says the field changed, no longer from what to what.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldChangeResponse {
    #[schema(example = json!("old@example.com"))]
    pub from: Value,
    #[schema(example = json!("new@example.com"))]
    pub to: Value,
    /// Present (true) only when the values were erased with the customer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

fn json_value(value: FieldValue) -> Value {
    match value {
        FieldValue::Null => Value::Null,
        FieldValue::Bool(b) => Value::Bool(b),
        FieldValue::Integer(n) => Value::from(n),
        FieldValue::Text(text) => Value::String(text),
        // Tags, shown as the customer shows them: comma-separated, `null` when none.
        FieldValue::Texts(items) if items.is_empty() => Value::Null,
        FieldValue::Texts(items) => Value::String(items.join(",")),
        FieldValue::Timestamp(at) => Value::String(utc_timestamp(at)),
        FieldValue::LocalTimestamp(at) => Value::String(local_timestamp(at)),
        FieldValue::Erased => Value::Null,
    }
}

/// One recorded change of one customer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventResponse {
    /// Unique; grows along each customer's timeline.
    #[schema(example = 42)]
    pub id: i64,
    /// The event's position in the feed, to hand back as `after`.
    #[schema(example = "f1.2f3.2a")]
    pub cursor: String,
    #[schema(example = "CUST_A1B2C3D4")]
    pub customer_id: String,
    pub r#type: EventType,
    /// The customer's version after the change (its `ETag`); for `deleted`, its last.
    #[schema(example = 3, minimum = 1)]
    pub version: u64,
    #[schema(example = "2024-01-15T10:30:00Z")]
    pub occurred_at: String,
    /// The token's subject when authentication is on.
    pub actor: Option<String>,
    /// The `X-Request-ID` of the request that made the change.
    pub request_id: Option<String>,
    /// The `Idempotency-Key` the request carried.
    pub idempotency_key: Option<String>,
    /// Every field that changed; for `created` each field set, for `deleted` each field
    /// the customer had.
    #[schema(example = json!({"email": {"from": "old@example.com", "to": "new@example.com"}}))]
    pub changes: BTreeMap<String, FieldChangeResponse>,
}

impl From<CustomerEvent> for EventResponse {
    fn from(event: CustomerEvent) -> Self {
        Self {
            id: event.id,
            cursor: feed_cursor(event.position),
            customer_id: event.customer_id,
            r#type: event.kind.into(),
            version: event.version,
            occurred_at: utc_timestamp(event.occurred_at),
            actor: event.provenance.actor,
            request_id: event.provenance.request_id,
            idempotency_key: event.provenance.idempotency_key,
            // A change the customer's representation cannot show (no tags to an empty list)
            // is left out.
            changes: event
                .changes
                .into_iter()
                .map(|(field, change)| {
                    let erased = change.from == FieldValue::Erased;
                    let change = FieldChangeResponse {
                        from: json_value(change.from),
                        to: json_value(change.to),
                        erased,
                    };
                    (field, change)
                })
                .filter(|(_, change)| change.erased || change.from != change.to)
                .collect(),
        }
    }
}

/// A page of a customer's changes, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TimelineResponse {
    #[schema(example = "CUST_A1B2C3D4")]
    pub customer_id: String,
    pub events: Vec<EventResponse>,
    /// The `cursor` of the next (older) page; `null` at the end.
    #[schema(example = "e1.29")]
    pub next_cursor: Option<String>,
}

impl TimelineResponse {
    pub fn new(customer_id: String, timeline: Timeline) -> Self {
        Self {
            customer_id,
            events: timeline.events.into_iter().map(Into::into).collect(),
            next_cursor: timeline.next_before.map(timeline_cursor),
        }
    }
}

/// A page of the feed of every change, in feed order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FeedResponse {
    pub events: Vec<EventResponse>,
    /// Where to go on from (`after`): the last event's `cursor`, or the `after` asked with
    /// when there was none; `null` while the feed has never had an event.
    #[schema(example = "f1.2f3.2a")]
    pub next_cursor: Option<String>,
}

impl From<FeedPage> for FeedResponse {
    fn from(page: FeedPage) -> Self {
        Self {
            events: page.events.into_iter().map(Into::into).collect(),
            next_cursor: page.next.map(feed_cursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(query: &str) -> Result<FeedQuery, ValidationErrors> {
        serde_urlencoded::from_str::<FeedParams>(query)
            .unwrap()
            .into_query()
    }

    #[test]
    fn cursors_round_trip_through_their_text() {
        let position = FeedPosition {
            transaction: 0x2f3,
            event: 0x2a,
        };
        assert_eq!(feed_cursor(position), "f1.2f3.2a");
        assert_eq!(decode_feed("f1.2f3.2a"), Ok(position));
        assert_eq!(timeline_cursor(41), "e1.29");
        assert_eq!(decode_timeline("e1.29"), Ok(41));
    }

    #[test]
    fn cursors_we_did_not_issue_break_the_cursor_rule() {
        for raw in [
            "",
            "f1.",
            "f1.2f3",
            "f1.zz.1",
            "f1.-1.1",
            "f1.1.+1",
            "e1.1",
            "f1.ffffffffffffffff.1",
        ] {
            let err = decode_feed(raw).unwrap_err();
            assert_eq!(
                (err.0[0].field, err.0[0].rule),
                ("after", Rule::Cursor),
                "{raw}"
            );
        }
        for raw in ["", "e1.", "e1.0", "e1.-5", "f1.1.1"] {
            assert!(decode_timeline(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn feed_parameters_default_to_a_hundred_events_of_every_type_at_once() {
        let q = feed("").unwrap();
        assert_eq!(
            (q.after, q.limit, q.kinds.is_empty(), q.wait.as_secs()),
            (None, 100, true, 0)
        );
    }

    #[test]
    fn types_are_a_comma_separated_list_of_known_names() {
        let q = feed("types=created,%20deleted,created&wait=30").unwrap();
        assert_eq!(q.kinds, vec![EventKind::Created, EventKind::Deleted]);
        assert_eq!(q.wait.as_secs(), 30);
        let err = feed("types=created,renamed&wait=31&after=x").unwrap_err();
        let named: Vec<_> = err.0.iter().map(|v| v.field).collect();
        assert_eq!(named, vec!["after", "types", "wait"]);
    }

    #[test]
    fn a_change_the_representation_cannot_show_is_left_out() {
        let at = chrono::Utc::now();
        let change = |from, to| domain::FieldChange { from, to };
        let event = CustomerEvent {
            id: 7,
            position: FeedPosition {
                transaction: 0x10,
                event: 7,
            },
            customer_id: "CUST_A1B2C3D4".into(),
            kind: EventKind::Created,
            version: 1,
            occurred_at: at,
            provenance: domain::Provenance::default(),
            changes: BTreeMap::from([
                (
                    "tags".into(),
                    change(FieldValue::Null, FieldValue::Texts(Vec::new())),
                ),
                (
                    "city".into(),
                    change(FieldValue::Null, FieldValue::Text("Oslo".into())),
                ),
            ]),
        };
        let shown = serde_json::to_value(EventResponse::from(event)).unwrap();
        assert_eq!(
            shown["changes"],
            serde_json::json!({"city": {"from": null, "to": "Oslo"}})
        );
        assert_eq!(shown["cursor"], "f1.10.7");
        assert_eq!(shown["type"], "created");
    }

    #[test]
    fn changes_show_values_as_the_customer_does() {
        let at = chrono::DateTime::parse_from_rfc3339("2024-01-15T10:30:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            json_value(FieldValue::Timestamp(at)),
            "2024-01-15T10:30:00Z"
        );
        assert_eq!(
            json_value(FieldValue::LocalTimestamp(at.naive_utc())),
            "2024-01-15T10:30:00"
        );
        assert_eq!(
            json_value(FieldValue::Texts(vec!["vip".into(), "new".into()])),
            "vip,new"
        );
        assert_eq!(json_value(FieldValue::Texts(Vec::new())), Value::Null);
        assert_eq!(json_value(FieldValue::Integer(3)), 3);
        assert_eq!(json_value(FieldValue::Null), Value::Null);
    }
}
