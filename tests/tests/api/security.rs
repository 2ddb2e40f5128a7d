//! Access control end to end: the real binary's wiring with authentication on, tokens minted
//! by `customer-api token`'s code, rate limits, security headers, CORS, and the refusal to
//! start in production without a key.

use std::time::Duration;

use customer_api::settings::{AppEnv, Settings};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, config_dir, customer, into_parts, spawn_app, spawn_app_with, token_with,
};

const SECRET: &str = "e2e-secret-0123456789abcdef-0123456789";
const AUTH_ON: [(&str, &str); 2] = [
    ("APP__AUTH__ENABLED", "true"),
    ("APP__AUTH__HS256_SECRET", SECRET),
];

fn token(role: &str) -> String {
    token_with(SECRET, role)
}

async fn send(request: RequestBuilder, bearer: Option<&str>) -> Response {
    match bearer {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

async fn status(app: &TestApp, method: Method, path: &str, bearer: &str, body: Value) -> u16 {
    let request = app.client.request(method, app.url(path)).json(&body);
    let (status, body) = into_parts(send(request, Some(bearer)).await).await;
    assert!(body.is_object(), "{path}: {body}");
    status
}

#[tokio::test]
async fn without_a_token_the_api_answers_401_with_a_bearer_challenge_and_counts_it() {
    let app = spawn_app_with(&AUTH_ON).await;
    let res = send(app.client.get(app.url("/")), None).await;
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"customer-api\""
    );
    assert!(res.headers().contains_key("x-request-id"));
    let (status, body) = into_parts(res).await;
    assert_eq!(status, 401);
    assert_eq!(body["detail"], "Not authenticated");
    let forged = token_with("another-secret-0123456789abcdef-012345", "admin");
    let res = send(app.client.get(app.url("/")), Some(&forged)).await;
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert_eq!(into_parts(res).await.0, 401);
    let metrics = app.client.get(format!("{}/metrics", app.base));
    let text = send(metrics, None).await.text().await.unwrap();
    assert!(text.contains("status=\"401\"} 2"), "{text}");
}

#[tokio::test]
async fn each_role_gets_what_it_is_granted_and_403_for_the_rest() {
    let app = spawn_app_with(&AUTH_ON).await;
    let (reader, writer, admin) = (token("reader"), token("writer"), token("admin"));
    let new = customer("Ada", "Lovelace", "ada@example.com");
    assert_eq!(
        status(&app, Method::POST, "/", &reader, new.clone()).await,
        403
    );
    let res = send(app.client.post(app.url("/")).json(&new), Some(&writer)).await;
    let (code, created) = into_parts(res).await;
    assert_eq!(code, 200, "{created}");
    let id = created["customer_id"].as_str().unwrap();
    let one = format!("/{id}");
    for (method, path) in [
        (Method::GET, "/".to_owned()),
        (Method::GET, one.clone()),
        (Method::GET, "/statistics/overview".to_owned()),
        (Method::POST, "/search".to_owned()),
    ] {
        assert_eq!(
            status(&app, method, &path, &reader, json!({})).await,
            200,
            "{path}"
        );
    }
    let rename = json!({"first_name": "Augusta"});
    assert_eq!(
        status(&app, Method::PUT, &one, &reader, rename.clone()).await,
        403
    );
    assert_eq!(status(&app, Method::PUT, &one, &writer, rename).await, 200);
    let verify = format!("{one}/verify-email");
    assert_eq!(
        status(&app, Method::PATCH, &verify, &writer, json!({})).await,
        200
    );
    assert_eq!(
        status(&app, Method::DELETE, &one, &reader, json!({})).await,
        403
    );
    assert_eq!(
        status(&app, Method::DELETE, &one, &writer, json!({})).await,
        200
    );
    let hard = format!("{one}/hard");
    assert_eq!(
        status(&app, Method::DELETE, &hard, &writer, json!({})).await,
        403
    );
    assert_eq!(
        status(&app, Method::DELETE, &hard, &admin, json!({})).await,
        200
    );
    assert_eq!(
        status(&app, Method::GET, &one, &admin, json!({})).await,
        404
    );
}

#[tokio::test]
async fn health_docs_metrics_and_the_openapi_document_need_no_token() {
    let app = spawn_app_with(&AUTH_ON).await;
    for path in [
        "/health",
        "/health/live",
        "/health/ready",
        "/docs/",
        "/openapi.json",
        "/metrics",
    ] {
        let res = send(app.client.get(format!("{}{path}", app.base)), None).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
    }
}

#[tokio::test]
async fn over_a_tiny_rate_limit_a_client_gets_429_with_retry_after() {
    let app = spawn_app_with(&[
        ("APP__RATE_LIMIT__PER_SECOND", "0.5"),
        ("APP__RATE_LIMIT__BURST", "2"),
    ])
    .await;
    for _ in 0..2 {
        assert_eq!(app.get("/").await.0, 200);
    }
    let res = send(app.client.get(app.url("/")), None).await;
    assert_eq!(res.headers()["retry-after"], "2");
    let (status, body) = into_parts(res).await;
    assert_eq!(
        (status, body),
        (
            429,
            json!({"detail": "Too many requests", "code": "rate_limited"})
        )
    );
    let health = send(app.client.get(format!("{}/health", app.base)), None).await;
    assert_eq!(health.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(app.get("/").await.0, 200);
}

#[tokio::test]
async fn a_200_a_404_and_a_422_all_carry_the_security_headers() {
    let app = spawn_app().await;
    let requests = [
        (200, app.client.get(app.url("/"))),
        (404, app.client.get(app.url("/CUST_00000000"))),
        (
            422,
            app.client
                .post(app.url("/"))
                .json(&json!({"first_name": 1})),
        ),
    ];
    for (expected, request) in requests {
        let res = send(request, None).await;
        assert_eq!(res.status().as_u16(), expected);
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{expected}");
        assert_eq!(h["x-frame-options"], "DENY", "{expected}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{expected}");
        assert_eq!(h["cache-control"], "no-store", "{expected}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
    }
    let docs = send(app.client.get(format!("{}/docs/", app.base)), None).await;
    let csp = docs.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
}

#[tokio::test]
async fn a_cors_preflight_from_a_configured_origin_is_answered_without_a_token() {
    let origin = "https://app.example.com";
    let mut vars = AUTH_ON.to_vec();
    vars.push(("APP__CORS__ALLOWED_ORIGINS", origin));
    let app = spawn_app_with(&vars).await;
    let preflight = |from: &str| {
        app.client
            .request(Method::OPTIONS, app.url("/"))
            .header("origin", from)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
    };
    let res = send(preflight(origin), None).await;
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], origin);
    assert!(
        res.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let res = send(preflight("https://evil.example"), None).await;
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    assert_eq!(into_parts(res).await.0, 403);
    let reader = token("reader");
    let res = send(
        app.client.get(app.url("/")).header("origin", origin),
        Some(&reader),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], origin);
}

#[test]
fn production_without_a_key_refuses_to_start() {
    let vars = vec![(
        "APP__DATABASE__URL".to_owned(),
        "postgres://u@h/db".to_owned(),
    )];
    let err = Settings::load_from(&config_dir(), AppEnv::Production, &vars).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("auth.hs256_secret"), "{message}");
    assert!(message.contains("APP__AUTH__HS256_SECRET"), "{message}");
}
