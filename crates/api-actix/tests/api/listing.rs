//! Listing customers page by page.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{Cursor, CustomerPage, MockCustomerUseCases};
use serde_json::json;

use crate::support::{assert_invalid_at, john_doe, send, untouched};

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
                total_is_estimate: false,
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
    assert_eq!(reply.json["total_is_estimate"], json!(false));
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
        json!({"customers": [], "total": 0, "total_is_estimate": false, "page": 1, "limit": 100, "total_pages": 0,
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
