//! The health probe: whether the database answers, asked on a connection of the probe's
//! own, so that `/health` never queues behind requests for one of the pool's, and answered
//! within [`PROBE_BOUND`] in every state of the network.
//!
//! One probe runs at a time. A caller that waited for another's probe takes its result
//! when it is fresh (younger than [`FRESH`]) instead of asking again, so a balancer's and
//! an orchestrator's probes arriving together cost one round trip. A probe that fails or
//! passes the bound drops its connection: the next one opens a new one, whose opening is
//! bounded the same way.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use domain::RepositoryError;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::net::NetBounds;
use crate::pool::Connector;

/// The longest a probe takes, waiting for another included.
pub const PROBE_BOUND: Duration = Duration::from_millis(800);

/// A result this young answers a caller who waited for the probe that found it.
const FRESH: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Slot {
    conn: Option<AsyncPgConnection>,
    /// When the last probe ended, and whether the database answered it.
    last: Option<(Instant, bool)>,
}

/// Probes the database for `/health` (see the module).
pub(crate) struct HealthProbe {
    connector: Arc<Connector>,
    slot: Mutex<Slot>,
}

impl std::fmt::Debug for HealthProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthProbe").finish_non_exhaustive()
    }
}

impl HealthProbe {
    pub(crate) fn new(connector: Arc<Connector>) -> Self {
        Self {
            connector,
            slot: Mutex::new(Slot::default()),
        }
    }

    /// Whether the database answers, within [`PROBE_BOUND`].
    pub(crate) async fn ping(&self) -> Result<(), RepositoryError> {
        let asked = Instant::now();
        let deadline = asked + PROBE_BOUND;
        let Ok(mut slot) = tokio::time::timeout_at(deadline, self.slot.lock()).await else {
            return Err(overdue());
        };
        if let Some((ended, answered)) = slot.last
            && ended >= asked
            && ended.elapsed() < FRESH
        {
            return if answered { Ok(()) } else { Err(overdue()) };
        }
        let outcome = tokio::time::timeout_at(deadline, self.ask(&mut slot.conn))
            .await
            .unwrap_or_else(|_| Err(overdue()));
        if outcome.is_err() {
            // Whatever state it is in, it is not used again.
            slot.conn = None;
        }
        slot.last = Some((Instant::now(), outcome.is_ok()));
        outcome
    }

    async fn ask(&self, conn: &mut Option<AsyncPgConnection>) -> Result<(), RepositoryError> {
        if conn.is_none() {
            let bounds = NetBounds {
                connect: PROBE_BOUND,
                round_trip: PROBE_BOUND,
                ..self.connector.bounds()
            };
            let opened = self
                .connector
                .open(bounds)
                .await
                .map_err(|e| RepositoryError::Unavailable(format!("cannot connect: {e}")))?;
            *conn = Some(opened);
        }
        let Some(conn) = conn.as_mut() else {
            return Err(overdue());
        };
        conn.batch_execute("SELECT 1")
            .await
            .map_err(crate::errors::from_diesel)
    }
}

fn overdue() -> RepositoryError {
    RepositoryError::Unavailable(format!(
        "the database did not answer within {PROBE_BOUND:?}"
    ))
}
