//! [`CachedSearch`]: a search port whose searches go through a [`SearchCache`].

use std::sync::Arc;

use async_trait::async_trait;
use domain::{CustomerPage, CustomerSearch, DataVersions, RepositoryError, SearchCriteria};

use super::SearchCache;

/// A search whose results are reused while its data version stays the same
/// (see the module [`super`]). The version and the searches come from the same `inner`,
/// whose [`DataVersions`] promises that its reads run outside any caller's transaction.
#[derive(Debug, Clone)]
pub struct CachedSearch<R> {
    inner: R,
    cache: Arc<SearchCache>,
}

impl<R: CustomerSearch + DataVersions> CachedSearch<R> {
    /// `inner` with its searches reused through `cache`, which clones of one `Arc` share.
    pub fn new(inner: R, cache: Arc<SearchCache>) -> Self {
        Self { inner, cache }
    }
}

#[async_trait]
impl<R: CustomerSearch + DataVersions> CustomerSearch for CachedSearch<R> {
    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        // Read before the search starts, so the result is at least as new as the version it
        // is kept under.
        let Some(version) = self.inner.current_version().await? else {
            return self.inner.search(criteria).await;
        };
        self.cache
            .answer(version, criteria, || self.inner.search(criteria))
            .await
    }

    /// Drops the cache's results older than the data after the erasure (they may hold the
    /// erased values).
    async fn forget_erased(&self) {
        self.inner.forget_erased().await;
        let after = self.inner.current_version().await.ok().flatten();
        self.cache.forget(after);
    }
}
