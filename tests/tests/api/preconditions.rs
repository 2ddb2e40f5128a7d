//! Versions, ETags and preconditions end to end: every write that changes a customer makes
//! a new version, its strong ETag is `"<version>"`, `If-Match` turns a lost update into a
//! 412 and `If-None-Match` a repeated read into a 304.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, spawn_app, spawn_app_with};

const CHANGED: &str = "The customer has changed since the version given in If-Match";
const REQUIRED: &str = "This write requires an If-Match header: GET the customer and send its ETag, e.g. If-Match: \"3\"";

/// The strong entity tag of a version.
fn tag(version: u64) -> String {
    format!("\"{version}\"")
}

/// Creates a customer with a phone (so both verifications apply) and returns its id.
async fn create(app: &TestApp, email: &str) -> String {
    let created = app
        .create(&json!({
            "first_name": "Ann", "last_name": "Lee", "email": email, "phone": "+1-555-0100",
        }))
        .await;
    created["customer_id"].as_str().unwrap().to_owned()
}

async fn get(app: &TestApp, id: &str) -> Answer {
    Answer::of(app.request(Method::GET, &format!("/{id}"))).await
}

/// The answer carries the ETag of `version`.
fn assert_etag(answer: &Answer, version: u64, what: &str) {
    assert!(
        (200..300).contains(&answer.status),
        "{what}: {}",
        answer.text
    );
    assert_eq!(answer.header("etag"), Some(tag(version).as_str()), "{what}");
}

/// The customer, read back, is at `version`, in its body and its ETag.
async fn assert_stored_version(app: &TestApp, id: &str, version: u64, what: &str) {
    let read = get(app, id).await;
    assert_etag(&read, version, what);
    assert_eq!(read.body["version"], version, "{what}");
}

/// One write to a single customer: method, path after `/{id}`, body.
struct Write {
    method: Method,
    suffix: &'static str,
    body: Option<Value>,
}

/// Every write that `If-Match` applies to, the hard delete last.
fn single_customer_writes() -> Vec<Write> {
    let write = |method, suffix, body| Write {
        method,
        suffix,
        body,
    };
    vec![
        write(Method::PUT, "", Some(json!({"first_name": "Changed"}))),
        write(Method::PATCH, "/verify-email", None),
        write(Method::PATCH, "/verify-phone", None),
        write(Method::PATCH, "/last-login", None),
        write(Method::DELETE, "", None),
        write(Method::DELETE, "/hard", None),
    ]
}

async fn send(app: &TestApp, id: &str, write: &Write, if_match: Option<&str>) -> Answer {
    let mut request = app.request(write.method.clone(), &format!("/{id}{}", write.suffix));
    if let Some(body) = &write.body {
        request = request.json(body);
    }
    if let Some(tags) = if_match {
        request = request.header("if-match", tags);
    }
    Answer::of(request).await
}

fn name(write: &Write) -> String {
    format!("{} /{{id}}{}", write.method, write.suffix)
}

#[tokio::test]
async fn a_new_customer_is_version_1_wherever_it_is_read() {
    let app = spawn_app().await;
    let created = Answer::of(app.request(Method::POST, "/").json(&json!({
        "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
    })))
    .await;
    assert_etag(&created, 1, "create");
    assert_eq!(created.body["version"], 1);
    let id = created.body["customer_id"].as_str().unwrap();
    for path in [
        format!("/{id}"),
        "/username/annlee".to_owned(),
        "/email/ann@example.com".to_owned(),
    ] {
        let read = Answer::of(app.request(Method::GET, &path)).await;
        assert_etag(&read, 1, &path);
        assert_eq!(read.body["version"], 1, "{path}");
    }
}

#[tokio::test]
async fn an_update_makes_version_2() {
    let app = spawn_app().await;
    let id = create(&app, "ann@example.com").await;
    let put = app
        .request(Method::PUT, &format!("/{id}"))
        .json(&json!({"city": "Boston"}));
    let updated = Answer::of(put).await;
    assert_etag(&updated, 2, "update");
    assert_eq!(updated.body["version"], 2);
    assert_stored_version(&app, &id, 2, "after the update").await;
}

