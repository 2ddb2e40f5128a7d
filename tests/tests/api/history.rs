//! The change history end to end: each HTTP write path leaves exactly its event, with the
//! caller, the request id and the Idempotency-Key; the timeline and the feed answer as
//! documented (404, 410, 422, long poll); and a follower of the feed that ran beside eight
//! concurrent writers rebuilds every customer exactly as the table holds it.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio_postgres::NoTls;

use crate::helpers::{
    Answer, TestApp, contract_john_doe, customer, follow, spawn_app, spawn_app_with_auth, token,
};

/// `GET base + path` (path from the root), as JSON.
async fn get(app: &TestApp, path: &str) -> Answer {
    Answer::of(app.client.get(format!("{}{path}", app.base))).await
}

#[tokio::test]
async fn each_http_write_leaves_its_event_with_the_caller_the_request_and_the_key() {
    let app = spawn_app_with_auth().await;
    let (writer, admin, reader) = (token("writer"), token("admin"), token("reader"));
    let send = |method: Method, path: &str, bearer: &str, request_id: &str| {
        app.request(method, path)
            .bearer_auth(bearer)
            .header("x-request-id", request_id)
    };
    let created = Answer::of(
        send(Method::POST, "/", &writer, "req-create")
            .header("idempotency-key", "create-1")
            .json(&contract_john_doe()),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let id = created.body["customer_id"].as_str().unwrap().to_owned();
    let one = format!("/{id}");
    let writes = [
        (
            Method::PUT,
            one.clone(),
            Some(json!({"notes": "changed", "city": "Boston"})),
        ),
        (Method::PATCH, format!("{one}/verify-email"), None),
        // Already verified: answered as before, recorded nowhere.
        (Method::PATCH, format!("{one}/verify-email"), None),
        (Method::PATCH, format!("{one}/verify-phone"), None),
        (Method::PATCH, format!("{one}/last-login"), None),
        (
            Method::POST,
            "/bulk-update".to_owned(),
            Some(json!({"customer_ids": [id], "updates": {"marketing_sms": true}})),
        ),
        (Method::DELETE, one.clone(), None),
    ];
    for (n, (method, path, body)) in writes.into_iter().enumerate() {
        let mut request = send(method.clone(), &path, &writer, &format!("req-{n}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = Answer::of(request).await;
        assert_eq!(answer.status, 200, "{method} {path}: {}", answer.text);
    }
    let gone = Answer::of(send(
        Method::DELETE,
        &format!("{one}/hard"),
        &admin,
        "req-hard",
    ))
    .await;
    assert_eq!(gone.status, 200, "{}", gone.text);

    let timeline = Answer::of(
        app.client
            .get(app.url(&format!("{one}/events")))
            .bearer_auth(&reader),
    )
    .await;
    assert_eq!(timeline.status, 200, "{}", timeline.text);
    assert_eq!(timeline.body["customer_id"], id);
    assert_eq!(timeline.body["next_cursor"], Value::Null);
    let events = timeline.body["events"].as_array().unwrap();
    let seen: Vec<(&str, &str, u64)> = events
        .iter()
        .rev()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["request_id"].as_str().unwrap(),
                e["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("created", "req-create", 1),
            ("updated", "req-0", 2),
            ("email_verified", "req-1", 3),
            ("phone_verified", "req-3", 4),
            ("logged_in", "req-4", 5),
            ("bulk_updated", "req-5", 6),
            ("deactivated", "req-6", 7),
            ("deleted", "req-hard", 7),
        ]
    );
    for event in events {
        assert_eq!(event["actor"], "e2e-user", "{event}");
        assert_eq!(event["customer_id"], id);
        assert!(
            event["cursor"].as_str().unwrap().starts_with("f1."),
            "{event}"
        );
    }
    let created_event = events.last().unwrap();
    assert_eq!(created_event["idempotency_key"], "create-1");
    assert_eq!(
        created_event["changes"]["email"],
        json!({"from": null, "to": "john.doe@example.com"})
    );
    // Values as the customer shows them.
    assert_eq!(
        created_event["changes"]["date_of_birth"]["to"],
        created.body["date_of_birth"]
    );
    assert_eq!(
        created_event["changes"]["created_at"]["to"],
        created.body["created_at"]
    );
    assert_eq!(created_event["changes"]["tags"]["to"], created.body["tags"]);
    let updated = &events[events.len() - 2];
    assert_eq!(
        updated["changes"],
        json!({
            "city": {"from": "New York", "to": "Boston"},
            "notes": {"from": "Premium customer", "to": "changed"},
        })
    );
    assert_eq!(updated["idempotency_key"], Value::Null);
    // A reader may read the feed too; without a token, nobody.
    let feed = Answer::of(
        app.client
            .get(format!("{}/api/v1/events?types=deleted", app.base))
            .bearer_auth(&reader),
    )
    .await;
    assert_eq!(feed.status, 200, "{}", feed.text);
    let anonymous = get(&app, "/api/v1/events").await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn the_history_endpoints_answer_404_422_and_410_in_the_services_shape() {
    let app = spawn_app().await;
    let never = get(&app, "/api/v1/customers/CUST_DEADBEEF/events").await;
    assert_eq!(never.status, 404);
    assert_eq!(
        never.body,
        json!({"detail": "Customer not found", "code": "not_found"})
    );
    for (path, loc) in [
        (
            "/api/v1/customers/CUST_DEADBEEF/events?cursor=f1.1.1",
            "cursor",
        ),
        ("/api/v1/customers/CUST_DEADBEEF/events?limit=0", "limit"),
        ("/api/v1/events?after=c1.2a", "after"),
        ("/api/v1/events?types=created,renamed", "types"),
        ("/api/v1/events?wait=31", "wait"),
        ("/api/v1/events?limit=1001", "limit"),
    ] {
        let answer = get(&app, path).await;
        assert_eq!(answer.status, 422, "{path}: {}", answer.text);
        assert_eq!(
            answer.body["detail"][0]["loc"],
            json!(["query", loc]),
            "{path}"
        );
    }
    // Before anything happened: no event, and nowhere to go on from.
    let empty = get(&app, "/api/v1/events").await;
    assert_eq!(empty.body, json!({"events": [], "next_cursor": null}));

    let created = app
        .create(&customer("Ann", "Lee", "ann@feed.example"))
        .await;
    let (events, _) = follow(&app, None, |seen| !seen.is_empty()).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["customer_id"], created["customer_id"]);
    let cursor = events[0]["cursor"].as_str().unwrap().to_owned();
    // Going on from the last event: nothing new, and the same place to go on from.
    let after = get(&app, &format!("/api/v1/events?after={cursor}")).await;
    assert_eq!(after.body, json!({"events": [], "next_cursor": cursor}));

    // Retention removed events past a cursor: 410, saying how to start over.
    let (client, connection) = tokio_postgres::connect(&app.db_url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "INSERT INTO customer_events_purged (xid, id) VALUES ('9999999', 9999999)",
            &[],
        )
        .await
        .unwrap();
    let expired = get(&app, &format!("/api/v1/events?after={cursor}")).await;
    assert_eq!(expired.status, 410, "{}", expired.text);
    assert_eq!(expired.body["code"], "cursor_expired");
    assert!(
        expired.body["detail"]
            .as_str()
            .unwrap()
            .contains("without `after`"),
        "{}",
        expired.text
    );
    assert_eq!(get(&app, "/api/v1/events").await.status, 200);
}

#[tokio::test]
async fn a_long_poll_answers_as_soon_as_an_event_is_visible_and_empty_when_the_wait_is_over() {
    let app = Arc::new(spawn_app().await);
    let started = Instant::now();
    let empty = get(&app, "/api/v1/events?wait=1").await;
    let waited = started.elapsed();
    assert_eq!(empty.body["events"], json!([]));
    assert!(waited >= Duration::from_millis(900), "{waited:?}");

    let poller = {
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let started = Instant::now();
            let page = get(&app, "/api/v1/events?wait=30").await;
            (started.elapsed(), page)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let created = app
        .create(&customer("Ann", "Lee", "ann@poll.example"))
        .await;
    let (waited, page) = poller.await.unwrap();
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        page.body["events"][0]["customer_id"],
        created["customer_id"]
    );
    // Answered on the write, not at the end of the wait (other tests' transactions on the
    // same server may hold the event back a little).
    assert!(waited < Duration::from_secs(20), "{waited:?}");
}

/// Tiny deterministic generator, one per writer.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// One random write of writer `w`, step `n`.
async fn random_write(app: &TestApp, ids: &Mutex<Vec<String>>, rng: &mut Lcg, w: usize, n: usize) {
    let pick = |rng: &mut Lcg| {
        let ids = ids.lock().unwrap();
        (!ids.is_empty()).then(|| ids[rng.below(ids.len())].clone())
    };
    let choice = rng.below(10);
    let target = pick(rng);
    let (method, path, body) = match (choice, target) {
        (0, _) | (_, None) => {
            let created = app
                .create(&customer(
                    "Con",
                    "Current",
                    &format!("w{w}n{n}@race.example"),
                ))
                .await;
            ids.lock()
                .unwrap()
                .push(created["customer_id"].as_str().unwrap().to_owned());
            return;
        }
        (1 | 2, Some(id)) => {
            let city = ["Oslo", "Lima", "Pune"][rng.below(3)];
            let tags = &["a", "b"][..rng.below(3)];
            let born = if rng.below(2) == 0 {
                Value::Null
            } else {
                json!("1990-01-15T00:00:00")
            };
            let body = json!({
                "notes": format!("w{w} n{n}"),
                "city": city,
                "tags": tags,
                "date_of_birth": born,
            });
            (Method::PUT, format!("/{id}"), Some(body))
        }
        (3, Some(id)) => (Method::PATCH, format!("/{id}/verify-email"), None),
        (4, Some(id)) => (Method::PATCH, format!("/{id}/verify-phone"), None),
        (5, Some(id)) => (Method::PATCH, format!("/{id}/last-login"), None),
        (6, Some(id)) => (Method::DELETE, format!("/{id}"), None),
        (7, Some(id)) => (Method::DELETE, format!("/{id}/hard"), None),
        (_, Some(id)) => {
            let mut targets = vec![id];
            targets.extend((0..2).filter_map(|_| pick(rng)));
            let body = json!({
                "customer_ids": targets,
                "updates": {"marketing_sms": rng.below(2) == 0, "country": "Peru"},
            });
            (Method::POST, "/bulk-update".to_owned(), Some(body))
        }
    };
    let mut request = app.request(method.clone(), &path);
    if let Some(body) = &body {
        request = request.json(body);
    }
    let answer = Answer::of(request).await;
    // A customer deleted for good by another writer meanwhile is a 404; nothing else fails.
    assert!(
        answer.status == 200 || answer.status == 404,
        "{method} {path}: {} {}",
        answer.status,
        answer.text
    );
}

#[tokio::test]
async fn a_follower_of_the_feed_rebuilds_every_customer_beside_eight_concurrent_writers() {
    const WRITERS: usize = 8;
    const WRITES: usize = 500;
    let app = Arc::new(spawn_app().await);
    let ids = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(Mutex::new(None::<String>));
    let follower = {
        let (app, done) = (Arc::clone(&app), Arc::clone(&done));
        tokio::spawn(async move {
            follow(&app, None, |seen| {
                let marker = done.lock().unwrap().clone();
                marker.is_some_and(|m| seen.iter().any(|e| e["customer_id"] == m.as_str()))
            })
            .await
            .0
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (app, ids) = (Arc::clone(&app), Arc::clone(&ids));
            tokio::spawn(async move {
                let mut rng = Lcg(w as u64 + 1);
                for n in 0..WRITES {
                    random_write(&app, &ids, &mut rng, w, n).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    // Begun after every write above was answered (so committed): once the follower has its
    // event, it has every earlier one.
    let marker = app
        .create(&customer("Mark", "Er", "marker@race.example"))
        .await;
    *done.lock().unwrap() = Some(marker["customer_id"].as_str().unwrap().to_owned());
    let events = follower.await.unwrap();

    // Exactly once each, and in each customer's order: versions 1, 2, 3, ... without a
    // gap (every change moves the version by one), a deletion repeating the last.
    let mut unique = HashSet::new();
    let mut rebuilt: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    for event in &events {
        assert!(
            unique.insert(event["id"].as_i64().unwrap()),
            "twice: {event}"
        );
        let id = event["customer_id"].as_str().unwrap().to_owned();
        let version = event["version"].as_u64().unwrap();
        let last = versions.get(&id).copied().unwrap_or(0);
        if event["type"] == "deleted" {
            assert_eq!(version, last, "{event}");
            rebuilt.remove(&id);
            continue;
        }
        assert_eq!(version, last + 1, "a gap or a reordering before {event}");
        versions.insert(id.clone(), version);
        let fields = rebuilt.entry(id).or_default();
        for (field, change) in event["changes"].as_object().unwrap() {
            fields.insert(field.clone(), change["to"].clone());
        }
    }
    let mut table: BTreeMap<String, Value> = BTreeMap::new();
    let mut skip = 0;
    loop {
        let (status, page) = app.get(&format!("/?skip={skip}&limit=1000")).await;
        assert_eq!(status, 200);
        let customers = page["customers"].as_array().unwrap();
        for c in customers {
            table.insert(c["customer_id"].as_str().unwrap().to_owned(), c.clone());
        }
        if customers.len() < 1000 {
            break;
        }
        skip += 1000;
    }
    assert_eq!(
        rebuilt.keys().collect::<Vec<_>>(),
        table.keys().collect::<Vec<_>>(),
        "the customers that exist"
    );
    let derived = ["id", "version", "updated_at", "full_name", "full_address"];
    for (id, stored) in &table {
        let fields = &rebuilt[id];
        assert_eq!(
            stored["version"].as_u64(),
            versions.get(id).copied(),
            "{id}"
        );
        for (field, value) in stored.as_object().unwrap() {
            if derived.contains(&field.as_str()) {
                continue;
            }
            assert_eq!(
                fields.get(field).unwrap_or(&Value::Null),
                value,
                "{id}.{field}: rebuilt from the feed vs stored"
            );
        }
    }
    assert!(
        events.len() > WRITERS * WRITES / 2,
        "{} events",
        events.len()
    );
}
