//! The `Idempotency-Key` middleware end to end in the router, against a replay store kept in
//! memory that behaves as the PostgreSQL one does: one transaction holds a key at a time, a
//! committed answer is what later requests with the key see, a rolled-back one is gone.
//! What is pinned here: which requests are keyed at all, the scope a key lives in, what is
//! stored (status, the kept headers, the body, the customer the answer is about), what a
//! replay answers, what is never stored, and the waits and failures around the key's lock.
//! (The same rules over PostgreSQL, through HTTP: `tests/tests/api/idempotency.rs`.)

#![expect(
    clippy::unwrap_used,
    reason = "a poisoned store is a broken test, and fails it"
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::{App, web};
use api_actix::idempotency::{KeyedTransaction, Locked, Recorded, ReplayStore};
use api_actix::{ApiSettings, configure};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{CustomerUseCases, MockCustomerUseCases, ServiceError};
use serde_json::{Value, json};

use crate::support::{john_doe, registered, untouched};

const KEY: &str = "k1";

/// What the store saw and holds.
#[derive(Default)]
struct Ledger {
    /// Answers by scope and key, with when they were stored.
    answers: HashMap<(String, String), (Recorded, DateTime<Utc>)>,
    /// Every `begin`'s scope, in order.
    scopes: Vec<String>,
    /// The horizon of every lock taken, in order.
    horizons: Vec<DateTime<Utc>>,
    /// How each transaction ended, in order.
    ended: Vec<&'static str>,
}

/// The store: keys and answers in memory, the use cases of every transaction given.
struct Keys {
    ledger: Arc<Mutex<Ledger>>,
    use_cases: Arc<dyn CustomerUseCases>,
    /// How many `begin`s find the key in use before one takes it.
    in_use_for: AtomicUsize,
    /// Every `begin`, whatever it found.
    begins: AtomicUsize,
    /// Whether a commit fails, as one whose confirmation never arrived.
    commit_fails: bool,
}

impl Keys {
    fn new(use_cases: Arc<dyn CustomerUseCases>) -> Self {
        Self {
            ledger: Arc::default(),
            use_cases,
            in_use_for: AtomicUsize::new(0),
            begins: AtomicUsize::new(0),
            commit_fails: false,
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap()
    }

    /// The one answer stored.
    fn stored(&self) -> Recorded {
        let ledger = self.ledger();
        assert_eq!(ledger.answers.len(), 1, "one answer stored");
        ledger.answers.values().next().unwrap().0.clone()
    }
}

#[async_trait]
impl ReplayStore for Keys {
    async fn begin(
        &self,
        scope: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Locked>, ServiceError> {
        self.begins.fetch_add(1, Ordering::SeqCst);
        let mut ledger = self.ledger();
        ledger.scopes.push(scope.to_owned());
        let in_use = self
            .in_use_for
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if in_use {
            return Ok(None);
        }
        ledger.horizons.push(since);
        let id = (scope.to_owned(), key.to_owned());
        let recorded = ledger
            .answers
            .get(&id)
            .filter(|(_, at)| *at >= since)
            .map(|(answer, _)| answer.clone());
        Ok(Some(Locked {
            transaction: Box::new(Transaction {
                ledger: Arc::clone(&self.ledger),
                use_cases: Arc::clone(&self.use_cases),
                id,
                commit_fails: self.commit_fails,
            }),
            recorded,
        }))
    }
}

struct Transaction {
    ledger: Arc<Mutex<Ledger>>,
    use_cases: Arc<dyn CustomerUseCases>,
    id: (String, String),
    commit_fails: bool,
}

#[async_trait]
impl KeyedTransaction for Transaction {
    fn use_cases(&self) -> Arc<dyn CustomerUseCases> {
        Arc::clone(&self.use_cases)
    }

    async fn rollback(self: Box<Self>) {
        self.ledger.lock().unwrap().ended.push("rolled back");
    }

