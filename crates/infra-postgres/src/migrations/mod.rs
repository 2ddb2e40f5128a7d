//! Embedded migrations, run over the async connection.
//!
//! diesel's migration harness is synchronous, so it runs over an `AsyncConnectionWrapper`
//! inside `spawn_blocking` (diesel-async's own harness uses `block_in_place`, which panics
//! on a current-thread runtime). A session advisory lock serialises replicas that start
//! together against the same database.
//!
//! On a Citus coordinator (the database has the `citus` extension) the migrations build the
//! single-node schema, then `sql/distribute.sql` turns it into the distributed layout, once,
//! in one transaction (see docs/scale-out.md). On a coordinator distributed already, the
//! functions that layout replaces are applied again whenever a migration has put the
//! single-node ones back (`overrides.rs`).

use diesel::QueryResult;
use diesel::sql_types::BigInt;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::pool::Pool;

mod overrides;

/// Every migration under the workspace's `migrations/`, compiled in.
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The distributed layout, applied after the migrations on a Citus coordinator.
const DISTRIBUTE: &str = include_str!("../../sql/distribute.sql");

/// Advisory lock key serialising migrations within one database ("custmigr" in ASCII).
const MIGRATION_LOCK: i64 = 0x6375_7374_6d69_6772;

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// No connection could be taken from the pool.
    #[error("no database connection for migrations: {0}")]
    Connection(String),
    /// A migration or the lock around it failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The blocking task running the migrations panicked or was cancelled.
    #[error("migration task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Applies every pending migration, waiting for any other process migrating the same
/// database to finish first.
///
/// The connection is one outside the pool (closed afterwards) so that the pool's
/// `statement_timeout` can be lifted for it: building an index on a big table may take
/// longer than any request should. The server may stay silent on it for the maintenance
/// timeout (see `crate::net`), waiting for another process's migrations included.
///
/// # Errors
/// When no connection can be opened or a migration fails; a failed migration is rolled
/// back by diesel and the lock released.
pub async fn run_migrations(pool: &Pool) -> Result<(), MigrationError> {
    with_migration_connection(pool, |conn| {
        conn.run_pending_migrations(MIGRATIONS)?;
        distribute(conn)?;
        Ok(())
    })
    .await
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    flag: bool,
}

fn flag(conn: &mut Wrapped, sql: &'static str) -> QueryResult<bool> {
    diesel::RunQueryDsl::get_result::<Flag>(diesel::sql_query(sql), conn).map(|found| found.flag)
}

/// On a Citus coordinator whose `customers` is not distributed yet, lays out the
/// distributed tables (`sql/distribute.sql`) in one transaction. On one distributed already,
/// applies the layout's function replacements again if any stored function differs from
/// them (a later migration redefined it), unless the database is at a newer migration than
/// this binary knows. Nothing elsewhere.
fn distribute(conn: &mut Wrapped) -> HarnessResult {
    if !flag(
        conn,
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS flag",
    )? {
        return Ok(());
    }
    if !flag(
        conn,
        "SELECT EXISTS (SELECT 1 FROM pg_dist_partition \
         WHERE logicalrelid = 'customers'::regclass) AS flag",
    )? {
        return in_one_transaction(conn, statements(DISTRIBUTE));
    }
    if newer_than_this_binary(conn)? {
        return Ok(());
    }
    let replacements = overrides::replacements(DISTRIBUTE);
    let mut stale = false;
    for replacement in &replacements {
        stale |= stored_source(conn, &replacement.name)?.as_deref() != Some(replacement.body);
    }
    if !stale {
        return Ok(());
    }
    tracing::info!(
        "a migration redefined functions the distributed layout replaces; applying its own again"
    );
    let settings = statements(DISTRIBUTE).into_iter().filter(|s| {
        without_line_comments(s)
            .trim_start()
            .starts_with("SET LOCAL")
    });
    let functions = replacements.iter().map(|r| r.statement);
    // The history's trigger functions are written by `customer_events_install`, which may
    // have been one of the functions put back.
    let reinstalled = std::iter::once("SELECT customer_events_install()");
    in_one_transaction(conn, settings.chain(functions).chain(reinstalled))
}

/// Runs `statements` one at a time in one transaction: Citus passes a DDL statement on to
/// the workers as the text it was sent in, which for a batch is every statement of it
/// ("cannot insert multiple commands into a prepared statement").
fn in_one_transaction<'a>(
    conn: &mut Wrapped,
    statements: impl IntoIterator<Item = &'a str>,
) -> HarnessResult {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("BEGIN")?;
    for statement in statements {
        if let Err(error) = conn.batch_execute(statement) {
            // Leave the connection usable for the unlock.
            let _ = conn.batch_execute("ROLLBACK");
            return Err(error.into());
        }
    }
    conn.batch_execute("COMMIT")?;
    Ok(())
}

/// Whether the database has a migration applied that this binary does not have (a newer
/// binary migrated it): its functions are then that binary's to keep.
fn newer_than_this_binary(conn: &mut Wrapped) -> diesel::migration::Result<bool> {
    use diesel::migration::MigrationSource;
    let known: Vec<String> = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let applied = conn.applied_migrations()?;
    Ok(applied.iter().any(|v| !known.contains(&v.to_string())))
}

#[derive(diesel::QueryableByName)]
struct Source {
    #[diesel(sql_type = diesel::sql_types::Text)]
    source: String,
}

