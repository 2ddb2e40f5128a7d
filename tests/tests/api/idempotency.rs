//! Idempotency keys end to end: a write sent again with the same `Idempotency-Key` gets the
//! first answer back, marked `Idempotent-Replayed: true`, and changes nothing, whether the
//! twins run one after the other or at once and whether or not the client saw the first
//! answer.

use std::path::PathBuf;
use std::time::Duration;

use customer_api::settings::{AppEnv, Settings};
use futures::future::join_all;
use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_postgres::NoTls;

use crate::helpers::{
    Answer, TestApp, customer, spawn_app, spawn_app_reading_queries, spawn_app_with,
};

const KEY: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";
const INVALID_KEY: &str =
    "Idempotency-Key must be 1 to 255 printable ASCII characters, optionally in double quotes";
const REUSED: &str = "Idempotency-Key was already used for a different request";
const IN_PROGRESS: &str = "A request with this Idempotency-Key is still in progress; retry later";

/// Sends `method path` with this key and, when given, this JSON body.
async fn keyed(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> Answer {
    let mut request = app.request(method, path).header(KEY, key);
    if let Some(body) = body {
        request = request.json(body);
    }
    Answer::of(request).await
}

/// `again` is `first` replayed: same status, body and representation headers, marked as a
/// replay, while `first` was not.
fn assert_replay(first: &Answer, again: &Answer, what: &str) {
    assert_eq!(first.header(REPLAYED), None, "{what}: the first answer");
    assert_eq!(
        again.header(REPLAYED),
        Some("true"),
        "{what}: {} {}",
        again.status,
        again.text
    );
    assert_eq!(
        (again.status, &again.body),
        (first.status, &first.body),
        "{what}"
    );
    for name in ["content-type", "etag", "location"] {
        assert_eq!(again.header(name), first.header(name), "{what}: {name}");
    }
}

fn assert_in_progress(answer: &Answer) {
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.body["detail"], IN_PROGRESS);
    assert_eq!(answer.header("retry-after"), Some("1"));
}

/// The ids of the stored customers with this email, read from the database directly.
async fn customer_ids_with_email(app: &TestApp, email: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(&app.db_url, NoTls)
        .await
        .expect("direct connection");
    let driver = tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT customer_id FROM customers WHERE lower(email) = lower($1) ORDER BY id",
            &[&email],
        )
        .await
        .expect("query");
    driver.abort();
    rows.iter().map(|row| row.get(0)).collect()
}

/// Creates a customer with a phone (so both verifications apply) and returns its id.
async fn create_with_phone(app: &TestApp, email: &str) -> String {
    let created = app
        .create(&json!({
            "first_name": "Ann", "last_name": "Lee", "email": email, "phone": "+1-555-0100",
        }))
        .await;
    created["customer_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sixteen_concurrent_creates_with_one_key_make_one_customer_and_one_answer() {
    let app = spawn_app().await;
    let app = &app;
    let body = &customer("Ann", "Lee", "ann@example.com");
    let answers =
        join_all((0..16).map(|_| keyed(app, Method::POST, "/", "create-ann", Some(body)))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let originals: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == 200 && a.header(REPLAYED).is_none())
        .collect();
    assert_eq!(originals.len(), 1, "one create ran: {statuses:?}");
    let first = originals[0];
    for answer in &answers {
        match answer.status {
            200 if answer.header(REPLAYED).is_some() => assert_replay(first, answer, "a twin"),
            200 => {}
            409 => assert_in_progress(answer),
            other => panic!("{other}: {}", answer.text),
        }
    }
    assert_eq!(
        customer_ids_with_email(app, "ann@example.com").await,
        [first.body["customer_id"].as_str().unwrap()]
    );
    let again = keyed(app, Method::POST, "/", "create-ann", Some(body)).await;
    assert_replay(first, &again, "the retry after all finished");
}

#[tokio::test]
async fn waiting_for_the_running_twin_answers_eight_concurrent_creates_all_with_201() {
    let app = spawn_app_with(&[("APP__IDEMPOTENCY__WAIT_FOR_RUNNING", "true")]).await;
    let app = &app;
    let body = &customer("Ann", "Lee", "ann@example.com");
    let answers =
        join_all((0..8).map(|_| keyed(app, Method::POST, "/", "create-ann", Some(body)))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200; 8], "{answers:?}");
    let (originals, replays): (Vec<&Answer>, Vec<&Answer>) =
        answers.iter().partition(|a| a.header(REPLAYED).is_none());
    assert_eq!(originals.len(), 1, "one create ran: {answers:?}");
    for replay in replays {
        assert_replay(originals[0], replay, "a twin that waited");
    }
    assert_eq!(
        customer_ids_with_email(app, "ann@example.com").await.len(),
        1
    );
}

