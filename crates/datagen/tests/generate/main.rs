//! `generate_customers`: generated customers are valid domain customers, unique where the
//! schema says so, realistic, deterministic, and the indexes survive the load. Every test
//! creates its own database (cloned from the migrated template); needs `DATABASE_URL` (see
//! `make test`).

// clippy exempts `#[test]` functions from the workspace's unwrap ban, not the helpers they
// share; in tests an unwrap is the assertion.
#![expect(clippy::unwrap_used, reason = "test helpers fail the test on error")]

use std::collections::HashSet;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use datagen::{GeneratorOptions, GeneratorReport, generate_customers};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use domain::{Customer, CustomerReads, ListQuery, PageRequest};

use infra_postgres::test_support::{TestDatabase, person};

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn options(count: u64, seed: u32) -> GeneratorOptions {
    GeneratorOptions {
        count,
        seed,
        until: Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap(),
    }
}

async fn lines(db: &TestDatabase, sql: &str) -> Vec<String> {
    let mut conn = db.pool().get().await.unwrap();
    let rows: Vec<Line> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
    rows.into_iter().map(|r| r.line).collect()
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    let mut conn = db.pool().get().await.unwrap();
    diesel::sql_query(sql)
        .load::<Count>(&mut conn)
        .await
        .unwrap()
        .remove(0)
        .n
}

async fn index_definitions(db: &TestDatabase) -> Vec<String> {
    lines(
        db,
        "SELECT indexdef AS line FROM pg_indexes WHERE tablename = 'customers' ORDER BY 1",
    )
    .await
}

/// The table's pages and how many of them the visibility map marks all-visible, as the
/// last `VACUUM` or `ANALYZE` recorded them.
async fn pages_and_all_visible(db: &TestDatabase) -> (i64, i64) {
    let counts = lines(
        db,
        "SELECT relpages || ' ' || relallvisible AS line FROM pg_class \
         WHERE oid = 'customers'::regclass",
    )
    .await;
    let (all, visible) = counts[0].split_once(' ').unwrap();
    (all.parse().unwrap(), visible.parse().unwrap())
}

/// The report names each index rebuilt (every one but the primary key), longest first,
/// and its phases fit in the seeding's wall time.
async fn assert_phases_account_for_every_rebuilt_index(
    db: &TestDatabase,
    report: &GeneratorReport,
) {
    let phases = &report.phases;
    let mut rebuilt: Vec<_> = phases.index_builds.iter().map(|b| b.name.clone()).collect();
    rebuilt.sort();
    let expected = lines(
        db,
        "SELECT indexname AS line FROM pg_indexes \
         WHERE tablename = 'customers' AND indexname <> 'customers_pkey' ORDER BY 1",
    )
    .await;
    assert_eq!(rebuilt, expected);
    assert!(
        phases
            .index_builds
            .windows(2)
            .all(|w| w[0].elapsed >= w[1].elapsed),
        "longest first: {:?}",
        phases.index_builds
    );
    // The unique indexes are built one after another within the unique phase.
    let unique_names = lines(
        db,
        "SELECT indexrelid::regclass::text AS line FROM pg_index \
         WHERE indrelid = 'customers'::regclass AND indisunique AND NOT indisprimary",
    )
    .await;
    assert_eq!(unique_names.len(), 3, "{unique_names:?}");
    let unique: Duration = phases
        .index_builds
        .iter()
        .filter(|b| unique_names.contains(&b.name))
        .map(|b| b.elapsed)
        .sum();
    assert!(unique <= phases.unique_indexes, "{phases:?}");
    let parts = phases.copy + phases.unique_indexes + phases.other_indexes + phases.analyze;
    assert!(
        parts <= report.elapsed && phases.copy > Duration::ZERO,
        "{phases:?} in {:?}",
        report.elapsed
    );
}

/// Every customer, read through the repository (which re-parses every stored value).
async fn all_customers(db: &TestDatabase) -> Vec<Customer> {
    let repo = db.repository();
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let query = ListQuery {
            page: PageRequest {
                offset: 0,
                limit: 1000,
            },
            is_active: None,
            cursor,
        };
        let page = repo.list(&query).await.unwrap();
        out.extend(page.customers);
        if page.next_cursor.is_none() {
            return out;
        }
        cursor = page.next_cursor;
    }
}

