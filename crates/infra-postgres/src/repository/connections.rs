//! Where a repository's statements run, and the two shapes of call that every method of
//! [`PgCustomerRepository`] is one of: a [`call`](PgCustomerRepository::call) and a
//! [`write`](PgCustomerRepository::write). Each takes the method's statements as an async
//! closure over the connection, so every early return and transaction boundary is in the
//! functions below, where a reader sees it. (Which server a read goes to is decided above
//! the repository, by `crate::RoutedReads`.)

use async_trait::async_trait;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Object;
use domain::RepositoryError;
use tokio::sync::Notify;

use super::{InTransaction, PgCustomerRepository, history, reads};
use crate::errors::from_pool;
use crate::pool::{Pool, Statements, Wrap};

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

/// A connection from the pool for each call.
#[derive(Clone)]
pub struct Pooled {
    pub(super) pool: Pool,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled")
            .field("pool", &self.pool.status())
            .finish()
    }
}

#[async_trait]
impl Connections for Pooled {
    async fn conn(&self) -> Result<Conn<'_>, RepositoryError> {
        self.pool.get().await.map(Conn::Pooled).map_err(from_pool)
    }

    fn wrap(&self, _guarded: bool) -> Wrap {
        self.pool.wrap()
    }

    fn write_wrap(&self, _guarded: bool) -> Wrap {
        self.pool.write_wrap()
    }

    fn distributed(&self) -> bool {
        self.pool.is_distributed()
    }

    fn wakeups(&self) -> &Notify {
        self.pool.wakeups()
    }

    async fn ping(&self) -> Result<(), RepositoryError> {
        self.pool.probe().await
    }
}

impl<C: Connections> PgCustomerRepository<C> {
    /// Runs `body` on a connection of the repository's connections.
    pub(super) async fn call<T, F>(&self, body: F) -> Result<T, RepositoryError>
    where
        F: Statements<T>,
        T: Send,
    {
        let mut conn = self.connections.conn().await?;
        self.timeouts
            .classify(self.connections.wrap(false).run(&mut conn, body).await)
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
        // The connection first: a pool knows its database's layout once it opened one.
        let mut conn = self.connections.conn().await?;
        let distributed = self.connections.distributed();
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
        self.timeouts.classify(written)
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
