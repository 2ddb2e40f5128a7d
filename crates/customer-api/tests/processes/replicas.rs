//! Reads from a streaming replica with read-your-writes, against a real replica
//! (`pg_basebackup`, its own port) whose replay the test pauses, resumes and kills.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::cluster::Replica;
use crate::common::{PrivatePostgres, Service, eventually, metric, metric_value};

/// The staleness bound the service is started with.
const MAX_LAG: Duration = Duration::from_millis(1000);

/// `db_reads_total{target="..."}` and `db_replica_fallbacks_total` from `/metrics`.
async fn counted(service: &Service, client: &reqwest::Client, series: &str) -> u64 {
    metric(client, &service.base, series).await
}

const REPLICA_READS: &str = "db_reads_total{target=\"replica0\"}";
const PRIMARY_READS: &str = "db_reads_total{target=\"primary\"}";
const FALLBACKS: &str = "db_replica_fallbacks_total";
const REPLICA_UP: &str = "db_replica_up{replica=\"replica0\"}";
const REPLICA_LAG: &str = "db_replica_lag_seconds{replica=\"replica0\"}";

/// GET of a customer, with or without a token: the status.
async fn get(service: &Service, client: &reqwest::Client, id: &str, token: Option<&str>) -> u16 {
    let mut request = client.get(format!("{}/api/v1/customers/{id}", service.base));
    if let Some(token) = token {
        request = request.header("X-Consistency-Token", token);
    }
    request.send().await.unwrap().status().as_u16()
}

/// `POST /search` for one email, with or without a token: how many match, and whether the
/// answer carried a consistency token (a search writes nothing, so it must not).
async fn search(
    service: &Service,
    client: &reqwest::Client,
    email: &str,
    token: Option<&str>,
) -> (u64, bool) {
    let mut request = client
        .post(format!("{}/api/v1/customers/search", service.base))
        .json(&serde_json::json!({ "email": email }));
    if let Some(token) = token {
        request = request.header("X-Consistency-Token", token);
    }
    let res = request.send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let stamped = res.headers().contains_key("x-consistency-token");
    let body: Value = res.json().await.unwrap();
    (body["total"].as_u64().unwrap(), stamped)
}

