//! The search layer over a mocked storage: what is reused, when it is computed again, how
//! much is kept, and that one computation serves a burst of the same search.

use std::collections::VecDeque;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use domain::{CustomerSearch, DataVersion, PageRequest};

use super::*;

mockall::mock! {
    /// A search that names its data version: both ports, as the PostgreSQL adapter offers.
    Store {}

    #[async_trait::async_trait]
    impl domain::CustomerSearch for Store {
        fn for_request(&self, context: &domain::RequestContext) -> Self;
        async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError>;
        async fn forget_erased(&self);
    }

    #[async_trait::async_trait]
    impl domain::DataVersions for Store {
        async fn current_version(&self) -> Result<Option<DataVersion>, RepositoryError>;
    }
}

fn version(token: &str, sequence: u64) -> DataVersion {
    DataVersion::new(token, sequence)
}

fn query(term: &str) -> SearchCriteria {
    SearchCriteria {
        query: Some(term.into()),
        ..SearchCriteria::default()
    }
}

fn page(total: u64) -> CustomerPage {
    CustomerPage {
        total,
        ..CustomerPage::default()
    }
}

/// The store names these versions, one per search, in order.
fn naming(store: &mut MockStore, versions: Vec<DataVersion>) {
    let versions = Mutex::new(VecDeque::from(versions));
    store
        .expect_current_version()
        .returning(move || Ok(Some(lock_queue(&versions).pop_front().unwrap())));
}

fn lock_queue<T>(queue: &Mutex<T>) -> MutexGuard<'_, T> {
    queue.lock().unwrap()
}

/// The store computes `term` this many times, answering `total`.
fn computing(store: &mut MockStore, term: &'static str, times: usize, total: u64) {
    store
        .expect_search()
        .withf(move |criteria| criteria.query.as_deref() == Some(term))
        .times(times)
        .returning(move |_| Ok(page(total)));
}

fn cached(store: MockStore, capacity: usize) -> (CachedSearch<MockStore>, Arc<SearchCache>) {
    let cache = Arc::new(SearchCache::new(capacity));
    (CachedSearch::new(store, Some(Arc::clone(&cache))), cache)
}

#[tokio::test]
async fn a_result_is_reused_only_under_the_same_version_and_criteria() {
    let v1 = version("5:9:5,7", 9);
    let mut store = MockStore::new();
    naming(
        &mut store,
        vec![
            v1.clone(),
            v1.clone(),
            v1.clone(),
            v1.clone(),
            // Transaction 7 ended: the data may have changed.
            version("5:9:5", 9),
            // A transaction at or above xmax ended.
            version("5:10:5,7", 10),
        ],
    );
    computing(&mut store, "ann", 4, 3);
    computing(&mut store, "bob", 1, 0);
    let other_page = SearchCriteria {
        page: PageRequest {
            offset: 10,
            limit: 10,
        },
        ..query("ann")
    };
    let (repo, cache) = cached(store, 100);

    assert_eq!(repo.search(&query("ann")).await.unwrap(), page(3));
    assert_eq!(repo.search(&query("ann")).await.unwrap(), page(3));
    assert_eq!(repo.search(&query("bob")).await.unwrap(), page(0));
    assert_eq!(repo.search(&other_page).await.unwrap(), page(3));
    assert_eq!(repo.search(&query("ann")).await.unwrap(), page(3));
    assert_eq!(repo.search(&query("ann")).await.unwrap(), page(3));
    // The first miss is the search that computed the result.
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 1, misses: 5 });
}

