//! Creating, cloning, sweeping and dropping test databases on the server `DATABASE_URL`
//! names. Everything that reads or changes the set of databases happens under one advisory
//! lock on the maintenance database, so parallel test processes never race: only one
//! builds a template, and none clones a template while another drops it.

use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::migrations::migrate;
use crate::names::{building_name, quoted, template_name, with_database};
use crate::sweep::sweep;

/// Advisory lock key of the test-database bookkeeping ("custtest" in ASCII).
const ADMIN_LOCK: i64 = 0x6375_7374_7465_7374;

/// What a new test database starts from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    /// The template with every migration applied.
    MigratedTemplate,
    /// An empty database (`template0`).
    Empty,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub(crate) async fn execute(conn: &mut AsyncPgConnection, sql: &str) -> Result<(), String> {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .map(drop)
        .map_err(|e| format!("{sql}: {e}"))
}

/// The one `count(*)` row of `sql`, which takes `name` as its parameter.
async fn count(conn: &mut AsyncPgConnection, sql: &str, name: &str) -> Result<i64, String> {
    let rows: Vec<Count> = diesel::sql_query(sql)
        .bind::<Text, _>(name)
        .load(conn)
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    rows.into_iter()
        .next()
        .map(|row| row.n)
        .ok_or_else(|| format!("{sql}: no row"))
}

async fn advisory(conn: &mut AsyncPgConnection, sql: &'static str) -> Result<(), String> {
    diesel::sql_query(sql)
        .bind::<BigInt, _>(ADMIN_LOCK)
        .execute(conn)
        .await
        .map(drop)
        .map_err(|e| format!("{sql}: {e}"))
}

/// Creates `name` from `source`, sweeping leftovers and building the template if needed.
pub(crate) async fn create_database(
    server_url: &str,
    name: &str,
    source: Source,
) -> Result<(), String> {
    let mut conn = AsyncPgConnection::establish(server_url)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    advisory(&mut conn, "SELECT pg_advisory_lock($1)").await?;
    let created = create_locked(&mut conn, server_url, name, source).await;
    let unlocked = advisory(&mut conn, "SELECT pg_advisory_unlock($1)").await;
    created.and(unlocked)
}

async fn create_locked(
    conn: &mut AsyncPgConnection,
    server_url: &str,
    name: &str,
    source: Source,
) -> Result<(), String> {
    let template = template_name();
    sweep(conn, &template).await?;
    let from = match source {
        Source::MigratedTemplate => {
            ensure_template(conn, server_url, &template).await?;
            quoted(&template)?
        }
        Source::Empty => "template0".to_owned(),
    };
    execute(
        conn,
        &format!("CREATE DATABASE {} TEMPLATE {from}", quoted(name)?),
    )
    .await
}

async fn exists(conn: &mut AsyncPgConnection, name: &str) -> Result<bool, String> {
    let found = count(
        conn,
        "SELECT count(*) AS n FROM pg_database WHERE datname = $1",
        name,
    )
    .await?;
    Ok(found > 0)
}

/// Builds the template under a temporary name and renames it when complete, so a crash
/// mid-way never leaves a half-migrated template behind under the real name.
async fn ensure_template(
    conn: &mut AsyncPgConnection,
    server_url: &str,
    template: &str,
) -> Result<(), String> {
    if exists(conn, template).await? {
        return Ok(());
    }
    let building = building_name(template);
    let building_sql = quoted(&building)?;
    execute(
        conn,
        &format!("DROP DATABASE IF EXISTS {building_sql} WITH (FORCE)"),
    )
    .await?;
    execute(
        conn,
        &format!("CREATE DATABASE {building_sql} TEMPLATE template0"),
    )
    .await?;
    let url = with_database(server_url, &building)?;
    migrate(&url)
        .await
        .map_err(|e| format!("migrating the template: {e}"))?;
    // A closed client's server process may linger a moment; CREATE DATABASE .. TEMPLATE and
    // RENAME both refuse while any session is connected.
    wait_until_unused(conn, &building).await?;
    execute(
        conn,
        &format!(
            "ALTER DATABASE {building_sql} RENAME TO {}",
            quoted(template)?
        ),
    )
    .await
}

async fn sessions_on(conn: &mut AsyncPgConnection, name: &str) -> Result<i64, String> {
    count(
        conn,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1",
        name,
    )
    .await
}

async fn wait_until_unused(conn: &mut AsyncPgConnection, name: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while sessions_on(conn, name).await? > 0 {
        if Instant::now() > deadline {
            return Err(format!("{name} is still in use after 10 s"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Drops one test database; blocking, for `Drop`. `FORCE` ends the sessions of the
/// test's own pool that may still be open.
pub(crate) fn drop_database_blocking(server_url: &str, name: &str) -> Result<(), String> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quoted(name)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut conn = AsyncPgConnection::establish(server_url)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        execute(&mut conn, &sql).await?;
        if crate::citus::enabled() {
            crate::citus::drop_on_workers(server_url, name).await?;
        }
        Ok(())
    })
}
