//! The data generator: bulk generation of realistic customers (`customer-api seed`, `make
//! demo-data`, the benchmark), deterministic for a seed, and fast at a million rows. A tool
//! beside the adapter, not part of it: it speaks to PostgreSQL over a client of its own
//! (tokio-postgres, for binary `COPY`, which diesel-async does not offer) and expects a
//! database the service's migrations have prepared.
//!
//! The rows are generated here ([`rows`], from the vocabulary laid out in [`tables`]) and
//! streamed to PostgreSQL with binary `COPY`: the server only stores them, while this
//! process generates the next ones on another core.
//!
//! Into an empty table, maintaining the secondary indexes row by row is what costs. The
//! load drops them and truncates the (empty) table, so that `COPY ... FREEZE` may write the
//! rows already frozen and marked all-visible: no `VACUUM` is needed afterwards for
//! index-only scans or hint bits. It copies in one transaction (rolled back whole on
//! failure) that also rebuilds the unique indexes, and then the other indexes are rebuilt
//! two at a time from the very definitions the server reported ([`indexes`]).
//!
//! Into a table that already has customers, rows are copied into a temporary table and
//! added from there with every index in place; rows that would collide are skipped.

mod indexes;
mod rows;
mod tables;
mod vocabulary;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::{Client, IsolationLevel, NoTls, Transaction};

use indexes::IndexDefinition;
use rows::{COLUMN_TYPES, COLUMNS, Generator};
use tables::Tables;

/// Memory each index build may use; GIN builds are several times faster when their whole
/// posting lists fit.
const MAINTENANCE_WORK_MEM: &str = "512MB";

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorOptions {
    /// Rows to generate (1 to 2^32 - 1).
    pub count: u64,
    /// Which data set: the same seed (and `until`) always gives the same rows.
    pub seed: u32,
    /// `created_at` spreads over the two years ending here.
    pub until: DateTime<Utc>,
}

impl GeneratorOptions {
    /// `count` customers of data set `seed`, created during the two years until now.
    pub fn ending_now(count: u64, seed: u32) -> Self {
        Self {
            count,
            seed,
            until: Utc::now(),
        }
    }
}

/// How long one index took to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexBuild {
    /// The index's name, or its unique constraint's.
    pub name: String,
    pub elapsed: Duration,
}

/// Where a generation's time went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratorPhases {
    /// Streaming the rows into the table (`COPY`, and the insert from the temporary table
    /// when the table had customers).
    pub copy: Duration,
    /// Rebuilding the unique indexes, one after another, before the load commits.
    pub unique_indexes: Duration,
    /// Rebuilding the other indexes, two at a time, after it committed.
    pub other_indexes: Duration,
    /// `ANALYZE` (`VACUUM (ANALYZE)` when the rows could not be written frozen).
    pub analyze: Duration,
    /// Recomputing the aggregates (`customer_counts`) once, before the load commits.
    pub counts: Duration,
    /// Every index rebuilt, longest first.
    pub index_builds: Vec<IndexBuild>,
}

/// What a generation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorReport {
    /// Rows generated.
    pub requested: u64,
    /// Rows stored: fewer than requested only when the table had customers colliding with
    /// generated ones (generating the same seed twice stores nothing the second time).
    pub inserted: u64,
    /// Wall time, including `ANALYZE`.
    pub elapsed: Duration,
    /// The main parts of `elapsed`.
    pub phases: GeneratorPhases,
}

impl GeneratorReport {
    /// Indexes dropped and rebuilt (0 when the table was not empty).
    pub fn rebuilt_indexes(&self) -> usize {
        self.phases.index_builds.len()
    }
}

/// Why generating failed.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// The count is zero or too large for 32-bit customer ids.
    #[error("count must be between 1 and 4294967295, got {0}")]
    Count(u64),
    /// The database could not be reached.
    #[error("no database connection for the data generator: {0}")]
    Connection(tokio_postgres::Error),
    /// A statement failed; the table is unchanged.
    #[error("generating customers failed: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// The rows are in, but these indexes could not be rebuilt: create them by hand (the
    /// definitions are given) or empty the table and generate again.
    #[error("rebuilding indexes failed ({error}); not rebuilt: {}", unbuilt.join("; "))]
    Indexes {
        error: tokio_postgres::Error,
        unbuilt: Vec<String>,
    },
}

