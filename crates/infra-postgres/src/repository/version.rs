//! Search results reused while the database has not changed.
//!
//! A search costs PostgreSQL milliseconds (planning, an index walk or a trigram scan, and
//! for up to a few thousand matches a count), and the same search is often asked again:
//! the same page refreshed, the same filter by many clients. Every result here is kept with
//! the snapshot PostgreSQL gave just before its statements ran (`pg_current_snapshot()`:
//! `xmin:xmax:xip`, where every transaction below `xmax` and not listed in `xip` has ended,
//! and `xmax` is one past the newest that has), and a later search with the same criteria
//! reuses it only while the current snapshot is exactly that one.
//!
//! Why that is never stale: data changes only when a transaction commits, and a commit
//! changes every later snapshot. The committing transaction was either listed as running
//! (it leaves the list) or had an id at or above `xmax` (`xmax` moves past it). So no
//! search after a commit reuses a result computed before it, and a result computed after a
//! commit that followed its snapshot is newer than its label, never older. (An abort also
//! changes the snapshot, which only costs a recomputation.) Snapshots are server-wide, so
//! this holds with any number of service instances and any other writer. The repository
//! never searches inside a transaction of its own, whose writes a snapshot would not show.
//!
//! So reuse pays off while nothing is written, anywhere on the server: read-heavy periods,
//! and repeated searches between writes. Each search pays one extra round trip for the
//! snapshot. The total of a large result is an estimate either way (see `totals`); a reused
//! one is the estimate of when it was computed.
//!
//! The cache holds one snapshot's results: results of an older snapshot are never reused,
//! so they are dropped as soon as a newer snapshot's result comes in. It holds at most
//! `capacity` customers over all its pages, and starts over when a result would not fit.
//! Searches asked together under one snapshot are computed once: the first computes, the
//! others wait for its result (or, if it fails, compute themselves), so a burst of the same
//! search after a write costs one computation, not one per client.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use diesel::QueryResult;
use diesel::sql_types::Text;
use diesel_async::AsyncPgConnection;
use domain::{CustomerPage, SearchCriteria};
use tokio::sync::watch;

/// What `pg_current_snapshot()` showed: `xmin:xmax:xip,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Snapshot {
    text: String,
    /// One past the newest ended transaction: snapshots taken later never have a smaller
    /// one.
    xmax: u64,
}

impl Snapshot {
    fn parse(text: String) -> Option<Self> {
        let xmax = text.split(':').nth(1)?.parse().ok()?;
        Some(Self { text, xmax })
    }
}

/// The current snapshot, or `None` when PostgreSQL answered something unexpected (then the
/// search is computed and not kept).
pub(super) async fn current_snapshot(conn: &AsyncPgConnection) -> QueryResult<Option<Snapshot>> {
    let mut conn = conn;
    let text: String = crate::complete::one_row(
        diesel::select(diesel::dsl::sql::<Text>("pg_current_snapshot()::text")),
        &mut conn,
    )
    .await?;
    Ok(Snapshot::parse(text))
}

/// Search results of one snapshot, shared by every repository built with a clone.
#[derive(Debug, Clone)]
pub struct SearchCache(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    capacity: usize,
    held: Mutex<Held>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug, Default)]
struct Held {
    snapshot: Option<Snapshot>,
    results: HashMap<SearchCriteria, CustomerPage>,
    customers: usize,
    /// Searches being computed, with the snapshot each was asked under; their waiters
    /// hear when the computation ends (its sender is dropped).
    computing: HashMap<SearchCriteria, (Snapshot, watch::Sender<()>)>,
}

/// What to do about a search.
#[derive(Debug)]
pub(super) enum Lookup {
    /// Its result under this snapshot.
    Kept(CustomerPage),
    /// The same search under the same snapshot is being computed: wait for it to end, then
    /// look again.
    Wait(Waiting),
    /// Compute it, and finish with [`Computing::keep`].
    Compute(Box<Computing>),
}

/// A search being computed by another request.
#[derive(Debug)]
pub(super) struct Waiting(watch::Receiver<()>);

impl Waiting {
    /// Returns once that computation ended, kept or given up.
    pub(super) async fn ended(mut self) {
        // Nothing is ever sent: the channel closes when its senders are dropped.
        while self.0.changed().await.is_ok() {}
    }
}

/// The right, and duty, to compute a search: while it lives, the same search under the
/// same snapshot waits for it; dropped without [`Computing::keep`] (the search failed or
/// its request went away), the waiters compute themselves.
#[derive(Debug)]
pub(super) struct Computing {
    cache: SearchCache,
    snapshot: Snapshot,
    criteria: SearchCriteria,
    id: watch::Sender<()>,
}

