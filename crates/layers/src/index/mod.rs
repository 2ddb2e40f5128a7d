//! [`IndexedSearch`]: searches answered from a [`SearchIndex`] kept in memory beside the
//! storage, exact and as fresh as the storage itself; the searches it declines go on to the
//! storage's own search.
//!
//! How it stays exact:
//! - **Built** from [`SearchDocuments`]: the start of the changes first, then every
//!   document, then every change after that start (so nothing committed during the build
//!   is missed). Until it is built, every search goes to the storage.
//! - **Caught up before every search**: a search waits for a catch-up that began after it
//!   arrived (one at a time; the searches that arrived while one ran share the next). A
//!   catch-up reads the changes after the last settled one it saw, every committed one,
//!   and the documents of the customers they name. So a search sees every write committed
//!   before it began, written by this instance, another one or anyone else writing through
//!   the storage's triggers.
//! - **Checked after**: the page's customers are read from the storage by id; when one's
//!   version is not the one the index matched (a write landed in between), the index
//!   catches up and searches again (at most [`ATTEMPTS`] times, then the storage searches).
//! - The totals are counts of the matches, exact at any size.
//!
//! What it declines (see `engine`): a term outside ASCII and a sort by text. When the
//! changes are purged under it, it is built again.

mod engine;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    CustomerPage, CustomerSearch, FeedPosition, IndexChanges, RepositoryError, RequestContext,
    SearchCriteria, SearchDocument, SearchDocuments,
};
use engine::{Engine, Hits};

/// How many documents one read of the build brings.
const BUILD_BATCH: u32 = 20_000;
/// How many changes one read of a catch-up brings.
const CHANGES_BATCH: u32 = 5_000;
/// How often a search is tried against the index before the storage answers it.
pub const ATTEMPTS: usize = 3;
/// The longest wait between two builds that failed.
const RETRY_MAX: Duration = Duration::from_secs(60);

/// Where the index is in the storage's changes.
#[derive(Debug, Default)]
struct Progress {
    /// The last settled change applied; `None` until built.
    mark: Option<FeedPosition>,
    /// The changes after `mark` already applied (committed, not settled yet).
    tail: HashSet<FeedPosition>,
}

/// How the index has answered, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchIndexCounts {
    /// Whether it is built and answering.
    pub ready: bool,
    /// Customers it holds.
    pub documents: u64,
    /// Frequent terms whose exact matches it keeps current.
    pub remembered_terms: usize,
    /// Searches it answered.
    pub answered: u64,
    /// Searches it declined (see the module) or could not answer yet, answered by the
    /// storage.
    pub declined: u64,
    /// Searches tried again because a write landed between the index and the page.
    pub retried: u64,
}

/// The customers' searchable fields in memory, shared by every worker of the process.
#[derive(Debug, Default)]
pub struct SearchIndex {
    engine: RwLock<Engine>,
    progress: tokio::sync::Mutex<Progress>,
    ready: AtomicBool,
    /// Searches that asked for a catch-up; `covered`: how many of them the last completed
    /// catch-up began after.
    arrivals: AtomicU64,
    covered: AtomicU64,
    answered: AtomicU64,
    declined: AtomicU64,
    retried: AtomicU64,
}

