//! Where a repository's statements run, and the three shapes of call that every method of
//! [`PgCustomerRepository`] is one of: a plain [`call`](PgCustomerRepository::call), a
//! [`read`](PgCustomerRepository::read) that may go to a replica, and a
//! [`write`](PgCustomerRepository::write). Each takes the method's statements as an async
//! closure over the connection, so every early return and transaction boundary is in the
//! functions below, where a reader sees it.

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Object;
use domain::RepositoryError;
use tokio::sync::Notify;

use super::{InTransaction, PgCustomerRepository, history, reads};
use crate::errors::from_pool;
use crate::pool::{Pool, Statements, Wrap};
use crate::replicas::{Replicas, Target};

/// Where a repository's statements run: a connection from the pool per call
/// ([`Pooled`]), or the one connection of an open transaction ([`InTransaction`]).
#[async_trait]
pub trait Connections: Clone + Send + Sync + 'static + private::Sealed {
    /// A connection for a call: one from the primary's pool, or the transaction's.
    #[doc(hidden)]
    async fn conn(&self) -> Result<Conn<'_>, RepositoryError>;
    /// What a call runs its statements in: a write that may fail on a constraint
    /// (`guarded`) runs in a savepoint inside a transaction, where a failed statement would
    /// abort the whole of it while the caller must be able to go on (retry a create with
    /// another username, store a 400 for its key); behind a transaction-mode pooler every
    /// call runs in a transaction of its own (see `crate::pool`).
    #[doc(hidden)]
    fn wrap(&self, guarded: bool) -> Wrap;
    /// What a write runs in: as [`Connections::wrap`], and on a Citus coordinator at least a
    /// transaction, where its attribution is set with `SET LOCAL`.
    #[doc(hidden)]
    fn write_wrap(&self, guarded: bool) -> Wrap;
    /// Whether the database is a Citus coordinator (see `crate::pool`).
    #[doc(hidden)]
    fn distributed(&self) -> bool;
    /// What a write notifies and the feed's readers wait on (see
    /// [`Pool::sharing_wakeups_with`]).
    #[doc(hidden)]
    fn wakeups(&self) -> &Notify;
    /// A connection for a read, from the server the read scope chose (see
    /// `crate::replicas`), and that replica's index when it is one.
    #[doc(hidden)]
    async fn read_conn(&self) -> (Result<Conn<'_>, RepositoryError>, Option<usize>) {
        (self.conn().await, None)
    }
    /// Takes a replica out after a read failed on it; the rest of the scope reads the
    /// primary.
    #[doc(hidden)]
    fn read_failed(&self, _replica: usize, _error: &RepositoryError) {}
    /// Whether the database answers: on the transaction's connection inside one, else
    /// on the health probe's own (see `crate::probe`).
    #[doc(hidden)]
    async fn ping(&self) -> Result<(), RepositoryError> {
        let mut conn = self.conn().await?;
        reads::ping(&mut conn).await
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::Pooled {}
    impl Sealed for super::InTransaction {}
}

/// A connection a repository method runs its statements on.
#[doc(hidden)]
#[expect(
    clippy::large_enum_variant,
    reason = "lives on the stack for one call; boxing the pooled connection would allocate on every query"
)]
pub enum Conn<'a> {
    Pooled(Object<AsyncPgConnection>),
    Held(tokio::sync::MappedMutexGuard<'a, Object<AsyncPgConnection>>),
}

impl std::fmt::Debug for Conn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pooled(_) => "Conn::Pooled",
            Self::Held(_) => "Conn::Held",
        })
    }
}

impl std::ops::Deref for Conn<'_> {
    type Target = AsyncPgConnection;
    fn deref(&self) -> &AsyncPgConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Held(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Held(conn) => conn,
        }
    }
}

/// A connection from the pool for each call: the primary's, or for a read in a read scope
/// a replica's (see `crate::replicas`).
#[derive(Clone)]
pub struct Pooled {
    pub(super) primary: Pool,
    pub(super) replicas: Option<Replicas>,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled")
            .field("primary", &self.primary.status())
            .field("replicas", &self.replicas.is_some())
            .finish()
    }
}

