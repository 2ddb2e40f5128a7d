//! The index over a storage kept in memory that keeps changes as the PostgreSQL one does:
//! in feed order, settled once the horizon passed them. What a search sees of writes
//! committed before it, what it reads again, and when the storage's own search answers.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use chrono::{TimeZone, Utc};
use domain::{ChangedCustomer, Customer, CustomerId, MockCustomerSearch, PageRequest};

use super::*;

/// Customers, their changes and the counts of what was read.
#[derive(Default)]
struct Stored {
    customers: BTreeMap<String, (SearchDocument, u64)>,
    /// Every change: position, customer, and whether the horizon passed it.
    changes: Vec<ChangedCustomer>,
    next_transaction: u64,
    purged: bool,
    /// The page read by id shows this version of every customer instead, `times` times.
    page_version: Option<(u64, usize)>,
}

#[derive(Clone, Default)]
struct Storage {
    stored: Arc<Mutex<Stored>>,
    documents_read: Arc<AtomicUsize>,
    changes_read: Arc<AtomicUsize>,
}

fn document(id: i64, name: &str, version: u64) -> SearchDocument {
    SearchDocument {
        id,
        customer_id: format!("CUST_{id:08X}"),
        version,
        text: format!("{name}\u{1f}doe\u{1f}{name}@x.io\u{1f}{name}{id}\u{1f}\u{1f}"),
        has_phone: false,
        has_company: false,
        city: None,
        state: None,
        country: None,
        preferred_language: None,
        tags: Vec::new(),
        is_active: true,
        is_verified: false,
        created_at: Utc.timestamp_opt(1_700_000_000 + id, 0).unwrap(),
        updated_at: Utc.timestamp_opt(1_700_000_000 + id, 0).unwrap(),
        last_login_at: None,
    }
}

impl Storage {
    fn stored(&self) -> std::sync::MutexGuard<'_, Stored> {
        self.stored.lock().unwrap()
    }

    /// A committed write of the customer (gone when `name` is `None`), settled or not yet.
    fn write(&self, id: i64, name: Option<&str>, settled: bool) {
        let mut stored = self.stored();
        let key = format!("CUST_{id:08X}");
        match name {
            Some(name) => {
                let version = stored.customers.get(&key).map_or(1, |(d, _)| d.version + 1);
                stored
                    .customers
                    .insert(key.clone(), (document(id, name, version), version));
            }
            None => {
                stored.customers.remove(&key);
            }
        }
        stored.next_transaction += 1;
        let position = FeedPosition {
            transaction: stored.next_transaction,
            event: stored.changes.len() as i64,
        };
        stored.changes.push(ChangedCustomer {
            position,
            customer_id: key,
            settled,
        });
    }

    /// The horizon passes every change.
    fn settle(&self) {
        for change in &mut self.stored().changes {
            change.settled = true;
        }
    }
}

fn customer(document: &SearchDocument, version: u64) -> Customer {
    Customer {
        id: document.id,
        customer_id: CustomerId::parse(&document.customer_id).unwrap(),
        version,
        ..domain::fixtures::john_doe()
    }
}

#[async_trait]
impl SearchDocuments for Storage {
    async fn index_start(&self) -> Result<Option<FeedPosition>, RepositoryError> {
        let stored = self.stored();
        // The first change not settled, or after the last.
        Ok(Some(
            stored
                .changes
                .iter()
                .find(|c| !c.settled)
                .map(|c| c.position)
                .map_or(
                    FeedPosition {
                        transaction: stored.next_transaction + 1,
                        event: i64::MIN,
                    },
                    |p| FeedPosition {
                        transaction: p.transaction,
                        event: i64::MIN,
                    },
                ),
        ))
    }

