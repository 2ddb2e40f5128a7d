//! The history's reads: a customer's timeline and the feed of every change (the
//! `customer_events` migration's triggers write the events), the feed's lag, retention,
//! and the wake-up of readers waiting for an event.
//!
//! The feed serves an event only once every transaction with a smaller id has ended
//! (`xid < pg_snapshot_xmin(pg_current_snapshot())`, read in the same statement, so with
//! the same snapshot) and in `(xid, id)` order. Any event that becomes visible later
//! belongs to a transaction at or above that bound, so after a position it was never
//! served before: a reader going on from the last position it saw misses nothing and sees
//! nothing twice. The cost: a transaction that stays open anywhere on the server holds the
//! feed back (by its duration) until it ends; the pool's sessions bound their own
//! (`idle_in_transaction_session_timeout`, `statement_timeout`), and [`feed_lag`] measures
//! it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Double, Text, Timestamptz};
use diesel_async::AsyncPgConnection;
use domain::{
    CustomerEvent, CustomerId, EventKind, FeedPosition, FeedRead, Provenance, RepositoryError,
    TimelineQuery,
};
use tokio::sync::Notify;

use super::events::{EVENT_COLUMNS, EventRow, purge_sql, unexpected};
use crate::complete;
use crate::errors::{from_diesel, from_pool};
use crate::pool::Pool;

/// The statement's attribution for the history's triggers: the kind of change (`None`:
/// as the statement says, `created` or `deleted`) and who asked for it, as the JSON the
/// `customer_events_attribute` function stores for the statement's transaction.
pub(super) fn attribution(kind: Option<EventKind>, provenance: &Provenance) -> String {
    serde_json::json!({
        "type": kind.map(EventKind::as_str),
        "actor": provenance.actor,
        "request_id": provenance.request_id,
        "key": provenance.idempotency_key,
    })
    .to_string()
}

/// On a Citus coordinator, sets the attribution for the rest of the write's transaction with
/// `SET LOCAL`, which Citus passes on to the workers, where the history's triggers run (there
/// `customer_events_attribute` in the statement only keeps its shape: see
/// `crates/infra-postgres/sql/distribute.sql`). Nothing on a single node.
pub(super) async fn attribute_locally(
    conn: &mut AsyncPgConnection,
    distributed: bool,
    attribution: &str,
) -> Result<(), RepositoryError> {
    use diesel_async::SimpleAsyncConnection;
    if !distributed {
        return Ok(());
    }
    conn.batch_execute(&set_local_event(attribution))
        .await
        .map_err(from_diesel)
}

/// `SET` takes no parameters: the JSON is written as an escape string literal, whose
/// reading does not depend on `standard_conforming_strings`.
fn set_local_event(attribution: &str) -> String {
    let escaped = attribution.replace('\\', "\\\\").replace('\'', "''");
    format!("SET LOCAL customer_api.event = E'{escaped}'")
}

fn into_events(rows: Vec<EventRow>) -> Result<Vec<CustomerEvent>, RepositoryError> {
    rows.into_iter().map(EventRow::into_event).collect()
}

/// The customer's events newest first; `None` when it has none and does not exist.
pub(super) async fn timeline(
    conn: &mut AsyncPgConnection,
    id: &CustomerId,
    query: &TimelineQuery,
) -> Result<Option<Vec<CustomerEvent>>, RepositoryError> {
    let rows: Vec<EventRow> = complete::rows(
        diesel::sql_query(format!(
            "SELECT {EVENT_COLUMNS} FROM customer_events \
             WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind::<Text, _>(id.as_str())
        .bind::<BigInt, _>(query.before.unwrap_or(i64::MAX))
        .bind::<BigInt, _>(i64::from(query.limit)),
        conn,
    )
    .await
    .map_err(from_diesel)?;
    if rows.is_empty() && query.before.is_none() {
        #[derive(QueryableByName)]
        struct Known {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            known: bool,
        }
        let known: Vec<Known> = complete::rows(
            diesel::sql_query(
                "SELECT EXISTS (SELECT 1 FROM customers WHERE customer_id = $1) AS known",
            )
            .bind::<Text, _>(id.as_str()),
            conn,
        )
        .await
        .map_err(from_diesel)?;
        if !known.first().is_some_and(|k| k.known) {
            return Ok(None);
        }
    }
    into_events(rows).map(Some)
}

/// The feed after `after` (see the module's documentation), or [`FeedRead::Purged`] when
/// retention removed events after it.
pub(super) async fn feed(
    conn: &AsyncPgConnection,
    after: Option<FeedPosition>,
    limit: u32,
    kinds: &[EventKind],
) -> Result<FeedRead, RepositoryError> {
    let (transaction, event) = after.map_or((0, 0), |p| (p.transaction, p.event));
    let transaction = i64::try_from(transaction).map_err(unexpected)?;
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let page = diesel::sql_query(format!(
        "SELECT {EVENT_COLUMNS} FROM customer_events \
         WHERE (xid, id) > ($1::text::xid8, $2) \
           AND xid < pg_snapshot_xmin(pg_current_snapshot()) \
           AND (cardinality($3::text[]) = 0 OR type = ANY($3)) \
         ORDER BY xid, id LIMIT $4"
    ))
    .bind::<Text, _>(transaction.to_string())
    .bind::<BigInt, _>(event)
    .bind::<Array<Text>, _>(kinds)
    .bind::<BigInt, _>(i64::from(limit));
    #[derive(QueryableByName)]
    struct Purged {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        purged: bool,
    }
    let purged = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM customer_events_purged \
         WHERE (xid, id) > ($1::text::xid8, $2)) AS purged",
    )
    .bind::<Text, _>(transaction.to_string())
    .bind::<BigInt, _>(event);
    let mut page_conn = conn;
    let mut purged_conn = conn;
    let (rows, purged) = tokio::try_join!(
        complete::rows::<_, _, EventRow>(page, &mut page_conn),
        complete::rows::<_, _, Purged>(purged, &mut purged_conn),
    )
    .map_err(from_diesel)?;
    if after.is_some() && purged.first().is_some_and(|p| p.purged) {
        return Ok(FeedRead::Purged);
    }
    into_events(rows).map(FeedRead::Events)
}

