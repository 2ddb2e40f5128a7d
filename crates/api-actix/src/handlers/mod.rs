//! Request handlers, one module per area. Each parses its input into domain types, calls
//! one use case and shapes the answer; the `#[utoipa::path]` on each lists every status it
//! can return.

pub mod analytics;
pub mod customers;
pub mod docs;
pub mod fallback;
pub mod health;
pub mod locations;
pub mod responses;
pub mod search;
pub mod verification;

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use domain::CustomerUseCases;

use crate::error::ApiError;
use crate::idempotency::TransactionUseCases;

/// The use cases a handler calls: those of the request's transaction when the
/// [`idempotency`](crate::idempotency) middleware opened one, else the ones the binary
/// registered (see [`crate::service_data`]).
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
        if let Some(tx) = req.extensions().get::<TransactionUseCases>() {
            return ready(Ok(Self(tx.0.clone())));
        }
        ready(
            req.app_data::<web::Data<dyn CustomerUseCases>>()
                .map(|data| Self(data.clone().into_inner()))
                .ok_or_else(|| ApiError::Internal("no use cases registered".into())),
        )
    }
}
