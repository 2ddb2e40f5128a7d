//! Handler tests: the whole router against a mocked `CustomerUseCases`, one request (or a
//! few) per test, so every route, status code and body shape is covered without a database.

mod access;
mod analytics;
mod create;
mod customers;
mod docs;
mod errors;
mod extractors;
mod hardening;
mod health;
mod history;
mod idempotency;
mod keyed_writes;
mod language;
mod listing;
mod locations;
mod privacy;
mod rate_limits;
mod search;
mod security_docs;
mod security_support;
mod support;
mod tokens;
mod verification;
