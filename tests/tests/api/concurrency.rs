//! Truly concurrent requests against one server and one database.

use std::collections::HashSet;

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{customer, spawn_app};

#[tokio::test]
async fn thirty_two_simultaneous_john_does_all_get_distinct_usernames() {
    let app = spawn_app().await;
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
        assert_eq!(*status, 201, "{body}");
        usernames.insert(body["username"].as_str().unwrap().to_owned());
    }
    assert_eq!(usernames.len(), 32);
}

#[tokio::test]
async fn sixteen_simultaneous_creates_with_one_email_make_exactly_one_customer() {
    let app = spawn_app().await;
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
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(body["detail"], "Customer with this email already exists");
    }
}

#[tokio::test]
async fn two_concurrent_updates_to_one_email_let_one_win_and_the_other_get_400() {
    let app = spawn_app().await;
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
