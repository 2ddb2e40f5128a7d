//! Database faults: the service starts without its database, fails fast while it is gone
//! or silent behind a partition, heals by itself when it returns, and loses no acknowledged
//! write. Each test runs its own PostgreSQL server so it can crash it. Run with `make chaos`
//! (they are `#[ignore]`d in the default run because each starts a server of its own).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

#[path = "../common/mod.rs"]
mod common;
mod crash_writes;
mod partition;
mod silent_proxy;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{PrivatePostgres, Service, eventually};
use futures::future::join_all;

/// While the database is down every request fails within milliseconds, so eight looping
/// clients from one address exceed the per-client rate limit: these tests are about the
/// database, so the limiter (tested on its own) is off here.
const UNTHROTTLED: &[(&str, &str)] = &[("APP__RATE_LIMIT__ENABLED", "false")];

/// The test settings' pool wait (1 s) plus generous slack for a loaded 2-core machine.
const FAIL_FAST: Duration = Duration::from_secs(4);

#[tokio::test]
#[ignore = "starts its own PostgreSQL; run with `make chaos`"]
async fn the_service_starts_without_its_database_and_heals_when_it_comes_up() {
    let pg = PrivatePostgres::start();
    pg.crash();
    let service = Service::start(&pg.url, UNTHROTTLED).await;
    let client = reqwest::Client::new();

    assert_eq!(service.health(&client).await, Some(503));
    let started = Instant::now();
    let (status, body) = service
        .create(&client, "Ann", "ann@example.com")
        .await
        .expect("an answer");
    assert_eq!(status, 503, "{body}");
    assert!(body["detail"].is_string(), "{body}");
    assert!(
        started.elapsed() < FAIL_FAST,
        "took {:?}",
        started.elapsed()
    );

    pg.resume();
    assert!(
        eventually(Duration::from_secs(20), async || service
            .health(&client)
            .await
            == Some(200))
        .await,
        "healthy again"
    );
    // Migrations were applied by the background retry: the table exists.
    assert!(
        eventually(Duration::from_secs(10), async || {
            service
                .create(&client, "Ann", "ann@example.com")
                .await
                .is_some_and(|(s, _)| s == 200)
        })
        .await
    );
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL; run with `make chaos`"]
async fn a_database_crash_under_load_fails_fast_recovers_and_loses_no_acknowledged_write() {
    let pg = PrivatePostgres::start();
    let service = Service::start(&pg.url, UNTHROTTLED).await;
    let client = reqwest::Client::new();
    assert!(
        eventually(Duration::from_secs(20), async || service
            .health(&client)
            .await
            == Some(200))
        .await
    );

    let stop = Arc::new(AtomicBool::new(false));
    let workers = (0..8).map(|w| {
        let (service, client, stop) = (&service, &client, stop.clone());
        async move {
            let mut outcomes = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let started = Instant::now();
                let answer = service
                    .create(client, "Ann", &format!("w{w}-{i}@example.com"))
                    .await;
                outcomes.push((answer, started.elapsed()));
            }
            outcomes
        }
    });
    let chaos = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        pg.crash();
        tokio::time::sleep(Duration::from_secs(3)).await;
        pg.resume();
        tokio::time::sleep(Duration::from_secs(5)).await;
        stop.store(true, Ordering::Relaxed);
    };
    let (outcomes, ()) = tokio::join!(join_all(workers), chaos);
    let outcomes: Vec<_> = outcomes.into_iter().flatten().collect();

    let mut acknowledged = HashSet::new();
    let mut unavailable = 0;
    for (answer, elapsed) in &outcomes {
        let (status, body) = answer.as_ref().expect("the service answered every request");
        match status {
            200 => {
                acknowledged.insert(body["customer_id"].as_str().unwrap().to_owned());
            }
            503 => {
                unavailable += 1;
                assert!(body["detail"].is_string(), "{body}");
                assert!(*elapsed < FAIL_FAST, "a 503 took {elapsed:?}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(unavailable > 0, "the crash was noticed");
    assert!(!acknowledged.is_empty());
    // Recovered: the last requests succeeded again.
    assert!(
        outcomes
            .iter()
            .rev()
            .take(8)
            .all(|(a, _)| a.as_ref().is_some_and(|(s, _)| *s == 200))
    );

    // Every acknowledged customer is stored; at most the requests in flight at the crash
    // may be stored without their answer having arrived, and every stored row is whole.
    for id in &acknowledged {
        let res = client
            .get(format!("{}/api/v1/customers/{id}", service.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            200,
            "{id} was acknowledged but is missing"
        );
    }
    // Walk every stored row with the keyset cursor (totals above 1,000 are estimates).
    let mut stored = 0;
    let mut cursor = String::new();
    loop {
        let page: serde_json::Value = client
            .get(format!(
                "{}/api/v1/customers/?limit=1000{cursor}",
                service.base
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for c in page["customers"].as_array().unwrap() {
            stored += 1;
            assert!(
                c["username"].is_string() && c["email"].is_string() && c["created_at"].is_string(),
                "{c}"
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert!(
        stored >= acknowledged.len() && stored <= acknowledged.len() + 8,
        "{stored} rows, {} acknowledged",
        acknowledged.len()
    );
}