#[tokio::test]
async fn a_newer_version_replaces_every_result_and_an_older_one_is_not_kept() {
    let old = version("5:9:5,7", 9);
    let new = version("8:12:", 12);
    let mut store = MockStore::new();
    naming(
        &mut store,
        vec![
            old.clone(),
            new.clone(),
            old.clone(),
            new.clone(),
            // A slow search that read the version before the change finishes last.
            old.clone(),
            old.clone(),
            new.clone(),
        ],
    );
    computing(&mut store, "ann", 2, 1);
    computing(&mut store, "bob", 1, 2);
    computing(&mut store, "cy", 2, 3);
    let (repo, cache) = cached(store, 100);
    for (term, total) in [("ann", 1), ("bob", 2), ("ann", 1), ("bob", 2)] {
        assert_eq!(repo.search(&query(term)).await.unwrap(), page(total));
    }
    for (term, total) in [("cy", 3), ("cy", 3), ("bob", 2)] {
        assert_eq!(repo.search(&query(term)).await.unwrap(), page(total));
    }
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 2, misses: 5 });
}

#[tokio::test]
async fn the_cache_holds_at_most_its_capacity_in_customers() {
    let v = version("1:2:", 2);
    let mut store = MockStore::new();
    naming(&mut store, vec![v; 10]);
    computing(&mut store, "a", 2, 0);
    computing(&mut store, "b", 1, 0);
    computing(&mut store, "c", 1, 0);
    computing(&mut store, "d", 1, 0);
    let (repo, cache) = cached(store, 2);
    // An empty page counts as one customer: a and b fit, and are reused.
    for term in ["a", "b", "a", "b"] {
        repo.search(&query(term)).await.unwrap();
    }
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 2, misses: 2 });
    // c does not fit beside them: the cache starts over with c; d fits beside it.
    for term in ["c", "c", "d", "c", "d"] {
        repo.search(&query(term)).await.unwrap();
    }
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 5, misses: 4 });
    // a was dropped when c came.
    repo.search(&query("a")).await.unwrap();
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 5, misses: 5 });

    // Nothing is kept with no capacity.
    let mut store = MockStore::new();
    naming(&mut store, vec![version("1:2:", 2); 2]);
    computing(&mut store, "a", 2, 0);
    let (none, _) = cached(store, 0);
    none.search(&query("a")).await.unwrap();
    none.search(&query("a")).await.unwrap();
}

#[tokio::test]
async fn a_failed_search_is_not_kept_and_the_next_computes() {
    let v = version("5:9:", 9);
    let mut store = MockStore::new();
    naming(&mut store, vec![v; 3]);
    let mut seq = mockall::Sequence::new();
    store
        .expect_search()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    store
        .expect_search()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(page(4)));
    let (repo, cache) = cached(store, 100);
    match repo.search(&query("ann")).await {
        Err(RepositoryError::Unavailable(why)) => assert_eq!(why, "down"),
        other => panic!("{other:?}"),
    }
    assert_eq!(repo.search(&query("ann")).await.unwrap(), page(4));
    assert_eq!(repo.search(&query("ann")).await.unwrap(), page(4));
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 1, misses: 2 });
}

#[tokio::test]
async fn without_a_version_every_search_is_computed_and_nothing_kept() {
    let mut store = MockStore::new();
    store
        .expect_current_version()
        .times(2)
        .returning(|| Ok(None));
    computing(&mut store, "ann", 2, 1);
    let (repo, cache) = cached(store, 100);
    repo.search(&query("ann")).await.unwrap();
    repo.search(&query("ann")).await.unwrap();
    assert_eq!(cache.counts(), SearchCacheCounts::default());
}

#[tokio::test]
async fn a_version_that_cannot_be_read_fails_the_search() {
    let mut store = MockStore::new();
    store
        .expect_current_version()
        .returning(|| Err(RepositoryError::Unavailable("down".into())));
    store.expect_search().never();
    let (repo, _) = cached(store, 100);
    assert!(matches!(
        repo.search(&query("ann")).await,
        Err(RepositoryError::Unavailable(_))
    ));
}

