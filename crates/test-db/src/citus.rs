//! Test databases on a Citus cluster, when `TEST_DB_CITUS=1` (`make citus-test` sets it):
//! `DATABASE_URL` is then the coordinator's maintenance database, whose `pg_dist_node` lists
//! the workers (`../shared/citus/cluster.sh start` registers them there).
//!
//! Citus does not create a database on the workers, nor its extension and its nodes in a new
//! database, so each test database is made on every node: created empty on each, `citus` in
//! each, and the workers added to the coordinator's copy. No template and no migration: the
//! service migrates it on start (`customer-api migrate` lays out the distributed tables),
//! which is what the end-to-end suite runs on a cluster. Four shards per table instead of
//! Citus's 32: the colliding rows of a test still land on different workers, and every test's
//! fan-out stays small.

use diesel::QueryableByName;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::admin::execute;
use crate::names::{quoted, with_database};

/// The variable that turns this mode on.
pub const CITUS_VAR: &str = "TEST_DB_CITUS";

/// Shards per distributed table in a test database.
const SHARD_COUNT: u32 = 4;

/// Advisory lock key serialising the addition of nodes to test databases ("citusadd").
const NODES_LOCK: i64 = 0x6369_7475_7361_6464;

/// Whether test databases are made on a Citus cluster.
pub(crate) fn enabled() -> bool {
    std::env::var(CITUS_VAR).is_ok_and(|value| value == "1")
}

#[derive(QueryableByName)]
struct Node {
    #[diesel(sql_type = Text)]
    nodename: String,
    #[diesel(sql_type = Integer)]
    nodeport: i32,
}

async fn connect(url: &str) -> Result<AsyncPgConnection, String> {
    AsyncPgConnection::establish(url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))
}

/// The coordinator's host and port, and the workers', from `server_url`'s `pg_dist_node`.
async fn nodes(server_url: &str) -> Result<(Node, Vec<Node>), String> {
    let mut conn = connect(server_url).await?;
    let mut all: Vec<Node> = diesel::sql_query(
        "SELECT nodename::text, nodeport FROM pg_dist_node \
         WHERE noderole = 'primary' AND isactive ORDER BY groupid",
    )
    .load(&mut conn)
    .await
    .map_err(|e| format!("reading the cluster's nodes on {server_url}: {e}"))?;
    if all.len() < 2 {
        return Err(format!(
            "{server_url} lists {} node(s) in pg_dist_node: expected a coordinator and workers",
            all.len()
        ));
    }
    let coordinator = all.remove(0);
    Ok((coordinator, all))
}

/// `server_url` pointed at another node, same user and database.
fn at_node(server_url: &str, node: &Node) -> Result<String, String> {
    let (scheme, rest) = server_url
        .split_once("://")
        .ok_or_else(|| format!("expected a postgres:// URL, got {server_url:?}"))?;
    let (user, after) = rest.split_once('@').unwrap_or(("", rest));
    let path = after.find('/').map_or("", |at| &after[at..]);
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    Ok(format!(
        "{scheme}://{user}{}:{}{path}",
        node.nodename, node.nodeport
    ))
}

/// Makes `name`, already created empty on the coordinator, a Citus database of the cluster.
pub(crate) async fn prepare(server_url: &str, name: &str) -> Result<(), String> {
    let (coordinator, workers) = nodes(server_url).await?;
    let database = quoted(name)?;
    for worker in &workers {
        let mut admin = connect(&at_node(server_url, worker)?).await?;
        execute(
            &mut admin,
            &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
        )
        .await?;
        execute(&mut admin, &format!("CREATE DATABASE {database}")).await?;
        let mut conn = connect(&with_database(&at_node(server_url, worker)?, name)?).await?;
        execute(&mut conn, "CREATE EXTENSION citus").await?;
    }
    let mut conn = connect(&with_database(server_url, name)?).await?;
    execute(&mut conn, "CREATE EXTENSION citus").await?;
    // Adding a node copies the roles to it (`ALTER ROLE` on the worker), and roles are the
    // whole server's: two databases adding their nodes at once fail with "tuple concurrently
    // updated". So one test database at a time, under a lock in the maintenance database
    // (a session lock: released when this connection closes, if nothing else does).
    let mut lock = connect(server_url).await?;
    execute(&mut lock, &format!("SELECT pg_advisory_lock({NODES_LOCK})")).await?;
    diesel::sql_query("SELECT citus_set_coordinator_host($1, $2)")
        .bind::<Text, _>(&coordinator.nodename)
        .bind::<Integer, _>(coordinator.nodeport)
        .execute(&mut conn)
        .await
        .map_err(|e| format!("citus_set_coordinator_host: {e}"))?;
    for worker in &workers {
        diesel::sql_query("SELECT citus_add_node($1, $2)")
            .bind::<Text, _>(&worker.nodename)
            .bind::<Integer, _>(worker.nodeport)
            .execute(&mut conn)
            .await
            .map_err(|e| format!("citus_add_node: {e}"))?;
    }
    execute(
        &mut lock,
        &format!("SELECT pg_advisory_unlock({NODES_LOCK})"),
    )
    .await?;
    execute(
        &mut conn,
        &format!("ALTER DATABASE {database} SET citus.shard_count = {SHARD_COUNT}"),
    )
    .await
}

/// Drops `name` on every worker (the coordinator's copy is dropped as any test database).
pub(crate) async fn drop_on_workers(server_url: &str, name: &str) -> Result<(), String> {
    let (_, workers) = nodes(server_url).await?;
    let database = quoted(name)?;
    for worker in &workers {
        let mut admin = connect(&at_node(server_url, worker)?).await?;
        execute(
            &mut admin,
            &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_pointed_at_another_node() {
        let node = Node {
            nodename: "127.0.0.1".into(),
            nodeport: 56101,
        };
        assert_eq!(
            at_node("postgres://postgres@127.0.0.1:56100/postgres", &node).unwrap(),
            "postgres://postgres@127.0.0.1:56101/postgres"
        );
        assert_eq!(
            at_node("postgres://u:p@localhost/db?x=y", &node).unwrap(),
            "postgres://u:p@127.0.0.1:56101/db?x=y"
        );
        assert_eq!(
            at_node("postgres://h:1", &node).unwrap(),
            "postgres://127.0.0.1:56101"
        );
    }
}
