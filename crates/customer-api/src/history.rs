//! Retention of the change history: events older than `[events] retention_days` are removed
//! in batches by a background task (see `infra_postgres::purge_events`).

use std::time::Duration;

use chrono::Utc;
use domain::RepositoryError;
use infra_postgres::Pool;

use crate::outage::Outage;

/// How many events one statement removes.
const PURGE_BATCH: i64 = 1000;

/// Removes events older than `retention_days` every `every`, in batches, until none is left;
/// a round that fails (the database down) is tried again at the next.
pub async fn purge_events_every(pool: Pool, retention_days: u32, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut outage = Outage::of("removing expired events");
    loop {
        ticks.tick().await;
        match purge_expired(&pool, retention_days).await {
            Ok(removed) => {
                outage.succeeded();
                tracing::debug!(removed, "expired events removed");
            }
            Err(error) => {
                outage.failed(&error);
            }
        }
    }
}

/// One round: every batch of events older than `retention_days`; how many were removed.
///
/// # Errors
/// When a batch fails; the batches before it stay removed.
pub async fn purge_expired(pool: &Pool, retention_days: u32) -> Result<u64, RepositoryError> {
    let cut = Utc::now() - chrono::Duration::days(i64::from(retention_days));
    let mut removed = 0;
    loop {
        let n = infra_postgres::purge_events(pool, cut, PURGE_BATCH).await?;
        removed += n;
        if n < PURGE_BATCH.unsigned_abs() {
            return Ok(removed);
        }
    }
}
