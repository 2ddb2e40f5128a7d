//! The customer domain: entity and value types, generators, ports and the use cases.
//!
//! Everything a customer *is* and every rule about how one is created, found, changed and
//! removed lives here, free of any web framework, database driver, async runtime or config
//! crate, so each rule is unit-tested against mock ports. Adapters (`infra-postgres`,
//! `api-actix`) translate to and from these types; they never decide.

pub mod admission;
pub mod error;
#[cfg(any(test, feature = "mock"))]
pub mod fixtures;
pub mod generators;
pub mod models;
pub mod ports;
pub mod service;

pub use admission::{Admission, AdmissionUnavailable, QuotaError, RateQuota, SharedAdmission};
pub use error::{
    Conflict, EmailProblem, FieldViolation, RepositoryError, Rule, ServiceError, ValidationErrors,
};
pub use models::*;
pub use ports::{
    Clock, CustomerHistory, CustomerReads, CustomerSearch, CustomerStore, DataVersion,
    DataVersions, IdSource, LocationLevel, RandomIds, RandomSuffixes, SearchDocuments,
    StatisticsSource, Storage, SuffixSource, SystemClock, Verification,
};
pub use service::{CustomerService, CustomerUseCases};

#[cfg(any(test, feature = "mock"))]
pub use admission::MockSharedAdmission;
#[cfg(any(test, feature = "mock"))]
pub use ports::{
    MockClock, MockCustomerHistory, MockCustomerReads, MockCustomerSearch, MockCustomerStore,
    MockDataVersions, MockIdSource, MockSearchDocuments, MockStatisticsSource, MockSuffixSource,
};
#[cfg(any(test, feature = "mock"))]
pub use service::MockCustomerUseCases;
