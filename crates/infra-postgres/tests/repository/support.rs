//! Fixtures: a test database with the adapter's pool over it, drafts with sensible
//! defaults, inserting them, and raw SQL for what the port does not offer (back-dating
//! `created_at`, bulk rows).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use domain::{
    Customer, CustomerDraft, CustomerId, CustomerStore, Email, PageRequest, Tags, Username,
};
use infra_postgres::{PgCustomerRepository, Pool, PoolSettings, build_pool};

/// A database of its own (dropped with this value), with a small pool over it.
pub struct TestDatabase {
    pool: Pool,
    db: test_db::TestDatabase,
}

impl TestDatabase {
    /// A new database with every migration applied.
    pub async fn new() -> Self {
        Self::over(test_db::TestDatabase::new().await)
    }

    /// A new database without any migration.
    pub async fn empty() -> Self {
        Self::over(test_db::TestDatabase::empty().await)
    }

    fn over(db: test_db::TestDatabase) -> Self {
        let pool = build_pool(&test_pool_settings(db.url())).unwrap();
        Self { pool, db }
    }

    /// The database's name (`cust_test_<pid>_<nanos>_<n>`).
    pub fn name(&self) -> &str {
        self.db.name()
    }

    pub fn url(&self) -> &str {
        self.db.url()
    }

    /// A pool of up to 4 connections to this database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The repository over [`TestDatabase::pool`].
    pub fn repository(&self) -> PgCustomerRepository {
        PgCustomerRepository::new(self.pool.clone())
    }
}

impl Drop for TestDatabase {
    /// Closes the pool before the database is dropped.
    fn drop(&mut self) {
        self.pool.close();
    }
}

/// Small pool, generous timeouts: tests run in parallel on a busy machine.
fn test_pool_settings(url: &str) -> PoolSettings {
    PoolSettings {
        max_size: 4,
        wait_timeout: Duration::from_secs(30),
        create_timeout: Duration::from_secs(30),
        statement_timeout: Duration::from_secs(60),
        ..PoolSettings::for_url(url)
    }
}

/// A minimal valid draft for `first last <email>`.
pub fn draft(first: &str, last: &str, email: &str) -> CustomerDraft {
    CustomerDraft {
        first_name: first.into(),
        last_name: last.into(),
        email: Email::parse(email).unwrap(),
        phone: None,
        address_line1: None,
        address_line2: None,
        city: None,
        state: None,
        postal_code: None,
        country: None,
        date_of_birth: None,
        gender: None,
        company_name: None,
        tax_id: None,
        preferred_language: None,
        marketing_emails: true,
        marketing_sms: false,
        notes: None,
        tags: Tags::default(),
    }
}

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

/// A customer id no other fixture in this process uses.
pub fn next_customer_id() -> CustomerId {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    CustomerId::parse(&format!(
        "CUST_{:08X}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
    .unwrap()
}

/// A username derived from the customer id, unique the same way.
pub fn username_for(id: &CustomerId) -> Username {
    Username::parse(&format!("user{}", id.as_str()[5..].to_ascii_lowercase())).unwrap()
}

/// Inserts the draft with fresh ids.
pub async fn insert(repo: &impl CustomerStore, draft: &CustomerDraft) -> Customer {
    let id = next_customer_id();
    repo.insert(&id, &username_for(&id), draft).await.unwrap()
}

/// Inserts `first last` with an email made from them.
pub async fn person(repo: &PgCustomerRepository, first: &str, last: &str) -> Customer {
    let email = format!(
        "{}.{}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    insert(repo, &draft(first, last, &email)).await
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
