//! Races across two service processes sharing one database: uniqueness holds because the
//! database decides it, not one process's memory.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod balanced;
mod browser;
mod cluster_smoke;
#[path = "../common/mod.rs"]
mod common;
mod db_script;
mod erasure;
mod replicas;
mod shared_limit;
mod statistics;

use std::collections::HashSet;

use common::Service;
use futures::future::join_all;
use test_db::TestDatabase;

#[tokio::test]
async fn thirty_two_john_does_across_two_processes_get_distinct_usernames() {
    let db = TestDatabase::new().await;
    let (a, b) = (
        Service::start(db.url(), &[]).await,
        Service::start(db.url(), &[]).await,
    );
    let client = reqwest::Client::new();
    let results = join_all((0..32).map(|i| {
        let (service, client) = (if i % 2 == 0 { &a } else { &b }, &client);
        async move {
            service
                .create(client, "John", &format!("john{i}@example.com"))
                .await
        }
    }))
    .await;
    let mut usernames = HashSet::new();
    for result in results {
        let (status, body) = result.expect("an answer");
        assert_eq!(status, 200, "{body}");
        usernames.insert(body["username"].as_str().unwrap().to_owned());
    }
    assert_eq!(usernames.len(), 32);
}

#[tokio::test]
async fn sixteen_creates_of_one_email_across_two_processes_make_one_customer() {
    let db = TestDatabase::new().await;
    let (a, b) = (
        Service::start(db.url(), &[]).await,
        Service::start(db.url(), &[]).await,
    );
    let client = reqwest::Client::new();
    let results = join_all((0..16).map(|i| {
        let (service, client) = (if i % 2 == 0 { &a } else { &b }, &client);
        let email = if i % 4 < 2 {
            "same@example.com"
        } else {
            "SAME@Example.com"
        };
        async move { service.create(client, "Ann", email).await }
    }))
    .await;
    let statuses: Vec<u16> = results
        .iter()
        .map(|r| r.as_ref().expect("an answer").0)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for (status, body) in results.into_iter().flatten().filter(|(s, _)| *s != 200) {
        assert_eq!(status, 400);
        assert_eq!(body["detail"], "Customer with this email already exists");
    }
}

#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_0() {
    let db = TestDatabase::new().await;
    let mut service = Service::start(db.url(), &[]).await;
    let client = reqwest::Client::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers = (0..8).map(|w| {
        let (service, client, stop) = (&service, &client, stop.clone());
        async move {
            let mut answers = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                // `None` is a refused or closed connection: fine once shutdown began.
                answers.push(
                    service
                        .create(client, "Ann", &format!("w{w}-{i}@example.com"))
                        .await
                        .map(|(s, _)| s),
                );
                if answers.last().is_some_and(Option::is_none) {
                    break;
                }
            }
            answers
        }
    });
    let load = join_all(workers);
    let terminate = async {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        service.terminate();
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let (answers, ()) = tokio::join!(load, terminate);
    let answers: Vec<Option<u16>> = answers.into_iter().flatten().collect();
    let ok = answers.iter().filter(|a| **a == Some(200)).count();
    assert!(ok > 0, "some requests were served before the signal");
    assert!(
        answers.iter().all(|a| matches!(a, None | Some(200))),
        "every answered request succeeded: {:?}",
        answers
            .iter()
            .filter(|a| !matches!(a, None | Some(200)))
            .collect::<Vec<_>>()
    );
    let status = service.wait(std::time::Duration::from_secs(40)).await;
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn no_personal_data_reaches_the_logs_at_any_level() {
    let db = TestDatabase::new().await;
    let log = std::env::temp_dir().join(format!("customer-api-pii-{}.log", std::process::id()));
    let mut service = Service::start_logging_to(db.url(), &[("RUST_LOG", "trace")], &log).await;
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/customers", service.base);
    let body = serde_json::json!({
        "first_name": "Zebulon", "last_name": "Quixotic", "email": "zebulon.secret@example.com",
        "phone": "+1-555-0199", "city": "Springfield", "notes": "confidential-note"
    });
    let created: serde_json::Value = client
        .post(format!("{base}/"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["customer_id"].as_str().unwrap().to_owned();
    client
        .post(format!("{base}/"))
        .json(&body)
        .send()
        .await
        .unwrap(); // 400 duplicate
    client
        .get(format!("{base}/email/zebulon.secret@example.com"))
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/username/zebulonquixotic"))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/search"))
        .json(&serde_json::json!({"query": "Zebulon", "email": "zebulon.secret"}))
        .send()
        .await
        .unwrap();
    client
        .put(format!("{base}/{id}"))
        .json(&serde_json::json!({"phone": "not a phone zebulon.secret@example.com"}))
        .send()
        .await
        .unwrap();
    service.terminate();
    service.wait(std::time::Duration::from_secs(30)).await;
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(logs.contains("request finished"), "the log was captured");
    // tokio-postgres prints bound parameters with each statement at debug level.
    assert!(
        !logs.contains("executing statement"),
        "statement parameters were logged"
    );
    for secret in [
        "zebulon",
        "Zebulon",
        "Quixotic",
        "555-0199",
        "confidential-note",
        "Springfield",
    ] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}