/// How long the oldest committed event the feed cannot serve yet has waited (zero when
/// there is none): what a transaction left open anywhere on the server costs the feed.
///
/// # Errors
/// When the database cannot be reached.
pub async fn feed_lag(pool: &Pool) -> Result<Duration, RepositoryError> {
    #[derive(QueryableByName)]
    struct Lag {
        #[diesel(sql_type = Double)]
        seconds: f64,
    }
    // On a Citus coordinator, the feed's log after a relay (see `super::relay`).
    let lag: Vec<Lag> = pool
        .call(async |conn| {
            let table = if pool.is_distributed() {
                super::relay::relay(conn).await?;
                "customer_feed"
            } else {
                "customer_events"
            };
            complete::rows(
                diesel::sql_query(format!(
                    "SELECT coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8 \
                 AS seconds \
                 FROM {table} WHERE xid >= pg_snapshot_xmin(pg_current_snapshot())"
                )),
                conn,
            )
            .await
            .map_err(from_diesel)
        })
        .await?;
    let seconds = lag.first().map_or(0.0, |l| l.seconds.max(0.0));
    Ok(Duration::try_from_secs_f64(seconds).unwrap_or_default())
}

/// Removes up to `batch` of the oldest events in feed order that occurred before `before`,
/// stopping at the first younger one (so what is kept is always a tail of the feed), and
/// records the newest position removed, where a reader's cursor becomes too old (410).
/// Returns how many were removed.
///
/// # Errors
/// When the database cannot be reached.
pub async fn purge_events(
    pool: &Pool,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, RepositoryError> {
    #[derive(QueryableByName)]
    struct Removed {
        #[diesel(sql_type = BigInt)]
        removed: i64,
    }
    let mut conn = pool.get().await.map_err(from_pool)?;
    if pool.is_distributed() {
        return pool
            .timeouts()
            .classify(super::relay::purge(&mut conn, before, batch).await);
    }
    let removed = pool.wrap().run(&mut conn, async |conn| {
        complete::rows(
            diesel::sql_query(purge_sql("customer_events", "", "count(*) AS removed"))
                .bind::<Timestamptz, _>(before)
                .bind::<BigInt, _>(batch),
            conn,
        )
        .await
        .map_err(from_diesel)
    });
    let removed: Vec<Removed> = pool.timeouts().classify(removed.await)?;
    Ok(removed
        .first()
        .map_or(0, |r| u64::try_from(r.removed).unwrap_or_default()))
}

/// How often a reader waiting for events reads the feed again without being woken: what
/// wakes it is a write through this service's pools, so this bounds the wait for a change made
/// elsewhere (another instance, an operator's SQL) or one a longer transaction held back.
pub const FEED_RECHECK: Duration = Duration::from_millis(100);

/// Returns after the next write that `written` tells of, [`FEED_RECHECK`] or `at_most`,
/// whichever comes first.
pub(super) async fn await_events(written: &Notify, at_most: Duration) {
    let _ = tokio::time::timeout(at_most.min(FEED_RECHECK), written.notified()).await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_attribution_is_set_as_an_escape_string_literal() {
        assert_eq!(
            super::set_local_event(r#"{"actor":"o'neil \\ x"}"#),
            r#"SET LOCAL customer_api.event = E'{"actor":"o''neil \\\\ x"}'"#
        );
    }
}