    async fn documents_after(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<SearchDocument>, RepositoryError> {
        let mut all: Vec<SearchDocument> = self
            .stored()
            .customers
            .values()
            .map(|(d, _)| d.clone())
            .filter(|d| d.id > after_id)
            .collect();
        all.sort_by_key(|d| d.id);
        all.truncate(limit as usize);
        Ok(all)
    }

    async fn documents_of(
        &self,
        customer_ids: &[String],
    ) -> Result<Vec<SearchDocument>, RepositoryError> {
        self.documents_read
            .fetch_add(customer_ids.len(), Ordering::Relaxed);
        let stored = self.stored();
        Ok(customer_ids
            .iter()
            .filter_map(|id| stored.customers.get(id).map(|(d, _)| d.clone()))
            .collect())
    }

    async fn changes_after(
        &self,
        after: FeedPosition,
        limit: u32,
    ) -> Result<IndexChanges, RepositoryError> {
        self.changes_read.fetch_add(1, Ordering::Relaxed);
        let stored = self.stored();
        if stored.purged {
            return Ok(IndexChanges::Purged);
        }
        Ok(IndexChanges::Changed(
            stored
                .changes
                .iter()
                .filter(|c| c.position > after)
                .take(limit as usize)
                .cloned()
                .collect(),
        ))
    }

    async fn customers_by_id(&self, ids: &[i64]) -> Result<Vec<Customer>, RepositoryError> {
        let mut stored = self.stored();
        let shown = match &mut stored.page_version {
            Some((version, times)) if *times > 0 => {
                *times -= 1;
                Some(*version)
            }
            _ => None,
        };
        Ok(stored
            .customers
            .values()
            .filter(|(d, _)| ids.contains(&d.id))
            .map(|(d, version)| customer(d, shown.unwrap_or(*version)))
            .collect())
    }
}

fn named(term: &str) -> SearchCriteria {
    SearchCriteria {
        query: Some(term.into()),
        page: PageRequest {
            offset: 0,
            limit: 10,
        },
        ..SearchCriteria::default()
    }
}

/// The storage's own search, expected `times` times, answering `total`.
fn inner(times: usize, total: u64) -> MockCustomerSearch {
    let mut inner = MockCustomerSearch::new();
    inner.expect_search().times(times).returning(move |_| {
        Ok(CustomerPage {
            total,
            ..CustomerPage::default()
        })
    });
    inner
}

fn indexed(
    storage: &Storage,
    inner: MockCustomerSearch,
    index: &Arc<SearchIndex>,
) -> IndexedSearch<MockCustomerSearch, Storage> {
    IndexedSearch::new(inner, storage.clone(), Some(Arc::clone(index)))
}

fn ids(page: &CustomerPage) -> Vec<i64> {
    page.customers.iter().map(|c| c.id).collect()
}

#[tokio::test]
async fn until_it_is_built_and_for_what_it_declines_the_storage_answers() {
    let storage = Storage::default();
    storage.write(1, Some("anna"), true);
    let index = SearchIndex::new();
    let search = indexed(&storage, inner(2, 99), &index);
    assert_eq!(search.search(&named("anna")).await.unwrap().total, 99);
    assert!(index.build(&storage).await.unwrap());
    assert_eq!(search.search(&named("anna")).await.unwrap().total, 1);
    // A term outside ASCII.
    assert_eq!(search.search(&named("änna")).await.unwrap().total, 99);
    let counts = index.counts();
    assert_eq!(
        (counts.answered, counts.declined, counts.documents),
        (1, 2, 1)
    );
    assert!(counts.ready);
}

#[tokio::test]
async fn a_search_sees_every_write_committed_before_it_settled_or_not() {
    let storage = Storage::default();
    storage.write(1, Some("anna"), true);
    storage.write(2, Some("annabel"), true);
    let index = SearchIndex::new();
    index.build(&storage).await.unwrap();
    let search = indexed(&storage, inner(0, 0), &index);
    assert_eq!(ids(&search.search(&named("anna")).await.unwrap()), [2, 1]);

    // Committed while an older transaction still runs: not settled, seen all the same.
    storage.write(3, Some("hanna"), false);
    storage.write(1, Some("bob"), false);
    storage.write(2, None, true);
    let page = search.search(&named("anna")).await.unwrap();
    assert_eq!((ids(&page), page.total), (vec![3], 1));
    assert_eq!(ids(&search.search(&named("bob")).await.unwrap()), [1]);
}

#[tokio::test]
async fn a_change_not_settled_is_read_again_but_its_customer_only_once() {
    let storage = Storage::default();
    let index = SearchIndex::new();
    index.build(&storage).await.unwrap();
    let search = indexed(&storage, inner(0, 0), &index);
    storage.write(1, Some("anna"), false);
    search.search(&named("anna")).await.unwrap();
    search.search(&named("anna")).await.unwrap();
    // Read twice (the mark stays before it), the customer's document once.
    assert_eq!(storage.documents_read.load(Ordering::Relaxed), 1);
    storage.settle();
    storage.write(2, Some("anna"), true);
    search.search(&named("anna")).await.unwrap();
    assert_eq!(storage.documents_read.load(Ordering::Relaxed), 2);
    assert_eq!(
        index.progress.lock().await.mark,
        Some(FeedPosition {
            transaction: 2,
            event: 1
        })
    );
    assert!(index.progress.lock().await.tail.is_empty());
}

#[tokio::test]
async fn a_write_between_the_index_and_the_page_makes_it_search_again() {
    let storage = Storage::default();
    storage.write(1, Some("anna"), true);
    let index = SearchIndex::new();
    index.build(&storage).await.unwrap();
    // The page shows another version once: the second attempt answers.
    storage.stored().page_version = Some((7, 1));
    let search = indexed(&storage, inner(0, 0), &index);
    let page = search.search(&named("anna")).await.unwrap();
    assert_eq!((ids(&page), page.customers[0].version), (vec![1], 1));
    assert_eq!(index.counts().retried, 1);
    // Every attempt disagrees: the storage answers.
    storage.stored().page_version = Some((7, ATTEMPTS));
    let search = indexed(&storage, inner(1, 42), &index);
    assert_eq!(search.search(&named("anna")).await.unwrap().total, 42);
}

#[tokio::test]
async fn purged_changes_drop_the_index_until_it_is_built_again() {
    let storage = Storage::default();
    storage.write(1, Some("anna"), true);
    let index = SearchIndex::new();
    index.build(&storage).await.unwrap();
    storage.stored().purged = true;
    let search = indexed(&storage, inner(1, 5), &index);
    assert_eq!(search.search(&named("anna")).await.unwrap().total, 5);
    assert!(!index.is_ready());
    storage.stored().purged = false;
    storage.write(2, Some("anna"), true);
    assert!(index.build(&storage).await.unwrap());
    assert_eq!(index.counts().documents, 2);
}

#[tokio::test]
async fn searches_that_arrived_while_a_catch_up_ran_share_the_next_one() {
    let storage = Storage::default();
    storage.write(1, Some("anna"), true);
    let index = SearchIndex::new();
    index.build(&storage).await.unwrap();
    let reads = || storage.changes_read.load(Ordering::Relaxed);
    // One at a time: one read each.
    index.catch_up(&storage).await.unwrap();
    index.catch_up(&storage).await.unwrap();
    assert_eq!(reads(), 2);
    // Eight that all arrived before a catch-up began: one read serves them all.
    let progress = index.progress.lock().await;
    let waiting: Vec<_> = (0..8).map(|_| index.catch_up(&storage)).collect();
    let all = futures::future::join_all(waiting);
    let released = async {
        tokio::task::yield_now().await;
        drop(progress);
    };
    let (caught, ()) = tokio::join!(all, released);
    assert!(caught.into_iter().all(|c| c.unwrap()));
    assert_eq!(reads(), 3);
}

#[tokio::test]
async fn a_storage_that_cannot_feed_an_index_leaves_every_search_to_it() {
    let mut storage = domain::MockSearchDocuments::new();
    storage.expect_index_start().returning(|| Ok(None));
    let index = SearchIndex::new();
    assert!(!index.build(&storage).await.unwrap());
    assert!(!index.is_ready());
    // `maintain` returns at once, its job done.
    tokio::time::timeout(
        Duration::from_secs(5),
        Arc::clone(&index).maintain(storage, Duration::from_millis(10)),
    )
    .await
    .unwrap();
}