/// Generates `options.count` customers in the database at `url`.
///
/// It opens connections of its own (closed afterwards): they lift the service's
/// `statement_timeout` and raise their memory for index builds.
///
/// # Errors
/// When the count is out of range, the database cannot be reached, or a statement fails.
/// A failed load is rolled back; a failed index rebuild names the indexes left unbuilt.
pub async fn generate_customers(
    url: &str,
    options: &GeneratorOptions,
) -> Result<GeneratorReport, GeneratorError> {
    if options.count == 0 || options.count > u64::from(u32::MAX) {
        return Err(GeneratorError::Count(options.count));
    }
    let started = Instant::now();
    let tables = Tables::build();
    let mut client = connect(url).await?;
    let loaded = load(&mut client, &tables, options).await?;
    let mut phases = loaded.phases;
    if !loaded.dropped.is_empty() {
        let phase = Instant::now();
        let second = connect(url).await?;
        // Two builds run side by side on two connections; parallel workers of their own
        // would only take CPU from each other (the trigram index then took half again as
        // long, and it alone is most of the wait).
        for lane in [&client, &second] {
            lane.batch_execute("SET max_parallel_maintenance_workers = 0")
                .await?;
        }
        let built = indexes::rebuild(&client, &second, loaded.dropped)
            .await
            .map_err(|failed| GeneratorError::Indexes {
                error: failed.error,
                unbuilt: failed.unbuilt,
            })?;
        phases.index_builds.extend(built);
        phases.other_indexes = phase.elapsed();
    }
    // Frozen rows are all-visible already: only statistics are missing, those of the
    // expression indexes included. Otherwise VACUUM sets hint bits and the visibility map
    // now rather than during the first reads.
    let finish = if loaded.frozen {
        "ANALYZE customers"
    } else {
        "VACUUM (ANALYZE) customers"
    };
    let phase = Instant::now();
    client.batch_execute(finish).await?;
    phases.analyze = phase.elapsed();
    phases
        .index_builds
        .sort_by_key(|build| std::cmp::Reverse(build.elapsed));
    Ok(GeneratorReport {
        requested: options.count,
        inserted: loaded.inserted,
        elapsed: started.elapsed(),
        phases,
    })
}

/// A connection of its own, without statement timeout, with room for index builds.
async fn connect(url: &str) -> Result<Client, GeneratorError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(GeneratorError::Connection)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "data generator connection failed");
        }
    });
    client
        .batch_execute(&format!(
            "SET statement_timeout = 0; SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'; \
             SET work_mem = '256MB'"
        ))
        .await?;
    Ok(client)
}

/// What the load's transaction did.
struct Loaded {
    inserted: u64,
    /// The copy and the unique indexes rebuilt before the commit.
    phases: GeneratorPhases,
    /// The other indexes, dropped for the load: to be rebuilt now that it committed.
    dropped: Vec<IndexDefinition>,
    /// Whether the rows were written frozen (`COPY ... FREEZE`).
    frozen: bool,
}

/// The transaction: rows inserted, unique indexes rebuilt, and the other indexes dropped
/// for the load.
async fn load(
    client: &mut Client,
    tables: &Tables,
    options: &GeneratorOptions,
) -> Result<Loaded, tokio_postgres::Error> {
    // Read committed whatever the server's default: COPY FREEZE refuses a transaction
    // that holds an older snapshot.
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    // Writers wait until we are done; readers go on. The aggregates are not kept row by
    // row for the load (the insert trigger would collect every row): they are recomputed
    // once at the end, in this transaction, so nobody ever sees them disagree. Synthetic
    // customers get no history: the change history records what clients and operators
    // did, not a generated load (a consumer of the feed starts from the list).
    tx.batch_execute(
        "LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE; \
         ALTER TABLE customers DISABLE TRIGGER customer_counts_insert, \
             DISABLE TRIGGER customer_events_insert",
    )
    .await?;
    let empty: bool = tx
        .query_one("SELECT NOT EXISTS (SELECT 1 FROM customers)", &[])
        .await?
        .try_get(0)?;
    if !empty {
        let copying = Instant::now();
        let inserted = add(&tx, tables, options).await?;
        let copy = copying.elapsed();
        let counts = rebuild_counts(&tx).await?;
        tx.commit().await?;
        return Ok(Loaded {
            inserted,
            phases: GeneratorPhases {
                copy,
                counts,
                ..GeneratorPhases::default()
            },
            dropped: Vec::new(),
            frozen: false,
        });
    }
    tx.batch_execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
        .await?;
    let dropped = indexes::drop_all(&tx).await?;
    let frozen = truncate(&mut tx).await?;
    let freeze = if frozen { ", FREEZE" } else { "" };
    let copying = Instant::now();
    let inserted = copy(
        &tx,
        &format!("COPY customers ({COLUMNS}) FROM STDIN (FORMAT binary{freeze})"),
        tables,
        options,
    )
    .await?;
    let copied = copying.elapsed();
    let building = Instant::now();
    let index_builds = indexes::build_each(&tx, &dropped.unique).await?;
    let unique_indexes = building.elapsed();
    // Rows carry explicit ids 1..=n: the identity continues after them.
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('customers', 'id'), \
         (SELECT max(id) FROM customers))",
    )
    .await?;
    let counts = rebuild_counts(&tx).await?;
    tx.commit().await?;
    Ok(Loaded {
        inserted,
        phases: GeneratorPhases {
            copy: copied,
            unique_indexes,
            counts,
            index_builds,
            ..GeneratorPhases::default()
        },
        dropped: dropped.other,
        frozen,
    })
}

