//! Handler tests: the whole router against a mocked `CustomerUseCases`, one request (or a
//! few) per test, so every route, status code and body shape is covered without a database.

mod analytics;
mod create;
mod customers;
mod docs;
mod errors;
mod extractors;
mod health;
mod listing;
mod locations;
mod search;
mod support;
mod verification;
