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

use actix_web::web;
use domain::CustomerUseCases;

/// The use cases, as the binary registers them (see [`crate::service_data`]).
pub type Service = web::Data<dyn CustomerUseCases>;