impl SearchIndex {
    /// An empty index, not built yet: [`SearchIndex::maintain`] builds it.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Whether it answers searches.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn counts(&self) -> SearchIndexCounts {
        let engine = self.engine.read().unwrap_or_else(PoisonError::into_inner);
        SearchIndexCounts {
            ready: self.is_ready(),
            documents: engine.len(),
            remembered_terms: engine.remembered_terms(),
            answered: self.answered.load(Ordering::Relaxed),
            declined: self.declined.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
        }
    }

    /// Builds the index from every document (see the module). `Ok(false)` when the
    /// storage cannot feed an index.
    ///
    /// # Errors
    /// When the storage fails; the index is then not ready.
    pub async fn build<P: SearchDocuments>(&self, source: &P) -> Result<bool, RepositoryError> {
        let mut progress = self.progress.lock().await;
        self.ready.store(false, Ordering::Release);
        let Some(start) = source.index_start().await? else {
            return Ok(false);
        };
        let mut engine = Engine::default();
        let mut after = i64::MIN;
        loop {
            let documents = source.documents_after(after, BUILD_BATCH).await?;
            let Some(last) = documents.last() else {
                break;
            };
            after = last.id;
            let full = documents.len() == BUILD_BATCH as usize;
            // Off the request threads: a batch takes tens of milliseconds of CPU.
            engine = tokio::task::spawn_blocking(move || {
                for document in documents {
                    engine.put(document);
                }
                engine
            })
            .await
            .map_err(|e| RepositoryError::Unexpected(format!("building the index: {e}")))?;
            if !full {
                break;
            }
        }
        let old = std::mem::replace(
            &mut *self.engine.write().unwrap_or_else(PoisonError::into_inner),
            engine,
        );
        drop(old);
        *progress = Progress {
            mark: Some(start),
            tail: HashSet::new(),
        };
        self.ready.store(true, Ordering::Release);
        Ok(true)
    }

    /// Applies every change committed before it was called (see the module), unless a
    /// catch-up that began after that already did. `Ok(false)` when the index is not built
    /// (or had to be dropped: its changes were purged).
    ///
    /// # Errors
    /// When the storage fails; what was applied stays, and the next catch-up reads the
    /// same changes again.
    pub async fn catch_up<P: SearchDocuments>(&self, source: &P) -> Result<bool, RepositoryError> {
        if !self.is_ready() {
            return Ok(false);
        }
        let ticket = self.arrivals.fetch_add(1, Ordering::AcqRel) + 1;
        let mut progress = self.progress.lock().await;
        if self.covered.load(Ordering::Acquire) >= ticket {
            return Ok(true);
        }
        let Some(mut mark) = progress.mark.filter(|_| self.is_ready()) else {
            return Ok(false);
        };
        let covering = self.arrivals.load(Ordering::Acquire);
        let mut cursor = mark;
        let mut settled = true;
        let mut tail = HashSet::new();
        loop {
            let changes = match source.changes_after(cursor, CHANGES_BATCH).await? {
                IndexChanges::Changed(changes) => changes,
                IndexChanges::Purged => {
                    self.ready.store(false, Ordering::Release);
                    *progress = Progress::default();
                    return Ok(false);
                }
            };
            let mut changed = Vec::new();
            for change in &changes {
                // The settled ones come first: the mark moves through them only.
                if settled && change.settled {
                    mark = change.position;
                } else {
                    settled = false;
                    tail.insert(change.position);
                }
                if !progress.tail.contains(&change.position) {
                    changed.push(change.customer_id.clone());
                }
            }
            if let Some(last) = changes.last() {
                cursor = last.position;
            }
            changed.sort_unstable();
            changed.dedup();
            if !changed.is_empty() {
                self.apply(&changed, source.documents_of(&changed).await?);
            }
            if changes.len() < CHANGES_BATCH as usize {
                break;
            }
        }
        *progress = Progress {
            mark: Some(mark),
            tail,
        };
        self.covered.store(covering, Ordering::Release);
        Ok(true)
    }

    /// Stores the documents read for `changed`; a customer without one is gone.
    fn apply(&self, changed: &[String], documents: Vec<SearchDocument>) {
        let mut documents: HashMap<String, SearchDocument> = documents
            .into_iter()
            .map(|d| (d.customer_id.clone(), d))
            .collect();
        let mut engine = self.engine.write().unwrap_or_else(PoisonError::into_inner);
        for customer_id in changed {
            match documents.remove(customer_id) {
                Some(document) => engine.put(document),
                None => engine.remove(customer_id),
            }
        }
    }

    fn hits(&self, criteria: &SearchCriteria) -> Option<Hits> {
        self.engine
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .search(criteria)
    }

    /// The search's page from the index, or `None` when it is for the storage to answer.
    async fn answer<P: SearchDocuments>(
        &self,
        source: &P,
        criteria: &SearchCriteria,
    ) -> Result<Option<CustomerPage>, RepositoryError> {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                self.retried.fetch_add(1, Ordering::Relaxed);
            }
            if !self.catch_up(source).await? {
                return Ok(None);
            }
            let Some(hits) = self.hits(criteria) else {
                return Ok(None);
            };
            let ids: Vec<i64> = hits.page.iter().map(|(id, _)| *id).collect();
            let mut found: HashMap<i64, domain::Customer> = if ids.is_empty() {
                HashMap::new()
            } else {
                source
                    .customers_by_id(&ids)
                    .await?
                    .into_iter()
                    .map(|c| (c.id, c))
                    .collect()
            };
            let customers: Option<Vec<_>> = hits
                .page
                .iter()
                .map(|(id, version)| found.remove(id).filter(|c| c.version == *version))
                .collect();
            if let Some(customers) = customers {
                return Ok(Some(CustomerPage {
                    customers,
                    total: hits.total,
                    total_is_estimate: false,
                    next_cursor: None,
                }));
            }
        }
        Ok(None)
    }

    /// Builds the index, then catches it up every `every` (so the changes a search reads
    /// stay few), building it again when it had to be dropped; retries a failed build with
    /// a growing pause. Returns when the storage cannot feed an index.
    pub async fn maintain<P: SearchDocuments>(self: Arc<Self>, source: P, every: Duration) {
        let mut pause = every;
        loop {
            let outcome = if self.is_ready() {
                self.catch_up(&source).await
            } else {
                let started = std::time::Instant::now();
                let built = self.build(&source).await;
                match &built {
                    Ok(false) => {
                        tracing::info!("the storage cannot feed a search index: searches go to it");
                        return;
                    }
                    Ok(true) => tracing::info!(
                        documents = self.counts().documents,
                        seconds = started.elapsed().as_secs_f64(),
                        "search index built"
                    ),
                    Err(_) => {}
                }
                built
            };
            match outcome {
                Ok(_) => pause = every,
                Err(error) => {
                    tracing::warn!(%error, "search index: building or catching up failed");
                    pause = (pause * 2).min(RETRY_MAX);
                }
            }
            tokio::time::sleep(pause).await;
        }
    }
}

