//! PostgreSQL crashed (`pg_ctl -m immediate`) again and again under every kind of write:
//! nothing the service acknowledged with a 2xx is missing or older afterwards.
//!
//! Each writer owns its customers, so it knows what each must hold: for every field, the
//! value of the last acknowledged write, or of a write sent after it whose answer was not a
//! 2xx (such a write may or may not have committed). Flags set by an acknowledged verify or
//! soft delete stay set; a hard delete acknowledged leaves no row; a login acknowledged
//! leaves a login time no older than the request.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_postgres::NoTls;

use super::UNTHROTTLED;
use crate::common::{PrivatePostgres, Service, eventually};

const WRITERS: usize = 8;
const CRASHES: usize = 5;

/// What a field may hold: the acknowledged value, or one sent after it without a 2xx.
#[derive(Debug, Clone)]
struct Possible {
    acked: String,
    unsure: Vec<String>,
}

impl Possible {
    fn new(value: &str) -> Self {
        Self {
            acked: value.to_owned(),
            unsure: Vec::new(),
        }
    }

    fn sent(&mut self, value: &str, acknowledged: bool) {
        if acknowledged {
            *self = Self::new(value);
        } else {
            self.unsure.push(value.to_owned());
        }
    }

    fn allows(&self, stored: &str) -> bool {
        self.acked == stored || self.unsure.iter().any(|v| v == stored)
    }
}

/// What the database must hold for one customer.
#[derive(Debug, Clone)]
struct Expected {
    first_name: Possible,
    last_name: Possible,
    email_verified: bool,
    phone_verified: bool,
    /// The send time (seconds since the epoch) of the last acknowledged login.
    logged_in_since: Option<f64>,
    deactivated: bool,
    /// A hard delete was sent; `Some(true)` when it was acknowledged.
    deleted: Option<bool>,
}

impl Expected {
    fn new(first: &str, last: &str) -> Self {
        Self {
            first_name: Possible::new(first),
            last_name: Possible::new(last),
            email_verified: false,
            phone_verified: false,
            logged_in_since: None,
            deactivated: false,
            deleted: None,
        }
    }
}

