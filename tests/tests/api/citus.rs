//! The distributed layout on a real Citus cluster (`make citus-test`, which also runs the
//! whole suite there): uniqueness of usernames and emails across shards and workers, which
//! on one node comes from unique indexes and here from the lookup tables.
//!
//! Ignored by a plain `cargo test`: they need `TEST_DB_CITUS=1` and a cluster's coordinator
//! in `DATABASE_URL` (see `crates/test-db/src/citus.rs`).

use std::collections::HashSet;

use futures::future::join_all;
use serde_json::json;
use tokio_postgres::{Client, NoTls};

use crate::helpers::{TestApp, customer, follow, into_parts, spawn_app_with};

const NEEDS_CITUS: &str = "needs a Citus cluster: make citus-test";

async fn spawn_patient_app() -> TestApp {
    assert!(
        std::env::var(test_db::CITUS_VAR).is_ok_and(|v| v == "1"),
        "run with {}=1 against a Citus coordinator (make citus-test)",
        test_db::CITUS_VAR
    );
    spawn_app_with(&[("APP__DATABASE__WAIT_TIMEOUT_MS", "10000")]).await
}

async fn connect(app: &TestApp) -> Client {
    let (client, connection) = tokio_postgres::connect(&app.db_url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// The port of the worker holding each customer's row.
async fn workers_of(db: &Client, customer_ids: &[String]) -> Vec<i32> {
    let mut ports = Vec::new();
    for id in customer_ids {
        let row = db
            .query_one(
                "SELECT s.nodeport FROM citus_shards AS s \
                 WHERE s.table_name = 'customers'::regclass \
                   AND s.shardid = get_shard_id_for_distribution_column('customers', $1::text)",
                &[id],
            )
            .await
            .unwrap();
        ports.push(row.get(0));
    }
    ports
}

#[tokio::test]
#[ignore = "needs a Citus cluster: make citus-test"]
async fn the_tables_are_distributed_with_lookup_tables_for_the_unique_values() {
    let app = spawn_patient_app().await;
    let db = connect(&app).await;
    let rows = db
        .query(
            "SELECT logicalrelid::text, partmethod::text FROM pg_dist_partition ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let tables: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let expected = [
        ("customer_count_shards", "n"),
        ("customer_counts", "h"),
        ("customer_emails", "h"),
        ("customer_events", "h"),
        ("customer_usernames", "h"),
        ("customers", "h"),
    ];
    assert_eq!(
        tables,
        expected.map(|(t, m)| (t.to_owned(), m.to_owned())),
        "{NEEDS_CITUS}"
    );
}

#[tokio::test]
#[ignore = "needs a Citus cluster: make citus-test"]
async fn thirty_two_john_does_on_both_workers_get_distinct_usernames() {
    let app = spawn_patient_app().await;
    let app = &app;
    let results = join_all((0..32).map(|i| async move {
        app.post(
            "/",
            &customer("John", "Doe", &format!("john{i}@example.com")),
        )
        .await
    }))
    .await;
    let mut usernames = HashSet::new();
    let mut ids = Vec::new();
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
        usernames.insert(body["username"].as_str().unwrap().to_owned());
        ids.push(body["customer_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(usernames.len(), 32);
    let db = connect(app).await;
    let workers: HashSet<i32> = workers_of(&db, &ids).await.into_iter().collect();
    assert!(workers.len() >= 2, "all on one worker: {workers:?}");
    let lookups: i64 = db
        .query_one(
            "SELECT count(*) FROM customer_usernames WHERE username = ANY($1)",
            &[&usernames.into_iter().collect::<Vec<_>>()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(lookups, 32);
}

#[tokio::test]
#[ignore = "needs a Citus cluster: make citus-test"]
async fn sixteen_creates_of_one_email_differing_in_case_make_one_customer() {
    let app = spawn_patient_app().await;
    let app = &app;
    let results = join_all((0..16).map(|i| async move {
        let email = if i % 2 == 0 {
            "same@example.com"
        } else {
            "SAME@example.com"
        };
        app.post(
            "/",
            &json!({"first_name": "Ann", "last_name": "Lee", "email": email}),
        )
        .await
    }))
    .await;
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "{results:?}"
    );
    for (status, body) in results.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(
            (*status, &body["detail"]),
            (400, &json!("Customer with this email already exists"))
        );
    }
    let db = connect(app).await;
    let stored: i64 = db
        .query_one(
            "SELECT count(*) FROM customers WHERE lower(email) = 'same@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1);
}

#[tokio::test]
#[ignore = "needs a Citus cluster: make citus-test"]
async fn an_email_owned_on_another_worker_is_refused_with_the_contracts_400() {
    let app = spawn_patient_app().await;
    let owner = app
        .create(&customer("Ann", "Lee", "owner@example.com"))
        .await;
    let db = connect(&app).await;
    let owner_id = owner["customer_id"].as_str().unwrap().to_owned();
    let owner_worker = workers_of(&db, std::slice::from_ref(&owner_id)).await[0];
    // Customers until one lives on the other worker (each lands on either at random).
    let mut other = None;
    for i in 0..64 {
        let created = app
            .create(&customer("Bob", "Lee", &format!("bob{i}@example.com")))
            .await;
        let id = created["customer_id"].as_str().unwrap().to_owned();
        if workers_of(&db, std::slice::from_ref(&id)).await[0] != owner_worker {
            other = Some(id);
            break;
        }
    }
    let other = other.expect("a customer on the second worker");

    let (status, body) = app
        .put(&format!("/{other}"), &json!({"email": "OWNER@example.com"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["detail"], "Customer with this email already exists");
    let (status, body) = app
        .post("/", &customer("Eve", "Lee", "Owner@Example.com"))
        .await;
    assert_eq!(
        (status, &body["detail"]),
        (400, &json!("Customer with this email already exists"))
    );

    // Freed by a change of address, the old one is anybody's again, and the new one is taken.
    let (status, _) = app
        .put(
            &format!("/{owner_id}"),
            &json!({"email": "moved@example.com"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .put(&format!("/{other}"), &json!({"email": "owner@example.com"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app
        .post("/", &customer("Eve", "Lee", "MOVED@example.com"))
        .await;
    assert_eq!(status, 400);
    // A hard delete frees both the address and the username.
    let (status, _) = app.delete(&format!("/{owner_id}/hard")).await;
    assert_eq!(status, 200);
    let again = app
        .create(&customer("Ann", "Lee", "moved@example.com"))
        .await;
    assert_eq!(again["username"], owner["username"]);
}

fn customer_ids(events: &[serde_json::Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["customer_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
#[ignore = "needs a Citus cluster: make citus-test"]
async fn a_change_committed_late_on_one_worker_comes_after_what_the_feed_served_never_lost() {
    let app = spawn_patient_app().await;
    let db = connect(&app).await;
    let held = app
        .create(&customer("Ann", "Lee", "held@example.com"))
        .await;
    let held_id = held["customer_id"].as_str().unwrap().to_owned();
    let held_worker = workers_of(&db, std::slice::from_ref(&held_id)).await[0];
    let (first, cursor) = follow(&app, None, |seen| !seen.is_empty()).await;
    assert_eq!(customer_ids(&first), [held_id.as_str()]);

    // A change of `held` stays uncommitted on its worker...
    let (mut writer, connection) = tokio_postgres::connect(&app.db_url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let open = writer.transaction().await.unwrap();
    open.execute(
        "SET LOCAL customer_api.event = '{\"type\": \"updated\"}'",
        &[],
    )
    .await
    .unwrap();
    open.execute(
        "UPDATE customers SET notes = 'late' WHERE customer_id = $1",
        &[&held_id],
    )
    .await
    .unwrap();

    // ... while customers on both workers are created and served.
    let mut created = Vec::new();
    let mut workers = HashSet::new();
    for i in 0..40 {
        let c = app
            .create(&customer("Bob", "Lee", &format!("bob{i}@example.com")))
            .await;
        let id = c["customer_id"].as_str().unwrap().to_owned();
        workers.insert(workers_of(&db, std::slice::from_ref(&id)).await[0]);
        created.push(id);
        if workers.len() == 2 && i >= 3 {
            break;
        }
    }
    assert!(
        workers.contains(&held_worker) && workers.len() == 2,
        "{workers:?}"
    );
    let (served, cursor) = follow(&app, cursor, |seen| seen.len() >= created.len()).await;
    assert_eq!(
        customer_ids(&served),
        created.iter().map(String::as_str).collect::<Vec<_>>()
    );

    // Committed now, the change comes next from the last cursor: not skipped.
    open.commit().await.unwrap();
    let (late, _) = follow(&app, cursor, |seen| !seen.is_empty()).await;
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0]["customer_id"], held_id);
    assert_eq!(late[0]["changes"]["notes"]["to"], "late");
}

#[tokio::test]
#[ignore = "needs a Citus cluster: make citus-test"]
async fn retention_removes_the_feeds_oldest_entries_with_their_events_and_stops_at_a_younger_one() {
    let app = spawn_patient_app().await;
    let db = connect(&app).await;
    for i in 0..3 {
        app.create(&customer("Old", "Lee", &format!("old{i}@example.com")))
            .await;
    }
    // Not read through the feed yet: the purge relays them first.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let young = app
        .create(&customer("Young", "Lee", "young@example.com"))
        .await;
    // The cut is the young event's time as the server recorded it: no clock of this
    // process's is compared with the cluster's.
    let cut: chrono::DateTime<chrono::Utc> = db
        .query_one(
            "SELECT occurred_at FROM customer_events WHERE customer_id = $1",
            &[&young["customer_id"].as_str().unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    let pool =
        infra_postgres::build_pool(&infra_postgres::PoolSettings::for_url(&app.db_url)).unwrap();
    let lag = infra_postgres::feed_lag(&pool).await.unwrap();
    assert!(lag < std::time::Duration::from_secs(60), "{lag:?}");

    let long_ago = chrono::Utc::now() - chrono::Duration::days(1);
    assert_eq!(
        infra_postgres::purge_events(&pool, long_ago, 10)
            .await
            .unwrap(),
        0
    );
    // The purge removes only what is below the snapshot horizon, which a transaction open
    // elsewhere on the cluster holds back: the three go, over as many purges as that takes.
    let mut purged = 0;
    let deadline = std::time::Instant::now() + test_db::HORIZON_WAIT;
    while purged < 3 && std::time::Instant::now() < deadline {
        purged += infra_postgres::purge_events(&pool, cut, 10).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(purged, 3);
    assert_eq!(
        infra_postgres::purge_events(&pool, cut, 10).await.unwrap(),
        0
    );

    let left: Vec<(String, i64)> = db
        .query(
            "SELECT e.customer_id::text, count(*) FROM customer_events AS e GROUP BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let young_id = young["customer_id"].as_str().unwrap().to_owned();
    assert_eq!(left, [(young_id.clone(), 1)]);
    // A cursor from before the purge is answered 410; the feed from its start has the young one.
    let request = app
        .client
        .get(format!("{}/api/v1/events?after=f1.1.1", app.base));
    let (status, body) = into_parts(request.send().await.unwrap()).await;
    assert_eq!(status, 410, "{body}");
    let (events, _) = follow(&app, None, |seen| !seen.is_empty()).await;
    assert_eq!(customer_ids(&events), [young_id.as_str()]);
}

/// The body of each of `names`' functions as the coordinator stores it.
async fn stored_sources(db: &Client, names: &[&str]) -> Vec<String> {
    let mut sources = Vec::new();
    for name in names {
        let row = db
            .query_one("SELECT prosrc FROM pg_proc WHERE proname = $1", &[name])
            .await
            .unwrap();
        sources.push(row.get(0));
    }
    sources
}

#[tokio::test]
#[ignore = "needs a Citus cluster: make citus-test"]
async fn functions_a_later_migration_put_back_are_replaced_by_the_distributed_ones_again() {
    let app = spawn_patient_app().await;
    let db = connect(&app).await;
    let names = ["customer_erase", "customer_events_attribute"];
    let layout = stored_sources(&db, &names).await;

    // What a later migration redefining them does on a distributed database: the erasure
    // would no longer free the lookup rows, the attribution would run on the coordinator.
    // One statement at a time: Citus passes DDL on to the workers as the text it was sent in.
    for statement in [
        "CREATE OR REPLACE FUNCTION customer_erase(target TEXT, reason TEXT, context TEXT) \
         RETURNS SETOF customers LANGUAGE plpgsql AS $$ BEGIN RAISE 'put back'; END; $$",
        "CREATE OR REPLACE FUNCTION customer_events_attribute(context TEXT) RETURNS BOOLEAN \
         LANGUAGE sql IMMUTABLE AS $$ SELECT false $$",
    ] {
        db.batch_execute(statement).await.unwrap();
    }
    assert_ne!(stored_sources(&db, &names).await, layout);

    let pool =
        infra_postgres::build_pool(&infra_postgres::PoolSettings::for_url(&app.db_url)).unwrap();
    infra_postgres::run_migrations(&pool).await.unwrap();
    assert_eq!(stored_sources(&db, &names).await, layout);

    // The distributed erasure is the one that runs: it frees the email for a new customer.
    let erased = app
        .create(&customer("Gone", "Lee", "gone@example.com"))
        .await;
    let one = format!("/{}", erased["customer_id"].as_str().unwrap());
    let (status, body) = app.post(&format!("{one}/erase"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    app.create(&customer("New", "Lee", "gone@example.com"))
        .await;
}
