//! The use cases against mock ports: every rule decided here has a test that fails when the
//! rule breaks. Shared fixtures here, one module per area.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use mockall::predicate::eq;

use super::*;
use crate::error::EmailProblem;
use crate::models::Provenance;
use crate::models::{CustomerChanges, Patch, Username};
use crate::ports::{
    MockClock, MockCustomerHistory, MockCustomerReads, MockCustomerSearch, MockCustomerStore,
    MockIdSource, MockStatisticsSource, MockSuffixSource,
};

/// One mock per storage port; a test sets expectations only on the ports its use case
/// touches (a call to any other fails the test).
pub(super) type Mocks = Storage<
    MockCustomerStore,
    MockCustomerReads,
    MockCustomerSearch,
    MockStatisticsSource,
    MockCustomerHistory,
>;

pub(super) type TestService = CustomerService<
    MockCustomerStore,
    MockCustomerReads,
    MockCustomerSearch,
    MockStatisticsSource,
    MockCustomerHistory,
    MockClock,
    MockIdSource,
    MockSuffixSource,
>;

pub(super) fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-06-01T12:00:00Z")
        .unwrap()
        .to_utc()
}

pub(super) fn clock() -> MockClock {
    let mut c = MockClock::new();
    c.expect_now().returning(now);
    c
}

/// UUIDs counting up from 1, so each customer id differs.
pub(super) fn ids() -> MockIdSource {
    let mut ids = MockIdSource::new();
    let mut n: u128 = 0;
    ids.expect_new_uuid().returning(move || {
        n += 1;
        uuid::Uuid::from_u128(n << 96)
    });
    ids
}

/// Suffixes counting up from the low bound.
pub(super) fn suffixes() -> MockSuffixSource {
    let mut s = MockSuffixSource::new();
    let mut n = 0;
    s.expect_number_in().returning(move |low, _| {
        n += 1;
        low + n
    });
    s
}

/// A store where every username candidate is free.
pub(super) fn every_username_free(store: &mut MockCustomerStore) {
    store.expect_taken_usernames().returning(|_| Ok(vec![]));
}

pub(super) fn service(repo: Mocks) -> TestService {
    CustomerService::with_sources(repo, clock(), ids(), suffixes())
}

pub(super) fn john() -> NewCustomer {
    NewCustomer {
        first_name: "John".into(),
        last_name: "Doe".into(),
        email: "john.doe@example.com".into(),
        phone: Some("+1-555-0123".into()),
        ..NewCustomer::default()
    }
}

pub(super) fn stored(
    id: &CustomerId,
    username: &Username,
    draft: &crate::models::CustomerDraft,
) -> Customer {
    let mut c = crate::fixtures::john_doe();
    c.customer_id = id.clone();
    c.username = username.clone();
    c.email = draft.email.clone();
    c
}

/// Each violation as `(field, rule)`, a nested field as `parent.field`.
pub(super) fn violations(err: ServiceError) -> Vec<(String, Rule)> {
    match err {
        ServiceError::Validation(v) => {
            v.0.into_iter()
                .map(|f| match f.within {
                    Some(parent) => (format!("{parent}.{}", f.field), f.rule),
                    None => (f.field.to_owned(), f.rule),
                })
                .collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

mod bulk;
mod create;
mod erasure;
mod fields;
mod history;
mod language;
mod lookups;
mod ports_reached;
mod queries;
mod records;
mod update;
mod versions;

/// What a bulk update that changed every target answers.
pub(super) fn all_changed(targets: &[(CustomerId, Option<u64>)]) -> BulkWritten {
    BulkWritten {
        changed: targets.iter().map(|(id, _)| id.clone()).collect(),
        stale: vec![],
    }
}
