//! `/health`.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{MockCustomerUseCases, ServiceError};
use serde_json::json;

use crate::support::send;

#[actix_web::test]
async fn health_answers_ok_when_the_database_answers() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_health().returning(|| Ok(()));
    let reply = send(mock, TestRequest::get().uri("/health")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json, json!({"status": "healthy", "database": "ok"}));
}

#[actix_web::test]
async fn health_answers_503_when_the_database_does_not() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_health()
        .returning(|| Err(ServiceError::Unavailable("pool timed out".into())));
    let reply = send(mock, TestRequest::get().uri("/health")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json,
        json!({"status": "unhealthy", "database": "unavailable"})
    );
}
