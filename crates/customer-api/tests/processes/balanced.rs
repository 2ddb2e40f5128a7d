//! Three service processes behind HAProxy (round robin), on a primary and a streaming
//! replica: the service scales out because no instance keeps state of its own.
//!
//! - A client's write and its next read land on different instances, and the read that
//!   carries the write's `X-Consistency-Token` sees the write, whichever instance and
//!   server (replica or primary) answers it, also while the replica's replay is paused.
//! - Uniqueness (usernames, case-insensitive emails) holds across instances under races.
//! - One instance killed (SIGKILL) under load: only requests in flight on it at that moment
//!   fail, HAProxy takes it out, every acknowledged create is stored and readable, and
//!   the only others stored are those of requests that failed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;
use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};

use crate::common::cluster::{HaProxy, Replica, haproxy_server_name};
use crate::common::{PrivatePostgres, Service, eventually};

const TOKEN: &str = "x-consistency-token";

/// One answer through the balancer.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// `X-Served-By`: the backend HAProxy sent the request to; absent on HAProxy's own
    /// error answers (`http-response` rules apply to servers' answers only).
    served_by: Option<String>,
    token: Option<String>,
    body: Value,
}

impl Answer {
    fn token(&self) -> &str {
        self.token
            .as_deref()
            .unwrap_or_else(|| panic!("a write's answer carries {TOKEN}: {self:?}"))
    }

    fn served_by(&self) -> &str {
        self.served_by
            .as_deref()
            .unwrap_or_else(|| panic!("an answer of a service carries X-Served-By: {self:?}"))
    }
}