#[tokio::test]
async fn a_bulk_update_makes_a_new_version_of_each_customer_it_changes() {
    let app = spawn_app().await;
    let (a, b) = (
        create(&app, "ann@example.com").await,
        create(&app, "bea@example.com").await,
    );
    let (status, report) = app
        .post(
            "/bulk-update",
            &json!({"customer_ids": [a, b], "updates": {"notes": "Bulk"}}),
        )
        .await;
    assert_eq!((status, &report["updated_count"]), (200, &json!(2)));
    assert_stored_version(&app, &a, 2, "first").await;
    assert_stored_version(&app, &b, 2, "second").await;
}

/// Sends the PATCH or DELETE twice: the first makes version 2, the second (changing
/// nothing) keeps it.
async fn assert_one_new_version_for_two_writes(method: Method, suffix: &str) {
    let app = spawn_app().await;
    let id = create(&app, "ann@example.com").await;
    let path = format!("/{id}{suffix}");
    for attempt in ["first", "second"] {
        let answer = Answer::of(app.request(method.clone(), &path)).await;
        assert_eq!(answer.status, 200, "{attempt}: {}", answer.text);
        assert_etag(&answer, 2, &format!("{attempt} {method} {path}"));
    }
    assert_stored_version(&app, &id, 2, &path).await;
}

#[tokio::test]
async fn verifying_an_email_makes_one_new_version_and_verifying_it_again_none() {
    assert_one_new_version_for_two_writes(Method::PATCH, "/verify-email").await;
}

#[tokio::test]
async fn verifying_a_phone_makes_one_new_version_and_verifying_it_again_none() {
    assert_one_new_version_for_two_writes(Method::PATCH, "/verify-phone").await;
}

#[tokio::test]
async fn a_soft_delete_makes_one_new_version_and_a_second_none() {
    assert_one_new_version_for_two_writes(Method::DELETE, "").await;
}

#[tokio::test]
async fn every_login_makes_a_new_version() {
    let app = spawn_app().await;
    let id = create(&app, "ann@example.com").await;
    for version in [2, 3] {
        let answer = Answer::of(app.request(Method::PATCH, &format!("/{id}/last-login"))).await;
        assert_etag(&answer, version, "last login");
    }
    assert_stored_version(&app, &id, 3, "after two logins").await;
}

#[tokio::test]
async fn of_two_concurrent_updates_sent_with_if_match_1_one_wins_and_the_other_gets_412() {
    let app = spawn_app().await;
    let id = create(&app, "ann@example.com").await;
    let update = |first_name: &str| {
        Answer::of(
            app.request(Method::PUT, &format!("/{id}"))
                .header("if-match", "\"1\"")
                .json(&json!({"first_name": first_name})),
        )
    };
    let (left, right) = tokio::join!(update("Left"), update("Right"));
    let (winner, loser) = if left.status == 200 {
        (left, right)
    } else {
        (right, left)
    };
    assert_eq!(
        (winner.status, loser.status),
        (200, 412),
        "{winner:?} {loser:?}"
    );
    assert_etag(&winner, 2, "the winner");
    assert_eq!(winner.body["version"], 2);
    assert_eq!(loser.body["detail"], CHANGED);
    assert_eq!(loser.body["current_version"], 2);
    let stored = get(&app, &id).await;
    assert_eq!(stored.body["first_name"], winner.body["first_name"]);
    assert_eq!(stored.body["version"], 2);
}

#[tokio::test]
async fn a_stale_if_match_on_any_single_customer_write_is_412_and_changes_nothing() {
    let app = spawn_app().await;
    let id = create(&app, "ann@example.com").await;
    let (status, _) = app.put(&format!("/{id}"), &json!({"city": "Boston"})).await;
    assert_eq!(status, 200);
    let before = get(&app, &id).await;
    for write in single_customer_writes() {
        let answer = send(&app, &id, &write, Some("\"1\"")).await;
        assert_eq!(answer.status, 412, "{}: {}", name(&write), answer.text);
        assert_eq!(answer.body["detail"], CHANGED, "{}", name(&write));
        assert_eq!(answer.body["current_version"], 2, "{}", name(&write));
    }
    assert_eq!(get(&app, &id).await.body, before.body);
    let hard = single_customer_writes().pop().unwrap();
    let deleted = send(&app, &id, &hard, Some("\"2\"")).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(deleted.header("etag"), None, "nothing is left to tag");
}

