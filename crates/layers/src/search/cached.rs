//! [`CachedSearch`]: a search port whose searches go through a [`SearchCache`], when there
//! is one.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{
    CustomerPage, CustomerSearch, DataVersions, RepositoryError, RequestContext, SearchCriteria,
};

use super::SearchCache;

/// A search whose results are reused while its data version stays the same
/// (see the module [`super`]). The version and the searches come from the same `inner`,
/// whose [`DataVersions`] promises that its reads run outside any caller's transaction.
///
/// Without a cache (`[search] cache_customers = 0`) every search goes straight to `inner`,
/// with no version read.
#[derive(Debug)]
pub struct CachedSearch<R> {
    /// What the searches and their versions go to: `latest`, or it scoped to a request.
    inner: Arc<R>,
    /// Unscoped: its version includes every committed write (what an erasure forgets by).
    latest: Arc<R>,
    cache: Option<Arc<SearchCache>>,
}

impl<R> Clone for CachedSearch<R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            latest: Arc::clone(&self.latest),
            cache: self.cache.clone(),
        }
    }
}

impl<R: CustomerSearch + DataVersions> CachedSearch<R> {
    /// `inner` with its searches reused through `cache`, which clones of one `Arc` share.
    pub fn new(inner: R, cache: Option<Arc<SearchCache>>) -> Self {
        let inner = Arc::new(inner);
        Self {
            latest: Arc::clone(&inner),
            inner,
            cache,
        }
    }
}

#[async_trait]
impl<R: CustomerSearch + DataVersions> CustomerSearch for CachedSearch<R> {
    /// The request's search through the same cache: versions and searches of one request
    /// come from the one scoped `inner` (the same server, behind replicas).
    fn for_request(&self, context: &RequestContext) -> Self {
        Self {
            inner: Arc::new(self.latest.for_request(context)),
            latest: Arc::clone(&self.latest),
            cache: self.cache.clone(),
        }
    }

    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        let Some(cache) = &self.cache else {
            return self.inner.search(criteria).await;
        };
        // Read before the search starts, so the result is at least as new as the version it
        // is kept under.
        let Some(version) = self.inner.current_version().await? else {
            return self.inner.search(criteria).await;
        };
        cache
            .answer(version, criteria, || self.inner.search(criteria))
            .await
    }

    /// Drops the cache's results older than the data after the erasure (they may hold the
    /// erased values): after as `latest` names it, which saw the erasure's commit (a
    /// request's scoped version may be a replica's, from before it replayed it).
    async fn forget_erased(&self) {
        self.inner.forget_erased().await;
        if let Some(cache) = &self.cache {
            let after = self.latest.current_version().await.ok().flatten();
            cache.forget(after);
        }
    }
}
