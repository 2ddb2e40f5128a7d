//! Verification flags and the last login.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{MockCustomerUseCases, ServiceError};
use serde_json::json;

use crate::support::send;

fn mock_answering(result: fn() -> Result<u64, ServiceError>) -> MockCustomerUseCases {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_verify_email()
        .withf(|id, _| id == "CUST_A1B2C3D4")
        .returning(move |_, _| result());
    mock.expect_verify_phone()
        .withf(|id, _| id == "CUST_A1B2C3D4")
        .returning(move |_, _| result());
    mock.expect_record_login()
        .withf(|id, _| id == "CUST_A1B2C3D4")
        .returning(move |_, _| result());
    mock
}

const ROUTES: [(&str, &str); 3] = [
    ("verify-email", "Customer email verified successfully"),
    ("verify-phone", "Customer phone verified successfully"),
    ("last-login", "Last login updated successfully"),
];

#[actix_web::test]
async fn each_verification_answers_200_with_its_message() {
    for (route, message) in ROUTES {
        let reply = send(
            mock_answering(|| Ok(2)),
            TestRequest::patch().uri(&format!("/api/v1/customers/CUST_A1B2C3D4/{route}")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{route}");
        assert_eq!(reply.json, json!({"message": message}));
    }
}

#[actix_web::test]
async fn each_verification_of_an_unknown_customer_answers_404() {
    for (route, _) in ROUTES {
        let reply = send(
            mock_answering(|| Err(ServiceError::NotFound)),
            TestRequest::patch().uri(&format!("/api/v1/customers/CUST_A1B2C3D4/{route}")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{route}");
        assert_eq!(reply.detail(), &json!("Customer not found"));
    }
}

#[actix_web::test]
async fn a_verification_with_get_answers_405_with_the_allowed_method() {
    let reply = send(
        MockCustomerUseCases::new(),
        TestRequest::get().uri("/api/v1/customers/CUST_A1B2C3D4/verify-email"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        reply.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("PATCH")
    );
}
