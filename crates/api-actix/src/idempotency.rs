//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): a write sent again with
//! the same key gets the first answer again instead of being done twice.
//!
//! The [`idempotency`] middleware wraps every write route. For a request with a key it
//! opens one storage transaction ([`ReplayStore::begin`]), which also locks the key and then
//! reads the key's record, if any; replays a record; otherwise runs the handler with use cases
//! bound to that transaction (the [`Service`](crate::handlers::Service) extractor picks
//! them up), and stores the answer in the same transaction before committing. So a change
//! is never kept without its record nor a record without its change, whatever crashes when.
//!
//! - Scope: the caller (the token's subject, or one anonymous scope), the method and the
//!   route pattern; the same key on another route or by another caller is another key.
//! - Fingerprint: SHA-256 of the method, the path (without a trailing slash) and the body
//!   re-serialised with sorted keys (the raw bytes when it is not JSON). A repeat with
//!   another fingerprint is 422; one while the first still runs is 409 with `Retry-After`
//!   (or, with `idempotency_wait_for_running`, waits for the first and replays it).
//! - Stored: 2xx and 4xx answers (a retry gets the same), never 5xx, so a retry after a
//!   failure can succeed. Records older than the retention are ignored (and purged by the
//!   binary's background task).
//! - Keys are never logged: they may carry client data.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpResponse, ResponseError, web};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{CustomerUseCases, ServiceError};
use sha2::{Digest, Sha256};

use crate::ApiSettings;
use crate::error::ApiError;
use crate::security::Principal;

pub use crate::headers::{IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED};
/// The headers of an answer stored with its status and body.
const KEPT_HEADERS: [HeaderName; 3] = [header::LOCATION, header::ETAG, header::CONTENT_TYPE];
/// How the route pattern of an erasure ends (in the key's scope too).
pub const ERASE_ROUTE_SUFFIX: &str = "/{customer_id}/erase";
/// How long a waiting request sleeps between two looks at a key still in use.
const WAIT_STEP: Duration = Duration::from_millis(25);
/// How long a request waits for a key in use at most before it answers 409 anyway.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// An answer as stored under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// SHA-256 of the canonical request.
    pub fingerprint: Vec<u8>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The customer the answer is about (the route's, or the one a create made): its
    /// erasure empties the record, which then stands for [`ApiError::Erased`] (status 410,
    /// no headers, no body).
    pub customer_id: Option<String>,
}

impl Recorded {
    /// Whether the customer the answer was about has been erased since.
    pub fn is_erased(&self) -> bool {
        self.status == StatusCode::GONE.as_u16() && self.headers.is_empty() && self.body.is_empty()
    }
}

/// Where keys and their answers are kept (the binary implements it over PostgreSQL).
#[async_trait]
pub trait ReplayStore: Send + Sync + 'static {
    /// Opens a transaction, takes the lock of `(scope, key)` in it and, holding it, reads
    /// the key's answer stored at or after `since`; `None` when another transaction holds
    /// the lock (then no transaction is left open).
    async fn begin(
        &self,
        scope: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Locked>, ServiceError>;
}

/// A key's lock, held by an open transaction, and the answer stored under the key.
pub struct Locked {
    pub transaction: Box<dyn KeyedTransaction>,
    /// The key's answer, unless it has none or it expired.
    pub recorded: Option<Recorded>,
}

impl std::fmt::Debug for Locked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locked")
            .field("recorded", &self.recorded)
            .finish_non_exhaustive()
    }
}

/// An open transaction holding a key's lock; dropped without
/// [`KeyedTransaction::commit_with`], it rolls back.
#[async_trait]
pub trait KeyedTransaction: Send + Sync {
    /// The use cases, running in this transaction.
    fn use_cases(&self) -> Arc<dyn CustomerUseCases>;
    /// Rolls back now (dropping it also does, a moment later).
    async fn rollback(self: Box<Self>);
    /// Stores the answer and commits; `Ok` once the commit is confirmed.
    async fn commit_with(
        self: Box<Self>,
        answer: Recorded,
        at: DateTime<Utc>,
    ) -> Result<(), ServiceError>;
}

/// The use cases of the request's transaction and its key, for
/// [`crate::handlers::Service`].
#[derive(Clone)]
pub(crate) struct TransactionUseCases {
    pub(crate) use_cases: Arc<dyn CustomerUseCases>,
    pub(crate) key: String,
}

