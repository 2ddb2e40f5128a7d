//! Fixtures: the shared ones (`infra_postgres::test_support`, `domain::fixtures`), and raw
//! SQL for what the port does not offer (back-dating `created_at`, bulk rows).

use chrono::{DateTime, TimeZone, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use domain::{Customer, CustomerId, PageRequest};
use infra_postgres::PgCustomerRepository;

pub use domain::fixtures::draft;
pub use infra_postgres::test_support::{
    TestDatabase, insert, next_customer_id, person, username_for,
};

/// A database and its repository.
pub struct Ctx {
    pub db: TestDatabase,
    pub repo: PgCustomerRepository,
}

pub async fn ctx() -> Ctx {
    let db = TestDatabase::new().await;
    let repo = db.repository();
    Ctx { db, repo }
}

pub fn at(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0).unwrap()
}

/// Sets `created_at` (the port never writes it) with raw SQL.
pub async fn set_created_at(db: &TestDatabase, customer: &Customer, when: DateTime<Utc>) {
    let mut conn = db.pool().get().await.unwrap();
    diesel::sql_query("UPDATE customers SET created_at = $1 WHERE customer_id = $2")
        .bind::<Timestamptz, _>(when)
        .bind::<Text, _>(customer.customer_id.as_str())
        .execute(&mut conn)
        .await
        .unwrap();
}

/// Inserts `count` plain customers in one statement (for pagination at scale).
pub async fn insert_many(db: &TestDatabase, count: i64) {
    let mut conn = db.pool().get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO customers (customer_id, username, first_name, last_name, email) \
         SELECT 'CUST_' || upper(to_hex(268435456 + n)), 'bulk' || n, 'Bulk', 'Customer' || n, \
                'bulk' || n || '@example.com' \
         FROM generate_series(1, $1) AS n",
    )
    .bind::<BigInt, _>(count)
    .execute(&mut conn)
    .await
    .unwrap();
}

/// Deletes every customer after the first `keep` ids, leaving the statistics as they were.
pub async fn delete_all_but(db: &TestDatabase, keep: i64) {
    let mut conn = db.pool().get().await.unwrap();
    diesel::sql_query("DELETE FROM customers WHERE id > $1")
        .bind::<BigInt, _>(keep)
        .execute(&mut conn)
        .await
        .unwrap();
}

/// Refreshes the planner's statistics (what autovacuum does after enough changes).
pub async fn analyze(db: &TestDatabase) {
    let mut conn = db.pool().get().await.unwrap();
    diesel::sql_query("ANALYZE customers")
        .execute(&mut conn)
        .await
        .unwrap();
}

pub fn page(offset: u64, limit: u32) -> PageRequest {
    PageRequest { offset, limit }
}

pub fn ids(customers: &[Customer]) -> Vec<i64> {
    customers.iter().map(|c| c.id).collect()
}

/// Reading a conditional write's outcome the way the tests before versions did.
pub trait Outcome<T> {
    /// Whether the write happened.
    fn done(self) -> bool;
    /// What the write returned, `None` when it did not happen.
    fn found(self) -> Option<T>;
}

impl<T> Outcome<T> for domain::Written<T> {
    fn done(self) -> bool {
        matches!(self, domain::Written::Done(_))
    }
    fn found(self) -> Option<T> {
        match self {
            domain::Written::Done(value) => Some(value),
            _ => None,
        }
    }
}

/// Bulk-update targets without expected versions.
pub fn unpinned(ids: &[CustomerId]) -> Vec<(CustomerId, Option<u64>)> {
    ids.iter().map(|id| (id.clone(), None)).collect()
}
