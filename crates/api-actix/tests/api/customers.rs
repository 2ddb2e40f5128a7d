//! Create, read, list, update and delete.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{Cursor, CustomerPage, MockCustomerUseCases, Patch, ServiceError, ValidationErrors};
use serde_json::json;

use crate::support::{assert_invalid_at, john_doe, seed_create_body, send, untouched};

#[actix_web::test]
async fn creating_a_customer_answers_201_with_every_field_of_the_seed() {
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
            .set_json(seed_create_body()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({
            "id": 1,
            "customer_id": "CUST_A1B2C3D4",
            "username": "johndoe1234",
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
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
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
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

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
async fn creating_with_a_taken_email_answers_400_with_the_seeds_detail() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create()
        .returning(|_| Err(ServiceError::EmailTaken));
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/")
            .set_json(seed_create_body()),
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
        Err(ValidationErrors::single(
            "email",
            "value is not a valid email address",
            "value_error.email",
        )
        .into())
    });
    let mut body = seed_create_body();
    body["email"] = json!("not-an-email");
    let reply = send(
        mock,
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "email"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("value_error.email"));
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
    assert_eq!(
        reply.json["detail"][0]["type"],
        json!("value_error.missing")
    );
}

#[actix_web::test]
async fn a_value_of_the_wrong_type_answers_422_at_that_field() {
    let mut body = seed_create_body();
    body["marketing_emails"] = json!("often");
    let reply = send(
        untouched(),
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "marketing_emails"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("type_error.bool"));
}

#[actix_web::test]
async fn a_malformed_date_of_birth_answers_422_without_calling_the_service() {
    let mut body = seed_create_body();
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
    let mut body = seed_create_body();
    body["date_of_birth"] = json!("1990-01-15");
    let reply = send(
        mock,
        TestRequest::post().uri("/api/v1/customers/").set_json(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
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
async fn getting_an_unknown_customer_answers_404_with_the_seeds_detail() {
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
async fn an_email_with_a_control_character_is_not_found_without_asking_the_service() {
    let reply = send(
        untouched(),
        TestRequest::get().uri("/api/v1/customers/email/a%00b@example.com"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.detail(), &json!("Customer not found"));
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
async fn listing_answers_the_page_envelope_with_page_and_total_pages() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_list()
        .withf(|q| {
            q.page.offset == 100
                && q.page.limit == 50
                && q.is_active == Some(true)
                && q.cursor.is_none()
        })
        .returning(|_| {
            Ok(CustomerPage {
                customers: vec![john_doe()],
                total: 201,
                next_cursor: Some(Cursor { after_id: 1 }),
            })
        });
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/?skip=100&limit=50&is_active=true"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["total"], json!(201));
    assert_eq!(reply.json["page"], json!(3));
    assert_eq!(reply.json["limit"], json!(50));
    assert_eq!(reply.json["total_pages"], json!(5));
    assert_eq!(reply.json["next_cursor"], json!("c1.1"));
    assert_eq!(
        reply.json["customers"][0]["customer_id"],
        json!("CUST_A1B2C3D4")
    );
}

#[actix_web::test]
async fn listing_works_without_the_trailing_slash_and_with_defaults() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_list()
        .withf(|q| q.page.offset == 0 && q.page.limit == 100 && q.is_active.is_none())
        .returning(|_| Ok(CustomerPage::default()));
    let reply = send(mock, TestRequest::get().uri("/api/v1/customers")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"customers": [], "total": 0, "page": 1, "limit": 100, "total_pages": 0,
               "next_cursor": null})
    );
}

#[actix_web::test]
async fn listing_passes_a_cursor_and_reads_python_booleans() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_list()
        .withf(|q| q.cursor == Some(Cursor { after_id: 255 }) && q.is_active == Some(false))
        .returning(|_| Ok(CustomerPage::default()));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/?cursor=c1.ff&is_active=False"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[actix_web::test]
async fn bad_list_parameters_answer_422_at_the_parameter() {
    for (query, param) in [
        ("skip=-1", "skip"),
        ("skip=abc", "skip"),
        ("skip=99999999999999999999", "skip"),
        ("skip=9223372036854775808", "skip"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=-5", "limit"),
        ("limit=1e3", "limit"),
        ("is_active=maybe", "is_active"),
        ("cursor=nope", "cursor"),
    ] {
        let reply = send(
            untouched(),
            TestRequest::get().uri(&format!("/api/v1/customers/?{query}")),
        )
        .await;
        assert_invalid_at(&reply, json!(["query", param]));
    }
}

#[actix_web::test]
async fn updating_keeps_absent_fields_and_clears_null_ones() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_update()
        .withf(|id, patch| {
            id == "CUST_A1B2C3D4"
                && patch.phone == Patch::Clear
                && patch.city == Patch::Set("Boston".to_owned())
                && patch.first_name == Patch::Keep
        })
        .returning(|_, _| Ok(john_doe()));
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
        .returning(|_, _| Err(ServiceError::NotFound));
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
        .returning(|_, _| Err(ServiceError::EmailTaken));
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
async fn soft_delete_answers_the_seeds_message() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_deactivate()
        .withf(|id| id == "CUST_A1B2C3D4")
        .returning(|_| Ok(()));
    let reply = send(
        mock,
        TestRequest::delete().uri("/api/v1/customers/CUST_A1B2C3D4"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({"message": "Customer deactivated successfully"})
    );
}

#[actix_web::test]
async fn hard_delete_answers_the_seeds_message() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_delete()
        .withf(|id| id == "CUST_A1B2C3D4")
        .returning(|_| Ok(()));
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
            .returning(|_| Err(ServiceError::NotFound));
        mock.expect_delete()
            .returning(|_| Err(ServiceError::NotFound));
        let reply = send(mock, TestRequest::delete().uri(uri)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.detail(), &json!("Customer not found"));
    }
}
