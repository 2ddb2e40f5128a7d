//! Every extractor failure is a JSON 422 (or 413), never actix's `text/plain`.

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};
use api_actix::extract::{json_config, path_config, query_config};
use serde_json::json;

use crate::support::{assert_invalid_at, send, untouched};

fn post_raw(body: &'static [u8]) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/customers/")
        .insert_header(("content-type", "application/json"))
        .set_payload(body)
}

#[actix_web::test]
async fn malformed_json_answers_422_as_a_decode_error() {
    for body in [
        &b"{"[..],
        b"{\"first_name\": \"John\",}",
        b"not json",
        b"{\"first_name\": \"Jo\0hn\"}",
        b"{\"first_name\": \"\xff\xfe\"}",
    ] {
        let reply = send(untouched(), post_raw(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body:?}: {}",
            reply.text
        );
        assert_eq!(reply.content_type(), "application/json");
        assert_eq!(reply.json["detail"][0]["type"], json!("json_invalid"));
        // pydantic locates a decode error at the character where parsing stopped.
        assert_eq!(reply.first_loc()[0], json!("body"));
        assert!(reply.first_loc()[1].is_u64(), "{}", reply.text);
        assert_eq!(reply.json["detail"][0]["msg"], json!("JSON decode error"));
    }
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[actix_web::test]
async fn json_nested_too_deep_in_a_field_answers_422_as_a_decode_error() {
    let body = format!(
        r#"{{"first_name": "J", "last_name": "D", "email": "j@x.com", "tags": {}}}"#,
        nested(10_000)
    );
    let reply = send(
        untouched(),
        TestRequest::post()
            .uri("/api/v1/customers/")
            .insert_header(("content-type", "application/json"))
            .set_payload(body),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.text);
    assert_eq!(reply.first_loc()[0], json!("body"));
    assert_eq!(reply.json["detail"][0]["type"], json!("json_invalid"));
}

#[actix_web::test]
async fn json_nested_deep_in_an_ignored_field_is_skipped_without_recursion() {
    let mut mock = domain::MockCustomerUseCases::new();
    mock.expect_create()
        .returning(|_| Ok(crate::support::john_doe()));
    let body = format!(
        r#"{{"first_name": "J", "last_name": "D", "email": "j@x.com", "extra": {}}}"#,
        nested(10_000)
    );
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/")
            .insert_header(("content-type", "application/json"))
            .set_payload(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[actix_web::test]
async fn an_empty_body_answers_422_at_the_body() {
    let reply = send(untouched(), post_raw(b"")).await;
    assert_invalid_at(&reply, json!(["body"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("missing"));
}

#[actix_web::test]
async fn a_form_body_answers_422_and_json_suffix_types_are_accepted() {
    let reply = send(
        untouched(),
        TestRequest::post()
            .uri("/api/v1/customers/search")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload("query=john"),
    )
    .await;
    assert_invalid_at(&reply, json!(["body"]));
    assert_eq!(
        reply.json["detail"][0]["type"],
        json!("model_attributes_type")
    );

    let mut mock = domain::MockCustomerUseCases::new();
    mock.expect_search()
        .returning(|_| Ok(domain::CustomerPage::default()));
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/search")
            .insert_header(("content-type", "application/vnd.api+json; charset=utf-8"))
            .set_payload("{}"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[actix_web::test]
async fn a_body_without_a_content_type_is_read_as_json() {
    let mut mock = domain::MockCustomerUseCases::new();
    mock.expect_search()
        .returning(|_| Ok(domain::CustomerPage::default()));
    let reply = send(
        mock,
        TestRequest::post()
            .uri("/api/v1/customers/search")
            .set_payload(r#"{"query": "john"}"#),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// A tiny app using actix's own extractors with our configs.
async fn actix_extractor_reply(req: TestRequest) -> (StatusCode, serde_json::Value) {
    #[derive(serde::Deserialize)]
    struct Body {
        #[expect(dead_code, reason = "only deserialised")]
        name: String,
    }
    #[derive(serde::Deserialize)]
    struct Query {
        #[expect(dead_code, reason = "only deserialised")]
        n: u32,
    }
    let app = test::init_service(
        App::new()
            .app_data(json_config(64))
            .app_data(path_config())
            .app_data(query_config())
            .route(
                "/json",
                web::post().to(|_: web::Json<Body>| async { HttpResponse::Ok().finish() }),
            )
            .route(
                "/path/{n}",
                web::get().to(|_: web::Path<u32>| async { HttpResponse::Ok().finish() }),
            )
            .route(
                "/query",
                web::get().to(|_: web::Query<Query>| async { HttpResponse::Ok().finish() }),
            ),
    )
    .await;
    let response = test::call_service(&app, req.to_request()).await;
    let status = response.status();
    let body = test::read_body(response).await;
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

#[actix_web::test]
async fn actix_json_errors_use_the_api_shape() {
    let (status, body) =
        actix_extractor_reply(TestRequest::post().uri("/json").set_json(json!({}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "name"]));

    let (status, body) = actix_extractor_reply(
        TestRequest::post()
            .uri("/json")
            .set_json(json!({"name": "x".repeat(100)})),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["detail"], json!("Request body too large"));

    let (status, body) = actix_extractor_reply(
        TestRequest::post()
            .uri("/json")
            .insert_header(("content-type", "application/json"))
            .set_payload("{"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["type"], json!("json_invalid"));
}

#[actix_web::test]
async fn actix_path_errors_use_the_api_shape() {
    let (status, body) = actix_extractor_reply(TestRequest::get().uri("/path/minus-one")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["path"]));
}

#[actix_web::test]
async fn actix_query_errors_use_the_api_shape() {
    let (status, body) = actix_extractor_reply(TestRequest::get().uri("/query?n=-1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["query"]));
}

/// The use cases a handler calls are those for its request: the consistency token the
/// client sent (text, else a mark no storage position matches), and the request's id.
#[actix_web::test]
async fn a_handler_calls_the_use_cases_for_its_request_with_the_token_the_client_sent() {
    use std::sync::{Arc, Mutex};

    use actix_web::HttpMessage;
    use api_actix::handlers::RequestId;
    use domain::{CustomerUseCases, MockCustomerUseCases, RequestContext};

    let seen: Arc<Mutex<Vec<RequestContext>>> = Arc::default();
    let mut outer = MockCustomerUseCases::new();
    outer.expect_for_request().times(2).returning({
        let seen = Arc::clone(&seen);
        move |context| {
            seen.lock().unwrap().push(context);
            let mut inner = MockCustomerUseCases::new();
            inner
                .expect_get()
                .returning(|_| Ok(domain::fixtures::john_doe()));
            Arc::new(inner)
        }
    });
    let outer: Arc<dyn CustomerUseCases> = Arc::new(outer);
    let app = test::init_service(
        App::new()
            .app_data(api_actix::service_data(outer))
            .configure(api_actix::configure(api_actix::ApiSettings::default())),
    )
    .await;
    for token in [&b"16/B374D848"[..], b"\xff"] {
        let request = TestRequest::get()
            .uri("/api/v1/customers/CUST_A1B2C3D4")
            .insert_header((
                "x-consistency-token",
                actix_web::http::header::HeaderValue::from_bytes(token).unwrap(),
            ))
            .to_request();
        request.extensions_mut().insert(RequestId("req-7".into()));
        assert_eq!(
            test::call_service(&app, request).await.status(),
            StatusCode::OK
        );
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].consistency_token.as_deref(), Some("16/B374D848"));
    assert_eq!(seen[0].provenance.request_id.as_deref(), Some("req-7"));
    assert_eq!(seen[1].consistency_token.as_deref(), Some("unreadable"));
}
