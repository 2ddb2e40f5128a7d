//! Retention of the change history: events older than `[events] retention_days` are removed
//! in batches by a background task (see `infra_postgres::purge_events`).

use std::time::Duration;

use chrono::Utc;
use infra_postgres::Pool;

/// How many events one statement removes.
const PURGE_BATCH: i64 = 1000;

/// Removes events older than `retention_days` every `every`, in batches, until none is left.
pub async fn purge_events_every(pool: Pool, retention_days: u32, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let removed = purge_expired(&pool, retention_days).await;
        tracing::debug!(removed, "expired events removed");
    }
}

/// One round: every batch of events older than `retention_days`; how many were removed.
pub async fn purge_expired(pool: &Pool, retention_days: u32) -> u64 {
    let cut = Utc::now() - chrono::Duration::days(i64::from(retention_days));
    let mut removed = 0;
    loop {
        match infra_postgres::purge_events(pool, cut, PURGE_BATCH).await {
            Ok(n) => {
                removed += n;
                if n < PURGE_BATCH.unsigned_abs() {
                    return removed;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not remove expired events");
                return removed;
            }
        }
    }
}
