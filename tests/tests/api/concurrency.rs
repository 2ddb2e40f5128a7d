//! Truly concurrent requests against one server and one database.

use std::collections::HashSet;

use futures::future::join_all;
use serde_json::json;

use std::sync::atomic::Ordering;

use crate::helpers::{TestApp, customer, metrics_text, spawn_app_with};

/// The app with a pool wait long enough for every one of a burst of requests to get one of
/// the test settings' four connections on a loaded two-core machine (the 1 s of the test
/// settings fails outages fast; these tests are about races, not outages).
async fn spawn_patient_app() -> TestApp {
    spawn_app_with(&[("APP__DATABASE__WAIT_TIMEOUT_MS", "10000")]).await
}

#[tokio::test]
async fn thirty_two_simultaneous_john_does_all_get_distinct_usernames() {
    let app = spawn_patient_app().await;
    let app = &app;
    let requests = (0..32).map(|i| async move {
        app.post(
            "/",
            &customer("John", "Doe", &format!("john{i}@example.com")),
        )
        .await
    });
    let results = join_all(requests).await;
    let mut usernames = HashSet::new();
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
        usernames.insert(body["username"].as_str().unwrap().to_owned());
    }
    assert_eq!(usernames.len(), 32);
}

#[tokio::test]
async fn sixteen_simultaneous_creates_with_one_email_make_exactly_one_customer() {
    let app = spawn_patient_app().await;
    let app = &app;
    let requests = (0..16).map(|i| async move {
        let email = if i % 2 == 0 {
            "same@example.com"
        } else {
            "SAME@example.com"
        };
        app.post(
            "/",
            &json!({"first_name": "Ann", "last_name": "Lee", "email": email}),
        )
        .await
    });
    let results = join_all(requests).await;
    let created = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(body["detail"], "Customer with this email already exists");
    }
}

#[tokio::test]
async fn two_concurrent_updates_to_one_email_let_one_win_and_the_other_get_400() {
    let app = spawn_patient_app().await;
    let a = app.create(&customer("Ann", "Lee", "ann@example.com")).await;
    let b = app.create(&customer("Bob", "Lee", "bob@example.com")).await;
    let body = json!({"email": "shared@example.com"});
    let (pa, pb) = (
        format!("/{}", a["customer_id"].as_str().unwrap()),
        format!("/{}", b["customer_id"].as_str().unwrap()),
    );
    let (ra, rb) = tokio::join!(app.put(&pa, &body), app.put(&pb, &body));
    let mut statuses = [ra.0, rb.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "{ra:?} {rb:?}");
}

/// Creates and overviews at once, with the overview's coalescing on (as deployed) and off:
/// every overview counts at least every create acknowledged before it was asked, although
/// under this load most overviews share a computation with others.
#[tokio::test]
async fn every_overview_counts_every_create_acknowledged_before_it_was_asked() {
    for coalesce in ["true", "false"] {
        let app = spawn_app_with(&[("APP__STATISTICS__COALESCE", coalesce)]).await;
        let app = &app;
        let acknowledged = &std::sync::atomic::AtomicU64::new(0);
        let done = &std::sync::atomic::AtomicBool::new(false);
        let total = |body: &serde_json::Value| body["total_customers"].as_u64().unwrap();
        let writers = (0..6).map(|w| async move {
            for i in 0..15 {
                let email = format!("w{w}i{i}@example.com");
                let (status, body) = app.post("/", &customer("Ann", "Lee", &email)).await;
                assert_eq!(status, 200, "{body}");
                let before = acknowledged.fetch_add(1, Ordering::SeqCst) + 1;
                let (status, body) = app.get("/statistics/overview").await;
                assert_eq!(status, 200, "{body}");
                assert!(
                    total(&body) >= before,
                    "coalesce={coalesce}: {} customers counted after {before} were created",
                    total(&body)
                );
            }
        });
        // Readers keep a computation running nearly all the time, so the writers' overviews
        // arrive while one is in flight.
        let readers = (0..6).map(|_| async move {
            while !done.load(Ordering::SeqCst) {
                let before = acknowledged.load(Ordering::SeqCst);
                let (status, body) = app.get("/statistics/overview").await;
                assert_eq!(status, 200, "{body}");
                assert!(total(&body) >= before, "coalesce={coalesce}");
            }
        });
        let writers = async {
            join_all(writers).await;
            done.store(true, Ordering::SeqCst);
        };
        futures::join!(writers, join_all(readers));
        let (_, body) = app.get("/statistics/overview").await;
        assert_eq!(total(&body), 90);
    }
}

/// Creates and searches at once, with the search cache on (as deployed) and off (no layer):
/// every search counts every create acknowledged before it was asked, and the last answer
/// is the same either way.
#[tokio::test]
async fn every_search_counts_every_create_acknowledged_before_it_was_asked() {
    let mut answers = Vec::new();
    for cache in ["10000", "0"] {
        let app = spawn_app_with(&[("APP__SEARCH__CACHE_CUSTOMERS", cache)]).await;
        let app = &app;
        let acknowledged = &std::sync::atomic::AtomicU64::new(0);
        let done = &std::sync::atomic::AtomicBool::new(false);
        let search =
            &json!({"query": "lee", "sort_by": "email", "sort_order": "asc", "limit": 100});
        let total = |body: &serde_json::Value| body["total"].as_u64().unwrap();
        let writers = (0..4).map(|w| async move {
            for i in 0..10 {
                let email = format!("w{w}i{i}@example.com");
                let (status, body) = app.post("/", &customer("Ann", "Lee", &email)).await;
                assert_eq!(status, 200, "{body}");
                let before = acknowledged.fetch_add(1, Ordering::SeqCst) + 1;
                let (status, body) = app.post("/search", search).await;
                assert_eq!(status, 200, "{body}");
                assert!(
                    total(&body) >= before,
                    "cache={cache}: {body} after {before}"
                );
            }
        });
        let readers = (0..4).map(|_| async move {
            while !done.load(Ordering::SeqCst) {
                let before = acknowledged.load(Ordering::SeqCst);
                let (status, body) = app.post("/search", search).await;
                assert_eq!(status, 200, "{body}");
                assert!(total(&body) >= before, "cache={cache}");
            }
        });
        let writers = async {
            join_all(writers).await;
            done.store(true, Ordering::SeqCst);
        };
        futures::join!(writers, join_all(readers));
        let (_, body) = app.post("/search", search).await;
        assert_eq!(total(&body), 40);
        let emails: Vec<String> = body["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["email"].as_str().unwrap().to_owned())
            .collect();
        answers.push(emails);
        let metrics = metrics_text(&app.client, &app.base).await;
        assert!(metrics.contains("search_cache_misses_total"), "{metrics}");
        if cache == "0" {
            assert!(metrics.contains("search_cache_hits_total 0"), "{metrics}");
        }
    }
    assert_eq!(answers[0], answers[1]);
}
