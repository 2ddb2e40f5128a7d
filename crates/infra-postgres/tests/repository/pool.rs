//! The pool: statement timeout and application name on every connection, a floor of two connections, and
//! "unavailable" when no connection can be had.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use domain::{CustomerReads, CustomerStore, RepositoryError};
use infra_postgres::{PgCustomerRepository, PoolSettings, build_pool, pool_status};

use crate::support::ctx;

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    statement_timeout: String,
}

#[tokio::test]
async fn every_pooled_connection_has_the_configured_statement_timeout() {
    let t = ctx().await;
    let pool = build_pool(&PoolSettings {
        statement_timeout: Duration::from_millis(1234),
        ..PoolSettings::for_url(t.db.url())
    })
    .unwrap();
    let (mut a, mut b) = (pool.get().await.unwrap(), pool.get().await.unwrap());
    for conn in [&mut a, &mut b] {
        let setting: Setting = diesel::sql_query("SHOW statement_timeout")
            .load(&mut **conn)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(setting.statement_timeout, "1234ms");
    }
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

/// The session's value of setting `name` on a connection of `pool`.
async fn setting(pool: &infra_postgres::Pool, name: &str) -> String {
    let mut conn = pool.get().await.unwrap();
    let value: Value = diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<Text, _>(name)
        .load(&mut *conn)
        .await
        .unwrap()
        .remove(0);
    value.value
}

#[tokio::test]
async fn connections_report_the_configured_application_name_unless_the_url_names_one() {
    let t = ctx().await;
    let named = build_pool(&PoolSettings {
        application_name: "customer-api: a job".to_owned(),
        ..PoolSettings::for_url(t.db.url())
    })
    .unwrap();
    assert_eq!(
        setting(&named, "application_name").await,
        "customer-api: a job"
    );
    assert_eq!(
        setting(
            &build_pool(&PoolSettings::for_url(t.db.url())).unwrap(),
            "application_name"
        )
        .await,
        "customer-api"
    );
    let separator = if t.db.url().contains('?') { '&' } else { '?' };
    let by_url = build_pool(&PoolSettings {
        application_name: "customer-api: a job".to_owned(),
        ..PoolSettings::for_url(format!("{}{separator}application_name=ops", t.db.url()))
    })
    .unwrap();
    assert_eq!(setting(&by_url, "application_name").await, "ops");
}

#[tokio::test]
async fn a_configured_random_page_cost_is_set_for_the_session_else_the_servers_is_kept() {
    let t = ctx().await;
    let tuned = build_pool(&PoolSettings {
        random_page_cost: Some(1.1),
        ..PoolSettings::for_url(t.db.url())
    })
    .unwrap();
    assert_eq!(setting(&tuned, "random_page_cost").await, "1.1");
    let plain = build_pool(&PoolSettings::for_url(t.db.url())).unwrap();
    assert_eq!(setting(&plain, "random_page_cost").await, "4");
}

#[tokio::test]
async fn a_statement_running_past_the_timeout_is_cancelled() {
    let t = ctx().await;
    let pool = build_pool(&PoolSettings {
        statement_timeout: Duration::from_millis(50),
        ..PoolSettings::for_url(t.db.url())
    })
    .unwrap();
    let mut conn = pool.get().await.unwrap();
    let slow = diesel::sql_query("SELECT pg_sleep(5)")
        .execute(&mut conn)
        .await;
    assert!(slow.is_err());
}

#[tokio::test]
async fn a_pool_never_has_fewer_than_two_connections() {
    let t = ctx().await;
    let pool = build_pool(&PoolSettings {
        max_size: 0,
        ..PoolSettings::for_url(t.db.url())
    })
    .unwrap();
    assert_eq!(pool_status(&pool).max_size, 2);
}

/// An exhausted pool makes the repository's calls unavailable, but not its health probe,
/// which has a connection of its own.
#[tokio::test]
async fn an_exhausted_pool_makes_calls_unavailable_but_never_the_health_probe() {
    let t = ctx().await;
    let pool = build_pool(&PoolSettings {
        max_size: 2,
        wait_timeout: Duration::from_millis(100),
        ..PoolSettings::for_url(t.db.url())
    })
    .unwrap();
    let repo = PgCustomerRepository::new(pool.clone());
    let held = (pool.get().await.unwrap(), pool.get().await.unwrap());
    let status = pool_status(&pool);
    assert_eq!((status.size, status.available), (2, 0));
    let err = repo.find_by_email("a@example.com").await.unwrap_err();
    assert!(matches!(err, RepositoryError::Unavailable(_)), "{err:?}");
    let started = std::time::Instant::now();
    repo.ping().await.unwrap();
    assert!(started.elapsed() < infra_postgres::PROBE_BOUND);
    drop(held);
    assert_eq!(repo.find_by_email("a@example.com").await.unwrap(), None);
}

#[tokio::test]
async fn an_unreachable_server_makes_the_repository_unavailable() {
    let pool = build_pool(&PoolSettings {
        create_timeout: Duration::from_secs(2),
        ..PoolSettings::for_url("postgres://postgres@127.0.0.1:1/postgres")
    })
    .unwrap();
    let err = PgCustomerRepository::new(pool).ping().await.unwrap_err();
    assert!(matches!(err, RepositoryError::Unavailable(_)), "{err:?}");
}

/// A statement cancelled by `statement_timeout` is a temporary condition (`Unavailable`,
/// 503 over HTTP), told apart from other server errors by the server's own message for
/// it, which the pool learned on its first connection; any other unclassified error stays
/// `Unexpected`.
#[tokio::test]
async fn a_write_waiting_past_the_statement_timeout_is_unavailable_not_unexpected() {
    let t = ctx().await;
    let customer = crate::support::person(&t.repo, "Lena", "Locked").await;
    let pool = build_pool(&PoolSettings {
        statement_timeout: Duration::from_millis(200),
        ..PoolSettings::for_url(t.db.url())
    })
    .unwrap();
    let repo = PgCustomerRepository::new(pool.clone());

    // Another session holds the row: the update waits for it until the timeout cancels it.
    let mut holder = t.repo.pool().get().await.unwrap();
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .await
        .unwrap();
    diesel::sql_query("SELECT 1 FROM customers WHERE customer_id = $1 FOR UPDATE")
        .bind::<Text, _>(customer.customer_id.as_str())
        .execute(&mut holder)
        .await
        .unwrap();
    let changes = domain::CustomerChanges {
        first_name: Some("Lenny".into()),
        ..domain::CustomerChanges::default()
    };
    let err = repo
        .update(&customer.customer_id, &changes, &domain::Precondition::Any)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RepositoryError::Unavailable(cause) if cause.starts_with("statement timeout")),
        "{err:?}"
    );
    diesel::sql_query("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
}
