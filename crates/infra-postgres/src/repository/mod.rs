//! [`PgCustomerRepository`]: the domain's `CustomerRepository` and `DataVersions` over a
//! diesel-async pool.
//!
//! Every method takes one connection from the pool and runs its statements on it, never
//! inside a transaction (`version` says why the search cache needs that); where a
//! method needs several independent statements (a page and its total, the statistics) they
//! are pipelined on that connection rather than sent one after another.

mod places;
mod reads;
mod search;
pub use search::{SearchPlans, explain_search};
mod statistics;
mod totals;
mod version;
mod writes;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Object;
use domain::{
    Customer, CustomerChanges, CustomerDraft, CustomerId, CustomerPage, CustomerRepository,
    CustomerStatistics, ListQuery, LocationCount, LocationFilter, LocationLevel, PageRequest,
    RepositoryError, SearchCriteria, StatisticsWindow, Tags, Username, Verification,
};

use crate::errors::from_pool;
use crate::pool::Pool;

/// Customers stored in PostgreSQL.
#[derive(Clone)]
pub struct PgCustomerRepository {
    pool: Pool,
}

impl std::fmt::Debug for PgCustomerRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCustomerRepository")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PgCustomerRepository {
    /// A repository drawing connections from `pool` (migrations must have run).
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// The pool this repository uses.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn conn(&self) -> Result<Object<AsyncPgConnection>, RepositoryError> {
        self.pool.get().await.map_err(from_pool)
    }
}

#[async_trait]
impl CustomerRepository for PgCustomerRepository {
    #[tracing::instrument(level = "debug", name = "db.insert", skip_all)]
    async fn insert(
        &self,
        customer_id: &CustomerId,
        username: &Username,
        draft: &CustomerDraft,
    ) -> Result<Customer, RepositoryError> {
        writes::insert(&mut *self.conn().await?, customer_id, username, draft).await
    }

    #[tracing::instrument(level = "debug", name = "db.taken_usernames", skip_all)]
    async fn taken_usernames(&self, candidates: &[String]) -> Result<Vec<String>, RepositoryError> {
        reads::taken_usernames(&mut *self.conn().await?, candidates).await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_customer_id", skip_all)]
    async fn find_by_customer_id(
        &self,
        id: &CustomerId,
    ) -> Result<Option<Customer>, RepositoryError> {
        reads::find_by_customer_id(&mut *self.conn().await?, id).await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_username", skip_all)]
    async fn find_by_username(&self, username: &str) -> Result<Option<Customer>, RepositoryError> {
        reads::find_by_username(&mut *self.conn().await?, username).await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_email", skip_all)]
    async fn find_by_email(&self, email: &str) -> Result<Option<Customer>, RepositoryError> {
        reads::find_by_email(&mut *self.conn().await?, email).await
    }

    #[tracing::instrument(level = "debug", name = "db.list", skip_all)]
    async fn list(&self, query: &ListQuery) -> Result<CustomerPage, RepositoryError> {
        reads::list(&*self.conn().await?, query).await
    }

    #[tracing::instrument(level = "debug", name = "db.search", skip_all)]
    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        search::search(&*self.conn().await?, criteria).await
    }

    #[tracing::instrument(level = "debug", name = "db.update", skip_all)]
    async fn update(
        &self,
        id: &CustomerId,
        changes: &CustomerChanges,
    ) -> Result<Option<Customer>, RepositoryError> {
        writes::update(&mut *self.conn().await?, id, changes).await
    }

    #[tracing::instrument(level = "debug", name = "db.bulk_update", skip_all)]
    async fn bulk_update(
        &self,
        ids: &[CustomerId],
        changes: &CustomerChanges,
    ) -> Result<Vec<CustomerId>, RepositoryError> {
        writes::bulk_update(&mut *self.conn().await?, ids, changes).await
    }

    #[tracing::instrument(level = "debug", name = "db.mark_verified", skip_all)]
    async fn mark_verified(
        &self,
        id: &CustomerId,
        what: Verification,
    ) -> Result<bool, RepositoryError> {
        writes::mark_verified(&mut *self.conn().await?, id, what).await
    }

    #[tracing::instrument(level = "debug", name = "db.record_login", skip_all)]
    async fn record_login(
        &self,
        id: &CustomerId,
        at: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        writes::record_login(&mut *self.conn().await?, id, at).await
    }

    #[tracing::instrument(level = "debug", name = "db.statistics", skip_all)]
    async fn statistics(
        &self,
        window: &StatisticsWindow,
    ) -> Result<CustomerStatistics, RepositoryError> {
        statistics::statistics(&*self.conn().await?, window).await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_tags", skip_all)]
    async fn find_by_tags(
        &self,
        tags: &Tags,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        reads::find_by_tags(&mut *self.conn().await?, tags, page).await
    }

    #[tracing::instrument(level = "debug", name = "db.find_by_location", skip_all)]
    async fn find_by_location(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        reads::find_by_location(&mut *self.conn().await?, filter, page).await
    }

    #[tracing::instrument(level = "debug", name = "db.locations", skip_all)]
    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, RepositoryError> {
        statistics::locations(&*self.conn().await?, level, country.as_deref()).await
    }

    #[tracing::instrument(level = "debug", name = "db.deactivate", skip_all)]
    async fn deactivate(&self, id: &CustomerId) -> Result<bool, RepositoryError> {
        writes::deactivate(&mut *self.conn().await?, id).await
    }

    #[tracing::instrument(level = "debug", name = "db.delete", skip_all)]
    async fn delete(&self, id: &CustomerId) -> Result<bool, RepositoryError> {
        writes::delete(&mut *self.conn().await?, id).await
    }

    #[tracing::instrument(level = "debug", name = "db.ping", skip_all)]
    async fn ping(&self) -> Result<(), RepositoryError> {
        reads::ping(&mut *self.conn().await?).await
    }
}
