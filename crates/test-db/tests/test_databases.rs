//! The test databases themselves: isolation, cleanup on drop, and sweeping crashed runs.
//! Needs `DATABASE_URL` (see `make test`).

// clippy exempts `#[test]` functions from the workspace's unwrap ban, not the helpers they
// share; in tests an unwrap is the assertion.
#![expect(clippy::unwrap_used, reason = "test helpers fail the test on error")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use test_db::{TestDatabase, server_url};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn admin() -> AsyncPgConnection {
    AsyncPgConnection::establish(&server_url()).await.unwrap()
}

async fn customers_in(db: &TestDatabase) -> i64 {
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    let found: Count = diesel::sql_query("SELECT count(*) AS n FROM customers")
        .load(&mut conn)
        .await
        .unwrap()
        .remove(0);
    found.n
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> bool {
    let found: Count =
        diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name)
            .load(conn)
            .await
            .unwrap()
            .remove(0);
    found.n == 1
}

#[tokio::test]
async fn each_test_database_starts_empty_and_is_isolated() {
    let (a, b) = (TestDatabase::new().await, TestDatabase::new().await);
    assert_ne!(a.name(), b.name());
    let mut in_a = AsyncPgConnection::establish(a.url()).await.unwrap();
    diesel::sql_query(
        "INSERT INTO customers (customer_id, username, first_name, last_name, email) \
         VALUES ('CUST_00000001', 'onlyina', 'Only', 'InA', 'only.ina@example.com')",
    )
    .execute(&mut in_a)
    .await
    .unwrap();
    assert_eq!(customers_in(&a).await, 1);
    assert_eq!(customers_in(&b).await, 0);
}

#[tokio::test]
async fn a_test_database_is_dropped_with_its_value_even_with_connections_open() {
    let db = TestDatabase::new().await;
    let name = db.name().to_owned();
    let _open = AsyncPgConnection::establish(db.url()).await.unwrap();
    let mut conn = admin().await;
    assert!(database_exists(&mut conn, &name).await);
    drop(db);
    assert!(!database_exists(&mut conn, &name).await);
}

#[tokio::test]
async fn only_old_leftovers_of_dead_processes_are_swept() {
    let nanos =
        |ago: Duration| (SystemTime::now().duration_since(UNIX_EPOCH).unwrap() - ago).as_nanos();
    // Linux pids never reach a billion (pid_max is at most 2^22).
    let dead = 999_999_999_u32;
    let alive = std::process::id();
    let old = nanos(Duration::from_secs(3600));
    let recent = nanos(Duration::from_secs(1));
    let crashed = format!("cust_test_{dead}_{old}_0");
    let keep = [
        format!("cust_test_{alive}_{old}_0"),
        format!("cust_test_{dead}_{recent}_0"),
    ];
    let mut conn = admin().await;
    for name in keep.iter().chain([&crashed]) {
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    // Creating a database sweeps first.
    let _db = TestDatabase::new().await;

    assert!(
        !database_exists(&mut conn, &crashed).await,
        "{crashed} was not swept"
    );
    for name in &keep {
        assert!(database_exists(&mut conn, name).await, "{name} was swept");
        diesel::sql_query(format!("DROP DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}