    async fn commit_with(
        self: Box<Self>,
        answer: Recorded,
        at: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let mut ledger = self.ledger.lock().unwrap();
        if self.commit_fails {
            ledger.ended.push("commit failed");
            return Err(ServiceError::Unavailable(
                "the commit was not confirmed".into(),
            ));
        }
        ledger.answers.insert(self.id.clone(), (answer, at));
        ledger.ended.push("committed");
        Ok(())
    }
}

/// `inner` as a keyed transaction's use cases: the handler asks for them for its request,
/// whose context must carry the key.
fn keyed(inner: MockCustomerUseCases) -> Arc<dyn CustomerUseCases> {
    let inner: Arc<dyn CustomerUseCases> = Arc::new(inner);
    let mut outer = MockCustomerUseCases::new();
    outer
        .expect_for_request()
        .withf(|context| context.provenance.idempotency_key.as_deref() == Some(KEY))
        .returning(move |_| Arc::clone(&inner));
    Arc::new(outer)
}

/// The app around `keys`, whose use cases outside a keyed transaction must not be reached.
fn app(
    keys: &Arc<Keys>,
    settings: ApiSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    let store: Arc<dyn ReplayStore> = Arc::clone(keys) as _;
    App::new()
        .app_data(registered(untouched()))
        .app_data(web::Data::from(store))
        .configure(configure(settings))
}

/// A status, the headers as text, and the body.
struct Answer {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends `request` (a `TestRequest::to_request()`) to `app`.
async fn send<S, R>(app: &S, request: R) -> Answer
where
    S: Service<R, Response = ServiceResponse, Error = actix_web::Error>,
{
    let response = test::call_service(app, request).await;
    let status = response.status();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    let body = test::read_body(response).await.to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn create_body() -> Value {
    json!({"first_name": "John", "last_name": "Doe", "email": "john.doe@example.com"})
}

fn keyed_create(body: &Value) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/customers/")
        .insert_header(("Idempotency-Key", KEY))
        .set_json(body)
}

/// Use cases whose create runs exactly `times` times.
fn creating(times: usize) -> Arc<dyn CustomerUseCases> {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create()
        .times(times)
        .returning(|_| Ok(john_doe()));
    keyed(mock)
}

#[actix_web::test]
async fn a_keyed_create_runs_once_and_its_answer_is_stored_with_the_headers_that_matter() {
    let keys = Arc::new(Keys::new(creating(1)));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    let first = send(&app, keyed_create(&create_body()).to_request()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(keys.ledger().ended, ["committed"]);
    assert_eq!(
        keys.ledger().scopes,
        ["anonymous\nPOST\n/api/v1/customers"],
        "the key lives in the caller's scope, for one method and route"
    );

    let stored = keys.stored();
    assert_eq!(stored.status, 200);
    assert_eq!(
        stored.headers,
        [
            (
                "location".to_owned(),
                "/api/v1/customers/CUST_A1B2C3D4".to_owned()
            ),
            ("etag".to_owned(), "\"1\"".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ],
        "only Location, ETag and Content-Type are kept"
    );
    assert_eq!(stored.body, first.body);
    assert_eq!(stored.customer_id.as_deref(), Some("CUST_A1B2C3D4"));
    assert_eq!(
        stored.fingerprint,
        api_actix::idempotency::fingerprint(
            &actix_web::http::Method::POST,
            "/api/v1/customers/",
            create_body().to_string().as_bytes()
        )
    );
}

#[actix_web::test]
async fn the_same_request_again_is_answered_from_the_store_as_the_first_was() {
    let keys = Arc::new(Keys::new(creating(1)));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    let first = send(&app, keyed_create(&create_body()).to_request()).await;
    // Key order and spacing do not make it another request.
    let reordered =
        json!({"email": "john.doe@example.com", "last_name": "Doe", "first_name": "John"});
    let again = send(&app, keyed_create(&reordered).to_request()).await;

    assert_eq!(again.status, first.status);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    for name in ["location", "etag", "content-type"] {
        assert_eq!(again.header(name), first.header(name), "{name}");
    }
    assert_eq!(keys.ledger().ended, ["committed", "rolled back"]);
}

#[actix_web::test]
async fn the_key_for_another_request_is_refused_with_422_and_nothing_runs() {
    let keys = Arc::new(Keys::new(creating(1)));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    send(&app, keyed_create(&create_body()).to_request()).await;
    let other = json!({"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com"});
    let refused = send(&app, keyed_create(&other).to_request()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["code"], "idempotency_key_reused");
    assert_eq!(refused.header("idempotent-replayed"), None);
    assert_eq!(keys.ledger().ended, ["committed", "rolled back"]);
}

#[actix_web::test]
async fn an_answer_older_than_the_ttl_is_not_replayed_and_the_request_runs_again() {
    let keys = Arc::new(Keys::new(creating(2)));
    let settings = ApiSettings {
        idempotency_ttl_hours: 5,
        ..ApiSettings::default()
    };
    let app = test::init_service(app(&keys, settings)).await;
    send(&app, keyed_create(&create_body()).to_request()).await;
    {
        let mut ledger = keys.ledger();
        let (_, at) = ledger.answers.values_mut().next().unwrap();
        *at -= chrono::Duration::hours(5) + chrono::Duration::seconds(30);
    }
    let again = send(&app, keyed_create(&create_body()).to_request()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_eq!(keys.ledger().ended, ["committed", "committed"]);

    // The horizon is the ttl before the request, not a moment more or less.
    let before = Utc::now();
    send(&app, keyed_create(&create_body()).to_request()).await;
    let horizon = *keys.ledger().horizons.last().unwrap();
    let age = before - horizon;
    assert!(
        age >= chrono::Duration::hours(5) - chrono::Duration::seconds(5)
            && age <= chrono::Duration::hours(5),
        "horizon {age} before the request"
    );
}

#[actix_web::test]
async fn a_server_error_is_not_stored_so_a_retry_runs_again() {
    let mut mock = MockCustomerUseCases::new();
    let mut calls = 0;
    mock.expect_create().times(2).returning(move |_| {
        calls += 1;
        if calls == 1 {
            Err(ServiceError::Unavailable("connection lost".into()))
        } else {
            Ok(john_doe())
        }
    });
    let keys = Arc::new(Keys::new(keyed(mock)));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    let failed = send(&app, keyed_create(&create_body()).to_request()).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(keys.ledger().ended, ["rolled back"]);
    assert!(keys.ledger().answers.is_empty());

    let retried = send(&app, keyed_create(&create_body()).to_request()).await;
    assert_eq!(retried.status, StatusCode::OK);
    assert_eq!(keys.ledger().ended, ["rolled back", "committed"]);
}

#[actix_web::test]
async fn a_client_error_is_stored_and_replayed() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_create()
        .times(1)
        .returning(|_| Err(ServiceError::EmailTaken));
    let keys = Arc::new(Keys::new(keyed(mock)));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    let first = send(&app, keyed_create(&create_body()).to_request()).await;
    assert_eq!(first.status, StatusCode::BAD_REQUEST);
    let again = send(&app, keyed_create(&create_body()).to_request()).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        keys.stored().customer_id,
        None,
        "a refused create made no one"
    );
}

#[actix_web::test]
async fn a_commit_that_is_not_confirmed_answers_503_not_the_handlers_answer() {
    let keys = Arc::new(Keys {
        commit_fails: true,
        ..Keys::new(creating(1))
    });
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    let answer = send(&app, keyed_create(&create_body()).to_request()).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.header("location"), None);
    assert_eq!(keys.ledger().ended, ["commit failed"]);
}

#[actix_web::test]
async fn a_key_in_use_is_409_at_once_unless_waiting_is_on() {
    let keys = Arc::new(Keys {
        in_use_for: AtomicUsize::new(1),
        ..Keys::new(creating(0))
    });
    let at_once = test::init_service(app(&keys, ApiSettings::default())).await;
    let busy = send(&at_once, keyed_create(&create_body()).to_request()).await;
    assert_eq!(busy.status, StatusCode::CONFLICT);
    assert_eq!(busy.json()["code"], "idempotency_key_in_use");
    assert_eq!(keys.begins.load(Ordering::SeqCst), 1, "no second look");

    let keys = Arc::new(Keys {
        in_use_for: AtomicUsize::new(3),
        ..Keys::new(creating(1))
    });
    let settings = ApiSettings {
        idempotency_wait_for_running: true,
        ..ApiSettings::default()
    };
    let waiting = test::init_service(app(&keys, settings)).await;
    let started = std::time::Instant::now();
    let waited = send(&waiting, keyed_create(&create_body()).to_request()).await;
    assert_eq!(waited.status, StatusCode::OK);
    // Three looks at a key in use, each followed by a 25 ms pause, not a busy loop.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(75),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        keys.begins.load(Ordering::SeqCst),
        4,
        "looked again until free"
    );
}

#[actix_web::test]
async fn the_answer_about_a_customer_names_it_and_an_erasures_answer_names_no_one() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_delete().times(1).returning(|_, _| Ok(()));
    mock.expect_erase()
        .times(1)
        .returning(|_, _| Err(ServiceError::NotFound));
    let keys = Arc::new(Keys::new(keyed(mock)));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    let delete = TestRequest::delete()
        .uri("/api/v1/customers/CUST_00000001/hard")
        .insert_header(("Idempotency-Key", KEY));
    assert_eq!(send(&app, delete.to_request()).await.status, StatusCode::OK);
    assert_eq!(keys.stored().customer_id.as_deref(), Some("CUST_00000001"));