/// A search port answering from a [`SearchIndex`] when there is one and it can (see the
/// module), and through `inner` otherwise.
#[derive(Debug, Clone)]
pub struct IndexedSearch<S, P> {
    inner: S,
    source: P,
    index: Option<Arc<SearchIndex>>,
}

impl<S, P> IndexedSearch<S, P> {
    /// `inner`'s searches, answered from `index` (fed by `source`) when there is one.
    pub fn new(inner: S, source: P, index: Option<Arc<SearchIndex>>) -> Self {
        Self {
            inner,
            source,
            index,
        }
    }
}

#[async_trait]
impl<S: CustomerSearch, P: SearchDocuments + Clone> CustomerSearch for IndexedSearch<S, P> {
    /// The index is as fresh as the storage's primary for every request; the request's
    /// scope matters only to the searches `inner` answers.
    fn for_request(&self, context: &RequestContext) -> Self {
        Self {
            inner: self.inner.for_request(context),
            source: self.source.clone(),
            index: self.index.clone(),
        }
    }

    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        if let Some(index) = &self.index {
            if let Some(page) = index.answer(&self.source, criteria).await? {
                index.answered.fetch_add(1, Ordering::Relaxed);
                return Ok(page);
            }
            index.declined.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.search(criteria).await
    }

    /// The index forgets an erased customer at its next catch-up, before any search;
    /// `inner` may keep results elsewhere.
    async fn forget_erased(&self) {
        self.inner.forget_erased().await;
    }
}

#[cfg(test)]
mod tests;
