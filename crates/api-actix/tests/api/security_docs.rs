//! The OpenAPI document tells the truth about access control: the table and the document
//! list the same routes, and each operation declares the bearer scheme and 401/403/429
//! exactly when access control can answer them.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions: a failure here is a broken test"
)]

use std::collections::BTreeSet;

use actix_web::http::Method;
use api_actix::openapi;
use api_actix::security::{Access, ROUTE_ACCESS, access_for};
use serde_json::Value;

fn document() -> Value {
    serde_json::to_value(openapi()).unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .iter()
                .map(move |(method, op)| (method.to_uppercase(), path.clone(), op.clone()))
        })
        .collect()
}

#[test]
fn the_document_declares_a_bearer_jwt_scheme() {
    let scheme = &document()["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
}

#[test]
fn the_access_table_and_the_document_list_the_same_api_routes() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    // The table also lists what the document does not describe: itself, Swagger UI, metrics.
    let undocumented = ["/openapi.json", "/docs", "/docs/{file:.*}", "/metrics"];
    let listed: BTreeSet<(String, String)> = ROUTE_ACCESS
        .iter()
        .filter(|(_, p, _)| !undocumented.contains(p))
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, listed);
}

#[test]
fn operations_that_need_a_role_declare_bearer_401_and_403_and_the_others_do_not() {
    for (method, path, op) in operations(&document()) {
        let access = access_for(&Method::from_bytes(method.as_bytes()).unwrap(), Some(&path));
        let responses = &op["responses"];
        let secured = matches!(access, Access::Requires(_));
        assert_eq!(
            op["security"][0]["bearer"].is_array(),
            secured,
            "{method} {path}"
        );
        assert_eq!(responses["401"].is_object(), secured, "{method} {path}");
        assert_eq!(responses["403"].is_object(), secured, "{method} {path}");
        if secured {
            assert!(responses["401"]["headers"]["WWW-Authenticate"].is_object());
            let text = op["description"].as_str().unwrap_or_default();
            assert!(
                text.contains("Requires a bearer token with role"),
                "{method} {path}"
            );
        }
    }
}

#[test]
fn every_operation_but_the_health_probe_documents_429_with_retry_after() {
    for (method, path, op) in operations(&document()) {
        let too_many = &op["responses"]["429"];
        if path.starts_with("/health") {
            assert!(too_many.is_null(), "{method} {path}");
        } else {
            assert!(
                too_many["headers"]["Retry-After"].is_object(),
                "{method} {path}"
            );
        }
    }
}

#[test]
fn the_access_answers_are_documented_with_their_bodies_and_headers() {
    let doc = document();
    let op = &doc["paths"]["/api/v1/customers/{customer_id}/hard"]["delete"];
    let responses = &op["responses"];
    let body = |status: &str| &responses[status]["content"]["application/json"];
    for status in ["401", "403", "429"] {
        assert_eq!(
            body(status)["schema"]["$ref"],
            "#/components/schemas/ErrorResponse",
            "{status}"
        );
    }
    assert_eq!(body("401")["example"]["code"], "not_authenticated");
    assert_eq!(
        body("403")["example"],
        serde_json::json!({"detail": "Not enough permissions", "code": "forbidden"})
    );
    assert_eq!(body("429")["example"]["code"], "rate_limited");
    let challenge = &responses["401"]["headers"]["WWW-Authenticate"];
    assert_eq!(challenge["schema"]["type"], "string");
    assert!(
        challenge["description"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
    let retry = &responses["429"]["headers"]["Retry-After"];
    assert_eq!(retry["schema"]["type"], "integer");
}
