//! The `Idempotency-Key` middleware against a replay store of the test's own that records
//! how each keyed transaction ended: a request answered without running its handler (a
//! replay, a key reused for another request) has ended its transaction, and so freed the
//! key, before its answer is out; a store that could not read the record hands out none. A transaction merely
//! dropped frees the key a moment later, and a client's next request with that key, sent
//! the moment it has the answer, found it still taken (409) through PgBouncer.

#![expect(
    clippy::unwrap_used,
    reason = "a poisoned ledger is a broken test, and fails it"
)]

use std::sync::{Arc, Mutex};

use actix_web::http::{Method, StatusCode};
use actix_web::{App, test, web};
use api_actix::idempotency::{KeyedTransaction, Locked, Recorded, ReplayStore, fingerprint};
use api_actix::{ApiSettings, configure};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{CustomerUseCases, ServiceError};
use serde_json::json;

use crate::support::{registered, untouched};

/// How a keyed transaction ended, in order.
type Ledger = Arc<Mutex<Vec<&'static str>>>;

/// What the store's record lookup answers.
#[derive(Clone)]
enum Lookup {
    Found(Recorded),
    Fails,
}

struct Store {
    lookup: Lookup,
    ledger: Ledger,
}

#[async_trait]
impl ReplayStore for Store {
    async fn begin(
        &self,
        _scope: &str,
        _key: &str,
        _since: DateTime<Utc>,
    ) -> Result<Option<Locked>, ServiceError> {
        let recorded = match &self.lookup {
            Lookup::Found(answer) => answer.clone(),
            Lookup::Fails => return Err(ServiceError::Unavailable("connection lost".into())),
        };
        Ok(Some(Locked {
            transaction: Box::new(Transaction {
                ledger: Arc::clone(&self.ledger),
                ended: false,
            }),
            recorded: Some(recorded),
        }))
    }
}

struct Transaction {
    ledger: Ledger,
    ended: bool,
}

impl Transaction {
    fn end(&mut self, how: &'static str) {
        self.ended = true;
        self.ledger.lock().unwrap().push(how);
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.ended {
            self.ledger.lock().unwrap().push("dropped");
        }
    }
}

#[async_trait]
impl KeyedTransaction for Transaction {
    fn use_cases(&self) -> Arc<dyn CustomerUseCases> {
        Arc::new(untouched())
    }

    async fn rollback(mut self: Box<Self>) {
        self.end("rolled back");
    }

    async fn commit_with(
        mut self: Box<Self>,
        _answer: Recorded,
        _at: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        self.end("committed");
        Ok(())
    }
}

const PATH: &str = "/api/v1/customers/";

fn body() -> serde_json::Value {
    json!({"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"})
}

/// The create's stored answer, for a request with `body`.
fn stored_for(body: &serde_json::Value) -> Recorded {
    Recorded {
        fingerprint: fingerprint(&Method::POST, PATH, body.to_string().as_bytes()),
        status: 201,
        headers: vec![("location".into(), "/api/v1/customers/CUST_0A1B2C3D".into())],
        body: br#"{"customer_id":"CUST_0A1B2C3D"}"#.to_vec(),
        customer_id: Some("CUST_0A1B2C3D".into()),
    }
}

/// Sends the keyed create to an app whose store answers `lookup`; returns the status and
/// how the transaction had ended by the time the answer was out.
async fn keyed_create(lookup: Lookup) -> (StatusCode, Vec<&'static str>) {
    let ledger = Ledger::default();
    let store: Arc<dyn ReplayStore> = Arc::new(Store {
        lookup,
        ledger: Arc::clone(&ledger),
    });
    let app = test::init_service(
        App::new()
            .app_data(registered(untouched()))
            .app_data(web::Data::from(store))
            .configure(configure(ApiSettings::default())),
    )
    .await;
    let request = test::TestRequest::post()
        .uri(PATH)
        .insert_header(("Idempotency-Key", "k1"))
        .set_payload(body().to_string())
        .insert_header(("content-type", "application/json"))
        .to_request();
    let response = test::call_service(&app, request).await;
    let ended = ledger.lock().unwrap().clone();
    (response.status(), ended)
}

#[actix_web::test]
async fn a_replay_has_freed_its_key_before_it_answers() {
    let (status, ended) = keyed_create(Lookup::Found(stored_for(&body()))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(ended, ["rolled back"]);
}

#[actix_web::test]
async fn a_key_reused_for_another_request_has_freed_the_key_before_the_422() {
    let other = json!({"first_name": "Bob", "last_name": "Lee", "email": "bob@example.com"});
    let (status, ended) = keyed_create(Lookup::Found(stored_for(&other))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(ended, ["rolled back"]);
}

#[actix_web::test]
async fn a_key_whose_record_could_not_be_read_is_503_and_runs_nothing() {
    // The store ended its transaction itself: none is handed out to end.
    let (status, ended) = keyed_create(Lookup::Fails).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ended.is_empty(), "{ended:?}");
}
