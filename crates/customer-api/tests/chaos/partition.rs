//! A silent network partition between the service and PostgreSQL: packets are held, not
//! refused, so neither side learns anything from the network, as with a firewall, a dead
//! switch or a frozen VM. A [`SilentProxy`] of the test's own sits in between.
//!
//! - Under 16 concurrent writers and readers, every request answers within the statement
//!   timeout plus 2 s (503 with `Retry-After` for those that need the database),
//!   `/health` and `/health/ready` within 1 s (503), `/health/live` 200; after healing the
//!   first request succeeds within 2 s, without a restart, and every later one too (no
//!   connection stuck in the partition is used again).
//! - Keyed creates cut by the partition: after healing, each retried with its key gives
//!   exactly one customer per key, and the stored answers are the rows in the table.
//! - A streaming replica behind such a proxy goes silent: once the lag bound has passed since
//!   its last measure it serves no read (its check then times out and takes it out), every
//!   read answers 200 from the primary, and it serves again once healed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};

use crate::common::cluster::Replica;
use crate::common::{PrivatePostgres, Service, eventually, metric, url_port};
use crate::silent_proxy::SilentProxy;

/// The service's statement timeout here (3 s), its margin for an answer (the default's)
/// and a short connect timeout.
const SETTINGS: &[(&str, &str)] = &[
    ("APP__RATE_LIMIT__ENABLED", "false"),
    ("APP__DATABASE__STATEMENT_TIMEOUT_MS", "3000"),
    ("APP__DATABASE__ROUND_TRIP_MARGIN_MS", "1000"),
    ("APP__DATABASE__CONNECT_TIMEOUT_MS", "1000"),
    ("APP__DATABASE__MAX_CONNECTIONS", "8"),
];
/// The longest a request may take during the partition: the statement timeout plus 2 s.
const REQUEST_BOUND: Duration = Duration::from_secs(5);
const PROBE_BOUND: Duration = Duration::from_secs(1);
/// The series of `/metrics` counting the reads the replica served.
const REPLICA_READS: &str = "db_reads_total{target=\"replica0\"}";

/// One answer: its status (`None`: none came), `Retry-After`, body, and how long it took.
#[derive(Debug)]
struct Answer {
    status: Option<u16>,
    retry_after: Option<String>,
    body: Value,
    took: Duration,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let started = Instant::now();
    let Ok(res) = request.timeout(Duration::from_secs(60)).send().await else {
        return Answer {
            status: None,
            retry_after: None,
            body: Value::Null,
            took: started.elapsed(),
        };
    };
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = res.json().await.unwrap_or(Value::Null);
    Answer {
        status: Some(status),
        retry_after,
        body,
        took: started.elapsed(),
    }
}

/// A 503 as the contract has it: `Retry-After` and a `detail`.
fn assert_unavailable(what: &str, answer: &Answer) {
    assert_eq!(answer.status, Some(503), "{what}: {answer:?}");
    assert!(answer.retry_after.is_some(), "{what}: {answer:?}");
    assert!(answer.body["detail"].is_string(), "{what}: {answer:?}");
}

/// Since when the proxy has been silent (`None` while it forwards).
#[derive(Default)]
struct Partition(std::sync::Mutex<Option<Instant>>);

impl Partition {
    fn begin(&self, proxy: &SilentProxy) {
        proxy.go_silent();
        *self.0.lock().unwrap() = Some(Instant::now());
    }

    fn end(&self, proxy: &SilentProxy) {
        proxy.heal();
        *self.0.lock().unwrap() = None;
    }

    /// How long it has lasted, while it lasts.
    fn lasted(&self) -> Option<Duration> {
        self.0.lock().unwrap().map(|since| since.elapsed())
    }
}

/// What each client of [`load`] was answered, in order, with how long the partition had
/// lasted when the request was sent.
type Answers = Vec<Vec<(Option<Duration>, Answer)>>;

/// Clients sending as fast as they are answered until `stop`: `writers` of the `clients`
/// create customers (`{prefix}{w}-{i}@example.com`), the others read `id`.
async fn load(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    (clients, writers): (usize, usize),
    prefix: &str,
    stop: &AtomicBool,
    partition: &Partition,
) -> Answers {
    let each = (0..clients).map(|w| async move {
        let mut answers = Vec::new();
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            i += 1;
            let lasted = partition.lasted();
            let request = if w < writers {
                client
                    .post(format!("{base}/api/v1/customers/"))
                    .json(&json!({"first_name": "W", "last_name": "Doe",
                                  "email": format!("{prefix}{w}-{i}@example.com")}))
            } else {
                client.get(format!("{base}/api/v1/customers/{id}"))
            };
            answers.push((lasted, send(request).await));
        }
        answers
    });
    join_all(each).await
}

