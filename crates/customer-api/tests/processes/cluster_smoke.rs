//! The cluster pieces of `common::cluster` working, each started and stopped by the test: a
//! streaming replica that follows its primary, holds still while replay is paused and
//! catches up after a crash; PgBouncer in front of the primary (psql and tokio-postgres
//! through it); HAProxy balancing two service processes, then serving from the one left
//! when the other is killed.

use std::collections::HashSet;

use tokio_postgres::{NoTls, SimpleQueryMessage};

use crate::common::cluster::{
    HaProxy, PgBouncer, Replica, current_lsn, haproxy_server_name, psql, url_port,
};
use crate::common::{PrivatePostgres, Service};

#[tokio::test]
#[ignore = "starts its own PostgreSQL, replica, pgbouncer and haproxy; run with make chaos"]
async fn a_replica_pgbouncer_and_haproxy_start_work_and_stop_with_the_test() {
    let pg = PrivatePostgres::start();
    let replica = Replica::start(&pg);
    assert!(replica.url.ends_with("/customer_api"), "{}", replica.url);

    // The replica follows the primary.
    psql(
        &pg.url,
        "create table smoke (n int primary key); insert into smoke values (1)",
    );
    replica.catch_up(&pg);
    assert_eq!(
        replica.psql("select string_agg(n::text, ',') from smoke"),
        "1"
    );

    // Paused, it receives the WAL but does not apply it.
    replica.pause_replay();
    let paused_at = replica.replay_lsn();
    psql(&pg.url, "insert into smoke values (2)");
    replica.wait_received(&current_lsn(&pg.url));
    assert_eq!(replica.psql("select count(*) from smoke"), "1");
    assert_eq!(replica.replay_lsn(), paused_at);
    replica.resume_replay();
    replica.catch_up(&pg);
    assert_eq!(
        replica.psql("select string_agg(n::text, ',' order by n) from smoke"),
        "1,2"
    );

    // Crashed, it misses nothing: it streams what it missed once it is back.
    replica.crash();
    psql(&pg.url, "insert into smoke values (3)");
    replica.resume();
    replica.catch_up(&pg);
    assert_eq!(replica.psql("select count(*) from smoke"), "3");

    // PgBouncer in front of the primary: psql, and a Rust client (simple protocol).
    let bouncer = PgBouncer::start(url_port(&pg.url));
    let through = bouncer.url_for(&pg.url);
    assert_eq!(
        through,
        format!(
            "postgres://postgres@127.0.0.1:{}/customer_api",
            bouncer.port
        )
    );
    assert_eq!(psql(&through, "select count(*) from smoke"), "3");
    let (client, connection) = tokio_postgres::connect(&through, NoTls).await.unwrap();
    let connection = tokio::spawn(connection);
    let rows = client
        .simple_query("select max(n) from smoke")
        .await
        .unwrap();
    let values: Vec<_> = rows
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect();
    assert_eq!(values, ["3"]);
    drop(client);
    connection.await.unwrap().unwrap();

    // HAProxy over two service processes: both serve; one killed, the other serves all.
    let mut services = vec![
        Service::start(&pg.url, &[]).await,
        Service::start(&pg.url, &[]).await,
    ];
    let proxy = HaProxy::in_front_of(&services);
    let client = reqwest::Client::new();
    let health = async || {
        let res = client
            .get(format!("{}/health", proxy.base))
            .send()
            .await
            .unwrap();
        let served_by = res.headers()["x-served-by"].to_str().unwrap().to_owned();
        (res.status().as_u16(), served_by)
    };
    let mut served_by = HashSet::new();
    for _ in 0..4 {
        let (status, by) = health().await;
        assert_eq!(status, 200);
        served_by.insert(by);
    }
    assert_eq!(
        served_by,
        HashSet::from([haproxy_server_name(0), haproxy_server_name(1)])
    );

    drop(services.remove(0));
    // Refused connections are retried on the other backend, before and after the health
    // checks take the dead one out.
    for _ in 0..4 {
        assert_eq!(health().await, (200, haproxy_server_name(1)));
    }
    proxy.down_to(1);
    assert_eq!(health().await, (200, haproxy_server_name(1)));
}
