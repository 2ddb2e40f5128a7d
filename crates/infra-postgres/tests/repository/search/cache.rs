//! The search cache (`layers::CachedSearch`) over this adapter, as the service composes it:
//! results reused while the database has not changed, and never after it did; and the
//! adapter's half of the `DataVersions` contract, that no search reads inside a transaction
//! whose writes the version does not show.

use std::sync::Arc;

use crate::support::TestDatabase;
use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::{CustomerSearch, CustomerStore, Precondition, SearchCriteria};
use infra_postgres::{PgCustomerRepository, PoolSettings, build_pool};
use layers::{CachedSearch, SearchCache};

use super::query;
use crate::support::{Outcome, draft, insert};

fn cached(db: &TestDatabase, cache: &Arc<SearchCache>) -> CachedSearch<PgCustomerRepository> {
    CachedSearch::new(db.repository(), Some(Arc::clone(cache)))
}

async fn total(repo: &impl CustomerSearch, criteria: &SearchCriteria) -> u64 {
    repo.search(criteria).await.unwrap().total
}

const ANNABEL: &str = "INSERT INTO customers (customer_id, username, first_name, last_name, email) \
     VALUES ('CUST_0000AB12', 'annabel', 'Annabel', 'Ray', 'annabel@example.com')";

#[tokio::test]
async fn a_search_is_reused_while_nothing_is_written() {
    let db = TestDatabase::new().await;
    let cache = Arc::new(SearchCache::new(1000));
    let search = cached(&db, &cache);
    insert(&db.repository(), &draft("Ann", "Lee", "ann@example.com")).await;
    let criteria = query("ann");
    // Other tests write to the same server, and any write anywhere on it changes the
    // snapshot; sooner or later two searches fall between two writes.
    let mut reused = false;
    for _ in 0..200 {
        let before = cache.counts();
        assert_eq!(total(&search, &criteria).await, 1);
        assert_eq!(total(&search, &criteria).await, 1);
        if cache.counts().hits > before.hits {
            reused = true;
            break;
        }
    }
    assert!(reused, "{:?}", cache.counts());
}

#[tokio::test]
async fn a_write_committed_by_anyone_is_seen_by_the_next_search() {
    let db = TestDatabase::new().await;
    let cache = Arc::new(SearchCache::new(1000));
    // Two searches sharing the cache, as the service's workers do, and the store beside.
    let repo = db.repository();
    let search = cached(&db, &cache);
    let other = cached(&db, &cache);
    insert(&repo, &draft("Ann", "Lee", "ann@example.com")).await;
    let criteria = query("ann");
    assert_eq!(total(&search, &criteria).await, 1);

    // Another writer, outside the service, opens a transaction and inserts a match.
    let mut writer = AsyncPgConnection::establish(db.url()).await.unwrap();
    sql_query("BEGIN").execute(&mut writer).await.unwrap();
    sql_query(ANNABEL).execute(&mut writer).await.unwrap();
    // Not committed: not visible, however often asked (and kept meanwhile).
    for _ in 0..3 {
        assert_eq!(total(&search, &criteria).await, 1);
        assert_eq!(total(&other, &criteria).await, 1);
    }
    sql_query("COMMIT").execute(&mut writer).await.unwrap();
    assert_eq!(total(&search, &criteria).await, 2);
    assert_eq!(total(&other, &criteria).await, 2);

    // The service's own writes too: an update, then a delete.
    let ann = search.search(&query("annabel")).await.unwrap().customers[0].clone();
    assert!(
        repo.deactivate(&ann.customer_id, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
    let active_anns = SearchCriteria {
        is_active: Some(true),
        ..query("ann")
    };
    assert_eq!(total(&search, &active_anns).await, 1);
    assert!(
        repo.delete(&ann.customer_id, &Precondition::Any)
            .await
            .unwrap()
            .done()
    );
    assert_eq!(total(&other, &criteria).await, 1);
}

/// A request that goes away in the middle of a transaction leaves its connection inside it,
/// with a write the data version does not show. Were that connection handed to a search,
/// the search would see the write and the cache would keep it under a version every other
/// request shares. The pool replaces such a connection instead: with two connections in
/// all, the searches below run on both of the pool's connections, and none sees the write.
#[tokio::test]
async fn a_connection_left_inside_a_transaction_never_serves_a_search() {
    let db = TestDatabase::new().await;
    let pool = build_pool(&PoolSettings {
        max_size: 2,
        ..PoolSettings::for_url(db.url())
    })
    .unwrap();
    let repo = PgCustomerRepository::new(pool.clone());
    let cache = Arc::new(SearchCache::new(1000));
    let cached = CachedSearch::new(repo.clone(), Some(Arc::clone(&cache)));
    insert(&repo, &draft("Ann", "Lee", "ann@example.com")).await;
    {
        let _other = pool.get().await.unwrap();
        let mut conn = pool.get().await.unwrap();
        let (inserted, written) = tokio::sync::oneshot::channel();
        let abandoned = conn.transaction::<(), diesel::result::Error, _>(async move |conn| {
            sql_query(ANNABEL).execute(conn).await?;
            let _ = inserted.send(());
            std::future::pending().await
        });
        tokio::select! {
            _ = abandoned => panic!("the transaction ended"),
            _ = written => {}
        }
    }
    let committed = [("ann", 1), ("annabel", 0), ("ray", 0), ("lee", 1)];
    for _ in 0..3 {
        for (term, expected) in committed {
            assert_eq!(total(&repo, &query(term)).await, expected, "{term}");
            assert_eq!(total(&cached, &query(term)).await, expected, "{term}");
        }
    }
    assert!(cache.counts().misses > 0, "{:?}", cache.counts());
}
