//! An event as stored, shared by the history's reads (`super::history`) and the Citus
//! layout's feed log (`super::relay`): the columns read, the row and its conversion to the
//! domain's event, and the retention's purge statement over either table.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use domain::{CustomerEvent, FeedPosition, FieldChange, FieldValue, Provenance, RepositoryError};
use serde_json::Value;

/// Columns of an event as read, `xid` as a number.
pub(super) const EVENT_COLUMNS: &str = "id, xid::text::bigint AS transaction, customer_id, type, version, \
     occurred_at, actor, request_id, idempotency_key, changes::text AS changes";

#[derive(QueryableByName)]
pub(super) struct EventRow {
    #[diesel(sql_type = BigInt)]
    pub(super) id: i64,
    #[diesel(sql_type = BigInt)]
    transaction: i64,
    #[diesel(sql_type = Text)]
    customer_id: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    actor: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    request_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    idempotency_key: Option<String>,
    #[diesel(sql_type = Text)]
    changes: String,
}

pub(super) fn unexpected(what: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Unexpected(format!("stored event: {what}"))
}

impl EventRow {
    pub(super) fn into_event(self) -> Result<CustomerEvent, RepositoryError> {
        // `{field: [before, after]}`, as the migration's triggers write it; `{field: null}`
        // once the customer was erased (the `erasure` migration).
        let changes: BTreeMap<String, Option<(Value, Value)>> =
            serde_json::from_str(&self.changes).map_err(unexpected)?;
        let changes = changes
            .into_iter()
            .map(|(field, values)| {
                let change = match values {
                    Some((from, to)) => FieldChange {
                        from: field_value(&field, &from)?,
                        to: field_value(&field, &to)?,
                    },
                    None => FieldChange {
                        from: FieldValue::Erased,
                        to: FieldValue::Erased,
                    },
                };
                Ok((field, change))
            })
            .collect::<Result<_, RepositoryError>>()?;
        Ok(CustomerEvent {
            id: self.id,
            position: FeedPosition {
                transaction: u64::try_from(self.transaction).map_err(unexpected)?,
                event: self.id,
            },
            customer_id: self.customer_id,
            kind: self.r#type.parse().map_err(unexpected)?,
            version: u64::try_from(self.version).map_err(unexpected)?,
            occurred_at: self.occurred_at,
            provenance: Provenance {
                actor: self.actor,
                request_id: self.request_id,
                idempotency_key: self.idempotency_key,
            },
            changes,
        })
    }
}

/// A column's value as `to_jsonb` wrote it, typed by the column.
fn field_value(field: &str, value: &Value) -> Result<FieldValue, RepositoryError> {
    Ok(match value {
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::Number(n) => FieldValue::Integer(n.as_i64().ok_or_else(|| unexpected(n))?),
        Value::String(text) => match field {
            "created_at" | "last_login_at" | "erased_at" => FieldValue::Timestamp(
                DateTime::parse_from_rfc3339(text)
                    .map_err(unexpected)?
                    .to_utc(),
            ),
            "date_of_birth" => FieldValue::LocalTimestamp(
                NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map_err(unexpected)?,
            ),
            _ => FieldValue::Text(text.clone()),
        },
        Value::Array(items) => FieldValue::Texts(
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| unexpected(item))
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(_) => return Err(unexpected(value)),
    })
}

/// Removes up to `$2` of the oldest entries of `table` (`customer_events`, or the feed's log
/// on a Citus coordinator) in feed order that occurred before `$1`, stopping at the first
/// younger one, records the newest position removed, and answers `answer` over the removed
/// rows (`gone`: `xid`, `id` and the `returning` columns).
pub(super) fn purge_sql(table: &str, returning: &str, answer: &str) -> String {
    format!(
        "WITH batch AS ( \
             SELECT xid, id, occurred_at FROM {table} \
             WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY xid, id LIMIT $2 \
         ), stop AS ( \
             SELECT xid, id FROM batch WHERE occurred_at >= $1 ORDER BY xid, id LIMIT 1 \
         ), gone AS ( \
             DELETE FROM {table} AS t USING batch AS b \
             WHERE t.xid = b.xid AND t.id = b.id \
               AND NOT EXISTS (SELECT 1 FROM stop AS s WHERE (b.xid, b.id) >= (s.xid, s.id)) \
             RETURNING t.xid, t.id{returning} \
         ), mark AS ( \
             INSERT INTO customer_events_purged AS p (xid, id) \
             SELECT xid, id FROM gone ORDER BY xid DESC, id DESC LIMIT 1 \
             ON CONFLICT (singleton) DO UPDATE SET xid = excluded.xid, id = excluded.id \
         ) \
         SELECT {answer} FROM gone"
    )
}