/// The key of the header's value: 1 to 255 printable ASCII characters, bare (Stripe) or as a
/// quoted string (the draft's structured field); both forms name the same key.
pub fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    // What HTTP allows around a field value is gone already; what is left is the key.
    let text = value
        .to_str()
        .map_err(|_| ApiError::InvalidIdempotencyKey)?;
    // A lone `"` is no quoted string: its one quote cannot open and close it both.
    let key = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let printable = key.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if key.is_empty() || key.len() > 255 || !printable {
        return Err(ApiError::InvalidIdempotencyKey);
    }
    Ok(key.to_owned())
}

/// SHA-256 of the canonical request (see the module documentation).
pub fn fingerprint(method: &Method, path: &str, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(path.trim_end_matches('/').as_bytes());
    hash.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => {
            hash.update(b"json\n");
            canonical(&value, &mut hash);
        }
        Err(_) => {
            hash.update(b"raw\n");
            hash.update(body);
        }
    }
    hash.finalize().to_vec()
}

/// Feeds `value` as JSON with object keys sorted, whatever order they came in.
fn canonical(value: &serde_json::Value, hash: &mut Sha256) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hash.update(b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    hash.update(b",");
                }
                hash.update(Value::String(key.clone()).to_string().as_bytes());
                hash.update(b":");
                canonical(&map[key], hash);
            }
            hash.update(b"}");
        }
        Value::Array(items) => {
            hash.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    hash.update(b",");
                }
                canonical(item, hash);
            }
            hash.update(b"]");
        }
        scalar => hash.update(scalar.to_string().as_bytes()),
    }
}

fn is_write(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn refuse(req: ServiceRequest, err: &ApiError) -> ServiceResponse<BoxBody> {
    req.into_response(err.error_response())
}

fn replay(req: ServiceRequest, answer: &Recorded) -> ServiceResponse<BoxBody> {
    if answer.is_erased() {
        let mut response = ApiError::Erased.error_response();
        response.headers_mut().insert(
            HeaderName::from_static(IDEMPOTENT_REPLAYED),
            HeaderValue::from_static("true"),
        );
        return req.into_response(response);
    }
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((HeaderName::from_static(IDEMPOTENT_REPLAYED), "true"));
    req.into_response(response.body(answer.body.clone()))
}

/// The middleware (see the module documentation). Wraps write routes; lets every request
/// without the header, and every read, through untouched.
///
/// # Errors
/// Passes on errors of the inner service; refusals are answers.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !is_write(req.method()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let key = match parse_key(&value) {
        Ok(key) => key,
        Err(err) => return Ok(refuse(req, &err)),
    };
    let Some(store) = req.app_data::<web::Data<dyn ReplayStore>>().cloned() else {
        // Fail closed: a key the service cannot honour must not be silently ignored.
        let err = ApiError::Internal("Idempotency-Key without a replay store".into());
        return Ok(refuse(req, &err));
    };
    let settings = req
        .app_data::<web::Data<ApiSettings>>()
        .map_or_else(ApiSettings::default, |s| *s.get_ref());
    let caller = req
        .extensions()
        .get::<Principal>()
        .map_or_else(|| "anonymous".to_owned(), |p| format!("sub:{}", p.subject));
    let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    let scope = format!("{caller}\n{}\n{pattern}", req.method());

    let mut payload = req.take_payload();
    let body = match web::Bytes::from_request(req.request(), &mut payload).await {
        Ok(body) => body,
        Err(err) if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(refuse(req, &ApiError::PayloadTooLarge));
        }
        Err(err) => return Ok(req.error_response(err)),
    };
    let fingerprint = fingerprint(req.method(), req.path(), &body);

    let now = Utc::now();
    let since = now - chrono::Duration::hours(i64::from(settings.idempotency_ttl_hours));
    let Locked {
        transaction: tx,
        recorded,
    } = match begin(
        store.as_ref(),
        &scope,
        &key,
        since,
        settings.idempotency_wait_for_running,
    )
    .await
    {
        Ok(Some(locked)) => locked,
        Ok(None) => return Ok(refuse(req, &ApiError::IdempotencyKeyInUse)),
        Err(err) => {
            return Ok(refuse(
                req,
                &ApiError::from_service(err, crate::error::Source::Body),
            ));
        }
    };
    let settled = match recorded {
        None => None,
        Some(answer) if answer.fingerprint == fingerprint => Some(Settled::Replay(answer)),
        Some(_) => Some(Settled::Refuse(ApiError::IdempotencyKeyReused)),
    };
    if let Some(settled) = settled {
        // Nothing will run: end the transaction, and so free the key, before answering. A
        // transaction merely dropped rolls back a moment later, on another task; a client
        // that sends its next request with this key as soon as it has this answer would
        // find the key still taken and get 409 (seen through PgBouncer, where the rollback
        // takes one more hop).
        tx.rollback().await;
        return Ok(match settled {
            Settled::Replay(answer) => replay(req, &answer),
            Settled::Refuse(err) => refuse(req, &err),
        });
    }

    req.extensions_mut().insert(TransactionUseCases {
        use_cases: tx.use_cases(),
        key: key.clone(),
    });
    req.set_payload(Payload::from(body));
    let response = next.call(req).await?;
    let status = response.status();
    if status.is_server_error() || status.is_informational() {
        // Not stored: the transaction rolls back, and a retry may succeed.
        tx.rollback().await;
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = match actix_web::body::to_bytes(body).await {
        Ok(body) => body,
        Err(_) => {
            let err = ApiError::Internal("could not read the answer to store it".into());
            return Ok(ServiceResponse::new(request, err.error_response()));
        }
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = head.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    // An erasure's answer, the tombstone, holds no personal data: a later erasure of the
    // same customer leaves it to be replayed as it is.
    let customer_id = if pattern.ends_with(ERASE_ROUTE_SUFFIX) {
        None
    } else {
        request
            .match_info()
            .get("customer_id")
            .map(str::to_owned)
            .or_else(|| created_customer(&head))
    };
    let answer = Recorded {
        fingerprint,
        status: status.as_u16(),
        headers,
        body: body.to_vec(),
        customer_id,
    };
    if let Err(err) = tx.commit_with(answer, now).await {
        // Not acknowledged: neither the change nor its record may be assumed kept.
        let err = ApiError::from_service(err, crate::error::Source::Body);
        return Ok(ServiceResponse::new(request, err.error_response()));
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(body).map_into_boxed_body(),
    ))
}