/// Sends `request`; `Err` when no answer came (connection error, timeout).
async fn try_send(request: RequestBuilder) -> Result<Answer, String> {
    let res = request.send().await.map_err(|e| format!("{e:?}"))?;
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (status, served_by, token) = (res.status().as_u16(), header("x-served-by"), header(TOKEN));
    let text = res.text().await.map_err(|e| format!("{e:?}"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Answer {
        status,
        served_by,
        token,
        body,
    })
}

async fn send(request: RequestBuilder) -> Answer {
    try_send(request).await.unwrap()
}

const REPLICA_READS: &str = "db_reads_total{target=\"replica0\"}";
const PRIMARY_READS: &str = "db_reads_total{target=\"primary\"}";
const FALLBACKS: &str = "db_replica_fallbacks_total";

/// A counter from a service's own `/metrics` (0 when absent).
async fn counted(service: &Service, client: &Client, series: &str) -> u64 {
    let text = send(client.get(format!("{}/metrics", service.base)))
        .await
        .body;
    text.as_str()
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

/// The cluster: dropped in reverse order (HAProxy, services, replica, primary).
struct Cluster {
    pg: PrivatePostgres,
    replica: Replica,
    services: Vec<Service>,
    haproxy: HaProxy,
    client: Client,
}

impl Cluster {
    async fn start() -> Self {
        let pg = PrivatePostgres::start();
        let replica = Replica::start(&pg);
        let env = [
            ("APP__DATABASE__REPLICA_URLS", replica.url.as_str()),
            ("APP__RATE_LIMIT__ENABLED", "false"),
            ("APP__DATABASE__WAIT_TIMEOUT_MS", "10000"),
        ];
        let services = join_all((0..3).map(|_| Service::start(&pg.url, &env))).await;
        let haproxy = HaProxy::in_front_of(&services);
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let health = format!("{}/health", haproxy.base);
        assert!(
            eventually(Duration::from_secs(30), async || {
                client
                    .get(&health)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 200)
            })
            .await,
            "/health through haproxy did not answer 200"
        );
        Self {
            pg,
            replica,
            services,
            haproxy,
            client,
        }
    }

    /// A counter from `/metrics`, summed over the instances still running.
    async fn counted(&self, series: &str) -> u64 {
        let mut sum = 0;
        for service in &self.services {
            sum += counted(service, &self.client, series).await;
        }
        sum
    }

    /// `/api/v1/customers/` and `/api/v1/customers/{id}` through the balancer.
    fn customers(&self) -> String {
        format!("{}/api/v1/customers/", self.haproxy.base)
    }

    fn customer(&self, id: &str) -> String {
        format!("{}{id}", self.customers())
    }

    fn create(&self, first: &str, last: &str, email: &str) -> RequestBuilder {
        self.client
            .post(self.customers())
            .json(&json!({"first_name": first, "last_name": last, "email": email}))
    }

    /// GET of a customer with a write's token.
    async fn get_after(&self, id: &str, token: &str) -> Answer {
        send(self.client.get(self.customer(id)).header(TOKEN, token)).await
    }

    /// Every customer, walking the list's cursor, each page read with `token`.
    async fn list_all(&self, token: &str) -> (Vec<Value>, u64) {
        let mut customers = Vec::new();
        let mut url = format!("{}?limit=1000", self.customers());
        let mut total = None;
        loop {
            let page = send(self.client.get(&url).header(TOKEN, token)).await;
            assert_eq!(page.status, 200, "{page:?}");
            total.get_or_insert(page.body["total"].as_u64().unwrap());
            customers.extend(page.body["customers"].as_array().unwrap().iter().cloned());
            let Some(cursor) = page.body["next_cursor"].as_str() else {
                break;
            };
            url = format!("{}?limit=1000&cursor={cursor}", self.customers());
        }
        (customers, total.unwrap())
    }
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL, a streaming replica, three service processes and HAProxy; run with make chaos"]
async fn three_instances_behind_haproxy_read_their_writes_keep_uniqueness_and_survive_a_kill() {
    let mut cluster = Cluster::start().await;
    reads_with_a_token_see_the_write_on_any_instance(&cluster).await;
    uniqueness_holds_across_instances(&cluster).await;
    killing_an_instance_under_load_loses_only_its_in_flight_requests(&mut cluster).await;
}

/// Rounds with the replica's replay paused: their reads can be right only from the primary.
const PAUSED: std::ops::Range<usize> = 10..20;

/// 30 rounds of create, update and soft delete, each followed by a read with the write's
/// token. Round robin sends a sequential client's consecutive requests to consecutive
/// backends, so a write and its read are served by different instances. The replica
/// serves the reads once it has replayed the write; in the rounds [`PAUSED`] it cannot, and
/// the primary serves them after the wait (`replica_wait_ms`).
async fn reads_with_a_token_see_the_write_on_any_instance(cluster: &Cluster) {
    let client = &cluster.client;
    let mut readers = HashSet::new();
    let (mut pairs, mut crossed) = (0, 0);
    let mut pair = |write: &Answer, read: &Answer| {
        readers.insert(read.served_by().to_owned());
        pairs += 1;
        crossed += usize::from(write.served_by() != read.served_by());
    };
    let mut fallbacks_before_pause = 0;
    for round in 0..30 {
        if round == PAUSED.start {
            fallbacks_before_pause = cluster.counted(FALLBACKS).await;
            cluster.replica.pause_replay();
        }
        if round == PAUSED.end {
            // Each of the paused rounds' reads waited for the replica, then read the primary.
            let fallbacks = cluster.counted(FALLBACKS).await - fallbacks_before_pause;
            assert!(
                fallbacks >= 3 * PAUSED.len() as u64,
                "{fallbacks} reads fell back to the primary while replay was paused"
            );
            cluster.replica.resume_replay();
            cluster.replica.catch_up(&cluster.pg);
        }
        let created =
            send(cluster.create("Wanda", "Writer", &format!("rw{round}@example.com"))).await;
        assert_eq!(created.status, 200, "round {round}: {created:?}");
        let id = created.body["customer_id"].as_str().unwrap().to_owned();
        let read = cluster.get_after(&id, created.token()).await;
        assert_eq!(read.status, 200, "round {round}: created, then {read:?}");
        assert_eq!(
            read.body, created.body,
            "round {round}: the read after create"
        );
        pair(&created, &read);

        let city = format!("Scaleton {round}");
        let updated = send(
            client
                .put(cluster.customer(&id))
                .json(&json!({"city": city})),
        )
        .await;
        assert_eq!(updated.status, 200, "round {round}: {updated:?}");
        assert_eq!(updated.body["city"], city.as_str());
        let read = cluster.get_after(&id, updated.token()).await;
        assert_eq!(read.status, 200, "round {round}: updated, then {read:?}");
        assert_eq!(
            read.body, updated.body,
            "round {round}: the read after update"
        );
        pair(&updated, &read);

        let deleted = send(client.delete(cluster.customer(&id))).await;
        assert_eq!(deleted.status, 200, "round {round}: {deleted:?}");
        let read = cluster.get_after(&id, deleted.token()).await;
        assert_eq!(read.status, 200, "round {round}: deleted, then {read:?}");
        assert_eq!(
            read.body["is_active"], false,
            "round {round}: the read after delete: {read:?}"
        );
        assert_eq!(read.body["city"], city.as_str());
        pair(&deleted, &read);
    }
    let mut servers = Vec::new();
    for series in [REPLICA_READS, PRIMARY_READS, FALLBACKS] {
        servers.push(format!("{series} {}", cluster.counted(series).await));
    }
    eprintln!("reads with a token, over the three instances: {servers:?}");
    assert!(readers.len() >= 2, "reads served by {readers:?} only");
    assert!(
        crossed * 2 >= pairs,
        "only {crossed} of {pairs} reads were served by another instance than their write"
    );
}

/// The two-process races of `main.rs`, through the balancer over three processes.
async fn uniqueness_holds_across_instances(cluster: &Cluster) {
    let answers = join_all(
        (0..32).map(|i| send(cluster.create("John", "Doe", &format!("john{i}@example.com")))),
    )
    .await;
    let mut usernames = HashSet::new();
    let mut served_by = HashSet::new();
    for answer in &answers {
        assert_eq!(answer.status, 200, "{answer:?}");
        usernames.insert(answer.body["username"].as_str().unwrap().to_owned());
        served_by.insert(answer.served_by().to_owned());
    }
    assert_eq!(usernames.len(), 32, "{usernames:?}");
    assert!(served_by.len() >= 2, "creates served by {served_by:?} only");

    let answers = join_all((0..16).map(|i| {
        let email = if i % 2 == 0 {
            "same@example.com"
        } else {
            "SAME@Example.com"
        };
        send(cluster.create("Ann", "Same", email))
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|a| a.status != 200) {
        assert_eq!(answer.status, 400, "{answer:?}");
        assert_eq!(
            answer.body["detail"], "Customer with this email already exists",
            "{answer:?}"
        );
    }
    let served_by: HashSet<_> = answers.iter().map(|a| a.served_by().to_owned()).collect();
    assert!(served_by.len() >= 2, "creates served by {served_by:?} only");
}

/// One create of the load: when it was sent and answered, relative to the load's start.
#[derive(Debug)]
struct Attempt {
    email: String,
    start: Duration,
    end: Duration,
    answer: Result<Answer, String>,
}

impl Attempt {
    /// Acknowledged: 200 from a service.
    fn acknowledged(&self) -> Option<&Answer> {
        self.answer.as_ref().ok().filter(|a| a.status == 200)
    }

    /// Failed as a dead backend makes a request fail: no answer, or HAProxy's own 502,
    /// 503 or 504 (no `X-Served-By`). Any other answer is neither acknowledged nor failed.
    fn failed(&self) -> bool {
        match &self.answer {
            Err(_) => true,
            Ok(a) => matches!(a.status, 502..=504) && a.served_by.is_none(),
        }
    }
}

/// The load's length before the kill, and after HAProxy took the killed backend out.
const BEFORE_KILL: Duration = Duration::from_secs(2);
const AFTER_DOWN: Duration = Duration::from_millis(2500);
/// Concurrent client loops.
const LOOPS: usize = 8;
/// Which requests may fail when a backend is killed, from HAProxy's settings (cluster.rs):
///
/// - One HAProxy already sent to it (in flight at the kill): the connection closes with no
///   answer, HAProxy answers 502 and does not retry it (`retry-on` is `conn-failure` only:
///   the request was sent). So a failed request must have ended after the kill began.
/// - One sent after the process is gone, while the health checks (`inter 500ms fall 2`:
///   taken out 0.5-1.5 s after the kill, observed 0.5-1 s) still count it up: round robin
///   may pick it, the connect is refused, and with `retries 2` and `option redispatch`,
///   round robin and other servers up, HAProxy redispatches at once to another backend
///   (`sess_update_st_cer` in HAProxy's stream.c: no turn-around delay for a
///   non-persistent round-robin request). It succeeds: observed at most ~110 ms.
/// - The exception: HAProxy reuses idle keep-alive connections to a backend for a client's
///   second and later requests (`http-reuse safe`), and may send one on a connection to
///   the dead process before it has read that connection's close. That request was sent,
///   so it fails as one in flight. Allowed: started at most this long after the kill.
const REUSE_SLACK: Duration = Duration::from_millis(500);

/// 8 client loops create customers through the balancer; after 2 s one instance is killed
/// (SIGKILL: dropping a [`Service`] kills its process); the load goes on until 2.5 s after
/// HAProxy has taken it out.
async fn killing_an_instance_under_load_loses_only_its_in_flight_requests(cluster: &mut Cluster) {
    let victim = cluster.services.remove(1);
    let cluster = &*cluster;
    let victim_name = haproxy_server_name(1);
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let loops = join_all((0..LOOPS).map(|w| {
        let stop = stop.clone();
        async move {
            let mut attempts = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let email = format!("load-{w}-{i}@example.com");
                let start = started.elapsed();
                let answer = try_send(cluster.create("Lara", "Load", &email)).await;
                let end = started.elapsed();
                attempts.push(Attempt {
                    email,
                    start,
                    end,
                    answer,
                });
            }
            attempts
        }
    }));
    let haproxy = &cluster.haproxy;
    let killer = async {
        tokio::time::sleep(BEFORE_KILL).await;
        let kill_start = started.elapsed();
        drop(victim); // SIGKILL, then waits for the process to be gone
        let kill_end = started.elapsed();
        let deadline = Instant::now() + Duration::from_secs(30);
        let down_at = loop {
            let backends = haproxy.backends();
            if backends
                .iter()
                .any(|b| b.name == victim_name && b.is_down())
            {
                break started.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "haproxy did not take the killed backend out: {backends:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        tokio::time::sleep(AFTER_DOWN).await;
        stop.store(true, Ordering::Relaxed);
        (kill_start, kill_end, down_at)
    };
    let (attempts, (kill_start, kill_end, down_at)) = tokio::join!(loops, killer);
    let attempts: Vec<Attempt> = attempts.into_iter().flatten().collect();

    // Every answer is an acknowledgement or a failure of a request in flight at the kill.
    let strays: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.acknowledged().is_none() && !a.failed())
        .collect();
    assert!(strays.is_empty(), "neither 200 nor a failure: {strays:#?}");
    let failed: Vec<&Attempt> = attempts.iter().filter(|a| a.failed()).collect();
    let window = format!(
        "kill at {kill_start:?}..{kill_end:?}, backend down at {down_at:?}, \
         failures allowed if started before {:?} and ended after {kill_start:?}",
        kill_end + REUSE_SLACK
    );
    let outside: Vec<&&Attempt> = failed
        .iter()
        .filter(|a| a.end < kill_start || a.start > kill_end + REUSE_SLACK)
        .collect();
    assert!(outside.is_empty(), "{window}; failed outside: {outside:#?}");
    let acknowledged: Vec<(&Attempt, &Answer)> = attempts
        .iter()
        .filter_map(|a| Some((a, a.acknowledged()?)))
        .collect();
    for (attempt, answer) in &acknowledged {
        if attempt.start > kill_end {
            assert_ne!(answer.served_by(), victim_name, "{window}: {attempt:?}");
        }
    }
    let count = |from: Duration, to: Duration| {
        acknowledged
            .iter()
            .filter(|(a, _)| a.start >= from && a.end <= to)
            .count()
    };
    assert!(
        count(Duration::ZERO, kill_start) > 0,
        "load ran before the kill"
    );
    assert!(
        count(down_at, Duration::MAX) > 0,
        "load ran after the backend was taken out"
    );
    assert!(
        attempts
            .iter()
            .filter(|a| a.start >= down_at)
            .all(|a| a.acknowledged().is_some()),
        "every request after the backend was taken out succeeds"
    );

    // HAProxy took the killed one out and serves from the two left.
    cluster.haproxy.down_to(2);
    let backends = cluster.haproxy.backends();
    for backend in &backends {
        assert_eq!(
            backend.is_down(),
            backend.name == victim_name,
            "{backends:?}"
        );
    }

    // Every acknowledged create is stored and readable through the balancer, from the two
    // instances left.
    let reads = futures::stream::iter(&acknowledged)
        .map(|(attempt, answer)| async move {
            let id = answer.body["customer_id"].as_str().unwrap();
            (attempt, answer, cluster.get_after(id, answer.token()).await)
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    for (attempt, created, read) in reads {
        assert_eq!(read.status, 200, "{attempt:?}: {read:?}");
        assert_eq!(read.body["email"], attempt.email.as_str(), "{read:?}");
        assert_eq!(read.body["customer_id"], created.body["customer_id"]);
        assert_ne!(read.served_by(), victim_name, "{read:?}");
    }

    // The list, read at a position after every commit of the load (a later write's token),
    // holds every acknowledged create, and besides them at most the failed requests' ones.
    let marker = send(cluster.create("Mark", "After", "marker@example.com")).await;
    assert_eq!(marker.status, 200, "{marker:?}");
    let (customers, total) = cluster.list_all(marker.token()).await;
    assert_eq!(
        customers.len() as u64,
        total,
        "the walk saw `total` customers"
    );
    let listed: HashMap<&str, &str> = customers
        .iter()
        .map(|c| {
            (
                c["customer_id"].as_str().unwrap(),
                c["email"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), customers.len(), "no customer listed twice");
    for (attempt, answer) in &acknowledged {
        let id = answer.body["customer_id"].as_str().unwrap();
        assert_eq!(listed.get(id), Some(&attempt.email.as_str()), "{attempt:?}");
    }
    let acknowledged_emails: HashSet<&str> =
        acknowledged.iter().map(|(a, _)| a.email.as_str()).collect();
    let failed_emails: HashSet<&str> = failed.iter().map(|a| a.email.as_str()).collect();
    let stored: Vec<&str> = listed
        .values()
        .copied()
        .filter(|e| e.starts_with("load-"))
        .collect();
    let unacknowledged: Vec<&str> = stored
        .iter()
        .copied()
        .filter(|e| !acknowledged_emails.contains(e))
        .collect();
    assert!(
        unacknowledged.iter().all(|e| failed_emails.contains(e)),
        "stored without a request that failed: {unacknowledged:?}; failed: {failed_emails:?}"
    );
    let bounds = format!(
        "{} stored, {} acknowledged, {} failed",
        stored.len(),
        acknowledged.len(),
        failed.len()
    );
    assert!(stored.len() >= acknowledged.len(), "{bounds}");
    assert!(
        stored.len() <= acknowledged.len() + failed.len(),
        "{bounds}"
    );
    let undetected: Vec<Duration> = attempts
        .iter()
        .filter(|a| a.start > kill_end && a.start < down_at)
        .map(|a| a.end - a.start)
        .collect();
    eprintln!(
        "{window}; {} creates sent between the kill and the backend's removal, the slowest \
         answered in {:?}; {} creates, {} acknowledged, {} failed (started at {:?}), {} stored \
         ({} of them unacknowledged)",
        undetected.len(),
        undetected.iter().max(),
        attempts.len(),
        acknowledged.len(),
        failed.len(),
        failed.iter().map(|a| a.start).collect::<Vec<_>>(),
        stored.len(),
        unacknowledged.len(),
    );
}
