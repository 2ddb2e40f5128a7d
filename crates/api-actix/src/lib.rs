//! HTTP adapter: the customer API of the contract (`docs/contract.md`) on actix-web.
//!
//! Request and response types (DTOs) translate between the contract's JSON and the domain's
//! inputs; handlers call [`domain::CustomerUseCases`] and nothing else; every failure leaves
//! as [`ApiError`] in FastAPI's `{"detail": ...}` shape, so existing clients of the contract
//! keep working. Beside the routes: `idempotency` (the `Idempotency-Key` middleware over a
//! `ReplayStore` port the binary implements), `conditional` (ETags, `If-Match`,
//! `If-None-Match`), `security` (JWT roles, rate limits, CORS, security headers), `pydantic`
//! (the original's validation wording) and `openapi` (`/openapi.json`, `/docs`). The binary
//! wires it in:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn wire(service: Arc<dyn domain::CustomerUseCases>) {
//! let data = api_actix::service_data(service);
//! let settings = api_actix::ApiSettings::default();
//! let _server = actix_web::HttpServer::new(move || {
//!     actix_web::App::new()
//!         .app_data(data.clone())
//!         .configure(api_actix::configure(settings))
//! });
//! # }
//! ```

pub mod conditional;
pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod headers;
pub mod idempotency;
pub mod openapi;
pub mod pydantic;
pub mod routes;
pub mod security;
pub mod settings;

pub use error::ApiError;
pub use handlers::{OnlyReads, RequestId};
pub use openapi::{ApiDoc, openapi};
pub use routes::{configure, service_data};
pub use settings::ApiSettings;
