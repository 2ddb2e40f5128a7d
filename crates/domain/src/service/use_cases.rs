//! The inbound port: everything clients can do with customers. The HTTP adapter depends on
//! this trait only (and mocks it in its tests).

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::ServiceError;
use crate::models::{
    BulkUpdate, BulkUpdateReport, Customer, CustomerExport, CustomerPage, CustomerPatch,
    CustomerStatistics, FeedPage, FeedQuery, ListQuery, LocationCount, LocationFilter, NewCustomer,
    PageRequest, Precondition, RequestContext, SearchCriteria, Tags, Timeline, TimelineQuery,
    Tombstone,
};
use crate::ports::LocationLevel;

/// Everything clients can do with customers.
///
/// An erased customer is gone for every use case that names it by id
/// ([`ServiceError::Erased`], not [`ServiceError::NotFound`]), except [`Self::erase`] and
/// [`Self::timeline`]; lookups by email or username and searches never find it.
///
/// Each write on one customer takes a [`Precondition`] on its version and returns the
/// version it left the customer at (in the customer, where it returns one); a precondition
/// that does not hold fails with [`ServiceError::VersionMismatch`] and writes nothing.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CustomerUseCases: Send + Sync + 'static {
    /// Creates a customer with a generated customer id and username.
    async fn create(&self, input: NewCustomer) -> Result<Customer, ServiceError>;
    async fn get(&self, customer_id: &str) -> Result<Customer, ServiceError>;
    async fn get_by_username(&self, username: &str) -> Result<Customer, ServiceError>;
    /// Case-insensitive.
    async fn get_by_email(&self, email: &str) -> Result<Customer, ServiceError>;
    async fn list(&self, query: ListQuery) -> Result<CustomerPage, ServiceError>;
    async fn search(&self, criteria: SearchCriteria) -> Result<CustomerPage, ServiceError>;
    /// Partial update; absent fields are kept, `null` clears nullable fields.
    async fn update(
        &self,
        customer_id: &str,
        patch: CustomerPatch,
        expected: Precondition,
    ) -> Result<Customer, ServiceError>;
    async fn bulk_update(&self, request: BulkUpdate) -> Result<BulkUpdateReport, ServiceError>;
    /// Returns the customer's version afterwards (as for the other single-customer writes).
    async fn verify_email(
        &self,
        customer_id: &str,
        expected: Precondition,
    ) -> Result<u64, ServiceError>;
    async fn verify_phone(
        &self,
        customer_id: &str,
        expected: Precondition,
    ) -> Result<u64, ServiceError>;
    async fn record_login(
        &self,
        customer_id: &str,
        expected: Precondition,
    ) -> Result<u64, ServiceError>;
    async fn statistics(&self) -> Result<CustomerStatistics, ServiceError>;
    /// Customers having every tag of the comma-separated list; returns the parsed tags too.
    async fn by_tags(
        &self,
        tags: &str,
        page: PageRequest,
    ) -> Result<(Tags, Vec<Customer>), ServiceError>;
    async fn by_location(
        &self,
        filter: LocationFilter,
        page: PageRequest,
    ) -> Result<Vec<Customer>, ServiceError>;
    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, ServiceError>;
    /// Soft delete: the customer stays retrievable with `is_active` false.
    async fn deactivate(
        &self,
        customer_id: &str,
        expected: Precondition,
    ) -> Result<u64, ServiceError>;
    /// Hard delete.
    async fn delete(&self, customer_id: &str, expected: Precondition) -> Result<(), ServiceError>;
    /// Succeeds when the storage answers.
    async fn health(&self) -> Result<(), ServiceError>;
    /// The same use cases for one request: every change they write records its
    /// provenance, and the reads of the read-only use cases may be served wherever its
    /// consistency token allows. The reads a write makes always see every committed write.
    fn for_request(&self, context: RequestContext) -> Arc<dyn CustomerUseCases>;
    /// The customer's changes, newest first; also after a hard delete.
    async fn timeline(
        &self,
        customer_id: &str,
        query: TimelineQuery,
    ) -> Result<Timeline, ServiceError>;
    /// Every change of every customer in feed order, waiting up to `query.wait` for one
    /// when there is none yet.
    async fn feed(&self, query: FeedQuery) -> Result<FeedPage, ServiceError>;
    /// Everything held about the customer (also a deactivated one): the customer, its full
    /// history and the requests that changed it.
    async fn export(&self, customer_id: &str) -> Result<CustomerExport, ServiceError>;
    /// Erases the customer's personal data for good and returns what remains; erasing a
    /// tombstone again returns it unchanged.
    async fn erase(
        &self,
        customer_id: &str,
        reason: Option<String>,
    ) -> Result<Tombstone, ServiceError>;
}
