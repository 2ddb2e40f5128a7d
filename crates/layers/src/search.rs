//! Search results reused while the storage's data has not changed.
//!
//! A search costs PostgreSQL milliseconds (planning, an index walk or a trigram scan, and
//! for up to a few thousand matches a count), and the same search is often asked again:
//! the same page refreshed, the same filter by many clients. Every result here is kept with
//! the [`DataVersion`] the storage named just before the search ran, and a later search
//! with the same criteria reuses it only while the current version is exactly that one.
//!
//! Why that is never stale: the version changes with every commit, anywhere (the
//! [`DataVersions`] contract; the PostgreSQL adapter names the server's snapshot, and says
//! there why that holds). It is read before the search starts, so a kept result is at least
//! as new as its version: no search after a commit reuses a result computed before it.
//!
//! What it relies on, enforced by the types: the version and the search come from the same
//! value (`R: CustomerSearch + DataVersions`), and implementing [`DataVersions`]
//! promises that the value's reads run outside any transaction a caller holds open. A
//! search inside such a transaction would see its uncommitted writes, which leave the
//! version unchanged, and others would be handed them as if committed; a storage bound to a
//! transaction therefore does not implement [`DataVersions`], and this layer cannot wrap it.
//! The PostgreSQL adapter's tests check the adapter's side (each method on a pooled
//! connection outside any transaction; a connection left inside one never serves a search).
//!
//! So reuse pays off while nothing is written, anywhere on the server: read-heavy periods,
//! and repeated searches between writes. Each search pays one extra round trip for the
//! version.
//!
//! The cache holds one version's results: results of an older version are never reused, so
//! they are dropped as soon as a newer version's result comes in. It holds at most
//! `capacity` customers over all its pages, and starts over when a result would not fit.
//! Searches asked together under one version are computed once, through a [`Coalescer`]
//! whose requests join the computation of their key already running: the key holds the
//! version, so that computation reads the very data a later one would. If it fails, every
//! request that shared it gets the error, and nothing is kept: the next search computes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use domain::{CustomerPage, DataVersion, RepositoryError, SearchCriteria};

use crate::Coalescer;
use crate::shared::Shared;

mod cached;
#[cfg(test)]
mod tests;

pub use cached::CachedSearch;

/// Search results of one data version, shared by every worker's search port.
#[derive(Debug)]
pub struct SearchCache {
    capacity: usize,
    held: Mutex<Held>,
    searches: Coalescer<(), Shared<CustomerPage>, (DataVersion, SearchCriteria)>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug, Default)]
struct Held {
    version: Option<DataVersion>,
    results: HashMap<SearchCriteria, CustomerPage>,
    customers: usize,
}

/// How often a search was answered from the cache, and how often it was computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchCacheCounts {
    pub hits: u64,
    pub misses: u64,
}

impl SearchCache {
    /// A cache holding at most `capacity` customers over all its pages (a customer takes
    /// about a kilobyte). 0 keeps nothing.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            held: Mutex::new(Held::default()),
            searches: Coalescer::joining_running(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Hits and misses since the cache was made: a search answered with a kept result, or
    /// one computed by another request, is a hit; one this request computed is a miss. A
    /// search that shared a failed computation is neither.
    pub fn counts(&self) -> SearchCacheCounts {
        SearchCacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// How many customers the kept results hold, over all their pages.
    #[must_use]
    pub fn customers_held(&self) -> usize {
        self.held().customers
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The result of `criteria` under `version`: kept, shared with the same search under
    /// the same version, or computed by `compute`, which must read data at least as new as
    /// `version`.
    async fn answer<F, Fut>(
        &self,
        version: DataVersion,
        criteria: &SearchCriteria,
        compute: F,
    ) -> Result<CustomerPage, RepositoryError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<CustomerPage, RepositoryError>>,
    {
        if let Some(page) = self.kept(&version, criteria) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(page);
        }
        let computed = AtomicBool::new(false);
        let key = (version, criteria.clone());
        let shared = self
            .searches
            .share(key.clone(), || async {
                let (version, criteria) = key;
                // Kept by a computation that ended since this request looked.
                if let Some(page) = self.kept(&version, &criteria) {
                    return Ok(page);
                }
                computed.store(true, Ordering::Relaxed);
                self.misses.fetch_add(1, Ordering::Relaxed);
                let page = compute().await.map_err(Arc::new)?;
                self.keep(version, criteria, &page);
                Ok(page)
            })
            .await;
        match shared {
            Ok(page) => {
                if !computed.load(Ordering::Relaxed) {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                }
                Ok(page)
            }
            Err(error) => Err(RepositoryError::clone(&error)),
        }
    }

    /// Drops every kept result older than `version` (every one when `None`): an erasure's
    /// data must not stay in memory, even where it could never be served again. Results
    /// of a newer version than `version` were computed after the erasure and stay.
    pub fn forget(&self, version: Option<DataVersion>) {
        let mut held = self.held();
        if let (Some(current), Some(version)) = (&held.version, &version)
            && version.precedes(current)
        {
            return;
        }
        held.version = version;
        held.results.clear();
        held.customers = 0;
    }

    fn kept(&self, version: &DataVersion, criteria: &SearchCriteria) -> Option<CustomerPage> {
        let held = self.held();
        if held.version.as_ref() == Some(version) {
            held.results.get(criteria).cloned()
        } else {
            None
        }
    }

    /// Keeps `page`, the result of `criteria` computed after `version` was read.
    fn keep(&self, version: DataVersion, criteria: SearchCriteria, page: &CustomerPage) {
        let size = page.customers.len().max(1);
        let mut held = self.held();
        match &held.version {
            // A result of an older version than the one held could never be reused.
            Some(current) if version.precedes(current) => return,
            Some(current) if *current == version => {}
            // Older results go even when this one does not fit: they are never served again
            // (and may hold values erased since).
            _ => {
                held.version = Some(version);
                held.results.clear();
                held.customers = 0;
            }
        }
        if size > self.capacity {
            return;
        }
        if held.customers + size > self.capacity {
            held.results.clear();
            held.customers = 0;
        }
        if held.results.insert(criteria, page.clone()).is_none() {
            held.customers += size;
        }
    }
}