/// The store's search blocks its thread until every request has joined: a multi-threaded
/// runtime lets the others arrive meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn the_same_search_asked_together_is_computed_once() {
    const REQUESTS: u64 = 8;
    let v = version("5:9:", 9);
    let cache = Arc::new(SearchCache::new(100));
    let computations = Arc::new(AtomicUsize::new(0));
    let mut store = MockStore::new();
    store
        .expect_current_version()
        .returning(move || Ok(Some(v.clone())));
    store.expect_search().returning({
        let (cache, computations) = (Arc::clone(&cache), Arc::clone(&computations));
        move |_| {
            computations.fetch_add(1, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(10);
            while cache.searches.counts().0 < REQUESTS && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(page(4))
        }
    });
    let repo = Arc::new(CachedSearch::new(store, Some(Arc::clone(&cache))));
    let requests: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let repo = Arc::clone(&repo);
            tokio::spawn(async move { repo.search(&query("ann")).await })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap(), page(4));
    }
    assert_eq!(computations.load(Ordering::SeqCst), 1);
    assert_eq!(
        cache.counts(),
        SearchCacheCounts {
            hits: REQUESTS - 1,
            misses: 1
        }
    );
    assert_eq!(cache.searches.busy_keys(), 0);
}

#[tokio::test]
async fn an_erasure_drops_every_result_kept_from_before_it() {
    let before = version("5:9:", 9);
    let after = version("10:10:", 10);
    let mut store = MockStore::new();
    naming(
        &mut store,
        vec![
            before.clone(),
            before.clone(),
            // Read by the erasure, once it committed.
            after,
            // A search that had read its version before the erasure.
            before.clone(),
            before,
        ],
    );
    computing(&mut store, "ann", 3, 1);
    // The storage under the cache is told too (it may keep results of its own).
    store.expect_forget_erased().times(1).returning(|| ());
    let (repo, cache) = cached(store, 100);

    repo.search(&query("ann")).await.unwrap();
    repo.search(&query("ann")).await.unwrap();
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 1, misses: 1 });
    repo.forget_erased().await;
    // Gone, and a result older than the erasure is not kept again either.
    repo.search(&query("ann")).await.unwrap();
    repo.search(&query("ann")).await.unwrap();
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 1, misses: 3 });
}

#[test]
fn forgetting_keeps_results_newer_than_the_erasure() {
    let cache = SearchCache::new(100);
    let newer = version("20:20:", 20);
    cache.keep(newer.clone(), query("ann"), &page(1));
    cache.forget(Some(version("10:10:", 10)));
    assert_eq!(cache.kept(&newer, &query("ann")), Some(page(1)));
    cache.forget(None);
    assert_eq!(cache.kept(&newer, &query("ann")), None);
}

/// A request's searches and their versions go to the storage scoped to it; what an erasure
/// forgets by is the unscoped storage's version, which saw the erasure commit (a scoped one
/// may be a replica's from before it).
#[tokio::test]
async fn a_requests_search_reads_its_scope_and_an_erasure_forgets_by_the_latest_version() {
    let (old, erased) = (version("5:9:", 9), version("10:10:", 10));
    let mut latest = MockStore::new();
    latest.expect_search().never();
    naming(&mut latest, vec![erased]);
    latest.expect_for_request().times(1).returning({
        let old = old.clone();
        move |_| {
            let mut scoped = MockStore::new();
            naming(&mut scoped, vec![old.clone(), old.clone()]);
            computing(&mut scoped, "ann", 1, 2);
            scoped.expect_forget_erased().times(1).returning(|| ());
            scoped
        }
    });
    let (search, cache) = cached(latest, 100);
    let request = search.for_request(&domain::RequestContext::default());
    request.search(&query("ann")).await.unwrap();
    assert_eq!(request.search(&query("ann")).await.unwrap(), page(2));
    assert_eq!(cache.counts(), SearchCacheCounts { hits: 1, misses: 1 });
    request.forget_erased().await;
    assert_eq!(cache.kept(&old, &query("ann")), None);
}
