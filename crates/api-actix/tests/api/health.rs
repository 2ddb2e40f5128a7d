//! `/health`, `/health/ready` and `/health/live`.

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

#[actix_web::test]
async fn ready_answers_as_health_does() {
    for (database, status, body) in [
        (
            Ok(()),
            StatusCode::OK,
            json!({"status": "healthy", "database": "ok"}),
        ),
        (
            Err(ServiceError::Unavailable("no answer".into())),
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unhealthy", "database": "unavailable"}),
        ),
    ] {
        let mut mock = MockCustomerUseCases::new();
        mock.expect_health().return_once(move || database);
        let reply = send(mock, TestRequest::get().uri("/health/ready")).await;
        assert_eq!((reply.status, reply.json), (status, body));
    }
}

#[actix_web::test]
async fn live_answers_200_without_asking_the_database() {
    // The mock expects no call: asking the database would panic.
    let reply = send(
        MockCustomerUseCases::new(),
        TestRequest::get().uri("/health/live"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json, json!({"status": "alive"}));
}
