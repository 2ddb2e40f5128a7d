//! `/openapi.json` and `/docs`.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::Value;

use api_actix::ApiSettings;
use api_actix::settings::CreateStatus;

use crate::support::{send, send_with, untouched};

/// Every route the router serves, as (method, OpenAPI path).
const ROUTES: [(&str, &str); 26] = [
    ("post", "/api/v1/customers/"),
    ("get", "/api/v1/customers/"),
    ("get", "/api/v1/customers/{customer_id}"),
    ("put", "/api/v1/customers/{customer_id}"),
    ("delete", "/api/v1/customers/{customer_id}"),
    ("delete", "/api/v1/customers/{customer_id}/hard"),
    ("get", "/api/v1/customers/username/{username}"),
    ("get", "/api/v1/customers/email/{email}"),
    ("post", "/api/v1/customers/search"),
    ("post", "/api/v1/customers/bulk-update"),
    ("patch", "/api/v1/customers/{customer_id}/verify-email"),
    ("patch", "/api/v1/customers/{customer_id}/verify-phone"),
    ("patch", "/api/v1/customers/{customer_id}/last-login"),
    ("get", "/api/v1/customers/statistics/overview"),
    ("get", "/api/v1/customers/tags/{tags}"),
    ("get", "/api/v1/customers/location/search"),
    ("get", "/api/v1/customers/available/countries"),
    ("get", "/api/v1/customers/available/cities"),
    ("get", "/api/v1/customers/available/states"),
    ("get", "/api/v1/customers/{customer_id}/events"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/customers/{customer_id}/export"),
    ("post", "/api/v1/customers/{customer_id}/erase"),
    ("get", "/health"),
    ("get", "/health/ready"),
    ("get", "/health/live"),
];

async fn document() -> Value {
    let reply = send(untouched(), TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "application/json");
    assert!(reply.json.is_object(), "{}", reply.text);
    reply.json
}

#[actix_web::test]
async fn the_openapi_document_lists_every_route_and_nothing_else() {
    let doc = document().await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')));
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, expected);
}

#[actix_web::test]
async fn every_route_that_reaches_the_database_documents_500_and_503() {
    let doc = document().await;
    for (method, path) in ROUTES {
        let responses = &doc["paths"][path][method]["responses"];
        // /health and /health/ready turn every failure into their own 503 body;
        // /health/live cannot fail.
        let statuses: &[&str] = match path {
            "/health" | "/health/ready" => &["503"],
            "/health/live" => &[],
            _ => &["500", "503"],
        };
        for status in statuses {
            assert!(
                responses[status].is_object(),
                "{method} {path} lacks {status}"
            );
        }
    }
}

#[actix_web::test]
async fn routes_with_a_body_document_413_and_422_and_email_changes_document_400() {
    let doc = document().await;
    for (method, path) in [
        ("post", "/api/v1/customers/"),
        ("put", "/api/v1/customers/{customer_id}"),
        ("post", "/api/v1/customers/search"),
        ("post", "/api/v1/customers/bulk-update"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op["requestBody"].is_object(), "{method} {path}");
        for status in ["413", "422"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} lacks {status}"
            );
        }
    }
    assert!(doc["paths"]["/api/v1/customers/"]["post"]["responses"]["400"].is_object());
    assert!(doc["paths"]["/api/v1/customers/{customer_id}"]["put"]["responses"]["400"].is_object());
}

#[actix_web::test]
async fn the_document_names_the_status_a_create_answers_with() {
    for (create_status, sent, not_sent) in [
        (CreateStatus::Ok, "200", "201"),
        (CreateStatus::Created, "201", "200"),
    ] {
        let settings = ApiSettings {
            create_status,
            ..ApiSettings::default()
        };
        let reply = send_with(
            untouched(),
            settings,
            TestRequest::get().uri("/openapi.json"),
        )
        .await;
        let answers = &reply.json["paths"]["/api/v1/customers/"]["post"]["responses"];
        assert!(answers[not_sent].is_null(), "{create_status:?}: {answers}");
        let headers = &answers[sent]["headers"];
        for name in ["ETag", "Location"] {
            assert!(
                headers[name].is_object(),
                "{create_status:?}: {name} in {answers}"
            );
        }
        let description = reply.json["info"]["description"].as_str().unwrap();
        assert!(description.contains("create_status"), "{description}");
    }
}

#[actix_web::test]
async fn the_document_describes_every_request_and_response_schema() {
    let doc = document().await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "CreateCustomerRequest",
        "UpdateCustomerRequest",
        "SearchRequest",
        "BulkUpdateRequest",
        "CustomerResponse",
        "CustomerListResponse",
        "BulkUpdateResponse",
        "StatisticsResponse",
        "TagsSearchResponse",
        "LocationSearchResponse",
        "CountriesResponse",
        "CitiesResponse",
        "StatesResponse",
        "MessageResponse",
        "HealthResponse",
        "ErrorResponse",
        "ValidationErrorResponse",
    ] {
        assert!(schemas.contains_key(name), "missing schema {name}");
    }
}

#[actix_web::test]
async fn swagger_ui_is_served_at_docs() {
    let reply = send(untouched(), TestRequest::get().uri("/docs")).await;
    assert!(reply.status.is_redirection());
    assert_eq!(
        reply.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/docs/")
    );
    let reply = send(untouched(), TestRequest::get().uri("/docs/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type().starts_with("text/html"));
    assert!(reply.text.contains("swagger"), "{}", reply.text);
    let reply = send(
        untouched(),
        TestRequest::get().uri("/docs/swagger-initializer.js"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text.contains("/openapi.json"));
    let reply = send(untouched(), TestRequest::get().uri("/docs/no-such-file.js")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json["detail"], "Not Found");
}

#[actix_web::test]
async fn every_operation_but_the_health_probe_documents_a_client_error() {
    let doc = document().await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let has_4xx = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|status| status.starts_with('4'));
            assert_eq!(has_4xx, !path.starts_with("/health"), "{method} {path}");
        }
    }
}

#[actix_web::test]
async fn every_keyed_write_whose_replay_can_find_its_customer_erased_documents_410() {
    let doc = document().await;
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let keyed = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            // A keyed answer is about the customer of the path, or the one a create made;
            // an erasure's own answer, the tombstone, is kept as it is.
            let about_a_customer = path.contains("{customer_id}") || path == "/api/v1/customers/";
            if keyed && about_a_customer && !path.ends_with("/erase") {
                assert_eq!(
                    op["responses"]["410"]["content"]["application/json"]["example"]["code"],
                    "customer_erased",
                    "{method} {path}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 7, "{checked}");
}