#[tokio::test]
async fn if_match_is_compared_strongly_and_never_hides_a_missing_customer() {
    let app = spawn_app().await;
    let missing = "CUST_00000000";
    for write in single_customer_writes() {
        for tags in ["*", "\"999\""] {
            let answer = send(&app, missing, &write, Some(tags)).await;
            assert_eq!(
                (answer.status, answer.body["detail"].as_str()),
                (404, Some("Customer not found")),
                "{} If-Match: {tags}",
                name(&write)
            );
        }
    }
    let id = create(&app, "ann@example.com").await;
    let put = |tags: &str, city: &str| {
        Answer::of(
            app.request(Method::PUT, &format!("/{id}"))
                .header("if-match", tags)
                .json(&json!({"city": city})),
        )
    };
    let weak = put("W/\"1\"", "Weak").await;
    assert_eq!(
        (weak.status, &weak.body["current_version"]),
        (412, &json!(1)),
        "{}",
        weak.text
    );
    assert_etag(&put("\"7\", \"1\"", "Listed").await, 2, "a list");
    assert_etag(&put("*", "Star").await, 3, "*");
    assert_eq!(get(&app, &id).await.body["city"], "Star");
}

#[tokio::test]
async fn with_if_match_required_a_single_customer_write_without_it_is_428() {
    let app = spawn_app_with(&[("APP__HTTP__REQUIRE_IF_MATCH", "true")]).await;
    let id = create(&app, "ann@example.com").await;
    let (status, report) = app
        .post(
            "/bulk-update",
            &json!({"customer_ids": [id], "updates": {"notes": "Bulk"}}),
        )
        .await;
    assert_eq!(status, 200, "a bulk update needs no If-Match: {report}");
    for write in single_customer_writes() {
        let before = get(&app, &id).await;
        let refused = send(&app, &id, &write, None).await;
        assert_eq!(
            (refused.status, refused.body["detail"].as_str()),
            (428, Some(REQUIRED)),
            "{}: {}",
            name(&write),
            refused.text
        );
        assert_eq!(get(&app, &id).await.body, before.body, "{}", name(&write));
        let current = before.header("etag").unwrap_or("\"missing ETag\"");
        let done = send(&app, &id, &write, Some(current)).await;
        assert_eq!(done.status, 200, "{}: {}", name(&write), done.text);
    }
}

#[tokio::test]
async fn a_read_whose_if_none_match_holds_the_current_tag_is_304_without_a_body() {
    let app = spawn_app().await;
    let id = create(&app, "ann@example.com").await;
    let read = |path: String, tags: &str| {
        Answer::of(
            app.request(Method::GET, &path)
                .header("if-none-match", tags),
        )
    };
    for path in [
        format!("/{id}"),
        "/username/annlee".to_owned(),
        "/email/ann@example.com".to_owned(),
    ] {
        for tags in ["\"1\"", "*", "\"5\", \"1\""] {
            let answer = read(path.clone(), tags).await;
            assert_eq!(answer.status, 304, "{path} If-None-Match: {tags}");
            assert_eq!(answer.header("etag"), Some("\"1\""), "{path} {tags}");
            assert_eq!(answer.text, "", "{path} {tags}");
        }
    }
    let (status, _) = app.put(&format!("/{id}"), &json!({"city": "Boston"})).await;
    assert_eq!(status, 200);
    let fresh = read(format!("/{id}"), "\"1\"").await;
    assert_etag(&fresh, 2, "a stale tag");
    assert_eq!(fresh.body["city"], "Boston");
}

#[tokio::test]
async fn a_bulk_update_leaves_out_customers_whose_expected_version_is_stale() {
    let app = spawn_app().await;
    let (a, b) = (
        create(&app, "ann@example.com").await,
        create(&app, "bea@example.com").await,
    );
    let (status, _) = app.put(&format!("/{b}"), &json!({"city": "Boston"})).await;
    assert_eq!(status, 200);
    let (status, report) = app
        .post(
            "/bulk-update",
            &json!({
                "customer_ids": [a, b],
                "updates": {"notes": "Bulk"},
                "expected_versions": {a.as_str(): 1, b.as_str(): 1},
            }),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({
            "updated_count": 1,
            "failed_updates": [
                {"customer_id": b, "reason": "Version mismatch: current version is 2"},
            ],
            "total_processed": 2,
        })
    );
    let (stored_a, stored_b) = (get(&app, &a).await, get(&app, &b).await);
    assert_eq!(
        (&stored_a.body["notes"], &stored_a.body["version"]),
        (&json!("Bulk"), &json!(2))
    );
    assert_eq!(
        (&stored_b.body["notes"], &stored_b.body["version"]),
        (&json!(null), &json!(2))
    );
}
