//! Request handlers, one module per area. Each parses its input into domain types, calls
//! one use case and shapes the answer; the `#[utoipa::path]` on each lists every status it
//! can return.

pub mod analytics;
pub mod customers;
pub mod docs;
pub mod fallback;
pub mod health;
pub mod history;
pub mod locations;
pub mod privacy;
pub mod responses;
pub mod search;
pub mod verification;

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use domain::{CustomerUseCases, Provenance, ReadAffinity, RequestContext};

use crate::error::ApiError;
use crate::idempotency::TransactionUseCases;
use crate::security::Principal;

/// The id of the request, for the binary's request-logging middleware to put in the
/// request's extensions: the history records it with every change the request makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Marks a request whose handler only reads, whatever its method (`POST /search`): it
/// writes nothing a client would have to read back, so its answer needs no consistency
/// token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnlyReads;

/// The use cases a handler calls: those of the request's transaction when the
/// [`idempotency`](crate::idempotency) middleware opened one, else the ones the binary
/// registered (see [`crate::service_data`]), [for the request](CustomerUseCases::for_request):
/// its caller, its [`RequestId`] and its `Idempotency-Key` recorded with its changes, and the
/// `X-Consistency-Token` it sent for its reads (a few reference counts and allocations).
#[derive(Clone)]
pub struct Service(Arc<dyn CustomerUseCases>);

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Service")
    }
}

impl std::ops::Deref for Service {
    type Target = dyn CustomerUseCases;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl FromRequest for Service {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        let (use_cases, key) = match extensions.get::<TransactionUseCases>() {
            Some(tx) => (tx.use_cases.clone(), Some(tx.key.clone())),
            None => match req.app_data::<web::Data<dyn CustomerUseCases>>() {
                Some(data) => (data.clone().into_inner(), None),
                None => return ready(Err(ApiError::Internal("no use cases registered".into()))),
            },
        };
        let provenance = Provenance {
            actor: extensions
                .get::<Principal>()
                .map(|principal| principal.subject.clone()),
            request_id: extensions.get::<RequestId>().map(|id| id.0.clone()),
            idempotency_key: key,
        };
        let consistency_token = req
            .headers()
            .get(crate::headers::CONSISTENCY_TOKEN)
            // Not text: no position the storage could know, so read where every write is.
            .map(|value| value.to_str().unwrap_or("unreadable").to_owned());
        let context = RequestContext {
            provenance,
            consistency_token,
            affinity: ReadAffinity::default(),
        };
        ready(Ok(Self(use_cases.for_request(context))))
    }
}
