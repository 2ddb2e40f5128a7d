//! Health, documentation, metrics and request ids.

use crate::helpers::{metrics_text, spawn_app};

#[tokio::test]
async fn health_is_200_when_the_database_answers() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["database"], "ok", "{body}");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_docs_are_served() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/customers/",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/username/{username}",
        "/api/v1/customers/email/{email}",
        "/api/v1/customers/search",
        "/api/v1/customers/bulk-update",
        "/api/v1/customers/{customer_id}/verify-email",
        "/api/v1/customers/{customer_id}/verify-phone",
        "/api/v1/customers/{customer_id}/last-login",
        "/api/v1/customers/statistics/overview",
        "/api/v1/customers/tags/{tags}",
        "/api/v1/customers/location/search",
        "/api/v1/customers/available/countries",
        "/api/v1/customers/available/cities",
        "/api/v1/customers/available/states",
        "/api/v1/customers/{customer_id}/hard",
        "/health",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    let res = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().to_lowercase().contains("swagger"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_without_personal_data() {
    let app = spawn_app().await;
    app.get("/email/secret.person@example.com").await;
    let text = metrics_text(&app.client, &app.base).await;
    assert!(
        text.contains("route=\"/api/v1/customers/email/{email}\",method=\"GET\",status=\"404\"} 1"),
        "{text}"
    );
    assert!(!text.contains("secret.person"));
    assert!(text.contains("db_pool_max_size"));
}

#[tokio::test]
async fn a_request_id_is_returned_and_an_inbound_one_is_kept() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert!(!res.headers()["x-request-id"].is_empty());
    let res = app
        .client
        .get(format!("{}/health", app.base))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
}