/// The body of the function `name` as stored (`pg_proc.prosrc`); none when there is none.
fn stored_source(conn: &mut Wrapped, name: &str) -> QueryResult<Option<String>> {
    let query = diesel::sql_query(
        "SELECT p.prosrc AS source FROM pg_proc AS p \
         WHERE p.proname = $1 AND p.pronamespace = current_schema()::regnamespace",
    )
    .bind::<diesel::sql_types::Text, _>(name);
    let found: Vec<Source> = diesel::RunQueryDsl::load(query, conn)?;
    Ok(found.into_iter().next().map(|s| s.source))
}

/// The statements of a SQL script, each without its `;`: split at every `;` outside quotes
/// (`'..'`, `".."`), dollar quotes (`$tag$..$tag$`) and comments; blank ones left out.
fn statements(script: &str) -> Vec<&str> {
    let bytes = script.as_bytes();
    let mut found = Vec::new();
    let (mut start, mut at) = (0, 0);
    while at < bytes.len() {
        let rest = &script[at..];
        at += match bytes[at] {
            b'\'' | b'"' => closing(rest, &rest[..1]),
            b'-' if rest.starts_with("--") => rest.find('\n').unwrap_or(rest.len()),
            b'/' if rest.starts_with("/*") => closing(rest, "*/"),
            b'$' => dollar_tag(rest).map_or(1, |tag| closing(rest, tag)),
            b';' => {
                found.push(&script[start..at]);
                start = at + 1;
                1
            }
            _ => 1,
        };
    }
    found.push(&script[start..]);
    found
        .into_iter()
        .filter(|statement| {
            without_line_comments(statement)
                .chars()
                .any(|c| !c.is_whitespace())
        })
        .collect()
}

/// The length of `text` up to and including the first `end` after `text`'s opening (which
/// is `end` for quotes and dollar tags); all of it when unclosed.
fn closing(text: &str, end: &str) -> usize {
    let open = if end == "*/" { 2 } else { end.len() };
    text[open..]
        .find(end)
        .map_or(text.len(), |at| open + at + end.len())
}

/// `$tag$` or `$$` at the start of `text`.
fn dollar_tag(text: &str) -> Option<&str> {
    let end = text[1..].find('$')? + 1;
    let tag = &text[1..end];
    let plain = tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (plain && !tag.starts_with(|c: char| c.is_ascii_digit())).then(|| &text[..=end])
}

/// `statement` without its `--` comment lines, to tell a statement from a comment alone.
fn without_line_comments(statement: &str) -> String {
    statement
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reverts every applied migration, newest first (tests use it for the down/up round trip).
///
/// # Errors
/// As [`run_migrations`].
pub async fn revert_all_migrations(pool: &Pool) -> Result<(), MigrationError> {
    with_migration_connection(pool, |conn| {
        conn.revert_all_migrations(MIGRATIONS).map(drop)
    })
    .await
}

type Wrapped = AsyncConnectionWrapper<AsyncPgConnection>;
type HarnessResult = diesel::migration::Result<()>;

async fn with_migration_connection<F>(pool: &Pool, run: F) -> Result<(), MigrationError>
where
    F: FnOnce(&mut Wrapped) -> HarnessResult + Send + 'static,
{
    if pool.shares_server_sessions() {
        return Err(MigrationError::Connection(
            "migrations hold a session of their own (a lock, a setting): run them against \
             PostgreSQL itself, not through a transaction-mode pooler"
                .to_owned(),
        ));
    }
    let mut conn = pool
        .maintenance_connection()
        .await
        .map_err(|e| MigrationError::Connection(e.to_string()))?;
    diesel::sql_query("SET statement_timeout = 0")
        .execute(&mut conn)
        .await
        .map_err(|e| MigrationError::Connection(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut conn = Wrapped::from(conn);
        lock_query("SELECT pg_advisory_lock($1)", &mut conn).map_err(|e| e.to_string())?;
        let outcome = run(&mut conn).map_err(|e| e.to_string());
        // Closing the connection would release the lock too; unlocking says so explicitly.
        let unlocked =
            lock_query("SELECT pg_advisory_unlock($1)", &mut conn).map_err(|e| e.to_string());
        outcome.and(unlocked)
    })
    .await?
    .map_err(MigrationError::Migration)
}

fn lock_query(sql: &'static str, conn: &mut Wrapped) -> QueryResult<()> {
    let query = diesel::sql_query(sql).bind::<BigInt, _>(MIGRATION_LOCK);
    diesel::RunQueryDsl::execute(query, conn).map(drop)
}

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn a_script_splits_at_semicolons_outside_quotes_and_comments() {
        let script = "-- a comment; not a statement\n\
            CREATE TABLE t (a TEXT DEFAULT ';');\n\
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n\
            CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;\n\
            /* block; comment */ SELECT \"odd;name\" FROM t;\n\
            SELECT $1::int;\n\
            -- trailing comment\n";
        assert_eq!(
            statements(script)
                .iter()
                .map(|s| s.trim())
                .collect::<Vec<_>>(),
            [
                "-- a comment; not a statement\nCREATE TABLE t (a TEXT DEFAULT ';')",
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$",
                "CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$",
                "/* block; comment */ SELECT \"odd;name\" FROM t",
                "SELECT $1::int",
            ]
        );
    }

    #[test]
    fn the_distributed_layout_is_many_statements_and_no_empty_one() {
        let all = statements(super::DISTRIBUTE);
        assert!(all.len() > 50, "{}", all.len());
        assert!(all.iter().all(|s| !s.trim().is_empty()));
        assert!(
            all.iter()
                .any(|s| s.contains("create_distributed_table('customers'"))
        );
    }
}