#[async_trait]
impl Connections for Pooled {
    async fn conn(&self) -> Result<Conn<'_>, RepositoryError> {
        self.primary
            .get()
            .await
            .map(Conn::Pooled)
            .map_err(from_pool)
    }

    fn wrap(&self, _guarded: bool) -> Wrap {
        self.primary.wrap()
    }

    fn write_wrap(&self, _guarded: bool) -> Wrap {
        self.primary.write_wrap()
    }

    fn distributed(&self) -> bool {
        self.primary.is_distributed()
    }

    fn wakeups(&self) -> &Notify {
        self.primary.wakeups()
    }

    async fn read_conn(&self) -> (Result<Conn<'_>, RepositoryError>, Option<usize>) {
        let Some(replicas) = &self.replicas else {
            return (self.conn().await, None);
        };
        match crate::replicas::target(replicas).await {
            Target::Primary => (self.conn().await, None),
            Target::Replica(replica) => (
                replicas
                    .pool(replica)
                    .get()
                    .await
                    .map(Conn::Pooled)
                    .map_err(from_pool),
                Some(replica),
            ),
        }
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.primary.probe().await
    }

    fn read_failed(&self, replica: usize, error: &RepositoryError) {
        if let Some(replicas) = &self.replicas {
            replicas.failed(replica, error);
            crate::replicas::fell_back();
        }
    }
}

impl<C: Connections> PgCustomerRepository<C> {
    /// Runs `body` on a connection of the repository's connections (the primary's).
    pub(super) async fn call<T, F>(&self, body: F) -> Result<T, RepositoryError>
    where
        F: Statements<T>,
        T: Send,
    {
        let mut conn = self.connections.conn().await?;
        self.connections.wrap(false).run(&mut conn, body).await
    }

    /// Runs the read `body` on the server the read scope chose (see `crate::replicas`);
    /// when a replica cannot serve it, takes the replica out and runs it on the primary.
    pub(super) async fn read<T, F>(&self, body: F) -> Result<T, RepositoryError>
    where
        F: Statements<T> + Clone,
        T: Send,
    {
        let (got, replica) = self.connections.read_conn().await;
        let attempt = match got {
            Ok(mut conn) => {
                self.connections
                    .wrap(false)
                    .run(&mut conn, body.clone())
                    .await
            }
            Err(error) => Err(error),
        };
        match (replica, attempt) {
            (Some(replica), Err(error @ RepositoryError::Unavailable(_))) => {
                self.connections.read_failed(replica, &error);
                self.call(body).await
            }
            (_, result) => result,
        }
    }

    /// Runs the write `body` with `attribution`, and wakes the history's readers once it
    /// wrote. `guarded`: it may fail on a constraint, so inside a transaction it runs in a
    /// savepoint (the caller must be able to go on: retry a create with another username,
    /// store a 400 for its key). On a Citus coordinator it runs in a transaction of its own
    /// that first sets the attribution (see `history::attribute_locally`).
    pub(super) async fn write<T, F>(
        &self,
        guarded: bool,
        attribution: &str,
        body: F,
    ) -> Result<T, RepositoryError>
    where
        F: Statements<T>,
        T: Send,
    {
        let distributed = self.connections.distributed();
        let mut conn = self.connections.conn().await?;
        let written = self
            .connections
            .write_wrap(guarded)
            .run(&mut conn, async |conn| {
                history::attribute_locally(conn, distributed, attribution).await?;
                body(conn).await
            })
            .await;
        if written.is_ok() {
            self.connections.wakeups().notify_waiters();
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;

    use domain::{CustomerId, CustomerStore, Precondition};
    use futures::FutureExt;
    use test_db::TestDatabase;

    use crate::{PgCustomerRepository, PoolSettings, build_pool};

    /// A write through one worker's pool wakes a reader waiting on another worker's pool
    /// that shares its wake-ups, and none on a pool of its own.
    #[tokio::test]
    async fn a_write_wakes_the_readers_of_every_pool_sharing_its_wakeups_and_no_other() {
        let db = TestDatabase::new().await;
        let settings = PoolSettings::for_url(db.url());
        let writer = build_pool(&settings).unwrap();
        let sharing = build_pool(&settings).unwrap().sharing_wakeups_with(&writer);
        let apart = build_pool(&settings).unwrap();
        let mut woken = pin!(sharing.wakeups().notified());
        let mut unwoken = pin!(apart.wakeups().notified());
        woken.as_mut().enable();
        unwoken.as_mut().enable();

        let id = CustomerId::parse("CUST_0000ABCD").unwrap();
        PgCustomerRepository::new(writer)
            .delete(&id, &Precondition::Any)
            .await
            .unwrap();
        assert!(woken.now_or_never().is_some(), "not woken");
        assert!(unwoken.now_or_never().is_none(), "woken by another service");
    }
}
