//! The change feed on a Citus coordinator (docs/scale-out.md, "The change feed").
//!
//! On one node the feed serves `customer_events` in `(xid, id)` order below the server's
//! snapshot horizon. On a cluster each worker has its own transaction ids, so events of two
//! workers have no common order, and no single cursor can follow both. So the coordinator
//! keeps the feed's order itself: a *relay* moves every committed event that is not in the
//! feed yet into `customer_feed`, a coordinator table, in one transaction that also marks the
//! events `relayed` on their workers (two-phase commit: both or neither). `customer_feed`
//! then gets its positions from the coordinator's transaction ids, and the single-node rule
//! serves it without gaps: only below the coordinator's horizon, in `(xid, id)` order.
//!
//! An event in flight is invisible to the relay and stays unrelayed until a later one; two
//! relays never run at once (a transaction-scoped advisory lock; the second skips). A
//! customer's events keep their order: they live on one worker, where they commit in their
//! order, and a relay appends them in their worker's `(xid, id)` order (see [`RELAY_SQL`]). The relay runs before
//! every read of the feed, before every measure of its lag (the service measures it in the
//! background), and before a purge. The events are read from `customer_events` by id, so an
//! erasure's scrubbing shows in the feed as on one node.

use std::collections::HashMap;

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Text, Timestamptz};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use domain::{EventKind, FeedPosition, FeedRead, RepositoryError};

use super::events::{EVENT_COLUMNS, EventRow, purge_sql, unexpected};
use crate::complete;
use crate::errors::from_diesel;

/// Advisory lock key serialising relays ("custfeed" in ASCII).
const RELAY_LOCK: i64 = 0x6375_7374_6665_6564;

/// Marks every visible unrelayed event relayed (on its worker) and appends it to the feed's
/// log (on the coordinator): one distributed statement. The order of the batch: by time
/// (when each event's transaction began, on its worker's clock), except that a customer's
/// events keep their own order (its worker's `(xid, id)`), each taking the latest time of
/// its customer's events up to it. So changes made one after another anywhere appear in the
/// order they were made (as far as the workers' clocks agree), and a customer's always do.
const RELAY_SQL: &str = "\
WITH ready AS (
    UPDATE customer_events SET relayed = true WHERE NOT relayed
    RETURNING customer_id, id, xid, type, occurred_at
)
INSERT INTO customer_feed (customer_id, event_id, type, occurred_at)
SELECT customer_id, id, type, occurred_at FROM ready
ORDER BY max(occurred_at) OVER (PARTITION BY customer_id ORDER BY xid, id), customer_id, xid, id";

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Moves the committed events not in the feed yet into it (see the module), unless another
/// relay is running, in a transaction of its own (a savepoint inside one).
pub(crate) async fn relay(conn: &mut AsyncPgConnection) -> Result<(), RepositoryError> {
    AnsiTransactionManager::begin_transaction(conn)
        .await
        .map_err(from_diesel)?;
    let moved = async {
        let locked: Locked = complete::one_row(
            diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                .bind::<BigInt, _>(RELAY_LOCK),
            &mut *conn,
        )
        .await?;
        if locked.locked {
            diesel::sql_query(RELAY_SQL).execute(&mut *conn).await?;
        }
        Ok::<_, diesel::result::Error>(())
    }
    .await;
    match moved {
        Ok(()) => AnsiTransactionManager::commit_transaction(conn)
            .await
            .map_err(from_diesel),
        Err(error) => {
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            Err(from_diesel(error))
        }
    }
}

/// One entry of the feed's log.
#[derive(QueryableByName)]
struct Entry {
    #[diesel(sql_type = BigInt)]
    transaction: i64,
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = Text)]
    customer_id: String,
    #[diesel(sql_type = BigInt)]
    event_id: i64,
}

#[derive(QueryableByName)]
struct Purged {
    #[diesel(sql_type = Bool)]
    purged: bool,
}

