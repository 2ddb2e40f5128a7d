//! No write is acknowledged before PostgreSQL confirmed its commit: with the connection cut
//! after a write's result but before `ReadyForQuery` (see [`crate::proxy`]), the service
//! answers 503, never 2xx, and a following read tells the row's real fate.

use serde_json::{Value, json};
use tokio_postgres::NoTls;

use crate::helpers::{TestApp, customer, spawn_app_through_proxy, spawn_app_through_proxy_armed};

/// The fields each kind of write changes, as the database holds them; `None` when the
/// customer is not stored.
async fn stored(app: &TestApp, id: &str) -> Option<Value> {
    let (client, connection) = tokio_postgres::connect(&app.db_url, NoTls)
        .await
        .expect("direct connection");
    let driver = tokio::spawn(connection);
    let row = client
        .query_opt(
            "SELECT first_name, is_active, email_verified, phone_verified, \
                    last_login_at IS NOT NULL AS logged_in \
             FROM customers WHERE customer_id = $1",
            &[&id],
        )
        .await
        .expect("query");
    driver.abort();
    row.map(|row| {
        json!({
            "first_name": row.get::<_, String>(0),
            "is_active": row.get::<_, bool>(1),
            "email_verified": row.get::<_, bool>(2),
            "phone_verified": row.get::<_, bool>(3),
            "logged_in": row.get::<_, bool>(4),
        })
    })
}

