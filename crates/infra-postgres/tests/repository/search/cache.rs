//! Search results reused while the database has not changed, and never after it did.

use crate::support::TestDatabase;
use diesel::sql_query;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::{CustomerRepository, SearchCriteria};
use infra_postgres::{PgCustomerRepository, SearchCache};

use super::query;
use crate::support::{draft, insert};

fn cached(db: &TestDatabase, cache: &SearchCache) -> PgCustomerRepository {
    PgCustomerRepository::new(db.pool().clone()).with_search_cache(cache.clone())
}

async fn total(repo: &PgCustomerRepository, criteria: &SearchCriteria) -> u64 {
    repo.search(criteria).await.unwrap().total
}

#[tokio::test]
async fn a_search_is_reused_while_nothing_is_written() {
    let db = TestDatabase::new().await;
    let cache = SearchCache::new(1000);
    let repo = cached(&db, &cache);
    insert(&repo, &draft("Ann", "Lee", "ann@example.com")).await;
    let criteria = query("ann");
    // Other tests write to the same server, and any write anywhere on it changes the
    // snapshot; sooner or later two searches fall between two writes.
    let mut reused = false;
    for _ in 0..200 {
        let before = cache.counts();
        assert_eq!(total(&repo, &criteria).await, 1);
        assert_eq!(total(&repo, &criteria).await, 1);
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
    let cache = SearchCache::new(1000);
    // Two repositories sharing the cache, as the service's workers do.
    let repo = cached(&db, &cache);
    let other = cached(&db, &cache);
    insert(&repo, &draft("Ann", "Lee", "ann@example.com")).await;
    let criteria = query("ann");
    assert_eq!(total(&repo, &criteria).await, 1);

    // Another writer, outside the service, opens a transaction and inserts a match.
    let mut writer = AsyncPgConnection::establish(db.url()).await.unwrap();
    sql_query("BEGIN").execute(&mut writer).await.unwrap();
    sql_query(
        "INSERT INTO customers (customer_id, username, first_name, last_name, email) \
         VALUES ('CUST_0000AB12', 'annabel', 'Annabel', 'Ray', 'annabel@example.com')",
    )
    .execute(&mut writer)
    .await
    .unwrap();
    // Not committed: not visible, however often asked (and kept meanwhile).
    for _ in 0..3 {
        assert_eq!(total(&repo, &criteria).await, 1);
        assert_eq!(total(&other, &criteria).await, 1);
    }
    sql_query("COMMIT").execute(&mut writer).await.unwrap();
    assert_eq!(total(&repo, &criteria).await, 2);
    assert_eq!(total(&other, &criteria).await, 2);

    // The service's own writes too: an update, then a delete.
    let ann = repo.search(&query("annabel")).await.unwrap().customers[0].clone();
    assert!(repo.deactivate(&ann.customer_id).await.unwrap());
    let active_anns = SearchCriteria {
        is_active: Some(true),
        ..query("ann")
    };
    assert_eq!(total(&repo, &active_anns).await, 1);
    assert!(repo.delete(&ann.customer_id).await.unwrap());
    assert_eq!(total(&other, &criteria).await, 1);
}
