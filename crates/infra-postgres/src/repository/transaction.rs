//! One transaction for a whole request: the repository's reads and writes, and the replay
//! record of an `Idempotency-Key`, committed together or not at all.
//!
//! [`PgTransaction::begin`] takes a connection from the pool, opens a transaction on it and
//! hands out a repository bound to it. The HTTP adapter runs a keyed write through that
//! repository, stores its answer with [`PgTransaction::save_replay`] and commits; a crash or
//! an error anywhere before the commit leaves neither the change nor the record. A
//! transaction dropped without [`PgTransaction::commit`] (an error, a cancelled request)
//! rolls back: the pool never hands out a connection diesel still sees inside a
//! transaction, it closes it, and PostgreSQL rolls back what a closed connection held.
//!
//! Concurrent requests with the same key meet at a transaction-scoped advisory lock on the
//! key ([`PgTransaction::lock_key`]), taken before the record is looked up (in the same round
//! trip): the second
//! finds the lock taken (and answers "still running", or tries again later), or takes it
//! after the first ended and then finds its record, as the lock is released only by the
//! first one's commit or rollback.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Bytea, Nullable, SmallInt, Text, Timestamptz};
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use domain::RepositoryError;
use tokio::sync::{Mutex, Notify};

use super::{Conn, Connections, PgCustomerRepository};
use crate::complete;
use crate::errors::{TimeoutMessage, from_diesel, from_pool};
use crate::pool::{Pool, Wrap};
use crate::schema::idempotency_records as records;

/// The connection of an open transaction, shared by its repository and its
/// [`PgTransaction`]; empty once committed or rolled back.
#[derive(Clone)]
pub struct InTransaction {
    slot: Arc<Mutex<Slot>>,
    /// Whether the database is a Citus coordinator (see `crate::pool`).
    distributed: bool,
    /// The pool's wake-up of the feed's readers.
    wakeups: Arc<Notify>,
}

/// Holds the connection; one still inside its transaction when the last holder goes (a
/// cancelled request, a panic) is rolled back, so its row and key locks do not outlive it.
struct Slot(Option<Object<AsyncPgConnection>>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            roll_back_later(conn);
        }
    }
}

/// Rolls back on the runtime if there is one; else closes the connection (PostgreSQL rolls
/// back what a closed connection held) instead of returning it to the pool.
fn roll_back_later(mut conn: Object<AsyncPgConnection>) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                // On failure diesel marks the connection broken; the pool then drops it.
                if let Err(error) = AnsiTransactionManager::rollback_transaction(&mut *conn).await {
                    tracing::warn!(%error, "could not roll back an abandoned transaction");
                }
            });
        }
        Err(_) => drop(Object::take(conn)),
    }
}

impl std::fmt::Debug for InTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InTransaction")
    }
}

#[async_trait]
impl Connections for InTransaction {
    async fn conn(&self) -> Result<Conn<'_>, RepositoryError> {
        tokio::sync::MutexGuard::try_map(self.slot.lock().await, |slot| slot.0.as_mut())
            .map(Conn::Held)
            .map_err(|_| RepositoryError::Unexpected("the transaction has ended".into()))
    }

    fn wrap(&self, guarded: bool) -> Wrap {
        if guarded {
            Wrap::Savepoint
        } else {
            Wrap::Nothing
        }
    }

    fn write_wrap(&self, guarded: bool) -> Wrap {
        self.wrap(guarded)
    }

    fn distributed(&self) -> bool {
        self.distributed
    }

    fn wakeups(&self) -> &Notify {
        &self.wakeups
    }
}

/// A stored answer to a request that carried an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRecord {
    /// SHA-256 of the canonical request, to tell a repeat from another request.
    pub fingerprint: Vec<u8>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The customer the answer is about: its erasure empties the record (the `erasure`
    /// migration). Not read back.
    pub customer_id: Option<String>,
}

/// What taking a key's lock found ([`PgTransaction::lock_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLock {
    /// Another transaction holds the key.
    InUse,
    /// This transaction holds the key, whose record is this (`None`: none, or expired).
    Held(Option<ReplayRecord>),
}

/// A row of `idempotency_lock_and_find`: the record's columns are `NULL` when the key was in
/// use or has no record.
#[derive(QueryableByName)]
struct LockedRecord {
    #[diesel(sql_type = Bool)]
    locked: bool,
    #[diesel(sql_type = Nullable<Bytea>)]
    fingerprint: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    status: Option<i16>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    header_names: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    header_values: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<Bytea>)]
    body: Option<Vec<u8>>,
}

/// An open transaction (see the module documentation).
pub struct PgTransaction {
    connection: InTransaction,
    /// What tells the database's statement timeouts from other errors.
    timeouts: TimeoutMessage,
}

impl std::fmt::Debug for PgTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTransaction").finish_non_exhaustive()
    }
}

impl PgTransaction {
    /// Opens a transaction on a connection from `pool`, with the repository that runs in it.
    ///
    /// # Errors
    /// `Unavailable` when no connection can be had, as for any repository call.
    pub async fn begin(
        pool: &Pool,
    ) -> Result<(Self, PgCustomerRepository<InTransaction>), RepositoryError> {
        let mut conn = pool.get().await.map_err(from_pool)?;
        match pool.wrap() {
            // Behind a transaction-mode pooler the transaction sets the session settings
            // for itself, in its first statement.
            call @ Wrap::Call(_) => call.open(&mut conn).await?,
            _ => AnsiTransactionManager::begin_transaction(&mut *conn)
                .await
                .map_err(from_diesel)?,
        }
        let connection = InTransaction {
            slot: Arc::new(Mutex::new(Slot(Some(conn)))),
            distributed: pool.is_distributed(),
            wakeups: Arc::clone(pool.wakeups()),
        };
        let repository = PgCustomerRepository {
            connections: connection.clone(),
            provenance: Arc::default(),
            // It writes; it never searches.
            totals: super::SearchTotals::default(),
            timeouts: pool.timeouts().clone(),
        };
        let timeouts = pool.timeouts().clone();
        Ok((
            Self {
                connection,
                timeouts,
            },
            repository,
        ))
    }