/// A write's outcome: `Some(status)`, or `None` when no answer came.
async fn send(
    client: &reqwest::Client,
    service: &Service,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (Option<u16>, Value) {
    let mut request = client.request(method, format!("{}/api/v1/customers{path}", service.base));
    if let Some(body) = body {
        request = request.json(&body);
    }
    match request.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            (Some(status), res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (None, Value::Null),
    }
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// One writer's loop: every kind of write on its own customers until `stop`.
/// Returns what each customer (by id) must hold, the emails of acknowledged creates, and
/// the count of acknowledged writes.
async fn writer(
    w: usize,
    service: &Service,
    client: &reqwest::Client,
    stop: &AtomicBool,
) -> (HashMap<String, Expected>, Vec<String>, usize) {
    let mut expected: HashMap<String, Expected> = HashMap::new();
    let mut live: Vec<String> = Vec::new();
    let mut created_emails = Vec::new();
    let mut acked_writes = 0;
    let mut i = 0_usize;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let kind = if live.len() < 3 { 0 } else { i % 9 };
        let target = (!live.is_empty()).then(|| live[i % live.len()].clone());
        let sent_at = now_secs();
        let acknowledged = match (kind, target) {
            (0, _) | (_, None) => {
                let email = format!("w{w}-{i}@example.com");
                let (status, body) = send(
                    client,
                    service,
                    Method::POST,
                    "/",
                    Some(json!({"first_name": "F0", "last_name": "L0", "email": email})),
                )
                .await;
                if status == Some(200) {
                    let id = body["customer_id"].as_str().unwrap().to_owned();
                    expected.insert(id.clone(), Expected::new("F0", "L0"));
                    live.push(id);
                    created_emails.push(email);
                }
                status == Some(200)
            }
            (kind, Some(id)) => {
                let value = format!("v{i}");
                let (method, path, body) = match kind {
                    1 | 2 => (
                        Method::PUT,
                        format!("/{id}"),
                        Some(json!({"first_name": value})),
                    ),
                    3 => (
                        Method::POST,
                        "/bulk-update".to_owned(),
                        Some(json!({"customer_ids": [id], "updates": {"last_name": value}})),
                    ),
                    4 => (Method::PATCH, format!("/{id}/verify-email"), None),
                    5 => (Method::PATCH, format!("/{id}/verify-phone"), None),
                    6 => (Method::PATCH, format!("/{id}/last-login"), None),
                    7 => (Method::DELETE, format!("/{id}"), None),
                    _ => (Method::DELETE, format!("/{id}/hard"), None),
                };
                let (status, body) = send(client, service, method, &path, body).await;
                let e = expected.get_mut(&id).unwrap();
                let ok = status.is_some_and(|s| (200..300).contains(&s));
                // A bulk update reports a vanished customer in its body, not as a status.
                let bulk_missing = kind == 3 && ok && body["updated_count"] != json!(1);
                if status == Some(404) || bulk_missing {
                    assert!(
                        e.deleted.is_some(),
                        "{id} vanished without a hard delete: {body}"
                    );
                    e.deleted = Some(true);
                    live.retain(|l| *l != id);
                    continue;
                }
                assert!(
                    matches!(status, None | Some(500 | 503)) || ok,
                    "unexpected {status:?} for {path}: {body}"
                );
                match kind {
                    1 | 2 => e.first_name.sent(&value, ok),
                    3 => e.last_name.sent(&value, ok),
                    4 => e.email_verified |= ok,
                    5 => e.phone_verified |= ok,
                    6 if ok => e.logged_in_since = Some(sent_at),
                    7 => e.deactivated |= ok,
                    8 => {
                        e.deleted = Some(ok || e.deleted == Some(true));
                        if ok {
                            live.retain(|l| *l != id);
                        }
                    }
                    _ => {}
                }
                ok
            }
        };
        acked_writes += usize::from(acknowledged);
    }
    (expected, created_emails, acked_writes)
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL; run with `make chaos`"]
async fn repeated_crashes_under_every_kind_of_write_lose_no_acknowledged_write() {
    let pg = PrivatePostgres::start();
    let service = Service::start(&pg.url, UNTHROTTLED).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    assert!(
        eventually(Duration::from_secs(20), async || service
            .health(&client)
            .await
            == Some(200))
        .await
    );

    let stop = Arc::new(AtomicBool::new(false));
    let writers = (0..WRITERS).map(|w| {
        let (service, client, stop) = (&service, &client, stop.clone());
        async move { writer(w, service, client, &stop).await }
    });
    let chaos = async {
        for _ in 0..CRASHES {
            tokio::time::sleep(Duration::from_secs(2)).await;
            pg.crash();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            pg.resume();
        }
        // Writes go on until the service has recovered.
        assert!(
            eventually(Duration::from_secs(30), async || service
                .health(&client)
                .await
                == Some(200))
            .await
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::Relaxed);
    };
    let (results, ()) = tokio::join!(join_all(writers), chaos);

    let (db, connection) = tokio_postgres::connect(&pg.url, NoTls).await.unwrap();
    let driver = tokio::spawn(connection);
    let mut acknowledged = 0;
    let mut checked = 0;
    for (expected, emails, acked) in results {
        acknowledged += acked;
        for email in emails {
            let n: i64 = db
                .query_one("SELECT count(*) FROM customers WHERE email = $1", &[&email])
                .await
                .unwrap()
                .get(0);
            // A customer created and then hard-deleted is checked below by id.
            assert!(n <= 1, "{email} stored twice");
        }
        for (id, e) in expected {
            checked += 1;
            let row = db
                .query_opt(
                    "SELECT first_name, last_name, email_verified, phone_verified, \
                            extract(epoch FROM last_login_at)::float8, is_active \
                     FROM customers WHERE customer_id = $1",
                    &[&id],
                )
                .await
                .unwrap();
            let Some(row) = row else {
                assert!(
                    e.deleted.is_some(),
                    "{id}: acknowledged as created, never deleted, but missing"
                );
                continue;
            };
            assert_ne!(
                e.deleted,
                Some(true),
                "{id}: hard delete acknowledged, row still there"
            );
            let first: String = row.get(0);
            let last: String = row.get(1);
            assert!(
                e.first_name.allows(&first),
                "{id}: first_name {first:?}, expected {:?}",
                e.first_name
            );
            assert!(
                e.last_name.allows(&last),
                "{id}: last_name {last:?}, expected {:?}",
                e.last_name
            );
            assert!(
                !e.email_verified || row.get::<_, bool>(2),
                "{id}: email verification lost"
            );
            assert!(
                !e.phone_verified || row.get::<_, bool>(3),
                "{id}: phone verification lost"
            );
            if let Some(since) = e.logged_in_since {
                let at: Option<f64> = row.get(4);
                assert!(
                    at.is_some_and(|at| at >= since - 1.0),
                    "{id}: login acknowledged at {since}, stored {at:?}"
                );
            }
            assert!(
                !e.deactivated || !row.get::<_, bool>(5),
                "{id}: soft delete lost"
            );
        }
    }
    driver.abort();
    eprintln!(
        "{acknowledged} acknowledged writes on {checked} customers survived {CRASHES} crashes"
    );
    assert!(
        acknowledged > 100,
        "only {acknowledged} writes were acknowledged"
    );
}
