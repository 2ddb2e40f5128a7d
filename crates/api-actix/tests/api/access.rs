//! Access control through the real router: every route of the table with no token and with
//! each role, the ways a token is refused (401), insufficient roles (403), and the routes
//! that need no token.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use api_actix::security::{Access, ROUTE_ACCESS, Role, Security, TokenIssuer};
use serde_json::{Value, json};

use crate::security_support::{
    AUDIENCE, SECRET, bearer, hs256_security, issuer, now_secs, send_one, send_secured,
};
use crate::support::contract_create_body;

/// A request that the route's handler would accept, so only access control can refuse it.
fn request_for(method: &str, pattern: &str) -> TestRequest {
    let uri = pattern
        .replace("{customer_id}", "CUST_A1B2C3D4")
        .replace("{username}", "johndoe")
        .replace("{email}", "john.doe@example.com")
        .replace("{tags}", "premium")
        .replace("{file:.*}", "index.html");
    let body: Option<Value> = match (method, pattern) {
        ("POST", "/api/v1/customers/") => Some(contract_create_body()),
        ("PUT", _) => Some(json!({"first_name": "Jane"})),
        ("POST", "/api/v1/customers/search") => Some(json!({})),
        ("POST", "/api/v1/customers/bulk-update") => {
            Some(json!({"customer_ids": ["CUST_A1B2C3D4"], "updates": {"notes": "bulk"}}))
        }
        _ => None,
    };
    let req = TestRequest::default()
        .method(method.parse().unwrap_or_default())
        .uri(&uri);
    match body {
        Some(body) => req.set_json(body),
        None => req,
    }
}

#[actix_web::test]
async fn every_route_answers_each_role_as_the_table_says() {
    for &(method, pattern, access) in ROUTE_ACCESS {
        let mut requests = vec![request_for(method, pattern)];
        for role in Role::ALL {
            requests
                .push(request_for(method, pattern).insert_header(("authorization", bearer(role))));
        }
        let replies = send_secured(hs256_security(), requests).await;
        let Access::Requires(needed) = access else {
            for reply in &replies {
                assert!(
                    !matches!(reply.status.as_u16(), 401 | 403),
                    "{method} {pattern} needs no token: {}",
                    reply.status
                );
            }
            continue;
        };
        assert_eq!(
            replies[0].status,
            StatusCode::UNAUTHORIZED,
            "{method} {pattern}"
        );
        for (role, reply) in Role::ALL.into_iter().zip(&replies[1..]) {
            // The mocked database is down: 503 proves the handler ran.
            let expected = if role.grants(needed) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(
                reply.status, expected,
                "{method} {pattern} as {role}: {}",
                reply.text
            );
        }
    }
}

#[actix_web::test]
async fn a_missing_token_is_401_with_a_bare_bearer_challenge() {
    let reply = send_one(
        hs256_security(),
        TestRequest::get().uri("/api/v1/customers/"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.header("www-authenticate"),
        "Bearer realm=\"customer-api\""
    );
    assert_eq!(
        reply.json,
        json!({"detail": "Not authenticated", "code": "not_authenticated"})
    );
    assert_eq!(reply.content_type(), "application/json");
}

async fn refused_with(authorization: &str) -> crate::support::Reply {
    let reply = send_one(
        hs256_security(),
        TestRequest::get()
            .uri("/api/v1/customers/statistics/overview")
            .insert_header(("authorization", authorization)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{authorization}");
    assert_eq!(reply.json["code"], "invalid_token", "{}", reply.text);
    assert!(
        reply
            .header("www-authenticate")
            .starts_with("Bearer realm=\"customer-api\", error=\"invalid_token\""),
        "{}",
        reply.header("www-authenticate")
    );
    reply
}

#[actix_web::test]
async fn malformed_tokens_are_401() {
    for value in [
        "Bearer",
        "Bearer not.a.jwt",
        "Basic YWxpY2U6cHc=",
        "Bearer a.b",
        "Token x",
    ] {
        let reply = refused_with(value).await;
        assert_eq!(reply.json["detail"], "Malformed bearer token", "{value}");
    }
}

#[actix_web::test]
async fn an_expired_token_is_401_saying_so() {
    let two_hours_ago = now_secs() - 7200;
    let token = issuer()
        .mint_at(
            "alice",
            Role::Admin,
            two_hours_ago,
            Duration::from_secs(3600),
        )
        .unwrap();
    let reply = refused_with(&format!("Bearer {token}")).await;
    assert_eq!(reply.json["detail"], "Token has expired");
    assert!(
        reply
            .header("www-authenticate")
            .contains("error_description=\"Token has expired\"")
    );
}

#[actix_web::test]
async fn a_token_signed_with_another_secret_is_401() {
    let other = TokenIssuer::hs256(
        b"another-secret-of-thirty-two-bytes-or-more",
        AUDIENCE,
        None,
    );
    let token = other
        .mint("alice", Role::Admin, Duration::from_secs(60))
        .unwrap();
    let reply = refused_with(&format!("Bearer {token}")).await;
    assert_eq!(reply.json["detail"], "Invalid token signature");
}

#[actix_web::test]
async fn a_token_for_another_audience_is_401() {
    let other = TokenIssuer::hs256(SECRET.as_bytes(), "billing-api", None);
    let token = other
        .mint("alice", Role::Admin, Duration::from_secs(60))
        .unwrap();
    let reply = refused_with(&format!("Bearer {token}")).await;
    assert_eq!(reply.json["detail"], "Invalid token audience");
}

#[actix_web::test]
async fn an_insufficient_role_is_403_json() {
    let reply = send_one(
        hs256_security(),
        TestRequest::delete()
            .uri("/api/v1/customers/CUST_A1B2C3D4/hard")
            .insert_header(("authorization", bearer(Role::Writer))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.json,
        json!({"detail": "Not enough permissions", "code": "forbidden"})
    );
}

#[actix_web::test]
async fn a_percent_encoded_path_cannot_slip_past_the_table() {
    // The router decodes %68 to `h` and serves the hard delete: so must the check.
    let reply = send_one(
        hs256_security(),
        TestRequest::delete()
            .uri("/api/v1/customers/CUST_A1B2C3D4/%68ard")
            .insert_header(("authorization", bearer(Role::Writer))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
}

#[actix_web::test]
async fn an_unknown_path_is_a_404_without_a_token_and_a_missing_method_needs_one() {
    let reply = send_one(hs256_security(), TestRequest::get().uri("/nowhere")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let uri = "/api/v1/customers/CUST_A1B2C3D4";
    let reply = send_one(hs256_security(), TestRequest::patch().uri(uri)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = send_one(
        hs256_security(),
        TestRequest::patch()
            .uri(uri)
            .insert_header(("authorization", bearer(Role::Reader))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn with_authentication_off_every_route_is_open() {
    let reply = send_one(
        Security::default(),
        TestRequest::delete().uri("/api/v1/customers/CUST_A1B2C3D4/hard"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
}

#[actix_web::test]
async fn an_app_wired_without_its_security_data_fails_closed() {
    let app = actix_web::test::init_service(
        actix_web::App::new()
            .app_data(crate::support::registered(
                crate::security_support::database_down(),
            ))
            .wrap(actix_web::middleware::from_fn(
                api_actix::security::access_control,
            ))
            .configure(api_actix::configure(api_actix::ApiSettings::default())),
    )
    .await;
    let req = TestRequest::get().uri("/api/v1/customers/").to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