/// The same fields as the service reports them; a 503 (the pool replacing the cut
/// connection) is retried.
async fn served(app: &TestApp, id: &str) -> Option<Value> {
    for _ in 0..20 {
        let (status, body) = app.get(&format!("/{id}")).await;
        match status {
            200 => {
                return Some(json!({
                    "first_name": body["first_name"],
                    "is_active": body["is_active"],
                    "email_verified": body["email_verified"],
                    "phone_verified": body["phone_verified"],
                    "logged_in": !body["last_login_at"].is_null(),
                }));
            }
            404 => return None,
            503 => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    panic!("the service did not recover from the cut connection");
}

/// One kind of write: its method, path and body for a customer id.
struct Write {
    name: &'static str,
    method: reqwest::Method,
    path: fn(&str) -> String,
    body: fn(&str) -> Option<Value>,
}

fn writes() -> Vec<Write> {
    use reqwest::Method;
    vec![
        Write {
            name: "update",
            method: Method::PUT,
            path: |id| format!("/{id}"),
            body: |_| Some(json!({"first_name": "Changed"})),
        },
        Write {
            name: "bulk update",
            method: Method::POST,
            path: |_| "/bulk-update".into(),
            body: |id| Some(json!({"customer_ids": [id], "updates": {"first_name": "Bulk"}})),
        },
        Write {
            name: "verify email",
            method: Method::PATCH,
            path: |id| format!("/{id}/verify-email"),
            body: |_| None,
        },
        Write {
            name: "verify phone",
            method: Method::PATCH,
            path: |id| format!("/{id}/verify-phone"),
            body: |_| None,
        },
        Write {
            name: "last login",
            method: Method::PATCH,
            path: |id| format!("/{id}/last-login"),
            body: |_| None,
        },
        Write {
            name: "soft delete",
            method: Method::DELETE,
            path: |id| format!("/{id}"),
            body: |_| None,
        },
        Write {
            name: "hard delete",
            method: Method::DELETE,
            path: |id| format!("/{id}/hard"),
            body: |_| None,
        },
    ]
}

fn assert_unavailable(what: &str, status: u16, body: &Value) {
    assert_eq!(
        status, 503,
        "{what} answered before its commit was confirmed: {body}"
    );
    assert!(body["detail"].is_string(), "{what}: {body}");
}

/// The cut lands on a request's write, never on a background job's: armed before the
/// service starts, the proxy lets the purge of expired idempotency records that runs at
/// start-up (a `DELETE`) through, and then cuts the first create.
#[tokio::test]
async fn a_background_jobs_write_is_never_the_one_cut() {
    let (app, proxy) = spawn_app_through_proxy_armed(true).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while proxy.background_writes() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the start-up purge never ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(proxy.is_armed(), "a background job's write was cut");
    let (status, body) = app
        .post("/", &customer("Ann", "Lee", "ann.lee@example.com"))
        .await;
    assert_eq!(proxy.cuts(), 1, "the create's answer was cut");
    assert_unavailable("create", status, &body);
}

#[tokio::test]
async fn a_create_cut_before_its_commit_is_confirmed_is_never_acknowledged() {
    let (app, proxy) = spawn_app_through_proxy().await;
    // A first create warms the pool, so the cut lands on the insert, not on a connect.
    app.create(&customer("Warm", "Up", "warm@example.com"))
        .await;

    proxy.arm();
    let (status, body) = app
        .post("/", &customer("Ann", "Lee", "ann.lee@example.com"))
        .await;
    assert_eq!(proxy.cuts(), 1, "the insert's answer was cut");
    assert_unavailable("create", status, &body);

    // The row's fate, told truthfully by a following read.
    let (client, connection) = tokio_postgres::connect(&app.db_url, NoTls).await.unwrap();
    let driver = tokio::spawn(connection);
    let in_table = client
        .query_one(
            "SELECT count(*) FROM customers WHERE email = 'ann.lee@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    driver.abort();
    let mut answer = 503;
    for _ in 0..20 {
        answer = app.get("/email/ann.lee@example.com").await.0;
        if answer != 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(answer, if in_table == 1 { 200 } else { 404 });
}

#[tokio::test]
async fn every_other_write_cut_before_its_commit_is_confirmed_is_never_acknowledged() {
    let (app, proxy) = spawn_app_through_proxy().await;
    for (n, write) in writes().into_iter().enumerate() {
        let created = app
            .create(&json!({
                "first_name": "Ann", "last_name": "Lee",
                "email": format!("ann{n}@example.com"), "phone": "+1-555-0100",
            }))
            .await;
        let id = created["customer_id"].as_str().unwrap();

        proxy.arm();
        let mut request = app
            .client
            .request(write.method.clone(), app.url(&(write.path)(id)));
        if let Some(body) = (write.body)(id) {
            request = request.json(&body);
        }
        let (status, body) = crate::helpers::into_parts(request.send().await.unwrap()).await;
        assert!(
            !proxy.is_armed(),
            "{}: no write reached the database",
            write.name
        );
        assert_eq!(proxy.cuts(), n + 1);
        assert_unavailable(write.name, status, &body);

        assert_eq!(
            served(&app, id).await,
            stored(&app, id).await,
            "{}: the read after the cut tells the stored state",
            write.name
        );
    }
}

/// A keyed write whose transaction is cut is answered 503 and not stored: the retry with the
/// same key does the work (no replay of the failure), once.
#[tokio::test]
async fn a_keyed_create_cut_before_its_commit_is_not_stored_and_the_retry_succeeds() {
    let (app, proxy) = spawn_app_through_proxy().await;
    app.create(&customer("Warm", "Up", "warm@example.com"))
        .await;
    let body = customer("Ann", "Lee", "ann.lee@example.com");
    let send = || {
        app.client
            .post(app.url("/"))
            .header("Idempotency-Key", "cut-then-retry")
            .json(&body)
            .send()
    };

    proxy.arm();
    let (status, answer) = crate::helpers::into_parts(send().await.unwrap()).await;
    assert_eq!(proxy.cuts(), 1, "the insert's answer was cut");
    assert_unavailable("keyed create", status, &answer);

    // The pool replaces the cut connection; then the retry runs the create for real.
    let mut retried = None;
    for _ in 0..40 {
        let res = send().await.unwrap();
        let replayed = res.headers().get("idempotent-replayed").cloned();
        let (status, answer) = crate::helpers::into_parts(res).await;
        if status == 503 || status == 409 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        retried = Some((status, replayed, answer));
        break;
    }
    let (status, replayed, answer) = retried.expect("the retry got through");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(replayed, None, "the 503 was replayed");

    let (client, connection) = tokio_postgres::connect(&app.db_url, NoTls).await.unwrap();
    let driver = tokio::spawn(connection);
    let count: i64 = client
        .query_one(
            "SELECT count(*) FROM customers WHERE email = 'ann.lee@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    driver.abort();
    assert_eq!(count, 1);
}
