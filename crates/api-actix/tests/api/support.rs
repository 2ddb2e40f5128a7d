//! Builders shared by the handler tests: the contract's bodies, the app around a mock, and a
//! decoded reply (the contract's customer is `domain::fixtures::john_doe`).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{App, test};
use api_actix::{ApiSettings, configure, service_data};
use domain::{CustomerUseCases, MockCustomerUseCases};
use serde_json::Value;

pub use domain::fixtures::john_doe;

/// The contract's create request body.
pub fn contract_create_body() -> Value {
    serde_json::json!({
        "first_name": "John",
        "last_name": "Doe",
        "email": "john.doe@example.com",
        "phone": "+1-555-0123",
        "address_line1": "123 Main Street",
        "city": "New York",
        "state": "NY",
        "postal_code": "10001",
        "country": "USA",
        "date_of_birth": "1990-01-15T00:00:00",
        "gender": "male",
        "company_name": "Tech Corp",
        "marketing_emails": true,
        "marketing_sms": false,
        "notes": "Premium customer",
        "tags": "premium,tech,new-york"
    })
}

/// What the app answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
    /// The body as JSON, `Null` when it is not JSON.
    pub json: Value,
}

impl Reply {
    /// The `detail` of an error body.
    pub fn detail(&self) -> &Value {
        &self.json["detail"]
    }

    /// The `loc` of the first rejected value of a 422.
    pub fn first_loc(&self) -> &Value {
        &self.json["detail"][0]["loc"]
    }

    /// The content type header, or "".
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Sends one request to an app around `mock` with the default settings.
pub async fn send(mock: MockCustomerUseCases, req: test::TestRequest) -> Reply {
    send_with(mock, ApiSettings::default(), req).await
}

/// Sends one request to an app around `mock` with these settings.
pub async fn send_with(
    mock: MockCustomerUseCases,
    settings: ApiSettings,
    req: test::TestRequest,
) -> Reply {
    let app = test::init_service(
        App::new()
            .app_data(registered(mock))
            .configure(configure(settings)),
    )
    .await;
    let response = test::call_service(&app, req.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        json,
    }
}

/// `mock` as the app's use cases: the handlers' `Service` asks for them for the request
/// first, which gives `mock` itself.
pub fn registered(mock: MockCustomerUseCases) -> actix_web::web::Data<dyn CustomerUseCases> {
    let inner: Arc<dyn CustomerUseCases> = Arc::new(mock);
    let mut outer = MockCustomerUseCases::new();
    outer
        .expect_for_request()
        .returning(move |_| Arc::clone(&inner));
    service_data(Arc::new(outer))
}

/// A mock that must not be called: the request is rejected before reaching a use case.
pub fn untouched() -> MockCustomerUseCases {
    MockCustomerUseCases::new()
}

/// Asserts a 422 whose first rejected value is at `loc`.
pub fn assert_invalid_at(reply: &Reply, loc: Value) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.first_loc(), &loc, "{}", reply.text);
    assert!(reply.json["detail"][0]["msg"].is_string(), "{}", reply.text);
    assert!(
        reply.json["detail"][0]["type"].is_string(),
        "{}",
        reply.text
    );
    assert_eq!(reply.content_type(), "application/json");
}
