//! Search and bulk update.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{
    BulkUpdateReport, CustomerPage, FailedUpdate, MockCustomerUseCases, Patch, SortField,
    SortOrder, ValidationErrors,
};
use serde_json::json;

use crate::support::{assert_invalid_at, john_doe, send, untouched};

#[actix_web::test]
async fn searching_with_the_contracts_body_answers_the_page_envelope() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_search()
        .withf(|c| {
            c.query.as_deref() == Some("john")
                && c.tags.as_ref().map(|t| t.as_slice().to_vec())
                    == Some(vec!["premium".to_owned(), "tech".to_owned()])
                && c.sort_by == SortField::CreatedAt
                && c.sort_order == SortOrder::Desc
                && c.page.offset == 0
                && c.page.limit == 10
                && c.created_after.is_some()
                && c.is_verified == Some(false)
        })
        .returning(|_| {
            Ok(CustomerPage {
                customers: vec![john_doe()],
                total: 150_000,
                total_is_estimate: true,
                next_cursor: None,
            })
        });
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/search")
            .set_json(json!({
                "query": "john", "first_name": "John", "last_name": "Doe",
                "email": "john.doe@example.com", "city": "New York", "country": "USA",
                "is_active": true, "is_verified": false, "company_name": "Tech Corp",
                "tags": "premium,tech", "created_after": "2024-01-01T00:00:00Z",
                "created_before": "2024-12-31T23:59:59Z", "sort_by": "created_at",
                "sort_order": "desc", "page": 1, "limit": 10
            })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["total"], json!(150_000));
    assert_eq!(reply.json["total_is_estimate"], json!(true));
    assert_eq!(reply.json["page"], json!(1));
    assert_eq!(reply.json["limit"], json!(10));
    assert_eq!(reply.json["total_pages"], json!(15_000));
    assert_eq!(reply.json["customers"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn an_empty_search_takes_the_defaults() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_search()
        .withf(|c| c.page.limit == 10 && c.page.offset == 20 && c.sort_order == SortOrder::Asc)
        .returning(|_| Ok(CustomerPage::default()));
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/search")
            .set_json(json!({"page": 3, "sort_order": "asc"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["page"], json!(3));
}

#[actix_web::test]
async fn bad_search_values_answer_422_at_the_field_without_calling_the_service() {
    for (body, field) in [
        (json!({"sort_by": "password"}), "sort_by"),
        (json!({"sort_order": "sideways"}), "sort_order"),
        (json!({"limit": 101}), "limit"),
        (json!({"limit": 0}), "limit"),
        (json!({"page": 0}), "page"),
        (json!({"page": -1}), "page"),
        (json!({"page": 1e30}), "page"),
        (json!({"page": "2"}), "page"),
        (json!({"created_after": "last week"}), "created_after"),
        (json!({"tags": 5}), "tags"),
        (json!({"is_active": "yes"}), "is_active"),
    ] {
        let reply = send(
            untouched(),
            TestRequest::post()
                .uri("/api/v1/customers/search")
                .set_json(&body),
        )
        .await;
        assert_invalid_at(&reply, json!(["body", field]));
    }
}

#[actix_web::test]
async fn a_page_beyond_64_bits_answers_422() {
    let reply = send(
        untouched(),
        TestRequest::post()
            .uri("/api/v1/customers/search")
            .insert_header(("content-type", "application/json"))
            .set_payload(r#"{"page": 99999999999999999999}"#),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "page"]));
}

#[actix_web::test]
async fn bulk_update_answers_the_contracts_report() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_bulk_update()
        .withf(|r| {
            r.customer_ids == ["CUST_A1B2C3D4", "CUST_B2C3D4E5"]
                && r.updates.marketing_emails == Patch::Set(false)
                && r.updates.tags == Patch::Set("bulk-updated".to_owned())
        })
        .returning(|_| {
            Ok(BulkUpdateReport {
                updated_count: 1,
                failed_updates: vec![FailedUpdate {
                    customer_id: "CUST_B2C3D4E5".into(),
                    reason: domain::FailureReason::NotFound,
                }],
                total_processed: 2,
            })
        });
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/bulk-update")
            .set_json(json!({
                "customer_ids": ["CUST_A1B2C3D4", "CUST_B2C3D4E5"],
                "updates": {"marketing_emails": false, "notes": "Bulk updated customer",
                            "tags": "bulk-updated"}
            })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({
            "updated_count": 1,
            "failed_updates": [{"customer_id": "CUST_B2C3D4E5", "reason": "Customer not found"}],
            "total_processed": 2
        })
    );
}

#[actix_web::test]
async fn a_bulk_rule_violation_is_located_under_updates() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_bulk_update().returning(|_| {
        Err(
            ValidationErrors::single("email", domain::Rule::NotInBulkUpdate)
                .within("updates")
                .into(),
        )
    });
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/bulk-update")
            .set_json(json!({"customer_ids": ["CUST_A1B2C3D4"], "updates": {"email": "a@b.co"}})),
    )
    .await;
    assert_invalid_at(&reply, json!(["body", "updates", "email"]));
}

#[actix_web::test]
async fn malformed_bulk_bodies_answer_422_at_the_offending_value() {
    for (body, loc) in [
        (json!({"updates": {}}), json!(["body", "customer_ids"])),
        (
            json!({"customer_ids": ["CUST_A1B2C3D4"]}),
            json!(["body", "updates"]),
        ),
        (
            json!({"customer_ids": [1], "updates": {}}),
            json!(["body", "customer_ids", 0]),
        ),
        (
            json!({"customer_ids": [], "updates": {"marketing_sms": 3}}),
            json!(["body", "updates", "marketing_sms"]),
        ),
        (
            json!({"customer_ids": [], "updates": {"date_of_birth": "soon"}}),
            json!(["body", "updates", "date_of_birth"]),
        ),
    ] {
        let reply = send(
            untouched(),
            TestRequest::post()
                .uri("/api/v1/customers/bulk-update")
                .set_json(&body),
        )
        .await;
        assert_invalid_at(&reply, loc);
    }
}