/// The answer to a keyed request that is settled before its handler runs.
enum Settled {
    /// The key's stored answer, for the same request.
    Replay(Recorded),
    /// The key stands for another request.
    Refuse(ApiError),
}

/// The customer a create made: the last segment of its `Location`.
fn created_customer(head: &HttpResponse<()>) -> Option<String> {
    let location = head.headers().get(header::LOCATION)?.to_str().ok()?;
    let id = location.trim_end_matches('/').rsplit('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// Opens the key's transaction; when the key is in use and waiting is on, tries again
/// until it is free (without holding a connection meanwhile) or the wait is over.
async fn begin(
    store: &dyn ReplayStore,
    scope: &str,
    key: &str,
    since: DateTime<Utc>,
    wait: bool,
) -> Result<Option<Locked>, ServiceError> {
    let started = std::time::Instant::now();
    loop {
        match store.begin(scope, key, since).await? {
            Some(locked) => return Ok(Some(locked)),
            None if wait && started.elapsed() < WAIT_LIMIT => {
                tokio_sleep(WAIT_STEP).await;
            }
            None => return Ok(None),
        }
    }
}

async fn tokio_sleep(duration: Duration) {
    actix_web::rt::time::sleep(duration).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_names_its_customer_in_its_location() {
        let (head, _) = HttpResponse::Created()
            .insert_header((header::LOCATION, "/api/v1/customers/CUST_0A1B2C3D"))
            .finish()
            .into_parts();
        assert_eq!(created_customer(&head).as_deref(), Some("CUST_0A1B2C3D"));
        let (head, _) = HttpResponse::Ok().finish().into_parts();
        assert_eq!(created_customer(&head), None);
    }

    #[test]
    fn a_locked_key_shows_its_answer_in_debug_output() {
        struct Nothing;
        #[async_trait]
        impl KeyedTransaction for Nothing {
            fn use_cases(&self) -> Arc<dyn CustomerUseCases> {
                unreachable!("not used")
            }
            async fn rollback(self: Box<Self>) {}
            async fn commit_with(
                self: Box<Self>,
                _: Recorded,
                _: DateTime<Utc>,
            ) -> Result<(), ServiceError> {
                Ok(())
            }
        }
        let locked = Locked {
            transaction: Box::new(Nothing),
            recorded: None,
        };
        assert_eq!(format!("{locked:?}"), "Locked { recorded: None, .. }");
    }

    #[test]
    fn only_an_emptied_410_stands_for_an_erased_customer() {
        let emptied = Recorded {
            fingerprint: vec![1],
            status: 410,
            headers: vec![],
            body: vec![],
            customer_id: None,
        };
        assert!(emptied.is_erased());
        let with_body = Recorded {
            body: b"{}".to_vec(),
            ..emptied.clone()
        };
        let with_headers = Recorded {
            headers: vec![("etag".into(), "\"1\"".into())],
            ..emptied.clone()
        };
        let other_status = Recorded {
            status: 404,
            ..emptied.clone()
        };
        for recorded in [with_body, with_headers, other_status] {
            assert!(!recorded.is_erased(), "{recorded:?}");
        }
    }

    fn key(raw: &str) -> Result<String, ApiError> {
        parse_key(&HeaderValue::from_str(raw).unwrap())
    }

    #[test]
    fn a_key_is_1_to_255_printable_ascii_characters_bare_or_quoted() {
        assert_eq!(key("abc").unwrap(), "abc");
        assert_eq!(key("\"abc\"").unwrap(), "abc");
        assert_eq!(key("a b").unwrap(), "a b");
        assert_eq!(key("\"a\"b\"").unwrap(), "a\"b");
        assert_eq!(key("\"abc").unwrap(), "\"abc");
        assert_eq!(key("\"").unwrap(), "\"");
        assert_eq!(key(&"k".repeat(255)).unwrap().len(), 255);
        assert_eq!(key(&format!("\"{}\"", "k".repeat(255))).unwrap().len(), 255);
        for bad in ["", "\"\"", &"k".repeat(256)] {
            assert!(
                matches!(key(bad), Err(ApiError::InvalidIdempotencyKey)),
                "{bad:?}"
            );
        }
        let non_ascii = HeaderValue::from_bytes("clé".as_bytes()).unwrap();
        assert!(parse_key(&non_ascii).is_err());
        let control = HeaderValue::from_bytes(b"a\tb").unwrap();
        assert!(parse_key(&control).is_err());
    }

    #[test]
    fn the_fingerprint_ignores_key_order_spacing_and_a_trailing_slash_and_nothing_else() {
        let post = Method::POST;
        let a = fingerprint(
            &post,
            "/api/v1/customers/",
            br#"{"a": 1, "b": [1, {"y": 2, "x": 1}]}"#,
        );
        let b = fingerprint(
            &post,
            "/api/v1/customers",
            br#"{"b":[1,{"x":1,"y":2}],"a":1}"#,
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        for other in [
            fingerprint(
                &Method::PUT,
                "/api/v1/customers",
                br#"{"a":1,"b":[1,{"x":1,"y":2}]}"#,
            ),
            fingerprint(&post, "/api/v1/other", br#"{"a":1,"b":[1,{"x":1,"y":2}]}"#),
            fingerprint(
                &post,
                "/api/v1/customers",
                br#"{"a":2,"b":[1,{"x":1,"y":2}]}"#,
            ),
            fingerprint(
                &post,
                "/api/v1/customers",
                br#"{"a":1,"b":[{"x":1,"y":2},1]}"#,
            ),
            fingerprint(
                &post,
                "/api/v1/customers",
                br#"{"a":"1","b":[1,{"x":1,"y":2}]}"#,
            ),
        ] {
            assert_ne!(a, other);
        }
        // Not JSON: the bytes as they are.
        assert_eq!(
            fingerprint(&post, "/x", b"a b"),
            fingerprint(&post, "/x", b"a b")
        );
        assert_ne!(
            fingerprint(&post, "/x", b"a b"),
            fingerprint(&post, "/x", b"a  b")
        );
        assert_eq!(
            fingerprint(&post, "/x", b""),
            fingerprint(&post, "/x/", b"")
        );
    }

    /// The canonical form is what keys stored by an earlier release are compared with: it
    /// may never change.
    #[test]
    fn the_fingerprint_is_the_hash_of_the_canonical_request_byte_for_byte() {
        let body = br#"{"b": {"y": [1, "x"], "x": null}, "a": 1.5}"#;
        let canonical =
            "POST\n/api/v1/customers\njson\n{\"a\":1.5,\"b\":{\"x\":null,\"y\":[1,\"x\"]}}";
        assert_eq!(
            fingerprint(&Method::POST, "/api/v1/customers/", body),
            Sha256::digest(canonical.as_bytes()).to_vec()
        );
        assert_eq!(
            fingerprint(&Method::POST, "/x", b"not json"),
            Sha256::digest(b"POST\n/x\nraw\nnot json").to_vec()
        );
    }

    #[test]
    fn reads_are_never_replayed() {
        assert!(!is_write(&Method::GET) && !is_write(&Method::HEAD));
        assert!(is_write(&Method::POST) && is_write(&Method::PUT));
        assert!(is_write(&Method::PATCH) && is_write(&Method::DELETE));
    }
}
