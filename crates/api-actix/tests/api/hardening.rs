//! Security headers on every kind of answer, the relaxed policy for Swagger UI, and CORS.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use api_actix::security::{API_CSP, DOCS_CSP, Role, Security};

use crate::security_support::{bearer, hs256_security, send_one, with_cors};
use crate::support::Reply;

fn assert_hardened(reply: &Reply, what: &str) {
    assert_eq!(reply.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(reply.header("x-frame-options"), "DENY", "{what}");
    assert_eq!(reply.header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(reply.header("content-security-policy"), API_CSP, "{what}");
    assert_eq!(reply.header("cache-control"), "no-store", "{what}");
}

#[actix_web::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let cases = [
        ("200", TestRequest::get().uri("/openapi.json")),
        ("404", TestRequest::get().uri("/nowhere")),
        ("401", TestRequest::get().uri("/api/v1/customers/")),
        (
            "422",
            TestRequest::post()
                .uri("/api/v1/customers/search")
                .insert_header(("authorization", bearer(Role::Reader)))
                .insert_header(("content-type", "application/json"))
                .set_payload("{not json"),
        ),
        (
            "405",
            TestRequest::put()
                .uri("/api/v1/customers/search")
                .insert_header(("authorization", bearer(Role::Reader))),
        ),
        ("503", TestRequest::get().uri("/health")),
    ];
    for (status, request) in cases {
        let reply = send_one(hs256_security(), request).await;
        assert_eq!(reply.status.as_str(), status, "{}", reply.text);
        assert_hardened(&reply, status);
    }
}

#[actix_web::test]
async fn swagger_ui_gets_a_policy_that_lets_it_load_its_own_files() {
    let reply = send_one(Security::default(), TestRequest::get().uri("/docs/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-security-policy"), DOCS_CSP);
    assert!(DOCS_CSP.contains("script-src 'self'") && !DOCS_CSP.contains("unsafe-eval"));
    assert_eq!(reply.header("x-frame-options"), "DENY");
    assert_eq!(reply.header("cache-control"), "");
}

const ORIGIN: &str = "https://app.example.com";

fn preflight(origin: &str) -> TestRequest {
    TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/api/v1/customers/")
        .insert_header(("origin", origin))
        .insert_header(("access-control-request-method", "POST"))
        .insert_header((
            "access-control-request-headers",
            "authorization, content-type",
        ))
}

#[actix_web::test]
async fn a_preflight_from_an_allowed_origin_is_answered_without_a_token() {
    let reply = send_one(with_cors(hs256_security(), &[ORIGIN]), preflight(ORIGIN)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert_eq!(reply.header("access-control-allow-origin"), ORIGIN);
    assert!(
        reply
            .header("access-control-allow-methods")
            .contains("POST")
    );
    assert_eq!(
        reply.header("access-control-allow-headers"),
        api_actix::headers::sent_by_clients()
    );
    for name in [
        "authorization",
        "if-match",
        "if-none-match",
        "idempotency-key",
    ] {
        assert!(
            reply.header("access-control-allow-headers").contains(name),
            "{name}"
        );
    }
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
}

#[actix_web::test]
async fn a_preflight_from_another_origin_is_403_json() {
    let reply = send_one(
        with_cors(hs256_security(), &[ORIGIN]),
        preflight("https://evil.example"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json["detail"], "Origin not allowed");
    assert_eq!(reply.header("access-control-allow-origin"), "");
}

#[actix_web::test]
async fn answers_to_an_allowed_origin_expose_the_useful_headers_even_when_refused() {
    let reply = send_one(
        with_cors(hs256_security(), &[ORIGIN]),
        TestRequest::get()
            .uri("/api/v1/customers/")
            .insert_header(("origin", ORIGIN)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("access-control-allow-origin"), ORIGIN);
    let exposed = reply.header("access-control-expose-headers");
    assert_eq!(exposed, api_actix::headers::sent_by_the_api());
    for name in [
        "www-authenticate",
        "etag",
        "location",
        "idempotent-replayed",
        "retry-after",
    ] {
        assert!(exposed.contains(name), "{name}");
    }
    assert!(reply.header("vary").contains("Origin"));
}

#[actix_web::test]
async fn without_configured_origins_no_cors_header_is_sent() {
    let reply = send_one(hs256_security(), preflight(ORIGIN)).await;
    assert_eq!(reply.header("access-control-allow-origin"), "");
    let reply = send_one(
        Security::default(),
        TestRequest::get()
            .uri("/openapi.json")
            .insert_header(("origin", ORIGIN)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), "");
}

#[actix_web::test]
async fn a_wildcard_allows_every_origin() {
    let reply = send_one(with_cors(Security::default(), &["*"]), preflight(ORIGIN)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
}
