//! Statements whose answer is read to its end: a write returns only once PostgreSQL has
//! confirmed its commit.
//!
//! A statement outside an explicit transaction runs in PostgreSQL's implicit one, which
//! commits at the protocol's `Sync`: *after* the rows and `CommandComplete` have been sent,
//! and before `ReadyForQuery`, which the server sends once the commit is flushed.
//! diesel-async's `get_result`, `first` (and `optional()` on them) resolve on the first row
//! and drop the rest of the answer, so a write run with them could be acknowledged to a
//! client before its commit, and lost by a crash in that window. Every statement of this
//! crate therefore goes through [`rows`], [`optional_row`], [`one_row`] or diesel-async's
//! `execute` (which waits for `ReadyForQuery` itself); `clippy.toml` disallows `get_result`
//! and `first`, so `make lint` fails when one comes back. Reading to the end costs nothing
//! extra: `ReadyForQuery` travels in the same packet as the rows.

use diesel::QueryResult;
use diesel::result::Error;
use diesel_async::methods::LoadQuery;
use diesel_async::return_futures::LoadFuture;
use diesel_async::{AsyncConnectionCore, RunQueryDsl};
use futures::TryFutureExt;
use futures::future::{AndThen, MapOk, Ready, ready};

// Plain functions returning diesel-async's own futures (not `async fn`s): an `async fn`
// generic over the query's lifetime makes the callers' futures fail the `Send` check that
// `#[async_trait]` needs ("implementation of `Send` is not general enough").

/// Every row of the statement, once the statement's transaction has ended.
///
/// # Errors
/// The statement's error, or the connection's when it broke before the end of the answer
/// (the write may or may not have committed; the caller must not claim either).
pub(crate) fn rows<'conn, 'query, Conn, Q, U>(
    statement: Q,
    conn: &'conn mut Conn,
) -> LoadFuture<'conn, 'query, Q, Conn, U>
where
    Conn: AsyncConnectionCore,
    Q: RunQueryDsl<Conn> + LoadQuery<'query, Conn, U> + 'query,
    U: Send,
{
    RunQueryDsl::load(statement, conn)
}

/// [`optional_row`]'s future.
pub(crate) type OptionalRow<'conn, 'query, Q, Conn, U> =
    MapOk<LoadFuture<'conn, 'query, Q, Conn, U>, fn(Vec<U>) -> Option<U>>;

/// [`one_row`]'s future.
pub(crate) type OneRow<'conn, 'query, Q, Conn, U> = AndThen<
    OptionalRow<'conn, 'query, Q, Conn, U>,
    Ready<QueryResult<U>>,
    fn(Option<U>) -> Ready<QueryResult<U>>,
>;

fn first<U>(rows: Vec<U>) -> Option<U> {
    rows.into_iter().next()
}

/// The statement's first row, if any, once the statement's transaction has ended. For
/// statements that return at most one row (a unique key, `LIMIT 1`).
///
/// # Errors
/// As [`rows`].
pub(crate) fn optional_row<'conn, 'query, Conn, Q, U>(
    statement: Q,
    conn: &'conn mut Conn,
) -> OptionalRow<'conn, 'query, Q, Conn, U>
where
    Conn: AsyncConnectionCore,
    Q: RunQueryDsl<Conn> + LoadQuery<'query, Conn, U> + 'query,
    U: Send,
{
    rows(statement, conn).map_ok(first as fn(Vec<U>) -> Option<U>)
}

fn required<U>(row: Option<U>) -> Ready<QueryResult<U>> {
    ready(row.ok_or(Error::NotFound))
}

/// The statement's first row, once the statement's transaction has ended; for statements
/// that always return one (`INSERT .. RETURNING`, an aggregate).
///
/// # Errors
/// As [`rows`], and [`Error::NotFound`] when there was no row.
pub(crate) fn one_row<'conn, 'query, Conn, Q, U>(
    statement: Q,
    conn: &'conn mut Conn,
) -> OneRow<'conn, 'query, Q, Conn, U>
where
    Conn: AsyncConnectionCore,
    Q: RunQueryDsl<Conn> + LoadQuery<'query, Conn, U> + 'query,
    U: Send,
{
    optional_row(statement, conn).and_then(required as fn(Option<U>) -> Ready<QueryResult<U>>)
}