/// The feed after `after` on a Citus coordinator: relayed first, then read from the log as
/// on one node, each event from its worker.
pub(super) async fn feed(
    conn: &mut AsyncPgConnection,
    after: Option<FeedPosition>,
    limit: u32,
    kinds: &[EventKind],
) -> Result<FeedRead, RepositoryError> {
    relay(conn).await?;
    let (transaction, event) = after.map_or((0, 0), |p| (p.transaction, p.event));
    let transaction = i64::try_from(transaction).map_err(unexpected)?;
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let purged: Purged = complete::one_row(
        diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM customer_events_purged \
             WHERE (xid, id) > ($1::text::xid8, $2)) AS purged",
        )
        .bind::<Text, _>(transaction.to_string())
        .bind::<BigInt, _>(event),
        &mut *conn,
    )
    .await
    .map_err(from_diesel)?;
    if after.is_some() && purged.purged {
        return Ok(FeedRead::Purged);
    }
    let entries: Vec<Entry> = complete::rows(
        diesel::sql_query(
            "SELECT xid::text::bigint AS transaction, id AS position, customer_id::text, event_id \
             FROM customer_feed \
             WHERE (xid, id) > ($1::text::xid8, $2) \
               AND xid < pg_snapshot_xmin(pg_current_snapshot()) \
               AND (cardinality($3::text[]) = 0 OR type = ANY($3)) \
             ORDER BY xid, id LIMIT $4",
        )
        .bind::<Text, _>(transaction.to_string())
        .bind::<BigInt, _>(event)
        .bind::<Array<Text>, _>(kinds)
        .bind::<BigInt, _>(i64::from(limit)),
        &mut *conn,
    )
    .await
    .map_err(from_diesel)?;
    if entries.is_empty() {
        return Ok(FeedRead::Events(Vec::new()));
    }
    let customers: Vec<&str> = entries.iter().map(|e| e.customer_id.as_str()).collect();
    let ids: Vec<i64> = entries.iter().map(|e| e.event_id).collect();
    // Event ids are unique across the cluster (each worker issues its own range).
    let rows: Vec<EventRow> = complete::rows(
        diesel::sql_query(format!(
            "SELECT {EVENT_COLUMNS} FROM customer_events \
             WHERE customer_id = ANY($1) AND id = ANY($2)"
        ))
        .bind::<Array<Text>, _>(customers)
        .bind::<Array<BigInt>, _>(ids),
        &mut *conn,
    )
    .await
    .map_err(from_diesel)?;
    let mut by_id: HashMap<i64, EventRow> = rows.into_iter().map(|row| (row.id, row)).collect();
    let mut events = Vec::with_capacity(entries.len());
    for entry in entries {
        // Gone between the two reads: purged, so the reader's place is purged too.
        let Some(row) = by_id.remove(&entry.event_id) else {
            return Ok(FeedRead::Purged);
        };
        let mut event = row.into_event()?;
        event.position = FeedPosition {
            transaction: u64::try_from(entry.transaction).map_err(unexpected)?,
            event: entry.position,
        };
        events.push(event);
    }
    Ok(FeedRead::Events(events))
}

#[derive(QueryableByName)]
struct Gone {
    #[diesel(sql_type = Text)]
    customer_id: String,
    #[diesel(sql_type = BigInt)]
    event_id: i64,
}

/// As the single-node purge ([`purge_sql`]), over the feed's log: its entries and their
/// events go in one transaction. Returns how many went.
pub(super) async fn purge(
    conn: &mut AsyncPgConnection,
    before: chrono::DateTime<chrono::Utc>,
    batch: i64,
) -> Result<u64, RepositoryError> {
    relay(conn).await?;
    AnsiTransactionManager::begin_transaction(conn)
        .await
        .map_err(from_diesel)?;
    let removed = async {
        let gone: Vec<Gone> = complete::rows(
            diesel::sql_query(purge_sql(
                "customer_feed",
                ", t.customer_id, t.event_id",
                "customer_id::text, event_id",
            ))
            .bind::<Timestamptz, _>(before)
            .bind::<BigInt, _>(batch),
            &mut *conn,
        )
        .await?;
        if !gone.is_empty() {
            let customers: Vec<&str> = gone.iter().map(|g| g.customer_id.as_str()).collect();
            let ids: Vec<i64> = gone.iter().map(|g| g.event_id).collect();
            diesel::sql_query(
                "DELETE FROM customer_events WHERE customer_id = ANY($1) AND id = ANY($2)",
            )
            .bind::<Array<Text>, _>(customers)
            .bind::<Array<BigInt>, _>(ids)
            .execute(&mut *conn)
            .await?;
        }
        Ok::<_, diesel::result::Error>(gone.len())
    }
    .await;
    match removed {
        Ok(count) => {
            AnsiTransactionManager::commit_transaction(conn)
                .await
                .map_err(from_diesel)?;
            Ok(u64::try_from(count).unwrap_or_default())
        }
        Err(error) => {
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            Err(from_diesel(error))
        }
    }
}
