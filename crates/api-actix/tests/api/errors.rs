//! Error statuses every route shares: 404 and 405 fallbacks, 413, 500 and 503.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use api_actix::ApiSettings;
use domain::{MockCustomerUseCases, ServiceError};
use serde_json::json;

use crate::support::{contract_create_body, send, send_with, untouched};

#[actix_web::test]
async fn an_unknown_route_answers_404_in_json() {
    for uri in [
        "/nope",
        "/api/v1/customers/CUST_A1B2C3D4/unknown",
        "/api/v2/customers/",
    ] {
        let reply = send(untouched(), TestRequest::get().uri(uri)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            reply.json,
            json!({"detail": "Not Found", "code": "not_found"})
        );
        assert_eq!(reply.content_type(), "application/json");
    }
}

#[actix_web::test]
async fn a_wrong_method_answers_405_in_json_with_the_allowed_methods() {
    for (req, allow) in [
        (TestRequest::delete().uri("/api/v1/customers/"), "GET, POST"),
        (TestRequest::patch().uri("/api/v1/customers"), "GET, POST"),
        (TestRequest::get().uri("/api/v1/customers/search"), "POST"),
        (
            TestRequest::get().uri("/api/v1/customers/bulk-update"),
            "POST",
        ),
        (
            TestRequest::post().uri("/api/v1/customers/CUST_A1B2C3D4"),
            "GET, PUT, DELETE",
        ),
        (
            TestRequest::get().uri("/api/v1/customers/CUST_A1B2C3D4/hard"),
            "DELETE",
        ),
        (
            TestRequest::post().uri("/api/v1/customers/statistics/overview"),
            "GET",
        ),
        (TestRequest::put().uri("/health"), "GET"),
    ] {
        let reply = send(untouched(), req).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{allow}");
        assert_eq!(reply.detail(), &json!("Method Not Allowed"));
        assert_eq!(
            reply.headers.get("allow").and_then(|v| v.to_str().ok()),
            Some(allow)
        );
    }
}

#[actix_web::test]
async fn fixed_paths_win_over_a_customer_id() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_locations().returning(|_, _| Ok(vec![]));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/available/countries"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json, json!({"countries": []}));
}

#[actix_web::test]
async fn an_internal_error_answers_500_without_its_cause() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_get().returning(|_| {
        Err(ServiceError::Internal(
            "relation customers_secret does not exist".into(),
        ))
    });
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/CUST_A1B2C3D4"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        reply.json,
        json!({"detail": "Internal server error", "code": "internal_error"})
    );
    assert!(!reply.text.contains("secret"));
}

#[actix_web::test]
async fn an_unavailable_database_answers_503() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_list()
        .returning(|_| Err(ServiceError::Unavailable("pool timed out after 5s".into())));
    let reply = send(mock, TestRequest::get().uri("/api/v1/customers/")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json,
        json!({"detail": "Database unavailable", "code": "database_unavailable"})
    );
}

#[actix_web::test]
async fn a_body_over_the_configured_limit_answers_413_in_json() {
    let settings = ApiSettings {
        max_body_bytes: 1024,
        ..ApiSettings::default()
    };
    let mut body = contract_create_body();
    body["notes"] = json!("x".repeat(2000));
    for uri in ["/api/v1/customers/", "/api/v1/customers/search"] {
        let reply = send_with(
            untouched(),
            settings,
            TestRequest::post().uri(uri).set_json(&body),
        )
        .await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{uri}");
        assert_eq!(
            reply.json,
            json!({"detail": "Request body too large", "code": "payload_too_large"})
        );
    }
}

#[actix_web::test]
async fn a_body_within_the_default_limit_is_accepted() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_update()
        .returning(|_, _, _| Ok(crate::support::john_doe()));
    let reply = send(
        mock,
        TestRequest::put()
            .uri("/api/v1/customers/CUST_A1B2C3D4")
            .set_json(json!({"notes": "x".repeat(10_000)})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}