/// Creates a customer; its id and the answer's consistency token.
async fn create(service: &Service, client: &reqwest::Client, email: &str) -> (String, String) {
    let res = client
        .post(format!("{}/api/v1/customers/", service.base))
        .json(&serde_json::json!({"first_name": "Rita", "last_name": "Replica", "email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let token = res
        .headers()
        .get("x-consistency-token")
        .expect("a write's answer carries a consistency token")
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = res.json().await.unwrap();
    (body["customer_id"].as_str().unwrap().to_owned(), token)
}

/// A PostgreSQL, a streaming replica of it, and the service reading from both (waiting 50
/// ms for the replica, serving tokenless reads from it within `MAX_LAG`), with `extra`
/// settings.
async fn with_a_replica(extra: &[(&str, &str)]) -> (PrivatePostgres, Replica, Service) {
    let pg = PrivatePostgres::start();
    let replica = Replica::start(&pg);
    let lag = MAX_LAG.as_millis().to_string();
    let mut settings = vec![
        ("APP__DATABASE__REPLICA_URLS", replica.url.as_str()),
        ("APP__DATABASE__REPLICA_WAIT_MS", "50"),
        ("APP__DATABASE__MAX_REPLICA_LAG_MS", lag.as_str()),
        ("APP__RATE_LIMIT__ENABLED", "false"),
    ];
    settings.extend_from_slice(extra);
    let service = Service::start(&pg.url, &settings).await;
    (pg, replica, service)
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL and a streaming replica; run with make chaos"]
async fn reads_follow_their_token_to_a_replica_or_the_primary_and_survive_the_replicas_loss() {
    let (pg, replica, service) = with_a_replica(&[]).await;
    let client = reqwest::Client::new();
    assert!(
        eventually(Duration::from_secs(20), async || service
            .health(&client)
            .await
            == Some(200))
        .await
    );

    // Caught up: a read without a token is the replica's, once the service has measured it
    // within the bound (a busy machine may take a while over its first connection).
    let (first, _) = create(&service, &client, "first@example.com").await;
    replica.catch_up(&pg);
    assert!(
        eventually(Duration::from_secs(20), async || {
            let measured = metric_value(&client, &service.base, REPLICA_LAG).await;
            metric_value(&client, &service.base, REPLICA_UP).await == Some(1.0)
                && measured.is_some_and(|lag| (0.0..=0.5).contains(&lag))
        })
        .await,
        "the replica is measured in and fresh"
    );
    let before = counted(&service, &client, REPLICA_READS).await;
    assert_eq!(get(&service, &client, &first, None).await, 200);
    assert_eq!(counted(&service, &client, REPLICA_READS).await, before + 1);

    // Replay paused: a read with its write's token is still right, from the primary after
    // the bounded wait; one without may be stale only within the bound.
    replica.pause_replay();
    let (second, token) = create(&service, &client, "second@example.com").await;
    let fallbacks = counted(&service, &client, FALLBACKS).await;
    let started = Instant::now();
    assert_eq!(get(&service, &client, &second, Some(&token)).await, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "it waited for the replica"
    );
    assert_eq!(counted(&service, &client, FALLBACKS).await, fallbacks + 1);
    // A search, though a POST, is a read like the others: with the token it finds the
    // write, from the primary after the same bounded wait, and its answer has no token.
    assert_eq!(
        search(&service, &client, "second@example.com", Some(&token)).await,
        (1, false)
    );
    assert_eq!(counted(&service, &client, FALLBACKS).await, fallbacks + 2);
    let early = get(&service, &client, &second, None).await;
    assert!(matches!(early, 200 | 404), "{early}");
    let (early, _) = search(&service, &client, "second@example.com", None).await;
    assert!(early <= 1, "{early}");
    tokio::time::sleep(MAX_LAG + Duration::from_millis(500)).await;
    for _ in 0..5 {
        assert_eq!(
            get(&service, &client, &second, None).await,
            200,
            "a replica staler than the bound serves no read"
        );
        assert_eq!(
            search(&service, &client, "second@example.com", None).await,
            (1, false),
            "nor any search"
        );
    }

    // Resumed: the replica serves the token's read itself.
    replica.resume_replay();
    replica.catch_up(&pg);
    let (replica_reads, fallbacks) = (
        counted(&service, &client, REPLICA_READS).await,
        counted(&service, &client, FALLBACKS).await,
    );
    assert_eq!(get(&service, &client, &second, Some(&token)).await, 200);
    assert_eq!(
        counted(&service, &client, REPLICA_READS).await,
        replica_reads + 1
    );
    // So does a search: its version and its page, both from the replica.
    assert_eq!(
        search(&service, &client, "second@example.com", Some(&token)).await,
        (1, false)
    );
    assert_eq!(
        counted(&service, &client, REPLICA_READS).await,
        replica_reads + 2
    );
    assert_eq!(counted(&service, &client, FALLBACKS).await, fallbacks);

    // Killed: every read still answers, from the primary.
    replica.crash();
    let primary_reads = counted(&service, &client, PRIMARY_READS).await;
    for _ in 0..10 {
        assert_eq!(get(&service, &client, &first, None).await, 200);
        assert_eq!(get(&service, &client, &second, Some(&token)).await, 200);
        let list = client
            .get(format!("{}/api/v1/customers/", service.base))
            .send()
            .await
            .unwrap();
        assert_eq!(list.status().as_u16(), 200);
    }
    assert!(counted(&service, &client, PRIMARY_READS).await >= primary_reads + 20);

    // Back: it is measured again and serves reads once it caught up.
    replica.resume();
    replica.catch_up(&pg);
    let replica_reads = counted(&service, &client, REPLICA_READS).await;
    assert!(
        eventually(Duration::from_secs(40), async || {
            get(&service, &client, &first, None).await == 200
                && counted(&service, &client, REPLICA_READS).await > replica_reads
        })
        .await,
        "the replica is taken back after its backoff"
    );
}

/// With `[search] index` on, a search is answered by the index, which reads the changes and
/// the page from the primary: a write the paused replica has not replayed is found at once,
/// with its token or without, and no search waits for the replica or reads it.
#[tokio::test]
#[ignore = "starts its own PostgreSQL and a streaming replica; run with make chaos"]
async fn an_indexed_search_finds_a_write_the_paused_replica_has_not_replayed() {
    let (_pg, replica, service) = with_a_replica(&[("APP__SEARCH__INDEX", "true")]).await;
    let client = reqwest::Client::new();
    assert!(
        eventually(Duration::from_secs(20), async || {
            metric_value(&client, &service.base, "search_index_ready").await == Some(1.0)
        })
        .await,
        "the index was never built"
    );

    replica.pause_replay();
    let (_, token) = create(&service, &client, "indexed@example.com").await;
    let (replica_reads, fallbacks) = (
        counted(&service, &client, REPLICA_READS).await,
        counted(&service, &client, FALLBACKS).await,
    );
    let answered = counted(&service, &client, "search_index_answered_total").await;
    let started = Instant::now();
    assert_eq!(
        search(&service, &client, "indexed@example.com", Some(&token)).await,
        (1, false)
    );
    assert_eq!(
        search(&service, &client, "indexed@example.com", None).await,
        (1, false),
        "found without a token too, though the replica is behind"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        counted(&service, &client, "search_index_answered_total").await,
        answered + 2
    );
    assert_eq!(
        counted(&service, &client, REPLICA_READS).await,
        replica_reads
    );
    assert_eq!(counted(&service, &client, FALLBACKS).await, fallbacks);
    replica.resume_replay();
}