#[tokio::test]
async fn seeding_an_empty_table_gives_valid_unique_realistic_customers_and_keeps_every_index() {
    let db = TestDatabase::new().await;
    let before = index_definitions(&db).await;
    let report = generate_customers(db.url(), &options(2000, 7))
        .await
        .unwrap();
    assert_eq!((report.requested, report.inserted), (2000, 2000));
    assert!(report.phases.counts > Duration::ZERO);
    assert_eq!(
        report.rebuilt_indexes(),
        before.len() - 1,
        "all but the primary key"
    );
    assert_eq!(index_definitions(&db).await, before);
    assert_phases_account_for_every_rebuilt_index(&db, &report).await;

    let customers = all_customers(&db).await;
    assert_eq!(customers.len(), 2000);
    let distinct = |f: fn(&Customer) -> String| customers.iter().map(f).collect::<HashSet<_>>();
    assert_eq!(distinct(|c| c.customer_id.to_string()).len(), 2000);
    assert_eq!(distinct(|c| c.username.to_string()).len(), 2000);
    assert_eq!(distinct(|c| c.email.as_str().to_lowercase()).len(), 2000);
    let suffixed = customers
        .iter()
        .filter(|c| {
            c.username
                .as_str()
                .ends_with(|ch: char| ch.is_ascii_digit())
        })
        .count();
    // Even among 2,000 customers hundreds share a name (at a million, 99%).
    assert!(
        suffixed > 300,
        "names collide, so usernames need suffixes: {suffixed}"
    );
    assert!(distinct(|c| c.country.clone().unwrap_or_default()).len() >= 20);
    assert!(distinct(|c| c.city.clone().unwrap_or_default()).len() >= 40);
    assert!(customers.iter().any(|c| !c.tags.is_empty()));
    assert!(
        customers
            .iter()
            .any(|c| c.gender.is_some() && c.date_of_birth.is_some())
    );
    let languages = distinct(|c| {
        c.preferred_language
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    });
    assert!(languages.contains("pt-BR") && languages.contains(""));
    assert!(languages.len() >= 15, "{languages:?}");
    let until = options(1, 7).until;
    assert!(
        customers
            .iter()
            .all(|c| c.created_at <= until && c.created_at > until - chrono::Days::new(731))
    );

    // COPY FREEZE left every page all-visible, as a VACUUM would have: index-only scans
    // need not visit the heap.
    let (all, visible) = pages_and_all_visible(&db).await;
    assert!(all > 10);
    assert_eq!(visible, all, "pages all-visible");

    // The identity goes on after the generated ids.
    let next = person(&db.repository(), "Zed", "Next").await;
    assert_eq!(next.id, 2001);
    assert_aggregates_exact(&db, 2001).await;
}

#[tokio::test]
async fn an_empty_table_that_a_foreign_key_references_is_seeded_all_the_same() {
    let db = TestDatabase::new().await;
    // TRUNCATE refuses a referenced table, so the rows cannot be written frozen.
    let mut conn = db.pool().get().await.unwrap();
    conn.batch_execute(
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint REFERENCES customers (id))",
    )
    .await
    .unwrap();
    drop(conn);
    let before = index_definitions(&db).await;
    let report = generate_customers(db.url(), &options(800, 5))
        .await
        .unwrap();
    assert_eq!((report.requested, report.inserted), (800, 800));
    assert_eq!(index_definitions(&db).await, before);
    assert_eq!(all_customers(&db).await.len(), 800);
    // Vacuumed instead: every page all-visible all the same.
    let (all, visible) = pages_and_all_visible(&db).await;
    assert_eq!(visible, all, "pages all-visible");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_customers_and_another_seed_others() {
    // Every column but the writing transaction's id (`event_xid`, the history's).
    let digest = "SELECT md5(string_agg((to_jsonb(c) - 'event_xid')::text, '|' ORDER BY id)) \
                  AS line FROM customers AS c";
    let mut digests = Vec::new();
    for seed in [3, 3, 4] {
        let db = TestDatabase::new().await;
        generate_customers(db.url(), &options(300, seed))
            .await
            .unwrap();
        digests.push(lines(&db, digest).await);
    }
    assert_eq!(digests[0], digests[1]);
    assert_ne!(digests[0], digests[2]);
}

#[tokio::test]
async fn seeding_a_table_with_customers_keeps_them_and_skips_collisions() {
    let db = TestDatabase::new().await;
    person(&db.repository(), "Ann", "Existing").await;
    let first = generate_customers(db.url(), &options(500, 9))
        .await
        .unwrap();
    assert_eq!((first.inserted, first.rebuilt_indexes()), (500, 0));
    let phases = &first.phases;
    assert!(phases.index_builds.is_empty());
    assert_eq!(
        (phases.unique_indexes, phases.other_indexes),
        (Duration::ZERO, Duration::ZERO)
    );
    assert!(phases.copy > Duration::ZERO && phases.copy + phases.analyze <= first.elapsed);
    let again = generate_customers(db.url(), &options(500, 9))
        .await
        .unwrap();
    assert_eq!(
        again.inserted, 0,
        "the same rows collide on every unique key"
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM customers").await, 501);
    assert_aggregates_exact(&db, 501).await;
}

/// The aggregates were rebuilt once with the load (its insert trigger was off) and hold
/// exactly what the customers give, and the trigger is on again for later writes.
async fn assert_aggregates_exact(db: &TestDatabase, customers: i64) {
    let drift = infra_postgres::count_drift(db.pool()).await.unwrap();
    assert!(drift.is_empty(), "{drift:?}");
    let kept = "SELECT sum(customers)::int8 AS n FROM customer_counts WHERE kind = 'all'";
    assert_eq!(count(db, kept).await, customers);
    person(&db.repository(), "After", "Seed").await;
    assert_eq!(
        count(db, kept).await,
        customers + 1,
        "the trigger is on again"
    );
}

#[tokio::test]
async fn a_count_out_of_range_is_refused() {
    let db = TestDatabase::new().await;
    assert!(generate_customers(db.url(), &options(0, 1)).await.is_err());
    assert!(
        generate_customers(db.url(), &options(1 << 32, 1))
            .await
            .is_err()
    );
}
