//! The customer-api binary crate: the composition root. It reads settings, sets up logging,
//! builds the pool, runs migrations, wires the PostgreSQL adapter into the domain service and
//! the service into the HTTP adapter, and serves. Nothing here decides a business rule.
//!
//! Two small adapters live here because each joins two others, which may not depend on each
//! other: `replay` (api-actix's `ReplayStore` over infra-postgres's `PgTransaction`) and
//! `consistency` (the middleware that stamps writes' answers with a consistency token).

pub mod cli;
pub mod consistency;
pub mod history;
pub mod metrics;
pub mod observe;
pub mod outage;
pub mod replay;
pub mod settings;
pub mod startup;
pub mod telemetry;
#[cfg(test)]
mod test_logs;
pub mod token;

pub use settings::Settings;
pub use startup::Application;