    /// Takes the transaction's lock on `(scope, key)`, held until commit or rollback, and
    /// reads the key's record stored at or after `since` (older ones have expired) once it
    /// holds it: one round trip (the `idempotency_lock_and_find` migration says why one
    /// statement). It never waits: a caller that wants to wait ends its transaction and
    /// tries again later, holding no connection meanwhile.
    ///
    /// # Errors
    /// A database failure, or a stored status out of range.
    pub async fn lock_key(
        &self,
        scope: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<KeyLock, RepositoryError> {
        let mut conn = self.connection.conn().await?;
        let row: LockedRecord = self.timeouts.mapped(
            complete::one_row(
                diesel::sql_query(
                    "SELECT locked, fingerprint, status, header_names, header_values, body \
                     FROM idempotency_lock_and_find($1, $2, $3)",
                )
                .bind::<Text, _>(scope)
                .bind::<Text, _>(key)
                .bind::<Timestamptz, _>(since),
                &mut *conn,
            )
            .await,
        )?;
        if !row.locked {
            return Ok(KeyLock::InUse);
        }
        let (Some(fingerprint), Some(status), Some(names), Some(values), Some(body)) = (
            row.fingerprint,
            row.status,
            row.header_names,
            row.header_values,
            row.body,
        ) else {
            return Ok(KeyLock::Held(None));
        };
        let status = u16::try_from(status)
            .map_err(|_| RepositoryError::Unexpected(format!("stored status {status}")))?;
        Ok(KeyLock::Held(Some(ReplayRecord {
            fingerprint,
            status,
            headers: names.into_iter().zip(values).collect(),
            body,
            customer_id: None,
        })))
    }

    /// Stores the answer for `(scope, key)`, replacing an expired record of the same key.
    ///
    /// # Errors
    /// A database failure.
    pub async fn save_replay(
        &self,
        scope: &str,
        key: &str,
        record: &ReplayRecord,
        at: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        let (names, values): (Vec<&str>, Vec<&str>) = record
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .unzip();
        let status = i16::try_from(record.status)
            .map_err(|_| RepositoryError::Unexpected(format!("status {}", record.status)))?;
        let row = (
            records::scope.eq(scope),
            records::key.eq(key),
            records::fingerprint.eq(&record.fingerprint),
            records::status.eq(status),
            records::header_names.eq(&names),
            records::header_values.eq(&values),
            records::body.eq(&record.body),
            records::created_at.eq(at),
            records::customer_id.eq(record.customer_id.as_deref()),
        );
        let mut conn = self.connection.conn().await?;
        let saved = diesel::insert_into(records::table)
            .values(row)
            .on_conflict((records::scope, records::key))
            .do_update()
            .set(row)
            .execute(&mut *conn)
            .await;
        self.timeouts.mapped(saved).map(drop)
    }

    /// Commits; returns once PostgreSQL confirmed it. The connection goes back to the pool.
    ///
    /// # Errors
    /// The commit failed or its answer was lost: nothing may be assumed committed.
    pub async fn commit(self) -> Result<(), RepositoryError> {
        let mut conn = self.take().await?;
        let committed = AnsiTransactionManager::commit_transaction(&mut *conn).await;
        self.timeouts.mapped(committed)
    }

    /// Rolls back now (dropping the transaction also does, a moment later).
    ///
    /// # Errors
    /// The rollback failed; the connection is then not reused.
    pub async fn rollback(self) -> Result<(), RepositoryError> {
        let mut conn = self.take().await?;
        let rolled_back = AnsiTransactionManager::rollback_transaction(&mut *conn).await;
        self.timeouts.mapped(rolled_back)
    }

    async fn take(&self) -> Result<Object<AsyncPgConnection>, RepositoryError> {
        self.connection
            .slot
            .lock()
            .await
            .0
            .take()
            .ok_or_else(|| RepositoryError::Unexpected("the transaction has ended".into()))
    }
}

impl Drop for PgTransaction {
    fn drop(&mut self) {
        // Not committed: roll back now rather than when the repository, which may live
        // longer, lets go. A repository call in progress holds the lock; then the slot does
        // it when its last holder goes.
        if let Ok(mut slot) = self.connection.slot.try_lock()
            && let Some(conn) = slot.0.take()
        {
            roll_back_later(conn);
        }
    }
}

/// Removes replay records stored before `before`, at most `batch` of them, oldest first;
/// returns how many went. Call again while it returns `batch`.
///
/// # Errors
/// A database failure.
pub async fn purge_replays(
    pool: &Pool,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, RepositoryError> {
    pool.call(async |conn| {
        diesel::sql_query(
            "DELETE FROM idempotency_records WHERE (scope, key) IN (\
                 SELECT scope, key FROM idempotency_records WHERE created_at < $1 \
                 ORDER BY created_at LIMIT $2)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(before)
        .bind::<diesel::sql_types::BigInt, _>(batch)
        .execute(conn)
        .await
        .map(|n| n as u64)
        .map_err(from_diesel)
    })
    .await
}