impl Computing {
    /// Keeps the result, then lets the waiters find it.
    pub(super) fn keep(self, page: &CustomerPage) {
        self.cache
            .keep(self.snapshot.clone(), self.criteria.clone(), page);
    }
}

impl Drop for Computing {
    fn drop(&mut self) {
        let mut held = self.cache.held();
        let ours = held
            .computing
            .get(&self.criteria)
            .is_some_and(|(_, sender)| sender.same_channel(&self.id));
        if ours {
            // Dropping the last sender wakes every waiter.
            held.computing.remove(&self.criteria);
        }
    }
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
    pub fn new(capacity: usize) -> Self {
        Self(Arc::new(Shared {
            capacity,
            held: Mutex::new(Held::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }))
    }

    /// Whether results are kept at all (a capacity above 0): without, searches skip the
    /// snapshot.
    pub fn keeps_anything(&self) -> bool {
        self.0.capacity > 0
    }

    /// Hits and misses since the cache was made.
    pub fn counts(&self) -> SearchCacheCounts {
        SearchCacheCounts {
            hits: AtomicU64::load(&self.0.hits, Ordering::Relaxed),
            misses: AtomicU64::load(&self.0.misses, Ordering::Relaxed),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.0.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `criteria` under `snapshot` is kept, being computed, or to compute. A search
    /// served from the cache, at once or after waiting, counts as a hit; one computed as a
    /// miss.
    pub(super) fn lookup(&self, snapshot: &Snapshot, criteria: &SearchCriteria) -> Lookup {
        let mut held = self.held();
        if held.snapshot.as_ref() == Some(snapshot)
            && let Some(page) = held.results.get(criteria)
        {
            let page = page.clone();
            drop(held);
            self.0.hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Kept(page);
        }
        if let Some((computing_under, sender)) = held.computing.get(criteria)
            && computing_under == snapshot
        {
            return Lookup::Wait(Waiting(sender.subscribe()));
        }
        self.0.misses.fetch_add(1, Ordering::Relaxed);
        let (id, _) = watch::channel(());
        held.computing
            .insert(criteria.clone(), (snapshot.clone(), id.clone()));
        Lookup::Compute(Box::new(Computing {
            cache: self.clone(),
            snapshot: snapshot.clone(),
            criteria: criteria.clone(),
            id,
        }))
    }

    /// Keeps `page`, the result of `criteria` computed after `snapshot` was taken.
    fn keep(&self, snapshot: Snapshot, criteria: SearchCriteria, page: &CustomerPage) {
        let size = page.customers.len().max(1);
        if size > self.0.capacity {
            return;
        }
        let mut held = self.held();
        match &held.snapshot {
            // A result of an older snapshot than the one held could never be reused.
            Some(current) if snapshot.xmax < current.xmax => return,
            Some(current) if *current == snapshot => {}
            _ => {
                held.snapshot = Some(snapshot);
                held.results.clear();
                held.customers = 0;
            }
        }
        if held.customers + size > self.0.capacity {
            held.results.clear();
            held.customers = 0;
        }
        if held.results.insert(criteria, page.clone()).is_none() {
            held.customers += size;
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::PageRequest;

    use super::*;

    fn snapshot(text: &str) -> Snapshot {
        Snapshot::parse(text.to_owned()).unwrap()
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

    impl SearchCache {
        /// The kept result, if any; a search it would have to compute is given up at once.
        fn get(&self, snapshot: &Snapshot, criteria: &SearchCriteria) -> Option<CustomerPage> {
            match self.lookup(snapshot, criteria) {
                Lookup::Kept(page) => Some(page),
                Lookup::Wait(_) | Lookup::Compute(_) => None,
            }
        }

        fn put(&self, snapshot: Snapshot, criteria: SearchCriteria, page: &CustomerPage) {
            match self.lookup(&snapshot, &criteria) {
                Lookup::Compute(computing) => computing.keep(page),
                other => panic!("expected to compute, got {other:?}"),
            }
        }
    }

    #[test]
    fn snapshots_are_read_from_postgres_text() {
        let s = snapshot("795:799:795,797");
        assert_eq!(s.xmax, 799);
        assert_eq!(snapshot("10:10:").xmax, 10);
        assert!(Snapshot::parse("garbage".into()).is_none());
        assert!(Snapshot::parse("1:x:".into()).is_none());
    }

    #[test]
    fn a_result_is_reused_only_under_the_same_snapshot_and_criteria() {
        let cache = SearchCache::new(100);
        let s1 = snapshot("5:9:5,7");
        cache.put(s1.clone(), query("ann"), &page(3));

        assert_eq!(cache.get(&s1, &query("ann")), Some(page(3)));
        assert_eq!(cache.get(&s1, &query("bob")), None);
        let other_page = SearchCriteria {
            page: PageRequest {
                offset: 10,
                limit: 10,
            },
            ..query("ann")
        };
        assert_eq!(cache.get(&s1, &other_page), None);
        // Transaction 7 ended: the data may have changed.
        assert_eq!(cache.get(&snapshot("5:9:5"), &query("ann")), None);
        // A transaction at or above xmax ended.
        assert_eq!(cache.get(&snapshot("5:10:5,7"), &query("ann")), None);
        // The first miss is the search that computed the result.
        assert_eq!(cache.counts(), SearchCacheCounts { hits: 1, misses: 5 });
    }

    #[test]
    fn a_newer_snapshot_replaces_every_result_and_an_older_one_is_not_kept() {
        let cache = SearchCache::new(100);
        let old = snapshot("5:9:5,7");
        let new = snapshot("8:12:");
        cache.put(old.clone(), query("ann"), &page(1));
        cache.put(new.clone(), query("bob"), &page(2));
        assert_eq!(cache.get(&old, &query("ann")), None);
        assert_eq!(cache.get(&new, &query("bob")), Some(page(2)));

        // A slow search that began before the change finishes last.
        cache.put(old.clone(), query("cy"), &page(3));
        assert_eq!(cache.get(&old, &query("cy")), None);
        assert_eq!(cache.get(&new, &query("bob")), Some(page(2)));
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity_in_customers() {
        // An empty page counts as one customer.
        let cache = SearchCache::new(2);
        let s = snapshot("1:2:");
        cache.put(s.clone(), query("a"), &page(0));
        cache.put(s.clone(), query("b"), &page(0));
        assert!(cache.get(&s, &query("a")).is_some());
        // A third would not fit: the cache starts over with it.
        cache.put(s.clone(), query("c"), &page(0));
        assert!(cache.get(&s, &query("a")).is_none());
        assert!(cache.get(&s, &query("b")).is_none());
        assert!(cache.get(&s, &query("c")).is_some());
        cache.put(s.clone(), query("d"), &page(0));
        assert!(cache.get(&s, &query("c")).is_some());
        assert!(cache.get(&s, &query("d")).is_some());
        // Nothing is kept with no capacity.
        let none = SearchCache::new(0);
        none.put(s.clone(), query("a"), &page(0));
        assert!(none.get(&s, &query("a")).is_none());
    }

    fn computing(lookup: Lookup) -> Box<Computing> {
        match lookup {
            Lookup::Compute(computing) => computing,
            other => panic!("expected to compute, got {other:?}"),
        }
    }

    fn waiting(lookup: Lookup) -> Waiting {
        match lookup {
            Lookup::Wait(done) => done,
            other => panic!("expected to wait, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_same_search_asked_together_is_computed_once() {
        let cache = SearchCache::new(100);
        let s = snapshot("5:9:");
        let leader = computing(cache.lookup(&s, &query("ann")));
        let done = waiting(cache.lookup(&s, &query("ann")));
        // Another search, or the same under another snapshot, does not wait.
        drop(computing(cache.lookup(&s, &query("bob"))));
        let newer = computing(cache.lookup(&snapshot("5:10:"), &query("ann")));
        drop(newer);

        let woken = tokio::spawn(done.ended());
        leader.keep(&page(4));
        woken.await.unwrap();
        match cache.lookup(&s, &query("ann")) {
            Lookup::Kept(kept) => assert_eq!(kept, page(4)),
            other => panic!("expected the result, got {other:?}"),
        }
        assert_eq!(cache.counts(), SearchCacheCounts { hits: 1, misses: 3 });
    }

    #[tokio::test]
    async fn when_the_first_gives_up_a_waiter_computes() {
        let cache = SearchCache::new(100);
        let s = snapshot("5:9:");
        let leader = computing(cache.lookup(&s, &query("ann")));
        let woken = tokio::spawn(waiting(cache.lookup(&s, &query("ann"))).ended());
        // The search failed, or its client went away.
        drop(leader);
        woken.await.unwrap();
        let second = computing(cache.lookup(&s, &query("ann")));
        // A newcomer now waits for the second one.
        waiting(cache.lookup(&s, &query("ann")));
        second.keep(&page(1));
        assert!(matches!(cache.lookup(&s, &query("ann")), Lookup::Kept(_)));
    }
}
