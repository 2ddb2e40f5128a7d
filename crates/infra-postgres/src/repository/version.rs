//! The data version ([`DataVersions`]): the server's current snapshot.
//!
//! `pg_current_snapshot()` gives `xmin:xmax:xip`, where every transaction below `xmax` and
//! not listed in `xip` has ended, and `xmax` is one past the newest that has. The search
//! cache (`layers::CachedSearch`) reads it just before a search runs and reuses a result
//! only while the current snapshot is exactly that one.
//!
//! Why that is never stale: data changes only when a transaction commits, and a commit
//! changes every later snapshot. The committing transaction was either listed as running
//! (it leaves the list) or had an id at or above `xmax` (`xmax` moves past it). So no
//! search after a commit reuses a result computed before it, and a result computed after a
//! commit that followed its snapshot is newer than its label, never older. (An abort also
//! changes the snapshot, which only costs a recomputation.) Snapshots are server-wide, so
//! this holds with any number of service instances and any other writer. The repository
//! never searches inside a transaction of its own, whose writes a snapshot would not show.
//!
//! That last sentence is the adapter's half of the [`DataVersions`] contract: every method
//! takes a connection from the pool and runs single statements on it, none of them opens a
//! transaction, and the pool never hands out a connection that diesel's transaction manager
//! still sees inside one (it counts as broken and is replaced). The repository tests check
//! both: the version and a search see a write only once it commits, and a connection
//! abandoned inside a transaction never serves a search.
//!
//! On a Citus coordinator the version is unknown (`None`), so the search cache reuses
//! nothing: the coordinator's snapshot says nothing of the workers' commits.

use async_trait::async_trait;
use diesel::sql_types::Text;
use domain::{DataVersion, DataVersions, RepositoryError};

use super::{Connections, PgCustomerRepository};
use crate::errors::from_diesel;

/// What `pg_current_snapshot()` showed (`xmin:xmax:xip,...`) as a version, its sequence
/// `xmax`: snapshots taken later never have a smaller one. `None` for anything else.
fn parse(text: String) -> Option<DataVersion> {
    let xmax = text.split(':').nth(1)?.parse().ok()?;
    Some(DataVersion::new(text, xmax))
}

#[async_trait]
impl DataVersions for PgCustomerRepository {
    #[tracing::instrument(level = "debug", name = "db.current_version", skip_all)]
    async fn current_version(&self) -> Result<Option<DataVersion>, RepositoryError> {
        // The version of the server the scope's search will read: a read. On a Citus
        // coordinator none: its snapshot does not move with a commit on the workers (a
        // routed write may start no transaction on the coordinator), so nothing is reused.
        // Decided on the connection: a pool knows its database's layout only once it
        // opened one, so asking before could take a coordinator for a single node.
        let text: Option<String> = self
            .call(async |conn| {
                if self.connections.distributed() {
                    return Ok(None);
                }
                crate::complete::one_row(
                    diesel::select(diesel::dsl::sql::<Text>("pg_current_snapshot()::text")),
                    &mut &*conn,
                )
                .await
                .map(Some)
                .map_err(from_diesel)
            })
            .await?;
        Ok(text.and_then(parse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_read_from_postgres_text() {
        let s = parse("795:799:795,797".into()).unwrap();
        assert_eq!(s, DataVersion::new("795:799:795,797", 799));
        assert!(parse("10:10:".into()).unwrap().precedes(&s));
        assert!(!s.precedes(&parse("10:799:".into()).unwrap()));
        assert!(parse("garbage".into()).is_none());
        assert!(parse("1:x:".into()).is_none());
    }
}
