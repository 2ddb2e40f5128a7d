//! [`RoutedReads`]: the read ports over a primary and its streaming replicas, each call
//! served by the server its request's scope chose (see `crate::replicas` for how, and why
//! that keeps read-your-writes).
//!
//! A layer of its own over [`PgCustomerRepository`]s, one per server: the repository runs
//! statements where it is told and knows nothing of replicas. Unscoped (as the binary
//! builds it) every read is the primary's; [scoped to a request](CustomerReads::for_request)
//! the request's first read chooses the server, by its consistency token or the replicas'
//! measured staleness, and the rest of the request's reads, through whichever port, go to
//! the same one. A read that fails on a replica because the replica cannot serve it takes
//! the replica out and is served by the primary, as are the rest of the request's reads.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    Customer, CustomerEvent, CustomerHistory, CustomerId, CustomerPage, CustomerReads,
    CustomerSearch, DataVersion, DataVersions, EventKind, FeedPosition, FeedRead, ListQuery,
    LocationCount, LocationFilter, LocationLevel, PageRequest, RepositoryError, RequestContext,
    SearchCriteria, Tags, TimelineQuery, Tombstone,
};
use futures::future::BoxFuture;

use crate::PgCustomerRepository;
use crate::replicas::{ReadScope, Replicas, Target};

/// The read ports over the primary's repository and one per replica.
#[derive(Clone)]
pub struct RoutedReads {
    primary: PgCustomerRepository,
    replicas: Replicas,
    on_replicas: Arc<[PgCustomerRepository]>,
    /// The request's, when scoped to one.
    scope: Option<Arc<ReadScope>>,
}

impl std::fmt::Debug for RoutedReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutedReads")
            .field("replicas", &self.on_replicas.len())
            .field("scoped", &self.scope.is_some())
            .finish_non_exhaustive()
    }
}

impl RoutedReads {
    /// Reads of `primary` that requests may have served by `replicas`.
    pub fn new(primary: PgCustomerRepository, replicas: Replicas) -> Self {
        let on_replicas = (0..replicas.count())
            .map(|replica| {
                PgCustomerRepository::new(replicas.pool(replica).clone())
                    .with_search_totals(primary.search_totals())
            })
            .collect();
        Self {
            primary,
            replicas,
            on_replicas,
            scope: None,
        }
    }

    /// Runs `read` on the server the scope chose (the primary when unscoped), and on the
    /// primary again when a replica could not serve it.
    async fn route<'a, T>(
        &'a self,
        read: impl Fn(&'a PgCustomerRepository) -> BoxFuture<'a, Result<T, RepositoryError>>
        + Send
        + Sync,
    ) -> Result<T, RepositoryError> {
        let Some(scope) = &self.scope else {
            return read(&self.primary).await;
        };
        match scope.target(&self.replicas).await {
            Target::Primary => read(&self.primary).await,
            Target::Replica(replica) => match read(&self.on_replicas[replica]).await {
                Err(error @ RepositoryError::Unavailable(_)) => {
                    self.replicas.failed(replica, &error);
                    scope.fell_back();
                    read(&self.primary).await
                }
                served => served,
            },
        }
    }

    fn scoped(&self, context: &RequestContext) -> Self {
        Self {
            scope: Some(Arc::new(ReadScope::new(
                context.consistency_token.as_deref(),
                context.affinity.clone(),
            ))),
            ..self.clone()
        }
    }
}

#[async_trait]
impl CustomerReads for RoutedReads {
    fn for_request(&self, context: &RequestContext) -> Self {
        self.scoped(context)
    }

    async fn find_by_customer_id(
        &self,
        id: &CustomerId,
    ) -> Result<Option<Customer>, RepositoryError> {
        self.route(|repo| repo.find_by_customer_id(id)).await
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<Customer>, RepositoryError> {
        self.route(|repo| repo.find_by_username(username)).await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<Customer>, RepositoryError> {
        self.route(|repo| repo.find_by_email(email)).await
    }

    async fn list(&self, query: &ListQuery) -> Result<CustomerPage, RepositoryError> {
        self.route(|repo| repo.list(query)).await
    }

    async fn find_by_tags(
        &self,
        tags: &Tags,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        self.route(|repo| repo.find_by_tags(tags, page)).await
    }

    async fn find_by_location(
        &self,
        filter: &LocationFilter,
        page: &PageRequest,
    ) -> Result<Vec<Customer>, RepositoryError> {
        self.route(|repo| repo.find_by_location(filter, page)).await
    }

    async fn locations(
        &self,
        level: LocationLevel,
        country: Option<String>,
    ) -> Result<Vec<LocationCount>, RepositoryError> {
        self.route(|repo| repo.locations(level, country.clone()))
            .await
    }

    async fn erasure(&self, id: &CustomerId) -> Result<Option<Tombstone>, RepositoryError> {
        self.route(|repo| repo.erasure(id)).await
    }
}

#[async_trait]
impl CustomerSearch for RoutedReads {
    fn for_request(&self, context: &RequestContext) -> Self {
        self.scoped(context)
    }

    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        self.route(|repo| repo.search(criteria)).await
    }
}

/// The version of the server the scope's search reads (the same scope, so the same server).
#[async_trait]
impl DataVersions for RoutedReads {
    async fn current_version(&self) -> Result<Option<DataVersion>, RepositoryError> {
        self.route(|repo| repo.current_version()).await
    }
}

/// Timelines as the other reads; the feed is the primary's, always (it serves an event only
/// once the primary's snapshot says no earlier one can appear).
#[async_trait]
impl CustomerHistory for RoutedReads {
    fn for_request(&self, context: &RequestContext) -> Self {
        self.scoped(context)
    }

    async fn timeline(
        &self,
        id: &CustomerId,
        query: &TimelineQuery,
    ) -> Result<Option<Vec<CustomerEvent>>, RepositoryError> {
        self.route(|repo| repo.timeline(id, query)).await
    }

    async fn feed(
        &self,
        after: Option<FeedPosition>,
        limit: u32,
        kinds: &[EventKind],
    ) -> Result<FeedRead, RepositoryError> {
        self.primary.feed(after, limit, kinds).await
    }

    async fn await_events(&self, at_most: Duration) {
        self.primary.await_events(at_most).await;
    }
}
