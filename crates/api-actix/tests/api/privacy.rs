//! The privacy handlers: the export's document and headers, the erasure's optional body and
//! tombstone, 410 for an erased customer wherever it is named by id, and erased history
//! values as the timeline shows them.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use domain::{
    CustomerEvent, CustomerExport, EventKind, ExportedRequest, FeedPosition, FieldChange,
    FieldValue, Gender, MockCustomerUseCases, Provenance, ServiceError, Timeline, Tombstone,
};
use serde_json::json;

use crate::support::{assert_invalid_at, john_doe, send, untouched};

const ID: &str = "CUST_A1B2C3D4";

fn tombstone() -> Tombstone {
    let at = john_doe().created_at;
    Tombstone {
        customer_id: john_doe().customer_id,
        created_at: at,
        erased_at: at + chrono::Duration::days(1),
        reason: Some("request #12".into()),
        country: Some("USA".into()),
        gender: Some(Gender::Male),
        is_active: true,
        is_verified: false,
        email_verified: true,
        phone_verified: false,
    }
}

fn erased_event() -> CustomerEvent {
    CustomerEvent {
        id: 7,
        position: FeedPosition {
            transaction: 9,
            event: 7,
        },
        customer_id: ID.into(),
        kind: EventKind::Erased,
        version: 4,
        occurred_at: john_doe().created_at,
        provenance: Provenance {
            actor: Some("dpo".into()),
            request_id: Some("req-9".into()),
            idempotency_key: None,
        },
        changes: BTreeMap::from([
            (
                "email".to_owned(),
                FieldChange {
                    from: FieldValue::Erased,
                    to: FieldValue::Erased,
                },
            ),
            (
                "marketing_emails".to_owned(),
                FieldChange {
                    from: FieldValue::Bool(true),
                    to: FieldValue::Bool(false),
                },
            ),
        ]),
    }
}

fn erase(body: Option<serde_json::Value>) -> TestRequest {
    let req = TestRequest::post().uri(&format!("/api/v1/customers/{ID}/erase"));
    match body {
        Some(body) => req.set_json(body),
        None => req,
    }
}

#[actix_web::test]
async fn an_erasure_answers_the_tombstone_with_the_reason_it_was_given() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_erase()
        .withf(|id, reason| id == ID && reason.as_deref() == Some("request #12"))
        .times(1)
        .returning(|_, _| Ok(tombstone()));
    let reply = send(
        mock,
        erase(Some(json!({"reason": "request #12", "other": 1}))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({
            "customer_id": ID,
            "created_at": "2024-01-15T10:30:00Z",
            "erased_at": "2024-01-16T10:30:00Z",
            "reason": "request #12",
            "country": "USA",
            "gender": "male",
            "is_active": true,
            "is_verified": false,
            "email_verified": true,
            "phone_verified": false,
        })
    );
}

#[actix_web::test]
async fn the_body_of_an_erasure_is_optional() {
    for body in [
        None,
        Some(json!(null)),
        Some(json!({})),
        Some(json!({"reason": null})),
    ] {
        let mut mock = MockCustomerUseCases::new();
        mock.expect_erase()
            .withf(|_, reason| reason.is_none())
            .times(1)
            .returning(|_, _| Ok(tombstone()));
        let reply = send(mock, erase(body.clone())).await;
        assert_eq!(reply.status, StatusCode::OK, "{body:?}: {}", reply.text);
    }
}

#[actix_web::test]
async fn a_body_of_blanks_alone_is_no_json_and_is_422() {
    for blanks in ["\t", " ", "\r\n"] {
        let request = erase(None)
            .insert_header(("content-type", "application/json"))
            .set_payload(blanks);
        let reply = send(untouched(), request).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{blanks:?}: {}",
            reply.text
        );
        assert_eq!(
            reply.json["detail"][0]["loc"],
            json!(["body"]),
            "{blanks:?}"
        );
    }
}

#[actix_web::test]
async fn a_reason_of_the_wrong_type_or_length_is_422_at_the_reason() {
    let reply = send(untouched(), erase(Some(json!({"reason": 5})))).await;
    assert_invalid_at(&reply, json!(["body", "reason"]));
    let reply = send(untouched(), erase(Some(json!(["x"])))).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );

    let long = "r".repeat(501);
    let mut mock = MockCustomerUseCases::new();
    mock.expect_erase().times(1).returning(|_, _| {
        Err(ServiceError::Validation(domain::ValidationErrors::single(
            "reason",
            domain::Rule::MaxLength(500),
        )))
    });
    let reply = send(mock, erase(Some(json!({"reason": long.clone()})))).await;
    assert_invalid_at(&reply, json!(["body", "reason"]));
    assert_eq!(reply.json["detail"][0]["input"], json!(long));
}