/// Writes a whole create request with this key on a fresh connection and closes it before
/// a byte of the answer is read. The server still runs the request (actix lets a request
/// whose client half-closed finish); its answer goes nowhere.
async fn create_and_hang_up(app: &TestApp, key: &str, body: &Value) {
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let body = body.to_string();
    let request = format!(
        "POST /api/v1/customers/ HTTP/1.1\r\nhost: {address}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n{KEY}: {key}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    drop(stream);
}

#[tokio::test]
async fn a_create_whose_answer_never_reached_the_client_is_replayed_on_retry() {
    let app = spawn_app().await;
    let body = customer("Ann", "Lee", "lost@example.com");
    create_and_hang_up(&app, "lost-answer", &body).await;
    let mut stored = Vec::new();
    for _ in 0..200 {
        stored = customer_ids_with_email(&app, "lost@example.com").await;
        if !stored.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stored.len(), 1, "the abandoned create was stored");

    // The customer is stored with the key's record, in the transaction that held the key:
    // once it is seen, the key is free and the retry gets the record.
    let retry = keyed(&app, Method::POST, "/", "lost-answer", Some(&body)).await;
    assert_eq!(retry.status, 200, "{}", retry.text);
    assert_eq!(retry.header(REPLAYED), Some("true"));
    assert_eq!(retry.body["customer_id"], stored[0].as_str());
    assert_eq!(
        customer_ids_with_email(&app, "lost@example.com").await,
        stored
    );
}

/// Keys sent again the moment their last answer arrived, alternately with the same body (a
/// replay) and another one (422), while every `ROLLBACK` takes 150 ms to reach the database
/// (as on a busy server, or one more hop away behind a pooler): none of those answers may
/// be 409, since a key is free once an answer is out. A replay or a 422 used to leave its
/// transaction to roll back on another task after answering, so that the next request
/// found the key still taken: every time here, and about one run in four of this file
/// through PgBouncer without the delay.
#[tokio::test]
async fn a_key_sent_again_the_moment_its_last_answer_arrived_is_never_in_use() {
    // Fewer keys at once than the test settings' four connections: each keyed request
    // holds one for its transaction.
    const KEYS: usize = 3;
    const REPEATS: usize = 4;
    let (app, proxy) = spawn_app_reading_queries().await;
    proxy.hold_rollbacks(Duration::from_millis(150));
    let app = &app;
    let rounds = join_all((0..KEYS).map(|n| async move {
        let key = format!("at-once-{n}");
        let body = customer("Ann", "Lee", &format!("ann{n}@example.com"));
        let other = customer("Bob", "Lee", &format!("bob{n}@example.com"));
        let first = keyed(app, Method::POST, "/", &key, Some(&body)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let mut seen = Vec::new();
        for repeat in 0..REPEATS {
            let sent = if repeat % 2 == 0 { &body } else { &other };
            let again = keyed(app, Method::POST, "/", &key, Some(sent)).await;
            seen.push((again.status, again.header(REPLAYED).map(str::to_owned)));
        }
        seen
    }))
    .await;
    let expected: Vec<(u16, Option<String>)> = (0..REPEATS)
        .map(|repeat| match repeat % 2 {
            0 => (200, Some("true".to_owned())),
            _ => (422, None),
        })
        .collect();
    for (n, seen) in rounds.iter().enumerate() {
        assert_eq!(seen, &expected, "key at-once-{n}");
    }
    assert!(
        proxy.rollbacks_held() >= KEYS * REPEATS,
        "every repeat ended its transaction with a ROLLBACK: {}",
        proxy.rollbacks_held()
    );
}

#[tokio::test]
async fn a_key_sent_again_with_another_body_or_path_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let first = keyed(
        &app,
        Method::POST,
        "/",
        "k1",
        Some(&customer("Ann", "Lee", "ann@example.com")),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let id = first.body["customer_id"].as_str().unwrap();
    for other in [
        customer("Bob", "Lee", "ann@example.com"),
        customer("Ann", "Lee", "other@example.com"),
    ] {
        let again = keyed(&app, Method::POST, "/", "k1", Some(&other)).await;
        assert_eq!(
            (again.status, again.body["detail"].as_str()),
            (422, Some(REUSED)),
            "{other}: {}",
            again.text
        );
    }
    assert_eq!(app.get(&format!("/{id}")).await, (200, first.body.clone()));
    assert!(
        customer_ids_with_email(&app, "other@example.com")
            .await
            .is_empty()
    );

    // One route, two customers: the path is part of what the key stands for.
    let other = create_with_phone(&app, "bob@example.com").await;
    let change = json!({"city": "Boston"});
    let put = keyed(&app, Method::PUT, &format!("/{id}"), "k2", Some(&change)).await;
    assert_eq!(put.status, 200, "{}", put.text);
    let elsewhere = keyed(&app, Method::PUT, &format!("/{other}"), "k2", Some(&change)).await;
    assert_eq!(
        (elsewhere.status, elsewhere.body["detail"].as_str()),
        (422, Some(REUSED)),
        "{}",
        elsewhere.text
    );
    assert_eq!(app.get(&format!("/{other}")).await.1["city"], json!(null));
}

#[tokio::test]
async fn a_replay_ignores_the_order_of_the_bodys_keys_and_its_whitespace() {
    let app = spawn_app().await;
    let send = |body: &'static str| {
        Answer::of(
            app.request(Method::POST, "/")
                .header(KEY, "reordered")
                .header("content-type", "application/json")
                .body(body),
        )
    };
    let first = send(r#"{"first_name":"Ann","last_name":"Lee","email":"ann@example.com"}"#).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = send(
        "{ \"email\": \"ann@example.com\",\n \"last_name\": \"Lee\", \"first_name\": \"Ann\" }",
    )
    .await;
    assert_replay(&first, &again, "the same body, reordered");
}

#[tokio::test]
async fn one_key_on_two_routes_stands_for_two_requests() {
    let app = spawn_app().await;
    let body = customer("Ann", "Lee", "ann@example.com");
    let created = keyed(&app, Method::POST, "/", "shared", Some(&body)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let path = format!("/{}", created.body["customer_id"].as_str().unwrap());
    let change = json!({"first_name": "Changed"});
    let updated = keyed(&app, Method::PUT, &path, "shared", Some(&change)).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.header(REPLAYED), None);
    assert_eq!(updated.body["first_name"], "Changed");
    // Each route keeps its own first answer.
    let again = keyed(&app, Method::PUT, &path, "shared", Some(&change)).await;
    assert_replay(&updated, &again, "the update");
    let again = keyed(&app, Method::POST, "/", "shared", Some(&body)).await;
    assert_replay(&created, &again, "the create");
}

const SECRET: &str = "e2e-secret-0123456789abcdef-0123456789";

/// A writer's token for `subject`, as `customer-api token --role writer` mints it.
fn writer_token(subject: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let vars = vec![("APP__AUTH__HS256_SECRET".to_owned(), SECRET.to_owned())];
    let settings = Settings::load_from(&dir, AppEnv::Test, &vars).unwrap();
    customer_api::token::mint(&settings.auth, "writer".parse().unwrap(), subject, None).unwrap()
}

#[tokio::test]
async fn two_subjects_using_one_key_each_get_their_own_request_run() {
    let app = spawn_app_with(&[
        ("APP__AUTH__ENABLED", "true"),
        ("APP__AUTH__HS256_SECRET", SECRET),
    ])
    .await;
    let (alice, bob) = (writer_token("alice"), writer_token("bob"));
    let send = |token: &str, body: &Value| {
        Answer::of(
            app.request(Method::POST, "/")
                .bearer_auth(token)
                .header(KEY, "same-key")
                .json(body),
        )
    };
    let (ann, bea) = (
        customer("Ann", "Lee", "ann@example.com"),
        customer("Bea", "Kim", "bea@example.com"),
    );
    let by_alice = send(&alice, &ann).await;
    assert_eq!(by_alice.status, 200, "{}", by_alice.text);
    let by_bob = send(&bob, &bea).await;
    assert_eq!(by_bob.status, 200, "{}", by_bob.text);
    assert_eq!(by_bob.header(REPLAYED), None);
    assert_replay(&by_alice, &send(&alice, &ann).await, "alice's retry");
    assert_replay(&by_bob, &send(&bob, &bea).await, "bob's retry");
    assert_eq!(
        customer_ids_with_email(&app, "ann@example.com").await.len(),
        1
    );
    assert_eq!(
        customer_ids_with_email(&app, "bea@example.com").await.len(),
        1
    );
}

/// Sends a write with a key, changes the customer with a keyless update (`meanwhile`), and
/// sends the write again with the key: the first answer comes back and the customer stays
/// as `meanwhile` left it.
async fn assert_replayed_without_effect(
    app: &TestApp,
    id: &str,
    (method, suffix, body): (Method, &str, Option<Value>),
    meanwhile: &Value,
) {
    let path = format!("/{id}{suffix}");
    let first = keyed(app, method.clone(), &path, "write-1", body.as_ref()).await;
    assert_eq!(first.status, 200, "{path}: {}", first.text);
    let (status, changed) = app.put(&format!("/{id}"), meanwhile).await;
    assert_eq!(status, 200, "{changed}");
    let before = app.get(&format!("/{id}")).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = keyed(app, method, &path, "write-1", body.as_ref()).await;
    assert_replay(&first, &again, &path);
    assert_eq!(app.get(&format!("/{id}")).await, before, "{path}");
}

#[tokio::test]
async fn a_replayed_update_does_not_undo_a_later_change() {
    let app = spawn_app().await;
    let id = create_with_phone(&app, "ann@example.com").await;
    let write = (Method::PUT, "", Some(json!({"first_name": "First"})));
    assert_replayed_without_effect(&app, &id, write, &json!({"first_name": "Between"})).await;
}

#[tokio::test]
async fn a_replayed_bulk_update_does_not_undo_a_later_change() {
    let app = spawn_app().await;
    let id = create_with_phone(&app, "ann@example.com").await;
    let bulk = json!({"customer_ids": [id], "updates": {"notes": "Bulk"}});
    let first = keyed(&app, Method::POST, "/bulk-update", "bulk-1", Some(&bulk)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["updated_count"], 1);
    let (status, _) = app
        .put(&format!("/{id}"), &json!({"notes": "Between"}))
        .await;
    assert_eq!(status, 200);
    let before = app.get(&format!("/{id}")).await;
    let again = keyed(&app, Method::POST, "/bulk-update", "bulk-1", Some(&bulk)).await;
    assert_replay(&first, &again, "bulk update");
    assert_eq!(app.get(&format!("/{id}")).await, before);
}

#[tokio::test]
async fn a_replayed_email_verification_does_not_verify_again() {
    let app = spawn_app().await;
    let id = create_with_phone(&app, "ann@example.com").await;
    let write = (Method::PATCH, "/verify-email", None);
    assert_replayed_without_effect(&app, &id, write, &json!({"email_verified": false})).await;
}

#[tokio::test]
async fn a_replayed_phone_verification_does_not_verify_again() {
    let app = spawn_app().await;
    let id = create_with_phone(&app, "ann@example.com").await;
    let write = (Method::PATCH, "/verify-phone", None);
    assert_replayed_without_effect(&app, &id, write, &json!({"phone_verified": false})).await;
}

#[tokio::test]
async fn a_replayed_login_keeps_the_recorded_time() {
    let app = spawn_app().await;
    let id = create_with_phone(&app, "ann@example.com").await;
    let write = (Method::PATCH, "/last-login", None);
    assert_replayed_without_effect(&app, &id, write, &json!({"notes": "Between"})).await;
    let (_, stored) = app.get(&format!("/{id}")).await;
    assert!(stored["last_login_at"].is_string(), "{stored}");
}

#[tokio::test]
async fn a_replayed_soft_delete_does_not_deactivate_again() {
    let app = spawn_app().await;
    let id = create_with_phone(&app, "ann@example.com").await;
    let write = (Method::DELETE, "", None);
    assert_replayed_without_effect(&app, &id, write, &json!({"is_active": true})).await;
}

#[tokio::test]
async fn a_replayed_hard_delete_answers_200_again() {
    let app = spawn_app().await;
    let id = create_with_phone(&app, "ann@example.com").await;
    let path = format!("/{id}/hard");
    let first = keyed(&app, Method::DELETE, &path, "hard-1", None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = keyed(&app, Method::DELETE, &path, "hard-1", None).await;
    assert_replay(&first, &again, "hard delete");
    assert_eq!(app.get(&format!("/{id}")).await.0, 404);
}

#[tokio::test]
async fn a_422_and_a_404_are_stored_and_replayed() {
    let app = spawn_app().await;
    let invalid = json!({"first_name": 1, "last_name": "Lee", "email": "ann@example.com"});
    let first = keyed(&app, Method::POST, "/", "invalid-body", Some(&invalid)).await;
    assert_eq!(first.status, 422, "{}", first.text);
    let again = keyed(&app, Method::POST, "/", "invalid-body", Some(&invalid)).await;
    assert_replay(&first, &again, "the 422");

    let change = json!({"city": "Boston"});
    let first = keyed(
        &app,
        Method::PUT,
        "/CUST_00000000",
        "missing",
        Some(&change),
    )
    .await;
    assert_eq!(first.status, 404, "{}", first.text);
    let again = keyed(
        &app,
        Method::PUT,
        "/CUST_00000000",
        "missing",
        Some(&change),
    )
    .await;
    assert_replay(&first, &again, "the 404");
}

#[tokio::test]
async fn a_malformed_key_on_a_write_is_400_and_ignored_elsewhere() {
    let app = spawn_app().await;
    let body = customer("Ann", "Lee", "ann@example.com");
    for (what, value) in [
        ("empty", HeaderValue::from_static("")),
        (
            "256 characters",
            HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        ),
        (
            "non-ASCII",
            HeaderValue::from_bytes("clé".as_bytes()).unwrap(),
        ),
        (
            "a control character",
            HeaderValue::from_bytes(b"a\tb").unwrap(),
        ),
    ] {
        let answer = Answer::of(
            app.request(Method::POST, "/")
                .header(KEY, value)
                .json(&body),
        )
        .await;
        assert_eq!(
            (answer.status, answer.body["detail"].as_str()),
            (400, Some(INVALID_KEY)),
            "{what}: {}",
            answer.text
        );
    }
    assert!(
        customer_ids_with_email(&app, "ann@example.com")
            .await
            .is_empty()
    );
    let list = app.request(Method::GET, "/").header(KEY, "");
    assert_eq!(Answer::of(list).await.status, 200);
    let search = app.request(Method::POST, "/search").header(KEY, "");
    assert_eq!(Answer::of(search.json(&json!({}))).await.status, 200);

    let longest = "k".repeat(255);
    let created = keyed(&app, Method::POST, "/", &longest, Some(&body)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let again = keyed(&app, Method::POST, "/", &longest, Some(&body)).await;
    assert_replay(&created, &again, "255 characters");
}

#[tokio::test]
async fn a_quoted_key_and_its_bare_form_are_one_key() {
    let app = spawn_app().await;
    for (first_form, second_form, email) in [
        ("\"order-42\"", "order-42", "ann@example.com"),
        ("order-43", "\"order-43\"", "bea@example.com"),
    ] {
        let body = customer("Ann", "Lee", email);
        let first = keyed(&app, Method::POST, "/", first_form, Some(&body)).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let again = keyed(&app, Method::POST, "/", second_form, Some(&body)).await;
        assert_replay(&first, &again, second_form);
    }
}

/// The operation's parameters as (lower-case name, location), references resolved.
fn parameters(doc: &Value, operation: &Value) -> Vec<(String, String)> {
    let listed = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    listed
        .iter()
        .map(|p| match p["$ref"].as_str() {
            Some(reference) => doc
                .pointer(reference.trim_start_matches('#'))
                .unwrap_or(&Value::Null),
            None => p,
        })
        .map(|p| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_ascii_lowercase();
            (text(&p["name"]), text(&p["in"]))
        })
        .collect()
}

#[tokio::test]
async fn the_openapi_document_declares_the_key_and_the_preconditions_of_every_write() {
    let app = spawn_app().await;
    let doc: Value = Answer::of(app.client.get(format!("{}/openapi.json", app.base)))
        .await
        .body;
    let one = "/api/v1/customers/{customer_id}";
    let writes = [
        ("post", "/api/v1/customers/".to_owned(), false),
        ("post", "/api/v1/customers/bulk-update".to_owned(), false),
        ("put", one.to_owned(), true),
        ("patch", format!("{one}/verify-email"), true),
        ("patch", format!("{one}/verify-phone"), true),
        ("patch", format!("{one}/last-login"), true),
        ("delete", one.to_owned(), true),
        ("delete", format!("{one}/hard"), true),
    ];
    for (method, path, single) in writes {
        let operation = &doc["paths"][&path][method];
        assert!(operation.is_object(), "{method} {path}");
        let params = parameters(&doc, operation);
        let header = |name: &str| (name.to_owned(), "header".to_owned());
        assert!(
            params.contains(&header("idempotency-key")),
            "{method} {path}: {params:?}"
        );
        assert!(
            !single || params.contains(&header("if-match")),
            "{method} {path}: {params:?}"
        );
        let responses = &operation["responses"];
        let mut expected = vec!["409", "422"];
        if single {
            expected.extend(["412", "428"]);
        }
        for status in expected {
            assert!(
                responses.get(status).is_some(),
                "{method} {path}: no {status}"
            );
        }
    }
}

/// Moves every stored answer `hours` into the past, as if that much time had gone by.
async fn age_records(app: &TestApp, hours: i32) {
    let (client, connection) = tokio_postgres::connect(&app.db_url, NoTls)
        .await
        .expect("direct connection");
    let driver = tokio::spawn(connection);
    client
        .execute(
            "UPDATE idempotency_records SET created_at = created_at - make_interval(hours => $1)",
            &[&hours],
        )
        .await
        .expect("aging the records");
    driver.abort();
}

#[tokio::test]
async fn an_answer_is_replayed_within_the_retention_and_forgotten_after_it() {
    let app = spawn_app_with(&[("APP__IDEMPOTENCY__TTL_HOURS", "2")]).await;
    let id = create_with_phone(&app, "ann@example.com").await;
    let path = format!("/{id}/last-login");
    let first = keyed(&app, Method::PATCH, &path, "login-1", None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    // An hour later, still within the two hours: the same answer, nothing done.
    age_records(&app, 1).await;
    let again = keyed(&app, Method::PATCH, &path, "login-1", None).await;
    assert_replay(&first, &again, "within the retention");
    // Past the two hours: the key is free again, and the login is recorded anew.
    age_records(&app, 2).await;
    let later = keyed(&app, Method::PATCH, &path, "login-1", None).await;
    assert_eq!(later.status, 200, "{}", later.text);
    assert!(
        later.header(REPLAYED).is_none(),
        "replayed after the retention"
    );
    assert_ne!(later.header("etag"), first.header("etag"));
    // And that new answer is the one replayed from now on.
    let after = keyed(&app, Method::PATCH, &path, "login-1", None).await;
    assert_replay(&later, &after, "the new answer");
}

/// Another instance of the service over `app`'s database; its base URL.
async fn second_instance(app: &TestApp) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let vars = vec![("APP__DATABASE__URL".to_owned(), app.db_url.clone())];
    let settings = Settings::load_from(&dir, AppEnv::Test, &vars).expect("test settings load");
    let second = customer_api::Application::build(&settings)
        .await
        .expect("the second instance builds");
    let base = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    base
}

#[tokio::test]
async fn two_instances_of_the_service_share_the_keys() {
    let app = spawn_app().await;
    let other = second_instance(&app).await;
    let body = customer("Ann", "Lee", "ann@example.com");
    let send = |base: String| {
        let request = app
            .client
            .post(format!("{base}/api/v1/customers/"))
            .header(KEY, "two-instances")
            .json(&body);
        Answer::of(request)
    };
    let answers = join_all((0..8).map(|n| {
        send(if n % 2 == 0 {
            app.base.clone()
        } else {
            other.clone()
        })
    }))
    .await;
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert!(!created.is_empty(), "no 200 at all");
    for answer in &answers {
        if answer.status == 409 {
            assert_in_progress(answer);
        } else {
            assert_eq!(answer.status, 200, "{}", answer.text);
            assert_eq!(answer.body, created[0].body);
        }
    }
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.status == 200 && a.header(REPLAYED).is_none())
            .count(),
        1,
        "exactly one answer did the work"
    );
    assert_eq!(
        customer_ids_with_email(&app, "ann@example.com").await.len(),
        1
    );
    // Either instance replays the one answer.
    for base in [app.base.clone(), other] {
        let again = send(base.clone()).await;
        assert_eq!(
            again.header(REPLAYED),
            Some("true"),
            "{} {}",
            again.status,
            again.text
        );
        assert_eq!(again.body, created[0].body);
    }
}

#[tokio::test]
async fn configured_for_201_a_create_and_its_replay_answer_201() {
    let app = spawn_app_with(&[("APP__API__CREATE_STATUS", "201")]).await;
    let body = customer("Ann", "Lee", "ann@example.com");
    let first = keyed(&app, Method::POST, "/", "created", Some(&body)).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let id = first.body["customer_id"].as_str().unwrap();
    assert_eq!(
        first.header("location"),
        Some(format!("/api/v1/customers/{id}").as_str())
    );
    let again = keyed(&app, Method::POST, "/", "created", Some(&body)).await;
    assert_replay(&first, &again, "the replay");
    let unkeyed = app
        .post("/", &customer("Bob", "Lee", "bob@example.com"))
        .await;
    assert_eq!(unkeyed.0, 201, "{}", unkeyed.1);
}
