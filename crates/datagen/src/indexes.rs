//! Dropping the secondary indexes of `customers` before a bulk load and building them again
//! afterwards.
//!
//! Building an index over a million rows is much cheaper than maintaining it row by row
//! (for the three unique btrees on random keys: 5 s against 13 s). Unique indexes and
//! constraints are rebuilt inside the load's transaction, so no other session ever sees
//! the table without them. The others are rebuilt after the commit (another session cannot
//! see uncommitted rows) by two connections side by side: the trigram GIN, most of the
//! wait, builds on one core (PostgreSQL 15 parallelises only btree builds) while the
//! btrees take the other. An interrupted rebuild costs speed, never correctness. The
//! definitions come from the server (`pg_get_indexdef`, `pg_get_constraintdef`), so what
//! is rebuilt is exactly what the migrations created.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio_postgres::{Client, GenericClient};

use super::IndexBuild;

/// One secondary index: how to drop it and how to build it again.
#[derive(Debug, Clone)]
pub(super) struct IndexDefinition {
    /// The index's (or its constraint's) name.
    pub name: String,
    pub drop_sql: String,
    pub create_sql: String,
}

async fn definitions(
    client: &impl GenericClient,
    sql: &str,
) -> Result<Vec<IndexDefinition>, tokio_postgres::Error> {
    let rows = client.query(sql, &[]).await?;
    rows.iter()
        .map(|row| {
            Ok(IndexDefinition {
                name: row.try_get(0)?,
                drop_sql: row.try_get(1)?,
                create_sql: row.try_get(2)?,
            })
        })
        .collect()
}

/// The non-unique secondary indexes of `customers`, GIN ones first: they take longest, so
/// starting them first keeps both connections busy until the end.
const NON_UNIQUE_INDEXES_SQL: &str = "\
SELECT c.relname::text AS name, format('DROP INDEX %s', i.indexrelid::regclass) AS drop_sql,
       pg_get_indexdef(i.indexrelid) AS create_sql
FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS am ON am.oid = c.relam
WHERE i.indrelid = 'customers'::regclass AND NOT i.indisunique
ORDER BY am.amname = 'gin' DESC, c.relpages DESC, c.relname";

/// The unique constraints and unique indexes of `customers` except the primary key (ids
/// arrive in order, so keeping it costs little).
const UNIQUE_INDEXES_SQL: &str = "\
SELECT conname::text AS name,
       format('ALTER TABLE customers DROP CONSTRAINT %I', conname) AS drop_sql,
       format('ALTER TABLE customers ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid))
           AS create_sql
FROM pg_constraint WHERE conrelid = 'customers'::regclass AND contype = 'u'
UNION ALL
SELECT i.indexrelid::regclass::text, format('DROP INDEX %s', i.indexrelid::regclass),
       pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid = 'customers'::regclass AND i.indisunique AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)";

/// The secondary indexes of `customers`, dropped for a load.
#[derive(Debug)]
pub(super) struct DroppedIndexes {
    /// To rebuild before the load commits.
    pub unique: Vec<IndexDefinition>,
    /// To rebuild after it committed.
    pub other: Vec<IndexDefinition>,
}

/// Drops every secondary index and unique constraint and returns their definitions.
pub(super) async fn drop_all(
    client: &impl GenericClient,
) -> Result<DroppedIndexes, tokio_postgres::Error> {
    let unique = definitions(client, UNIQUE_INDEXES_SQL).await?;
    let other = definitions(client, NON_UNIQUE_INDEXES_SQL).await?;
    for index in unique.iter().chain(&other) {
        client.batch_execute(&index.drop_sql).await?;
    }
    Ok(DroppedIndexes { unique, other })
}

/// Builds the indexes one after another on this connection.
pub(super) async fn build_each(
    client: &impl GenericClient,
    indexes: &[IndexDefinition],
) -> Result<Vec<IndexBuild>, tokio_postgres::Error> {
    let mut built = Vec::with_capacity(indexes.len());
    for index in indexes {
        built.push(build(client, index).await?);
    }
    Ok(built)
}

async fn build(
    client: &impl GenericClient,
    index: &IndexDefinition,
) -> Result<IndexBuild, tokio_postgres::Error> {
    let started = Instant::now();
    client.batch_execute(&index.create_sql).await?;
    let elapsed = started.elapsed();
    tracing::debug!(
        seconds = elapsed.as_secs_f64(),
        index = %index.create_sql,
        "index built"
    );
    Ok(IndexBuild {
        name: index.name.clone(),
        elapsed,
    })
}

/// The indexes a failed rebuild left unbuilt.
#[derive(Debug)]
pub(super) struct RebuildFailed {
    pub error: tokio_postgres::Error,
    pub unbuilt: Vec<String>,
}

/// Builds every index, each of the two connections taking the next one from a shared
/// queue.
pub(super) async fn rebuild(
    first: &Client,
    second: &Client,
    indexes: Vec<IndexDefinition>,
) -> Result<Vec<IndexBuild>, RebuildFailed> {
    let queue = Arc::new(Mutex::new(VecDeque::from(indexes)));
    let outcomes = tokio::join!(
        lane(first, Arc::clone(&queue)),
        lane(second, Arc::clone(&queue))
    );
    // A failed lane stops; the other one empties the queue, so what is left unbuilt is
    // exactly what failed.
    let mut built = Vec::new();
    let mut failed: Option<RebuildFailed> = None;
    for outcome in [outcomes.0, outcomes.1] {
        match outcome {
            Ok(lane_built) => built.extend(lane_built),
            Err((error, sql)) => match failed.as_mut() {
                Some(failed) => failed.unbuilt.push(sql),
                None => {
                    failed = Some(RebuildFailed {
                        error,
                        unbuilt: vec![sql],
                    });
                }
            },
        }
    }
    failed.map_or(Ok(built), Err)
}

/// Builds indexes from the queue until it is empty; on failure returns the error and the
/// definition that failed.
async fn lane(
    client: &Client,
    queue: Arc<Mutex<VecDeque<IndexDefinition>>>,
) -> Result<Vec<IndexBuild>, (tokio_postgres::Error, String)> {
    let mut built = Vec::new();
    loop {
        let next = queue.lock().ok().and_then(|mut q| q.pop_front());
        let Some(index) = next else {
            return Ok(built);
        };
        built.push(
            build(client, &index)
                .await
                .map_err(|e| (e, index.create_sql.clone()))?,
        );
    }
}