    keys.ledger().answers.clear();
    let erase = TestRequest::post()
        .uri("/api/v1/customers/CUST_00000001/erase")
        .insert_header(("Idempotency-Key", KEY));
    assert_eq!(
        send(&app, erase.to_request()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(keys.stored().customer_id, None);
    assert_eq!(
        keys.ledger().scopes,
        [
            "anonymous\nDELETE\n/api/v1/customers/{customer_id}/hard",
            "anonymous\nPOST\n/api/v1/customers/{customer_id}/erase",
        ]
    );
}

#[actix_web::test]
async fn an_answer_emptied_by_an_erasure_replays_as_410() {
    let keys = Arc::new(Keys::new(creating(1)));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    send(&app, keyed_create(&create_body()).to_request()).await;
    {
        let mut ledger = keys.ledger();
        let (answer, _) = ledger.answers.values_mut().next().unwrap();
        answer.status = 410;
        answer.headers.clear();
        answer.body.clear();
    }
    let again = send(&app, keyed_create(&create_body()).to_request()).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(again.json()["code"], "customer_erased");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}

#[actix_web::test]
async fn reads_and_unkeyed_writes_never_reach_the_store() {
    let mut mock = MockCustomerUseCases::new();
    mock.expect_get().times(1).returning(|_| Ok(john_doe()));
    mock.expect_create().times(1).returning(|_| Ok(john_doe()));
    let mut outer = MockCustomerUseCases::new();
    let inner: Arc<dyn CustomerUseCases> = Arc::new(mock);
    outer
        .expect_for_request()
        .withf(|context| context.provenance.idempotency_key.is_none())
        .returning(move |_| Arc::clone(&inner));
    let keys = Arc::new(Keys::new(keyed(untouched())));
    let store: Arc<dyn ReplayStore> = Arc::clone(&keys) as _;
    let app = test::init_service(
        App::new()
            .app_data(api_actix::service_data(Arc::new(outer)))
            .app_data(web::Data::from(store))
            .configure(configure(ApiSettings::default())),
    )
    .await;
    let read = TestRequest::get()
        .uri("/api/v1/customers/CUST_A1B2C3D4")
        .insert_header(("Idempotency-Key", KEY));
    assert_eq!(send(&app, read.to_request()).await.status, StatusCode::OK);
    let unkeyed = TestRequest::post()
        .uri("/api/v1/customers/")
        .set_json(create_body());
    assert_eq!(
        send(&app, unkeyed.to_request()).await.status,
        StatusCode::OK
    );
    assert_eq!(keys.begins.load(Ordering::SeqCst), 0);
}

#[actix_web::test]
async fn a_malformed_key_is_400_and_a_key_without_a_store_is_500() {
    let keys = Arc::new(Keys::new(keyed(untouched())));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    let bad = keyed_create(&create_body()).insert_header(("Idempotency-Key", ""));
    let refused = send(&app, bad.to_request()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["code"], "invalid_idempotency_key");
    assert_eq!(keys.begins.load(Ordering::SeqCst), 0);

    let storeless = test::init_service(
        App::new()
            .app_data(registered(untouched()))
            .configure(configure(ApiSettings::default())),
    )
    .await;
    let answer = send(&storeless, keyed_create(&create_body()).to_request()).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[actix_web::test]
async fn a_keyed_body_over_the_limit_is_413_before_the_key_is_taken() {
    let keys = Arc::new(Keys::new(keyed(untouched())));
    let settings = ApiSettings {
        max_body_bytes: 64,
        ..ApiSettings::default()
    };
    let app = test::init_service(app(&keys, settings)).await;
    let big = json!({"first_name": "John", "last_name": "Doe", "email": "john.doe@example.com", "notes": "x".repeat(100)});
    let answer = send(&app, keyed_create(&big).to_request()).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json()["code"], "payload_too_large");
    assert_eq!(keys.begins.load(Ordering::SeqCst), 0);
}

#[actix_web::test]
async fn a_keyed_body_that_cannot_be_read_is_refused_as_it_is_without_the_key_taken() {
    let keys = Arc::new(Keys::new(keyed(untouched())));
    let app = test::init_service(app(&keys, ApiSettings::default())).await;
    // Said to be gzip, and no gzip at all: the body cannot be read, which is no 413.
    let corrupt = TestRequest::post()
        .uri("/api/v1/customers/")
        .insert_header(("Idempotency-Key", KEY))
        .insert_header(("content-type", "application/json"))
        .insert_header(("content-encoding", "gzip"))
        .set_payload("not gzip at all");
    let answer = send(&app, corrupt.to_request()).await;
    assert!(answer.status.is_client_error(), "{}", answer.status);
    assert_ne!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(keys.begins.load(Ordering::SeqCst), 0);
}
