//! Creating customers.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{MockCustomerUseCases, ServiceError, ValidationErrors};
use serde_json::json;

use api_actix::ApiSettings;
use api_actix::settings::CreateStatus;

use crate::support::{
    assert_invalid_at, contract_create_body, john_doe, send, send_with, untouched,
};

#[actix_web::test]
async fn creating_a_customer_answers_200_as_the_original_with_every_field_of_the_contract() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create()
        .withf(|input| {
            input.email == "john.doe@example.com"
                && input.tags.as_deref() == Some("premium,tech,new-york")
                && input.date_of_birth.map(|d| d.to_string()).as_deref()
                    == Some("1990-01-15 00:00:00")
        })
        .times(1)
        .returning(|_| Ok(john_doe()));
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/")
            .set_json(contract_create_body()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.headers.get("location").unwrap(),
        "/api/v1/customers/CUST_A1B2C3D4"
    );
    assert_eq!(reply.headers.get("etag").unwrap(), "\"1\"");
    assert_eq!(
        reply.json,
        json!({
            "id": 1,
            "customer_id": "CUST_A1B2C3D4",
            "username": "johndoe1234",
            "version": 1,
            "first_name": "John",
            "last_name": "Doe",
            "email": "john.doe@example.com",
            "phone": "+1-555-0123",
            "address_line1": "123 Main Street",
            "address_line2": null,
            "city": "New York",
            "state": "NY",
            "postal_code": "10001",
            "country": "USA",
            "date_of_birth": "1990-01-15T00:00:00",
            "gender": "male",
            "company_name": "Tech Corp",
            "tax_id": null,
            "preferred_language": null,
            "is_active": true,
            "is_verified": false,
            "email_verified": false,
            "phone_verified": false,
            "marketing_emails": true,
            "marketing_sms": false,
            "notes": "Premium customer",
            "tags": "premium,tech,new-york",
            "created_at": "2024-01-15T10:30:00Z",
            "updated_at": "2024-01-15T10:30:00Z",
            "last_login_at": null,
            "full_name": "John Doe",
            "full_address": "123 Main Street, New York, NY, 10001, USA"
        })
    );
}

#[actix_web::test]
async fn creating_without_the_trailing_slash_works_too() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create().returning(|_| Ok(john_doe()));
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers")
            .set_json(json!({"first_name": "John", "last_name": "Doe", "email": "j@x.com"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[actix_web::test]
async fn tags_may_be_sent_as_a_list_and_unknown_fields_are_ignored() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create()
        .withf(|input| input.tags.as_deref() == Some("premium,tech"))
        .returning(|_| Ok(john_doe()));
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/")
            .set_json(json!({
                "first_name": "John", "last_name": "Doe", "email": "j@x.com",
                "tags": ["premium", "tech"], "password": "ignored"
            })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[actix_web::test]
async fn creating_with_a_taken_email_answers_400_with_the_contracts_detail() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create()
        .returning(|_| Err(ServiceError::EmailTaken));
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/")
            .set_json(contract_create_body()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.detail(),
        &json!("Customer with this email already exists")
    );
    assert_eq!(reply.json["code"], json!("email_taken"));
}

#[actix_web::test]
async fn a_rule_the_domain_enforces_answers_422_located_in_the_body() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create().returning(|_| {
        Err(
            ValidationErrors::single("email", domain::Rule::Email(domain::EmailProblem::NoAtSign))
                .into(),
        )
    });
    let mut body = contract_create_body();
    body["email"] = json!("not-an-email");
    let reply = send(
        mock,
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "email"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("value_error"));
    assert_eq!(
        reply.json["detail"][0]["msg"],
        json!("value is not a valid email address: An email address must have an @-sign.")
    );
    assert_eq!(reply.json["detail"][0]["input"], json!("not-an-email"));
}

#[actix_web::test]
async fn a_missing_required_field_answers_422_at_that_field() {
    let reply = send(
        untouched(),
        TestRequest::post()
            .uri("/api/v1/customers/")
            .set_json(json!({"last_name": "Doe", "email": "j@x.com"})),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "first_name"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("missing"));
}

#[actix_web::test]
async fn a_value_of_the_wrong_type_answers_422_at_that_field() {
    let mut body = contract_create_body();
    body["marketing_emails"] = json!("often");
    let reply = send(
        untouched(),
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "marketing_emails"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("bool_parsing"));
}

#[actix_web::test]
async fn a_malformed_date_of_birth_answers_422_without_calling_the_service() {
    let mut body = contract_create_body();
    body["date_of_birth"] = json!("15/01/1990");
    let reply = send(
        untouched(),
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "date_of_birth"]));
}

#[actix_web::test]
async fn a_date_of_birth_without_time_is_accepted() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create()
        .withf(|input| input.date_of_birth.is_some())
        .returning(|_| Ok(john_doe()));
    let mut body = contract_create_body();
    body["date_of_birth"] = json!("1990-01-15");
    let reply = send(
        mock,
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// A mock that creates John Doe.
fn creating() -> MockCustomerUseCases {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create().times(1).returning(|_| Ok(john_doe()));
    mock
}

#[actix_web::test]
async fn configured_for_201_a_create_answers_201_with_the_same_body_and_headers() {
    let create = || {
        TestRequest::post()
            .uri("/api/v1/customers/")
            .set_json(contract_create_body())
    };
    let settings = ApiSettings {
        create_status: CreateStatus::Created,
        ..ApiSettings::default()
    };
    let created = send_with(creating(), settings, create()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let ok = send(creating(), create()).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(created.json, ok.json);
    for name in ["location", "etag", "content-type"] {
        assert_eq!(created.headers.get(name), ok.headers.get(name), "{name}");
    }
}

#[test]
fn create_status_is_200_or_201_and_nothing_else() {
    assert_eq!(CreateStatus::try_from(200), Ok(CreateStatus::Ok));
    assert_eq!(CreateStatus::try_from(201), Ok(CreateStatus::Created));
    assert_eq!(CreateStatus::default(), CreateStatus::Ok);
    for other in [0, 202, 204, 299, 400] {
        let refused = CreateStatus::try_from(other).unwrap_err();
        assert!(
            refused.contains("200") && refused.contains("201"),
            "{refused}"
        );
    }
}