/// A server, a proxy to it and the service through the proxy. Tests take it apart with the
/// server bound first, so that it is dropped last.
struct Setup {
    pg: PrivatePostgres,
    proxy: SilentProxy,
    service: Service,
    client: reqwest::Client,
}

async fn setup() -> Setup {
    let pg = PrivatePostgres::start();
    let port = url_port(&pg.url).unwrap();
    let proxy = SilentProxy::start(SocketAddr::from(([127, 0, 0, 1], port))).await;
    let url = pg
        .url
        .replace(&format!(":{port}/"), &format!(":{}/", proxy.port));
    let service = Service::start(&url, SETTINGS).await;
    let client = reqwest::Client::new();
    assert!(
        eventually(Duration::from_secs(30), async || service
            .health(&client)
            .await
            == Some(200))
        .await,
        "healthy before the partition"
    );
    Setup {
        pg,
        proxy,
        service,
        client,
    }
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL; run with `make chaos`"]
async fn a_silent_partition_is_answered_within_its_bounds_and_heals_without_a_restart() {
    let Setup {
        pg: _pg,
        proxy,
        service,
        client,
    } = setup().await;
    let base = service.base.clone();
    let known = service
        .create(&client, "Ann", "known@example.com")
        .await
        .unwrap();
    assert_eq!(known.0, 200, "{:?}", known.1);
    let known_id = known.1["customer_id"].as_str().unwrap().to_owned();

    let partition = Partition::default();
    let stop = AtomicBool::new(false);
    let workers = load(&client, &base, &known_id, (16, 8), "w", &stop, &partition);
    let probes = async {
        let mut seen = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let during = partition.lasted().is_some();
            for path in ["/health", "/health/ready", "/health/live"] {
                seen.push((
                    during,
                    path,
                    send(client.get(format!("{base}{path}"))).await,
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        seen
    };
    let chaos = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        partition.begin(&proxy);
        tokio::time::sleep(Duration::from_secs(20)).await;
        partition.end(&proxy);
        let healed_at = Instant::now();
        // The first request after healing succeeds within 2 s.
        let first = send(client.get(format!("{base}/api/v1/customers/{known_id}"))).await;
        let first_ok = first.status == Some(200);
        let first_took = healed_at.elapsed();
        tokio::time::sleep(Duration::from_secs(4)).await;
        stop.store(true, Ordering::Relaxed);
        (first, first_ok, first_took)
    };
    let (answers, seen, (first, first_ok, first_took)) = tokio::join!(workers, probes, chaos);
    assert!(
        first_ok && first_took < Duration::from_secs(2),
        "after healing: {first:?} after {first_took:?}"
    );

    let mut unavailable = 0;
    for (_, answer) in answers.iter().flatten() {
        assert!(
            answer.took < REQUEST_BOUND,
            "an answer took {:?}: {answer:?}",
            answer.took
        );
        match answer.status {
            Some(200) => {}
            Some(503) => {
                assert_unavailable("a request", answer);
                unavailable += 1;
            }
            _ => panic!("neither 200 nor 503: {answer:?}"),
        }
    }
    assert!(
        unavailable >= 16,
        "the partition was felt: {unavailable} 503s"
    );
    // Every request sent after healing succeeded: no connection stuck in the partition was
    // used again.
    let after: Vec<&Answer> = answers
        .iter()
        .flat_map(|a| a.iter().rev().take_while(|(lasted, _)| lasted.is_none()))
        .map(|(_, answer)| answer)
        .collect();
    assert!(after.len() >= 16, "{} requests after healing", after.len());
    let failed: Vec<_> = after.iter().filter(|a| a.status != Some(200)).collect();
    assert!(failed.is_empty(), "after healing: {failed:?}");
    for (_, path, answer) in &seen {
        assert!(answer.took < PROBE_BOUND, "{path} took {:?}", answer.took);
        if *path == "/health/live" {
            assert_eq!(answer.status, Some(200), "{path}: {answer:?}");
        }
    }
    // Once the partition had lasted a round trip, the database's probes said so.
    let told: Vec<_> = seen
        .iter()
        .filter(|(during, path, _)| *during && *path != "/health/live")
        .map(|(_, _, answer)| answer.status)
        .collect();
    assert!(
        told.iter().filter(|s| **s == Some(503)).count() >= 10,
        "{told:?}"
    );
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL; run with `make chaos`"]
async fn keyed_creates_cut_by_a_partition_give_one_customer_per_key_after_retries() {
    let Setup {
        pg,
        proxy,
        service,
        client,
    } = setup().await;
    let base = service.base.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let create = |key: &str| {
        client
            .post(format!("{base}/api/v1/customers/"))
            .header("idempotency-key", key)
            .json(&json!({"first_name": "K", "last_name": "Doe",
                          "email": format!("{key}@example.com")}))
    };
    let workers = (0..16).map(|w| {
        let (create, stop) = (&create, stop.clone());
        async move {
            let mut first = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let key = format!("k{w}-{i}");
                let answer = send(create(&key)).await;
                first.push((key, answer));
            }
            first
        }
    });
    let chaos = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        proxy.go_silent();
        tokio::time::sleep(Duration::from_secs(8)).await;
        proxy.heal();
        stop.store(true, Ordering::Relaxed);
    };
    let (first, ()) = tokio::join!(join_all(workers), chaos);
    let first: Vec<(String, Answer)> = first.into_iter().flatten().collect();
    assert!(
        first.iter().any(|(_, a)| a.status == Some(503)),
        "the partition cut some"
    );

    // Each key again, as a client following Retry-After would, until its outcome is known.
    let mut outcome: HashMap<String, String> = HashMap::new();
    for (key, answer) in &first {
        assert!(answer.took < REQUEST_BOUND, "{key}: {answer:?}");
        let deadline = Instant::now() + Duration::from_secs(40);
        let settled = loop {
            let again = send(create(key)).await;
            match again.status {
                Some(409 | 503) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                _ => break again,
            }
        };
        assert_eq!(settled.status, Some(200), "{key}: {settled:?}");
        let id = settled.body["customer_id"].as_str().unwrap().to_owned();
        if answer.status == Some(200) {
            assert_eq!(
                answer.body["customer_id"], settled.body["customer_id"],
                "{key}"
            );
        }
        outcome.insert(key.clone(), id);
    }

    // The table holds exactly one customer per key, the one its answers name.
    let (db, connection) = tokio_postgres::connect(&pg.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rows = db
        .query(
            "SELECT email, customer_id FROM customers WHERE email LIKE 'k%@example.com'",
            &[],
        )
        .await
        .unwrap();
    let stored: HashMap<String, String> = rows
        .iter()
        .map(|r| {
            let email: String = r.get(0);
            let key = email.trim_end_matches("@example.com").to_owned();
            (key, r.get(1))
        })
        .collect();
    assert_eq!(rows.len(), stored.len(), "one row per email");
    assert_eq!(stored, outcome);
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL and a streaming replica; run with `make chaos`"]
async fn a_silent_replica_serves_no_read_past_the_lag_bound_and_reads_go_on_from_the_primary() {
    let pg = PrivatePostgres::start();
    let replica = Replica::start(&pg);
    let port = url_port(&replica.url).unwrap();
    let proxy = SilentProxy::start(SocketAddr::from(([127, 0, 0, 1], port))).await;
    let replica_url = replica
        .url
        .replace(&format!(":{port}/"), &format!(":{}/", proxy.port));
    let mut settings = SETTINGS.to_vec();
    settings.extend([
        ("APP__DATABASE__REPLICA_URLS", replica_url.as_str()),
        ("APP__DATABASE__REPLICA_WAIT_MS", "50"),
        ("APP__DATABASE__REPLICA_CHECK_MS", "100"),
    ]);
    let service = Service::start(&pg.url, &settings).await;
    let client = reqwest::Client::new();
    let base = service.base.clone();
    let (status, body) = service
        .create(&client, "Ann", "replica@example.com")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let id = body["customer_id"].as_str().unwrap().to_owned();
    // The replica serves reads before the partition.
    let read_once = async || {
        let _ = send(client.get(format!("{base}/api/v1/customers/{id}"))).await;
        metric(&client, &base, REPLICA_READS).await
    };
    assert!(
        eventually(Duration::from_secs(20), async || read_once().await > 0).await,
        "the replica never served a read"
    );

    let partition = Partition::default();
    let stop = AtomicBool::new(false);
    let workers = load(&client, &base, &id, (12, 4), "r", &stop, &partition);
    let chaos = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        partition.begin(&proxy);
        tokio::time::sleep(Duration::from_secs(6)).await;
        stop.store(true, Ordering::Relaxed);
    };
    let (answers, ()) = tokio::join!(workers, chaos);
    for (since, answer) in answers.iter().flatten() {
        assert_eq!(answer.status, Some(200), "{answer:?}");
        assert!(answer.took < REQUEST_BOUND, "{answer:?}");
        // Sent once the lag bound (1 s) had passed since the replica's last measure: the
        // primary served it without trying the replica.
        if since.is_some_and(|since| since > Duration::from_secs(1)) {
            assert!(
                answer.took < Duration::from_secs(1),
                "{since:?}: {answer:?}"
            );
        }
    }
    // Healed: the replica serves reads again, without a restart.
    proxy.heal();
    let before = metric(&client, &base, REPLICA_READS).await;
    assert!(
        eventually(Duration::from_secs(60), async || read_once().await > before).await,
        "the replica never came back"
    );
}
