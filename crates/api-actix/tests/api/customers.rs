//! Reading, updating and deleting single customers.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{MockCustomerUseCases, Patch, ServiceError};
use serde_json::json;

use crate::support::{assert_invalid_at, john_doe, send, untouched};

#[actix_web::test]
async fn a_customer_without_tags_shows_null_tags() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_get().returning(|_| {
        let mut c = john_doe();
        c.tags = domain::Tags::default();
        Ok(c)
    });
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/CUST_A1B2C3D4"),
    )
    .await;
    assert_eq!(reply.json["tags"], json!(null));
}

#[actix_web::test]
async fn getting_a_customer_by_id_answers_the_customer() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_get()
        .withf(|id| id == "CUST_A1B2C3D4")
        .returning(|_| Ok(john_doe()));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/CUST_A1B2C3D4"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["customer_id"], json!("CUST_A1B2C3D4"));
}

#[actix_web::test]
async fn getting_an_unknown_customer_answers_404_with_the_contracts_detail() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_get().returning(|_| Err(ServiceError::NotFound));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/CUST_00000000"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.detail(), &json!("Customer not found"));
    assert_eq!(reply.content_type(), "application/json");
}

#[actix_web::test]
async fn getting_a_customer_by_username_answers_the_customer() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_get_by_username()
        .withf(|u| u == "johndoe1234")
        .returning(|_| Ok(john_doe()));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/username/johndoe1234"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["username"], json!("johndoe1234"));
}

#[actix_web::test]
async fn getting_a_customer_by_email_decodes_the_path_and_keeps_a_plus() {
    for (uri, expected) in [
        (
            "/api/v1/customers/email/john.doe@example.com",
            "john.doe@example.com",
        ),
        (
            "/api/v1/customers/email/john+doe@example.com",
            "john+doe@example.com",
        ),
        (
            "/api/v1/customers/email/john%2Bdoe%40example.com",
            "john+doe@example.com",
        ),
        (
            "/api/v1/customers/email/o%27brien%20x@example.com",
            "o'brien x@example.com",
        ),
    ] {
        let mut mock = MockCustomerUseCases::new();
        mock.expect_get_by_email()
            .withf(move |email| email == expected)
            .times(1)
            .returning(|_| Ok(john_doe()));
        let reply = send(mock, TestRequest::get().uri(uri)).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text);
    }
}

#[actix_web::test]
async fn an_unknown_email_answers_404() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_get_by_email()
        .returning(|_| Err(ServiceError::NotFound));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/email/nobody@example.com"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn updating_keeps_absent_fields_and_clears_null_ones() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_update()
        .withf(|id, patch, _| {
            id == "CUST_A1B2C3D4"
                && patch.phone == Patch::Clear
                && patch.city == Patch::Set("Boston".to_owned())
                && patch.first_name == Patch::Keep
        })
        .returning(|_, _, _| Ok(john_doe()));
    let reply = send(
        mock,
        TestRequest::put()
            .uri("/api/v1/customers/CUST_A1B2C3D4")
            .set_json(json!({"phone": null, "city": "Boston"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["customer_id"], json!("CUST_A1B2C3D4"));
}

#[actix_web::test]
async fn updating_an_unknown_customer_answers_404() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_update()
        .returning(|_, _, _| Err(ServiceError::NotFound));
    let reply = send(
        mock,
        TestRequest::put()
            .uri("/api/v1/customers/CUST_00000000")
            .set_json(json!({})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn updating_to_a_taken_email_answers_400() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_update()
        .returning(|_, _, _| Err(ServiceError::EmailTaken));
    let reply = send(
        mock,
        TestRequest::put()
            .uri("/api/v1/customers/CUST_A1B2C3D4")
            .set_json(json!({"email": "taken@example.com"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.detail(),
        &json!("Customer with this email already exists")
    );
}

#[actix_web::test]
async fn updating_with_a_wrong_type_answers_422_at_the_field() {
    let reply = send(
        untouched(),
        TestRequest::put()
            .uri("/api/v1/customers/CUST_A1B2C3D4")
            .set_json(json!({"is_active": "yes please"})),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "is_active"]));
}

#[actix_web::test]
async fn soft_delete_answers_the_contracts_message() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_deactivate()
        .withf(|id, _| id == "CUST_A1B2C3D4")
        .returning(|_, _| Ok(2));
    let reply = send(
        mock,
        TestRequest::delete().uri("/api/v1/customers/CUST_A1B2C3D4"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"message": "Customer deleted successfully"})
    );
}

#[actix_web::test]
async fn hard_delete_answers_the_contracts_message() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_delete()
        .withf(|id, _| id == "CUST_A1B2C3D4")
        .returning(|_, _| Ok(()));
    let reply = send(
        mock,
        TestRequest::delete().uri("/api/v1/customers/CUST_A1B2C3D4/hard"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"message": "Customer permanently deleted"})
    );
}

#[actix_web::test]
async fn deleting_an_unknown_customer_answers_404_either_way() {
    for uri in [
        "/api/v1/customers/CUST_00000000",
        "/api/v1/customers/CUST_00000000/hard",
    ] {
        let mut mock = MockCustomerUseCases::new();
        mock.expect_deactivate()
            .returning(|_, _| Err(ServiceError::NotFound));
        mock.expect_delete()
            .returning(|_, _| Err(ServiceError::NotFound));
        let reply = send(mock, TestRequest::delete().uri(uri)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.detail(), &json!("Customer not found"));
    }
}