#[actix_web::test]
async fn erasing_an_unknown_customer_is_404() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_erase()
        .returning(|_, _| Err(ServiceError::NotFound));
    let reply = send(mock, erase(None)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.json,
        json!({"detail": "Customer not found", "code": "not_found"})
    );
}

#[actix_web::test]
async fn an_erased_customer_named_by_id_is_410_customer_erased() {
    let requests = [
        TestRequest::get().uri(&format!("/api/v1/customers/{ID}")),
        TestRequest::put()
            .uri(&format!("/api/v1/customers/{ID}"))
            .set_json(json!({"notes": "x"})),
        TestRequest::delete().uri(&format!("/api/v1/customers/{ID}")),
        TestRequest::delete().uri(&format!("/api/v1/customers/{ID}/hard")),
        TestRequest::patch().uri(&format!("/api/v1/customers/{ID}/verify-email")),
        TestRequest::get().uri(&format!("/api/v1/customers/{ID}/export")),
    ];
    for req in requests {
        let mut mock = MockCustomerUseCases::new();
        mock.expect_get().returning(|_| Err(ServiceError::Erased));
        mock.expect_update()
            .returning(|_, _, _| Err(ServiceError::Erased));
        mock.expect_deactivate()
            .returning(|_, _| Err(ServiceError::Erased));
        mock.expect_delete()
            .returning(|_, _| Err(ServiceError::Erased));
        mock.expect_verify_email()
            .returning(|_, _| Err(ServiceError::Erased));
        mock.expect_export()
            .returning(|_| Err(ServiceError::Erased));
        let reply = send(mock, req).await;
        assert_eq!(reply.status, StatusCode::GONE, "{}", reply.text);
        assert_eq!(
            reply.json,
            json!({"detail": "Customer erased", "code": "customer_erased"})
        );
    }
}

#[actix_web::test]
async fn an_export_is_an_attachment_with_the_customer_its_history_and_its_requests() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_export()
        .withf(|id| id == ID)
        .times(1)
        .returning(|_| {
            let event = erased_event();
            Ok(CustomerExport {
                exported_at: john_doe().created_at,
                customer: john_doe(),
                requests: vec![ExportedRequest {
                    request_id: "req-9".into(),
                    actor: Some("dpo".into()),
                    idempotency_key: Some("k".into()),
                    first_at: event.occurred_at,
                    last_at: event.occurred_at,
                    events: vec![7],
                }],
                events: vec![event],
            })
        });
    let reply = send(
        mock,
        TestRequest::get().uri(&format!("/api/v1/customers/{ID}/export")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.headers.get("content-disposition").unwrap(),
        "attachment; filename=\"customer-CUST_A1B2C3D4.json\""
    );
    assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(reply.json["exported_at"], "2024-01-15T10:30:00Z");
    assert_eq!(reply.json["customer"]["email"], "john.doe@example.com");
    assert_eq!(reply.json["customer"]["customer_id"], ID);
    assert_eq!(reply.json["events"][0]["type"], "erased");
    assert_eq!(
        reply.json["requests"],
        json!([{
            "request_id": "req-9",
            "actor": "dpo",
            "idempotency_key": "k",
            "first_at": "2024-01-15T10:30:00Z",
            "last_at": "2024-01-15T10:30:00Z",
            "event_ids": [7],
        }])
    );
}

#[actix_web::test]
async fn erased_values_show_as_null_marked_erased_and_kept_values_as_they_were() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_timeline().returning(|_, _| {
        Ok(Timeline {
            events: vec![erased_event()],
            next_before: None,
        })
    });
    let reply = send(
        mock,
        TestRequest::get().uri(&format!("/api/v1/customers/{ID}/events")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let event = &reply.json["events"][0];
    assert_eq!(event["type"], "erased");
    assert_eq!(
        event["changes"],
        json!({
            "email": {"from": null, "to": null, "erased": true},
            "marketing_emails": {"from": true, "to": false},
        })
    );
}
