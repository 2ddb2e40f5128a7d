//! Every error answers in the one JSON shape: `{"detail": ...}`.

use serde_json::{Value, json};

use crate::helpers::{into_parts, spawn_app, validation_locs};

#[tokio::test]
async fn malformed_json_and_wrong_types_are_422_json() {
    let app = spawn_app().await;
    for raw in [
        "{not json",
        r#"{"first_name": 1, "last_name": "Doe", "email": "a@b.co"}"#,
        r#"{"last_name": "Doe", "email": "a@b.co"}"#,
        r#"{"first_name": null, "last_name": "Doe", "email": "a@b.co"}"#,
        r#"{"first_name": "A", "last_name": "Doe", "email": "a@b.co", "date_of_birth": "15/01/1990"}"#,
        r#"{"first_name": "A\u0000", "last_name": "Doe", "email": "a@b.co"}"#,
        "[]",
    ] {
        let res = app
            .client
            .post(app.url("/"))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-type"], "application/json", "{raw}");
        let (status, body) = into_parts(res).await;
        assert_eq!(status, 422, "{raw}: {body}");
        validation_locs(&body);
    }
}

#[tokio::test]
async fn a_missing_field_names_it_in_loc() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/", &json!({"first_name": "A", "last_name": "B"}))
        .await;
    assert_eq!(status, 422);
    assert!(
        validation_locs(&body).contains(&vec!["body".to_string(), "email".to_string()]),
        "{body}"
    );
}

#[tokio::test]
async fn invalid_fields_are_all_reported_with_their_location() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/", &json!({"first_name": "", "last_name": "Doe", "email": "nope", "phone": "abc", "gender": "robot"}))
        .await;
    assert_eq!(status, 422);
    let locs = validation_locs(&body);
    for field in ["first_name", "email", "phone", "gender"] {
        assert!(
            locs.contains(&vec!["body".to_string(), field.to_string()]),
            "{field}: {locs:?}"
        );
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_json() {
    let app = spawn_app().await;
    let body = json!({"first_name": "A", "last_name": "B", "email": "a@b.co", "notes": "x".repeat(70 * 1024)});
    let (status, res) = app.post("/", &body).await;
    assert_eq!(status, 413, "{res}");
    assert!(res["detail"].is_string(), "{res}");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_in_json() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/nowhere", app.base))
        .send()
        .await
        .unwrap();
    let (status, body) = into_parts(res).await;
    assert_eq!(status, 404);
    assert!(body["detail"].is_string(), "{body}");
    let res = app.client.patch(app.url("/search")).send().await.unwrap();
    let (status, body) = into_parts(res).await;
    assert_eq!(status, 405);
    assert!(body["detail"].is_string(), "{body}");
}

#[tokio::test]
async fn sql_looking_input_is_stored_and_found_literally() {
    let app = spawn_app().await;
    let tricky = "' OR 1=1 --";
    let created = app
        .create(&json!({"first_name": "Robert", "last_name": tricky, "email": "bobby@example.com", "notes": "%_\\"}))
        .await;
    assert_eq!(created["last_name"], tricky);
    assert_eq!(created["notes"], "%_\\");
    let (_, res) = app.post("/search", &json!({"query": tricky})).await;
    assert_eq!(res["total"], 1, "{res}");
    let (_, res) = app.post("/search", &json!({"query": "%"})).await;
    assert_eq!(res["total"], 0, "{res}");
}

#[tokio::test]
async fn strings_longer_than_their_column_are_422_not_500() {
    let app = spawn_app().await;
    let body: Value = json!({"first_name": "A", "last_name": "B", "email": "a@b.co", "postal_code": "1".repeat(21), "city": "x".repeat(101)});
    let (status, res) = app.post("/", &body).await;
    assert_eq!(status, 422, "{res}");
    let (status, res) = app.get(&format!("/{}", "x".repeat(5000))).await;
    assert_eq!(status, 404, "{res}");
}

/// A query cancelled by the server's `statement_timeout` is a temporary condition: 503 with
/// `Retry-After`, not a 500; the same request succeeds once the cause has gone.
#[tokio::test]
async fn a_request_whose_query_runs_past_the_statement_timeout_is_503_with_retry_after() {
    let app =
        crate::helpers::spawn_app_with(&[("APP__DATABASE__STATEMENT_TIMEOUT_MS", "300")]).await;
    let (status, created) = app
        .post(
            "/",
            &json!({"first_name": "Lena", "last_name": "Locked", "email": "lena@example.com"}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Another session holds the row, so the update waits for it past the timeout.
    let (db, connection) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    db.batch_execute(&format!(
        "BEGIN; SELECT 1 FROM customers WHERE customer_id = '{id}' FOR UPDATE"
    ))
    .await
    .unwrap();
    let res = app
        .client
        .put(app.url(&format!("/{id}")))
        .json(&json!({"first_name": "Lenny"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let (status, body) = into_parts(res).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        json!({"detail": "Database unavailable", "code": "database_unavailable"})
    );

    db.batch_execute("ROLLBACK").await.unwrap();
    let (status, body) = app
        .put(&format!("/{id}"), &json!({"first_name": "Lenny"}))
        .await;
    assert_eq!(
        (status, body["first_name"].as_str()),
        (200, Some("Lenny")),
        "{body}"
    );
    drop(db);
    driver.await.unwrap().unwrap();
}
