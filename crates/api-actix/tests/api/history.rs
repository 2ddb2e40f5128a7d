//! The history's handlers: parameters reach the use cases as the domain's queries, answers
//! are shaped as documented, errors mapped.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use api_actix::ApiSettings;
use domain::{
    CustomerEvent, EventKind, FeedPage, FeedPosition, FieldChange, FieldValue,
    MockCustomerUseCases, Provenance, ServiceError, Timeline, TimelineQuery,
};
use serde_json::json;

use crate::support::{john_doe, send, send_with};

fn event() -> CustomerEvent {
    CustomerEvent {
        id: 42,
        position: FeedPosition {
            transaction: 0x2f3,
            event: 42,
        },
        customer_id: "CUST_A1B2C3D4".into(),
        kind: EventKind::Updated,
        version: 3,
        // 2024-01-15T10:30:00Z
        occurred_at: john_doe().created_at,
        provenance: Provenance {
            actor: Some("alice".into()),
            request_id: Some("req-1".into()),
            idempotency_key: None,
        },
        changes: BTreeMap::from([(
            "email".to_owned(),
            FieldChange {
                from: FieldValue::Text("old@example.com".into()),
                to: FieldValue::Text("new@example.com".into()),
            },
        )]),
    }
}

#[actix_web::test]
async fn a_timeline_page_answers_the_documented_shape() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_timeline()
        .withf(|id, query| {
            id == "CUST_A1B2C3D4"
                && *query
                    == TimelineQuery {
                        limit: 1,
                        before: Some(0x2b),
                    }
        })
        .times(1)
        .returning(|_, _| {
            Ok(Timeline {
                events: vec![event()],
                next_before: Some(42),
            })
        });
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/CUST_A1B2C3D4/events?limit=1&cursor=e1.2b"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({
            "customer_id": "CUST_A1B2C3D4",
            "events": [{
                "id": 42,
                "cursor": "f1.2f3.2a",
                "customer_id": "CUST_A1B2C3D4",
                "type": "updated",
                "version": 3,
                "occurred_at": "2024-01-15T10:30:00Z",
                "actor": "alice",
                "request_id": "req-1",
                "idempotency_key": null,
                "changes": {"email": {"from": "old@example.com", "to": "new@example.com"}},
            }],
            "next_cursor": "e1.2a",
        })
    );
}

#[actix_web::test]
async fn an_unknown_customers_timeline_is_404() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_timeline()
        .returning(|_, _| Err(ServiceError::NotFound));
    let reply = send(
        mock,
        TestRequest::get().uri("/api/v1/customers/CUST_00000000/events"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.json,
        json!({"detail": "Customer not found", "code": "not_found"})
    );
}

#[actix_web::test]
async fn the_feed_passes_its_parameters_on_and_holds_a_wait_only_as_long_as_configured() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_feed()
        .withf(|query| {
            query.after
                == Some(FeedPosition {
                    transaction: 0x10,
                    event: 0x2,
                })
                && query.limit == 5
                && query.kinds == vec![EventKind::Deleted]
                && query.wait == Duration::from_secs(2)
        })
        .times(1)
        .returning(|_| {
            Ok(FeedPage {
                events: vec![event()],
                next: Some(FeedPosition {
                    transaction: 0x2f3,
                    event: 42,
                }),
            })
        });
    let settings = ApiSettings {
        feed_max_wait_secs: 2,
        ..ApiSettings::default()
    };
    let reply = send_with(
        mock,
        settings,
        TestRequest::get().uri("/api/v1/events?after=f1.10.2&limit=5&types=deleted&wait=30"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["next_cursor"], "f1.2f3.2a");
    assert_eq!(reply.json["events"][0]["type"], "updated");
}

#[actix_web::test]
async fn a_purged_cursor_is_410_saying_how_to_start_over() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_feed()
        .returning(|_| Err(ServiceError::FeedPositionPurged));
    let reply = send(mock, TestRequest::get().uri("/api/v1/events?after=f1.1.1")).await;
    assert_eq!(reply.status, StatusCode::GONE);
    assert_eq!(reply.json["code"], "cursor_expired");
    assert_eq!(
        reply.json["detail"],
        "Events after this cursor were removed by retention; restart from the oldest retained event by calling again without `after`"
    );
}