/// Turns the aggregates' and the history's insert triggers back on (in this transaction:
/// they never were off for anyone else) and recomputes the aggregates from the table.
/// Returns how long that took.
async fn rebuild_counts(tx: &Transaction<'_>) -> Result<Duration, tokio_postgres::Error> {
    let started = Instant::now();
    tx.batch_execute(
        "ALTER TABLE customers ENABLE TRIGGER customer_counts_insert, \
             ENABLE TRIGGER customer_events_insert; \
         SELECT customer_counts_rebuild()",
    )
    .await?;
    Ok(started.elapsed())
}

/// Truncates the table, which has no live rows: a new, empty file is what lets COPY write
/// the rows frozen. The lock keeps other sessions out until the commit; after it, as
/// PostgreSQL documents for COPY FREEZE, the rows are visible even to a transaction whose
/// snapshot is older than the load (a repeatable-read transaction that saw the table empty
/// sees it filled). The service reads in single read-committed statements, for which that
/// makes no difference.
///
/// Returns false when PostgreSQL refuses, as it does when another table's foreign key
/// references `customers`: the rows are then copied as usual, and vacuumed afterwards.
async fn truncate(tx: &mut Transaction<'_>) -> Result<bool, tokio_postgres::Error> {
    let savepoint = tx.savepoint("datagen_truncate").await?;
    match savepoint.batch_execute("TRUNCATE customers").await {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(true)
        }
        Err(error) => {
            tracing::info!(%error, "customers cannot be truncated; copying without FREEZE");
            savepoint.rollback().await?;
            Ok(false)
        }
    }
}

/// Adds the rows to a table that has customers, every index in place: through a
/// temporary table, skipping rows that collide, with ids from the identity in row order.
async fn add(
    tx: &Transaction<'_>,
    tables: &Tables,
    options: &GeneratorOptions,
) -> Result<u64, tokio_postgres::Error> {
    tx.batch_execute(&format!(
        "CREATE TEMPORARY TABLE generated_rows ON COMMIT DROP AS \
         SELECT {COLUMNS} FROM customers WITH NO DATA"
    ))
    .await?;
    copy(
        tx,
        &format!("COPY generated_rows ({COLUMNS}) FROM STDIN (FORMAT binary)"),
        tables,
        options,
    )
    .await?;
    let without_id = COLUMNS.trim_start_matches("id, ");
    tx.execute(
        &format!(
            "INSERT INTO customers ({without_id}) SELECT {without_id} FROM generated_rows \
             ORDER BY id ON CONFLICT DO NOTHING"
        ),
        &[],
    )
    .await
}

/// Streams the generated rows through `copy_sql` (a `COPY ... FROM STDIN` in binary
/// format); returns how many were copied.
async fn copy(
    tx: &Transaction<'_>,
    copy_sql: &str,
    tables: &Tables,
    options: &GeneratorOptions,
) -> Result<u64, tokio_postgres::Error> {
    let sink = tx.copy_in(copy_sql).await?;
    let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &COLUMN_TYPES));
    let mut generator = Generator::new(tables, options.count, options.seed, options.until);
    for n in 1..=options.count {
        let row = generator.row(n);
        writer.as_mut().write(&row.values()).await?;
    }
    writer.finish().await
}
